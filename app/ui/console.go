package ui

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// console is the one page of the app. "/" and "/receipts" both render it;
// the URL's query string is the state that matters for sharing.
//
// The page owns routing and status: who is signed in, the URL's question
// and the pull that answers it, the result on screen, which row's members
// are open, errors and notices. The query form, the summary tiles, the
// chart, the table and the drill-down are child components (one file
// each) that get value inputs from it and talk back through go-app actions
// (actions.go), which the page handles with its own context.
//
// The page keeps no app.Context. Work that outlives an event (a pull, a
// retry, /api/me) starts in a hook or an action handler, whose context has
// the page as its source, and its closures capture that context: its
// dispatches land as long as the page is mounted, whatever happened to the
// button that started them (go-app drops a dispatch whose source element
// has left the DOM).
type console struct {
	app.Compo

	api     *client
	mounted bool

	me       *api.Me
	meStatus loadStatus
	recent   []query

	// What the URL asked for: the form's pre-fill (taken at each
	// navigation to a deep link, counted by nav) and the drill-down's page
	// size (the pageSize parameter, or the operator's choice).
	prefill  formInput
	nav      int
	pageSize int

	// The pull in flight. pendingCount is its seq count: the query's, or
	// the failed seqs' when it retries those of a partial result.
	pulling      bool
	pendingCount int
	progDone     int
	progTotal    int
	pullGen      int
	pullCancel   context.CancelFunc
	pullStart    time.Time
	elapsed      time.Duration
	// forceFresh makes the next navigation pull even when the result is
	// cached: the operator pressed Pull, they want current numbers.
	forceFresh bool

	// The result on screen (nil before the first one), and the row whose
	// members are open.
	shown     *cachedResult
	cache     resultCache
	drillOpen bool
	drillRow  api.Receipt

	err     *api.Error
	notice  string
	updated bool // a new version is ready: offer a reload
	leaving bool // on the way to the login page

	// The warm-up of a pull's code paths (warmup.go).
	warm warmStage

	// Update checks while the tab is open (update.go).
	watch        updateWatch
	onVisibility app.Func
}

// cachedResult is a result with its chart geometry, computed once, so a
// re-render (every keystroke, every hover) costs no recomputation. The
// summary is the server's, as sent.
type cachedResult struct {
	Query    query
	Resp     *api.ReceiptsResponse
	Geom     chartGeom
	ChartSVG string // chartSVG(Geom)
}

func newConsole() *console {
	return &console{api: &client{t: newTransport()}, pageSize: defaultMembersPage}
}

// newResult derives the chart once: its geometry and its SVG. It is pure,
// so a pull runs it in its goroutine.
func newResult(q query, resp *api.ReceiptsResponse) *cachedResult {
	g := chartLayout(resp.Results, chartW, chartH)
	return &cachedResult{Query: q, Resp: resp, Geom: g, ChartSVG: chartSVG(g)}
}

// OnMount runs in the browser only: take the children's actions, load the
// operator and the local lists.
func (c *console) OnMount(ctx app.Context) {
	c.mounted = true
	c.listen(ctx)
	_ = ctx.LocalStorage().Get(storeRecent, &c.recent)
	c.updated = ctx.AppUpdateAvailable()
	if !c.updated {
		c.watchUpdates(ctx)
	}
	c.loadMe(ctx)
}

// listen registers the page's action handlers. go-app runs each with a
// context whose source is the page, and drops them when the page goes.
func (c *console) listen(ctx app.Context) {
	ctx.Handle(actionPull, c.handlePull)
	ctx.Handle(actionFormInvalid, c.handleFormInvalid)
	ctx.Handle(actionRetry, c.handleRetry)
	ctx.Handle(actionRetryFailed, c.handleRetryFailed)
	ctx.Handle(actionOpenSeq, c.handleOpenSeq)
	ctx.Handle(actionCloseDrill, c.handleCloseDrill)
	ctx.Handle(actionPageSize, c.handlePageSize)
	ctx.Handle(actionFail, c.handleFail)
}

