package main

import (
	"github.com/timconsole/timconsole/server/internal/testenv"

	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/api"
)

// TestRunDemo starts the real wiring in demo mode on 127.0.0.1:0, waits for
// /readyz, signs in through the development IdP's login form and queries
// receipts over HTTP; then it checks that no secret the console holds
// appeared in anything the client received, and that the denied demo user
// gets no session.
func TestRunDemo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		stdout, stderr syncBuffer
		mu             sync.Mutex
		secrets        = map[string][]string{}
		ready          = make(chan string, 1)
		done           = make(chan error, 1)
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		done <- run(ctx, []string{"--demo", "--web", t.TempDir()}, env{}.get, &stdout, &stderr,
			withListener(ln),
			withReady(func(u string) { ready <- u }),
			withSecretObserver(func(kind, value string) {
				mu.Lock()
				defer mu.Unlock()
				secrets[kind] = append(secrets[kind], value)
			}))
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("the demo did not start in 20s\n%s", stderr.String())
	}
	waitReady(t, base+"/readyz")

	var seen bytes.Buffer // everything the "browser" received
	c := newBrowser(t, &seen)
	login(t, c, base, "alice", password(t, stdout.String(), "alice"))

	var me api.Me
	getJSON(t, c, base+api.PathMe, &me)
	if !me.Demo || len(me.Apps) != 1 || me.Apps[0].ID != DemoAppID || me.Operator.Email != "alice@ops.example" {
		t.Fatalf("/api/me = %+v, want alice, demo, one demo app", me)
	}

	body, _ := json.Marshal(api.ReceiptsRequest{App: DemoAppID, GroupID: "@TGS#2OPSWAR01", Seqs: api.SeqText("1-120")})
	resp, err := c.Post(base+api.PathReceipts, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var res api.ReceiptsResponse
	decode(t, resp, &res)
	if len(res.Results) != 120 || res.Upstream.Calls != 3 || res.Summary.Messages != 120 || res.Summary.WithReceipt == 0 {
		t.Errorf("demo query = %d results, summary %+v, upstream %+v", len(res.Results), res.Summary, res.Upstream)
	}

	// The denied demo user signs in at the IdP but gets no session.
	c2 := newBrowser(t, &seen)
	status := loginStatus(t, c2, base, "mallory", password(t, stdout.String(), "mallory"))
	if status != http.StatusForbidden {
		t.Errorf("mallory's callback = %d, want 403", status)
	}
	if r, _ := c2.Get(base + api.PathMe); r == nil || r.StatusCode != http.StatusUnauthorized {
		t.Errorf("mallory's /api/me: want 401")
	}

	mu.Lock()
	for _, kind := range []string{"app_key", "usersig", "oidc_client_secret", "session_hash_key", "session_block_key"} {
		if len(secrets[kind]) == 0 {
			t.Errorf("the observer never saw a %s", kind)
		}
		for _, v := range secrets[kind] {
			if strings.Contains(seen.String(), v) || strings.Contains(stderr.String(), v) {
				t.Errorf("a %s reached the client or the log", kind)
			}
		}
	}
	mu.Unlock()

	// Graceful shutdown: a long pull that is under way when the signal
	// comes still finishes with its result.
	body, _ = json.Marshal(api.ReceiptsRequest{App: DemoAppID, GroupID: "@TGS#2ALLHANDS", Seqs: api.SeqText("1-10000")})
	req, _ := http.NewRequest(http.MethodPost, base+api.PathReceipts, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", api.ContentTypeNDJSON)
	// A client without the recorder, which would buffer the whole stream.
	stream, err := (&http.Client{Jar: c.Jar, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(nil, 8<<20)
	var last api.Event
	for lines := 0; sc.Scan(); lines++ {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("stream line: %v", err)
		}
		if lines == 0 {
			cancel() // the pull is under way
		}
	}
	if last.Type != api.EventResult || last.Result == nil || len(last.Result.Results) != 10000 {
		t.Errorf("the in-flight pull ended with %s (error %+v), want its 10000 results", last.Type, last.Error)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15s of cancel")
	}
	if !strings.Contains(stderr.String(), "console stopped") {
		t.Error("no clean stop in the log")
	}
}

func TestRunDemoLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8080", ":8080"} {
		var stdout, stderr strings.Builder
		err := run(context.Background(), []string{"--demo", "--addr", addr}, env{}.get, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "loopback only") {
			t.Errorf("--demo --addr %s: %v, want a loopback-only refusal", addr, err)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	for _, tt := range []struct {
		status  int
		wantErr bool
	}{{200, false}, {503, true}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(tt.status)
		}))
		var stdout, stderr strings.Builder
		err := run(context.Background(), []string{"healthcheck", "--url", srv.URL + "/healthz"}, env{}.get, &stdout, &stderr)
		if (err != nil) != tt.wantErr {
			t.Errorf("healthcheck against %d: %v", tt.status, err)
		}
		srv.Close()
	}

	// The default target is loopback at the port of TIMCONSOLE_SERVER_ADDR.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	var stdout, stderr strings.Builder
	if err := run(context.Background(), []string{"healthcheck"}, env{"TIMCONSOLE_SERVER_ADDR": "0.0.0.0:" + port}.get, &stdout, &stderr); err != nil {
		t.Errorf("healthcheck with TIMCONSOLE_SERVER_ADDR: %v", err)
	}
}

