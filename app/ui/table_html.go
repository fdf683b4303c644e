package ui

import (
	"strconv"

	"github.com/timconsole/timconsole/server/api"
)

// tableHTML is the results table (caption, header and one page of rows)
// as one HTML string for app.Raw. go-app parses a Raw string inside a div,
// where the HTML parser drops a bare <tbody> or <tr>: so the whole table
// is the string. Every text and attribute value is escaped (escapeHTML):
// the code texts come from the server.
//
// The markup is what the element-built table had: a row is
// tr#row-<seq>[data-seq][tabindex=0] with five cells, a sort button is
// button#sort-<key>[data-sort] in a th with aria-sort.
func tableHTML(page []api.Receipt, v tableView, selected uint32, hasSelected bool) string {
	var b svgWriter
	b.Grow(1024 + 520*len(page))
	b.open("table", "id", "results-table", "class", "data-table")
	b.text("caption", "Read receipts per message. Select a row for its members.", "class", "sr-only")
	b.WriteString("<thead><tr>")
	for _, col := range tableColumns() {
		writeTh(&b, v, col)
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range page {
		writeRow(&b, r, hasSelected && selected == r.Seq)
	}
	b.WriteString("</tbody>")
	b.close("table")
	return b.String()
}

// sortState is the aria-sort of column k in view v.
func sortState(v tableView, k sortKey) string {
	cur := v.Sort
	if cur == "" {
		cur = sortSeq
	}
	switch {
	case cur != k:
		return "none"
	case v.Desc:
		return "descending"
	}
	return "ascending"
}

func writeTh(b *svgWriter, v tableView, col tableColumn) {
	state := sortState(v, col.Key)
	arrow := "↕"
	switch state {
	case "ascending":
		arrow = "▲"
	case "descending":
		arrow = "▼"
	}
	if col.Num {
		b.open("th", "scope", "col", "aria-sort", state, "class", "num")
	} else {
		b.open("th", "scope", "col", "aria-sort", state)
	}
	b.open("button", "id", "sort-"+string(col.Key), "type", "button", "class", "sort-button", "data-sort", string(col.Key))
	b.text("span", col.Label)
	b.text("span", arrow, "class", "sort-arrow", "aria-hidden", "true")
	b.close("button")
	b.close("th")
}

func writeRow(b *svgWriter, r api.Receipt, selected bool) {
	seq := formatSeq(r.Seq)
	class := "row"
	if r.Code != 0 {
		class += " row-missing"
	}
	attrs := []string{"id", "row-" + seq, "data-seq", seq, "tabindex", "0", "class", "", "aria-label", "seq " + seq + ", open members"}
	if selected {
		class += " row-selected"
		attrs = append(attrs, "aria-current", "true")
	}
	attrs[7] = class
	b.open("tr", attrs...)
	read, unread := formatInt(r.Read), formatInt(r.Unread)
	if r.Code != 0 {
		read, unread = "—", "—"
	}
	b.text("td", seq, "class", "num mono")
	b.text("td", read, "class", "num")
	b.text("td", unread, "class", "num")
	b.open("td", "class", "num")
	if rate := rowRate(r); rate >= 0 {
		b.open("span", "class", "rate-cell")
		writeRowBar(b, rate)
		b.text("span", formatPct(rate), "class", "rate-text")
		b.close("span")
	} else {
		b.text("span", "—", "class", "muted")
	}
	b.close("td")
	b.open("td", "class", "status")
	switch {
	case r.Code == 0:
		b.text("span", "✓ OK", "class", "status-ok")
	default:
		mark := "✕ " + strconv.Itoa(r.Code)
		if r.Code == api.CodeNotFetched {
			mark = "✕ not fetched"
		}
		b.text("span", mark, "class", "status-missing")
		b.text("span", " "+codeText(r), "class", "status-text")
	}
	b.close("td")
	b.close("tr")
}

// rowBarWidth is the width, in CSS pixels, of a row's rate bar.
const rowBarWidth = 64

// writeRowBar draws a row's read/unread bar with CSS, not SVG: a span
// striped like the unread hatch, and inside it a solid span as wide as the
// read rate. The CSP allows no inline style, so the width is one of the
// classes rb-0 to rb-64 (web/app.css), whole pixels of the 64. A page
// draws up to a hundred of these; two HTML boxes each lay out and paint
// for less than a three-element SVG whose fill is a pattern. It is
// decorative (the rate is the text next to it): aria-hidden.
func writeRowBar(b *svgWriter, rate float64) {
	w := int(min(max(rate, 0), 1)*rowBarWidth + 0.5)
	b.open("span", "class", "rate-bar row-bar", "aria-hidden", "true")
	b.empty("span", "class", "row-bar-read rb-"+strconv.Itoa(w))
	b.close("span")
}
