//go:build e2e

package e2e_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/devidp"
	"github.com/timconsole/timconsole/server/internal/testenv"
	"github.com/timconsole/timconsole/server/timemu"
)

// The seeded data set. The small group has known readers and non-readers
// per message, some messages without a receipt, and enough members that a
// small drill-down page size walks several pages. The demo generator adds
// big groups for the 5,000- and 10,000-seq pulls.
const (
	appID       = "e2e"
	sdkAppID    = 1400000042
	adminID     = "administrator"
	opsGroup    = "@TGS#2E2EOPS01"
	opsMessages = 30
	opsMembers  = 40
	bigGroup    = "@TGS#2ALLHANDS" // timemu.DemoGroups: 200 members, 12,000 messages
	seed        = 20250101
)

// opsNoReceipt are the small group's messages sent without a receipt.
var opsNoReceipt = map[uint32]bool{4: true, 11: true, 17: true}

// fixture builds the data set: the demo groups plus the small group.
func fixture() *timemu.Fixture {
	f := timemu.Generate(timemu.GenerateOptions{Seed: seed, SDKAppID: sdkAppID})
	rng := mathrand.New(mathrand.NewPCG(seed, seed))
	members := make([]string, opsMembers)
	for i := range members {
		members[i] = fmt.Sprintf("agent.%02d", i)
	}
	g := timemu.FixtureGroup{ID: opsGroup, Type: timemu.TypePublic, Name: "E2E ops", Owner: members[0], Members: members[1:]}
	for seq := uint32(1); seq <= opsMessages; seq++ {
		m := timemu.FixtureMessage{Seq: seq, From: members[int(seq)%opsMembers], Receipt: !opsNoReceipt[seq]}
		if m.Receipt {
			// Read ratios from 15% to 85%, so the counts differ and sorting
			// by them means something.
			ratio := 0.15 + 0.7*rng.Float64()
			for _, name := range members {
				if name != m.From && rng.Float64() < ratio {
					m.Read = append(m.Read, name)
				}
			}
		}
		g.Messages = append(g.Messages, m)
	}
	f.Apps[0].Groups = append(f.Apps[0].Groups, g)
	return f
}

// stack is one complete system under test: the Tencent emulator, the
// development identity provider on "localhost" (cross-site to the console)
// and the console binary itself, configured through its environment as a
// deployment would, on 127.0.0.1 (testenv.StartConsole).
type stack struct {
	t         testing.TB
	URL       string // the console, http://127.0.0.1:<port>
	ln        net.Listener
	Emu       *testenv.Emulator
	IdP       *devidp.Server
	passwords map[string]string
	env       map[string]string
	console   *testenv.Console
}

// stackOptions tune a stack.
type stackOptions struct {
	// WebDir is the console's web directory; default the suite's copy.
	WebDir string
}

// startStack starts emulator, identity provider and console, and stops
// them when the test ends.
func startStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	if o.WebDir == "" {
		o.WebDir = webDir
	}
	// The console's port comes first: the IdP must know its redirect URIs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &stack{t: t, ln: ln, URL: "http://" + ln.Addr().String()}

	key := rand.Text()
	s.Emu = testenv.StartEmulator(t, timemu.Config{})
	s.Emu.AddApp(sdkAppID, key, adminID)
	if err := s.Emu.Load(fixture()); err != nil {
		t.Fatal(err)
	}

	idp := testenv.StartIdP(t, s.URL)
	s.IdP, s.passwords = idp.Server, idp.Passwords
	// The demo client already registers the console's signed-out page as a
	// post-logout redirect URI (devidp's TestDemoFixture holds it to that).
	_, _, sessionKeys := testenv.SessionKeys()
	s.env = testenv.ConsoleEnv(idp, sessionKeys, testenv.App{ID: appID, SDKAppID: sdkAppID, Admin: adminID, Key: key, BaseURL: s.Emu.URL}, map[string]string{
		"TIMCONSOLE_SERVER_WEB_DIR":                o.WebDir,
		"TIMCONSOLE_OIDC_REDIRECT_URL":             s.URL + auth.CallbackPath,
		"TIMCONSOLE_OIDC_POST_LOGOUT_REDIRECT_URL": s.signedOutURL(),
		"TIMCONSOLE_ACCESS_GROUPS":                 devidp.GroupOpsAdmins,
		testenv.AppVar(appID, "NAME"):              "E2E app",
		testenv.AppVar(appID, "MAX_ATTEMPTS"):      "3",
	})
	s.run()
	return s
}

// signedOutURL is the console's page for a signed-out browser, the
// post-logout redirect URI of the stack.
func (s *stack) signedOutURL() string { return s.URL + "/signed-out" }

// run starts the console binary on the stack's listener; it returns once
// the console is ready, and the console stops when the test ends.
func (s *stack) run() {
	s.t.Helper()
	s.console = testenv.StartConsole(s.t, s.ln, s.env)
}

