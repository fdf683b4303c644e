package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// harness gives the console a context on the host, where OnMount never
// runs: the test engine is the server variant and calls OnPreRender.
type harness struct {
	*console
}

func (h harness) OnPreRender(ctx app.Context) { h.setCtx(ctx) }

func mustLoadConsole(t *testing.T, f *fakeBFF) (harness, app.TestEngine) {
	t.Helper()
	srv := mustStartBFF(t, f)
	h := harness{console: newConsole()}
	h.api.base = srv.URL
	e := app.NewTestEngine()
	if err := e.Load(h); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	if !h.hasCtx {
		t.Fatal("OnPreRender did not run")
	}
	return h, e
}

func TestConsolePullAndShow(t *testing.T) {
	f := &fakeBFF{stream: true, members: 150}
	h, e := mustLoadConsole(t, f)
	h.loadMe()
	e.ConsumeAll()
	if h.me == nil || h.in.App != "prod" {
		t.Fatalf("me = %+v, app = %q; want the first app chosen", h.me, h.in.App)
	}
	// Top bar: header > [brand, right > [operator > [name, email], logout]]
	if err := app.Match(app.Text("Ada Lovelace"), h.renderTopBar(), 1, 0, 0, 0); err != nil {
		t.Errorf("operator name: %v", err)
	}

	h.startPull(query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20})
	if !h.pulling {
		t.Fatal("not pulling after startPull")
	}
	e.ConsumeAll()
	if h.pulling || h.shown == nil || h.err != nil {
		t.Fatalf("after pull: pulling %v, shown %v, err %v", h.pulling, h.shown != nil, h.err)
	}
	if got := h.shown.Summary; got.Messages != 20 || got.Missing != 2 || got.WithReceipt != 18 {
		t.Errorf("summary = %+v", got)
	}
	if len(h.recent) != 1 || h.recent[0].Group != "g1" {
		t.Errorf("recent = %+v", h.recent)
	}
	// Tiles: section > tile[i] > [label, value]
	if err := app.Match(app.Text("2"), renderTiles(h.shown.Summary), 2, 1, 0); err != nil {
		t.Errorf("missing tile: %v", err)
	}

	// A failing refresh keeps the result on screen and shows the Tencent code.
	f.mu.Lock()
	f.status, f.errBody = 502, `{"code":"upstream","message":"Tencent refused","upstreamCode":10010}`
	f.mu.Unlock()
	h.startPull(query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20})
	e.ConsumeAll()
	if h.shown == nil || h.err == nil || h.err.UpstreamCode != 10010 {
		t.Fatalf("after failed refresh: shown %v, err %+v", h.shown != nil, h.err)
	}
	// error-box > [head > [title, code], message, actions]
	if err := app.Match(app.Text("Tencent code 10010"), h.renderError(h.err), 0, 1, 0); err != nil {
		t.Errorf("error box: %v", err)
	}
}

