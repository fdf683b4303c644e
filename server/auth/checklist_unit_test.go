package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/auth/authtest"
	"github.com/timconsole/timconsole/server/bff"
)

// Checklist 4: ID tokens that must be refused, each through the real callback.
func TestChecklist04_IDTokenRejections(t *testing.T) {
	tests := []struct {
		name  string
		why   string // in the audit record's err
		token func(u *unitEnv, nonce string) string
	}{
		{"WrongIssuer", "different provider", func(u *unitEnv, nonce string) string {
			c := u.op.claims(u.clock.Now(), nonce)
			c["iss"] = "https://evil.example"
			return sign(t, u.op.published[0], jose.RS256, c)
		}},
		{"WrongAudience", "expected audience", func(u *unitEnv, nonce string) string {
			c := u.op.claims(u.clock.Now(), nonce)
			c["aud"] = "another-client"
			return sign(t, u.op.published[0], jose.RS256, c)
		}},
		{"Expired", "expired", func(u *unitEnv, nonce string) string {
			c := u.op.claims(u.clock.Now(), nonce)
			c["exp"] = u.clock.Now().Add(-time.Minute).Unix()
			return sign(t, u.op.published[0], jose.RS256, c)
		}},
		{"BadSignature", "signature", func(u *unitEnv, nonce string) string {
			tok := sign(t, u.op.published[0], jose.RS256, u.op.claims(u.clock.Now(), nonce))
			parts := strings.Split(tok, ".")
			forged, _ := json.Marshal(map[string]any{"iss": u.op.srv.URL, "sub": "admin", "aud": "console",
				"exp": u.clock.Now().Add(time.Hour).Unix(), "nonce": nonce, "groups": []string{"ops-admins"}})
			parts[1] = base64.RawURLEncoding.EncodeToString(forged)
			return strings.Join(parts, ".")
		}},
		{"UnknownKid", "signature", func(u *unitEnv, nonce string) string {
			return sign(t, newTestKey(t, "not-published"), jose.RS256, u.op.claims(u.clock.Now(), nonce))
		}},
		{"AlgNone", "algorithm \"none\"", func(u *unitEnv, nonce string) string {
			return unsigned(t, u.op.claims(u.clock.Now(), nonce))
		}},
		{"HS256WithClientSecret", "algorithm \"HS256\"", func(u *unitEnv, nonce string) string {
			return sign(t, u.op.published[0], jose.HS256, u.op.claims(u.clock.Now(), nonce))
		}},
		{"NonceMismatch", "nonce mismatch", func(u *unitEnv, nonce string) string {
			return sign(t, u.op.published[0], jose.RS256, u.op.claims(u.clock.Now(), "a-different-nonce"))
		}},
		{"NonceMissing", "nonce mismatch", func(u *unitEnv, nonce string) string {
			c := u.op.claims(u.clock.Now(), nonce)
			delete(c, "nonce")
			return sign(t, u.op.published[0], jose.RS256, c)
		}},
		{"SeveralAudiencesAZPNotClient", "azp", func(u *unitEnv, nonce string) string {
			c := u.op.claims(u.clock.Now(), nonce)
			c["aud"] = []string{"console", "other"}
			c["azp"] = "other"
			return sign(t, u.op.published[0], jose.RS256, c)
		}},
		{"SeveralAudiencesNoAZP", "azp", func(u *unitEnv, nonce string) string {
			c := u.op.claims(u.clock.Now(), nonce)
			c["aud"] = []string{"console", "other"}
			return sign(t, u.op.published[0], jose.RS256, c)
		}},
		{"AccessTokenHashMismatch", "at_hash", func(u *unitEnv, nonce string) string {
			c := u.op.claims(u.clock.Now(), nonce)
			c["at_hash"] = atHash("some-other-access-token")
			return sign(t, u.op.published[0], jose.RS256, c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUnitEnv(t, nil)
			c := browser(t)
			state, nonce := u.start(t, c)
			u.op.setIDToken(tt.token(u, nonce))
			resp := u.callback(t, c, state, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("callback status = %d, want 401; body: %s", resp.StatusCode, bodyOf(t, resp))
			}
			if ck := cookieNamed(resp, auth.SessionCookieName); ck != nil && ck.MaxAge >= 0 {
				t.Errorf("callback set a session cookie for a rejected token")
			}
			if n := u.auth.ActiveSessions(context.Background()); n != 0 {
				t.Errorf("ActiveSessions = %d, want 0", n)
			}
			got := u.logs.records(t, "login.failed")
			if len(got) != 1 || got[0]["outcome"] != auth.OutcomeBadToken {
				t.Fatalf("audit login.failed records = %v, want one with outcome %q", got, auth.OutcomeBadToken)
			}
			if e, _ := got[0]["err"].(string); !strings.Contains(e, tt.why) {
				t.Errorf("refused for %q, want a reason containing %q", e, tt.why)
			}
		})
	}

	t.Run("ValidControl", func(t *testing.T) {
		u := newUnitEnv(t, nil)
		c := browser(t)
		state, nonce := u.start(t, c)
		claims := u.op.claims(u.clock.Now(), nonce)
		claims["aud"] = []string{"console", "other"}
		claims["azp"] = "console"
		u.op.setIDToken(sign(t, u.op.published[0], jose.RS256, claims))
		resp := u.callback(t, c, state, nil)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("callback status = %d, want 302; body: %s", resp.StatusCode, bodyOf(t, resp))
		}
	})
}

