package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/timconsole/timconsole/server/tim"
)

// DefaultHeadroom is the fraction of an app's rate a Limiter leaves unused,
// the same as tim's in-process pacer: the vendor counts arrivals in any
// one-second window, and network and scheduling jitter between the moment
// Redis grants a call and the moment it arrives could otherwise push a
// window over the limit.
const DefaultHeadroom = 0.05

// DefaultProbeEvery is how often a degraded Limiter asks Redis whether it is
// back.
const DefaultProbeEvery = time.Second

// LimiterConfig describes one app's fleet-wide call budget.
type LimiterConfig struct {
	// SDKAppID names the budget: every replica's Limiter for the same app
	// shares it.
	SDKAppID uint64
	// Command, when set, makes the budget that of one command of the app
	// (Tencent limits each API per app; get_appid_group_list at 1 call/s):
	// every replica's Limiter for the same app and command shares it.
	Command string
	// Rate is the app's limit in calls/s for the whole fleet (tim's
	// RateLimit; every replica must use the same value).
	Rate float64
	// Headroom is the fraction of Rate left unused (default 0.05; negative
	// means none).
	Headroom float64
	// ProbeEvery is the most often a degraded Limiter retries Redis (default
	// 1 s). Calls keep flowing at the local share meanwhile.
	ProbeEvery time.Duration
	// OnDegraded, if set, is called on every switch to (true) and from
	// (false) the local fallback, e.g. to set a gauge. It must be quick.
	OnDegraded func(degraded bool)
}

// Limiter is a tim.Limiter whose budget is shared through Redis by every
// replica: a GCRA (github.com/go-redis/redis_rate) with burst 1, or 2 where
// the headroom covers one extra call, so the fleet's calls are spaced evenly
// at Rate less the headroom.
//
// Only one goroutine per Limiter talks to Redis at a time; the others queue
// locally. That keeps Redis traffic near one round trip per granted call,
// whatever the number of waiting calls, instead of a retry storm at every
// free slot.
//
// When Redis fails the Limiter falls back to an in-process pacer at the
// replica's share, Rate÷Replicas less the headroom (see newLocalPacer). It logs
// the switch once, reports Degraded, and retries Redis at most every
// ProbeEvery. After Redis answers again it keeps the local share as well for
// a grace period of ProbeEvery plus 2.5 s: the other replicas notice the
// recovery only at their next probe (up to ProbeEvery, plus up to a second
// while go-redis's dial circuit breaker re-probes), and any one-second window
// that still holds their local calls must not also hold a full shared
// budget.
//
// A partial partition (this replica reaches Redis, another does not) is not
// covered: the replica that cannot reach Redis spends its local share on top
// of the shared budget.
type Limiter struct {
	rdb        *redis.Client
	rl         *redis_rate.Limiter
	key        string
	limit      redis_rate.Limit
	localRate  float64
	probeEvery time.Duration
	grace      time.Duration
	appID      uint64
	log        *slog.Logger
	onDegraded func(bool)

	// turn admits one waiter at a time to Redis and to the fallback.
	turn chan struct{}

	degraded atomic.Bool

	// Owned by the holder of turn.
	lastProbe  time.Time
	fallback   *tim.Pacer // non-nil while degraded or in grace
	graceUntil time.Time
}

// NewLimiter returns the Limiter of one app, for tim.Config.Limiter. Build it
// once per app per replica and share it by every Client of that app.
func (s *Store) NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	if cfg.Headroom == 0 {
		cfg.Headroom = DefaultHeadroom
	} else if cfg.Headroom < 0 {
		cfg.Headroom = 0
	}
	if cfg.ProbeEvery == 0 {
		cfg.ProbeEvery = DefaultProbeEvery
	}
	var problems []string
	if cfg.SDKAppID == 0 {
		problems = append(problems, "SDKAppID is required")
	}
	if !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0) {
		problems = append(problems, "Rate must be a positive number of calls per second")
	}
	if cfg.Headroom >= 1 || math.IsNaN(cfg.Headroom) {
		problems = append(problems, "Headroom must be below 1")
	}
	if cfg.ProbeEvery < 0 {
		problems = append(problems, "ProbeEvery must be positive")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("redis limiter config: %s", strings.Join(problems, "; "))
	}
	eff := cfg.Rate * (1 - cfg.Headroom)
	// With burst 1 a caller that wakes late (timer overshoot plus the Redis
	// round trip, about a millisecond a call) loses that time for good, and
	// a bulk pull runs ~15% slower than the budget allows. A burst of 2 keeps
	// the slot, at the price of at most one extra call in any one-second
	// window after an idle spell; use it only where the headroom covers that
	// call twice over.
	burst := 1
	if cfg.Rate*cfg.Headroom >= 2 {
		burst = 2
	}
	return &Limiter{
		rdb: s.rdb,
		rl:  redis_rate.NewLimiter(rateClient{s.rdb}),
		key: limiterKey(s.cfg.KeyPrefix, cfg.SDKAppID, cfg.Command),
		// Rate 1 per emission interval: GCRA only uses Period/Rate, and this
		// form takes any fractional rate.
		limit:      redis_rate.Limit{Rate: 1, Burst: burst, Period: time.Duration(float64(time.Second) / eff)},
		localRate:  eff / float64(s.cfg.Replicas),
		probeEvery: cfg.ProbeEvery,
		grace:      cfg.ProbeEvery + 2500*time.Millisecond,
		appID:      cfg.SDKAppID,
		log:        s.cfg.Logger,
		onDegraded: cfg.OnDegraded,
		turn:       make(chan struct{}, 1),
	}, nil
}

