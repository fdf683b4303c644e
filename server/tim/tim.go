// Package tim is timconsole's client for the Tencent Cloud Chat (IM) REST API:
// the group read-receipt calls and the two seeding calls, with UserSig
// signing, regional endpoints, batching, one shared rate limiter per app,
// retries and typed errors.
//
// No Go library implements the receipt APIs, and the console must never
// exceed the documented 200 calls/s per app however many operators query at
// once, so the client owns both the wire format and the pacing. Vendor field
// names stay inside this package; callers see plain Go types.
package tim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults applied by New to zero Config fields. They follow the vendor's
// documented limits (200 calls/s, 50 seqs per write call) and the console's
// needs: a 10,000-seq pull is 200 calls, about one second at full rate.
// Tencent answers a receipt call in well under a second, so a call without
// an answer after 5 s is treated as hung; with one retry for a timeout
// (attemptsFor) a hung vendor fails a call after about 10 s, inside the
// console's default 15 s query limit.
const (
	DefaultBatchSize    = 50
	DefaultRateLimit    = 200
	DefaultRateHeadroom = 0.05
	DefaultMaxSeqs      = 10000
	DefaultSigLifetime  = 24 * time.Hour
	DefaultCallTimeout  = 5 * time.Second
	DefaultMaxAttempts  = 4
	DefaultMaxRetryTime = 10 * time.Second
	DefaultRetryBackoff = 200 * time.Millisecond
	DefaultConcurrency  = 16
)

// Config describes one Tencent Cloud Chat app and how hard the client may
// drive it. It is passed by value; New fills in defaults and validates it.
type Config struct {
	// SDKAppID, Key and Identifier are the app, its secret key and an App
	// admin account; every call is signed as that admin.
	SDKAppID   uint64
	Key        string
	Identifier string

	// Region picks the regional main and backup domains. BaseURL overrides
	// it (emulator and tests), e.g. "http://127.0.0.1:1234"; BackupURL is
	// then the optional failover target.
	Region    Region
	BaseURL   string
	BackupURL string

	// BatchSize is the number of seqs per get_group_msg_receipt call in a
	// pull (default 50).
	BatchSize int
	// RateLimit is the app's call budget in calls/s (default 200), shared by
	// every command and every caller of this Client.
	RateLimit float64
	// RateHeadroom is the fraction of RateLimit left unused so that network
	// and scheduling jitter cannot push the arrivals Tencent counts in any
	// one-second window over the limit (default 0.05; negative means none).
	RateHeadroom float64
	// MaxSeqs caps the seqs of one pull (default 10,000).
	MaxSeqs int
	// SigLifetime is the validity of each minted UserSig (default 24 h); the
	// cache renews it at half its lifetime.
	SigLifetime time.Duration
	// CallTimeout bounds each HTTP attempt (default 5 s).
	CallTimeout time.Duration
	// MaxAttempts (default 4) and MaxRetryTime (default 10 s) bound the
	// retries of one call. A timeout or an unreadable answer is retried
	// once at most, whatever MaxAttempts says.
	MaxAttempts  int
	MaxRetryTime time.Duration
	// RetryBackoff is the first retry delay (default 200 ms); it doubles per
	// retry, is jittered, and is five times longer for rate-limit codes.
	RetryBackoff time.Duration
	// Concurrency is the number of batches one pull keeps in flight
	// (default 16); the limiter, not this, sets the call rate.
	Concurrency int
	// Limiter paces every call of this Client, retries included, except
	// the commands with a limit of their own (CommandLimits). Nil means an
	// in-process token bucket (golang.org/x/time/rate, burst 1) owned by
	// the Client, with a sliding-window guard on actual send times.
	Limiter Limiter
	// CommandLimiters paces single commands instead of Limiter, e.g. a
	// fleet-wide get_appid_group_list limiter. A command in CommandLimits
	// without one here gets its own Pacer at its documented rate.
	CommandLimiters map[string]Limiter
	// HTTPClient sends the requests. Nil means an own client with dial, TLS
	// and header timeouts. Redirects are never followed, because following
	// one would send the UserSig to another URL.
	HTTPClient *http.Client
	// Now is the clock (default time.Now); it drives UserSig renewal, the
	// failover period, the retry time budget and the reported durations.
	// Pacing uses the real clock, as golang.org/x/time/rate does.
	Now func() time.Time
	// Hooks are optional observability callbacks.
	Hooks Hooks
}

// Limiter paces outbound calls. It is an interface so that a deployment with
// several console replicas can share one budget (e.g. Redis-backed); Wait
// blocks until one call may be made or ctx ends.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Hooks lets the BFF export metrics without this package depending on a
// metrics library. Nil functions are skipped. Hooks are called from the
// goroutines that make the calls and must be quick and safe for concurrent use.
type Hooks struct {
	// OnCall reports every HTTP attempt: code is the Tencent ErrorCode, or -1
	// for a network or HTTP failure.
	OnCall func(command string, code int, d time.Duration)
	// OnLimiterWait reports how long a call waited for the limiter.
	OnLimiterWait func(d time.Duration)
}

// ErrInvalid marks a call rejected before anything was sent (bad arguments
// or configuration), so callers can map it to a client error.
var ErrInvalid = errors.New("invalid argument")

// ErrTooManySeqs marks a pull above the configured MaxSeqs cap.
var ErrTooManySeqs = errors.New("too many seqs")

