//go:build e2e

package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/gorilla/securecookie"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
)

// personal is what must never sit in a cookie: the demo operator's
// identity and groups.
var personal = []string{"alice@ops.example", "Alice Admin", "u-alice", "ops-admins", "mallory@sales.example", "sales"}

// checkSessionCookie is checklist item 11, read through CDP: one session
// cookie, __Host- named, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain,
// under 512 bytes, holding only the session ID; the login-flow cookie gone;
// no identity in any cookie of the console or the IdP.
func checkSessionCookie(t *testing.T, b *browser, s *stack) {
	t.Helper()
	cookies := b.cookies(s.URL)
	if len(cookies) != 1 || cookies[0].Name != auth.SessionCookieName {
		var names []string
		for _, c := range cookies {
			names = append(names, c.Name)
		}
		t.Fatalf("console cookies %v, want only %s (the login-flow cookie must be gone)", names, auth.SessionCookieName)
	}
	c := cookies[0]
	if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
		t.Errorf("session cookie %s: Secure=%v HttpOnly=%v SameSite=%q Path=%q; want __Host-, Secure, HttpOnly, Lax, /", c.Name, c.Secure, c.HTTPOnly, c.SameSite, c.Path)
	}
	if host := strings.TrimPrefix(s.URL, "http://"); c.Domain != strings.Split(host, ":")[0] {
		t.Errorf("session cookie domain %q, want the host-only 127.0.0.1", c.Domain)
	}
	if c.Size >= 512 {
		t.Errorf("session cookie is %d bytes, want under 512", c.Size)
	}
	t.Logf("session cookie: %d bytes", c.Size)

	// The raw Set-Cookie lines carry no Domain attribute.
	domainAttr := regexp.MustCompile(`(?i);\s*domain=`)
	for _, r := range b.received() {
		for _, line := range strings.Split(r.Headers, "\n") {
			if strings.Contains(line, auth.SessionCookieName) && domainAttr.MatchString(line) {
				t.Errorf("%s sets the session cookie with a Domain: %s", r.URL, line)
			}
		}
	}

	// Decoded with the console's keys, the cookie holds the session ID only.
	hash, block := s.sessionKeys()
	var values map[any]any
	if err := securecookie.DecodeMulti(auth.SessionCookieName, c.Value, &values, securecookie.CodecsFromPairs(hash, block)...); err != nil {
		t.Fatalf("decode the session cookie with the console's keys: %v", err)
	}
	var keys []string
	for k := range values {
		keys = append(keys, fmt.Sprint(k))
	}
	if !slices.Equal(keys, []string{"sid"}) {
		t.Errorf("the session cookie holds %v, want only sid", keys)
	}

	for _, ck := range b.cookies(s.URL, s.IdP.Issuer()) {
		raw := ck.Value
		if dec, err := url.QueryUnescape(raw); err == nil {
			raw += " " + dec
		}
		for _, p := range personal {
			if strings.Contains(raw, p) {
				t.Errorf("cookie %s (%s) contains %q", ck.Name, ck.Domain, p)
			}
		}
	}
}

