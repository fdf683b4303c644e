package devidp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/timconsole/timconsole/server/devidp"
)

const redirect = "http://127.0.0.1:8080/auth/callback"

var users = []devidp.User{
	{Username: "alice", Password: "alice-pw", Email: "alice@ops.example", EmailVerified: true, Name: "Alice", Groups: []string{"ops-admins"}},
	{Username: "mallory", Password: "mallory-pw", Email: "mallory@sales.example", EmailVerified: true, Name: "Mallory", Groups: []string{"sales"}},
}

var client = devidp.Client{
	ID: "console", Secret: "console-secret",
	RedirectURIs:           []string{redirect},
	PostLogoutRedirectURIs: []string{"http://127.0.0.1:8080/"},
}

func mustStart(t *testing.T, idTokenClaims bool) *devidp.Server {
	t.Helper()
	s, err := devidp.Start(t.Context(), devidp.Config{Users: users, Clients: []devidp.Client{client}, IDTokenClaims: idTokenClaims})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rp is a minimal relying party: x/oauth2 + go-oidc against the server.
type rp struct {
	srv      *devidp.Server
	provider *oidc.Provider
	oauth    oauth2.Config
	http     *http.Client
}

func newRP(t *testing.T, s *devidp.Server) *rp {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	jar, _ := cookiejar.New(nil)
	hc.Jar = jar
	p, err := oidc.NewProvider(oidc.ClientContext(t.Context(), hc), s.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &rp{srv: s, provider: p, http: hc, oauth: oauth2.Config{
		ClientID: client.ID, ClientSecret: client.Secret, Endpoint: p.Endpoint(), RedirectURL: redirect,
		Scopes: []string{"openid", "email", "profile", "groups"},
	}}
}

func (r *rp) ctx(t *testing.T) context.Context { return oidc.ClientContext(t.Context(), r.http) }

func (r *rp) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := r.http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var idRE = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// authorize follows the authorize URL to the login form and submits it; it
// returns the final redirect (to the client's redirect URI) and the body of
// the last IdP page.
func (r *rp) authorize(t *testing.T, authURL, username, password string) (*url.URL, string) {
	t.Helper()
	resp, body := r.get(t, authURL)
	if resp.StatusCode != http.StatusFound {
		return nil, body
	}
	form, _ := resp.Location()
	resp, body = r.get(t, form.String())
	m := idRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no login form at %s: %d %s", form, resp.StatusCode, body)
	}
	resp, err := r.http.PostForm(r.srv.Issuer()+"/login/username", url.Values{"authRequestID": {m[1]}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, string(b)
	}
	next, _ := resp.Location()
	resp, body = r.get(t, form.ResolveReference(next).String())
	if resp.StatusCode != http.StatusFound {
		return nil, body
	}
	loc, _ := resp.Location()
	return loc, body
}

// login runs authorize for username and returns the code.
func (r *rp) login(t *testing.T, username, password, verifier, nonce string) string {
	t.Helper()
	loc, body := r.authorize(t, r.oauth.AuthCodeURL("st", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), username, password)
	if loc == nil || !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("login as %s did not come back to the client: %v %s", username, loc, body)
	}
	if loc.Query().Get("state") != "st" {
		t.Errorf("state = %q, want st", loc.Query().Get("state"))
	}
	return loc.Query().Get("code")
}

type claims struct {
	Sub           string   `json:"sub"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
	Nonce         string   `json:"nonce"`
	AZP           string   `json:"azp"`
}

func TestCodeFlowWithGroups(t *testing.T) {
	s := mustStart(t, true)
	if !strings.HasPrefix(s.Issuer(), "http://localhost:") {
		t.Errorf("Issuer = %q, want http://localhost:<port>", s.Issuer())
	}
	r := newRP(t, s)
	verifier := oauth2.GenerateVerifier()
	code := r.login(t, "alice", "alice-pw", verifier, "n-1")
	tok, err := r.oauth.Exchange(r.ctx(t), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if exp := time.Until(tok.Expiry); exp < 4*time.Minute || exp > 6*time.Minute {
		t.Errorf("access token expires in %v, want about 5 minutes", exp)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.provider.Verifier(&oidc.Config{ClientID: client.ID}).Verify(r.ctx(t), raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil || idt.AccessTokenHash == "" {
		t.Errorf("at_hash %q: %v", idt.AccessTokenHash, err)
	}
	var got claims
	idt.Claims(&got)
	want := claims{Sub: "u-alice", Email: "alice@ops.example", EmailVerified: true, Name: "Alice", Groups: []string{"ops-admins"}, Nonce: "n-1", AZP: "console"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ID token claims (-want +got):\n%s", diff)
	}
	ui, err := r.provider.UserInfo(r.ctx(t), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	var uc claims
	ui.Claims(&uc)
	if diff := cmp.Diff(claims{Sub: "u-alice", Email: "alice@ops.example", EmailVerified: true, Name: "Alice", Groups: []string{"ops-admins"}}, uc); diff != "" {
		t.Errorf("userinfo (-want +got):\n%s", diff)
	}
	// The code is single-use.
	if _, err := r.oauth.Exchange(r.ctx(t), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Error("a replayed code was exchanged")
	}
}

func TestClaimsOnlyAtUserinfo(t *testing.T) {
	r := newRP(t, mustStart(t, false))
	verifier := oauth2.GenerateVerifier()
	tok, err := r.oauth.Exchange(r.ctx(t), r.login(t, "alice", "alice-pw", verifier, "n"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := r.provider.Verifier(&oidc.Config{ClientID: client.ID}).Verify(r.ctx(t), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var got claims
	idt.Claims(&got)
	if got.Email != "" || got.Groups != nil || got.Name != "" {
		t.Errorf("ID token carries userinfo claims: %+v", got)
	}
	ui, err := r.provider.UserInfo(r.ctx(t), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var uc claims
	ui.Claims(&uc)
	if uc.Sub != got.Sub || uc.Email != "alice@ops.example" || !slices.Equal(uc.Groups, []string{"ops-admins"}) {
		t.Errorf("userinfo = %+v", uc)
	}
}

func TestNegativeChecks(t *testing.T) {
	s := mustStart(t, true)
	r := newRP(t, s)
	t.Run("WrongPassword", func(t *testing.T) {
		loc, body := r.authorize(t, r.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice", "wrong")
		if loc != nil || !strings.Contains(body, "username or password wrong") {
			t.Errorf("wrong password: redirected to %v, body %q", loc, body)
		}
	})
	t.Run("UnknownUser", func(t *testing.T) {
		loc, body := r.authorize(t, r.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "nobody", "alice-pw")
		if loc != nil || !strings.Contains(body, "username or password wrong") {
			t.Errorf("unknown user: redirected to %v", loc)
		}
	})
	t.Run("UnregisteredRedirectURI", func(t *testing.T) {
		for _, bad := range []string{redirect + "/x", redirect + "?a=1", "http://127.0.0.1:8081/auth/callback", "http://evil.example/auth/callback"} {
			o := r.oauth
			o.RedirectURL = bad
			resp, _ := r.get(t, o.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, bad) || strings.Contains(loc, "code=") {
				t.Errorf("redirect_uri %s: IdP redirected to %s", bad, loc)
			}
		}
	})
	t.Run("PKCERequired", func(t *testing.T) {
		resp, _ := r.get(t, r.oauth.AuthCodeURL("st"))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "invalid_request" || strings.Contains(loc.String(), "code=") {
			t.Errorf("authorize without PKCE: %v, want error=invalid_request", loc)
		}
		resp, _ = r.get(t, r.oauth.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", "abc"), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
		if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") == "" {
			t.Errorf("authorize with plain PKCE: %v, want an error", loc)
		}
	})
	t.Run("MissingOrWrongVerifier", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := r.login(t, "alice", "alice-pw", verifier, "n")
		if _, err := r.oauth.Exchange(r.ctx(t), code); err == nil {
			t.Error("exchange without verifier succeeded")
		}
		code = r.login(t, "alice", "alice-pw", verifier, "n")
		if _, err := r.oauth.Exchange(r.ctx(t), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Error("exchange with a wrong verifier succeeded")
		}
	})
	t.Run("WrongClientSecret", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := r.login(t, "alice", "alice-pw", verifier, "n")
		o := r.oauth
		o.ClientSecret = "console-secreT"
		if _, err := o.Exchange(r.ctx(t), code, oauth2.VerifierOption(verifier)); err == nil {
			t.Error("exchange with a wrong client secret succeeded")
		}
	})
	t.Run("PromptNone", func(t *testing.T) {
		resp, _ := r.get(t, r.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
		if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "login_required" {
			t.Errorf("prompt=none: %v, want error=login_required", loc)
		}
	})
}

func TestEndSession(t *testing.T) {
	s := mustStart(t, true)
	r := newRP(t, s)
	verifier := oauth2.GenerateVerifier()
	tok, err := r.oauth.Exchange(r.ctx(t), r.login(t, "alice", "alice-pw", verifier, "n"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	r.provider.Claims(&meta)
	if meta.EndSession == "" {
		t.Fatal("no end_session_endpoint")
	}
	endURL := func(postLogout string) string {
		return meta.EndSession + "?" + url.Values{
			"id_token_hint": {tok.Extra("id_token").(string)}, "client_id": {"console"}, "post_logout_redirect_uri": {postLogout},
		}.Encode()
	}
	resp, _ := r.get(t, endURL("http://127.0.0.1:8080/"))
	if loc := resp.Header.Get("Location"); loc != "http://127.0.0.1:8080/" {
		t.Errorf("end_session with the registered URI redirected to %q", loc)
	}
	resp, _ = r.get(t, endURL("http://evil.example/"))
	if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "http://evil.example") {
		t.Errorf("end_session followed an unregistered post_logout_redirect_uri: %s", loc)
	}
	// The access token is gone with the session.
	if _, err := r.provider.UserInfo(r.ctx(t), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo accepted the access token after end_session")
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.com:0", "127.0.0.1"} {
		if s, err := devidp.Start(t.Context(), devidp.Config{Addr: addr, Users: users, Clients: []devidp.Client{client}}); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded, want a refusal", addr)
		}
	}
	if s, err := devidp.Start(t.Context(), devidp.Config{IssuerHost: "idp.example", Users: users, Clients: []devidp.Client{client}}); err == nil {
		s.Close()
		t.Error("Start with a non-loopback issuer host succeeded")
	}
	s, err := devidp.Start(t.Context(), devidp.Config{Addr: "localhost:0", Users: users, Clients: []devidp.Client{client}})
	if err != nil {
		t.Fatalf("Start(localhost:0) = %v", err)
	}
	s.Close()
}

func TestRandomKeysAtEveryStart(t *testing.T) {
	kids := map[string]bool{}
	for range 2 {
		s := mustStart(t, true)
		resp, err := http.Get(s.Issuer() + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
				N   string `json:"n"`
			} `json:"keys"`
		}
		json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if len(set.Keys) != 1 {
			t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
		}
		if kids[set.Keys[0].Kid] || kids[set.Keys[0].N] {
			t.Error("signing key repeated across starts")
		}
		kids[set.Keys[0].Kid], kids[set.Keys[0].N] = true, true
	}
}

func TestCloseAndContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := devidp.Start(ctx, devidp.Config{Users: users, Clients: []devidp.Client{client}})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := http.Get(s.Issuer() + "/.well-known/openid-configuration"); err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := http.Get(s.Issuer() + "/.well-known/openid-configuration"); err == nil {
		t.Error("server still answers after its context ended")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after ctx end = %v", err)
	}
}

func TestLoadFixture(t *testing.T) {
	f, err := devidp.LoadFixture(strings.NewReader(`{"users":[{"username":"a","password":"p","email":"a@x.example","email_verified":true,"name":"A","groups":["g"]}],
		"clients":[{"id":"c","secret":"s","redirect_uris":["http://127.0.0.1:1/cb"],"post_logout_redirect_uris":["http://127.0.0.1:1/"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &devidp.Fixture{
		Users:   []devidp.User{{Username: "a", Password: "p", Email: "a@x.example", EmailVerified: true, Name: "A", Groups: []string{"g"}}},
		Clients: []devidp.Client{{ID: "c", Secret: "s", RedirectURIs: []string{"http://127.0.0.1:1/cb"}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:1/"}}},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("LoadFixture (-want +got):\n%s", diff)
	}
	if _, err := devidp.LoadFixture(strings.NewReader(`{"users":[{"username":"a","email_verfied":true}]}`)); err == nil {
		t.Error("a misspelled field was accepted")
	}
	_, err = devidp.Start(t.Context(), devidp.Config{Users: []devidp.User{{Username: "a"}}, Clients: []devidp.Client{{ID: "c"}}})
	if err == nil || !strings.Contains(err.Error(), "password") || !strings.Contains(err.Error(), "redirect URI") {
		t.Errorf("Start with an incomplete fixture = %v, want every problem listed", err)
	}
}

func TestDemoFixture(t *testing.T) {
	us, c, pw := devidp.DemoFixture("http://127.0.0.1:8080/")
	groups := map[string][]string{}
	for _, u := range us {
		groups[u.Username] = u.Groups
		if pw[u.Username] != u.Password || len(u.Password) < 12 || !u.EmailVerified {
			t.Errorf("demo user %s: password %q (map %q), verified %v", u.Username, u.Password, pw[u.Username], u.EmailVerified)
		}
	}
	want := map[string][]string{"alice": {"ops-admins"}, "bob": {"ops-readonly"}, "mallory": {"sales"}}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("demo groups (-want +got):\n%s", diff)
	}
	if c.RedirectURIs[0] != "http://127.0.0.1:8080/auth/callback" || c.Secret == "" {
		t.Errorf("demo client redirect %v, secret set %v", c.RedirectURIs, c.Secret != "")
	}
	// The console's signed-out page, and its root for consoles configured before it.
	if diff := cmp.Diff([]string{"http://127.0.0.1:8080/signed-out", "http://127.0.0.1:8080/"}, c.PostLogoutRedirectURIs); diff != "" {
		t.Errorf("demo post-logout URIs (-want +got):\n%s", diff)
	}
	_, c2, pw2 := devidp.DemoFixture("http://127.0.0.1:8080")
	if c2.Secret == c.Secret || pw2["alice"] == pw["alice"] {
		t.Error("demo secrets repeat across calls")
	}
	// The demo fixture starts and logs alice in.
	s, err := devidp.Start(t.Context(), devidp.Config{Users: us, Clients: []devidp.Client{c}, IDTokenClaims: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
}
