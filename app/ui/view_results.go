package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// renderResults is everything below the form: an empty state before the
// first result, then the summary, chart, table and drill-down. A result
// stays on screen during a new pull and after a failed one.
func (c *console) renderResults() app.UI {
	if c.shown == nil {
		if c.pulling {
			return app.Div().Class("results", "results-loading").Aria("busy", "true")
		}
		return app.Section().ID("empty-state").Class("card", "empty-state").Body(
			app.H2().Class("card-title").Text("Who has read what?"),
			app.P().Text("Pick an app, enter a group ID and the message seqs (ranges like 1-500, 777), then press Pull. "+
				"You get the read and unread counts per message as tiles, a chart and a table; select a row to see who read it."),
			app.P().Class("muted", "small").Text("The address bar always holds the query: copy it to share the same result."),
		)
	}
	r := c.shown
	q := r.Query
	up := r.Resp.Upstream
	results := app.Div().ID("results").Class("results")
	if c.pulling {
		results = results.Class("is-stale").Aria("busy", "true")
	}
	return results.Body(
		app.Div().Class("results-head").Body(
			app.Div().Class("results-title").Body(
				app.H2().Class("results-heading").Body(
					app.Span().Class("mono").Text(q.Group),
				),
				app.P().Class("muted", "small").Text(c.appName(q.App)+" · seqs "+abbrevSeqs(q.Seqs)+
					" · "+formatInt(up.Calls)+" Tencent "+plural(up.Calls, "call", "calls")+
					" · "+formatDuration(up.ElapsedMS)),
			),
			app.A().ID("csv-link").Class("btn", "btn-small").Href(q.csvPath()).
				Download("receipts-"+safeFileName(q.Group)+".csv").Text("Export CSV"),
		),
		app.If(r.Resp.Partial, func() app.UI { return c.renderPartial(r) }),
		renderTiles(r.Summary),
		c.renderChart(),
		c.renderTable(),
	)
}

// renderPartial explains a partial result and offers to fetch the rest.
func (c *console) renderPartial(r *cachedResult) app.UI {
	n := r.Summary.NotFetched
	cause := ""
	for _, x := range r.Resp.Results {
		if x.Code == api.CodeNotFetched {
			cause = " " + x.CodeText
			break
		}
	}
	label := "Retry the " + formatInt(n) + " failed " + plural(n, "seq", "seqs")
	return app.Div().ID("partial-banner").Class("banner", "banner-warn").Role("status").Body(
		app.P().Body(
			app.Strong().Text(formatInt(n)+" of "+formatInt(r.Summary.Messages)+" "+plural(r.Summary.Messages, "seq", "seqs")+" could not be fetched."),
			app.Span().Text(cause+" The rest of the result is complete."),
		),
		app.Button().ID("retry-failed").Type("button").Class("btn", "btn-small").Text(label).
			Disabled(c.pulling).
			OnClick(func(ctx app.Context, e app.Event) { c.retryFailed() }),
	)
}

