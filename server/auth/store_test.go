package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
)

// errDown is what failingRegistry returns, like a shared store that does
// not answer.
var errDown = errors.New("store down")

// failingRegistry wraps a working Registry and fails the operations named in
// down, as a shared session store (Redis) does while it is unreachable.
type failingRegistry struct {
	auth.Registry

	mu   sync.Mutex
	down map[string]bool // "put", "get", "touch", "delete", "count"
}

var _ auth.Registry = (*failingRegistry)(nil)

func (f *failingRegistry) fail(ops ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = map[string]bool{}
	for _, op := range ops {
		f.down[op] = true
	}
}

func (f *failingRegistry) err(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down[op] {
		return errDown
	}
	return nil
}

func (f *failingRegistry) Put(ctx context.Context, s auth.Session) error {
	if err := f.err("put"); err != nil {
		return err
	}
	return f.Registry.Put(ctx, s)
}

func (f *failingRegistry) Get(ctx context.Context, id string) (auth.Session, error) {
	if err := f.err("get"); err != nil {
		return auth.Session{}, err
	}
	return f.Registry.Get(ctx, id)
}

func (f *failingRegistry) Touch(ctx context.Context, id string, lastSeen, expires time.Time) error {
	if err := f.err("touch"); err != nil {
		return err
	}
	return f.Registry.Touch(ctx, id, lastSeen, expires)
}

func (f *failingRegistry) Delete(ctx context.Context, id string) error {
	if err := f.err("delete"); err != nil {
		return err
	}
	return f.Registry.Delete(ctx, id)
}

func (f *failingRegistry) Count(ctx context.Context) (int, error) {
	if err := f.err("count"); err != nil {
		return 0, err
	}
	return f.Registry.Count(ctx)
}

// newStoreEnv is an env whose registry can be made to fail.
func newStoreEnv(t *testing.T) (*env, *failingRegistry) {
	t.Helper()
	reg := &failingRegistry{}
	e := newEnv(t, envOptions{configure: func(c *auth.Config) {
		reg.Registry = c.Registry
		c.Registry = reg
	}})
	return e, reg
}

// TestCallbackStoreUnavailable: when the registry fails at the end of a
// login (deleting the session the browser brought, or storing the new one),
// the operator gets a 503 page that says the session store is down, with
// Retry-After, no session cookie, and the login counts as
// store_unavailable, not as an internal error.
func TestCallbackStoreUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name    string
		fail    string
		planted bool // the browser brings an older session, deleted at login
	}{
		{"PutFails", "put", false},
		{"DeleteOldFails", "delete", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, reg := newStoreEnv(t)
			c := browser(t)
			if tt.planted {
				old, err := e.auth.MintSession(t.Context(), auth.Operator{Subject: "u-old"})
				if err != nil {
					t.Fatal(err)
				}
				u, _ := url.Parse(e.console.URL)
				c.Jar.SetCookies(u, []*http.Cookie{old})
			}
			reg.fail(tt.fail)

			resp := e.login(t, c, "alice", "alice-pw", "")
			if got, want := resp.StatusCode, http.StatusServiceUnavailable; got != want {
				t.Fatalf("callback status = %d, want %d; body: %s", got, want, bodyOf(t, resp))
			}
			if got, want := resp.Header.Get("Retry-After"), strconv.Itoa(auth.RetryAfter); got != want {
				t.Errorf("Retry-After = %q, want %q", got, want)
			}
			if body := bodyOf(t, resp); !strings.Contains(body, "Session store unavailable, try again in a minute") {
				t.Errorf("page does not say the session store is unavailable:\n%s", body)
			}
			if ck := cookieNamed(resp, auth.SessionCookieName); ck != nil && ck.MaxAge >= 0 {
				t.Error("a session cookie was set although no session was stored")
			}
			if diff := cmp.Diff([]string{auth.OutcomeStoreUnavailable}, e.outcomes()); diff != "" {
				t.Errorf("login outcomes (-want +got):\n%s", diff)
			}
			if recs := e.logs.records(t, "login.failed"); len(recs) != 1 || recs[0]["outcome"] != auth.OutcomeStoreUnavailable {
				t.Errorf("audit login.failed records = %v, want one with outcome %s", recs, auth.OutcomeStoreUnavailable)
			}

			// Once the store is back, signing in again works.
			reg.fail()
			e.mustLogin(t, c, "alice", "alice-pw")
			if status, op := e.me(t, c); status != http.StatusOK || op.Subject == "" {
				t.Errorf("/api/me after the store came back = %d %+v, want 200 and alice", status, op)
			}
		})
	}
}

// TestRequireOperatorStoreUnavailable: a signed-in operator whose session
// cannot be looked up gets 503 JSON "unavailable" with Retry-After, and the
// cookie is kept (no "not signed in", no login loop); the session works
// again when the store answers. ActiveSessions reports -1 meanwhile.
func TestRequireOperatorStoreUnavailable(t *testing.T) {
	e, reg := newStoreEnv(t)
	c := browser(t)
	e.mustLogin(t, c, "alice", "alice-pw")

	for _, op := range []string{"get", "touch"} {
		reg.fail(op, "count")
		resp := get(t, c, e.console.URL+"/api/me")
		if got, want := resp.StatusCode, http.StatusServiceUnavailable; got != want {
			t.Fatalf("%s failing: /api/me = %d, want %d; body: %s", op, got, want, bodyOf(t, resp))
		}
		if got, want := resp.Header.Get("Retry-After"), strconv.Itoa(auth.RetryAfter); got != want {
			t.Errorf("%s failing: Retry-After = %q, want %q", op, got, want)
		}
		var body api.Error
		if err := json.Unmarshal([]byte(bodyOf(t, resp)), &body); err != nil {
			t.Fatalf("%s failing: body is not an api.Error: %v", op, err)
		}
		if body.Code != api.ECodeUnavailable || !body.Retryable || body.LoginURL != "" || !strings.Contains(body.Message, "session store is unavailable") {
			t.Errorf("%s failing: body = %+v, want a retryable unavailable error naming the session store, no login URL", op, body)
		}
		if ck := cookieNamed(resp, auth.SessionCookieName); ck != nil {
			t.Errorf("%s failing: the answer touches the session cookie (%+v); it must be kept", op, ck)
		}
		if n := e.activeSessions(t); n != -1 {
			t.Errorf("%s failing: ActiveSessions = %d, want -1", op, n)
		}
	}

	reg.fail()
	if status, _ := e.me(t, c); status != http.StatusOK {
		t.Errorf("/api/me after the store came back = %d, want 200", status)
	}
}
