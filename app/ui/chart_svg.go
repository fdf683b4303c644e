package ui

import (
	"strconv"
	"strings"

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

// rateBar is a small horizontal read/unread bar (solid read, hatched
// unread), as one Raw SVG: a table page draws a hundred of them, and one
// innerHTML each costs far fewer calls into JavaScript than six elements
// built one attribute at a time.
func rateBar(rate float64, w, h float64, class string) app.UI {
	return app.Raw(rateBarSVG(rate, w, h, class))
}

func rateBarSVG(rate float64, w, h float64, class string) string {
	fw, fh := formatFloat(w), formatFloat(h)
	var b svgWriter
	b.open("svg", "class", "rate-bar "+class, "viewBox", "0 0 "+fw+" "+fh, "width", fw, "height", fh,
		"aria-hidden", "true", "focusable", "false")
	b.empty("rect", "class", "bar-unread", "x", "0", "y", "0", "width", fw, "height", fh, "fill", "url(#"+unreadPattern+")")
	b.empty("rect", "class", "bar-read", "x", "0", "y", "0", "width", formatFloat(rate*w), "height", fh)
	b.close("svg")
	return b.String()
}

// svgWriter builds SVG markup. Every value goes through attribute
// escaping; text through text escaping.
type svgWriter struct{ strings.Builder }

// open writes a start tag with attribute name/value pairs.
func (b *svgWriter) open(tag string, attrs ...string) {
	b.WriteByte('<')
	b.WriteString(tag)
	for i := 0; i+1 < len(attrs); i += 2 {
		b.WriteByte(' ')
		b.WriteString(attrs[i])
		b.WriteString(`="`)
		b.WriteString(escapeHTML(attrs[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('>')
}

// empty writes an element without content.
func (b *svgWriter) empty(tag string, attrs ...string) {
	b.open(tag, attrs...)
	b.close(tag)
}

// text writes an element holding text.
func (b *svgWriter) text(tag, text string, attrs ...string) {
	b.open(tag, attrs...)
	b.WriteString(escapeHTML(text))
	b.close(tag)
}

func (b *svgWriter) close(tag string) {
	b.WriteString("</")
	b.WriteString(tag)
	b.WriteByte('>')
}

// escapeHTML escapes text and attribute values. (The html package would
// do, but its entity table costs wasm size for one function.)
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, `&<>"'`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// chartSVG is the whole chart as one SVG document: bars, axes, legend and
// the focusable hit areas. The chart component shows it as one Raw
// element, so a new result costs one innerHTML instead of thousands of
// element and attribute calls, and hovering does not touch it (the
// tooltip is a separate overlay). Column i's hit area carries data-col="i"
// for the delegated event handlers; column 0 is the chart's tab stop.
func chartSVG(g chartGeom) string {
	v := formatFloat
	var b svgWriter
	b.Grow(512 + 900*len(g.Cols))
	b.open("svg", "xmlns", svgNS, "id", "chart", "class", "chart",
		"viewBox", "0 0 "+v(g.W)+" "+v(g.H), "preserveAspectRatio", "xMidYMid meet",
		"role", "group", "aria-label", chartSummary(g))

	// Grid and count axis.
	for _, t := range g.YTicks {
		b.empty("line", "class", "grid", "x1", v(g.Left), "x2", v(g.Right), "y1", v(t.Pos), "y2", v(t.Pos))
		b.text("text", t.Label, "class", "tick tick-y", "x", v(g.Left-8), "y", v(t.Pos+4), "text-anchor", "end")
	}
	for _, t := range g.RateTicks {
		b.text("text", t.Label, "class", "tick tick-rate", "x", v(g.Right+8), "y", v(t.Pos+4), "text-anchor", "start")
	}
	mid := v((g.Top + g.Bottom) / 2)
	b.text("text", axisTitle(g), "class", "axis-title", "x", "14", "y", mid,
		"transform", "rotate(-90 14 "+mid+")", "text-anchor", "middle")
	b.text("text", "read rate", "class", "axis-title", "x", v(g.W-10), "y", mid,
		"transform", "rotate(90 "+v(g.W-10)+" "+mid+")", "text-anchor", "middle")

	// Columns: missing band, bars, marker, hit area (focusable, with the
	// native tooltip).
	b.open("g", "class", "cols")
	for i, col := range g.Cols {
		seq := formatSeq(col.SeqLo)
		title := joinLines(colLines(col))
		if col.SeqHi != col.SeqLo {
			b.open("g", "class", "col", "data-seq", seq, "data-seq-hi", formatSeq(col.SeqHi))
		} else {
			b.open("g", "class", "col", "data-seq", seq)
		}
		if col.MissingBand {
			b.empty("rect", "class", "missing-band", "x", v(col.SlotX), "y", v(g.Top), "width", v(col.SlotW), "height", v(g.Bottom-g.Top))
		}
		b.empty("rect", "class", "bar-read", "data-seq", seq,
			"x", v(col.X), "y", v(col.ReadY), "width", v(col.W), "height", v(col.ReadH))
		b.empty("rect", "class", "bar-unread", "data-seq", seq,
			"x", v(col.X), "y", v(col.UnreadY), "width", v(col.W), "height", v(col.UnreadH), "fill", "url(#"+unreadPattern+")")
		if col.MissingMark {
			cx := col.SlotX + col.SlotW/2
			b.empty("path", "class", "missing-mark", "data-seq", seq, "data-missing", strconv.Itoa(col.Missing),
				"d", "M"+v(cx-4.5)+" "+v(g.Bottom+10)+" L"+v(cx+4.5)+" "+v(g.Bottom+10)+" L"+v(cx)+" "+v(g.Bottom+2)+" Z")
		}
		b.open("rect", "id", chartColID(i), "class", "hit", "data-col", strconv.Itoa(i), "data-seq", seq,
			"x", v(col.SlotX), "y", v(g.Top), "width", v(col.SlotW), "height", v(g.Bottom-g.Top),
			"tabindex", tabIndexFor(i == 0), "role", "img", "aria-label", title)
		b.text("title", title)
		b.close("rect")
		b.close("g")
	}
	b.close("g")

	// Base line, rate line, seq labels.
	b.empty("line", "class", "axis", "x1", v(g.Left), "x2", v(g.Right), "y1", v(g.Bottom), "y2", v(g.Bottom))
	b.empty("line", "class", "axis", "x1", v(g.Left), "x2", v(g.Left), "y1", v(g.Top), "y2", v(g.Bottom))
	b.empty("line", "class", "axis axis-rate", "x1", v(g.Right), "x2", v(g.Right), "y1", v(g.Top), "y2", v(g.Bottom))
	if g.RatePath != "" {
		b.empty("path", "class", "rate-line", "d", g.RatePath, "fill", "none")
	}
	for _, t := range g.XTicks {
		b.empty("line", "class", "tick-mark", "x1", v(t.Pos), "x2", v(t.Pos), "y1", v(g.Bottom), "y2", v(g.Bottom+4))
		b.text("text", t.Label, "class", "tick tick-x", "x", v(t.Pos), "y", v(g.Bottom+24), "text-anchor", "middle")
	}
	writeLegend(&b, g)
	if g.Bucketed {
		b.text("text", "Bucketed: "+formatInt(g.BucketSize)+" seqs per bar", "class", "bucket-note chart-note",
			"x", v(g.Right), "y", "16", "text-anchor", "end")
	}
	b.close("svg")
	return b.String()
}

// chartColID is the element ID of column i's hit area.
func chartColID(i int) string { return "chart-col-" + strconv.Itoa(i) }

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

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// writeLegend explains the marks: solid read, hatched unread, the rate
// line and the missing marker.
func writeLegend(b *svgWriter, g chartGeom) {
	x, y := g.Left, 12.0
	item := func(dx float64, label string, mark func()) {
		b.open("g", "class", "legend-item", "transform", "translate("+formatFloat(x+dx)+" "+formatFloat(y)+")")
		mark()
		b.text("text", label, "class", "legend-text", "x", "18", "y", "9")
		b.close("g")
	}
	b.open("g", "class", "legend")
	item(0, "Read", func() { b.empty("rect", "class", "legend-read", "width", "12", "height", "12") })
	item(70, "Unread", func() {
		b.empty("rect", "class", "legend-unread", "width", "12", "height", "12", "fill", "url(#"+unreadPattern+")")
	})
	item(152, "Read rate", func() { b.empty("path", "class", "legend-rate", "d", "M0 6 L12 6", "fill", "none") })
	item(250, missingLegend(g), func() { b.empty("path", "class", "legend-missing", "d", "M1.5 11 L10.5 11 L6 3 Z") })
	b.close("g")
}

// missingLegend names the no-receipt marker: in a bucketed chart it marks
// only buckets that are mostly missing (markMissing).
func missingLegend(g chartGeom) string {
	if g.Bucketed {
		return "≥ " + strconv.Itoa(int(missingMarkShare*100)) + "% without receipt (10062)"
	}
	return "No receipt (10062)"
}

// tooltip draws the numbers of column i, in the chart's overlay (no
// inline styles are allowed, so it cannot be a positioned HTML element).
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
