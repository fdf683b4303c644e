//go:build e2e

package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is one headless Chromium with a fresh profile, plus everything it
// saw: console output, CSP violations, every request it sent and every
// response it received, so a test can assert on what reached the browser,
// not on what we think we sent.
type browser struct {
	t testing.TB
	*session
}

// session is the browser itself and what it recorded; a browser value
// pairs it with the (sub)test that reports failures.
type session struct {
	ctx context.Context

	mu         sync.Mutex
	console    []string
	violations []string
	requests   []capturedRequest
	responses  []capturedResponse
	byID       map[network.RequestID]capturedRequest

	// capture fetches every response body; a bench browser only times
	// the requests (timings), which costs no body fetch.
	capture bool
	timings map[network.RequestID]*requestTiming

	bodies sync.WaitGroup // body fetches in flight
	slots  chan struct{}  // bounds the body fetches

	// close ends the browser; it runs at the end of the test at the latest.
	close func()
}

// in returns the same browser reporting to t, for use inside a subtest
// (a subtest must not fail its parent with FailNow).
func (b *browser) in(t testing.TB) *browser { return &browser{t: t, session: b.session} }

// requestTiming is when the browser sent a request and when the last bytes
// of its answer arrived, in seconds of Chromium's monotonic clock.
type requestTiming struct {
	URL      string
	Start    float64
	LastData float64
}

// lastTiming returns the timing of the latest request whose URL ends in
// suffix.
func (b *browser) lastTiming(suffix string) (requestTiming, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var last requestTiming
	found := false
	for _, rt := range b.timings {
		if strings.HasSuffix(rt.URL, suffix) && (!found || rt.Start > last.Start) {
			last, found = *rt, true
		}
	}
	return last, found
}

// capturedRequest is one request the browser sent (redirect hops included).
type capturedRequest struct {
	Method string
	URL    string
}

// capturedResponse is what the browser received for one request: headers
// as Chromium reported them, and the body once loading finished.
type capturedResponse struct {
	ID     network.RequestID
	Method string
	// RequestURL is the URL requested; URL is the URL answered (a redirect
	// hop's own URL), with " (raw headers)" or " (body)" for those records.
	RequestURL string
	URL        string
	Status     int64
	Headers    string
	Body       []byte
}

// cspProbe reports every CSP violation to the console with a marker, so the
// suite can count them; Chromium sends no CDP event of its own for them.
const cspProbe = `document.addEventListener('securitypolicyviolation', e =>
	console.error('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI));`

// chromiumPath finds Debian's Chromium. A missing browser fails the suite:
// a skipped browser test must never be counted as a pass.
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed; install Debian's chromium package (.ci/run does)")
	return ""
}

// newBrowser starts Chromium with a fresh profile and starts recording.
// Scripts run in every new document before the page's own.
func newBrowser(t testing.TB, scripts ...string) *browser {
	t.Helper()
	return startBrowser(t, true, scripts)
}

// newBenchBrowser is a fresh browser that records only console output:
// fetching every response body (app.wasm is 8 MB) would slow what a
// benchmark measures.
func newBenchBrowser(tb testing.TB, scripts ...string) *browser {
	tb.Helper()
	return startBrowser(tb, false, scripts)
}

func startBrowser(t testing.TB, capture bool, scripts []string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	b := &browser{t: t, session: &session{ctx: ctx, byID: map[network.RequestID]capturedRequest{}, slots: make(chan struct{}, 4),
		capture: capture, timings: map[network.RequestID]*requestTiming{}}}
	b.close = sync.OnceFunc(func() {
		cancelC()
		cancelA()
		b.bodies.Wait()
	})
	t.Cleanup(b.close)
	// Start the browser on a context without a deadline: the first action
	// binds the browser's life to its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.onEvent); err != nil {
		t.Fatalf("listen to browser events: %v", err)
	}
	if capture {
		// Keep bodies long enough to fetch them, app.wasm included (8 MB).
		total, each := int64(400<<20), int64(64<<20)
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{MaxTotalBufferSize: &total, MaxResourceBufferSize: &each}); err != nil {
			t.Fatalf("enable network events: %v", err)
		}
	} else if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable log events: %v", err)
	}
	for _, s := range append([]string{cspProbe}, scripts...) {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: s}); err != nil {
			t.Fatalf("install a start-up script: %v", err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			b.mu.Lock()
			defer b.mu.Unlock()
			t.Logf("browser console:\n%s", strings.Join(b.console, "\n"))
		}
	})
	return b
}

