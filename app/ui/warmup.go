package ui

import (
	"encoding/json"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// The warm-up: the first result the operator pulls used to take three
// times as long to draw as the next ones. Chromium compiles a wasm
// function the first time it is called (lazy compilation), and go-app has
// a set of methods per element type: the first result runs hundreds of
// functions the page's first render never called, and their compilation
// (about 100 ms on the 2-core reference machine) came on top of the
// drawing. The first layout of the result's styles added more.
//
// So once the page is loaded and idle (after /api/me, before any result),
// the console draws a small synthetic result, then a bucketed one over it,
// out of sight, lays them out, decodes a synthetic result line, and removes
// it all: the code paths of a pull are compiled before the first click.
// It runs once per page load, and never while a result is on screen or a
// pull is running (the real result uses the same element IDs).

// warmStage is where the warm-up is.
type warmStage int

const (
	warmNone  warmStage = iota // not started
	warmFirst                  // the first synthetic result is drawn
	warmNext                   // the bucketed one replaces it
	warmDone                   // removed, for the rest of the page's life
)

// scheduleWarmUp starts the warm-up when the browser is next idle: after
// the page's first paint, so the warm-up never delays the page's mount.
// ctx must be the page's.
func (c *console) scheduleWarmUp(ctx app.Context) {
	if !app.IsClient || c.warm != warmNone {
		return
	}
	win := app.Window()
	var fn app.Func
	fn = app.FuncOf(func(app.Value, []app.Value) any {
		fn.Release()
		ctx.Dispatch(c.warmUp)
		return nil
	})
	if win.Get("requestIdleCallback").Type() == app.TypeFunction {
		win.Call("requestIdleCallback", fn, map[string]any{"timeout": 1000})
		return
	}
	win.Call("setTimeout", fn, 200) // Safari has no requestIdleCallback
}

// warmUp starts the warm-up if it has not run; ctx must be the page's.
func (c *console) warmUp(ctx app.Context) {
	if !app.IsClient || c.warm != warmNone || c.shown != nil || c.pulling {
		return
	}
	c.warm = warmFirst
	// Each stage runs after the frame that drew the previous one (a Defer),
	// and changes the page in a dispatch of its own: the next frame.
	ctx.Defer(func(ctx app.Context) {
		layoutWarmup()
		ctx.Dispatch(func(ctx app.Context) {
			c.warm = warmNext
			ctx.Defer(func(ctx app.Context) {
				layoutWarmup()
				ctx.Dispatch(func(ctx app.Context) {
					c.warm = warmDone
					warmDecode()
				})
			})
		})
	})
}

// warming reports whether the warm-up is on screen.
func (c *console) warming() bool {
	return (c.warm == warmFirst || c.warm == warmNext) && c.shown == nil && !c.pulling
}

// renderWarmup draws the synthetic result: the same components as a real
// one, in a box that is laid out but invisible, inert and hidden from
// assistive technology.
func (c *console) renderWarmup() app.UI {
	n := 48
	if c.warm == warmNext {
		n = chartMaxBars + 60
	}
	r := newResult(query{App: "warmup", Group: "warmup", Seqs: "1-" + formatInt(n), Count: n}, warmupResult(n))
	return app.Div().ID("warmup").Class("warmup").Aria("hidden", "true").Attr("inert", true).Body(
		&summaryTiles{Summary: r.Resp.Summary},
		&receiptChart{Geom: r.Geom, SVG: r.ChartSVG},
		&resultsTable{Results: r.Resp.Results, Key: r.Query.key(), Selected: 2, HasSelected: true},
	)
}

// warmupResult is a synthetic result of n seqs with every kind of row.
func warmupResult(n int) *api.ReceiptsResponse {
	rs := make([]api.Receipt, n)
	for i := range rs {
		r := api.Receipt{Seq: uint32(i + 1), Read: (i * 7) % 40, Unread: (i * 3) % 25}
		switch i % 17 {
		case 5:
			r = api.Receipt{Seq: r.Seq, Code: 10062, CodeText: "no receipt"}
		case 11:
			r = api.Receipt{Seq: r.Seq, Code: api.CodeNotFetched, CodeText: "timeout"}
		}
		rs[i] = r
	}
	s := api.Summarize(rs)
	return &api.ReceiptsResponse{App: "warmup", GroupID: "warmup", Results: rs, Summary: s, Partial: s.NotFetched > 0}
}

// layoutWarmup makes the browser lay the warm-up out now (style and
// layout of the result's elements), not at some later frame.
func layoutWarmup() {
	if el := app.Window().GetElementByID("warmup"); el.Truthy() {
		_ = el.Get("offsetHeight").Int()
	}
}

// warmDecode runs the result decoders (the stream's and plain JSON's) once.
func warmDecode() {
	line, err := json.Marshal(api.Event{Type: api.EventResult, Result: warmupResult(64)})
	if err == nil {
		_, _ = decodeEvent(line)
	}
	if doc, err := json.Marshal(warmupResult(8)); err == nil {
		_, _ = decodeResult(doc)
	}
}
