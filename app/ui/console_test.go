package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// harness gives the console a context on the host, where OnMount never
// runs: the test engine is the server variant and calls OnPreRender. It
// registers the page's action handlers as OnMount does, and keeps the
// context for the test (only the test keeps one).
type harness struct {
	*console
	ctx *app.Context
}

func (h harness) OnPreRender(ctx app.Context) {
	h.listen(ctx)
	*h.ctx = ctx
}

func mustLoadConsole(t *testing.T, f *fakeBFF) (harness, app.TestEngine) {
	t.Helper()
	srv := mustStartBFF(t, f)
	h := harness{console: newConsole(), ctx: new(app.Context)}
	h.api.base = srv.URL
	e := app.NewTestEngine()
	if err := e.Load(h); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	if h.ctx.Context == nil {
		t.Fatal("OnPreRender did not run")
	}
	return h, e
}

func (h harness) pull(q query) { h.runPull(*h.ctx, q, nil) }

func TestConsolePullAndShow(t *testing.T) {
	f := &fakeBFF{stream: true, members: 150}
	h, e := mustLoadConsole(t, f)
	h.loadMe(*h.ctx)
	e.ConsumeAll()
	if h.me == nil || h.meStatus != loaded {
		t.Fatalf("me = %+v, status %v; want loaded", h.me, h.meStatus)
	}
	// Header: header > topbar > [brand, right > [operator > [name, email], logout]]
	if err := app.Match(app.Text("Ada Lovelace"), h.renderHeader(), 0, 1, 0, 0, 0); err != nil {
		t.Errorf("operator name: %v", err)
	}

	h.pull(query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20})
	if !h.pulling {
		t.Fatal("not pulling after runPull")
	}
	e.ConsumeAll()
	if h.pulling || h.shown == nil || h.err != nil {
		t.Fatalf("after pull: pulling %v, shown %v, err %v", h.pulling, h.shown != nil, h.err)
	}
	if got := h.shown.Resp.Summary; got.Messages != 20 || got.Missing != 2 || got.WithReceipt != 18 {
		t.Errorf("summary = %+v", got)
	}
	if len(h.recent) != 1 || h.recent[0].Group != "g1" {
		t.Errorf("recent = %+v", h.recent)
	}
	// Tiles: section > tile[i] > [label, value]
	if err := app.Match(app.Text("2"), (&summaryTiles{Summary: h.shown.Resp.Summary}).Render(), 2, 1, 0); err != nil {
		t.Errorf("missing tile: %v", err)
	}

	// A failing refresh keeps the result on screen and shows the Tencent code.
	f.mu.Lock()
	f.status, f.errBody = 502, `{"code":"upstream","message":"Tencent refused","upstreamCode":10010}`
	f.mu.Unlock()
	h.pull(query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20})
	e.ConsumeAll()
	if h.shown == nil || h.err == nil || h.err.UpstreamCode != 10010 {
		t.Fatalf("after failed refresh: shown %v, err %+v", h.shown != nil, h.err)
	}
	// error-box > [head > [title, code], message, actions]
	if err := app.Match(app.Text("Tencent code 10010"), h.renderError(h.err), 0, 1, 0); err != nil {
		t.Errorf("error box: %v", err)
	}
}

// TestConsoleUsesServerSummary checks that the tiles show the summary the
// server sent, not one the UI computed from the rows.
func TestConsoleUsesServerSummary(t *testing.T) {
	c := newConsole()
	rs := []api.Receipt{{Seq: 1, Read: 1, Unread: 1}}
	sent := api.Summary{Messages: 7, WithReceipt: 7, TotalRead: 70, TotalUnread: 7, ReadRate: 70.0 / 77}
	c.show(newResult(query{App: "prod", Group: "g", Seqs: "1", Count: 1}, &api.ReceiptsResponse{Results: rs, Summary: sent}))
	tiles := app.HTMLString((&summaryTiles{Summary: c.shown.Resp.Summary}).Render())
	if !strings.Contains(tiles, ">70<") || !strings.Contains(tiles, ">7<") {
		t.Errorf("tiles do not show the server's summary %+v:\n%s", sent, tiles)
	}
}

// TestConsoleInvalidSubmitClearsStaleError checks that a Pull the form
// refused removes the previous query's error box (it would sit next to the
// new problems as if it explained them) and keeps the result on screen;
// the form's side (no request, the problems shown) is TestQueryFormSubmit.
func TestConsoleInvalidSubmitClearsStaleError(t *testing.T) {
	f := &fakeBFF{}
	h, e := mustLoadConsole(t, f)
	h.loadMe(*h.ctx)
	e.ConsumeAll()
	h.pull(query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20})
	e.ConsumeAll()
	f.mu.Lock()
	f.status, f.errBody = 502, `{"code":"upstream","message":"Tencent refused","upstreamCode":10010}`
	f.mu.Unlock()
	h.pull(query{App: "prod", Group: "g2", Seqs: "1-5", Count: 5})
	e.ConsumeAll()
	if h.err == nil || h.shown == nil {
		t.Fatalf("setup: err %v, shown %v; want an error next to a result", h.err, h.shown != nil)
	}
	before := f.count(api.PathReceipts)

	h.err = &api.Error{Code: api.ECodeUpstream, Message: "Tencent refused", UpstreamCode: 10010}
	(*h.ctx).NewAction(actionFormInvalid)
	e.ConsumeAll()
	if h.err != nil {
		t.Errorf("the previous error box is still shown: %+v", h.err)
	}
	if h.shown == nil || h.shown.Query.Group != "g1" || len(h.shown.Resp.Results) != 20 {
		t.Errorf("the result on screen was lost: %+v", h.shown)
	}
	if n := f.count(api.PathReceipts) - before; n != 0 {
		t.Errorf("%d requests for an invalid form, want none", n)
	}

	// A failed /api/me is the page's own problem, not a stale one: its box
	// (and its Try again) stays.
	h.meStatus = loadingErr
	h.err = &api.Error{Code: api.ECodeUnavailable, Message: "unreachable", Retryable: true}
	(*h.ctx).NewAction(actionFormInvalid)
	e.ConsumeAll()
	if h.err == nil || h.err.Message != "unreachable" {
		t.Errorf("the /api/me error box went away: %+v", h.err)
	}
}