// OnNav runs on the server (prerendering) and in the browser: the URL is the
// query. The server only pre-fills the form; the browser also pulls.
func (c *console) OnNav(ctx app.Context) {
	u := ctx.Page().URL()
	q, ok := queryFromURL(u)
	if u.Path == pathReceipts {
		c.prefill = formInput{App: q.App, Group: q.Group, Seqs: q.Seqs}
		c.nav++
	}
	if n, ok := pageSizeFromURL(u); ok {
		c.pageSize = n
	}
	if !app.IsClient {
		return
	}
	fresh := c.forceFresh
	c.forceFresh = false
	switch {
	case !ok:
		c.stopPull()
		c.shown = nil
		c.drillOpen = false
	case c.shown != nil && c.shown.Query.key() == q.key() && !fresh:
	default:
		if r, hit := c.cache.get(q); hit && !fresh {
			c.stopPull()
			c.show(r)
			return
		}
		c.runPull(ctx, q, nil)
	}
}

// pageSizeParam is the deep link's drill-down page size (1 to
// api.MaxMembersLimit members), e.g. /receipts?app=…&group=…&seqs=…&pageSize=25.
const pageSizeParam = "pageSize"

// pageSizeFromURL reads the pageSize parameter, if valid.
func pageSizeFromURL(u *url.URL) (int, bool) {
	if u == nil {
		return 0, false
	}
	n, err := strconv.Atoi(u.Query().Get(pageSizeParam))
	if err != nil || n < 1 || n > api.MaxMembersLimit {
		return 0, false
	}
	return n, true
}

// OnAppUpdate shows the "new version" banner: the service worker serves the
// old version first after a deploy. Once it shows, there is nothing more
// to look for until the reload.
func (c *console) OnAppUpdate(ctx app.Context) {
	c.updated = ctx.AppUpdateAvailable()
	if c.updated {
		c.unwatchUpdates()
	}
}

// OnDismount stops a pull in flight and the update checks.
func (c *console) OnDismount() {
	c.stopPull()
	c.unwatchUpdates()
}

// loadMe fetches the operator and their apps; ctx must be the page's.
func (c *console) loadMe(ctx app.Context) {
	c.meStatus = loading
	ctx.Async(func() {
		me, err := c.api.me(ctx)
		ctx.Dispatch(func(ctx app.Context) {
			if e := asAPIError(err); e != nil {
				c.meStatus = loadingErr
				c.fail(ctx, e)
				return
			}
			if err != nil {
				return
			}
			c.me, c.meStatus = me, loaded
			c.scheduleWarmUp(ctx)
		})
	})
}

// fail shows an error, or leaves for the login page on 401.
func (c *console) fail(ctx app.Context, e *api.Error) {
	if e.Code == api.ECodeUnauthorized {
		c.leaving = true
		if app.IsClient {
			app.Window().Get("location").Set("href", loginURL(ctx.Page().URL()))
		}
		return
	}
	c.err = e
}

// handlePull is a valid Pull: the query goes into the URL, which runs it;
// the same URL again is a refresh.
func (c *console) handlePull(ctx app.Context, a app.Action) {
	q, ok := a.Value.(query)
	if !ok {
		return
	}
	c.notice = ""
	if cur, ok := queryFromURL(ctx.Page().URL()); ok && cur.key() == q.key() {
		c.runPull(ctx, q, nil)
		return
	}
	c.forceFresh = true
	ctx.Navigate(q.path())
}

// handleFormInvalid is a Pull the form refused. The error box is about the
// previous query: next to the new problems it would read as their cause.
// Only the box goes; the result on screen stays. A failed /api/me is not
// stale: its box is how the operator retries loading their apps.
func (c *console) handleFormInvalid(ctx app.Context, a app.Action) {
	c.notice = ""
	if c.meStatus != loadingErr {
		c.err = nil
	}
}

// handleRetry repeats what failed: /api/me, or the pull of the URL.
func (c *console) handleRetry(ctx app.Context, a app.Action) {
	c.err = nil
	if c.meStatus == loadingErr {
		c.loadMe(ctx)
		return
	}
	if q, ok := queryFromURL(ctx.Page().URL()); ok {
		c.runPull(ctx, q, nil)
	}
}

// handleRetryFailed pulls again only the seqs the result on screen could
// not fetch, and merges the answers into it.
func (c *console) handleRetryFailed(ctx app.Context, a app.Action) {
	if c.shown != nil && c.shown.Resp.Partial {
		c.runPull(ctx, c.shown.Query, c.shown)
	}
}