// formatDuration writes milliseconds as "850 ms" or "2.4 s".
func formatDuration(ms int64) string {
	if ms < 1000 {
		return strconv.FormatInt(ms, 10) + " ms"
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + " s"
}

// safeFileName keeps a group ID usable in a download name.
func safeFileName(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// tile is one summary number.
type tile struct {
	Name, Label, Value, Sub string
	Warn                    bool
}

// summaryTiles lists the tiles of a summary, in display order.
func summaryTiles(s api.Summary) []tile {
	rate := "—"
	if s.TotalRead+s.TotalUnread > 0 {
		rate = formatPct(s.ReadRate)
	}
	tiles := []tile{
		{Name: "messages", Label: "Messages", Value: formatInt(s.Messages)},
		{Name: "with-receipt", Label: "With receipt", Value: formatInt(s.WithReceipt)},
		{Name: "missing", Label: "Missing (10062)", Value: formatInt(s.Missing), Warn: s.Missing > 0},
	}
	if s.NotFetched > 0 {
		tiles = append(tiles, tile{Name: "not-fetched", Label: "Not fetched", Value: formatInt(s.NotFetched), Warn: true})
	}
	return append(tiles,
		tile{Name: "total-read", Label: "Total read", Value: formatInt(s.TotalRead)},
		tile{Name: "total-unread", Label: "Total unread", Value: formatInt(s.TotalUnread)},
		tile{Name: "read-rate", Label: "Read rate", Value: rate},
	)
}

func renderTiles(s api.Summary) app.UI {
	tiles := summaryTiles(s)
	return app.Section().ID("summary").Class("tiles").Aria("label", "Summary").Body(
		app.Range(tiles).Slice(func(i int) app.UI {
			t := tiles[i]
			d := app.Div().Class("tile", "tile-"+t.Name).DataSet("tile", t.Name)
			if t.Warn {
				d = d.Class("tile-warn")
			}
			var extra app.UI
			if t.Name == "read-rate" && s.TotalRead+s.TotalUnread > 0 {
				extra = rateBar(s.ReadRate, 160, 8, "tile-bar")
			}
			return d.Body(
				app.Span().Class("tile-label").Text(t.Label),
				app.Span().Class("tile-value").Text(t.Value),
				extra,
			)
		}),
	)
}

// renderTable is the sortable, filterable, paged table of seqs, with the
// drill-down beside it.
func (c *console) renderTable() app.UI {
	page, p := pageOf(c.rows, c.view.Page)
	first := p*tablePageSize + 1
	last := p*tablePageSize + len(page)
	count := "No seqs match the filters"
	if len(c.rows) > 0 {
		count = "Rows " + formatInt(first) + "–" + formatInt(last) + " of " + formatInt(len(c.rows))
		if len(c.rows) != len(c.shown.Resp.Results) {
			count += " (filtered from " + formatInt(len(c.shown.Resp.Results)) + ")"
		}
	}
	missing := app.Input().ID("filter-missing").Type("checkbox").
		OnChange(func(ctx app.Context, e app.Event) {
			c.view.OnlyMissing = ctx.JSSrc().Get("checked").Bool()
			c.view.Page = 0
			c.refreshRows()
		})
	if c.view.OnlyMissing {
		missing = missing.Checked(true)
	}
	wrap := app.Div().Class("table-area")
	if c.drill.Open {
		wrap = wrap.Class("with-drill")
	}
	return wrap.Body(
		app.Section().Class("card", "table-card").Aria("labelledby", "table-title").Body(
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
							Min(0).Max(100).Step(1).Placeholder("—").Value(c.below).
							OnInput(func(ctx app.Context, e app.Event) {
								c.below = ctx.JSSrc().Get("value").String()
								c.view.Page = 0
								c.refreshRows()
							}),
						app.Span().Text("%"),
					),
				),
			),
			app.Div().Class("table-scroll").Body(
				app.Table().ID("results-table").Class("data-table").Body(
					app.Caption().Class("sr-only").Text("Read receipts per message. Select a row for its members."),
					app.THead().Body(app.Tr().Body(
						app.Range(tableColumns).Slice(func(i int) app.UI {
							col := tableColumns[i]
							return c.renderTh(col.Key, col.Label, col.Num)
						}),
					)),
					app.TBody().Body(
						app.Range(page).Slice(func(i int) app.UI { return c.renderRow(page[i]) }),
					),
				),
			),
			app.Div().Class("table-foot").Body(
				app.Span().ID("table-count").Class("muted", "small").Aria("live", "polite").Text(count),
				c.renderPager(p),
			),
		),
		app.If(c.drill.Open, func() app.UI { return c.renderDrill() }),
	)
}

// sortState is the aria-sort of a column.
func (c *console) sortState(k sortKey) string {
	cur := c.view.Sort
	if cur == "" {
		cur = sortSeq
	}
	switch {
	case cur != k:
		return "none"
	case c.view.Desc:
		return "descending"
	}
	return "ascending"
}

func (c *console) renderTh(k sortKey, label string, num bool) app.UI {
	state := c.sortState(k)
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
				c.view = c.view.toggleSort(k)
				c.refreshRows()
			}, app.EventScope("sort", k)).
			Body(
				app.Span().Text(label),
				app.Span().Class("sort-arrow").Aria("hidden", "true").Text(arrow),
			),
	)
}

