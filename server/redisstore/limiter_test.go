package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/timconsole/timconsole/server/redisstore"
	"github.com/timconsole/timconsole/server/tim"
)

var _ tim.Limiter = (*redisstore.Limiter)(nil)

// testRate is low so the tests run in seconds; the limit under test is the
// peak of arrivals in any one-second window, as the emulator measures it.
const (
	testRate  = 20
	testAppID = 1400000000
)

// replica is one console replica's view of the shared budget: its own store
// (connection pool) and Limiter, and a record of its transitions.
type replica struct {
	lim  *redisstore.Limiter
	logs *logRecorder

	mu          sync.Mutex
	transitions []bool
}

func (r *replica) onDegraded(d bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.transitions = append(r.transitions, d)
}

func (r *replica) seen() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.transitions...)
}

func newReplica(t *testing.T, srv *redisServer, replicas int) *replica {
	t.Helper()
	r := &replica{logs: &logRecorder{}}
	cfg := storeConfig(srv)
	cfg.Replicas = replicas
	cfg.Logger = slog.New(r.logs)
	lim, err := mustNew(t, cfg).NewLimiter(redisstore.LimiterConfig{
		SDKAppID:   testAppID,
		Rate:       testRate,
		ProbeEvery: 200 * time.Millisecond,
		OnDegraded: r.onDegraded,
	})
	if err != nil {
		t.Fatalf("NewLimiter: %v", err)
	}
	r.lim = lim
	return r
}

// drive runs workers goroutines per replica, each calling Wait and recording
// the release, until ctx ends or maxCalls calls in total were released. The
// returned function stops them and waits.
func drive(t testing.TB, reps []*replica, workers, maxCalls int, arr *arrivals) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	released := 0
	for _, r := range reps {
		for range workers {
			wg.Go(func() {
				for {
					if err := r.lim.Wait(ctx); err != nil {
						if !errors.Is(err, context.Canceled) {
							t.Errorf("Wait = %v", err)
						}
						return
					}
					arr.add(time.Now())
					mu.Lock()
					released++
					done := released >= maxCalls
					mu.Unlock()
					if done {
						cancel()
						return
					}
				}
			})
		}
	}
	return func() { cancel(); wg.Wait() }
}

// TestLimiter_SharedBudget: two replicas with four callers each, sharing one
// Redis, never release more than the rate in any one-second window together.
func TestLimiter_SharedBudget(t *testing.T) {
	srv := mustStartRedis(t)
	reps := []*replica{newReplica(t, srv, 2), newReplica(t, srv, 2)}
	var arr arrivals
	const calls = 60 // about three seconds at the rate
	stop := drive(t, reps, 4, calls, &arr)
	waitFor(t, "all calls", 30*time.Second, func() bool { return arr.count() >= calls })
	stop()

	t.Logf("%d calls, peak %d in one second", arr.count(), arr.peak())
	if got := arr.peak(); got > testRate {
		t.Errorf("peak arrivals in one second = %d, want <= %d", got, testRate)
	}
	for i, r := range reps {
		if r.lim.Degraded() {
			t.Errorf("replica %d Degraded() = true with Redis up", i)
		}
		if got := r.seen(); len(got) != 0 {
			t.Errorf("replica %d transitions = %v, want none", i, got)
		}
	}
}

// TestLimiter_RedisOutage kills Redis while two replicas are busy: both fall
// back to their share, say so once, and the fleet still keeps to the rate;
// Redis restarted on the same port brings both back, still within the rate
// through both switches.
func TestLimiter_RedisOutage(t *testing.T) {
	srv := mustStartRedis(t)
	reps := []*replica{newReplica(t, srv, 2), newReplica(t, srv, 2)}
	var arr arrivals
	stop := drive(t, reps, 4, 1000, &arr)
	defer stop()

	waitFor(t, "calls through Redis", 20*time.Second, func() bool { return arr.count() >= 30 })
	srv.Kill()
	killedAt := arr.count()
	waitFor(t, "both replicas degraded", 20*time.Second, func() bool {
		return reps[0].lim.Degraded() && reps[1].lim.Degraded()
	})
	degradedFrom := time.Now()
	waitFor(t, "calls while degraded", 20*time.Second, func() bool { return arr.count() >= killedAt+30 })
	for i, r := range reps {
		if !r.lim.Degraded() {
			t.Errorf("replica %d Degraded() = false while Redis is down", i)
		}
	}

	restartedAt := time.Now()
	srv.Start()
	waitFor(t, "both replicas recovered", 20*time.Second, func() bool {
		return !reps[0].lim.Degraded() && !reps[1].lim.Degraded()
	})
	recoveredAt := arr.count()
	// Run past the grace period (ProbeEvery + 2.5 s) into plain Redis pacing.
	waitFor(t, "calls after recovery", 30*time.Second, func() bool { return arr.count() >= recoveredAt+80 })
	stop()

	t.Logf("%d calls, peak %d in one second", arr.count(), arr.peak())
	if got := arr.peak(); got > testRate {
		t.Errorf("peak arrivals in one second = %d, want <= %d", got, testRate)
	}
	// While degraded each replica may release floor(20 × 0.95 ÷ 2) = 9 calls
	// in any second.
	if got, want := arr.peakBetween(degradedFrom, restartedAt), 2*9; got > want {
		t.Errorf("peak arrivals in one second while degraded = %d, want <= %d (two local shares)", got, want)
	}
	for i, r := range reps {
		if r.lim.Degraded() {
			t.Errorf("replica %d Degraded() = true after recovery", i)
		}
		if diff := cmp.Diff([]bool{true, false}, r.seen()); diff != "" {
			t.Errorf("replica %d OnDegraded transitions (-want +got):\n%s", i, diff)
		}
		// One record per transition, not one per call.
		var fell, back int
		for _, m := range r.logs.messages() {
			switch {
			case strings.Contains(m, "redis unreachable"):
				fell++
			case strings.Contains(m, "reachable again"):
				back++
			}
		}
		if fell != 1 || back != 1 {
			t.Errorf("replica %d logged %d fallback and %d recovery records, want 1 and 1: %q", i, fell, back, r.logs.messages())
		}
	}
}

