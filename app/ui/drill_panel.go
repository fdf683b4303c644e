package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// drillPanel is the drill-down: who read one message and who has not,
// page by page. The page says which row (Query, Row) and how many members
// a page holds (PageSize); the panel owns the lists it loaded.
//
// It loads with its own context: the one of OnMount for the first page,
// and, for "load more" and the other tab, the one go-app gives its
// actionDrillFetch handler, whose source is the panel itself. A button's
// own context would not do: "Load more" leaves the DOM while its page
// loads, and go-app drops a dispatch whose source has gone. Closing and the
// page size go to the page as actions (actionCloseDrill, actionPageSize);
// a 401 as actionFail.
type drillPanel struct {
	app.Compo

	Query    query
	Row      api.Receipt
	PageSize int

	// api is set once, by the page's render that creates the panel.
	api *client

	d            drill
	first        api.MembersRequest
	fetchOnMount bool
}

// CompoID makes another row a new panel (mounted afresh, first page
// loaded, focus on its title), not an old panel with another row's lists.
func (p *drillPanel) CompoID() string { return p.Query.key() + "\x00" + formatSeq(p.Row.Seq) }

// OnInit opens the state machine, so the first render shows "loading".
func (p *drillPanel) OnInit() {
	p.first, p.fetchOnMount = p.d.open(p.Query, p.Row, p.PageSize)
}

// OnMount loads the first page and takes the panel's own fetches.
func (p *drillPanel) OnMount(ctx app.Context) {
	ctx.Handle(actionDrillFetch, p.handleFetch)
	if p.fetchOnMount {
		p.fetchOnMount = false
		p.fetch(ctx, p.first)
	}
	ctx.Defer(func(app.Context) { focusID("drilldown-title") })
}

// OnUpdate takes a new page size for the next pages.
func (p *drillPanel) OnUpdate(ctx app.Context) { p.d.PageSize = validPageSize(p.PageSize) }

func (p *drillPanel) handleFetch(ctx app.Context, a app.Action) {
	if req, ok := a.Value.(api.MembersRequest); ok {
		p.fetch(ctx, req)
	}
}

// fetch loads one page; ctx must be the panel's.
func (p *drillPanel) fetch(ctx app.Context, req api.MembersRequest) {
	ctx.Async(func() {
		page, err := p.api.members(ctx, req)
		ctx.Dispatch(func(ctx app.Context) {
			if e := asAPIError(err); e != nil {
				if e.Code == api.ECodeUnauthorized {
					ctx.NewActionWithValue(actionFail, e)
					return
				}
				p.d.failed(req, e)
				return
			}
			if err == nil {
				p.d.loaded(req, page)
			}
		})
	})
}

// Render draws the panel.
func (p *drillPanel) Render() app.UI {
	d := &p.d
	l := d.list()
	visible := d.visible()
	tab := func(id, filter, label string, n int) app.UI {
		b := app.Button().ID(id).Type("button").Role("tab").Class("tab").
			Aria("selected", d.Tab == filter).Aria("controls", "member-panel").
			OnClick(func(ctx app.Context, e app.Event) {
				if req, ok := p.d.switchTab(filter); ok {
					ctx.NewActionWithValue(actionDrillFetch, req)
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
	listName := "Members who read seq " + formatSeq(d.Row.Seq)
	if d.Tab == api.FilterUnread {
		listName = "Members who have not read seq " + formatSeq(d.Row.Seq)
	}
	return app.Aside().ID("drilldown").Class("card", "drill").Aria("labelledby", "drilldown-title").
		OnKeyDown(func(ctx app.Context, e app.Event) {
			if e.Get("key").String() == "Escape" {
				ctx.NewAction(actionCloseDrill)
			}
		}).
		Body(
			app.Div().Class("card-head").Body(
				app.H2().ID("drilldown-title").Class("card-title").TabIndex(-1).Text("Seq "+formatSeq(d.Row.Seq)),
				app.Button().ID("drill-close").Type("button").Class("btn", "btn-ghost", "btn-small").
					Aria("label", "Close members panel").Text("✕").
					OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionCloseDrill) }),
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
					OnInput(func(ctx app.Context, e app.Event) { p.d.Search = ctx.JSSrc().Get("value").String() }),
				app.Div().Class("member-meta").Body(
					app.P().ID("member-count").Class("muted", "small").Aria("live", "polite").Text(countText),
					p.renderPageSize(),
				),
				// Focusable: a long list scrolls, and a keyboard must be
				// able to scroll it too.
				app.Ul().ID("member-list").Class("member-list").TabIndex(0).Aria("label", listName).Body(
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
							if req, ok := p.d.loadMore(); ok {
								ctx.NewActionWithValue(actionDrillFetch, req)
							}
						})
				}),
			),
		)
}

// renderPageSize is the "per page" select: the standard sizes, plus the
// deep link's own size when it is another.
func (p *drillPanel) renderPageSize() app.UI {
	cur := validPageSize(p.PageSize)
	sizes := memberPageSizes()
	custom := true
	for _, n := range sizes {
		if n == cur {
			custom = false
		}
	}
	if custom {
		sizes = append([]int{cur}, sizes...)
	}
	options := make([]app.UI, 0, len(sizes))
	for _, n := range sizes {
		o := app.Option().Value(strconv.Itoa(n)).Text(strconv.Itoa(n))
		if n == cur {
			o = o.Selected(true)
		}
		options = append(options, o)
	}
	return app.Label().Class("inline-field", "small").For("members-per-page").Body(
		app.Span().Text("Per page"),
		app.Select().ID("members-per-page").Class("field-input", "input-narrow").
			OnChange(func(ctx app.Context, e app.Event) {
				if n, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil {
					ctx.NewActionWithValue(actionPageSize, n)
				}
			}).
			Body(options...),
	)
}

// tencentSuffix adds the Tencent code to an inline error.
func tencentSuffix(e *api.Error) string {
	if e.UpstreamCode == 0 {
		return ""
	}
	return " (Tencent code " + strconv.Itoa(e.UpstreamCode) + ")"
}
