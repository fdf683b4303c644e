package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// svgNS must be set on every SVG element: go-app creates elements with
// createElementNS only when told, and XMLNS is not inherited.
const svgNS = "http://www.w3.org/2000/svg"

func svg(tag string) app.HTMLElem { return app.Elem(tag).XMLNS(svgNS) }

// unreadPattern is the hatch that marks unread everywhere (chart, legend,
// tiles, table), so read and unread differ by more than colour.
const unreadPattern = "unread-hatch"

// patternDefs holds the shared SVG pattern. It sits in its own zero-size
// SVG (not display:none, which would disable the pattern in Chromium).
func patternDefs() app.UI {
	return svg("svg").Class("svg-defs").Attr("width", 0).Attr("height", 0).Aria("hidden", "true").Attr("focusable", "false").Body(
		svg("defs").Body(
			svg("pattern").ID(unreadPattern).Attr("patternUnits", "userSpaceOnUse").
				Attr("width", 6).Attr("height", 6).Attr("patternTransform", "rotate(45)").Body(
				svg("rect").Class("hatch-bg").Attr("width", 6).Attr("height", 6),
				svg("rect").Class("hatch-line").Attr("width", 2.2).Attr("height", 6),
			),
		),
	)
}

// rateBar is a small horizontal read/unread bar (solid read, hatched unread).
func rateBar(rate float64, w, h float64, class string) app.UI {
	rw := rate * w
	return svg("svg").Class("rate-bar", class).Attr("viewBox", "0 0 "+formatFloat(w)+" "+formatFloat(h)).
		Attr("width", formatFloat(w)).Attr("height", formatFloat(h)).Aria("hidden", "true").Attr("focusable", "false").Body(
		svg("rect").Class("bar-unread").Attr("x", 0).Attr("y", 0).Attr("width", formatFloat(w)).Attr("height", formatFloat(h)).
			Attr("fill", "url(#"+unreadPattern+")"),
		svg("rect").Class("bar-read").Attr("x", 0).Attr("y", 0).Attr("width", formatFloat(rw)).Attr("height", formatFloat(h)),
	)
}

// renderChart draws the chart card: the SVG built from chartLayout.
func (c *console) renderChart() app.UI {
	g := c.shown.Geom
	return app.Section().Class("card", "chart-card").Aria("labelledby", "chart-title").Body(
		app.Div().Class("card-head").Body(
			app.H2().ID("chart-title").Class("card-title").Text("Read and unread per message"),
			app.P().Class("muted", "small", "chart-help").Text("Hover or focus a bar for exact numbers; arrow keys move, Enter opens the members."),
		),
		app.If(g.Bucketed, func() app.UI {
			return app.P().Class("bucket-note").Role("note").Text("Bucketed: " + g.Note + ".")
		}),
		c.renderSVG(g),
	)
}

