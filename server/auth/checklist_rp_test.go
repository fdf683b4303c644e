package auth_test

// Plain-HTTP relying-party tests: full logins against the dev IdP through the
// real handlers, with a cookie-jar client standing in for the browser.

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/timconsole/timconsole/server/auth"
)

// Checklist 1: the authorize URL.
func TestChecklist01_AuthorizeURL(t *testing.T) {
	e := newEnv(t, envOptions{})
	seen := map[string]bool{}
	for i := range 2 {
		c := browser(t)
		resp := get(t, c, e.console.URL+auth.LoginPath)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET /auth/login: status %d, want 302", resp.StatusCode)
		}
		loc := location(t, resp)
		if !strings.HasPrefix(loc.String(), e.idp.Issuer()+"/") {
			t.Errorf("authorize URL %s is not at the IdP %s", loc, e.idp.Issuer())
		}
		q := loc.Query()
		for k, want := range map[string]string{
			"response_type":         "code",
			"code_challenge_method": "S256",
			"client_id":             "console",
			"redirect_uri":          e.console.URL + auth.CallbackPath,
		} {
			if got := q.Get(k); got != want {
				t.Errorf("login %d: %s = %q, want %q", i, k, got, want)
			}
		}
		if scopes := strings.Fields(q.Get("scope")); !cmp.Equal(scopes, []string{"openid", "email", "profile", "groups"}) {
			t.Errorf("scope = %v", scopes)
		}
		if q.Has("response_mode") {
			t.Errorf("response_mode = %q, want the default query mode (form_post would be a cross-site POST)", q.Get("response_mode"))
		}
		for _, k := range []string{"state", "nonce"} {
			raw, err := base64.RawURLEncoding.DecodeString(q.Get(k))
			if err != nil || len(raw) < 16 {
				t.Errorf("%s = %q: want ≥128 random bits, base64url", k, q.Get(k))
			}
			if seen[q.Get(k)] {
				t.Errorf("%s repeated across logins", k)
			}
			seen[q.Get(k)] = true
		}
		challenge := q.Get("code_challenge")
		if len(challenge) != 43 {
			t.Errorf("code_challenge has %d characters, want 43", len(challenge))
		}
		if seen[challenge] {
			t.Error("code_challenge repeated across logins")
		}
		seen[challenge] = true
		// The challenge is derived from the verifier in the encrypted flow
		// cookie, named by the state's prefix.
		fc := cookieNamed(resp, flowCookieName(t, q.Get("state")))
		if fc == nil {
			t.Fatalf("no flow cookie named by the state; Set-Cookie: %q", resp.Header.Values("Set-Cookie"))
		}
		flow := decodeCookie(t, fc.Name, fc.Value, keyOld)
		verifier, _ := flow["verifier"].(string)
		if got := oauth2.S256ChallengeFromVerifier(verifier); got != challenge {
			t.Errorf("code_challenge %q is not S256(verifier from the flow cookie)", challenge)
		}
		if flow["state"] != q.Get("state") || flow["nonce"] != q.Get("nonce") {
			t.Error("flow cookie's state/nonce differ from the authorize URL's")
		}
		// Flow cookie: one-shot, 10 minutes, Lax (Strict would not come back from a cross-site IdP).
		if fc.MaxAge != 600 || fc.SameSite != http.SameSiteLaxMode || !fc.Secure || !fc.HttpOnly || fc.Path != "/" || fc.Domain != "" {
			t.Errorf("flow cookie attributes = %+v", fc)
		}
	}
}

