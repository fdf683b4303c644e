// Package redisstore keeps the state that several console replicas must
// share in Redis: the operator session registry (auth.Registry), so a login
// on one replica works on all of them and a logout anywhere ends it
// everywhere, and one call budget per Tencent app (tim.Limiter), so the
// vendor's per-app rate limit holds for the whole fleet rather than per
// replica.
//
// The two fail differently when Redis is unreachable. Sessions fail closed:
// every Registry method returns an error wrapping ErrUnavailable, which the
// auth package turns into 503, never into "not signed in". The limiter fails
// soft: it paces calls locally at the app's rate divided by the configured
// number of replicas, reports Degraded, and returns to the shared budget when
// Redis answers again.
//
// Every key lives under Config.KeyPrefix, so one ACL key pattern
// ("~timconsole:*") covers the store. Use a single Redis primary (optionally
// behind Sentinel-managed failover at a stable address); Redis Cluster is not
// supported, because a session's record and the session index are updated
// together in one transaction.
package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// ErrUnavailable marks every failure to reach Redis (refused, timed out,
// closed, rejected credentials). Callers branch on it to fail closed with a
// 503 rather than treat the outage as a missing session.
var ErrUnavailable = errors.New("redis unavailable")

// Defaults applied by New to zero Config fields. The timeouts are short
// because every caller is an HTTP request or a paced vendor call that should
// fail fast and visibly rather than hang behind a stuck Redis.
const (
	DefaultKeyPrefix    = "timconsole:"
	DefaultDialTimeout  = 2 * time.Second
	DefaultReadTimeout  = time.Second
	DefaultWriteTimeout = time.Second
)

// Config says how to reach Redis. It is passed by value; New fills in
// defaults and validates it. The cmd package reads the password from the
// environment or a secret file; nothing here reads the environment.
type Config struct {
	// Addr is the Redis address, host:port.
	Addr string
	// Username and Password authenticate (Redis 6 ACL user, or only Password
	// for requirepass). They never appear in errors or logs.
	Username, Password string
	// DB is the logical database number (default 0).
	DB int

	// TLS turns on TLS (1.2 or newer) with the system roots, verifying the
	// server name TLSServerName (default: the host part of Addr).
	TLS           bool
	TLSServerName string
	// TLSConfig, when set, is used instead (a private CA, client
	// certificates); it implies TLS. It is cloned, not modified.
	TLSConfig *tls.Config

	// KeyPrefix starts every key (default "timconsole:"). Replicas of one
	// fleet must use the same prefix; different fleets sharing one Redis
	// must not.
	KeyPrefix string

	// DialTimeout (default 2 s), ReadTimeout and WriteTimeout (default 1 s)
	// bound every Redis call, so an unreachable or stalled Redis surfaces as
	// ErrUnavailable within about DialTimeout+ReadTimeout.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration

	// Replicas is the number of console replicas sharing the vendor budget
	// (default 1). While Redis is unreachable each replica's limiter allows
	// only its share, rate ÷ Replicas, so the fleet as a whole still keeps to
	// the rate. Set it to the largest number of replicas that may run at once.
	Replicas int

	// Now is the clock the Registry judges session expiry by (default
	// time.Now). Redis TTLs follow the same clock.
	Now func() time.Time
	// Logger receives the limiter's fallback and recovery records (default:
	// discarded).
	Logger *slog.Logger
}

// Store is one connection pool to Redis, shared by the Registry and every
// app's Limiter of a replica.
type Store struct {
	cfg Config
	rdb *redis.Client
	reg *Registry
}

// New validates cfg and builds the client. It does not connect: call Ping
// to check Redis at start-up, so that a Redis outage makes the console start
// degraded (sessions unavailable, limiter local) rather than not at all.
func New(cfg Config) (*Store, error) {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = DefaultKeyPrefix
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	host, _, err := net.SplitHostPort(cfg.Addr)
	if cfg.Addr == "" {
		bad("Addr is required (host:port)")
	} else if err != nil {
		bad("Addr %q must be host:port", cfg.Addr)
	}
	if cfg.DB < 0 {
		bad("DB must not be negative")
	}
	if cfg.DialTimeout < 0 || cfg.ReadTimeout < 0 || cfg.WriteTimeout < 0 {
		bad("DialTimeout, ReadTimeout and WriteTimeout must be positive")
	}
	if cfg.Replicas < 0 {
		bad("Replicas must be positive")
	}
	if strings.ContainsAny(cfg.KeyPrefix, " *?[]\r\n") {
		bad("KeyPrefix %q must not contain spaces or glob characters", cfg.KeyPrefix)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("redis config: %s", strings.Join(problems, "; "))
	}

	var tlsConfig *tls.Config
	switch {
	case cfg.TLSConfig != nil:
		tlsConfig = cfg.TLSConfig.Clone()
	case cfg.TLS:
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tlsConfig != nil && tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.TLSServerName
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = host
		}
	}

	rdb := redis.NewClient(&redis.Options{
		Addr:      cfg.Addr,
		Username:  cfg.Username,
		Password:  cfg.Password,
		DB:        cfg.DB,
		TLSConfig: tlsConfig,
		// One retry covers a pooled connection that died with a restarted
		// Redis; more would only delay the fallback.
		MaxRetries:            1,
		DialTimeout:           cfg.DialTimeout,
		DialerRetries:         1,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		PoolTimeout:           cfg.ReadTimeout + cfg.DialTimeout,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
		// Push notifications of managed Redis upgrades are not needed and
		// would add a round trip (and noise) to every new connection.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	s := &Store{cfg: cfg, rdb: rdb}
	s.reg = &Registry{
		rdb:    rdb,
		now:    cfg.Now,
		prefix: cfg.KeyPrefix + "session:",
		index:  cfg.KeyPrefix + "sessions",
	}
	return s, nil
}

// Registry returns the shared session registry, an auth.Registry.
func (s *Store) Registry() *Registry { return s.reg }

// Ping checks that Redis answers, for the readiness probe and start-up.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return unavailable(ctx, "ping", err)
	}
	return nil
}

// Close releases the connections. Limiters in use afterwards fall back to
// local pacing; the Registry returns ErrUnavailable.
func (s *Store) Close() error { return s.rdb.Close() }

// unavailable classifies a failed Redis call: the caller's own cancellation
// or deadline stays what it is, anything else is ErrUnavailable. The cause is
// kept as text only (it names the address, never the credentials).
func unavailable(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("redis %s: %w", op, cerr)
	}
	return fmt.Errorf("redis %s: %w: %v", op, ErrUnavailable, err)
}

// ClientLogger adapts logger for go-redis's own diagnostics ("connection
// pool: failed to dial ..."), which otherwise go to stderr through the
// standard log package. go-redis keeps its logger in a package variable, so
// only main should install it: redis.SetLogger(redisstore.ClientLogger(l)).
func ClientLogger(logger *slog.Logger) interface {
	Printf(ctx context.Context, format string, v ...any)
} {
	return clientLogger{logger}
}

type clientLogger struct{ l *slog.Logger }

func (c clientLogger) Printf(ctx context.Context, format string, v ...any) {
	c.l.WarnContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}