// TestLimiter_DegradedShare: a replica alone on a dead Redis keeps to its
// share, rate ÷ replicas, not the whole rate.
func TestLimiter_DegradedShare(t *testing.T) {
	srv := mustStartRedis(t)
	r := newReplica(t, srv, 4)
	srv.Kill()
	var arr arrivals
	const calls = 15 // about three seconds at 20 × 0.95 ÷ 4
	stop := drive(t, []*replica{r}, 4, calls, &arr)
	waitFor(t, "all calls", 30*time.Second, func() bool { return arr.count() >= calls })
	stop()
	t.Logf("%d calls, peak %d in one second", arr.count(), arr.peak())
	if !r.lim.Degraded() {
		t.Error("Degraded() = false with Redis down")
	}
	if got, want := arr.peak(), testRate/4; got > want {
		t.Errorf("peak arrivals in one second = %d, want <= %d (the replica's share)", got, want)
	}
}

// TestLimiter_WaitHonoursContext: a waiter gives up when its context ends,
// whether it waits for Redis's next slot or for its turn behind another.
func TestLimiter_WaitHonoursContext(t *testing.T) {
	srv := mustStartRedis(t)
	s := mustNew(t, storeConfig(srv))
	// One call per 10 s: the second Wait has to wait far longer than its
	// context allows.
	lim, err := s.NewLimiter(redisstore.LimiterConfig{SDKAppID: testAppID, Rate: 0.1, Headroom: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := lim.Wait(context.Background()); err != nil {
		t.Fatalf("first Wait = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = lim.Wait(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait %d = %v, want DeadlineExceeded", i, err)
		}
	}
	if lim.Degraded() {
		t.Error("a caller's deadline made the limiter degraded")
	}
}

// TestLimiter_Refresh: an idle Limiter learns that Redis is back through
// Refresh, without a call.
func TestLimiter_Refresh(t *testing.T) {
	srv := mustStartRedis(t)
	r := newReplica(t, srv, 2)
	ctx := context.Background()
	srv.Kill()
	if err := r.lim.Wait(ctx); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if !r.lim.Degraded() {
		t.Fatal("Degraded() = false after a call with Redis down")
	}
	time.Sleep(300 * time.Millisecond) // past ProbeEvery, so Refresh probes
	r.lim.Refresh(ctx)
	if !r.lim.Degraded() {
		t.Error("Degraded() = false after Refresh with Redis still down")
	}
	srv.Start()
	waitFor(t, "Refresh to see Redis back", 20*time.Second, func() bool {
		r.lim.Refresh(ctx)
		return !r.lim.Degraded()
	})
	if diff := cmp.Diff([]bool{true, false}, r.seen()); diff != "" {
		t.Errorf("OnDegraded transitions (-want +got):\n%s", diff)
	}
}

// TestLimiter_RefreshIdle: an idle Limiter that no call ever switched
// learns of an outage through Refresh (so /readyz and /metrics show it
// degraded while nobody queries), and of the recovery the same way.
func TestLimiter_RefreshIdle(t *testing.T) {
	srv := mustStartRedis(t)
	r := newReplica(t, srv, 2)
	ctx := context.Background()
	r.lim.Refresh(ctx)
	if r.lim.Degraded() {
		t.Fatal("Degraded() = true after Refresh with Redis up")
	}
	srv.Kill()
	r.lim.Refresh(ctx)
	if !r.lim.Degraded() {
		t.Fatal("Degraded() = false after Refresh with Redis down")
	}
	srv.Start()
	waitFor(t, "Refresh to see Redis back", 20*time.Second, func() bool {
		r.lim.Refresh(ctx)
		return !r.lim.Degraded()
	})
	if diff := cmp.Diff([]bool{true, false}, r.seen()); diff != "" {
		t.Errorf("OnDegraded transitions (-want +got):\n%s", diff)
	}
	if err := r.lim.Wait(ctx); err != nil {
		t.Errorf("Wait after recovery = %v", err)
	}
}

func TestNewLimiter_Invalid(t *testing.T) {
	s := mustNew(t, redisstore.Config{Addr: "127.0.0.1:1"})
	tests := []struct {
		name string
		cfg  redisstore.LimiterConfig
		want string
	}{
		{"NoApp", redisstore.LimiterConfig{Rate: 10}, "SDKAppID"},
		{"ZeroRate", redisstore.LimiterConfig{SDKAppID: 1}, "Rate"},
		{"Headroom", redisstore.LimiterConfig{SDKAppID: 1, Rate: 10, Headroom: 1}, "Headroom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.NewLimiter(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewLimiter(%+v) = %v, want an error naming %s", tt.cfg, err, tt.want)
			}
		})
	}
}
