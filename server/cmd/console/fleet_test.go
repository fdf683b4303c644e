package main

import (
	"github.com/timconsole/timconsole/server/internal/testenv"

	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/devidp"
	"github.com/timconsole/timconsole/server/redisstore"
	"github.com/timconsole/timconsole/server/redisstore/redisstoretest"
	"github.com/timconsole/timconsole/server/timemu"
)

// The fleet's one app, on the emulator.
const (
	fleetApp      = "fleet"
	fleetSDKAppID = 1400000042
	fleetAdmin    = "administrator"
	fleetGroup    = "@TGS#2ALLHANDS" // the generated data set's biggest group
)

// quietRedisClient installs go-redis's process-wide logger once, before
// the first fleet makes a client (so no client reads it concurrently).
var quietRedisClient sync.Once

// fleet is a deployment of several console replicas sharing one real
// redis-server, in front of one Tencent emulator and one development IdP,
// each replica started through run exactly as the binary is.
type fleet struct {
	tb        testing.TB
	Redis     *redisstoretest.Server
	Emu       *testenv.Emulator
	IdP       *devidp.Server
	Replicas  []*replica
	passwords map[string]string
}

// replica is one run on its own loopback port.
type replica struct {
	URL    string
	stderr syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// fleetOptions shape a fleet.
type fleetOptions struct {
	replicas int
	// rate is the app's rate_limit and the emulator's enforced limit, so a
	// fleet that overshoots is refused (and retries) as Tencent would.
	rate int
	// headroom is the app's rate_headroom (0: the default 5%).
	headroom float64
	// messages sizes the generated data set (0: 12,000 in the big group).
	messages int
	// env adds or overrides variables of every replica.
	env env
}

// startFleet starts Redis, the emulator, the IdP and the replicas, and
// stops them all when the test ends.
func startFleet(tb testing.TB, o fleetOptions) *fleet {
	tb.Helper()
	quietRedisClient.Do(func() {
		// go-redis logs every failed dial to stderr through a package-level
		// logger; the outage tests provoke dozens, and the console's own
		// records (limiter fallback, session store errors) say it better.
		redis.SetLogger(redisstore.ClientLogger(slog.New(slog.DiscardHandler)))
	})
	f := &fleet{tb: tb, Redis: redisstoretest.Start(tb)}

	key := rand.Text()
	f.Emu = testenv.StartEmulator(tb, timemu.Config{RateLimit: o.rate})
	f.Emu.AddApp(fleetSDKAppID, key, fleetAdmin)
	if err := f.Emu.Load(timemu.Generate(timemu.GenerateOptions{Seed: 42, SDKAppID: fleetSDKAppID, Messages: o.messages})); err != nil {
		tb.Fatal(err)
	}

	// Every replica's port first: the IdP must know all their callbacks.
	lns := make([]net.Listener, o.replicas)
	urls := make([]string, o.replicas)
	for i := range lns {
		var err error
		if lns[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
		urls[i] = "http://" + lns[i].Addr().String()
		f.Replicas = append(f.Replicas, &replica{URL: urls[i]})
	}
	idp := testenv.StartIdP(tb, urls...)
	f.IdP, f.passwords = idp.Server, idp.Passwords

	// One configuration for the fleet; only the callback differs (behind a
	// load balancer it would not).
	_, _, sessionKeys := testenv.SessionKeys()
	extra := env{
		"TIMCONSOLE_LIMITS_MAX_PULLS_PER_OPERATOR": "64",
		"TIMCONSOLE_REDIS_ADDR":                    f.Redis.Addr(),
		"TIMCONSOLE_REDIS_REPLICAS":                strconv.Itoa(o.replicas),
		"TIMCONSOLE_REDIS_KEY_PREFIX":              "fleet-test:",
		testenv.AppVar(fleetApp, "RATE_LIMIT"):     strconv.Itoa(o.rate),
		testenv.AppVar(fleetApp, "CALL_TIMEOUT"):   "5s",
	}
	if o.headroom != 0 {
		extra[testenv.AppVar(fleetApp, "RATE_HEADROOM")] = strconv.FormatFloat(o.headroom, 'f', -1, 64)
	}
	common := testenv.ConsoleEnv(idp, sessionKeys, testenv.App{ID: fleetApp, SDKAppID: fleetSDKAppID, Admin: fleetAdmin, Key: key, BaseURL: f.Emu.URL}, extra)
	for i, r := range f.Replicas {
		e := env{
			"TIMCONSOLE_SERVER_WEB_DIR":                tb.TempDir(),
			"TIMCONSOLE_OIDC_REDIRECT_URL":             r.URL + auth.CallbackPath,
			"TIMCONSOLE_OIDC_POST_LOGOUT_REDIRECT_URL": r.URL + "/",
		}
		for k, v := range common {
			e[k] = v
		}
		for k, v := range o.env {
			e[k] = v
		}
		r.start(tb, lns[i], e)
	}
	return f
}

// start runs run on ln and waits until it is ready.
func (r *replica) start(tb testing.TB, ln net.Listener, e env) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		r.done <- run(ctx, nil, e.get, io.Discard, &r.stderr,
			withListener(ln), withReady(func(u string) { ready <- u }))
	}()
	tb.Cleanup(func() { r.stop(tb) })
	select {
	case <-ready:
	case err := <-r.done:
		tb.Fatalf("run: %v\n%s", err, r.stderr.String())
	case <-time.After(30 * time.Second):
		tb.Fatalf("replica %s did not start in 30s\n%s", r.URL, r.stderr.String())
	}
	waitFor(tb, r.URL+" ready", 15*time.Second, func() bool {
		status, _ := getBody(tb, r.URL+"/readyz")
		return status == http.StatusOK
	})
}

