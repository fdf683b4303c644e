package ui

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// queryForm is the query card: app, group ID and seqs, checked on every
// keystroke with the BFF's own rules. It owns what the operator typed; the
// page owns what was asked for.
//
// Inputs are values (go-app compares them on every page render and
// re-renders the form only when one changed). Its one output is the Pull:
// it posts actionPull with the canonical query, or actionFormInvalid when
// its own checks refused it. Actions, not func fields: an exported func is
// never equal, so it would re-render the form at every page render, and
// the page's handler runs with the page's own context.
type queryForm struct {
	app.Compo

	// Apps and MaxSeqs are the operator's, from /api/me; MeStatus says
	// whether they are known (before that the app is not checked).
	Apps     []api.App
	MaxSeqs  int
	MeStatus loadStatus
	// Ready is false in the prerendered page: every control is locked,
	// because the DOM is replaced on mount and early input would be lost.
	Ready bool
	// Busy disables Pull: a pull is running, or the page is leaving for
	// the sign-in.
	Busy bool
	// Pulling marks Pull aria-busy.
	Pulling bool
	// Prefill is the query of the URL; the form takes it whenever Nav
	// changes (each navigation to a deep link), and keeps what the
	// operator typed otherwise.
	Prefill formInput
	Nav     int

	in         formInput
	check      formCheck
	touched    bool // the operator pressed Pull once: show every problem
	appliedNav int
	appsSeen   bool
}

// OnInit takes the first inputs (the server prerenders with them).
func (f *queryForm) OnInit() { f.sync() }

// OnMount remembers the last app used on this browser.
func (f *queryForm) OnMount(ctx app.Context) {
	if f.in.App == "" {
		_ = ctx.LocalStorage().Get(storeLastApp, &f.in.App)
		f.recheck()
	}
}

// OnUpdate takes a new pre-fill or the operator's apps.
func (f *queryForm) OnUpdate(ctx app.Context) { f.sync() }

// sync applies inputs that changed: a navigation's pre-fill, and once the
// apps are known, a valid default app.
func (f *queryForm) sync() {
	if f.Nav != f.appliedNav {
		f.appliedNav = f.Nav
		f.in = f.Prefill
	}
	if f.MeStatus == loaded && !f.appsSeen {
		f.appsSeen = true
		if (f.in.App == "" || !hasApp(f.me(), f.in.App)) && len(f.Apps) > 0 {
			f.in.App = f.Apps[0].ID
		}
	}
	f.recheck()
}

// me is what checkForm needs of /api/me, or nil while it is loading.
func (f *queryForm) me() *api.Me {
	if f.MeStatus != loaded {
		return nil
	}
	return &api.Me{Apps: f.Apps, MaxSeqs: f.MaxSeqs}
}

func (f *queryForm) recheck() { f.check = checkForm(f.in, f.me()) }

// submit is Pull (or Enter in the form): the canonical query when the
// form passes its checks, ok false (and focus on the first problem) when
// it does not.
func (f *queryForm) submit(ctx app.Context) {
	f.touched = true
	f.recheck()
	if !f.check.OK() {
		f.focusFirstProblem(ctx)
		ctx.NewAction(actionFormInvalid)
		return
	}
	q := f.check.query(f.in)
	ctx.LocalStorage().Set(storeLastApp, q.App)
	ctx.NewActionWithValue(actionPull, q)
}

func (f *queryForm) focusFirstProblem(ctx app.Context) {
	id := ""
	switch {
	case f.check.AppProblem != "":
		id = "app-select"
	case f.check.GroupProblem != "":
		id = "group-input"
	case len(f.check.SeqProblems) > 0:
		id = "seqs-input"
	}
	if id != "" {
		ctx.Defer(func(app.Context) { focusID(id) })
	}
}

// Render draws the card.
func (f *queryForm) Render() app.UI {
	locked := !f.Ready
	hint, level := seqHint(f.in, f.check)
	showSeqProblem := len(f.check.SeqProblems) > 0 && (f.touched || strings.TrimSpace(f.in.Seqs) != "")
	if !showSeqProblem && level == hintError {
		level = hintInfo
		hint, _ = seqHint(formInput{}, f.check)
	}
	groupProblem := ""
	if f.touched || strings.TrimSpace(f.in.Group) != "" {
		groupProblem = f.check.GroupProblem
	}
	appProblem := ""
	if f.touched && f.MeStatus == loaded {
		appProblem = f.check.AppProblem
	}

	sel := app.Select().ID("app-select").Name("app").Class("field-input").
		Aria("describedby", "app-hint").
		OnChange(func(ctx app.Context, e app.Event) {
			f.in.App = ctx.JSSrc().Get("value").String()
			f.recheck()
		})
	var options []app.UI
	switch {
	case f.MeStatus != loaded:
		options = append(options, app.Option().Value("").Text("Loading apps…"))
		sel = sel.Disabled(true)
	case len(f.Apps) == 0:
		options = append(options, app.Option().Value("").Text("No apps available to you"))
		sel = sel.Disabled(true)
	default:
		for _, a := range f.Apps {
			o := app.Option().Value(a.ID).Text(appLabel(a))
			if a.ID == f.in.App {
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
		Value(f.in.Group).Placeholder("@TGS#1ABCDEFGH").AutoComplete(false).Spellcheck(false).
		MaxLength(api.MaxGroupIDLen).Aria("describedby", "group-hint").
		OnInput(func(ctx app.Context, e app.Event) {
			f.in.Group = ctx.JSSrc().Get("value").String()
			f.recheck()
		})
	seqs := app.Input().ID("seqs-input").Name("seqs").Type("text").Class("field-input", "mono").
		Value(f.in.Seqs).Placeholder("1-500, 777").AutoComplete(false).Spellcheck(false).
		Aria("describedby", "seqs-hint").
		OnInput(func(ctx app.Context, e app.Event) {
			f.in.Seqs = ctx.JSSrc().Get("value").String()
			f.recheck()
		})
	if groupProblem != "" {
		group = group.Aria("invalid", "true")
	}
	if showSeqProblem {
		seqs = seqs.Aria("invalid", "true")
	}
	pull := app.Button().ID("pull-button").Type("submit").Class("btn", "btn-primary").Text("Pull")
	if f.Pulling {
		pull = pull.Aria("busy", "true")
	}
	if locked || f.Busy {
		pull = pull.Disabled(true)
	}
	if locked {
		group = group.Disabled(true)
		seqs = seqs.Disabled(true)
	}

	// The page's one h1: the console is about this question.
	return app.Section().Class("card", "query-card").Aria("labelledby", "query-title").Body(
		app.H1().ID("query-title").Class("card-title").Text("Read receipts"),
		app.Form().ID("query-form").Class("query-form").Attr("novalidate", true).
			OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				f.submit(ctx)
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