// stop stops the console (SIGTERM, a graceful shutdown) and waits for it.
func (s *stack) stop() {
	if s.console != nil {
		s.console.Stop()
		s.console = nil
	}
}

// stderr is the running console's log.
func (s *stack) stderr() string {
	if s.console == nil {
		return ""
	}
	return s.console.Stderr.String()
}

// redeploy stops the console and starts it again on the same socket with
// another web directory, as a rolling deploy of a new version would.
func (s *stack) redeploy(webDir string) {
	s.t.Helper()
	s.stop()
	s.env["TIMCONSOLE_SERVER_WEB_DIR"] = webDir
	s.run()
}

// secrets lists every secret the console holds or minted, by kind: the app
// key, the OIDC client secret and the session keys it was given, and every
// UserSig the emulator received from it.
func (s *stack) secrets() map[string][]string {
	hash, block := s.sessionKeys()
	return map[string][]string{
		"app_key":            {s.env[testenv.AppVar(appID, "KEY")]},
		"oidc_client_secret": {s.env["TIMCONSOLE_OIDC_CLIENT_SECRET"]},
		"session_hash_key":   {base64.StdEncoding.EncodeToString(hash)},
		"session_block_key":  {base64.StdEncoding.EncodeToString(block)},
		"usersig":            s.Emu.UserSigs(),
	}
}

// secretSet lists every secret the console held or minted, each in the
// forms it could leak in, for the secret scan. wantUserSig fails the test
// when no UserSig was minted (the scan would then miss one kind).
func (s *stack) secretSet(wantUserSig bool) map[string]string {
	s.t.Helper()
	secrets := s.secrets()
	out := map[string]string{}
	for _, kind := range []string{"app_key", "usersig", "oidc_client_secret", "session_hash_key", "session_block_key"} {
		vals := secrets[kind]
		if len(vals) == 0 && (kind != "usersig" || wantUserSig) {
			s.t.Fatalf("the console never reported a %s; the secret scan would miss it", kind)
		}
		for i, v := range vals {
			name := fmt.Sprintf("%s #%d", kind, i+1)
			out[name] = v
			if strings.HasPrefix(kind, "session_") {
				// Keys are reported in standard base64; look for the other
				// spellings too.
				if raw, err := base64.StdEncoding.DecodeString(v); err == nil {
					out[name+" (url base64)"] = base64.RawURLEncoding.EncodeToString(raw)
					out[name+" (hex)"] = fmt.Sprintf("%x", raw)
				}
			} else if esc := url.QueryEscape(v); esc != v {
				out[name+" (URL-escaped)"] = esc
			}
		}
	}
	return out
}

// sessionKeys returns the console's session key pair.
func (s *stack) sessionKeys() (hash, block []byte) {
	s.t.Helper()
	h, b, _ := strings.Cut(s.env["TIMCONSOLE_SESSION_KEYS"], ":")
	hash, err1 := base64.StdEncoding.DecodeString(h)
	block, err2 := base64.StdEncoding.DecodeString(b)
	if err1 != nil || err2 != nil {
		s.t.Fatal("session keys are not base64")
	}
	return hash, block
}

// truth is the emulator's ground truth for one seq of the small group or
// another group: who read it, who has not, and whether it has a receipt.
type truth struct {
	Seq          uint32
	Read, Unread []string
	Receipt      bool
}

func (s *stack) truth(group string, seq uint32) truth {
	read, unread, ok := s.Emu.Receipt(sdkAppID, group, seq)
	return truth{Seq: seq, Read: read, Unread: unread, Receipt: ok}
}

// httpLogin signs in as user through the IdP's form with a plain HTTP
// client and returns the client (its jar holds the session) and the
// session cookie.
func (s *stack) httpLogin(user string) (*http.Client, *http.Cookie) {
	s.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := c.Get(s.URL + api.PathLogin + "?return_to=/")
	if err != nil {
		s.t.Fatalf("start login: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	form := resp.Request.URL
	id := form.Query().Get("authRequestID")
	if id == "" {
		s.t.Fatalf("login did not reach the IdP form: %s (%d)", form, resp.StatusCode)
	}
	post := url.URL{Scheme: form.Scheme, Host: form.Host, Path: "/login/username"}
	resp, err = c.PostForm(post.String(), url.Values{"authRequestID": {id}, "username": {user}, "password": {s.passwords[user]}})
	if err != nil {
		s.t.Fatalf("post credentials: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("login as %s ended with %d at %s", user, resp.StatusCode, resp.Request.URL)
	}
	u, _ := url.Parse(s.URL)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == auth.SessionCookieName {
			return c, ck
		}
	}
	s.t.Fatalf("login as %s left no session cookie", user)
	return nil, nil
}

// getStatus GETs path on the console with only the given cookie.
func (s *stack) getStatus(path string, ck *http.Cookie) int {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if ck != nil {
		req.AddCookie(ck)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