// TestConsoleInvalidSubmitClearsStaleError checks that Pull with a form
// that fails its own checks removes the previous query's error box (it
// would sit next to the new problems as if it explained them) and keeps
// the result on screen.
func TestConsoleInvalidSubmitClearsStaleError(t *testing.T) {
	f := &fakeBFF{}
	h, e := mustLoadConsole(t, f)
	h.loadMe()
	e.ConsumeAll()
	h.startPull(query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20})
	e.ConsumeAll()
	f.mu.Lock()
	f.status, f.errBody = 502, `{"code":"upstream","message":"Tencent refused","upstreamCode":10010}`
	f.mu.Unlock()
	h.startPull(query{App: "prod", Group: "g2", Seqs: "1-5", Count: 5})
	e.ConsumeAll()
	if h.err == nil || h.shown == nil {
		t.Fatalf("setup: err %v, shown %v; want an error next to a result", h.err, h.shown != nil)
	}
	before := f.count(api.PathReceipts)

	tests := []struct {
		name string
		in   formInput
	}{
		{"bad seqs", formInput{App: "prod", Group: "g1", Seqs: "1-20, x"}},
		{"over the cap", formInput{App: "prod", Group: "g1", Seqs: "1-10001"}},
		{"no group", formInput{App: "prod", Group: " ", Seqs: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.err = &api.Error{Code: api.ECodeUpstream, Message: "Tencent refused", UpstreamCode: 10010}
			h.in = tt.in
			h.submit(h.uictx)
			e.ConsumeAll()
			if h.err != nil {
				t.Errorf("the previous error box is still shown: %+v", h.err)
			}
			if h.check.OK() || !h.touched {
				t.Errorf("check %+v, touched %v; want the problems shown", h.check, h.touched)
			}
			if h.shown == nil || h.shown.Query.Group != "g1" || len(h.rows) != 20 {
				t.Errorf("the result on screen was lost: %+v", h.shown)
			}
		})
	}
	if n := f.count(api.PathReceipts) - before; n != 0 {
		t.Errorf("%d requests for invalid forms, want none", n)
	}

	// A failed /api/me is the page's own problem, not a stale one: its box
	// (and its Try again) stays.
	h.meStatus = loadingErr
	h.err = &api.Error{Code: api.ECodeUnavailable, Message: "unreachable", Retryable: true}
	h.in = formInput{App: "prod", Group: "g1", Seqs: "x"}
	h.submit(h.uictx)
	e.ConsumeAll()
	if h.err == nil || h.err.Message != "unreachable" {
		t.Errorf("the /api/me error box went away: %+v", h.err)
	}
}

func TestConsoleCancel(t *testing.T) {
	h, e := mustLoadConsole(t, &fakeBFF{stream: true})
	h.startPull(query{App: "prod", Group: "g1", Seqs: "1-5", Count: 5})
	h.cancelPull()
	e.ConsumeAll()
	if h.pulling || h.shown != nil || h.err != nil || !strings.Contains(h.notice, "cancelled") {
		t.Errorf("after cancel: pulling %v, shown %v, err %v, notice %q", h.pulling, h.shown != nil, h.err, h.notice)
	}
}

func TestConsoleDrillDown(t *testing.T) {
	f := &fakeBFF{members: 150}
	h, e := mustLoadConsole(t, f)
	h.startPull(query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20})
	e.ConsumeAll()

	h.openDrill(7)
	if !h.drill.Open || h.drill.list().Status != loading {
		t.Fatalf("drill after open: %+v", h.drill)
	}
	e.ConsumeAll()
	if l := h.drill.list(); l.Status != loaded || len(l.Members) != membersPageSize || l.Done {
		t.Fatalf("read page 1: status %v, %d members, done %v", l.Status, len(l.Members), l.Done)
	}
	req, ok := h.drill.loadMore()
	if !ok {
		t.Fatal("load more refused")
	}
	h.fetchMembers(req)
	e.ConsumeAll()
	if l := h.drill.list(); len(l.Members) != 150 || !l.Done || l.Members[149] != "read-7-149" {
		t.Fatalf("read page 2: %d members, done %v", len(l.Members), l.Done)
	}

	// Unread tab fails once: the error shows inline, the read list stays.
	f.mu.Lock()
	f.memberErr = &api.Error{Code: api.ECodeUpstream, Message: "busy", UpstreamCode: 70169, Retryable: true}
	f.mu.Unlock()
	if req, ok := h.drill.switchTab(api.FilterUnread); ok {
		h.fetchMembers(req)
	}
	e.ConsumeAll()
	if l := h.drill.list(); l.Status != loadingErr || l.Err.UpstreamCode != 70169 {
		t.Fatalf("unread after failure: %+v", l)
	}
	if len(h.drill.Lists[api.FilterRead].Members) != 150 {
		t.Error("the read list was lost")
	}
	if req, ok := h.drill.loadMore(); ok {
		h.fetchMembers(req)
	}
	e.ConsumeAll()
	if l := h.drill.list(); l.Status != loaded || len(l.Members) != 100 {
		t.Fatalf("unread after retry: status %v, %d members", l.Status, len(l.Members))
	}

	// A seq without receipt opens without a request.
	before := f.count(api.PathMembers)
	h.openDrill(10)
	e.ConsumeAll()
	if f.count(api.PathMembers) != before || !h.drill.Open {
		t.Errorf("missing seq: %d member calls, open %v", f.count(api.PathMembers)-before, h.drill.Open)
	}
	h.closeDrill()
	if h.drill.Open {
		t.Error("closeDrill left the panel open")
	}
}

