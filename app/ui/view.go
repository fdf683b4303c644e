package ui

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// Render draws the whole page. Before the wasm mounts, the server's
// prerendered copy of it is visible under go-app's loader: every control is
// disabled there, because the DOM is replaced (not hydrated) on mount and
// anything typed early would be lost.
func (c *console) Render() app.UI {
	return app.Div().
		ID("console").
		Class("console").
		DataSet("mounted", c.mounted).
		Body(
			patternDefs(),
			c.renderTopBar(),
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
			app.Main().ID("main").Class("layout").Body(
				app.Div().Class("query-row").Body(
					c.renderForm(),
					c.renderRecent(),
				),
				c.renderStatus(),
				c.renderResults(),
			),
		)
}

func (c *console) renderTopBar() app.UI {
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
	return app.Header().Class("topbar").Body(
		app.A().Class("brand").Href(pathHome).Aria("label", "timconsole home").Body(
			app.Img().Class("brand-icon").Src("/web/icon.svg").Alt("").Width(28).Height(28),
			app.Span().Class("brand-name").Text("timconsole"),
			app.Span().Class("brand-sub").Text("Group read receipts"),
		),
		app.Div().Class("topbar-right").Body(
			who,
			app.Form().ID("logout-form").Method("post").Action(api.PathLogout).Body(
				app.Button().ID("logout-button").Type("submit").Class("btn", "btn-ghost").Text("Sign out"),
			),
		),
	)
}

func (c *console) renderForm() app.UI {
	locked := !c.mounted
	hint, level := seqHint(c.in, c.check)
	showSeqProblem := len(c.check.SeqProblems) > 0 && (c.touched || strings.TrimSpace(c.in.Seqs) != "")
	if !showSeqProblem && level == hintError {
		level = hintInfo
		hint, _ = seqHint(formInput{}, c.check)
	}
	groupProblem := ""
	if c.touched || strings.TrimSpace(c.in.Group) != "" {
		groupProblem = c.check.GroupProblem
	}
	appProblem := ""
	if c.touched && c.meStatus == loaded {
		appProblem = c.check.AppProblem
	}

	sel := app.Select().ID("app-select").Name("app").Class("field-input").
		Aria("describedby", "app-hint").
		OnChange(func(ctx app.Context, e app.Event) {
			c.in.App = ctx.JSSrc().Get("value").String()
			c.check = checkForm(c.in, c.me)
		})
	var options []app.UI
	switch {
	case c.me == nil:
		options = append(options, app.Option().Value("").Text("Loading apps…"))
		sel = sel.Disabled(true)
	case len(c.me.Apps) == 0:
		options = append(options, app.Option().Value("").Text("No apps available to you"))
		sel = sel.Disabled(true)
	default:
		for _, a := range c.me.Apps {
			o := app.Option().Value(a.ID).Text(appLabel(a))
			if a.ID == c.in.App {
				o = o.Selected(true)
			}
			options = append(options, o)
		}
	}
	if locked {
		sel = sel.Disabled(true)
	}
	if appProblem != "" {
		sel = sel.Aria("invalid", "true")
	}

	group := app.Input().ID("group-input").Name("group").Type("text").Class("field-input", "mono").
		Value(c.in.Group).Placeholder("@TGS#1ABCDEFGH").AutoComplete(false).Spellcheck(false).
		MaxLength(api.MaxGroupIDLen).Aria("describedby", "group-hint").
		OnInput(func(ctx app.Context, e app.Event) {
			c.in.Group = ctx.JSSrc().Get("value").String()
			c.check = checkForm(c.in, c.me)
		})
	seqs := app.Input().ID("seqs-input").Name("seqs").Type("text").Class("field-input", "mono").
		Value(c.in.Seqs).Placeholder("1-500, 777").AutoComplete(false).Spellcheck(false).
		Aria("describedby", "seqs-hint").
		OnInput(func(ctx app.Context, e app.Event) {
			c.in.Seqs = ctx.JSSrc().Get("value").String()
			c.check = checkForm(c.in, c.me)
		})
	if groupProblem != "" {
		group = group.Aria("invalid", "true")
	}
	if showSeqProblem {
		seqs = seqs.Aria("invalid", "true")
	}
	pull := app.Button().ID("pull-button").Type("submit").Class("btn", "btn-primary").Text("Pull")
	if c.pulling {
		pull = pull.Aria("busy", "true")
	}
	if locked || c.pulling || c.leaving {
		pull = pull.Disabled(true)
	}
	if locked {
		group = group.Disabled(true)
		seqs = seqs.Disabled(true)
	}

	return app.Section().Class("card", "query-card").Aria("labelledby", "query-title").Body(
		app.H2().ID("query-title").Class("card-title").Text("Read receipts"),
		app.Form().ID("query-form").Class("query-form").Attr("novalidate", true).
			OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				c.submit(ctx)
			}).
			Body(
				app.Div().Class("field", "field-app").Body(
					app.Label().For("app-select").Class("field-label").Text("App"),
					sel.Body(options...),
					fieldHint("app-hint", appProblem, "SDKAppID and data centre"),
				),
				app.Div().Class("field", "field-group").Body(
					app.Label().For("group-input").Class("field-label").Text("Group ID"),
					group,
					fieldHint("group-hint", groupProblem, "As shown in the Chat console"),
				),
				app.Div().Class("field", "field-seqs").Body(
					app.Label().For("seqs-input").Class("field-label").Text("Message seqs"),
					seqs,
					app.P().ID("seqs-hint").Class("field-hint", "hint-"+level).Aria("live", "polite").Text(hint),
				),
				app.Div().Class("field", "field-submit").Body(
					app.Span().Class("field-label").Aria("hidden", "true").Text(" "),
					pull,
				),
			),
	)
}

// fieldHint is the line under an input: its problem, or a quiet hint.
func fieldHint(id, problem, hint string) app.UI {
	if problem != "" {
		return app.P().ID(id).Class("field-hint", "hint-error").Text(problem)
	}
	return app.P().ID(id).Class("field-hint").Text(hint)
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
					OnClick(func(ctx app.Context, ev app.Event) { c.retry() })
			}),
			app.Button().ID("error-dismiss").Type("button").Class("btn", "btn-small", "btn-ghost").Text("Dismiss").
				OnClick(func(ctx app.Context, ev app.Event) { c.err = nil }),
		),
	)
}