// Degraded reports whether the Limiter is pacing locally because Redis did
// not answer its latest attempt (a call or a Refresh), for /readyz and
// /metrics. It turns false with the first call (or Refresh) after Redis is
// back.
func (l *Limiter) Degraded() bool { return l.degraded.Load() }

// Refresh brings Degraded up to date for an idle Limiter, which otherwise
// learns of an outage or a recovery only at its next call: unless a call is
// in progress (it updates the state itself) or a degraded Limiter probed
// less than ProbeEvery ago, it pings Redis and switches to the local share
// if Redis does not answer, or back to the shared budget if it does.
// /readyz or a metrics scrape can call it, so that an app nobody queries
// shows the state its next call would be in. It never blocks behind a
// waiting call.
func (l *Limiter) Refresh(ctx context.Context) {
	select {
	case l.turn <- struct{}{}:
	default:
		return // a call is in progress and will update the state itself
	}
	defer func() { <-l.turn }()
	if l.degraded.Load() && time.Since(l.lastProbe) < l.probeEvery {
		return
	}
	if err := l.rdb.Ping(ctx).Err(); err != nil {
		if ctx.Err() == nil {
			l.fail(err)
		}
		return
	}
	l.ok()
}

// Wait blocks until one call may be sent now, or ctx ends. Redis failures
// are not errors here: they switch the Limiter to its local share.
func (l *Limiter) Wait(ctx context.Context) error {
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.turn }()

	// While degraded, a call that is not due to probe Redis is paced by the
	// local share alone. One that is due asks Redis first and only then
	// waits for the local slot: a failed probe can take a while (a dial
	// timeout), and the local pacer records the release when its Wait
	// returns, so nothing slow may come between the two.
	//
	// In the grace period the local slot is waited for first, so that the
	// shared budget is spent at the moment of release; the local record is
	// then early by one Redis round trip (or a wait for the shared slot),
	// which Redis's own spacing keeps small.
	var held *tim.Pacer
	holdLocal := func(fb *tim.Pacer) error {
		if fb == nil || fb == held {
			return nil
		}
		if err := fb.Wait(ctx); err != nil {
			return err
		}
		held = fb
		return nil
	}

	for {
		if !l.degraded.Load() {
			if err := holdLocal(l.fallback); err != nil { // in grace only
				return err
			}
		} else if time.Since(l.lastProbe) < l.probeEvery {
			return holdLocal(l.fallback)
		}
		res, err := l.rl.Allow(ctx, l.key, l.limit)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return holdLocal(l.fail(err))
		}
		l.ok()
		if res.Allowed > 0 {
			return holdLocal(l.fallback) // after a successful probe: in grace now
		}
		if err := sleep(ctx, max(res.RetryAfter, time.Millisecond)); err != nil {
			return err
		}
	}
}

// fail records a Redis failure and returns the fallback to pace this call.
// Only the turn holder calls it.
func (l *Limiter) fail(err error) *tim.Pacer {
	l.lastProbe = time.Now()
	if l.fallback == nil {
		l.fallback = newLocalPacer(l.localRate)
	}
	if !l.degraded.Swap(true) {
		l.log.Warn("rate limiter: redis unreachable, pacing this replica at its local share",
			"sdk_app_id", l.appID, "local_rate", l.localRate, "err", err.Error())
		if l.onDegraded != nil {
			l.onDegraded(true)
		}
	}
	return l.fallback
}

// ok records a Redis answer: it starts the grace period after a recovery and
// drops the fallback once the grace period is over. Only the turn holder
// calls it.
func (l *Limiter) ok() {
	now := time.Now()
	if l.degraded.Swap(false) {
		l.graceUntil = now.Add(l.grace)
		l.log.Info("rate limiter: redis reachable again, pacing the fleet through redis",
			"sdk_app_id", l.appID)
		if l.onDegraded != nil {
			l.onDegraded(false)
		}
	}
	if l.fallback != nil && !now.Before(l.graceUntil) {
		l.fallback = nil
	}
}

// newLocalPacer is the fallback: tim's own pacer at the replica's share
// (already less the headroom, so none is taken again), drained so that the
// switch adds no burst on top of the shared calls still inside the vendor's
// window. Its guard holds a call while the last floor(share) releases span
// less than one second, so each replica releases at most floor(share) calls
// in any one-second window and the fleet at most Replicas × floor(share) <=
// the rate less the headroom, even when late wake-ups bunch calls together.
func newLocalPacer(share float64) *tim.Pacer {
	p := tim.NewPacer(share, 0)
	p.Drain()
	return p
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// rateClient adapts the client for redis_rate, which puts its own "rate:" in
// front of every key: it strips that again, so the limiter's keys stay under
// KeyPrefix like every other key of the store (one ACL pattern, one SCAN).
type rateClient struct{ *redis.Client }

const redisRatePrefix = "rate:"

func unprefixed(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, redisRatePrefix)
	}
	return out
}

func (c rateClient) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.Client.Eval(ctx, script, unprefixed(keys), args...)
}

func (c rateClient) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.Client.EvalSha(ctx, sha1, unprefixed(keys), args...)
}

func (c rateClient) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.Client.EvalRO(ctx, script, unprefixed(keys), args...)
}

func (c rateClient) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.Client.EvalShaRO(ctx, sha1, unprefixed(keys), args...)
}

func (c rateClient) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return c.Client.Del(ctx, unprefixed(keys)...)
}

// limiterKey names a budget: the app's, or one command's of the app.
func limiterKey(prefix string, app uint64, command string) string {
	k := prefix + "rate:" + strconv.FormatUint(app, 10)
	if command != "" {
		k += ":" + command
	}
	return k
}
