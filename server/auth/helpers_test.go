package auth_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/auth/authtest"
	"github.com/timconsole/timconsole/server/bff"
	"github.com/timconsole/timconsole/server/devidp"
	"github.com/timconsole/timconsole/server/internal/testenv"
)

// Fixed test keys; real deployments load theirs from secrets.
var (
	keyOld = auth.KeyPair{Hash: bytes.Repeat([]byte("h"), 32), Block: bytes.Repeat([]byte("b"), 32)}
	keyNew = auth.KeyPair{Hash: bytes.Repeat([]byte("H"), 64), Block: bytes.Repeat([]byte("B"), 32)}
)

// Test users of the dev IdP.
var testUsers = []devidp.User{
	{Username: "alice", Password: "alice-pw", Email: "Alice@Ops.Example", EmailVerified: true, Name: "Alice", Groups: []string{"ops-admins", "unrelated"}},
	{Username: "bob", Password: "bob-pw", Email: "bob@ops.example", EmailVerified: true, Name: "Bob", Groups: []string{"ops-readonly"}},
	{Username: "mallory", Password: "mallory-pw", Email: "mallory@sales.example", EmailVerified: true, Name: "Mallory", Groups: []string{"sales"}},
	{Username: "eve", Password: "eve-pw", Email: "eve@ops.example", EmailVerified: false, Name: "Eve", Groups: []string{"ops-admins"}},
}

var groupPolicy = auth.Policy{Groups: []string{"ops-admins", "ops-readonly"}}

// logBuffer is the harness's log sink, read as JSON records.
type logBuffer struct{ testenv.SyncBuffer }

// records returns the decoded log lines whose "event" equals event.
func (b *logBuffer) records(t *testing.T, event string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["event"] == event {
			out = append(out, m)
		}
	}
	return out
}

// env is a console (real auth handlers on 127.0.0.1) signed in through a
// dev IdP (on localhost, so cross-site).
type env struct {
	idp     *devidp.Server
	console *httptest.Server
	auth    *auth.Auth
	cfg     auth.Config
	clock   *authtest.Clock
	logs    *logBuffer
	reg     *auth.MemoryRegistry
	mux     *http.ServeMux
	outcome []string
	mu      sync.Mutex
}

type envOptions struct {
	policy       *auth.Policy
	userinfoOnly bool     // dev IdP keeps claims out of the ID token
	audience     []string // dev IdP's aud override
	configure    func(*auth.Config)
	// tokenAuthMethod registers the client for one token endpoint method
	// only; advertised replaces the methods discovery lists.
	tokenAuthMethod string
	advertised      []string
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{clock: authtest.NewClock(time.Now()), logs: &logBuffer{}, mux: http.NewServeMux()}
	e.reg = auth.NewMemoryRegistry(e.clock.Now)
	var handler http.Handler = e.mux
	e.console = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.console.Close)

	idp, err := devidp.Start(t.Context(), devidp.Config{
		Addr:       "127.0.0.1:0",
		IssuerHost: "localhost",
		Users:      testUsers,
		Clients: []devidp.Client{{
			ID: "console", Secret: "console-secret",
			RedirectURIs:           []string{e.console.URL + auth.CallbackPath},
			PostLogoutRedirectURIs: []string{e.console.URL + "/"},
			IDTokenAudience:        o.audience,
			TokenAuthMethod:        o.tokenAuthMethod,
		}},
		IDTokenClaims:    !o.userinfoOnly,
		TokenAuthMethods: o.advertised,
	})
	if err != nil {
		t.Fatalf("devidp.Start: %v", err)
	}
	t.Cleanup(func() { idp.Close() })
	e.idp = idp

	policy := groupPolicy
	if o.policy != nil {
		policy = *o.policy
	}
	e.cfg = auth.Config{
		Issuer:                idp.Issuer(),
		ClientID:              "console",
		ClientSecret:          "console-secret",
		RedirectURL:           e.console.URL + auth.CallbackPath,
		PostLogoutRedirectURL: e.console.URL + "/",
		SessionKeys:           []auth.KeyPair{keyOld},
		Policy:                policy,
		Registry:              e.reg,
		Now:                   e.clock.Now,
		Logger:                slog.New(slog.NewJSONHandler(e.logs, nil)),
		WriteError:            bff.ErrorWriter(nil),
		Hooks: auth.Hooks{OnLogin: func(outcome string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.outcome = append(e.outcome, outcome)
		}},
	}
	if o.configure != nil {
		o.configure(&e.cfg)
	}
	a, err := auth.New(t.Context(), e.cfg)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	e.auth = a
	handler = consoleHandler(a)
	return e
}

// consoleHandler mounts the handlers the way the BFF does: its no-store,
// security headers, cross-origin protection and error writer.
func consoleHandler(a *auth.Auth) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /auth/login", bff.NoStore(a.HandleLogin()))
	mux.Handle("GET /auth/callback", bff.NoStore(a.HandleCallback()))
	mux.Handle("/auth/logout", bff.NoStore(a.HandleLogout()))
	api := http.NewServeMux()
	api.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		op, _ := auth.OperatorFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(op)
	})
	api.HandleFunc("POST /api/mutate", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "mutated")
	})
	mux.Handle("/api/", bff.NoStore(a.RequireOperator(api)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!doctype html><title>console</title>")
	})
	return bff.Edge(bff.Deps{IdPOrigin: a.IdPOrigin()}, mux)
}

