package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// resultsTable is the sortable, filterable, paged table of seqs. Inputs:
// the result's receipts (a slice the page passes unchanged between
// renders, which go-app compares in constant time), the query's key (a new
// question starts on page 1; the sort and the filters stay), and the row
// whose members are open. The sort, filters and page are the table's own.
//
// Each row is a tableRow component with value inputs, so opening another
// row redraws two rows, not a hundred. A row posts actionOpenSeq.
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

// OnUpdate follows a new result (or question).
func (t *resultsTable) OnUpdate(ctx app.Context) { t.sync() }

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
	cols := tableColumns()
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
		app.Div().Class("table-scroll").Body(
			app.Table().ID("results-table").Class("data-table").Body(
				app.Caption().Class("sr-only").Text("Read receipts per message. Select a row for its members."),
				app.THead().Body(app.Tr().Body(
					app.Range(cols).Slice(func(i int) app.UI {
						col := cols[i]
						return t.renderTh(col.Key, col.Label, col.Num)
					}),
				)),
				app.TBody().Body(
					app.Range(page).Slice(func(i int) app.UI {
						r := page[i]
						return &tableRow{R: r, Selected: t.HasSelected && t.Selected == r.Seq}
					}),
				),
			),
		),
		app.Div().Class("table-foot").Body(
			app.Span().ID("table-count").Class("muted", "small").Aria("live", "polite").Text(count),
			t.renderPager(p),
		),
	)
}

// sortState is the aria-sort of a column.
func (t *resultsTable) sortState(k sortKey) string {
	cur := t.view.Sort
	if cur == "" {
		cur = sortSeq
	}
	switch {
	case cur != k:
		return "none"
	case t.view.Desc:
		return "descending"
	}
	return "ascending"
}

func (t *resultsTable) renderTh(k sortKey, label string, num bool) app.UI {
	state := t.sortState(k)
	arrow := "↕"
	switch state {
	case "ascending":
		arrow = "▲"
	case "descending":
		arrow = "▼"
	}
	th := app.Th().Scope("col").Aria("sort", state)
	if num {
		th = th.Class("num")
	}
	return th.Body(
		app.Button().ID("sort-"+string(k)).Type("button").Class("sort-button").DataSet("sort", string(k)).
			OnClick(func(ctx app.Context, e app.Event) {
				t.view = t.view.toggleSort(k)
				t.refresh()
			}, app.EventScope("sort", k)).
			Body(
				app.Span().Text(label),
				app.Span().Class("sort-arrow").Aria("hidden", "true").Text(arrow),
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

// tableRow is one row of the table: a receipt and whether its members
// are open. Its handlers carry the seq as their event scope: rows are
// matched by position, so after a sort a row shows another seq, and a
// handler without the scope would keep the old seq's closure.
type tableRow struct {
	app.Compo

	R        api.Receipt
	Selected bool
}

// Render draws the row.
func (row *tableRow) Render() app.UI {
	r := row.R
	seq := r.Seq
	rate := rowRate(r)
	tr := app.Tr().ID("row-"+formatSeq(seq)).DataSet("seq", seq).TabIndex(0).Class("row").
		Aria("label", "seq "+formatSeq(seq)+", open members").
		OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(actionOpenSeq, seq) }, app.EventScope("row", seq)).
		OnKeyDown(func(ctx app.Context, e app.Event) {
			switch e.Get("key").String() {
			case "Enter", " ":
				e.PreventDefault()
				ctx.NewActionWithValue(actionOpenSeq, seq)
			case "ArrowDown":
				e.PreventDefault()
				focusSibling(ctx, "nextElementSibling")
			case "ArrowUp":
				e.PreventDefault()
				focusSibling(ctx, "previousElementSibling")
			default:
				ctx.PreventUpdate()
			}
		}, app.EventScope("row", seq))
	if r.Code != 0 {
		tr = tr.Class("row-missing")
	}
	if row.Selected {
		tr = tr.Class("row-selected").Aria("current", "true")
	}
	var rateCell app.UI = app.Span().Class("muted").Text("—")
	if rate >= 0 {
		rateCell = app.Span().Class("rate-cell").Body(
			rateBar(rate, 64, 8, "row-bar"),
			app.Span().Class("rate-text").Text(formatPct(rate)),
		)
	}
	status := app.Td().Class("status")
	if r.Code == 0 {
		status = status.Body(app.Span().Class("status-ok").Text("✓ OK"))
	} else {
		mark := "✕ " + strconv.Itoa(r.Code)
		if r.Code == api.CodeNotFetched {
			mark = "✕ not fetched"
		}
		status = status.Body(
			app.Span().Class("status-missing").Text(mark),
			app.Span().Class("status-text").Text(" "+codeText(r)),
		)
	}
	read, unread := formatInt(r.Read), formatInt(r.Unread)
	if r.Code != 0 {
		read, unread = "—", "—"
	}
	return tr.Body(
		app.Td().Class("num", "mono").Text(formatSeq(seq)),
		app.Td().Class("num").Text(read),
		app.Td().Class("num").Text(unread),
		app.Td().Class("num").Body(rateCell),
		status,
	)
}

// codeText is a per-message code's explanation.
func codeText(r api.Receipt) string {
	if r.CodeText != "" {
		return r.CodeText
	}
	return explainCode(r.Code)
}

// focusSibling moves focus to the next or previous table row.
func focusSibling(ctx app.Context, which string) {
	if !app.IsClient {
		return
	}
	if el := ctx.JSSrc().Get(which); el.Truthy() {
		el.Call("focus")
	}
}