// Checklist 5: an iss parameter in the authorization response (RFC 9207)
// must equal the configured issuer.
func TestChecklist05_IssParameter(t *testing.T) {
	t.Run("Mismatch", func(t *testing.T) {
		u := newUnitEnv(t, nil)
		c := browser(t)
		state, nonce := u.start(t, c)
		u.op.setIDToken(sign(t, u.op.published[0], jose.RS256, u.op.claims(u.clock.Now(), nonce)))
		resp := u.callback(t, c, state, url.Values{"iss": {"https://evil.example"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", resp.StatusCode)
		}
		if u.op.calls().token != 0 {
			t.Errorf("token endpoint called %d times, want 0: the code must not be redeemed after a mix-up", u.op.calls().token)
		}
	})
	t.Run("Match", func(t *testing.T) {
		u := newUnitEnv(t, nil)
		c := browser(t)
		state, nonce := u.start(t, c)
		u.op.setIDToken(sign(t, u.op.published[0], jose.RS256, u.op.claims(u.clock.Now(), nonce)))
		resp := u.callback(t, c, state, url.Values{"iss": {u.op.srv.URL}})
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status = %d, want 302; body: %s", resp.StatusCode, bodyOf(t, resp))
		}
	})
}

// Checklist 9 (unit part): the userinfo sub must equal the ID token's sub.
func TestChecklist09_UserinfoSubjectMismatch(t *testing.T) {
	u := newUnitEnv(t, nil)
	c := browser(t)
	state, nonce := u.start(t, c)
	claims := u.op.claims(u.clock.Now(), nonce)
	delete(claims, "email")
	delete(claims, "groups")
	u.op.setIDToken(sign(t, u.op.published[0], jose.RS256, claims))
	u.op.mu.Lock()
	u.op.userinfo = map[string]any{"sub": "someone-else", "email": "ana@ops.example", "email_verified": true, "groups": []string{"ops-admins"}}
	u.op.mu.Unlock()
	resp := u.callback(t, c, state, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401; body: %s", resp.StatusCode, bodyOf(t, resp))
	}
	if n := u.auth.ActiveSessions(context.Background()); n != 0 {
		t.Errorf("ActiveSessions = %d, want 0", n)
	}
}

// Checklist 10: an empty access policy stops start-up.
func TestChecklist10_EmptyPolicyRefusesToStart(t *testing.T) {
	if err := (auth.Policy{}).Validate(); err == nil {
		t.Error("Policy{}.Validate() = nil, want an error")
	}
	if err := (auth.Policy{KeepGroups: []string{"ops"}}).Validate(); err == nil {
		t.Error("a policy with only groups to keep (the BFF's per-app groups) validated; it admits nobody by identity and must be refused")
	}
	f := newFakeOP(t)
	_, err := auth.New(t.Context(), auth.Config{
		Issuer: f.srv.URL, ClientID: "console", ClientSecret: "s",
		RedirectURL: "http://127.0.0.1:1/auth/callback", SessionKeys: []auth.KeyPair{keyOld},
	})
	if err == nil || !strings.Contains(err.Error(), "access policy is empty") {
		t.Errorf("New with an empty policy = %v, want an 'access policy is empty' error", err)
	}
	if f.calls().discovery != 0 {
		t.Errorf("discovery ran %d times before the configuration was validated", f.calls().discovery)
	}
}

// Checklist 13: idle and absolute timeouts, with an injected clock.
func TestChecklist13_IdleAndAbsoluteTimeouts(t *testing.T) {
	t.Run("Idle", func(t *testing.T) {
		u := newUnitEnv(t, func(c *auth.Config) { c.IdleTimeout = 30 * time.Minute; c.AbsoluteTimeout = 8 * time.Hour })
		ck := mint(t, u.auth)
		for range 3 { // activity keeps it alive
			u.clock.Advance(29 * time.Minute)
			if got := apiStatus(t, u.console.URL, ck); got != http.StatusOK {
				t.Fatalf("after 29 idle minutes: status %d, want 200", got)
			}
		}
		u.clock.Advance(31 * time.Minute)
		if got := apiStatus(t, u.console.URL, ck); got != http.StatusUnauthorized {
			t.Errorf("after 31 idle minutes: status %d, want 401", got)
		}
		if n := u.auth.ActiveSessions(context.Background()); n != 0 {
			t.Errorf("ActiveSessions = %d after idle timeout, want 0", n)
		}
	})
	t.Run("Absolute", func(t *testing.T) {
		u := newUnitEnv(t, func(c *auth.Config) { c.IdleTimeout = 30 * time.Minute; c.AbsoluteTimeout = 2 * time.Hour })
		ck := mint(t, u.auth)
		for i := range 7 { // active every 17 minutes: 119 minutes in all
			u.clock.Advance(17 * time.Minute)
			if got := apiStatus(t, u.console.URL, ck); got != http.StatusOK {
				t.Fatalf("request %d at %v: status %d, want 200", i, time.Duration(i+1)*17*time.Minute, got)
			}
		}
		u.clock.Advance(2 * time.Minute) // 121 minutes after login, 2 minutes after the last request
		if got := apiStatus(t, u.console.URL, ck); got != http.StatusUnauthorized {
			t.Errorf("past the absolute timeout while active: status %d, want 401", got)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		u := newUnitEnv(t, nil)
		ck := mint(t, u.auth)
		u.clock.Advance(59 * time.Minute)
		if got := apiStatus(t, u.console.URL, ck); got != http.StatusOK {
			t.Fatalf("after 59 idle minutes: status %d, want 200 (default idle 1h)", got)
		}
		u.clock.Advance(61 * time.Minute)
		if got := apiStatus(t, u.console.URL, ck); got != http.StatusUnauthorized {
			t.Errorf("after 61 idle minutes: status %d, want 401 (default idle 1h)", got)
		}
		ck = mint(t, u.auth)
		for range 24 { // 12h of activity every 30 minutes
			u.clock.Advance(30 * time.Minute)
			apiStatus(t, u.console.URL, ck)
		}
		if got := apiStatus(t, u.console.URL, ck); got != http.StatusUnauthorized {
			t.Errorf("12h after login: status %d, want 401 (default absolute 12h)", got)
		}
	})
}

func mint(t *testing.T, a *auth.Auth) *http.Cookie {
	t.Helper()
	ck, err := a.MintSession(t.Context(), auth.Operator{Subject: "u-1", Email: "ana@ops.example", Groups: []string{"ops-admins"}})
	if err != nil {
		t.Fatalf("MintSession: %v", err)
	}
	return ck
}

// apiStatus calls GET /api/me with the cookie and returns the status; a 401
// must be the JSON api.Error with a login URL.
func apiStatus(t *testing.T, base string, ck *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/me", nil)
	if ck != nil {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		var e api.Error
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatalf("401 body is not JSON: %v", err)
		}
		if diff := cmp.Diff(api.Error{Code: api.ECodeUnauthorized, Message: "Please sign in.", LoginURL: auth.LoginPath}, e); diff != "" {
			t.Errorf("401 body mismatch (-want +got):\n%s", diff)
		}
	}
	return resp.StatusCode
}

// Checklist 14: key rotation. A cookie from the previous key pair works while
// both pairs are configured; once the old pair is gone it is a clean 401.
func TestChecklist14_KeyRotation(t *testing.T) {
	f := newFakeOP(t)
	clock := authtest.NewClock(time.Now())
	reg := auth.NewMemoryRegistry(clock.Now)
	newConsole := func(keys ...auth.KeyPair) (*auth.Auth, string) {
		t.Helper()
		a, err := auth.New(t.Context(), auth.Config{
			Issuer: f.srv.URL, ClientID: "console", ClientSecret: "s",
			RedirectURL: "http://127.0.0.1:1/auth/callback", SessionKeys: keys,
			Policy: groupPolicy, Registry: reg, Now: clock.Now, WriteError: bff.ErrorWriter(nil),
		})
		if err != nil {
			t.Fatalf("auth.New: %v", err)
		}
		srv := httptest.NewServer(consoleHandler(a))
		t.Cleanup(srv.Close)
		return a, srv.URL
	}
	before, beforeURL := newConsole(keyOld)
	ck := mint(t, before)
	if got := apiStatus(t, beforeURL, ck); got != http.StatusOK {
		t.Fatalf("before rotation: status %d, want 200", got)
	}
	_, duringURL := newConsole(keyNew, keyOld)
	if got := apiStatus(t, duringURL, ck); got != http.StatusOK {
		t.Errorf("old cookie with [new, old] keys: status %d, want 200", got)
	}
	during2, _ := newConsole(keyNew, keyOld)
	fresh := mint(t, during2)
	decodeCookie(t, auth.SessionCookieName, fresh.Value, keyNew) // the first pair encodes
	_, afterURL := newConsole(keyNew)
	if got := apiStatus(t, afterURL, ck); got != http.StatusUnauthorized {
		t.Errorf("old cookie after the old pair was removed: status %d, want 401", got)
	}
	if got := apiStatus(t, afterURL, fresh); got != http.StatusOK {
		t.Errorf("new cookie after rotation: status %d, want 200", got)
	}
	tampered := *fresh
	tampered.Value = fresh.Value[:len(fresh.Value)-4] + "AAAA"
	if got := apiStatus(t, afterURL, &tampered); got != http.StatusUnauthorized {
		t.Errorf("tampered cookie: status %d, want 401", got)
	}
}

// Checklist 17: CrossOrigin has no bypass, and safe methods change nothing.
func TestChecklist17_CrossOriginAndSafeMethods(t *testing.T) {
	u := newUnitEnv(t, nil)
	ck := mint(t, u.auth)
	do := func(method, path string, header map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(method, u.console.URL+path, nil)
		req.AddCookie(ck)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site"}
	sameSite := map[string]string{"Sec-Fetch-Site": "same-site"}
	foreignOrigin := map[string]string{"Origin": "http://127.0.0.1:1"}
	// Paths an overly broad bypass pattern might cover.
	for _, path := range []string{"/api/mutate", "/api/", "/api/../api/mutate", "/auth/logout", "/auth/callback", "/"} {
		for _, h := range []map[string]string{crossSite, sameSite, foreignOrigin} {
			if got := do(http.MethodPost, path, h); got/100 == 2 {
				t.Errorf("POST %s with %v: status %d, want a refusal", path, h, got)
			}
		}
	}
	if got := do(http.MethodPost, "/api/mutate", crossSite); got != http.StatusForbidden {
		t.Errorf("cross-site POST /api/mutate: status %d, want 403", got)
	}
	if got := do(http.MethodPost, "/api/mutate", map[string]string{"Sec-Fetch-Site": "same-origin"}); got != http.StatusOK {
		t.Errorf("same-origin POST /api/mutate: status %d, want 200", got)
	}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
		if got := do(m, "/auth/logout", crossSite); got != http.StatusMethodNotAllowed {
			t.Errorf("%s /auth/logout: status %d, want 405", m, got)
		}
	}
	if got := apiStatus(t, u.console.URL, ck); got != http.StatusOK {
		t.Errorf("after cross-origin attempts and safe-method logouts the session is gone: status %d", got)
	}
}

// Checklist 20: security headers on every response, no-store on /auth and /api.
func TestChecklist20_SecurityHeaders(t *testing.T) {
	u := newUnitEnv(t, nil)
	wantCSP := "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; object-src 'none'; " +
		"frame-ancestors 'none'; form-action 'self' " + u.op.srv.URL
	c := browser(t)
	for _, tc := range []struct {
		path    string
		noStore bool
	}{
		{"/", false},
		{"/no-such-page", false},
		{"/api/me", true},
		{auth.LoginPath, true},
		{auth.CallbackPath, true},
		{auth.LogoutPath, true},
	} {
		resp := get(t, c, u.console.URL+tc.path)
		want := map[string]string{
			"Content-Security-Policy":      wantCSP,
			"X-Content-Type-Options":       "nosniff",
			"Referrer-Policy":              "no-referrer",
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Resource-Policy": "same-origin",
			"Permissions-Policy":           "camera=(), microphone=(), geolocation=()",
		}
		if tc.noStore {
			want["Cache-Control"] = "no-store"
		}
		got := map[string]string{}
		for k := range want {
			got[k] = resp.Header.Get(k)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s headers (-want +got):\n%s", tc.path, diff)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("GET %s over plain HTTP sent HSTS", tc.path)
		}
	}
	if got, want := bff.CSP("http://idp.example:9998/some/path"), "form-action 'self' http://idp.example:9998"; !strings.HasSuffix(got, want) {
		t.Errorf("CSP(idp with path) = %q, want suffix %q", got, want)
	}
	if got := bff.CSP("http://x.example; script-src *"); strings.Contains(got, "script-src *") {
		t.Errorf("CSP accepted a header injection: %q", got)
	}
	// HSTS on TLS.
	ts := httptest.NewTLSServer(bff.Edge(bff.Deps{}, http.NotFoundHandler()))
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
		t.Errorf("HSTS over TLS = %q", got)
	}
}