// handleOpenSeq opens the drill-down of a seq of the result on screen (a
// row or a chart column).
func (c *console) handleOpenSeq(ctx app.Context, a app.Action) {
	seq, ok := a.Value.(uint32)
	if !ok || c.shown == nil {
		return
	}
	for _, r := range c.shown.Resp.Results {
		if r.Seq == seq {
			c.drillOpen, c.drillRow = true, r
			// The panel focuses its title when it mounts; an open panel
			// shown again (the same seq) gets the focus here.
			ctx.Defer(func(app.Context) { focusID("drilldown-title") })
			return
		}
	}
}

// handleCloseDrill closes the panel and returns focus to its row.
func (c *console) handleCloseDrill(ctx app.Context, a app.Action) {
	seq := c.drillRow.Seq
	c.drillOpen = false
	ctx.Defer(func(app.Context) { focusID("row-" + formatSeq(seq)) })
}

// handlePageSize is the drill-down's "per page" select.
func (c *console) handlePageSize(ctx app.Context, a app.Action) {
	if n, ok := a.Value.(int); ok {
		c.pageSize = validPageSize(n)
	}
}

// handleFail is a child's failure that concerns the page (a 401).
func (c *console) handleFail(ctx app.Context, a app.Action) {
	if e, ok := a.Value.(*api.Error); ok && e != nil {
		c.fail(ctx, e)
	}
}

// runPull runs query q, or, with base, only base's not-fetched seqs, whose
// answers then replace theirs in base. A newer pull or Cancel supersedes
// it. ctx must be the page's (from a hook or an action handler).
func (c *console) runPull(ctx app.Context, q query, base *cachedResult) {
	c.stopPull()
	pctx, cancel := context.WithCancel(ctx)
	c.pullGen++
	gen := c.pullGen
	req := api.ReceiptsRequest{App: q.App, GroupID: q.Group, Seqs: api.SeqText(q.Seqs)}
	count := q.Count
	if base != nil {
		failed := base.Resp.NotFetchedSeqs()
		req.Seqs, count = api.SeqText(api.FormatSeqs(failed)), len(failed)
	}
	c.pulling, c.pendingCount, c.pullCancel = true, count, cancel
	c.progDone, c.progTotal = 0, count
	c.pullStart, c.elapsed = time.Now(), 0
	c.err, c.notice = nil, ""
	// The elapsed time shows even while Tencent sends no progress. A
	// browser interval, not a Go ticker: a Go timer running beside go-app's
	// frame timer delayed its renders by many seconds in headless Chromium.
	stopClock := c.startClock(ctx, gen)
	ctx.Async(func() {
		defer cancel()
		defer stopClock()
		progress := func(done, total int) {
			// The stream counts in its own unit (tim's batches of up to 50
			// seqs); the label counts seqs, so scale to the query's.
			if total > 0 && count > 0 {
				done, total = done*count/total, count
			}
			ctx.Dispatch(func(app.Context) {
				if gen == c.pullGen && c.pulling {
					c.progDone, c.progTotal = done, total
				}
			})
		}
		var resp *api.ReceiptsResponse
		var err error
		if count <= streamMinSeqs {
			// The answer's arrival starts go-app's next frame (it comes
			// about 8 ms after the first dispatch): the body's decoding
			// and the chart's drawing below then run in that wait, not
			// after it. If they take longer, the result's frame comes 8
			// ms after its dispatch, as it would have anyway.
			resp, err = c.api.receiptsOnce(pctx, req, func() { ctx.Dispatch(nil) })
		} else {
			resp, err = c.api.receipts(pctx, req, progress)
		}
		// A new result's chart (geometry and SVG) is drawn here, off the
		// UI goroutine's frame; a retry's is, once merged, on it.
		var fresh *cachedResult
		if err == nil && base == nil {
			fresh = newResult(q, resp)
		}
		ctx.Dispatch(func(ctx app.Context) {
			if gen != c.pullGen {
				return
			}
			c.pulling, c.pullCancel = false, nil
			if err != nil {
				if e := asAPIError(err); e != nil {
					c.fail(ctx, e)
				}
				return
			}
			r := fresh
			if base != nil {
				r = newResult(q, mergeRetry(base.Resp, resp))
			}
			c.cache.put(q, r)
			c.show(r)
			if base == nil {
				c.recent = pushRecent(c.recent, q, maxRecent)
				ctx.LocalStorage().Set(storeRecent, c.recent)
			}
		})
	})
}