// stop ends run and waits (bounded) for it to return.
func (r *replica) stop(tb testing.TB) {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			tb.Errorf("replica %s: run returned %v", r.URL, err)
		}
	case <-time.After(15 * time.Second):
		tb.Errorf("replica %s: run did not return within 15s of the cancel", r.URL)
	}
	if tb.Failed() {
		tb.Logf("replica %s log:\n%s", r.URL, r.stderr.String())
	}
}

// signIn walks /auth/login on base, the IdP's form and the callback, as a
// browser with a cookie jar does, and returns the final status and the
// session cookie it got (nil if none).
func (f *fleet) signIn(tb testing.TB, base, user string) (int, *http.Cookie) {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := c.Get(base + api.PathLogin + "?return_to=/")
	if err != nil {
		tb.Fatalf("start login: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	form := resp.Request.URL
	id := form.Query().Get("authRequestID")
	if id == "" {
		tb.Fatalf("login did not reach the IdP form: %s (%d)", form, resp.StatusCode)
	}
	post := url.URL{Scheme: form.Scheme, Host: form.Host, Path: "/login/username"}
	resp, err = c.PostForm(post.String(), url.Values{"authRequestID": {id}, "username": {user}, "password": {f.passwords[user]}})
	if err != nil {
		tb.Fatalf("post credentials: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == auth.SessionCookieName {
			return resp.StatusCode, ck
		}
	}
	return resp.StatusCode, nil
}

// mustSignIn signs user in on base and returns the session cookie.
func (f *fleet) mustSignIn(tb testing.TB, base, user string) *http.Cookie {
	tb.Helper()
	status, ck := f.signIn(tb, base, user)
	if status != http.StatusOK || ck == nil {
		tb.Fatalf("sign-in of %s on %s ended with %d, cookie %v", user, base, status, ck != nil)
	}
	return ck
}

// call sends one request with the session cookie ck (none if nil) and
// returns the response, its body read.
func call(tb testing.TB, method, u string, ck *http.Cookie, body any, headers ...string) (*http.Response, []byte) {
	tb.Helper()
	resp, b, err := send(method, u, ck, body, headers...)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}

// send is call for goroutines other than the test's: it returns the error.
func send(method, u string, ck *http.Cookie, body any, headers ...string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return nil, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if ck != nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read: %v", method, u, err)
	}
	return resp, b, nil
}

func getBody(tb testing.TB, u string) (int, string) {
	tb.Helper()
	resp, b := call(tb, http.MethodGet, u, nil, nil)
	return resp.StatusCode, string(b)
}

// readyz returns /readyz's status and decoded answer.
func readyz(tb testing.TB, base string) (int, map[string]any) {
	tb.Helper()
	status, body := getBody(tb, base+"/readyz")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		tb.Fatalf("/readyz body %q: %v", body, err)
	}
	return status, m
}