func TestConsoleUnauthorizedLeaves(t *testing.T) {
	h, e := mustLoadConsole(t, &fakeBFF{status: 401, errBody: `{"code":"unauthorized","message":"sign in","loginUrl":"/auth/login"}`})
	h.startPull(query{App: "prod", Group: "g1", Seqs: "1", Count: 1})
	e.ConsumeAll()
	if !h.leaving || h.err != nil {
		t.Errorf("leaving %v, err %v; want a redirect, no error box", h.leaving, h.err)
	}
}

// TestPrerenderedPage serves the page like the BFF does and checks the
// prerendered shell: neutral, locked, no inline styles, no "false"
// boolean attributes, and the deep link pre-filled.
func TestPrerenderedPage(t *testing.T) {
	Routes()
	h := NewHandler(HandlerOptions{Version: "v1", WasmContentLength: 12345})
	if h.Icon.Default != "/web/icon.png" || h.Version != "v1" || h.WasmContentLength != "12345" || len(h.Env) != 0 {
		t.Errorf("handler = %+v", h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	body := get(t, srv.URL+"/receipts?app=prod&group=g1&seqs=1-5")
	for _, want := range []string{`id="console"`, `data-mounted="false"`, `id="pull-button"`, `value="g1"`, `value="1-5"`, `/web/app.css`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, bad := range []string{`disabled="false"`, `checked="false"`, `selected="false"`, `hidden="false"`, ` style="`, "raw.githubusercontent"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %s", bad)
		}
	}
	for _, id := range []string{"pull-button", "group-input", "seqs-input", "app-select"} {
		tag := regexp.MustCompile(`<[a-z]+ [^>]*id="` + id + `"[^>]*>`).FindString(body)
		if !regexp.MustCompile(`\sdisabled(\s|>|="true")`).MatchString(tag) {
			t.Errorf("%s is not disabled before mount: %s", id, tag)
		}
	}
	if !strings.Contains(get(t, srv.URL+"/"), `id="empty-state"`) {
		t.Error("home page lacks the empty state")
	}
}

// TestSignedOutPage serves /signed-out like the BFF does: it says so, offers
// the sign-in, and (unlike the console) has no operator or API state that
// could send the browser anywhere by itself.
func TestSignedOutPage(t *testing.T) {
	Routes()
	srv := httptest.NewServer(NewHandler(HandlerOptions{Version: "v1"}))
	t.Cleanup(srv.Close)

	body := get(t, srv.URL+"/signed-out")
	for _, want := range []string{`id="signed-out"`, "You are signed out", `id="sign-in-again"`, `href="/auth/login?return_to=%2F"`} {
		if !strings.Contains(body, want) {
			t.Errorf("signed-out page lacks %s", want)
		}
	}
	for _, bad := range []string{`id="console"`, `id="logout-form"`, `id="query-form"`, ` style="`} {
		if strings.Contains(body, bad) {
			t.Errorf("signed-out page contains %s", bad)
		}
	}

	p := &signedOut{}
	e := app.NewTestEngine()
	if err := e.Load(p); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	// div > [header, main > section > [h1, p, a > text]]
	if err := app.Match(app.Text("Sign in again"), p.Render(), 1, 0, 2, 0); err != nil {
		t.Errorf("sign-in link: %v", err)
	}
	if got, want := signInAgainURL(), api.PathLogin+"?return_to=%2F"; got != want {
		t.Errorf("sign-in link to %q, want %q", got, want)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b)
}
