package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// renderResults is everything below the form: an empty state before the
// first result, then the heading, the summary tiles, the chart, the table
// and the drill-down. A result stays on screen during a new pull and after
// a failed one.
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
	area := app.Div().Class("table-area")
	if c.drillOpen {
		area = area.Class("with-drill")
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
			csvLink(q),
		),
		// A wrapper of its own: the banner comes and goes without shifting
		// (and remounting) the tiles, chart and table after it.
		app.Div().Class("partial-slot").Body(
			app.If(r.Resp.Partial, func() app.UI { return c.renderPartial(r) }),
		),
		&summaryTiles{Summary: r.Resp.Summary},
		&receiptChart{Geom: r.Geom, SVG: r.ChartSVG},
		area.Body(
			&resultsTable{
				Results: r.Resp.Results, Key: q.key(),
				Selected: c.drillRow.Seq, HasSelected: c.drillOpen,
			},
			app.If(c.drillOpen, func() app.UI {
				return &drillPanel{Query: q, Row: c.drillRow, PageSize: c.pageSize, api: c.api}
			}),
		),
	)
}

// csvLink is the export link. Its file name is the server's
// (Content-Disposition), so the link carries a bare download attribute. It
// is Raw because go-app drops empty attribute values: Download("") would
// render no download attribute at all.
func csvLink(q query) app.UI {
	return app.Raw(`<a id="csv-link" class="btn btn-small" href="` + escapeHTML(q.csvPath()) + `" download>Export CSV</a>`)
}

// renderPartial explains a partial result and offers to fetch the rest.
func (c *console) renderPartial(r *cachedResult) app.UI {
	s := r.Resp.Summary
	n := s.NotFetched
	cause := ""
	for _, x := range r.Resp.Results {
		if x.Code == api.CodeNotFetched {
			cause = " " + x.CodeText
			break
		}
	}
	label := "Retry the " + formatInt(n) + " failed " + plural(n, "seq", "seqs")
	retry := app.Button().ID("retry-failed").Type("button").Class("btn", "btn-small").Text(label).
		OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionRetryFailed) })
	if c.pulling {
		retry = retry.Disabled(true)
	}
	return app.Div().ID("partial-banner").Class("banner", "banner-warn").Role("status").Body(
		app.P().Body(
			app.Strong().Text(formatInt(n)+" of "+formatInt(s.Messages)+" "+plural(s.Messages, "seq", "seqs")+" could not be fetched."),
			app.Span().Text(cause+" The rest of the result is complete."),
		),
		retry,
	)
}

// formatDuration writes milliseconds as "850 ms" or "2.4 s".
func formatDuration(ms int64) string {
	if ms < 1000 {
		return strconv.FormatInt(ms, 10) + " ms"
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + " s"
}
