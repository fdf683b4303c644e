package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/timconsole/timconsole/server/bff"
	"github.com/timconsole/timconsole/server/redisstore"
)

// startPingTimeout bounds the Redis check at start. It only decides what
// the log says: a Redis outage must not stop a fleet from starting.
const startPingTimeout = 5 * time.Second

// openRedis connects a replica to the Redis its fleet shares, when
// redis.addr is set. Redis being down at start is a warning, not an error:
// the console then serves with sessions failing closed (503) and every app
// paced at its local share until Redis answers.
func openRedis(ctx context.Context, rc RedisConfig, logger *slog.Logger, metrics *bff.Metrics, o *options) (*redisstore.Store, error) {
	logger = logger.With(slog.String("component", "redis"))
	o.secret("redis_password", string(rc.Password))
	sc := redisstore.Config{
		Addr:          rc.Addr,
		Username:      rc.Username,
		Password:      string(rc.Password),
		DB:            rc.DB,
		TLS:           rc.TLS,
		TLSServerName: rc.TLSServerName,
		KeyPrefix:     rc.KeyPrefix,
		DialTimeout:   rc.DialTimeout.Duration,
		ReadTimeout:   rc.ReadTimeout.Duration,
		WriteTimeout:  rc.WriteTimeout.Duration,
		Replicas:      rc.Replicas,
		Logger:        logger,
	}
	if rc.TLSCAFile != "" {
		pool, err := loadCAPool(rc.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("redis.tls_ca_file: %v", err)
		}
		sc.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: rc.TLSServerName}
	}
	store, err := redisstore.New(sc)
	if err != nil {
		return nil, err
	}
	if o.globalLogging {
		// go-redis keeps its logger in a package variable; without this its
		// dial failures go to stderr as plain text, outside the JSON log.
		redis.SetLogger(redisstore.ClientLogger(logger))
	}

	pctx, cancel := context.WithTimeout(ctx, startPingTimeout)
	defer cancel()
	attrs := []any{slog.String("addr", rc.Addr), slog.String("key_prefix", rc.KeyPrefix), slog.Int("replicas", rc.Replicas)}
	if err := store.Ping(pctx); err != nil {
		metrics.SetSessionStoreUp(false)
		logger.Warn("redis unreachable at start: sign-ins and API calls answer 503 and each app paces at its local share (rate ÷ replicas) until it answers",
			append(attrs, slog.String("err", err.Error()))...)
	} else {
		logger.Info("redis reachable: sessions and each app's rate limit are shared with the fleet", attrs...)
	}
	return store, nil
}

// appLimiter is one app's fleet-wide limiter, for the readiness checks.
type appLimiter struct {
	id  string
	lim *redisstore.Limiter
}

// newAppLimiter builds app id's shared limiter: one per app per process,
// shared by everything that calls the app, with the gauge
// timconsole_limiter_degraded following its fallback. redisstore logs each
// switch itself, once.
func newAppLimiter(store *redisstore.Store, metrics *bff.Metrics, id string, ac *AppConfig) (*redisstore.Limiter, error) {
	lim, err := store.NewLimiter(redisstore.LimiterConfig{
		SDKAppID:   ac.SDKAppID,
		Rate:       ac.RateLimit,
		Headroom:   ac.RateHeadroom,
		OnDegraded: func(degraded bool) { metrics.SetLimiterDegraded(id, degraded) },
	})
	if err != nil {
		return nil, err
	}
	metrics.SetLimiterDegraded(id, false)
	return lim, nil
}

// fleetChecks are the /readyz checks of a replica on Redis: the session
// store, critical, because sessions fail closed without it; and each app's
// limiter, informational, because a limiter at its local share still serves
// (slower). The probes also refresh the gauges, as /metrics runs them.
func fleetChecks(store *redisstore.Store, limiters []appLimiter, metrics *bff.Metrics) []bff.ReadyCheck {
	if store == nil {
		return nil
	}
	checks := []bff.ReadyCheck{{
		Name:     "sessions",
		Critical: true,
		Probe: func(ctx context.Context) (string, bool) {
			err := store.Ping(ctx)
			metrics.SetSessionStoreUp(err == nil)
			if err != nil {
				return "session store unreachable", false
			}
			return "ok", true
		},
	}}
	for _, al := range limiters {
		checks = append(checks, bff.ReadyCheck{
			Group: "limiter",
			Name:  al.id,
			Probe: func(ctx context.Context) (string, bool) {
				al.lim.Refresh(ctx)
				degraded := al.lim.Degraded()
				metrics.SetLimiterDegraded(al.id, degraded)
				if degraded {
					return "degraded (local share)", false
				}
				return "shared", true
			},
		})
	}
	return checks
}