// Checklist 21: return_to accepts relative paths only.
func TestChecklist21_SafeReturnTo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/apps", "/apps"},
		{"/apps/x?group=g1&seqs=1-5#top", "/apps/x?group=g1&seqs=1-5#top"},
		{"//evil", "/"},
		{"//evil.example/path", "/"},
		{"/\\evil", "/"},
		{"/\t/evil", "/"},
		{"/\r\n/evil", "/"},
		{"/\n/evil", "/"},
		{"https://evil", "/"},
		{"http://evil.example/", "/"},
		{"javascript:", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"apps", "/"},
		{"/%2F/evil", "/"},
		{"/%5Cevil", "/"},
		{"\\\\evil", "/"},
		{" /apps", "/"},
		{"/apps\x00", "/"},
	}
	for _, tt := range tests {
		if got := auth.SafeReturnTo(tt.in); got != tt.want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Checklist 23: provider trouble at start-up, JWKS rotation, call timeouts.
func TestChecklist23_ProviderTrouble(t *testing.T) {
	t.Run("OutageRetriesThenClearError", func(t *testing.T) {
		f := newFakeOP(t)
		f.discoveryFails = 1000
		u := &unitEnv{op: f, clock: authtest.NewClock(time.Now()), logs: &logBuffer{}, console: httptest.NewServer(http.NotFoundHandler())}
		defer u.console.Close()
		cfg := u.config()
		cfg.StartupTimeout = 700 * time.Millisecond
		_, err := auth.New(t.Context(), cfg)
		if err == nil {
			t.Fatal("New with the provider down = nil error")
		}
		for _, want := range []string{"oidc discovery at " + f.srv.URL, "provider unreachable after", "attempts", "503"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if f.calls().discovery < 2 {
			t.Errorf("discovery tried %d times, want retries", f.calls().discovery)
		}
		if strings.Contains(err.Error(), "console-secret") {
			t.Errorf("error leaks the client secret: %q", err)
		}
	})
	t.Run("RecoversWhileRetrying", func(t *testing.T) {
		f := newFakeOP(t)
		f.discoveryFails = 2
		u := &unitEnv{op: f, clock: authtest.NewClock(time.Now()), logs: &logBuffer{}, console: httptest.NewServer(http.NotFoundHandler())}
		defer u.console.Close()
		a, err := auth.New(t.Context(), u.config())
		if err != nil {
			t.Fatalf("New after a short outage: %v", err)
		}
		if f.calls().discovery != 3 {
			t.Errorf("discovery calls = %d, want 3", f.calls().discovery)
		}
		if err := a.Ready(t.Context()); err != nil {
			t.Errorf("Ready = %v", err)
		}
		if got := u.logs.String(); !strings.Contains(got, "retrying") {
			t.Errorf("no retry warning logged: %s", got)
		}
	})
	t.Run("IssuerMismatchIsNotRetried", func(t *testing.T) {
		f := newFakeOP(t)
		f.issuerOverwrite = "https://other.example"
		u := &unitEnv{op: f, clock: authtest.NewClock(time.Now()), logs: &logBuffer{}, console: httptest.NewServer(http.NotFoundHandler())}
		defer u.console.Close()
		_, err := auth.New(t.Context(), u.config())
		if err == nil || f.calls().discovery != 1 {
			t.Errorf("New with a mismatched issuer: err %v after %d calls, want an error after 1", err, f.calls().discovery)
		}
	})
	t.Run("ReadyFailsWhenProviderDown", func(t *testing.T) {
		u := newUnitEnv(t, nil)
		u.op.mu.Lock()
		u.op.discoveryFails = 1
		u.op.mu.Unlock()
		if err := u.auth.Ready(t.Context()); err == nil {
			t.Error("Ready with discovery failing = nil")
		}
	})
	t.Run("JWKSRotationWithoutRestart", func(t *testing.T) {
		u := newUnitEnv(t, nil)
		login := func(k testKey) int {
			c := browser(t)
			state, nonce := u.start(t, c)
			u.op.setIDToken(sign(t, k, jose.RS256, u.op.claims(u.clock.Now(), nonce)))
			return u.callback(t, c, state, nil).StatusCode
		}
		k1 := u.op.published[0]
		if got := login(k1); got != http.StatusFound {
			t.Fatalf("login with k1: %d, want 302", got)
		}
		k2 := newTestKey(t, "k2")
		u.op.mu.Lock()
		u.op.published = []testKey{k2} // the provider rotates: k1 retired, k2 new
		u.op.mu.Unlock()
		if got := login(k2); got != http.StatusFound {
			t.Errorf("login with rotated key k2: %d, want 302", got)
		}
		if got := login(k1); got != http.StatusUnauthorized {
			t.Errorf("login with retired key k1: %d, want 401", got)
		}
		if u.op.calls().jwks < 2 {
			t.Errorf("JWKS fetched %d times, want a refetch after rotation", u.op.calls().jwks)
		}
	})
	t.Run("TokenCallTimesOut", func(t *testing.T) {
		u := newUnitEnv(t, func(c *auth.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} })
		u.op.mu.Lock()
		u.op.tokenHang = make(chan struct{})
		u.op.mu.Unlock()
		c := browser(t)
		state, _ := u.start(t, c)
		resp := u.callback(t, c, state, nil)
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("callback with a hanging token endpoint: status %d, want 502", resp.StatusCode)
		}
		if got := u.logs.records(t, "login.failed"); len(got) != 1 || got[0]["outcome"] != auth.OutcomeUnavailable {
			t.Errorf("audit records = %v, want one with outcome unavailable", got)
		}
	})
	t.Run("ClientWithoutTimeoutRefused", func(t *testing.T) {
		f := newFakeOP(t)
		u := &unitEnv{op: f, clock: authtest.NewClock(time.Now()), logs: &logBuffer{}, console: httptest.NewServer(http.NotFoundHandler())}
		defer u.console.Close()
		cfg := u.config()
		cfg.HTTPClient = &http.Client{}
		if _, err := auth.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "Timeout") {
			t.Errorf("New with a client without timeout = %v, want a refusal", err)
		}
	})
}