// Checklist 2: wrong state, missing flow cookie and old flow cookie.
func TestChecklist02_CallbackFlowChecks(t *testing.T) {
	e := newEnv(t, envOptions{})
	refused := func(t *testing.T, resp *http.Response, wantStatus int) {
		t.Helper()
		if resp.StatusCode != wantStatus {
			t.Errorf("callback status = %d, want %d; body: %s", resp.StatusCode, wantStatus, bodyOf(t, resp))
		}
		if ck := cookieNamed(resp, auth.SessionCookieName); ck != nil {
			t.Errorf("callback set a session cookie: %v", ck)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("callback redirected to %s; an error must not loop", loc)
		}
	}
	// check also wants the flow cookie named by the callback's state deleted.
	check := func(t *testing.T, resp *http.Response, wantStatus int) {
		t.Helper()
		refused(t, resp, wantStatus)
		name := flowCookieName(t, resp.Request.URL.Query().Get("state"))
		if fc := cookieNamed(resp, name); fc == nil || fc.MaxAge >= 0 {
			t.Errorf("flow cookie %s not deleted: %v", name, fc)
		}
	}
	t.Run("WrongState", func(t *testing.T) {
		// Same prefix (so the login's flow cookie is picked), different rest:
		// the full state is compared.
		c := browser(t)
		cb := idpLogin(t, c, e.startLogin(t, c, ""), "alice", "alice-pw")
		q := cb.Query()
		q.Set("state", q.Get("state")[:12]+"attacker-state-0123456789abcdef")
		cb.RawQuery = q.Encode()
		check(t, get(t, c, cb.String()), http.StatusBadRequest)
	})
	t.Run("UnknownState", func(t *testing.T) {
		c := browser(t)
		cb := idpLogin(t, c, e.startLogin(t, c, ""), "alice", "alice-pw")
		q := cb.Query()
		q.Set("state", "attacker-state")
		cb.RawQuery = q.Encode()
		check(t, get(t, c, cb.String()), http.StatusBadRequest)
	})
	for _, state := range []string{"", "short", "not base64url!", "../../etc;x=1"} {
		t.Run("MalformedState/"+state, func(t *testing.T) {
			c := browser(t)
			cb := idpLogin(t, c, e.startLogin(t, c, ""), "alice", "alice-pw")
			q := cb.Query()
			q.Set("state", state)
			cb.RawQuery = q.Encode()
			resp := get(t, c, cb.String())
			refused(t, resp, http.StatusBadRequest)
			for _, raw := range resp.Header.Values("Set-Cookie") {
				if strings.HasPrefix(raw, auth.FlowCookieName) {
					t.Errorf("a malformed state named a cookie: %s", raw)
				}
			}
		})
	}
	t.Run("MissingFlowCookie", func(t *testing.T) {
		c := browser(t)
		cb := idpLogin(t, c, e.startLogin(t, c, ""), "alice", "alice-pw")
		check(t, get(t, browser(t), cb.String()), http.StatusBadRequest) // a different browser: no flow cookie
	})
	t.Run("ExpiredFlowCookie", func(t *testing.T) {
		c := browser(t)
		cb := idpLogin(t, c, e.startLogin(t, c, ""), "alice", "alice-pw")
		e.clock.Advance(11 * time.Minute)
		defer e.clock.Advance(-11 * time.Minute)
		check(t, get(t, c, cb.String()), http.StatusBadRequest)
	})
	t.Run("FlowCookieFromAnotherKey", func(t *testing.T) {
		c := browser(t)
		cb := idpLogin(t, c, e.startLogin(t, c, ""), "alice", "alice-pw")
		u, _ := url.Parse(e.console.URL)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: flowCookieName(t, cb.Query().Get("state")), Value: "forged", Path: "/"}})
		check(t, get(t, c, cb.String()), http.StatusBadRequest)
	})
	if n := e.activeSessions(t); n != 0 {
		t.Errorf("ActiveSessions = %d, want 0", n)
	}
	for _, o := range e.outcomes() {
		if o != auth.OutcomeBadFlow {
			t.Errorf("outcome %q, want %q", o, auth.OutcomeBadFlow)
		}
	}
}

