package ui

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// resultsTable is the sortable, filterable, paged table of seqs. Inputs:
// the result's receipts (a slice the page passes unchanged between
// renders, which go-app compares in constant time), the query's key (a new
// question starts on page 1; the sort and the filters stay), and the row
// whose members are open. The sort, filters and page are the table's own.
//
// The table itself (caption, header, rows) is one Raw HTML string
// (tableHTML): a page of rows built element by element cost about 45 calls
// into JavaScript a row, most of a 50-seq pull's drawing time; one
// innerHTML costs one. Every value in it is escaped. The wrapper handles
// the clicks and keys of the rows and sort buttons by delegation: a row
// carries data-seq, a sort button data-sort. A redraw replaces the table's
// elements, so the table puts the focus back on the element (by ID) that
// had it when the redraw dropped it. A row posts actionOpenSeq.
type resultsTable struct {
	app.Compo

	Results     []api.Receipt
	Key         string
	Selected    uint32
	HasSelected bool

	view  tableView
	below string
	key   string
	rows  []api.Receipt
	// rowsOf and rowsView are what rows were computed from.
	rowsOf   []api.Receipt
	rowsView tableView
	computed bool
}

// OnInit computes the first rows.
func (t *resultsTable) OnInit() { t.sync() }

// OnUpdate follows a new result (or question), or another open row: each
// redraws the table.
func (t *resultsTable) OnUpdate(ctx app.Context) {
	keepFocus(ctx)
	t.sync()
}

func (t *resultsTable) sync() {
	if t.Key != t.key {
		t.key = t.Key
		t.view.Page = 0
	}
	t.refresh()
}

// refresh recomputes the rows when the receipts or the view changed.
func (t *resultsTable) refresh() {
	t.view.Below = parseBelow(t.below)
	v := t.view
	v.Page = 0 // the page does not change the rows
	if t.computed && sameSlice(t.rowsOf, t.Results) && v == t.rowsView {
		return
	}
	t.rows = tableRows(t.Results, v)
	t.rowsOf, t.rowsView, t.computed = t.Results, v, true
}

// sameSlice reports whether a and b are the same slice (not only equal).
func sameSlice(a, b []api.Receipt) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// Render draws the table card.
func (t *resultsTable) Render() app.UI {
	page, p := pageOf(t.rows, t.view.Page)
	first := p*tablePageSize + 1
	last := p*tablePageSize + len(page)
	count := "No seqs match the filters"
	if len(t.rows) > 0 {
		count = "Rows " + formatInt(first) + "–" + formatInt(last) + " of " + formatInt(len(t.rows))
		if len(t.rows) != len(t.Results) {
			count += " (filtered from " + formatInt(len(t.Results)) + ")"
		}
	}
	missing := app.Input().ID("filter-missing").Type("checkbox").
		OnChange(func(ctx app.Context, e app.Event) {
			t.view.OnlyMissing = ctx.JSSrc().Get("checked").Bool()
			t.view.Page = 0
			t.refresh()
		})
	if t.view.OnlyMissing {
		missing = missing.Checked(true)
	}
	return app.Section().Class("card", "table-card").Aria("labelledby", "table-title").Body(
		app.Div().Class("card-head").Body(
			app.H2().ID("table-title").Class("card-title").Text("Messages"),
			app.Div().Class("filters").Body(
				app.Label().Class("check").For("filter-missing").Body(
					missing,
					app.Span().Text("Only missing receipts"),
				),
				app.Label().Class("inline-field").For("filter-below").Body(
					app.Span().Text("Read rate below"),
					app.Input().ID("filter-below").Type("number").Class("field-input", "input-narrow").
						Min(0).Max(100).Step(1).Placeholder("—").Value(t.below).
						OnInput(func(ctx app.Context, e app.Event) {
							t.below = ctx.JSSrc().Get("value").String()
							t.view.Page = 0
							t.refresh()
						}),
					app.Span().Text("%"),
				),
			),
		),
		app.Div().Class("table-scroll").
			OnClick(t.onClick).
			OnKeyDown(t.onKeyDown).
			Body(app.Raw(tableHTML(page, t.view, t.Selected, t.HasSelected))),
		app.Div().Class("table-foot").Body(
			app.Span().ID("table-count").Class("muted", "small").Aria("live", "polite").Text(count),
			t.renderPager(p),
		),
	)
}

