package ui

import (
	"net/url"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// pathSignedOut is where the identity provider sends the browser back after
// a logout (the deployment's post-logout redirect URL points here).
const pathSignedOut = "/signed-out"

// signedOut is the page after a logout. It deliberately asks the BFF
// nothing: /api/me would answer 401, and the console sends a browser without
// a session straight on to the sign-in, so the operator would never see
// that the sign-out worked. Signing in again is their choice.
type signedOut struct {
	app.Compo
	mounted bool
}

// OnMount runs in the browser only; the flag lets tests wait for the app.
func (p *signedOut) OnMount(ctx app.Context) { p.mounted = true }

// signInAgainURL starts a new sign-in that lands on the empty console.
func signInAgainURL() string { return loginURL(&url.URL{Path: pathHome}) }

// Render draws the page. It works the same prerendered and mounted: it has
// no state worth waiting for, and its one link is a plain link.
func (p *signedOut) Render() app.UI {
	return app.Div().ID("signed-out").Class("console").DataSet("mounted", p.mounted).Body(
		app.Header().Class("topbar").Body(
			app.Div().Class("brand").Body(
				brandIcon(),
				app.Span().Class("brand-name").Text("timconsole"),
				app.Span().Class("brand-sub").Text("Group read receipts"),
			),
		),
		app.Main().ID("main").Class("layout", "signed-out-layout").Body(
			app.Section().Class("card", "signed-out-card").Aria("labelledby", "signed-out-title").Body(
				app.H1().ID("signed-out-title").Class("signed-out-title").Text("You are signed out"),
				app.P().Text("Your timconsole session has ended. To look at read receipts again, sign in."),
				app.A().ID("sign-in-again").Class("btn", "btn-primary").Href(signInAgainURL()).Text("Sign in again").
					// The app's router would take this same-origin link for
					// one of its pages and show "not found": /auth/login is
					// the BFF's. Keeping the click from the router (a
					// window-level listener) leaves the browser to follow
					// the link.
					OnClick(func(ctx app.Context, e app.Event) { e.Call("stopPropagation") }),
			),
		),
	)
}