// streamMinSeqs: a pull of at most this many seqs asks for plain JSON, not
// the progress stream. Tencent answers up to 50 seqs in one call, so the
// stream would have no progress to show, only lines to read and render;
// the elapsed time still shows while the call runs.
const streamMinSeqs = 50

// startClock updates the elapsed time of pull gen once a second until the
// returned stop is called (from any goroutine).
func (c *console) startClock(ctx app.Context, gen int) (stop func()) {
	if !app.IsClient {
		return func() {}
	}
	tick := app.FuncOf(func(app.Value, []app.Value) any {
		ctx.Dispatch(func(app.Context) {
			if gen == c.pullGen && c.pulling {
				c.elapsed = time.Since(c.pullStart)
			}
		})
		return nil
	})
	id := app.Window().Call("setInterval", tick, 1000)
	var once sync.Once
	return func() {
		once.Do(func() {
			app.Window().Call("clearInterval", id)
			tick.Release()
		})
	}
}

// mergeRetry puts the answers of a retry of the not-fetched seqs into the
// partial result they came from: the same seqs in the same order, the
// retried ones replaced, the upstream cost added up. It is the one place
// the UI computes a summary: the merged result has none from the server,
// so it is recomputed by the server's own rule (api.Summarize).
func mergeRetry(base, retry *api.ReceiptsResponse) *api.ReceiptsResponse {
	bySeq := make(map[uint32]api.Receipt, len(retry.Results))
	for _, r := range retry.Results {
		bySeq[r.Seq] = r
	}
	out := *base
	out.Results = make([]api.Receipt, len(base.Results))
	for i, r := range base.Results {
		if n, ok := bySeq[r.Seq]; ok && r.Code == api.CodeNotFetched {
			r = n
		}
		out.Results[i] = r
	}
	out.Summary = api.Summarize(out.Results)
	out.Partial = out.Summary.NotFetched > 0
	out.Upstream.Calls += retry.Upstream.Calls
	out.Upstream.Retries += retry.Upstream.Retries
	out.Upstream.ElapsedMS += retry.Upstream.ElapsedMS
	return &out
}

// stopPull cancels the pull in flight, if any; its answer is ignored.
func (c *console) stopPull() {
	if c.pullCancel != nil {
		c.pullCancel()
	}
	if c.pulling {
		c.pullGen++
	}
	c.pulling, c.pullCancel = false, nil
}

// cancelPull is the Cancel button.
func (c *console) cancelPull() {
	if !c.pulling {
		return
	}
	c.stopPull()
	c.notice = "Pull cancelled."
	if c.shown != nil {
		c.notice += " The result below is the previous one."
	}
}

// show puts a result on screen. Another question closes the drill-down;
// the same question refreshed keeps it.
func (c *console) show(r *cachedResult) {
	same := c.shown != nil && c.shown.Query.key() == r.Query.key()
	c.shown = r
	c.err = nil
	if !same {
		c.drillOpen = false
	}
}

// focusID moves keyboard focus; a no-op outside the browser.
func focusID(id string) {
	if !app.IsClient {
		return
	}
	if el := app.Window().GetElementByID(id); el.Truthy() {
		el.Call("focus")
	}
}

// appLabel is how an app appears in the select: name, SDKAppID, region.
func appLabel(a api.App) string {
	s := a.Name
	if s == "" {
		s = a.ID
	}
	s += " · " + strconv.FormatUint(a.SDKAppID, 10)
	if a.Region != "" {
		s += " · " + a.Region
	}
	return s
}

// appName names an app ID for headings, falling back to the ID.
func (c *console) appName(id string) string {
	if c.me != nil {
		for _, a := range c.me.Apps {
			if a.ID == id {
				return strings.TrimSpace(a.Name + " (" + strconv.FormatUint(a.SDKAppID, 10) + ")")
			}
		}
	}
	return id
}