// Checklist 24: a token that expired one second ago is rejected and logged
// as expired.
func TestChecklist24_ExpiredOneSecondAgo(t *testing.T) {
	u := newUnitEnv(t, nil)
	c := browser(t)
	state, nonce := u.start(t, c)
	claims := u.op.claims(u.clock.Now(), nonce)
	claims["iat"] = u.clock.Now().Add(-5 * time.Minute).Unix()
	claims["exp"] = u.clock.Now().Add(-time.Second).Unix()
	u.op.setIDToken(sign(t, u.op.published[0], jose.RS256, claims))
	resp := u.callback(t, c, state, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
	recs := u.logs.records(t, "login.failed")
	if len(recs) != 1 {
		t.Fatalf("login.failed records = %v, want 1", recs)
	}
	if reason, _ := recs[0]["reason"].(string); !strings.Contains(reason, "expired") {
		t.Errorf("audit reason = %q, want it to say expired", reason)
	}
	if e, _ := recs[0]["err"].(string); !strings.Contains(e, "expired") {
		t.Errorf("audit err = %q, want it to say expired", e)
	}
}

// RequireOperator never redirects: fetch() would follow a redirect into the
// IdP's HTML.
func TestRequireOperatorAnswers401JSON(t *testing.T) {
	u := newUnitEnv(t, nil)
	for _, ck := range []*http.Cookie{
		nil,
		{Name: auth.SessionCookieName, Value: "garbage"},
		{Name: auth.SessionCookieName, Value: ""},
	} {
		if got := apiStatus(t, u.console.URL, ck); got != http.StatusUnauthorized {
			t.Errorf("cookie %v: status %d, want 401", ck, got)
		}
	}
	// A custom error writer receives auth's error, to answer as it likes.
	var got error
	u2 := newUnitEnv(t, func(c *auth.Config) {
		c.WriteError = func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
		}
	})
	if status := apiStatusRaw(t, u2.console.URL); status != http.StatusTeapot {
		t.Errorf("custom WriteError not used: status %d", status)
	}
	if !errors.Is(got, auth.ErrNoSession) {
		t.Errorf("WriteError got %#v, want auth.ErrNoSession", got)
	}
}

func apiStatusRaw(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestMemoryRegistry(t *testing.T) {
	clock := authtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	authtest.RegistryTests(t, func(t *testing.T) auth.Registry { return auth.NewMemoryRegistry(clock.Now) }, clock.Now, clock.Advance)
}

func TestConfigValidationListsEveryProblem(t *testing.T) {
	_, err := auth.New(t.Context(), auth.Config{
		Issuer:       "not a url",
		ClientSecret: "super-secret-value",
		RedirectURL:  "/relative",
		SessionKeys:  []auth.KeyPair{{Hash: []byte("short"), Block: []byte("super-secret-block")}},
		IdleTimeout:  13 * time.Hour,
		Policy:       auth.Policy{Domains: []string{"*.corp.example"}},
	})
	if err == nil {
		t.Fatal("New = nil error")
	}
	for _, want := range []string{"issuer", "client ID is required", "redirect URL", "hash key must be 32 or 64 bytes", "block key", "idle timeout", "not a domain"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, secret := range []string{"super-secret-value", "super-secret-block"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks a secret: %v", err)
		}
	}
}