// TestDeniedUser is journey 2 and checklist items 6 and 7: mallory (right
// password, wrong group) gets a clear 403 page and no session cookie; an
// IdP error=access_denied callback shows an error page and does not loop.
func TestDeniedUser(t *testing.T) {
	s := startStack(t, stackOptions{})
	b := newBrowser(t)

	t.Run("wrong group", func(t *testing.T) {
		b := b.in(t)
		b.navigate(s.URL + "/")
		b.signIn(s, "mallory")
		b.waitFor("the 403 page", `document.querySelector('h1') !== null && document.querySelector('h1').textContent === 'Access denied'`, 30*time.Second)
		b.screenshot("1-mallory-403")
		text := eval[string](b, `document.body.innerText`)
		if !strings.Contains(text, "not allowed to use this console") || !strings.Contains(text, "mallory") {
			t.Errorf("the 403 page does not say who and why:\n%s", text)
		}
		if !strings.HasPrefix(b.location(), s.URL+auth.CallbackPath) {
			t.Errorf("denied at %s, want the callback page", b.location())
		}
		if status := lastStatus(b, s.URL+auth.CallbackPath); status != http.StatusForbidden {
			t.Errorf("callback status %d, want 403", status)
		}
		if cks := b.cookies(s.URL); len(cks) != 0 {
			t.Errorf("mallory has console cookies %v, want none", cookieNames(cks))
		}
		for _, ck := range b.cookies(s.URL, s.IdP.Issuer()) {
			for _, p := range personal {
				if strings.Contains(ck.Value, p) {
					t.Errorf("cookie %s contains %q", ck.Name, p)
				}
			}
		}
		if got := eval[int](b, `fetch('/api/me').then(r => r.status)`); got != http.StatusUnauthorized {
			t.Errorf("mallory's /api/me = %d, want 401", got)
		}
	})

	t.Run("IdP access_denied", func(t *testing.T) {
		b := b.in(t)
		b.navigate(s.URL + api.PathLogin + "?return_to=/")
		b.waitFor("the IdP form", `document.querySelector('#username') !== null`, 20*time.Second)
		// The IdP answers the way a provider does when the user refuses
		// consent: with the login's own state (RFC 6749 §4.1.2.1), so the
		// flow cookie matches and only the error decides.
		state := ""
		for _, r := range b.sentRequests() {
			if u, err := url.Parse(r.URL); err == nil && strings.HasPrefix(r.URL, s.IdP.Issuer()) && u.Query().Get("state") != "" {
				state = u.Query().Get("state")
			}
		}
		if state == "" {
			t.Fatal("no authorization request with a state reached the IdP")
		}
		b.navigate(s.URL + auth.CallbackPath + "?error=access_denied&error_description=the+user+said+no&state=" + url.QueryEscape(state))
		b.waitFor("the error page", `document.querySelector('h1') !== null`, 10*time.Second)
		time.Sleep(time.Second) // a loop back to the IdP would show by now
		b.screenshot("2-access-denied")
		if loc := b.location(); !strings.HasPrefix(loc, s.URL+auth.CallbackPath) {
			t.Errorf("after error=access_denied the browser went on to %s, want to stay on the error page", loc)
		}
		text := eval[string](b, `document.body.innerText`)
		if !strings.Contains(text, "access_denied") {
			t.Errorf("the error page does not name the IdP's error:\n%s", text)
		}
		if cks := b.cookies(s.URL); len(cks) != 0 {
			t.Errorf("cookies after a refused login %v, want none", cookieNames(cks))
		}
	})

	finish(t, b, s, false)
}