// TestConsoleRetryOutlivesTheButton runs Try again the way the browser
// does: the button posts an action and goes away with the error box; the
// retry, started by the page's handler, still lands.
func TestConsoleRetryOutlivesTheButton(t *testing.T) {
	f := &fakeBFF{status: 502, errBody: `{"code":"unavailable","message":"Tencent answered HTTP 502","retryable":true}`}
	h, e := mustLoadConsole(t, f)
	h.pull(query{App: "prod", Group: "g1", Seqs: "1-5", Count: 5})
	e.ConsumeAll()
	if h.err == nil {
		t.Fatal("setup: no error box")
	}
	f.mu.Lock()
	f.status = 0
	f.mu.Unlock()
	// The retry re-reads the URL; the host engine's page URL has no query,
	// so the retry of /api/me is the one to check here.
	h.meStatus = loadingErr
	(*h.ctx).NewAction(actionRetry)
	e.ConsumeAll()
	if h.err != nil || h.meStatus != loaded || h.me == nil {
		t.Errorf("after Try again: err %v, me status %v", h.err, h.meStatus)
	}
}

func TestConsoleCancel(t *testing.T) {
	h, e := mustLoadConsole(t, &fakeBFF{stream: true})
	h.pull(query{App: "prod", Group: "g1", Seqs: "1-5", Count: 5})
	h.cancelPull()
	e.ConsumeAll()
	if h.pulling || h.shown != nil || h.err != nil || !strings.Contains(h.notice, "cancelled") {
		t.Errorf("after cancel: pulling %v, shown %v, err %v, notice %q", h.pulling, h.shown != nil, h.err, h.notice)
	}
}

// TestConsoleOpenCloseDrill: a row's action opens the panel on that seq, the
// table marks the row, and closing returns to no panel.
func TestConsoleOpenCloseDrill(t *testing.T) {
	h, e := mustLoadConsole(t, &fakeBFF{})
	h.pull(query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20})
	e.ConsumeAll()
	(*h.ctx).NewActionWithValue(actionOpenSeq, uint32(7))
	e.ConsumeAll()
	if !h.drillOpen || h.drillRow.Seq != 7 || h.drillRow.Read != 7 {
		t.Fatalf("after open: open %v, row %+v", h.drillOpen, h.drillRow)
	}
	(*h.ctx).NewActionWithValue(actionOpenSeq, uint32(99)) // not in the result
	e.ConsumeAll()
	if h.drillRow.Seq != 7 {
		t.Errorf("an unknown seq changed the panel to %+v", h.drillRow)
	}
	(*h.ctx).NewActionWithValue(actionPageSize, 25)
	e.ConsumeAll()
	if h.pageSize != 25 {
		t.Errorf("page size %d, want 25", h.pageSize)
	}
	(*h.ctx).NewAction(actionCloseDrill)
	e.ConsumeAll()
	if h.drillOpen {
		t.Error("the panel is still open")
	}
	// Another question closes the panel.
	(*h.ctx).NewActionWithValue(actionOpenSeq, uint32(7))
	e.ConsumeAll()
	h.pull(query{App: "prod", Group: "g2", Seqs: "1-3", Count: 3})
	e.ConsumeAll()
	if h.drillOpen {
		t.Error("a new question kept the old panel open")
	}
}

func TestConsoleUnauthorizedLeaves(t *testing.T) {
	h, e := mustLoadConsole(t, &fakeBFF{status: 401, errBody: `{"code":"unauthorized","message":"sign in","loginUrl":"/auth/login"}`})
	h.pull(query{App: "prod", Group: "g1", Seqs: "1", Count: 1})
	e.ConsumeAll()
	if !h.leaving || h.err != nil {
		t.Errorf("leaving %v, err %v; want a redirect, no error box", h.leaving, h.err)
	}
}

func TestPageSizeFromURL(t *testing.T) {
	tests := []struct {
		raw  string
		want int
		ok   bool
	}{
		{"/receipts?pageSize=5", 5, true},
		{"/receipts?pageSize=200", 200, true},
		{"/receipts?pageSize=201", 0, false},
		{"/receipts?pageSize=0", 0, false},
		{"/receipts?pageSize=x", 0, false},
		{"/receipts", 0, false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.raw)
		if got, ok := pageSizeFromURL(u); got != tt.want || ok != tt.ok {
			t.Errorf("pageSizeFromURL(%s) = %d, %v; want %d, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
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

// containsAll reports whether s contains every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