// Client calls the Tencent Cloud Chat REST API for one app. It is safe for
// concurrent use; share one Client per app so every caller shares its limiter.
type Client struct {
	cfg      Config
	bases    []string // main first, then the optional backup
	hc       *http.Client
	limiter  Limiter
	limiters map[string]Limiter // commands with a limit of their own
	signer   *signer
	now      func() time.Time
	failover failover
}

// failover remembers that the main domain failed at the network level, so
// later calls go straight to the backup for a while instead of paying a
// timeout each.
type failover struct {
	mu    sync.Mutex
	until time.Time
}

// failoverPeriod is how long calls stay on the backup domain before the
// main domain is tried again.
const failoverPeriod = 5 * time.Minute

// New validates cfg, fills in the defaults and returns a ready Client. Every
// configuration problem is reported at once.
func New(cfg Config) (*Client, error) {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	if cfg.SDKAppID == 0 || cfg.SDKAppID > math.MaxUint32 {
		bad("SDKAppID must be a non-zero 32-bit number")
	}
	if cfg.Key == "" {
		bad("Key is required")
	}
	if cfg.Identifier == "" {
		bad("Identifier (an App admin account) is required")
	}
	var bases []string
	switch {
	case cfg.BaseURL != "":
		for _, u := range []string{cfg.BaseURL, cfg.BackupURL} {
			if u == "" {
				continue
			}
			if err := checkBaseURL(u); err != nil {
				bad("%v", err)
				continue
			}
			bases = append(bases, trimSlash(u))
		}
	case cfg.BackupURL != "":
		bad("BackupURL needs BaseURL")
	default:
		main, backup, ok := cfg.Region.Domains()
		if !ok {
			bad("unknown Region %q", cfg.Region)
		} else {
			bases = []string{"https://" + main, "https://" + backup}
		}
	}

	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateHeadroom == 0 {
		cfg.RateHeadroom = DefaultRateHeadroom
	} else if cfg.RateHeadroom < 0 {
		cfg.RateHeadroom = 0
	}
	if cfg.MaxSeqs == 0 {
		cfg.MaxSeqs = DefaultMaxSeqs
	}
	if cfg.SigLifetime == 0 {
		cfg.SigLifetime = DefaultSigLifetime
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxRetryTime == 0 {
		cfg.MaxRetryTime = DefaultMaxRetryTime
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	if cfg.BatchSize < 0 {
		bad("BatchSize must be positive")
	}
	if cfg.RateLimit < 0 || math.IsNaN(cfg.RateLimit) || math.IsInf(cfg.RateLimit, 0) {
		bad("RateLimit must be a positive number of calls per second")
	}
	if cfg.RateHeadroom >= 1 || math.IsNaN(cfg.RateHeadroom) {
		bad("RateHeadroom must be below 1")
	}
	if cfg.MaxSeqs < 0 {
		bad("MaxSeqs must be positive")
	}
	if cfg.SigLifetime < time.Second {
		bad("SigLifetime must be at least 1s")
	}
	if cfg.SigLifetime > math.MaxInt32*time.Second {
		bad("SigLifetime is too long")
	}
	if cfg.CallTimeout < 0 {
		bad("CallTimeout must be positive")
	}
	if cfg.MaxAttempts < 0 {
		bad("MaxAttempts must be positive")
	}
	if cfg.MaxRetryTime < 0 {
		bad("MaxRetryTime must be positive")
	}
	if cfg.RetryBackoff < 0 {
		bad("RetryBackoff must be positive")
	}
	if cfg.Concurrency < 0 {
		bad("Concurrency must be positive")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("tim config: %w", errors.Join(problems...))
	}

	c := &Client{
		cfg:      cfg,
		bases:    bases,
		hc:       httpClient(cfg),
		limiter:  cfg.Limiter,
		limiters: map[string]Limiter{},
		now:      cfg.Now,
	}
	for cmd, rate := range CommandLimits {
		if l := cfg.CommandLimiters[cmd]; l != nil {
			c.limiters[cmd] = l
			continue
		}
		c.limiters[cmd] = NewPacer(min(rate, cfg.RateLimit), cfg.RateHeadroom)
	}
	if c.limiter == nil {
		// Burst 1: a larger bucket would let a pull that starts with a full
		// bucket exceed the limit in its first second.
		c.limiter = NewPacer(cfg.RateLimit, cfg.RateHeadroom)
	}
	c.signer = newSigner(cfg.SigLifetime, cfg.Now, signUserSig)
	return c, nil
}

// SDKAppID is the app this client signs for; the BFF uses it to check an
// operator's access.
func (c *Client) SDKAppID() uint64 { return c.cfg.SDKAppID }

// MaxSeqs is the cap on one pull, so the BFF can reject larger queries
// before any call is made.
func (c *Client) MaxSeqs() int { return c.cfg.MaxSeqs }

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q must be an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("base URL %q must not carry a query, fragment or user info", s)
	}
	return nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// httpClient returns the client used for calls. A caller-supplied client is
// copied so that redirects can be refused without changing the caller's.
func httpClient(cfg Config) *http.Client {
	if cfg.HTTPClient != nil {
		hc := *cfg.HTTPClient
		hc.CheckRedirect = refuseRedirect
		return &hc
	}
	conns := max(cfg.Concurrency*2, 8)
	t := &http.Transport{
		// No ProxyFromEnvironment: packages do not read the environment; a
		// deployment that needs a proxy passes its own HTTPClient.
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: cfg.CallTimeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t, CheckRedirect: refuseRedirect, Timeout: cfg.CallTimeout + time.Second}
}

// refuseRedirect stops at the first redirect: the request URL carries the
// UserSig, and Tencent's API never redirects.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
