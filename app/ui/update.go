package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// How often an open tab asks for a new version. The browser looks for a new
// service worker only on navigations, and the console is a one-page app that
// operators keep open all day: without asking, a tab would learn of a deploy
// only when reloaded, and the update banner (OnAppUpdate) would never show.
// Each check is one small request for the service worker script.
const (
	// updateEvery is the period of the timer while the tab is visible.
	updateEvery = 10 * time.Minute
	// updateMinGap throttles the checks: switching tabs back and forth must
	// not send a request each time.
	updateMinGap = time.Minute
)

// updateWatch decides when to ask for a new version: when the tab becomes
// visible again, and every Every while it stays visible, never twice
// within MinGap, and not at all once stopped. It is driven on the UI
// goroutine (ctx.After and dispatched events) and its outside world is
// injected, so the host tests can run it without a browser.
type updateWatch struct {
	Every, MinGap time.Duration
	Now           func() time.Time
	// Visible reports whether the tab is visible (document.visibilityState).
	Visible func() bool
	// Check asks for a new version (app.TryUpdate).
	Check func()

	running bool
	// gen ends the timer chain of an earlier start: each pending ctx.After
	// carries the generation it was scheduled in.
	gen  int
	last time.Time
}

// start begins the timer chain. ctx must be the component's: go-app drops
// its dispatches once the component is gone.
func (w *updateWatch) start(ctx app.Context) {
	if w.running {
		return
	}
	w.running = true
	w.gen++
	w.schedule(ctx, w.gen)
}

// schedule arms one timer; it re-arms itself until the watch stops. At
// most one timer per start is pending, and a stopped chain's last timer
// ends after at most Every without effect.
func (w *updateWatch) schedule(ctx app.Context, gen int) {
	ctx.After(w.Every, func(ctx app.Context) {
		// Nothing on screen changes here; don't re-render the page.
		ctx.PreventUpdate()
		if !w.running || gen != w.gen {
			return
		}
		w.poke()
		w.schedule(ctx, gen)
	})
}

// stop ends the checks (on dismount, or once an update is known).
func (w *updateWatch) stop() {
	w.running = false
	w.gen++
}

// poke checks now if the watch runs, the tab is visible and the last check
// is at least MinGap old. It reports whether it checked.
func (w *updateWatch) poke() bool {
	if !w.running || !w.Visible() {
		return false
	}
	now := w.Now()
	if !w.last.IsZero() && now.Sub(w.last) < w.MinGap {
		return false
	}
	w.last = now
	w.Check()
	return true
}

// watchUpdates starts the update checks of the console (browser only):
// the timer, and a visibilitychange listener on the document.
func (c *console) watchUpdates(ctx app.Context) {
	if !app.IsClient || c.watch.running {
		return
	}
	doc := app.Window().Get("document")
	// Field by field: the generation must survive a remount, or a timer of
	// the previous mount could pass for one of this mount.
	w := &c.watch
	w.Every, w.MinGap, w.Now, w.Check = updateEvery, updateMinGap, time.Now, app.TryUpdate
	w.Visible = func() bool { return doc.Get("visibilityState").String() == "visible" }
	if c.onVisibility == nil {
		// The listener runs on a JS event goroutine: it only hands over to
		// the UI goroutine, where the watch's state lives.
		fn := app.FuncOf(func(app.Value, []app.Value) any {
			ctx.Dispatch(func(ctx app.Context) {
				ctx.PreventUpdate()
				c.watch.poke()
			})
			return nil
		})
		c.onVisibility = fn
		doc.Call("addEventListener", "visibilitychange", fn)
	}
	c.watch.start(ctx)
}

// unwatchUpdates stops the checks and removes the listener.
func (c *console) unwatchUpdates() {
	c.watch.stop()
	if c.onVisibility == nil {
		return
	}
	fn := c.onVisibility
	c.onVisibility = nil
	if app.IsClient {
		app.Window().Get("document").Call("removeEventListener", "visibilitychange", fn)
	}
	fn.Release()
}