func (c *console) renderSVG(g chartGeom) app.UI {
	v := func(f float64) string { return formatFloat(f) }
	var nodes []app.UI

	// Grid and count axis.
	for _, t := range g.YTicks {
		nodes = append(nodes,
			svg("line").Class("grid").Attr("x1", v(g.Left)).Attr("x2", v(g.Right)).Attr("y1", v(t.Pos)).Attr("y2", v(t.Pos)),
			svg("text").Class("tick", "tick-y").Attr("x", v(g.Left-8)).Attr("y", v(t.Pos+4)).Attr("text-anchor", "end").Text(t.Label),
		)
	}
	for _, t := range g.RateTicks {
		nodes = append(nodes,
			svg("text").Class("tick", "tick-rate").Attr("x", v(g.Right+8)).Attr("y", v(t.Pos+4)).Attr("text-anchor", "start").Text(t.Label),
		)
	}
	nodes = append(nodes,
		svg("text").Class("axis-title").Attr("x", 14).Attr("y", v((g.Top+g.Bottom)/2)).
			Attr("transform", "rotate(-90 14 "+v((g.Top+g.Bottom)/2)+")").Attr("text-anchor", "middle").Text(axisTitle(g)),
		svg("text").Class("axis-title").Attr("x", v(g.W-10)).Attr("y", v((g.Top+g.Bottom)/2)).
			Attr("transform", "rotate(90 "+v(g.W-10)+" "+v((g.Top+g.Bottom)/2)+")").Attr("text-anchor", "middle").Text("read rate"),
	)

	// Columns: hit area (focusable, with the native tooltip), bars, marker.
	active := c.hover
	if active < 0 || active >= len(g.Cols) {
		active = 0
	}
	cols := make([]app.UI, 0, len(g.Cols))
	for i, col := range g.Cols {
		i := i
		seq := col.SeqLo
		title := joinLines(colLines(col))
		hit := svg("rect").ID("chart-col-"+strconv.Itoa(i)).Class("hit").
			Attr("x", v(col.SlotX)).Attr("y", v(g.Top)).Attr("width", v(col.SlotW)).Attr("height", v(g.Bottom-g.Top)).
			Attr("tabindex", tabIndexFor(i == active)).Role("img").Aria("label", title).
			DataSet("seq", seq).
			OnFocus(func(ctx app.Context, e app.Event) { c.hover = i }, app.EventScope("col", i)).
			OnMouseEnter(func(ctx app.Context, e app.Event) { c.hover = i }, app.EventScope("col", i)).
			OnClick(func(ctx app.Context, e app.Event) { c.openColumn(i) }, app.EventScope("col", i)).
			OnKeyDown(func(ctx app.Context, e app.Event) { c.chartKey(ctx, e, i) }, app.EventScope("col", i)).
			Body(svg("title").Text(title))
		colNodes := []app.UI{
			svg("rect").Class("bar-read").DataSet("seq", seq).
				Attr("x", v(col.X)).Attr("y", v(col.ReadY)).Attr("width", v(col.W)).Attr("height", v(col.ReadH)),
			svg("rect").Class("bar-unread").DataSet("seq", seq).
				Attr("x", v(col.X)).Attr("y", v(col.UnreadY)).Attr("width", v(col.W)).Attr("height", v(col.UnreadH)).
				Attr("fill", "url(#"+unreadPattern+")"),
		}
		if col.MissingBand {
			colNodes = append([]app.UI{
				svg("rect").Class("missing-band").Attr("x", v(col.SlotX)).Attr("y", v(g.Top)).
					Attr("width", v(col.SlotW)).Attr("height", v(g.Bottom-g.Top)),
			}, colNodes...)
		}
		if col.MissingMark {
			cx := col.SlotX + col.SlotW/2
			colNodes = append(colNodes, svg("path").Class("missing-mark").DataSet("seq", seq).DataSet("missing", col.Missing).
				Attr("d", "M"+v(cx-4.5)+" "+v(g.Bottom+10)+" L"+v(cx+4.5)+" "+v(g.Bottom+10)+" L"+v(cx)+" "+v(g.Bottom+2)+" Z"))
		}
		colNodes = append(colNodes, hit)
		gcol := svg("g").Class("col").DataSet("seq", seq)
		if i == c.hover {
			gcol = gcol.Class("col-active")
		}
		if col.SeqHi != col.SeqLo {
			gcol = gcol.DataSet("seq-hi", col.SeqHi)
		}
		cols = append(cols, gcol.Body(colNodes...))
	}
	nodes = append(nodes, svg("g").Class("cols").Body(cols...))

	// Base line, rate line, seq labels.
	nodes = append(nodes,
		svg("line").Class("axis").Attr("x1", v(g.Left)).Attr("x2", v(g.Right)).Attr("y1", v(g.Bottom)).Attr("y2", v(g.Bottom)),
		svg("line").Class("axis").Attr("x1", v(g.Left)).Attr("x2", v(g.Left)).Attr("y1", v(g.Top)).Attr("y2", v(g.Bottom)),
		svg("line").Class("axis", "axis-rate").Attr("x1", v(g.Right)).Attr("x2", v(g.Right)).Attr("y1", v(g.Top)).Attr("y2", v(g.Bottom)),
	)
	if g.RatePath != "" {
		nodes = append(nodes, svg("path").Class("rate-line").Attr("d", g.RatePath).Attr("fill", "none"))
	}
	for _, t := range g.XTicks {
		nodes = append(nodes,
			svg("line").Class("tick-mark").Attr("x1", v(t.Pos)).Attr("x2", v(t.Pos)).Attr("y1", v(g.Bottom)).Attr("y2", v(g.Bottom+4)),
			svg("text").Class("tick", "tick-x").Attr("x", v(t.Pos)).Attr("y", v(g.Bottom+24)).Attr("text-anchor", "middle").Text(t.Label),
		)
	}
	nodes = append(nodes, legend(g))
	if g.Bucketed {
		nodes = append(nodes, svg("text").Class("bucket-note", "chart-note").Attr("x", v(g.Right)).Attr("y", 16).
			Attr("text-anchor", "end").Text("Bucketed: "+formatInt(g.BucketSize)+" seqs per bar"))
	}
	if c.hover >= 0 && c.hover < len(g.Cols) {
		nodes = append(nodes, tooltip(g, c.hover))
	}

	return svg("svg").ID("chart").Class("chart").
		Attr("viewBox", "0 0 "+v(g.W)+" "+v(g.H)).Attr("preserveAspectRatio", "xMidYMid meet").
		Role("group").Aria("label", chartSummary(g)).
		OnMouseLeave(func(ctx app.Context, e app.Event) { c.hover = -1 }).
		Body(nodes...)
}

