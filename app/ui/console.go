package ui

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// console is the one page of the app: the query form, the results and the
// drill-down. "/" and "/receipts" both render it; the URL's query string is
// the state that matters for sharing, everything else is private state.
type console struct {
	app.Compo

	// uictx is the component's own context, kept from OnMount/OnNav. Async
	// work dispatches its results through it: go-app drops a Dispatch whose
	// source element has left the DOM (a Retry button that vanished, a row
	// filtered away), and a lost result would leave a spinner forever.
	uictx   app.Context
	hasCtx  bool
	api     *client
	mounted bool

	me       *api.Me
	meStatus loadStatus

	in      formInput
	check   formCheck
	touched bool // the operator pressed Pull once: show every problem
	recent  []query

	// The pull in flight. pendingCount is its seq count: the query's, or
	// the failed seqs' when it retries those of a partial result.
	pulling      bool
	pending      query
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

	// The result on screen (nil before the first one).
	shown   *cachedResult
	cache   resultCache
	hover   int
	view    tableView
	below   string
	rows    []api.Receipt
	drill   drill
	err     *api.Error
	notice  string
	updated bool // a new version is ready: offer a reload
	leaving bool // on the way to the login page

	// Update checks while the tab is open (update.go).
	watch        updateWatch
	onVisibility app.Func
}

// cachedResult is a result with what was derived from it once, so a
// re-render (every keystroke, every hover) costs no recomputation.
type cachedResult struct {
	Query   query
	Resp    *api.ReceiptsResponse
	Summary api.Summary
	Geom    chartGeom
}

func newConsole() *console {
	return &console{api: &client{t: newTransport()}, hover: -1, check: checkForm(formInput{}, nil)}
}

// newResult derives the summary and chart once.
func newResult(q query, resp *api.ReceiptsResponse) *cachedResult {
	return &cachedResult{
		Query:   q,
		Resp:    resp,
		Summary: api.Summarize(resp.Results),
		Geom:    chartLayout(resp.Results, chartW, chartH),
	}
}

// OnMount runs in the browser only: load the operator and the local lists.
func (c *console) OnMount(ctx app.Context) {
	c.setCtx(ctx)
	c.mounted = true
	_ = ctx.LocalStorage().Get(storeRecent, &c.recent)
	if c.in.App == "" {
		_ = ctx.LocalStorage().Get(storeLastApp, &c.in.App)
	}
	var pageSize int
	if ctx.LocalStorage().Get(storeMembersPage, &pageSize) == nil && pageSize >= 1 && pageSize < membersPageSize {
		membersPageSize = pageSize
	}
	c.updated = ctx.AppUpdateAvailable()
	if !c.updated {
		c.watchUpdates(ctx)
	}
	c.loadMe()
}

