package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// receiptChart is the chart card. Its one input is the result's chart
// geometry (computed once per result); the SVG is built from it once, as
// one string shown with app.Raw, and the page's re-renders compare the
// geometry only: a slice shared with the previous render compares in
// constant time.
//
// Hover and keyboard focus are the chart's own state: handlers on the
// frame (the events bubble from the SVG's hit areas, which carry
// data-col) move the highlight and the tab stop in the SVG directly, and
// the tooltip is drawn in a small overlay SVG, so hovering never
// re-parses the chart. Opening a column's members posts actionOpenSeq.
type receiptChart struct {
	app.Compo

	Geom chartGeom
	// SVG is chartSVG(Geom), when the parent has it already (a pull
	// draws it off the frame); empty, the chart draws it.
	SVG string

	svgText string
	hover   int // the column under the pointer or focus, -1 for none
}

// OnInit draws the first geometry.
func (c *receiptChart) OnInit() { c.redraw() }

// OnUpdate draws a new result's geometry.
func (c *receiptChart) OnUpdate(ctx app.Context) { c.redraw() }

func (c *receiptChart) redraw() {
	c.svgText = c.SVG
	if c.svgText == "" {
		c.svgText = chartSVG(c.Geom)
	}
	c.hover = -1
}

// Render draws the card: title, bucket note, the chart and its overlay.
func (c *receiptChart) Render() app.UI {
	g := c.Geom
	overlay := svg("svg").Class("chart-overlay").
		Attr("viewBox", "0 0 "+formatFloat(g.W)+" "+formatFloat(g.H)).Attr("preserveAspectRatio", "xMidYMid meet").
		Aria("hidden", "true").Attr("focusable", "false")
	if c.hover >= 0 && c.hover < len(g.Cols) {
		overlay = overlay.Body(tooltip(g, c.hover))
	}
	return app.Section().Class("card", "chart-card").Aria("labelledby", "chart-title").Body(
		app.Div().Class("card-head").Body(
			app.H2().ID("chart-title").Class("card-title").Text("Read and unread per message"),
			app.P().Class("muted", "small", "chart-help").Text("Hover or focus a bar for exact numbers; arrow keys move, Enter opens the members."),
		),
		// Bucketing changes with the geometry, which redraws the chart
		// anyway: the frame's shift by one is free.
		app.If(g.Bucketed, func() app.UI {
			return app.P().Class("bucket-note").Role("note").Text("Bucketed: " + g.Note + ".")
		}),
		app.Div().Class("chart-frame").
			On("mouseover", c.onPointer).
			On("focusin", c.onPointer).
			OnMouseLeave(func(ctx app.Context, e app.Event) { c.setHover(-1) }).
			OnClick(func(ctx app.Context, e app.Event) {
				if i := colIndex(e); i >= 0 {
					c.openColumn(ctx, i)
				}
				ctx.PreventUpdate()
			}).
			OnKeyDown(c.onKey).
			Body(app.Raw(c.svgText), overlay),
	)
}

// colIndex is the column of the hit area an event came from, or -1.
func colIndex(e app.Event) int {
	t := e.Get("target")
	if !t.Truthy() || t.Get("closest").Type() != app.TypeFunction {
		return -1
	}
	hit := t.Call("closest", "[data-col]")
	if !hit.Truthy() {
		return -1
	}
	i, err := strconv.Atoi(hit.Call("getAttribute", "data-col").String())
	if err != nil {
		return -1
	}
	return i
}

// onPointer follows the pointer and the focus from column to column. It is
// a hot event: nothing re-renders unless the column changed.
func (c *receiptChart) onPointer(ctx app.Context, e app.Event) {
	i := colIndex(e)
	if i < 0 || i == c.hover {
		ctx.PreventUpdate()
		return
	}
	c.setHover(i)
}

// setHover moves the highlight (and the chart's tab stop) to column i, in
// the SVG itself: it is not re-rendered for a hover.
func (c *receiptChart) setHover(i int) {
	prev := c.hover
	c.hover = i
	if !app.IsClient {
		return
	}
	if prev >= 0 {
		if el := app.Window().GetElementByID(chartColID(prev)); el.Truthy() {
			el.Get("parentNode").Get("classList").Call("remove", "col-active")
		}
	}
	if i >= 0 {
		if el := app.Window().GetElementByID(chartColID(i)); el.Truthy() {
			el.Get("parentNode").Get("classList").Call("add", "col-active")
		}
	}
	if a, b := max(prev, 0), max(i, 0); a != b {
		if el := app.Window().GetElementByID(chartColID(a)); el.Truthy() {
			el.Call("setAttribute", "tabindex", "-1")
		}
		if el := app.Window().GetElementByID(chartColID(b)); el.Truthy() {
			el.Call("setAttribute", "tabindex", "0")
		}
	}
}

// openColumn opens the drill-down of a single-seq column.
func (c *receiptChart) openColumn(ctx app.Context, i int) {
	if i < 0 || i >= len(c.Geom.Cols) {
		return
	}
	col := c.Geom.Cols[i]
	if col.SeqLo == col.SeqHi {
		ctx.NewActionWithValue(actionOpenSeq, col.SeqLo)
	}
}

// onKey moves between columns with the arrow keys (one tab stop for the
// whole chart) and opens the members with Enter.
func (c *receiptChart) onKey(ctx app.Context, e app.Event) {
	i := colIndex(e)
	if i < 0 {
		ctx.PreventUpdate()
		return
	}
	n := len(c.Geom.Cols)
	next := i
	switch e.Get("key").String() {
	case "ArrowRight":
		next = min(i+1, n-1)
	case "ArrowLeft":
		next = max(i-1, 0)
	case "Home":
		next = 0
	case "End":
		next = n - 1
	case "Enter", " ":
		e.PreventDefault()
		c.openColumn(ctx, i)
		return
	case "Escape":
		c.setHover(-1)
		return
	default:
		ctx.PreventUpdate()
		return
	}
	e.PreventDefault()
	c.setHover(next)
	focusID(chartColID(next))
}