// TestLogout is journey 3 and checklist items 15 and 22: GET does not log
// out; the Sign out form posts to /auth/logout and the browser goes to the
// IdP's end_session_endpoint (form-action does not block it) and back to
// the console's signed-out page, which says so and stays there; the old
// cookie then gets 401; "Sign in again" starts a new sign-in.
func TestLogout(t *testing.T) {
	s := startStack(t, stackOptions{})
	b := newBrowser(t)
	b.signedInAt(s, s.URL+"/", "alice")
	b.screenshot("1-signed-in")
	old := b.cookies(s.URL)
	if len(old) != 1 {
		t.Fatalf("cookies after login: %v", cookieNames(old))
	}
	oldCookie := &http.Cookie{Name: old[0].Name, Value: old[0].Value}

	if got := eval[int](b, `fetch('/auth/logout').then(r => r.status)`); got != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/logout = %d, want 405", got)
	}
	if got := s.getStatus(api.PathMe, oldCookie); got != http.StatusOK {
		t.Fatalf("after GET /auth/logout the session answers %d, want still 200", got)
	}

	b.click("logout-button")
	// The provider sends the browser back to the console's signed-out page
	// (the post-logout redirect URI), where the app mounts and stays.
	b.waitFor("the signed-out page", fmt.Sprintf(`location.href === %q && document.querySelector('#signed-out[data-mounted="true"]') !== null`,
		s.signedOutURL()), 30*time.Second)
	b.screenshot("2-signed-out")
	if text := eval[string](b, `document.querySelector('#signed-out').innerText`); !strings.Contains(text, "You are signed out") {
		t.Errorf("the signed-out page says %q, want \"You are signed out\"", text)
	}
	// It must not look for a session (the 401 would send the browser on to
	// sign in before the operator saw anything): give a bounded moment for
	// any such request, then look at what was sent.
	time.Sleep(time.Second)
	if loc := b.location(); loc != s.signedOutURL() {
		t.Errorf("the signed-out page went on to %s by itself", loc)
	}

	var endSession *url.URL
	cameBack, meAfter := false, 0
	for _, r := range b.sentRequests() {
		u, err := url.Parse(r.URL)
		if err != nil {
			continue
		}
		if strings.HasPrefix(r.URL, s.IdP.Issuer()) && u.Query().Get("post_logout_redirect_uri") != "" {
			endSession = u
		}
		if endSession != nil && r.URL == s.signedOutURL() {
			cameBack = true
		}
		if cameBack && r.URL == s.URL+api.PathMe {
			meAfter++
		}
	}
	if endSession == nil {
		t.Fatal("the browser never went to the IdP's end_session_endpoint")
	}
	q := endSession.Query()
	if q.Get("id_token_hint") == "" || q.Get("client_id") != s.env["TIMCONSOLE_OIDC_CLIENT_ID"] || q.Get("post_logout_redirect_uri") != s.signedOutURL() {
		t.Errorf("end_session request %s lacks id_token_hint, client_id or the registered post_logout_redirect_uri %s", endSession.Path, s.signedOutURL())
	}
	if !cameBack {
		t.Error("the IdP did not send the browser back to the console's signed-out page")
	}
	if meAfter != 0 {
		t.Errorf("the signed-out page asked %s %d times, want never", api.PathMe, meAfter)
	}
	// The ID token (it names the operator) never sat in a cookie.
	if hint := q.Get("id_token_hint"); strings.Contains(old[0].Value, hint[:min(len(hint), 40)]) {
		t.Error("the session cookie contains the ID token")
	}

	if got := s.getStatus(api.PathMe, oldCookie); got != http.StatusUnauthorized {
		t.Errorf("replaying the old session cookie: %d, want 401", got)
	}
	if slices.Contains(cookieNames(b.cookies(s.URL)), auth.SessionCookieName) {
		t.Error("the session cookie is still in the browser after logout")
	}

	// "Sign in again" is a real navigation to the BFF's login (not a page of
	// the app's router), through the IdP's form, back to the console.
	b.click("sign-in-again")
	b.signInFormReached(s)
	b.signIn(s, "alice")
	b.waitFor("the console after signing in again", fmt.Sprintf(`location.href === %q`, s.URL+"/"), 30*time.Second)
	b.waitMounted()
	b.waitFor("the operator", `document.querySelector('#operator') !== null`, 20*time.Second)
	b.screenshot("3-signed-in-again")
	finish(t, b, s, false)
}

// signInFormReached waits until the browser shows the IdP's login form.
func (b *browser) signInFormReached(s *stack) {
	b.t.Helper()
	idp, _ := url.Parse(s.IdP.Issuer())
	b.waitFor("the sign-in form", fmt.Sprintf(`location.host === %q && document.querySelector('#username') !== null`, idp.Host), 30*time.Second)
}