// onEvent runs on chromedp's reader goroutine: it only records, and leaves
// the body fetches (which are commands) to other goroutines.
func (b *browser) onEvent(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		b.logLine(fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		b.logLine("exception: " + text)
	case *cdplog.EventEntryAdded:
		if ev.Entry != nil {
			b.logLine(fmt.Sprintf("log.%s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		b.mu.Lock()
		defer b.mu.Unlock()
		if r := ev.RedirectResponse; r != nil {
			prev := b.byID[ev.RequestID]
			b.responses = append(b.responses, capturedResponse{ID: ev.RequestID, Method: prev.Method, RequestURL: prev.URL, URL: r.URL, Status: r.Status, Headers: fmt.Sprint(r.Headers)})
		}
		req := capturedRequest{URL: ev.Request.URL, Method: ev.Request.Method}
		b.byID[ev.RequestID] = req
		b.requests = append(b.requests, req)
		b.timings[ev.RequestID] = &requestTiming{URL: ev.Request.URL, Start: ev.Timestamp.Float64()}
	case *network.EventDataReceived:
		b.mu.Lock()
		defer b.mu.Unlock()
		if rt := b.timings[ev.RequestID]; rt != nil {
			rt.LastData = ev.Timestamp.Float64()
		}
	case *network.EventResponseReceivedExtraInfo:
		b.mu.Lock()
		defer b.mu.Unlock()
		req := b.byID[ev.RequestID]
		b.responses = append(b.responses, capturedResponse{ID: ev.RequestID, Method: req.Method, RequestURL: req.URL, URL: req.URL + " (raw headers)", Status: ev.StatusCode, Headers: fmt.Sprint(ev.Headers) + "\n" + ev.HeadersText})
	case *network.EventResponseReceived:
		b.mu.Lock()
		defer b.mu.Unlock()
		req := b.byID[ev.RequestID]
		b.responses = append(b.responses, capturedResponse{ID: ev.RequestID, Method: req.Method, RequestURL: req.URL, URL: ev.Response.URL, Status: ev.Response.Status, Headers: fmt.Sprint(ev.Response.Headers)})
	case *network.EventLoadingFinished:
		if !b.capture {
			return
		}
		// Bodies are fetched right away: Chromium drops them once the page
		// moves on.
		b.mu.Lock()
		req := b.byID[ev.RequestID]
		b.mu.Unlock()
		b.bodies.Add(1)
		go b.fetchBody(ev.RequestID, req)
	}
}

func (b *browser) fetchBody(id network.RequestID, req capturedRequest) {
	defer b.bodies.Done()
	select {
	case b.slots <- struct{}{}:
	case <-b.ctx.Done():
		return
	}
	defer func() { <-b.slots }()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
	if err != nil {
		// Redirects, preflights, aborted and opaque answers have no body.
		return
	}
	b.mu.Lock()
	b.responses = append(b.responses, capturedResponse{ID: id, Method: req.Method, RequestURL: req.URL, URL: req.URL + " (body)", Body: res.Body})
	b.mu.Unlock()
}

func (b *browser) logLine(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, line)
	if strings.Contains(line, "CSP-VIOLATION") || strings.Contains(line, "Content Security Policy") {
		b.violations = append(b.violations, line)
	}
}

// do runs actions with a bounded time.
func (b *browser) do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.picture("failed-action")
		b.t.Fatalf("browser: %v", err)
	}
}

// navigate loads url and returns at its load event.
func (b *browser) navigate(url string) {
	b.t.Helper()
	b.do(30*time.Second, chromedp.Navigate(url))
}

// click clicks the element with the given id once it is visible.
func (b *browser) click(id string) {
	b.t.Helper()
	b.do(20*time.Second, chromedp.Click(chromedp.ID(id), chromedp.NodeVisible))
}

// typeInto replaces the text of an input with real key events, so the
// app's input handlers see every keystroke. The old text is selected and
// typed over rather than cleared first: a cleared value that the app has not
// seen yet can be written back by its next render, eating the first key.
func (b *browser) typeInto(id, text string) {
	b.t.Helper()
	sel := fmt.Sprintf(`document.getElementById(%q)`, id)
	for attempt := 1; ; attempt++ {
		b.do(20*time.Second, chromedp.WaitVisible(chromedp.ID(id)))
		eval[bool](b, `(() => { const el = `+sel+`; el.focus(); el.select(); return true; })()`)
		b.do(20*time.Second, chromedp.SendKeys(chromedp.ID(id), text))
		got := ""
		for range 20 { // let the app settle before reading back
			time.Sleep(20 * time.Millisecond)
			if got = eval[string](b, sel+`.value`); got == text {
				return
			}
		}
		if attempt == 3 {
			b.t.Fatalf("typed %q into #%s, but it holds %q", text, id, got)
		}
	}
}