// Checklist 3: the BFF sends the PKCE verifier, and codes are single-use.
func TestChecklist03_PKCEAndCodeReplay(t *testing.T) {
	e := newEnv(t, envOptions{})
	t.Run("ReplayedCode", func(t *testing.T) {
		c := browser(t)
		cb := idpLogin(t, c, e.startLogin(t, c, ""), "alice", "alice-pw")
		consoleURL, _ := url.Parse(e.console.URL)
		flow := append([]*http.Cookie(nil), c.Jar.Cookies(consoleURL)...)
		if resp := get(t, c, cb.String()); resp.StatusCode != http.StatusFound {
			t.Fatalf("first callback: status %d, want 302", resp.StatusCode)
		}
		// Replay the same code with the same (captured) flow cookie.
		replay := browser(t)
		replay.Jar.SetCookies(consoleURL, flow)
		resp := get(t, replay, cb.String())
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("replayed code: status %d, want 401; body: %s", resp.StatusCode, bodyOf(t, resp))
		}
		if ck := cookieNamed(resp, auth.SessionCookieName); ck != nil {
			t.Errorf("replay got a session cookie")
		}
	})
	t.Run("WrongVerifier", func(t *testing.T) {
		// An attacker swaps the challenge: the BFF's verifier no longer matches.
		c := browser(t)
		authz := e.startLogin(t, c, "")
		q := authz.Query()
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
		authz.RawQuery = q.Encode()
		resp := get(t, c, idpLogin(t, c, authz, "alice", "alice-pw").String())
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("mismatched verifier: status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("MissingChallenge", func(t *testing.T) {
		c := browser(t)
		authz := e.startLogin(t, c, "")
		q := authz.Query()
		q.Del("code_challenge")
		q.Del("code_challenge_method")
		authz.RawQuery = q.Encode()
		// The dev IdP requires PKCE and sends the browser back with an error.
		cb := location(t, get(t, c, authz.String()))
		if got := cb.Query().Get("error"); got != "invalid_request" {
			t.Fatalf("IdP answer to an authorize request without PKCE: error=%q, want invalid_request", got)
		}
		resp := get(t, c, cb.String())
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" {
			t.Errorf("callback with error=invalid_request: status %d location %q, want 401 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	if n := e.activeSessions(t); n != 1 {
		t.Errorf("ActiveSessions = %d, want 1 (the first, legitimate login)", n)
	}
}

// Checklist 4 against the dev IdP: nonce mismatch and wrong audience in a
// full login.
func TestChecklist04_IDTokenRejectionsFullFlow(t *testing.T) {
	t.Run("NonceMismatch", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		c := browser(t)
		authz := e.startLogin(t, c, "")
		q := authz.Query()
		q.Set("nonce", "nonce-of-another-login-0123456789abcdef")
		authz.RawQuery = q.Encode()
		resp := get(t, c, idpLogin(t, c, authz, "alice", "alice-pw").String())
		assertRefused(t, e, resp, http.StatusUnauthorized, "nonce mismatch")
	})
	t.Run("WrongAudience", func(t *testing.T) {
		e := newEnv(t, envOptions{audience: []string{"some-other-client"}})
		resp := e.login(t, browser(t), "alice", "alice-pw", "")
		assertRefused(t, e, resp, http.StatusUnauthorized, "expected audience")
	})
}

// Checklist 24 against the dev IdP: the console's clock is past the token's
// 5-minute lifetime (but within the 10-minute flow).
func TestChecklist24_ExpiredIDTokenFullFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	cb := idpLogin(t, c, e.startLogin(t, c, ""), "alice", "alice-pw")
	e.clock.Advance(6 * time.Minute)
	resp := get(t, c, cb.String())
	assertRefused(t, e, resp, http.StatusUnauthorized, "expired")
}

func assertRefused(t *testing.T, e *env, resp *http.Response, status int, why string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("callback status = %d, want %d; body: %s", resp.StatusCode, status, bodyOf(t, resp))
	}
	if ck := cookieNamed(resp, auth.SessionCookieName); ck != nil {
		t.Errorf("a refused login set a session cookie")
	}
	if n := e.activeSessions(t); n != 0 {
		t.Errorf("ActiveSessions = %d, want 0", n)
	}
	recs := e.logs.records(t, "login.failed")
	if len(recs) != 1 {
		t.Fatalf("login.failed records: %v, want 1", recs)
	}
	if got, _ := recs[0]["err"].(string); !strings.Contains(got, why) {
		t.Errorf("refused because %q, want %q", got, why)
	}
}