func (e *env) outcomes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.outcome...)
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so each hop of the flow can be inspected.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

func location(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	if resp.StatusCode/100 != 3 {
		t.Fatalf("%s %s: status %d, want a redirect; body: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, bodyOf(t, resp))
	}
	u, err := resp.Location()
	if err != nil {
		t.Fatalf("Location of %s: %v", resp.Request.URL, err)
	}
	return u
}

// startLogin GETs /auth/login and returns the authorize URL it redirects to.
func (e *env) startLogin(t *testing.T, c *http.Client, returnTo string) *url.URL {
	t.Helper()
	u := e.console.URL + auth.LoginPath
	if returnTo != "" {
		u += "?return_to=" + url.QueryEscape(returnTo)
	}
	return location(t, get(t, c, u))
}

var authRequestIDRE = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// idpLogin drives the dev IdP: authorize, the login form, the password POST;
// it returns the IdP's final redirect (normally the console's callback URL
// with code and state).
func idpLogin(t *testing.T, c *http.Client, authorize *url.URL, username, password string) *url.URL {
	t.Helper()
	formURL := location(t, get(t, c, authorize.String()))
	formURL = authorize.ResolveReference(formURL)
	form := get(t, c, formURL.String())
	m := authRequestIDRE.FindStringSubmatch(bodyOf(t, form))
	if m == nil {
		t.Fatalf("login form at %s has no authRequestID; body: %s", formURL, bodyOf(t, form))
	}
	for _, field := range []string{`name="username"`, `name="password"`, `type="submit"`} {
		if !strings.Contains(bodyOf(t, form), field) {
			t.Errorf("login form lacks %s", field)
		}
	}
	resp, err := c.PostForm(formURL.ResolveReference(&url.URL{Path: "/login/username"}).String(), url.Values{
		"authRequestID": {m[1]}, "username": {username}, "password": {password},
	})
	if err != nil {
		t.Fatalf("POST login form: %v", err)
	}
	resp.Body.Close()
	next := formURL.ResolveReference(location(t, resp)) // the IdP's authorize callback
	return next.ResolveReference(location(t, get(t, c, next.String())))
}

// login runs a whole login and returns the console's callback response.
func (e *env) login(t *testing.T, c *http.Client, username, password, returnTo string) *http.Response {
	t.Helper()
	cb := idpLogin(t, c, e.startLogin(t, c, returnTo), username, password)
	if !strings.HasPrefix(cb.String(), e.console.URL+auth.CallbackPath) {
		t.Fatalf("IdP redirected to %s, want the console's callback", cb)
	}
	return get(t, c, cb.String())
}

// mustLogin logs username in and checks the redirect back into the console.
func (e *env) mustLogin(t *testing.T, c *http.Client, username, password string) {
	t.Helper()
	resp := e.login(t, c, username, password, "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("callback for %s: status %d, want 302; body: %s", username, resp.StatusCode, bodyOf(t, resp))
	}
}

// me calls GET /api/me and returns the status and the operator.
func (e *env) me(t *testing.T, c *http.Client) (int, auth.Operator) {
	t.Helper()
	resp := get(t, c, e.console.URL+"/api/me")
	var op auth.Operator
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&op); err != nil {
			t.Fatalf("decode /api/me: %v", err)
		}
	}
	return resp.StatusCode, op
}

// cookieNamed returns the Set-Cookie of the response with that name.
func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// flowCookieName is the name of the flow cookie of the login with this state.
func flowCookieName(t *testing.T, state string) string {
	t.Helper()
	if len(state) < 12 {
		t.Fatalf("state %q is too short to name a flow cookie", state)
	}
	return auth.FlowCookieName + "-" + state[:12]
}

// flowCookies returns the flow cookies in the client's jar for the console.
func (e *env) flowCookies(t *testing.T, c *http.Client) []*http.Cookie {
	t.Helper()
	u, _ := url.Parse(e.console.URL)
	var out []*http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, auth.FlowCookieName) {
			out = append(out, ck)
		}
	}
	return out
}

// decodeCookie opens a cookie value with the test keys.
func decodeCookie(t *testing.T, name, value string, keys ...auth.KeyPair) map[any]any {
	t.Helper()
	var codecs []securecookie.Codec
	for _, k := range keys {
		codecs = append(codecs, securecookie.New(k.Hash, k.Block))
	}
	m := map[any]any{}
	if err := securecookie.DecodeMulti(name, value, &m, codecs...); err != nil {
		t.Fatalf("decode cookie %s: %v", name, err)
	}
	return m
}

// sessionCookie returns the console session cookie in the client's jar.
func (e *env) sessionCookie(t *testing.T, c *http.Client) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(e.console.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == auth.SessionCookieName {
			return ck
		}
	}
	return nil
}

func (e *env) activeSessions(t *testing.T) int {
	t.Helper()
	return e.auth.ActiveSessions(context.Background())
}