// limiterState is the app's limiter line of a /readyz answer.
func limiterState(m map[string]any) any {
	l, _ := m["limiter"].(map[string]any)
	return l[fleetApp]
}

// pull queries seqs lo-hi of the big group with the session ck. It may run
// outside the test's goroutine: failures come back as the message.
func pull(base string, ck *http.Cookie, lo, hi int) (int, *api.ReceiptsResponse, string) {
	req := api.ReceiptsRequest{App: fleetApp, GroupID: fleetGroup, Seqs: api.SeqText(fmt.Sprintf("%d-%d", lo, hi))}
	resp, b, err := send(http.MethodPost, base+api.PathReceipts, ck, req)
	if err != nil {
		return 0, nil, err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, string(b)
	}
	var res api.ReceiptsResponse
	if err := json.Unmarshal(b, &res); err != nil {
		return resp.StatusCode, nil, "receipts answer: " + err.Error()
	}
	return resp.StatusCode, &res, ""
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFleet runs two console replicas, A and B, against one Redis, one
// emulator and one IdP (issue 8): a session made on A works on B and a
// logout on B ends it on A; 64 operators pulling overlapping ranges through
// both replicas never push the emulator over the app's rate; with Redis
// killed, /api fails closed with 503 (cookie kept), sign-in says the
// session store is down, /readyz and /metrics show the store down and the
// limiter at its local share; once Redis is back everything recovers, but
// the sessions are gone (this Redis, like a cache-only deployment, has no
// persistence), so operators sign in again.
func TestFleet(t *testing.T) {
	const rate = 40
	// A wide headroom (20%): the point is the fleet-wide budget, and on a
	// loaded two-core machine a granted call can reach the emulator late
	// enough to crowd a one-second window at the default 5%.
	f := startFleet(t, fleetOptions{replicas: 2, rate: rate, headroom: 0.2, messages: 2000})
	a, b := f.Replicas[0].URL, f.Replicas[1].URL

	// A session made on A works on B; a logout on B ends it on A.
	first := f.mustSignIn(t, a, "alice")
	resp, body := call(t, http.MethodGet, b+api.PathMe, first, nil)
	var me api.Me
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &me) != nil || me.Operator.Email != "alice@ops.example" {
		t.Fatalf("/api/me on B with A's session = %d %s, want alice", resp.StatusCode, body)
	}
	if status, res, msg := pull(b, first, 1, 120); status != http.StatusOK || len(res.Results) != 120 {
		t.Fatalf("query on B with A's session = %d %s", status, msg)
	}
	resp, body = call(t, http.MethodPost, b+api.PathLogout, first, nil, "Accept", "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout on B = %d %s", resp.StatusCode, body)
	}
	if resp, body := call(t, http.MethodGet, a+api.PathMe, first, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me on A after the logout on B = %d %s, want 401", resp.StatusCode, body)
	}

	// 64 operators, half on each replica, pulling overlapping ranges of 100
	// seqs (two calls each): the emulator never sees more than the rate in
	// any second, and nothing is refused or retried.
	cookies := []*http.Cookie{f.mustSignIn(t, a, "alice"), f.mustSignIn(t, b, "bob")}
	f.Emu.ResetStats()
	const operators = 64
	type outcome struct {
		status        int
		results       int
		calls, tries  int
		message, base string
	}
	outcomes := make([]outcome, operators)
	var wg sync.WaitGroup
	for i := range operators {
		wg.Go(func() {
			base := f.Replicas[i%2].URL
			lo := 1 + (i*25)%1500 // overlapping: each range shares seqs with its neighbours
			status, res, msg := pull(base, cookies[i%2], lo, lo+99)
			o := outcome{status: status, message: msg, base: base}
			if res != nil {
				o.results, o.calls, o.tries = len(res.Results), res.Upstream.Calls, res.Upstream.Retries
			}
			outcomes[i] = o
		})
	}
	wg.Wait()
	calls := 0
	for i, o := range outcomes {
		if o.status != http.StatusOK || o.results != 100 || o.tries != 0 {
			t.Errorf("operator %d on %s: status %d, %d results, %d retries %s; want 200, 100, 0", i, o.base, o.status, o.results, o.tries, o.message)
		}
		calls += o.calls
	}
	if got, want := f.Emu.Calls("get_group_msg_receipt"), operators*2; got != want || calls != want {
		t.Errorf("receipt calls: emulator saw %d, replicas reported %d; want %d", got, calls, want)
	}
	if peak := f.Emu.PeakPerSecond(fleetSDKAppID); peak > rate {
		t.Errorf("emulator peak = %d calls in one second, want <= %d (the app's rate, for the whole fleet)", peak, rate)
	} else {
		t.Logf("64 operators on 2 replicas: %d calls, emulator peak %d/s (rate %d/s)", calls, peak, rate)
	}

	// Redis dies: sessions fail closed, the limiter falls back.
	f.Redis.Kill()
	for _, r := range f.Replicas {
		resp, body := call(t, http.MethodGet, r.URL+api.PathMe, cookies[0], nil)
		var e api.Error
		json.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusServiceUnavailable || e.Code != api.ECodeUnavailable || !strings.Contains(e.Message, "session store is unavailable") {
			t.Errorf("/api/me on %s with Redis down = %d %s, want 503 naming the session store", r.URL, resp.StatusCode, body)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("/api/me on %s with Redis down: no Retry-After", r.URL)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("/api/me on %s with Redis down sets cookies %v; the session cookie must be kept", r.URL, resp.Cookies())
		}
		status, m := readyz(t, r.URL)
		if status != http.StatusServiceUnavailable || m["sessions"] != "session store unreachable" || limiterState(m) != "degraded (local share)" {
			t.Errorf("/readyz on %s with Redis down = %d %v, want 503, the session store unreachable and the limiter at its local share", r.URL, status, m)
		}
		_, metrics := getBody(t, r.URL+"/metrics")
		for _, want := range []string{"timconsole_session_store_up 0\n", `timconsole_limiter_degraded{app="` + fleetApp + `"} 1` + "\n"} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics on %s with Redis down lacks %q", r.URL, strings.TrimSpace(want))
			}
		}
	}
	if status, ck := f.signIn(t, a, "alice"); status != http.StatusServiceUnavailable || ck != nil {
		t.Errorf("sign-in with Redis down ended with %d (cookie %v), want 503 and no session", status, ck != nil)
	}

	// Redis is back (empty: no persistence). Both replicas recover; the old
	// sessions are gone, a new sign-in works across the fleet.
	f.Redis.Restart()
	for _, r := range f.Replicas {
		waitFor(t, r.URL+" to see Redis back", 20*time.Second, func() bool {
			status, m := readyz(t, r.URL)
			return status == http.StatusOK && m["sessions"] == "ok" && limiterState(m) == "shared"
		})
		_, metrics := getBody(t, r.URL+"/metrics")
		for _, want := range []string{"timconsole_session_store_up 1\n", `timconsole_limiter_degraded{app="` + fleetApp + `"} 0` + "\n"} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics on %s after recovery lacks %q", r.URL, strings.TrimSpace(want))
			}
		}
	}
	if resp, body := call(t, http.MethodGet, a+api.PathMe, cookies[0], nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me with a session from before the restart = %d %s, want 401 (a restarted Redis without persistence forgets sessions)", resp.StatusCode, body)
	}
	again := f.mustSignIn(t, a, "alice")
	if status, res, msg := pull(b, again, 1, 50); status != http.StatusOK || len(res.Results) != 50 {
		t.Errorf("query on B after recovery = %d %s", status, msg)
	}
}
