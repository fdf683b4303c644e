package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/timconsole/timconsole/server/redisstore"
	"github.com/timconsole/timconsole/server/redisstore/redisstoretest"
)

// redisServer is the launcher with a helper to inspect what the store
// wrote.
type redisServer struct{ *redisstoretest.Server }

const readyTimeout = redisstoretest.ReadyTimeout

func mustStartRedis(tb testing.TB) *redisServer {
	tb.Helper()
	return &redisServer{redisstoretest.Start(tb)}
}

func mustStartRedisWith(tb testing.TB, extra func(port int) []string) *redisServer {
	tb.Helper()
	return &redisServer{redisstoretest.StartWith(tb, extra)}
}

// Start restarts a killed server on the same port.
func (r *redisServer) Start() { r.Restart() }

// Client is a plain go-redis client for inspecting what the store wrote.
func (r *redisServer) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second})
	tb.Cleanup(func() { c.Close() })
	return c
}

// storeConfig is the test default: timeouts generous enough for a loaded
// CI machine. Outage tests shorten them.
func storeConfig(r *redisServer) redisstore.Config {
	return redisstore.Config{
		Addr:         r.Addr(),
		DialTimeout:  2 * time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
	}
}

// TestMain silences go-redis's own dial-failure lines, which the outage
// tests provoke by the dozen; the tests check the package's errors instead.
func TestMain(m *testing.M) {
	redis.SetLogger(redisstore.ClientLogger(slog.New(slog.DiscardHandler)))
	os.Exit(m.Run())
}

// mustNew builds a store and closes it when the test ends.
func mustNew(tb testing.TB, cfg redisstore.Config) *redisstore.Store {
	tb.Helper()
	s, err := redisstore.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

var prefixSeq struct {
	mu sync.Mutex
	n  int
}

// uniquePrefix isolates tests that share one redis-server.
func uniquePrefix() string {
	prefixSeq.mu.Lock()
	defer prefixSeq.mu.Unlock()
	prefixSeq.n++
	return fmt.Sprintf("test%d:", prefixSeq.n)
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// arrivals records when calls were released, like the emulator's arrival
// log, and reports the most that fell within any one-second window.
type arrivals struct {
	mu sync.Mutex
	at []time.Time
}

func (a *arrivals) add(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at = append(a.at, t)
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.at)
}

// peak is the most arrivals t_j with t_i <= t_j < t_i+1s for any i: the
// emulator's PeakPerSecond.
func (a *arrivals) peak() int { return a.peakBetween(time.Time{}, time.Now().Add(time.Hour)) }

// peakBetween is peak counting only arrivals in [from, to).
func (a *arrivals) peakBetween(from, to time.Time) int {
	a.mu.Lock()
	var at []time.Time
	for _, t := range a.at {
		if !t.Before(from) && t.Before(to) {
			at = append(at, t)
		}
	}
	a.mu.Unlock()
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	best, j := 0, 0
	for i := range at {
		for j < len(at) && at[j].Sub(at[i]) < time.Second {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// logRecorder is a slog.Handler that keeps the messages, to count the
// limiter's transition records.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}

func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}