// eval evaluates a JavaScript expression and decodes its value. Promises
// are awaited.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true or the timeout
// ends. It survives navigations (an evaluation that fails because the page
// is changing is retried), so it also waits across redirects.
func (b *browser) waitFor(what, cond string, timeout time.Duration) {
	b.t.Helper()
	if err := b.poll(cond, timeout, 20*time.Millisecond); err != nil {
		b.picture("timeout-" + sanitize(what))
		b.t.Fatalf("waiting for %s (%s): %v", what, cond, err)
	}
}

// poll is waitFor without failing the test.
func (b *browser) poll(cond string, timeout, every time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if b.ctx.Err() != nil {
			return b.ctx.Err()
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("timed out after %v (last error: %v)", timeout, last)
			}
			return fmt.Errorf("timed out after %v", timeout)
		}
		time.Sleep(every)
	}
}

// waitMounted waits until the wasm app has mounted and is usable: the root
// element carries data-mounted="true" only after OnMount ran in the browser.
func (b *browser) waitMounted() {
	b.t.Helper()
	b.waitFor("the app to mount", `document.querySelector('#console[data-mounted="true"]') !== null`, 60*time.Second)
}

// location is the page's current URL.
func (b *browser) location() string {
	b.t.Helper()
	return eval[string](b, `location.href`)
}

// cookies returns the browser's cookies for the given URLs.
func (b *browser) cookies(urls ...string) []*network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		b.t.Fatalf("get cookies: %v", err)
	}
	return res.Cookies
}

// screenshotDir is the git-ignored folder the suite writes pictures to.
func screenshotDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "out", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves a full-page PNG named after the test and the step, and
// checks the screen's accessibility (a screen worth a picture is one an
// operator sees); the pictures of a failure are only pictures.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.picture(name)
	if !strings.HasPrefix(name, "failed-") && !strings.HasPrefix(name, "timeout-") {
		b.checkA11y(name)
	}
}

// picture saves a full-page PNG named after the test and the step.
func (b *browser) picture(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(screenshotDir(b.t), sanitize(b.t.Name())+"-"+sanitize(name)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Errorf("write screenshot: %v", err)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitize(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// flush waits for the body fetches in flight, so the captured traffic is
// complete up to now.
func (b *browser) flush() {
	done := make(chan struct{})
	go func() {
		b.bodies.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		b.t.Errorf("response bodies still loading after 15s")
	}
}

// sentRequests returns the requests sent so far.
func (b *browser) sentRequests() []capturedRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]capturedRequest(nil), b.requests...)
}

// received returns the responses captured so far.
func (b *browser) received() []capturedResponse {
	b.flush()
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]capturedResponse(nil), b.responses...)
}

// consoleLines returns the console, exception and log lines so far.
func (b *browser) consoleLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// cspViolations returns the CSP violations seen so far.
func (b *browser) cspViolations() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.violations...)
}

// assertNoSecrets checks that no captured response carries any of the
// secrets, in its headers or its body. secrets maps a description to a
// value.
func (b *browser) assertNoSecrets(secrets map[string]string) {
	b.t.Helper()
	responses := b.received()
	bodies := 0
	for _, r := range responses {
		if len(r.Body) > 0 {
			bodies++
		}
	}
	if bodies == 0 {
		b.t.Fatal("secret scan: no response bodies were captured; the scan would prove nothing")
	}
	for kind, s := range secrets {
		if len(s) < 8 {
			b.t.Fatalf("secret scan: %s is too short (%d bytes) to scan for meaningfully", kind, len(s))
		}
		for _, r := range responses {
			if strings.Contains(r.Headers, s) || bytes.Contains(r.Body, []byte(s)) {
				b.t.Errorf("secret scan: %s found in the response of %s %s", kind, r.Method, r.URL)
			}
		}
	}
	b.t.Logf("secret scan: %d secrets against %d captured responses (%d bodies)", len(secrets), len(responses), bodies)
}