func (t *resultsTable) renderPager(p int) app.UI {
	pages := max(1, (len(t.rows)+tablePageSize-1)/tablePageSize)
	if pages == 1 {
		return app.Span()
	}
	prev := app.Button().ID("page-prev").Type("button").Class("btn", "btn-small").Text("← Previous").
		OnClick(func(ctx app.Context, e app.Event) { t.view.Page = p - 1 })
	next := app.Button().ID("page-next").Type("button").Class("btn", "btn-small").Text("Next →").
		OnClick(func(ctx app.Context, e app.Event) { t.view.Page = p + 1 })
	if p == 0 {
		prev = prev.Disabled(true)
	}
	if p >= pages-1 {
		next = next.Disabled(true)
	}
	return app.Div().Class("pager").Body(
		prev,
		app.Span().Class("small", "muted").Text("Page "+formatInt(p+1)+" of "+formatInt(pages)),
		next,
	)
}

// codeText is a per-message code's explanation.
func codeText(r api.Receipt) string {
	if r.CodeText != "" {
		return r.CodeText
	}
	return explainCode(r.Code)
}

// onClick is a click in the table: a sort button sorts, a row opens its
// members.
func (t *resultsTable) onClick(ctx app.Context, e app.Event) {
	if k, ok := sortKeyOf(closestAttr(e, "button[data-sort]", "data-sort")); ok {
		keepFocus(ctx)
		t.view = t.view.toggleSort(k)
		t.refresh()
		return
	}
	if seq, ok := rowSeqOf(e); ok {
		ctx.NewActionWithValue(actionOpenSeq, seq)
		return
	}
	ctx.PreventUpdate()
}

// onKeyDown is the rows' keyboard: Enter or Space opens a row's members,
// the arrow keys move between rows. The sort buttons are buttons: their
// keys click them.
func (t *resultsTable) onKeyDown(ctx app.Context, e app.Event) {
	seq, ok := rowSeqOf(e)
	if !ok {
		ctx.PreventUpdate()
		return
	}
	switch e.Get("key").String() {
	case "Enter", " ":
		e.PreventDefault()
		ctx.NewActionWithValue(actionOpenSeq, seq)
		return
	case "ArrowDown":
		e.PreventDefault()
		focusSibling(e, "nextElementSibling")
	case "ArrowUp":
		e.PreventDefault()
		focusSibling(e, "previousElementSibling")
	}
	ctx.PreventUpdate()
}

// closestAttr is attribute attr of the closest element matching sel from
// the event's target, or "" when there is none.
func closestAttr(e app.Event, sel, attr string) string {
	el := closest(e, sel)
	if el == nil {
		return ""
	}
	return el.Call("getAttribute", attr).String()
}

// closest is the closest element matching sel from the event's target, or
// nil.
func closest(e app.Event, sel string) app.Value {
	if !app.IsClient {
		return nil
	}
	t := e.Get("target")
	if !t.Truthy() || t.Get("closest").Type() != app.TypeFunction {
		return nil
	}
	el := t.Call("closest", sel)
	if !el.Truthy() {
		return nil
	}
	return el
}

// rowSeqOf is the seq of the row an event came from.
func rowSeqOf(e app.Event) (uint32, bool) {
	n, err := strconv.ParseUint(closestAttr(e, "tr[data-seq]", "data-seq"), 10, 32)
	return uint32(n), err == nil
}

// sortKeyOf reads a sort button's column.
func sortKeyOf(s string) (sortKey, bool) {
	for _, c := range tableColumns() {
		if string(c.Key) == s {
			return c.Key, true
		}
	}
	return "", false
}

// focusSibling moves focus from the event's row to the next or previous
// one.
func focusSibling(e app.Event, which string) {
	row := closest(e, "tr[data-seq]")
	if row == nil {
		return
	}
	if el := row.Get(which); el.Truthy() {
		el.Call("focus")
	}
}

// keepFocus is called before a redraw of the table, which replaces its
// elements: when a row or a sort button has the focus, it gets it back
// after the redraw, unless something else took it meanwhile (the
// drill-down focuses its title when it opens).
func keepFocus(ctx app.Context) {
	if !app.IsClient {
		return
	}
	doc := app.Window().Get("document")
	el := doc.Get("activeElement")
	if !el.Truthy() {
		return
	}
	id := el.Get("id").String()
	if !strings.HasPrefix(id, "row-") && !strings.HasPrefix(id, "sort-") {
		return
	}
	ctx.Defer(func(app.Context) {
		now := doc.Get("activeElement")
		if !now.Truthy() || now.Equal(doc.Get("body")) {
			focusID(id)
		}
	})
}