func (c *console) renderRow(r api.Receipt) app.UI {
	seq := r.Seq
	rate := rowRate(r)
	tr := app.Tr().ID("row-"+formatSeq(seq)).DataSet("seq", seq).TabIndex(0).Class("row").
		Aria("label", "seq "+formatSeq(seq)+", open members").
		OnClick(func(ctx app.Context, e app.Event) { c.openDrill(seq) }, app.EventScope("row", seq)).
		OnKeyDown(func(ctx app.Context, e app.Event) {
			switch e.Get("key").String() {
			case "Enter", " ":
				e.PreventDefault()
				c.openDrill(seq)
			case "ArrowDown":
				e.PreventDefault()
				focusSibling(ctx, "nextElementSibling")
			case "ArrowUp":
				e.PreventDefault()
				focusSibling(ctx, "previousElementSibling")
			}
		}, app.EventScope("row", seq))
	if r.Code != 0 {
		tr = tr.Class("row-missing")
	}
	if c.drill.Open && c.drill.Row.Seq == seq {
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

func (c *console) renderPager(p int) app.UI {
	pages := max(1, (len(c.rows)+tablePageSize-1)/tablePageSize)
	if pages == 1 {
		return app.Span()
	}
	prev := app.Button().ID("page-prev").Type("button").Class("btn", "btn-small").Text("← Previous").
		OnClick(func(ctx app.Context, e app.Event) { c.view.Page = p - 1 })
	next := app.Button().ID("page-next").Type("button").Class("btn", "btn-small").Text("Next →").
		OnClick(func(ctx app.Context, e app.Event) { c.view.Page = p + 1 })
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

// renderDrill is the drill-down panel: who read a message and who has not.
func (c *console) renderDrill() app.UI {
	d := &c.drill
	l := d.list()
	visible := d.visible()
	tab := func(id, filter, label string, n int) app.UI {
		b := app.Button().ID(id).Type("button").Role("tab").Class("tab").
			Aria("selected", d.Tab == filter).Aria("controls", "member-panel").
			OnClick(func(ctx app.Context, e app.Event) {
				if req, ok := c.drill.switchTab(filter); ok {
					c.fetchMembers(req)
				}
			}, app.EventScope("tab", filter)).
			Body(
				app.Span().Text(label),
				app.Span().Class("tab-count").Text(formatInt(n)),
			)
		if d.Tab != filter {
			b = b.TabIndex(-1)
		}
		return b
	}
	countText := formatInt(len(l.Members)) + " of " + formatInt(d.total()) + " loaded"
	if d.Search != "" {
		countText = formatInt(len(visible)) + " match · " + countText
	}
	return app.Aside().ID("drilldown").Class("card", "drill").Aria("labelledby", "drilldown-title").
		OnKeyDown(func(ctx app.Context, e app.Event) {
			if e.Get("key").String() == "Escape" {
				c.closeDrill()
			}
		}).
		Body(
			app.Div().Class("card-head").Body(
				app.H2().ID("drilldown-title").Class("card-title").TabIndex(-1).Text("Seq "+formatSeq(d.Row.Seq)),
				app.Button().ID("drill-close").Type("button").Class("btn", "btn-ghost", "btn-small").
					Aria("label", "Close members panel").Text("✕").
					OnClick(func(ctx app.Context, e app.Event) { c.closeDrill() }),
			),
			app.If(d.Row.Code != 0, func() app.UI {
				return app.P().Class("drill-note").Text("No receipt for this seq (" + strconv.Itoa(d.Row.Code) + "): " + codeText(d.Row))
			}),
			app.Div().Class("tabs").Role("tablist").Aria("label", "Members").Body(
				tab("tab-read", api.FilterRead, "Read", d.Row.Read),
				tab("tab-unread", api.FilterUnread, "Unread", d.Row.Unread),
			),
			app.Div().ID("member-panel").Class("member-panel").Role("tabpanel").Body(
				app.Label().For("member-search").Class("sr-only").Text("Search loaded members"),
				app.Input().ID("member-search").Type("search").Class("field-input").
					Placeholder("Search loaded members").Value(d.Search).AutoComplete(false).
					OnInput(func(ctx app.Context, e app.Event) { c.drill.Search = ctx.JSSrc().Get("value").String() }),
				app.P().ID("member-count").Class("muted", "small").Aria("live", "polite").Text(countText),
				app.Ul().ID("member-list").Class("member-list").Body(
					app.Range(visible).Slice(func(i int) app.UI {
						return app.Li().Class("member", "mono").Text(visible[i])
					}),
				),
				app.If(l.Status == loading, func() app.UI {
					return app.P().Class("muted", "small", "loading-line").Text("Loading members…")
				}),
				app.If(l.Status == loadingErr && l.Err != nil, func() app.UI {
					return app.P().ID("member-error").Class("hint-error", "small").Role("alert").Text(errorTitle(l.Err) + ": " + l.Err.Message + tencentSuffix(l.Err))
				}),
				app.If(l.Status == loaded && len(l.Members) == 0 && d.Row.Code == 0, func() app.UI {
					return app.P().Class("muted", "small").Text("Nobody in this list.")
				}),
				app.If(!l.Done && l.Status != neverLoaded && l.Status != loading && d.Row.Code == 0, func() app.UI {
					label := "Load more"
					if l.Status == loadingErr {
						label = "Try again"
					}
					return app.Button().ID("load-more").Type("button").Class("btn", "btn-small").Text(label).
						OnClick(func(ctx app.Context, e app.Event) {
							if req, ok := c.drill.loadMore(); ok {
								c.fetchMembers(req)
							}
						})
				}),
			),
		)
}

// tencentSuffix adds the Tencent code to an inline error.
func tencentSuffix(e *api.Error) string {
	if e.UpstreamCode == 0 {
		return ""
	}
	return " (Tencent code " + strconv.Itoa(e.UpstreamCode) + ")"
}
