package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// Render draws the page: top bar and banners, the form and the recent
// queries, the status line, then the result. Before the wasm mounts, the
// server's prerendered copy is visible under go-app's loader: every control
// is disabled there, because the DOM is replaced (not hydrated) on mount
// and anything typed early would be lost.
//
// The tree keeps its shape: go-app diffs children by position, so an
// element that comes and goes sits last in its parent or in a wrapper of
// its own, and never shifts (and remounts) the children after it.
func (c *console) Render() app.UI {
	var apps []api.App
	maxSeqs := 0
	if c.me != nil {
		apps, maxSeqs = c.me.Apps, c.me.MaxSeqs
	}
	return app.Div().
		ID("console").
		Class("console").
		DataSet("mounted", c.mounted).
		Body(
			patternDefs(),
			c.renderHeader(),
			app.Main().ID("main").Class("layout").Body(
				app.Div().Class("query-row").Body(
					&queryForm{
						Apps: apps, MaxSeqs: maxSeqs, MeStatus: c.meStatus,
						Ready: c.mounted, Busy: c.pulling || c.leaving, Pulling: c.pulling,
						Prefill: c.prefill, Nav: c.nav,
					},
					c.renderRecent(),
				),
				c.renderStatus(),
				c.renderResults(),
				// Last: it comes and goes without shifting the rest.
				app.If(c.warming(), c.renderWarmup),
			),
		)
}

// renderHeader is the banner landmark: the top bar, then the DEMO and
// "new version" banners (inside the landmark, last, so they shift
// nothing when they appear).
func (c *console) renderHeader() app.UI {
	var who app.UI = app.Span().Class("operator", "muted").Text(" ")
	if c.me != nil {
		op := c.me.Operator
		name := op.Name
		if name == "" {
			name = op.Subject
		}
		who = app.Div().ID("operator").Class("operator").Body(
			app.Span().Class("operator-name").Text(name),
			app.If(op.Email != "", func() app.UI { return app.Span().Class("operator-email").Text(op.Email) }),
		)
	}
	return app.Header().Class("page-head").Body(
		app.Div().Class("topbar").Body(
			// The link's name is its visible text; the icon is decorative.
			app.A().Class("brand").Href(pathHome).Body(
				brandIcon(),
				app.Span().Class("brand-name").Text("timconsole"),
				app.Span().Class("brand-sub").Text("Group read receipts"),
			),
			app.Div().Class("topbar-right").Body(
				who,
				app.Form().ID("logout-form").Method("post").Action(api.PathLogout).Body(
					app.Button().ID("logout-button").Type("submit").Class("btn", "btn-ghost").Text("Sign out"),
				),
			),
		),
		app.If(c.me != nil && c.me.Demo, func() app.UI {
			return app.Div().ID("demo-banner").Class("banner", "banner-demo").Role("note").Body(
				app.Strong().Text("DEMO"),
				app.Span().Text(" Emulated Tencent Chat and a development sign-in. All data is synthetic."),
			)
		}),
		app.If(c.updated, func() app.UI {
			return app.Div().ID("update-banner").Class("banner", "banner-update").Role("status").Body(
				app.Span().Text("A new version of timconsole is available."),
				app.Button().ID("reload-button").Type("button").Class("btn", "btn-small").
					Text("Reload").OnClick(func(ctx app.Context, e app.Event) { ctx.Reload() }),
			)
		}),
	)
}

// brandIcon is the decorative logo. It is Raw because go-app drops empty
// attribute values: Alt("") would render an <img> without alt, which
// screen readers announce by its file name.
func brandIcon() app.UI {
	return app.Raw(`<img class="brand-icon" src="/web/icon.svg" alt="" width="28" height="28">`)
}

func (c *console) renderRecent() app.UI {
	return app.Section().Class("card", "recent-card").Aria("labelledby", "recent-title").Body(
		app.H2().ID("recent-title").Class("card-title").Text("Recent"),
		app.If(len(c.recent) == 0, func() app.UI {
			return app.P().Class("muted", "small").Text("Queries you run appear here, on this browser only.")
		}).Else(func() app.UI {
			return app.Ul().ID("recent").Class("recent-list").Body(
				app.Range(c.recent).Slice(func(i int) app.UI {
					q := c.recent[i]
					return app.Li().Body(
						app.A().Class("recent-link").Href(q.path()).Body(
							app.Span().Class("recent-group", "mono").Text(q.Group),
							app.Span().Class("recent-meta").Text(q.App+" · "+abbrevSeqs(q.Seqs)+" · "+formatInt(q.Count)+" "+plural(q.Count, "seq", "seqs")),
						),
					)
				}),
			)
		}),
	)
}

// abbrevSeqs shortens a long seq list for the recent list.
func abbrevSeqs(s string) string {
	if len(s) <= 28 {
		return s
	}
	return s[:26] + "…"
}