func tabIndexFor(active bool) string {
	if active {
		return "0"
	}
	return "-1"
}

func axisTitle(g chartGeom) string {
	if g.Bucketed {
		return "members per message (avg)"
	}
	return "members"
}

// chartSummary is the chart's accessible name.
func chartSummary(g chartGeom) string {
	s := "Stacked bar chart of read and unread members for " + formatInt(len(g.Cols)) + " " + plural(len(g.Cols), "bar", "bars")
	if g.Bucketed {
		s += " (" + g.Note + ")"
	}
	return s + ", with the read rate as a line."
}

func joinLines(lines []string) string {
	s := ""
	for i, l := range lines {
		if i > 0 {
			s += "\n"
		}
		s += l
	}
	return s
}

// legend explains the marks: solid read, hatched unread, the rate line and
// the missing marker.
func legend(g chartGeom) app.UI {
	x := g.Left
	y := 12.0
	item := func(dx float64, mark app.UI, label string) app.UI {
		return svg("g").Class("legend-item").Attr("transform", "translate("+formatFloat(x+dx)+" "+formatFloat(y)+")").Body(
			mark,
			svg("text").Class("legend-text").Attr("x", 18).Attr("y", 9).Text(label),
		)
	}
	return svg("g").Class("legend").Body(
		item(0, svg("rect").Class("legend-read").Attr("width", 12).Attr("height", 12), "Read"),
		item(70, svg("rect").Class("legend-unread").Attr("width", 12).Attr("height", 12).Attr("fill", "url(#"+unreadPattern+")"), "Unread"),
		item(152, svg("path").Class("legend-rate").Attr("d", "M0 6 L12 6").Attr("fill", "none"), "Read rate"),
		item(250, svg("path").Class("legend-missing").Attr("d", "M1.5 11 L10.5 11 L6 3 Z"), missingLegend(g)),
	)
}

// missingLegend names the no-receipt marker: in a bucketed chart it marks
// only buckets that are mostly missing (markMissing).
func missingLegend(g chartGeom) string {
	if g.Bucketed {
		return "≥ " + strconv.Itoa(int(missingMarkShare*100)) + "% without receipt (10062)"
	}
	return "No receipt (10062)"
}

// tooltip draws the numbers of column i inside the SVG (no inline styles
// are allowed, so it cannot be a positioned HTML element).
func tooltip(g chartGeom, i int) app.UI {
	x, y, w, h := tooltipBox(g, i)
	lines := colLines(g.Cols[i])
	texts := make([]app.UI, 0, len(lines)+1)
	texts = append(texts, svg("rect").Class("tooltip-box").Attr("x", formatFloat(x)).Attr("y", formatFloat(y)).
		Attr("width", formatFloat(w)).Attr("height", formatFloat(h)).Attr("rx", 6))
	for j, l := range lines {
		cls := "tooltip-text"
		if j == 0 {
			cls = "tooltip-head"
		}
		texts = append(texts, svg("text").Class(cls).Attr("x", formatFloat(x+10)).Attr("y", formatFloat(y+20+float64(j)*16)).Text(l))
	}
	return svg("g").ID("chart-tooltip").Class("tooltip").Aria("hidden", "true").Body(texts...)
}

// openColumn opens the drill-down of a single-seq column.
func (c *console) openColumn(i int) {
	if c.shown == nil || i >= len(c.shown.Geom.Cols) {
		return
	}
	col := c.shown.Geom.Cols[i]
	if col.SeqLo == col.SeqHi {
		c.openDrill(col.SeqLo)
	}
}

// chartKey moves between columns with the arrow keys (one tab stop for the
// whole chart) and opens the members with Enter.
func (c *console) chartKey(ctx app.Context, e app.Event, i int) {
	n := len(c.shown.Geom.Cols)
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
		c.openColumn(i)
		return
	case "Escape":
		c.hover = -1
		return
	default:
		return
	}
	e.PreventDefault()
	c.hover = next
	ctx.Defer(func(app.Context) { focusID("chart-col-" + strconv.Itoa(next)) })
}