func TestKeygen(t *testing.T) {
	var stdout, stderr strings.Builder
	if err := run(context.Background(), []string{"keygen"}, env{}.get, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	pair := strings.TrimSpace(stdout.String())
	// The printed pair must be accepted as TIMCONSOLE_SESSION_KEYS.
	_, err := LoadConfig("", env{"TIMCONSOLE_SESSION_KEYS": pair}.get, nil)
	if err != nil && strings.Contains(err.Error(), "session keys") {
		t.Errorf("keygen output rejected: %v", err)
	}
}

// newBrowser is a cookie-keeping client that records every response.
func newBrowser(t *testing.T, seen *bytes.Buffer) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: recorder{seen}}
}

// recorder copies response headers and bodies into a buffer for the
// secret scan.
type recorder struct{ seen *bytes.Buffer }

var recordMu sync.Mutex

func (rc recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	recordMu.Lock()
	fmt.Fprintf(rc.seen, "%s %s\n%v\n%s\n", r.Method, r.URL, resp.Header, b)
	recordMu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// login signs in through the IdP form and fails the test unless the
// console lets the user in.
func login(t *testing.T, c *http.Client, base, user, pw string) {
	t.Helper()
	if status := loginStatus(t, c, base, user, pw); status != http.StatusOK {
		t.Fatalf("login as %s ended with %d", user, status)
	}
}

// loginStatus walks /auth/login -> IdP form -> POST credentials -> callback
// and returns the final status.
func loginStatus(t *testing.T, c *http.Client, base, user, pw string) int {
	t.Helper()
	resp, err := c.Get(base + api.PathLogin + "?return_to=/")
	if err != nil {
		t.Fatalf("start login: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	form := resp.Request.URL
	id := form.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("login did not reach the IdP form: %s (%d)", form, resp.StatusCode)
	}
	post := url.URL{Scheme: form.Scheme, Host: form.Host, Path: "/login/username"}
	resp, err = c.PostForm(post.String(), url.Values{"authRequestID": {id}, "username": {user}, "password": {pw}})
	if err != nil {
		t.Fatalf("post credentials: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// password reads a demo user's password from the banner.
func password(t *testing.T, banner, user string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + user + `\s+(\S+)\s`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("no password for %s in the banner:\n%s", user, banner)
	}
	return m[1]
}

func getJSON(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, resp, v)
}

func decode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", resp.Request.URL.Path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", resp.Request.URL.Path, err)
	}
}

// syncBuffer is the harness's log sink.
type syncBuffer = testenv.SyncBuffer

var waitReady = testenv.WaitReady

// TestRunDemoAddr runs the demo on --addr (no injected listener): the
// console must serve on the address it registered at the IdP and printed.
func TestRunDemoAddr(t *testing.T) {
	var stdout, stderr syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		done <- run(ctx, []string{"--demo", "--addr", "127.0.0.1:0", "--web", t.TempDir()}, env{}.get, &stdout, &stderr,
			withReady(func(u string) { ready <- u }))
	}()
	select {
	case u := <-ready:
		if !strings.Contains(stdout.String(), "Console:            "+u+"/") {
			t.Errorf("serving on %s, but the banner says:\n%s", u, stdout.String())
		}
		waitReady(t, u+"/readyz")
	case err := <-done:
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not start in 20s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