// Checklist 6 (plain-HTTP variant): error=access_denied from the IdP shows an
// error page and does not redirect back to the IdP.
func TestChecklist06_IdPErrorShowsPageWithoutLoop(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	authz := e.startLogin(t, c, "")
	cb := e.console.URL + auth.CallbackPath + "?" + url.Values{
		"error":             {"access_denied"},
		"error_description": {"the user declined"},
		"state":             {authz.Query().Get("state")},
	}.Encode()
	resp := get(t, c, cb)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("redirected to %s, want an error page", loc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want an HTML page", ct)
	}
	if body := bodyOf(t, resp); !strings.Contains(body, "access_denied") || strings.Contains(body, "<script") {
		t.Errorf("error page body: %s", body)
	}
	if got := e.outcomes(); !cmp.Equal(got, []string{auth.OutcomeIdPError}) {
		t.Errorf("outcomes = %v", got)
	}
}

// Checklist 7 (plain-HTTP variant): mallory (sales) is refused with a clear
// 403 page and no session cookie.
func TestChecklist07_DeniedUserGets403AndNoSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	resp := e.login(t, c, "mallory", "mallory-pw", "/apps")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", resp.StatusCode)
	}
	body := bodyOf(t, resp)
	for _, want := range []string{"mallory@sales.example", "not a member of an allowed group"} {
		if !strings.Contains(body, want) {
			t.Errorf("403 page lacks %q: %s", want, body)
		}
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == auth.SessionCookieName {
			t.Errorf("403 answer set a session cookie")
		}
	}
	if e.sessionCookie(t, c) != nil {
		t.Error("the client holds a session cookie after a denial")
	}
	if n := e.activeSessions(t); n != 0 {
		t.Errorf("ActiveSessions = %d, want 0", n)
	}
	if status, _ := e.me(t, c); status != http.StatusUnauthorized {
		t.Errorf("/api/me after denial: %d, want 401", status)
	}
	recs := e.logs.records(t, "login.denied")
	if len(recs) != 1 || recs[0]["reason"] != "not a member of an allowed group" || recs[0]["sub"] != "u-mallory" {
		t.Errorf("audit login.denied = %v", recs)
	}
}

// Checklist 8 (full flow): a domain policy refuses an unverified email.
func TestChecklist08_UnverifiedEmailDeniedFullFlow(t *testing.T) {
	e := newEnv(t, envOptions{policy: &auth.Policy{Domains: []string{"OPS.example"}}})
	resp := e.login(t, browser(t), "eve", "eve-pw", "")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("eve (unverified): status %d, want 403", resp.StatusCode)
	}
	if body := bodyOf(t, resp); !strings.Contains(body, "not verified") {
		t.Errorf("403 page does not give the reason: %s", body)
	}
	e.mustLogin(t, browser(t), "alice", "alice-pw") // Alice@Ops.Example, verified: case-insensitive domain
	if resp := e.login(t, browser(t), "mallory", "mallory-pw", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("mallory (other domain): status %d, want 403", resp.StatusCode)
	}
}

// Checklist 9: with claims only at userinfo the BFF still authorizes.
func TestChecklist09_UserinfoFallback(t *testing.T) {
	e := newEnv(t, envOptions{userinfoOnly: true})
	c := browser(t)
	e.mustLogin(t, c, "alice", "alice-pw")
	status, op := e.me(t, c)
	want := auth.Operator{Subject: "u-alice", Email: "Alice@Ops.Example", Name: "Alice", Groups: []string{"ops-admins"}}
	if status != http.StatusOK || !cmp.Equal(op, want) {
		t.Errorf("/api/me = %d %+v, want 200 %+v", status, op, want)
	}
	if resp := e.login(t, browser(t), "mallory", "mallory-pw", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("mallory via userinfo: status %d, want 403", resp.StatusCode)
	}
}