// TestCrossOrigin is checklist item 16: a page on another port of
// 127.0.0.1 (same site, other origin, so the Lax session cookie goes along)
// sends a text/plain form POST, no-cors fetches with and without a body,
// and a JSON fetch to /api/receipts and /auth/logout; all fail, Tencent is
// never called, and the session survives.
func TestCrossOrigin(t *testing.T) {
	s := startStack(t, stackOptions{})
	b := newBrowser(t)
	b.signedInAt(s, s.URL+"/", "alice")

	body := fmt.Sprintf(`{"app":%q,"groupId":%q,"seqs":"1-5"}`, appID, opsGroup)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/form" {
			// A top-level form POST, as a link on a sibling site would
			// send: text/plain, so no preflight.
			fmt.Fprintf(w, attackForm, r.URL.Query().Get("target"), body)
			return
		}
		fmt.Fprint(w, attackPage)
	}))
	defer attacker.Close()

	before := s.Emu.TotalCalls()
	refusedBefore := s.refusedCrossOrigin(t)
	targets := []string{s.URL + api.PathReceipts, s.URL + api.PathLogout}
	b.navigate(attacker.URL + "/")
	js, err := json.Marshal(targets)
	if err != nil {
		t.Fatal(err)
	}
	results := eval[[]string](b, fmt.Sprintf(`attack(%s, %q)`, js, body))
	t.Logf("fetch attacks:\n%s", strings.Join(results, "\n"))
	for _, r := range results {
		if !strings.Contains(r, "rejected") && !strings.Contains(r, "type opaque") {
			t.Errorf("a cross-origin fetch got a readable answer: %s", r)
		}
	}
	for i, target := range targets {
		b.navigate(attacker.URL + "/form?target=" + url.QueryEscape(target))
		b.waitFor("the form's answer", fmt.Sprintf(`location.href === %q`, target), 10*time.Second)
		b.screenshot(fmt.Sprintf("%d-form-post-%s", i+1, sanitize(strings.TrimPrefix(target, s.URL))))
	}

	// Every attack POST that reached the console was refused with 403:
	// three per target (form, no-cors without and with a body); the JSON
	// fetch stops at its preflight.
	statuses := map[network.RequestID][]int64{}
	urls := map[network.RequestID]string{}
	for _, r := range b.received() {
		if r.Method == http.MethodPost && r.Status != 0 && slices.Contains(targets, r.RequestURL) {
			statuses[r.ID] = append(statuses[r.ID], r.Status)
			urls[r.ID] = r.RequestURL
		}
	}
	for id, st := range statuses {
		for _, code := range st {
			if code != http.StatusForbidden {
				t.Errorf("cross-origin POST %s answered %d, want 403", urls[id], code)
			}
		}
	}
	// Counted on the server: Chromium does not always report the response
	// of a no-cors POST that it then blocks (ERR_BLOCKED_BY_RESPONSE), so
	// the browser's own record can miss one.
	if got, want := s.refusedCrossOrigin(t)-refusedBefore, 3*len(targets); got != want {
		t.Errorf("the console refused %d cross-origin POSTs, want %d (form, no-cors with and without a body, per target)", got, want)
	}
	if after := s.Emu.TotalCalls(); after != before {
		t.Errorf("the emulator saw %d calls during the attacks, want none", after-before)
	}

	// The session survived the logout attempts and still works.
	b.navigate(deepLink(s, opsGroup, "1-5"))
	b.waitMounted()
	b.waitFor("a result", `document.querySelectorAll('svg#chart g.col').length === 5`, 30*time.Second)
	if s.Emu.TotalCalls() == before {
		t.Error("the emulator counter did not move for a real pull; the check above proves nothing")
	}
	b.screenshot("3-session-still-works")
	finish(t, b, s, true)
}

// attackPage is the attacker's page: attack(targets, body) sends the fetch
// variants to every target and reports how each ended.
const attackPage = `<!doctype html><html><head><meta charset="utf-8"><title>attacker</title></head><body>
<h1>Totally harmless page</h1>
<script>
async function tryFetch(label, target, init) {
	try {
		const r = await fetch(target, init);
		return label + ' ' + target + ': status ' + r.status + ' type ' + r.type;
	} catch (e) {
		return label + ' ' + target + ': rejected ' + e;
	}
}
async function attack(targets, body) {
	const out = [];
	for (const target of targets) {
		out.push(await tryFetch('no-cors fetch without body', target, {method: 'POST', mode: 'no-cors', credentials: 'include'}));
		out.push(await tryFetch('no-cors fetch with body', target, {method: 'POST', mode: 'no-cors', credentials: 'include', headers: {'Content-Type': 'text/plain'}, body}));
		out.push(await tryFetch('json fetch', target, {method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'}, body}));
	}
	return out;
}
</script></body></html>`

// attackForm posts a text/plain form whose body is the JSON query (plus a
// trailing '='); fill in the target and the JSON.
const attackForm = `<!doctype html><html><head><meta charset="utf-8"><title>attacker form</title></head><body>
<form method="POST" action="%s" enctype="text/plain"><input type="hidden" name='%s' value=''></form>
<script>document.forms[0].submit();</script></body></html>`

// lastStatus is the status of the last response the browser got for u.
func lastStatus(b *browser, prefix string) int64 {
	var status int64
	for _, r := range b.received() {
		if strings.HasPrefix(r.URL, prefix) && !strings.HasSuffix(r.URL, "(body)") && r.Status != 0 {
			status = r.Status
		}
	}
	return status
}

func cookieNames(cks []*network.Cookie) []string {
	var out []string
	for _, c := range cks {
		out = append(out, c.Name)
	}
	return out
}

// refusedCrossOrigin reads the console's own count of POSTs that the
// cross-origin check refused (403 before routing) from /metrics.
func (s *stack) refusedCrossOrigin(t *testing.T) int {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "timconsole_http_requests_total{") && strings.Contains(line, `method="POST"`) &&
			strings.Contains(line, `route="unmatched"`) && strings.Contains(line, `status="403"`) {
			n, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			return int(n)
		}
	}
	return 0
}
