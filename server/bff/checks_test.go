package bff_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/bff"
)

// switchRegistry is the in-memory registry behind a switch: while down is
// set every call fails, as a shared store (Redis) does when it is
// unreachable.
type switchRegistry struct {
	*auth.MemoryRegistry
	down atomic.Bool
}

var _ auth.Registry = (*switchRegistry)(nil)

var errStoreDown = errors.New("store down")

func (s *switchRegistry) Put(ctx context.Context, x auth.Session) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.MemoryRegistry.Put(ctx, x)
}

func (s *switchRegistry) Get(ctx context.Context, id string) (auth.Session, error) {
	if s.down.Load() {
		return auth.Session{}, errStoreDown
	}
	return s.MemoryRegistry.Get(ctx, id)
}

func (s *switchRegistry) Touch(ctx context.Context, id string, lastSeen, expires time.Time) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.MemoryRegistry.Touch(ctx, id, lastSeen, expires)
}

func (s *switchRegistry) Delete(ctx context.Context, id string) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.MemoryRegistry.Delete(ctx, id)
}

func (s *switchRegistry) Count(ctx context.Context) (int, error) {
	if s.down.Load() {
		return 0, errStoreDown
	}
	return s.MemoryRegistry.Count(ctx)
}

// TestSessionStoreDown: with the shared session store down, /api answers
// 503 with Retry-After and keeps the cookie, /readyz is 503 naming the
// store and shows the limiter's state, /metrics exports the store and
// limiter gauges and keeps the last session count instead of -1; a degraded
// limiter alone does not make the console unready.
func TestSessionStoreDown(t *testing.T) {
	reg := &switchRegistry{MemoryRegistry: auth.NewMemoryRegistry(nil)}
	var degraded atomic.Bool
	var m *bff.Metrics
	e := newEnv(t, envOptions{
		registry: reg,
		checks: []bff.ReadyCheck{
			{Name: "sessions", Critical: true, Probe: func(ctx context.Context) (string, bool) {
				up := !reg.down.Load()
				m.SetSessionStoreUp(up)
				if !up {
					return "session store unreachable", false
				}
				return "ok", true
			}},
			{Group: "limiter", Name: "alpha", Probe: func(ctx context.Context) (string, bool) {
				m.SetLimiterDegraded("alpha", degraded.Load())
				if degraded.Load() {
					return "degraded (local share)", false
				}
				return "shared", true
			}},
		},
	})
	m = e.metrics
	get := func(path string) (int, string) {
		t.Helper()
		resp := e.request(auth.Operator{}, http.MethodGet, path, nil)
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	readyz := func() (int, map[string]any) {
		t.Helper()
		status, body := get("/readyz")
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("/readyz body %q: %v", body, err)
		}
		return status, got
	}

	if status, _, _ := e.receipts(alice, req("alpha", warRoom, "1-5")); status != http.StatusOK {
		t.Fatalf("query with the store up = %d", status)
	}
	status, got := readyz()
	want := map[string]any{"status": "ok", "config": "ok", "idp": "ok", "sessions": "ok", "limiter": map[string]any{"alpha": "shared"}}
	if diff := cmp.Diff(want, got); status != http.StatusOK || diff != "" {
		t.Errorf("/readyz with everything up = %d (-want +got):\n%s", status, diff)
	}
	if _, metrics := get("/metrics"); !strings.Contains(metrics, "timconsole_active_sessions 1\n") {
		t.Errorf("/metrics lacks timconsole_active_sessions 1")
	}

	// Only the limiter degraded: informational.
	degraded.Store(true)
	if status, got := readyz(); status != http.StatusOK || cmp.Diff(map[string]any{"alpha": "degraded (local share)"}, got["limiter"]) != "" {
		t.Errorf("/readyz with a degraded limiter = %d %v, want 200 showing the local share", status, got)
	}

	reg.down.Store(true)
	resp := e.request(alice, http.MethodGet, api.PathMe, nil)
	status, _, apiErr := decodeAnswer[api.Me](t, resp)
	if status != http.StatusServiceUnavailable || apiErr == nil || apiErr.Code != api.ECodeUnavailable || !apiErr.Retryable || !strings.Contains(apiErr.Message, "session store") {
		t.Errorf("/api/me with the store down = %d %+v, want 503 unavailable naming the session store", status, apiErr)
	}
	if got, want := resp.Header.Get("Retry-After"), strconv.Itoa(auth.RetryAfter); got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
	if len(resp.Cookies()) != 0 {
		t.Errorf("the 503 sets cookies %v; the session cookie must be kept", resp.Cookies())
	}
	if n := e.emu.TotalCalls(); n != 1 {
		t.Errorf("emulator calls = %d, want 1 (none while sessions are down)", n)
	}

	status, got = readyz()
	if status != http.StatusServiceUnavailable || got["status"] != "unavailable" || got["sessions"] != "session store unreachable" {
		t.Errorf("/readyz with the store down = %d %v, want 503 naming the session store", status, got)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{
		"timconsole_session_store_up 0\n",
		`timconsole_limiter_degraded{app="alpha"} 1` + "\n",
		"timconsole_active_sessions 1\n", // the last count, not -1
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics with the store down lacks %q", want)
		}
	}

	reg.down.Store(false)
	degraded.Store(false)
	if status, _ := get(api.PathMe); status != http.StatusUnauthorized {
		t.Errorf("/api/me without a cookie = %d, want 401", status)
	}
	if resp := e.request(alice, http.MethodGet, api.PathMe, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/api/me with the store back = %d, want 200 (the kept cookie works again)", resp.StatusCode)
	}
	_, metrics = get("/metrics")
	for _, want := range []string{"timconsole_session_store_up 1\n", `timconsole_limiter_degraded{app="alpha"} 0` + "\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics after recovery lacks %q", want)
		}
	}
}