// Checklist 11 (plain-HTTP variant): session cookie attributes, size and
// contents.
func TestChecklist11_SessionCookie(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	resp := e.login(t, c, "alice", "alice-pw", "")
	ck := cookieNamed(resp, auth.SessionCookieName)
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if !strings.HasPrefix(ck.Name, "__Host-") || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("session cookie attributes = %+v", ck)
	}
	for _, raw := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(raw, auth.SessionCookieName+"=") && len(raw) >= 512 {
			t.Errorf("Set-Cookie is %d bytes, want < 512", len(raw))
		}
		if strings.Contains(strings.ToLower(raw), "domain=") {
			t.Errorf("Set-Cookie has a Domain: %s", raw)
		}
	}
	if n := len(ck.Name) + 1 + len(ck.Value); n >= 512 {
		t.Errorf("cookie name+value is %d bytes, want < 512", n)
	}
	got := decodeCookie(t, auth.SessionCookieName, ck.Value, keyOld)
	if len(got) != 1 || got["sid"] == nil {
		t.Errorf("session cookie holds %v, want only sid", got)
	}
	if sid, _ := got["sid"].(string); len(sid) < 43 {
		t.Errorf("sid %q is shorter than 256 bits", sid)
	}
	for _, leak := range []string{"alice", "ops-admins", "eyJ"} {
		for _, raw := range resp.Header.Values("Set-Cookie") {
			if strings.Contains(strings.ToLower(raw), leak) {
				t.Errorf("a cookie contains %q: %s", leak, raw)
			}
		}
	}
	if fc := cookieNamed(resp, flowCookieName(t, resp.Request.URL.Query().Get("state"))); fc == nil || fc.MaxAge >= 0 {
		t.Errorf("flow cookie not deleted at the callback: %v", fc)
	}
}

// Checklist 12: a session ID planted before login is not adopted, and the
// session presented at login is deleted.
func TestChecklist12_SessionIDRenewedAtLogin(t *testing.T) {
	e := newEnv(t, envOptions{})
	planted, err := e.auth.MintSession(t.Context(), auth.Operator{Subject: "u-planted"})
	if err != nil {
		t.Fatal(err)
	}
	c := browser(t)
	u, _ := url.Parse(e.console.URL)
	c.Jar.SetCookies(u, []*http.Cookie{planted})
	e.mustLogin(t, c, "alice", "alice-pw")
	now := e.sessionCookie(t, c)
	if now == nil || now.Value == planted.Value {
		t.Fatal("session cookie not renewed at login")
	}
	oldSID := decodeCookie(t, auth.SessionCookieName, planted.Value, keyOld)["sid"].(string)
	newSID := decodeCookie(t, auth.SessionCookieName, now.Value, keyOld)["sid"].(string)
	if oldSID == newSID {
		t.Error("session ID unchanged by login")
	}
	if _, err := e.reg.Get(t.Context(), oldSID); err == nil {
		t.Error("the planted session is still in the registry")
	}
	if got := apiStatus(t, e.console.URL, planted); got != http.StatusUnauthorized {
		t.Errorf("planted cookie after login: status %d, want 401", got)
	}
	if n := e.activeSessions(t); n != 1 {
		t.Errorf("ActiveSessions = %d, want 1", n)
	}
}