// renderStatus shows the progress of a pull, a notice, and errors.
func (c *console) renderStatus() app.UI {
	return app.Div().Class("status-area").Body(
		app.If(c.leaving, func() app.UI {
			return app.Div().Class("banner", "banner-info").Role("status").Text("Your session has ended. Taking you to sign in…")
		}),
		app.If(c.pulling, func() app.UI {
			total := max(c.progTotal, 1)
			label := "Pulling receipts for " + formatInt(c.pendingCount) + " " + plural(c.pendingCount, "seq", "seqs") + "…"
			if c.progDone > 0 {
				label = "Pulled " + formatInt(c.progDone) + " of " + formatInt(c.progTotal) + " seqs…"
			}
			if s := int(c.elapsed.Seconds()); s > 0 {
				label += " · " + formatInt(s) + " s elapsed"
			}
			return app.Div().ID("progress").Class("card", "progress-card").Role("status").Body(
				app.Div().Class("progress-text").Body(
					app.Span().ID("progress-label").Text(label),
					app.Button().ID("cancel-button").Type("button").Class("btn", "btn-small").Text("Cancel").
						OnClick(func(ctx app.Context, e app.Event) { c.cancelPull() }),
				),
				app.Progress().ID("progress-bar").Class("progress-bar").
					Max(total).Value(min(c.progDone, total)).Aria("labelledby", "progress-label"),
			)
		}),
		app.If(c.notice != "", func() app.UI {
			return app.Div().ID("notice").Class("banner", "banner-info").Role("status").Text(c.notice)
		}),
		app.If(c.err != nil, func() app.UI { return c.renderError(c.err) }),
	)
}

// errorTitle is the headline of an error, in plain words.
func errorTitle(e *api.Error) string {
	switch e.Code {
	case api.ECodeInvalid:
		return "The query was not accepted"
	case api.ECodeForbidden:
		return "Not allowed"
	case api.ECodeNotFound:
		return "Not found"
	case api.ECodeTooMany:
		return "Too many pulls at once"
	case api.ECodeUpstream:
		return "Tencent Cloud Chat refused the request"
	case api.ECodeUnavailable:
		return "Tencent Cloud Chat or the console is unreachable"
	case api.ECodeTimeout:
		return "Tencent Cloud Chat did not answer in time"
	case api.ECodeThrottled:
		return "Tencent Cloud Chat is throttling this app"
	case api.ECodeTooLarge:
		return "The query is too large"
	}
	return "Something went wrong"
}

// errorHint says what an operator can do about an upstream failure.
func errorHint(e *api.Error) string {
	switch {
	case e.Code == api.ECodeTimeout:
		return "Tencent is slow or cannot be reached from the console's server. Try again in a minute; if it keeps happening, check Tencent Cloud's status and the server's network."
	case e.Code == api.ECodeThrottled:
		return "Every operator of this app shares Tencent's calls-per-second budget. Wait a few seconds, or ask for fewer seqs."
	case e.Code == api.ECodeUnavailable && e.UpstreamStatus >= 500:
		return "Tencent's gateway answered with an error page. This usually clears within a minute."
	case e.UpstreamCode == 70001 || e.UpstreamCode == 70009 || e.UpstreamCode == 70003:
		return "The console signs with the app's secret key: ask whoever deploys the console to check it."
	}
	return ""
}

// renderError is the error box. Its buttons post actions: "Try again"
// starts work that must outlive the box, which its own click context would
// not (the box goes away as the retry starts).
func (c *console) renderError(e *api.Error) app.UI {
	return app.Div().ID("error-box").Class("error-box").Role("alert").DataSet("code", e.Code).Body(
		app.Div().Class("error-head").Body(
			app.Strong().Class("error-title").Text(errorTitle(e)),
			app.If(e.UpstreamCode != 0, func() app.UI {
				return app.Span().ID("error-tencent-code").Class("error-code", "mono").Text("Tencent code " + strconv.Itoa(e.UpstreamCode))
			}),
			app.If(e.UpstreamStatus != 0, func() app.UI {
				return app.Span().ID("error-tencent-status").Class("error-code", "mono").Text("Tencent HTTP " + strconv.Itoa(e.UpstreamStatus))
			}),
		),
		app.P().Class("error-message").Text(e.Message),
		app.If(errorHint(e) != "", func() app.UI {
			return app.P().ID("error-hint").Class("error-hint", "small").Text(errorHint(e))
		}),
		app.If(len(e.Problems) > 0, func() app.UI {
			return app.Ul().Class("error-problems").Body(
				app.Range(e.Problems).Slice(func(i int) app.UI {
					p := e.Problems[i]
					return app.Li().Text(p.Field + ": " + p.Message)
				}),
			)
		}),
		app.Div().Class("error-actions").Body(
			app.If(e.Retryable, func() app.UI {
				return app.Button().ID("retry-button").Type("button").Class("btn", "btn-small").Text("Try again").
					OnClick(func(ctx app.Context, ev app.Event) { ctx.NewAction(actionRetry) })
			}),
			app.Button().ID("error-dismiss").Type("button").Class("btn", "btn-small", "btn-ghost").Text("Dismiss").
				OnClick(func(ctx app.Context, ev app.Event) { c.err = nil }),
		),
	)
}