// OnNav runs on the server (prerendering) and in the browser: the URL is the
// query. The server only pre-fills the form; the browser also pulls.
func (c *console) OnNav(ctx app.Context) {
	c.setCtx(ctx)
	u := ctx.Page().URL()
	q, ok := queryFromURL(u)
	if u.Path == pathReceipts {
		c.in = formInput{App: q.App, Group: q.Group, Seqs: q.Seqs}
		c.check = checkForm(c.in, c.me)
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
		c.drill.close()
	case c.shown != nil && c.shown.Query.key() == q.key() && !fresh:
	default:
		if r, hit := c.cache.get(q); hit && !fresh {
			c.stopPull()
			c.show(r)
			return
		}
		c.startPull(q)
	}
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

func (c *console) setCtx(ctx app.Context) {
	c.uictx, c.hasCtx = ctx, true
}

// loadMe fetches the operator and their apps.
func (c *console) loadMe() {
	if !c.hasCtx {
		return
	}
	ctx := c.uictx
	c.meStatus = loading
	ctx.Async(func() {
		me, err := c.api.me(ctx)
		ctx.Dispatch(func(ctx app.Context) {
			if e := asAPIError(err); e != nil {
				c.meStatus = loadingErr
				c.fail(e)
				return
			}
			if err != nil {
				return
			}
			c.me, c.meStatus = me, loaded
			if (c.in.App == "" || !hasApp(me, c.in.App)) && len(me.Apps) > 0 {
				c.in.App = me.Apps[0].ID
			}
			c.check = checkForm(c.in, c.me)
		})
	})
}

// fail shows an error, or leaves for the login page on 401.
func (c *console) fail(e *api.Error) {
	if e.Code == api.ECodeUnauthorized {
		c.leaving = true
		if c.hasCtx {
			app.Window().Get("location").Set("href", loginURL(c.uictx.Page().URL()))
		}
		return
	}
	c.err = e
}

// submit is Pull (or Enter in the form).
func (c *console) submit(ctx app.Context) {
	c.touched = true
	c.notice = ""
	c.check = checkForm(c.in, c.me)
	if !c.check.OK() {
		// The error box is about the previous query: next to the new
		// problems it would read as their cause. Only the box goes; the
		// result on screen stays. A failed /api/me is not stale: its box
		// is how the operator retries loading their apps.
		if c.meStatus != loadingErr {
			c.err = nil
		}
		c.focusFirstProblem(ctx)
		return
	}
	q := c.check.query(c.in)
	ctx.LocalStorage().Set(storeLastApp, q.App)
	if cur, ok := queryFromURL(ctx.Page().URL()); ok && cur.key() == q.key() {
		c.startPull(q) // same URL: a refresh
		return
	}
	c.forceFresh = true
	ctx.Navigate(q.path())
}

func (c *console) focusFirstProblem(ctx app.Context) {
	id := ""
	switch {
	case c.check.AppProblem != "":
		id = "app-select"
	case c.check.GroupProblem != "":
		id = "group-input"
	case len(c.check.SeqProblems) > 0:
		id = "seqs-input"
	}
	if id != "" {
		ctx.Defer(func(app.Context) { focusID(id) })
	}
}

// startPull runs a query; a newer pull or Cancel supersedes it.
func (c *console) startPull(q query) { c.runPull(q, nil) }

// retryFailed pulls again only the seqs the result on screen could not
// fetch, and merges the answers into it.
func (c *console) retryFailed() {
	if c.shown != nil && c.shown.Resp.Partial {
		c.runPull(c.shown.Query, c.shown)
	}
}

// runPull runs query q, or, with base, only base's not-fetched seqs, whose
// answers then replace theirs in base.
func (c *console) runPull(q query, base *cachedResult) {
	c.stopPull()
	if !c.hasCtx {
		return
	}
	ctx := c.uictx
	pctx, cancel := context.WithCancel(ctx)
	c.pullGen++
	gen := c.pullGen
	req := api.ReceiptsRequest{App: q.App, GroupID: q.Group, Seqs: api.SeqText(q.Seqs)}
	count := q.Count
	if base != nil {
		failed := base.Resp.NotFetchedSeqs()
		req.Seqs, count = api.SeqText(api.FormatSeqs(failed)), len(failed)
	}
	c.pulling, c.pending, c.pendingCount, c.pullCancel = true, q, count, cancel
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
		resp, err := c.api.receipts(pctx, req, progress)
		ctx.Dispatch(func(app.Context) {
			if gen != c.pullGen {
				return
			}
			c.pulling, c.pullCancel = false, nil
			if err != nil {
				if e := asAPIError(err); e != nil {
					c.fail(e)
				}
				return
			}
			if base != nil {
				resp = mergeRetry(base.Resp, resp)
			}
			r := newResult(q, resp)
			c.cache.put(q, r)
			c.show(r)
			if base == nil {
				c.recent = pushRecent(c.recent, q, maxRecent)
				ctx.LocalStorage().Set(storeRecent, c.recent)
			}
		})
	})
}

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
// retried ones replaced, the summary recomputed by the server's own rule,
// the upstream cost added up.
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

// show puts a result on screen.
func (c *console) show(r *cachedResult) {
	same := c.shown != nil && c.shown.Query.key() == r.Query.key()
	c.shown = r
	c.hover = -1
	c.err = nil
	if !same {
		c.view.Page = 0
		c.drill.close()
	}
	c.refreshRows()
}

// refreshRows recomputes the table after a result or view change.
func (c *console) refreshRows() {
	if c.shown == nil {
		c.rows = nil
		return
	}
	c.view.Below = parseBelow(c.below)
	c.rows = tableRows(c.shown.Resp.Results, c.view)
}

// openDrill opens the drill-down for a seq of the result on screen.
func (c *console) openDrill(seq uint32) {
	if c.shown == nil {
		return
	}
	for _, r := range c.shown.Resp.Results {
		if r.Seq == seq {
			if req, ok := c.drill.open(c.shown.Query, r); ok {
				c.fetchMembers(req)
			}
			if c.hasCtx {
				c.uictx.Defer(func(app.Context) { focusID("drilldown-title") })
			}
			return
		}
	}
}

// closeDrill closes the panel and returns focus to its row.
func (c *console) closeDrill() {
	seq := c.drill.Row.Seq
	c.drill.close()
	if c.hasCtx {
		c.uictx.Defer(func(app.Context) { focusID("row-" + formatSeq(seq)) })
	}
}

// fetchMembers loads one page of the drill-down.
func (c *console) fetchMembers(req api.MembersRequest) {
	if !c.hasCtx {
		return
	}
	ctx := c.uictx
	ctx.Async(func() {
		page, err := c.api.members(ctx, req)
		ctx.Dispatch(func(app.Context) {
			if e := asAPIError(err); e != nil {
				if e.Code == api.ECodeUnauthorized {
					c.fail(e)
					return
				}
				c.drill.failed(req, e)
				return
			}
			if err == nil {
				c.drill.loaded(req, page)
			}
		})
	})
}

// retry repeats what failed: the pull on screen's URL, or /api/me.
func (c *console) retry() {
	c.err = nil
	if c.meStatus == loadingErr {
		c.loadMe()
		return
	}
	if c.hasCtx {
		if q, ok := queryFromURL(c.uictx.Page().URL()); ok {
			c.startPull(q)
		}
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