// Checklist 15 (plain-HTTP variant): logout is POST only, deletes the
// session, and goes through the IdP's end_session back to the console.
func TestChecklist15_Logout(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	e.mustLogin(t, c, "alice", "alice-pw")
	old := e.sessionCookie(t, c)

	if resp := get(t, c, e.console.URL+auth.LogoutPath); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/logout: status %d, want 405", resp.StatusCode)
	}
	if status, _ := e.me(t, c); status != http.StatusOK {
		t.Fatalf("after GET /auth/logout the session is gone: %d", status)
	}

	req, _ := http.NewRequest(http.MethodPost, e.console.URL+auth.LogoutPath, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /auth/logout: status %d, want 303", resp.StatusCode)
	}
	end := location(t, resp)
	q := end.Query()
	if !strings.HasPrefix(end.String(), e.idp.Issuer()+"/end_session?") {
		t.Errorf("logout redirect = %s, want the IdP's end_session_endpoint", end)
	}
	if q.Get("id_token_hint") == "" || q.Get("client_id") != "console" || q.Get("post_logout_redirect_uri") != e.console.URL+"/" {
		t.Errorf("end_session parameters = %v", q)
	}
	if n := e.activeSessions(t); n != 0 {
		t.Errorf("ActiveSessions after logout = %d, want 0", n)
	}
	if status, _ := e.me(t, c); status != http.StatusUnauthorized {
		t.Errorf("/api/me after logout: %d, want 401", status)
	}
	if got := apiStatus(t, e.console.URL, old); got != http.StatusUnauthorized {
		t.Errorf("replayed old cookie: status %d, want 401", got)
	}
	// The IdP accepts the hint and the registered URI and sends the browser back.
	back := location(t, get(t, c, end.String()))
	if back.String() != e.console.URL+"/" {
		t.Errorf("IdP end_session redirected to %s, want %s", back, e.console.URL+"/")
	}
	// And the next login shows the form again (no SSO session at the dev IdP).
	e.mustLogin(t, c, "alice", "alice-pw")

	// A fetch-based logout gets JSON.
	req, _ = http.NewRequest(http.MethodPost, e.console.URL+auth.LogoutPath, nil)
	req.Header.Set("Accept", "application/json")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := bodyOf(t, resp)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"redirect":"`+e.idp.Issuer()+`/end_session?`) {
		t.Errorf("JSON logout = %d %s", resp.StatusCode, body)
	}
}

// Checklist 16 (plain-HTTP variant): cross-origin unsafe requests to /api/*
// and /auth/logout are refused and change nothing.
func TestChecklist16_CrossOriginRequestsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	e.mustLogin(t, c, "alice", "alice-pw")
	for _, path := range []string{"/api/mutate", auth.LogoutPath} {
		for _, tc := range []struct {
			name        string
			header      map[string]string
			contentType string
			body        string
		}{
			{"TextPlainForm", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:1"}, "text/plain", "x=1"},
			{"NoCorsNoBody", map[string]string{"Sec-Fetch-Site": "same-site"}, "", ""},
			{"NoCorsWithBody", map[string]string{"Sec-Fetch-Site": "cross-site"}, "application/x-www-form-urlencoded", "a=b"},
			{"JSONFetch", map[string]string{"Sec-Fetch-Site": "same-site"}, "application/json", `{"a":1}`},
			{"LegacyOriginOnly", map[string]string{"Origin": "http://localhost:1"}, "application/json", `{}`},
		} {
			req, _ := http.NewRequest(http.MethodPost, e.console.URL+path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := bodyOf(t, resp)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "mutated") {
				t.Errorf("%s POST %s: status %d body %q, want 403", tc.name, path, resp.StatusCode, body)
			}
		}
	}
	if status, _ := e.me(t, c); status != http.StatusOK {
		t.Errorf("the session did not survive the cross-origin attempts: %d", status)
	}
}

// Checklist 21 (full flow): return_to survives the login only when relative.
func TestChecklist21_ReturnToAfterLogin(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct{ in, want string }{
		{"/apps?group=g1", "/apps?group=g1"},
		{"//evil.example", "/"},
		{"https://evil.example", "/"},
		{"/\\evil.example", "/"},
	} {
		resp := e.login(t, browser(t), "alice", "alice-pw", tc.in)
		if got := resp.Header.Get("Location"); got != tc.want {
			t.Errorf("return_to=%q: redirected to %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Checklist 25: the audit log records login success, denial with reason and
// logout, each with the operator's identity, and never a token or cookie.
func TestChecklist25_AuditLog(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	e.mustLogin(t, c, "alice", "alice-pw")
	e.login(t, browser(t), "mallory", "mallory-pw", "")
	req, _ := http.NewRequest(http.MethodPost, e.console.URL+auth.LogoutPath, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	pick := func(recs []map[string]any, keys ...string) []map[string]any {
		var out []map[string]any
		for _, r := range recs {
			m := map[string]any{}
			for _, k := range keys {
				m[k] = r[k]
			}
			out = append(out, m)
		}
		return out
	}
	if diff := cmp.Diff([]map[string]any{{"sub": "u-alice", "email": "Alice@Ops.Example", "level": "INFO"}},
		pick(e.logs.records(t, "login.success"), "sub", "email", "level")); diff != "" {
		t.Errorf("login.success (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]map[string]any{{"sub": "u-mallory", "email": "mallory@sales.example", "reason": "not a member of an allowed group"}},
		pick(e.logs.records(t, "login.denied"), "sub", "email", "reason")); diff != "" {
		t.Errorf("login.denied (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]map[string]any{{"sub": "u-alice", "email": "Alice@Ops.Example"}},
		pick(e.logs.records(t, "logout"), "sub", "email")); diff != "" {
		t.Errorf("logout (-want +got):\n%s", diff)
	}
	logs := e.logs.String()
	for _, secret := range []string{"console-secret", "eyJ", "alice-pw", auth.SessionCookieName} {
		if strings.Contains(logs, secret) {
			t.Errorf("audit log contains %q:\n%s", secret, logs)
		}
	}
	if got := e.outcomes(); !cmp.Equal(got, []string{auth.OutcomeSuccess, auth.OutcomeDenied}) {
		t.Errorf("login outcomes = %v", got)
	}
}

// Checklist 22 (plain-HTTP variant): the CSP's form-action admits the origin
// the logout form is redirected to, so the browser does not block it.
func TestChecklist22_FormActionAllowsLogoutRedirect(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	e.mustLogin(t, c, "alice", "alice-pw")
	req, _ := http.NewRequest(http.MethodPost, e.console.URL+auth.LogoutPath, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	target := location(t, resp)
	var formAction []string
	for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == "form-action" {
			formAction = f[1:]
		}
	}
	origin := target.Scheme + "://" + target.Host
	if !cmp.Equal(formAction, []string{"'self'", origin}) {
		t.Errorf("form-action = %v, want ['self' %s] (the logout redirect goes to %s)", formAction, origin, target)
	}
}

// Several tabs: logins started in one browser at once each keep their own
// flow cookie, so the first one still completes after the second started.
func TestSeveralTabsLogIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	authzA := e.startLogin(t, c, "/apps?tab=a")
	authzB := e.startLogin(t, c, "/apps?tab=b")
	if n := len(e.flowCookies(t, c)); n != 2 {
		t.Fatalf("jar holds %d flow cookies after two logins, want 2", n)
	}
	cbA := idpLogin(t, c, authzA, "alice", "alice-pw")
	cbB := idpLogin(t, c, authzB, "alice", "alice-pw")
	for _, tc := range []struct {
		cb   *url.URL
		want string
	}{
		{cbA, "/apps?tab=a"}, // the first tab, completed after the second started
		{cbB, "/apps?tab=b"},
	} {
		resp := get(t, c, tc.cb.String())
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("callback for %s: status %d, want 302; body: %s", tc.want, resp.StatusCode, bodyOf(t, resp))
		}
		if got := resp.Header.Get("Location"); got != tc.want {
			t.Errorf("callback redirected to %s, want %s", got, tc.want)
		}
		if status, op := e.me(t, c); status != http.StatusOK || op.Subject != "u-alice" {
			t.Errorf("/api/me after the tab of %s = %d %+v, want 200 u-alice", tc.want, status, op)
		}
	}
	if got := e.flowCookies(t, c); len(got) != 0 {
		t.Errorf("flow cookies left after both callbacks: %v", got)
	}
	if got, want := e.outcomes(), []string{auth.OutcomeSuccess, auth.OutcomeSuccess}; !cmp.Equal(got, want) {
		t.Errorf("outcomes (-want +got):\n%s", cmp.Diff(want, got))
	}
	if n := e.activeSessions(t); n != 1 {
		t.Errorf("ActiveSessions = %d, want 1 (the second login replaced the first)", n)
	}
}

// The number of flow cookies a browser holds is capped: the oldest logins
// lose theirs (and fail as "expired"), the newest still complete.
func TestFlowCookieCap(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	var authz []*url.URL
	for i := range 5 {
		authz = append(authz, e.startLogin(t, c, ""))
		if n, want := len(e.flowCookies(t, c)), min(i+1, auth.MaxFlowCookies); n != want {
			t.Errorf("after login %d the jar holds %d flow cookies, want %d", i+1, n, want)
		}
		e.clock.Advance(10 * time.Second)
	}
	var names []string
	for _, ck := range e.flowCookies(t, c) {
		names = append(names, ck.Name)
	}
	var want []string
	for _, a := range authz[2:] {
		want = append(want, flowCookieName(t, a.Query().Get("state")))
	}
	if !cmp.Equal(names, want) {
		t.Errorf("flow cookies in the jar (-want +got):\n%s", cmp.Diff(want, names))
	}
	if resp := get(t, c, idpLogin(t, c, authz[0], "alice", "alice-pw").String()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback of the oldest login: status %d, want 400", resp.StatusCode)
	}
	e.mustLogin(t, c, "alice", "alice-pw") // a sixth login, with the cap reached
	if resp := get(t, c, idpLogin(t, c, authz[4], "alice", "alice-pw").String()); resp.StatusCode != http.StatusFound {
		t.Errorf("callback of the newest login: status %d, want 302; body: %s", resp.StatusCode, bodyOf(t, resp))
	}
}

// The cap expires the flow cookies created first (by the time inside the
// encrypted value, not by the order the browser sends them), and a flow
// cookie that does not decode counts as the oldest.
func TestFlowCookieCapExpiresOldest(t *testing.T) {
	e := newEnv(t, envOptions{})
	u, _ := url.Parse(e.console.URL)
	made := browser(t)
	var flows []*http.Cookie // oldest first
	for range 3 {
		resp := get(t, made, e.console.URL+auth.LoginPath)
		fc := cookieNamed(resp, flowCookieName(t, location(t, resp).Query().Get("state")))
		if fc == nil {
			t.Fatal("no flow cookie")
		}
		flows = append(flows, &http.Cookie{Name: fc.Name, Value: fc.Value, Path: "/"})
		e.clock.Advance(10 * time.Second)
	}
	forged := &http.Cookie{Name: auth.FlowCookieName + "-forgedforged", Value: "forged", Path: "/"}
	for _, tc := range []struct {
		name string
		jar  []*http.Cookie // in the order the browser sends them
		want []string       // expired by the next login
	}{
		{"NewestSentFirst", []*http.Cookie{flows[2], flows[1], flows[0]}, []string{flows[0].Name}},
		{"Forged", []*http.Cookie{flows[2], forged, flows[1]}, []string{forged.Name}},
		{"BelowCap", []*http.Cookie{flows[2], flows[0]}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := browser(t)
			for _, ck := range tc.jar {
				c.Jar.SetCookies(u, []*http.Cookie{ck})
			}
			resp := get(t, c, e.console.URL+auth.LoginPath)
			var expired []string
			for _, ck := range resp.Cookies() {
				if ck.MaxAge < 0 {
					expired = append(expired, ck.Name)
				}
			}
			if !cmp.Equal(expired, tc.want) {
				t.Errorf("expired flow cookies (-want +got):\n%s", cmp.Diff(tc.want, expired))
			}
			if n := len(e.flowCookies(t, c)); n > auth.MaxFlowCookies {
				t.Errorf("jar holds %d flow cookies, want ≤ %d", n, auth.MaxFlowCookies)
			}
		})
	}
}

// The single flow cookie of earlier versions, still in a browser across an
// upgrade, is deleted at the callback and does not hinder the login.
func TestLegacyFlowCookieDeleted(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := browser(t)
	u, _ := url.Parse(e.console.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.FlowCookieName, Value: "from-an-earlier-version", Path: "/"}})
	resp := e.login(t, c, "alice", "alice-pw", "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("callback: status %d, want 302; body: %s", resp.StatusCode, bodyOf(t, resp))
	}
	if fc := cookieNamed(resp, auth.FlowCookieName); fc == nil || fc.MaxAge >= 0 {
		t.Errorf("legacy flow cookie not deleted: %v", fc)
	}
	if got := e.flowCookies(t, c); len(got) != 0 {
		t.Errorf("flow cookies left: %v", got)
	}
}
