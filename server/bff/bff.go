// Package bff is the console's backend-for-frontend: the HTTP surface the
// browser talks to. It checks the operator's session and access, validates
// queries, calls Tencent Chat through package tim with the app's secret key
// (which never leaves this process), writes the audit trail and serves the
// go-app shell and its static files.
//
// The package gets everything it needs in Deps; it reads no configuration
// and builds no clients, so tests drive the real handlers with the emulator.
package bff

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/directory"
	"github.com/timconsole/timconsole/server/profiles"
	"github.com/timconsole/timconsole/server/tim"
)

// Deps is everything the BFF's handlers need, passed once to NewServer.
type Deps struct {
	Logger *slog.Logger
	// Auth owns login, sessions and the access policy.
	Auth *auth.Auth
	// Apps are the Tencent Chat apps this console can query, in menu order.
	Apps []App
	// AppHandler answers every path the BFF does not own (the go-app pages,
	// app.js, the manifest...). The BFF never imports go-app itself.
	AppHandler http.Handler
	// WebDir holds app.wasm(.br,.gz), wasm_exec.js and the CSS, served at /web/.
	WebDir string
	// IdPOrigin is listed in the CSP's form-action so the logout redirect to
	// the provider is not blocked.
	IdPOrigin string
	// Metrics receives HTTP metrics and serves /metrics; nil makes a fresh set.
	Metrics *Metrics
	// SeparateMetrics leaves /metrics off the console's handler (it answers
	// 404 there): MetricsHandler serves it on a listener of its own.
	SeparateMetrics bool
	// Demo is reported by /api/me so the UI shows its DEMO banner.
	Demo bool
	// Limits bounds request sizes, handler time and concurrent pulls.
	Limits Limits
	// TrustedProxies are the peers whose X-Forwarded-For names the client in
	// logs and the audit trail; from anyone else the header is ignored.
	TrustedProxies []netip.Prefix
	// Now is the clock (audit durations); nil means time.Now.
	Now func() time.Time
	// Checks are the dependencies /readyz reports on besides the
	// configuration and the identity provider: the shared session store,
	// each app's rate limiter. /metrics runs them too before each scrape,
	// so gauges they feed are current.
	Checks []ReadyCheck
}

// ReadyCheck is one dependency on /readyz. The BFF knows nothing of what is
// behind it (Redis, say); the wiring supplies the probe.
type ReadyCheck struct {
	// Group, when set, nests the check in the answer: {"limiter": {"prod":
	// "shared"}} for Group "limiter", Name "prod". Name alone is a
	// top-level key, e.g. "sessions".
	Group, Name string
	// Probe returns the state to show ("ok", "degraded (local share)") and
	// whether the console can serve by it. A check with Critical set that
	// is not ok makes /readyz answer 503; others are informational. Probe
	// must honour ctx (the probe has five seconds) and never reveal
	// secrets or internal addresses in state.
	Probe    func(ctx context.Context) (state string, ok bool)
	Critical bool
}

// App is one Tencent Chat app the console can query.
type App struct {
	// ID is the short name used in requests, URLs and the audit trail.
	ID   string
	Name string
	// Region is the display name of the app's data centre ("Singapore", or
	// "custom" for a base URL).
	Region string
	Client *tim.Client
	// AllowedGroups, when set, are the operator groups that may use the app
	// (on top of the sign-in policy); empty means every operator.
	AllowedGroups []string
	// Directory is the app's group index (GET /api/groups); nil answers
	// that the app has none. The wiring owns it (and closes it).
	Directory *directory.Index
	// Profiles caches the app's nicknames; nil shows accounts only.
	Profiles *profiles.Cache
	// Preview is PreviewText or PreviewOff (the default): whether a
	// timeline shows the start of text messages.
	Preview string
}

// mayUse is the per-app access rule: an app without AllowedGroups is open
// to every signed-in operator; otherwise the operator needs one of them.
func (a *App) mayUse(op auth.Operator) bool {
	if len(a.AllowedGroups) == 0 {
		return true
	}
	for _, g := range op.Groups {
		if slices.Contains(a.AllowedGroups, g) {
			return true
		}
	}
	return false
}

// DefaultQueryTimeout bounds a receipt query: a 10,000-seq pull takes about
// a second at 200 calls/s, and a hung Tencent is given up on after about
// two call timeouts (tim.DefaultCallTimeout, one retry), so 15 s answers an
// operator within the time they will wait, whatever Tencent does.
const DefaultQueryTimeout = 15 * time.Second

// The other defaults of Limits.
const (
	// DefaultMaxBodyBytes fits a 10,000-seq list as a JSON array (~60 KB).
	DefaultMaxBodyBytes = 64 << 10
	// DefaultRequestTimeout bounds every API request but the queries.
	DefaultRequestTimeout = 20 * time.Second
	// DefaultMaxPullsPerOperator bounds one operator's concurrent queries.
	DefaultMaxPullsPerOperator = 2
)

// Limits bounds what one request may cost. Zero values take the defaults.
type Limits struct {
	// MaxBodyBytes caps request bodies (default 64 KiB: a 10,000-seq list
	// as a JSON array is about 60 KB).
	MaxBodyBytes int64
	// QueryTimeout is the deadline of a receipt query or CSV export
	// (default DefaultQueryTimeout). It bounds a query even when every
	// Tencent call hangs; what arrived by then is answered as a partial
	// result.
	QueryTimeout time.Duration
	// RequestTimeout is the deadline of every other API request (default 20s).
	RequestTimeout time.Duration
	// MaxPullsPerOperator bounds one operator's concurrent receipt queries
	// (default 2); more get 429 "too_many".
	MaxPullsPerOperator int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.QueryTimeout <= 0 {
		l.QueryTimeout = DefaultQueryTimeout
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = DefaultRequestTimeout
	}
	if l.MaxPullsPerOperator <= 0 {
		l.MaxPullsPerOperator = DefaultMaxPullsPerOperator
	}
	return l
}

// discardLogger is the logger of a Deps without one.
var discardLogger = slog.New(slog.DiscardHandler)

// NewServer builds the console's HTTP handler: every route of routes.go,
// wrapped in the middleware every response needs (metrics, security
// headers, cross-origin protection, body limits).
func NewServer(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = discardLogger
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AppHandler == nil {
		d.AppHandler = http.NotFoundHandler()
	}
	d.Limits = d.Limits.withDefaults()

	mux := http.NewServeMux()
	addRoutes(mux, d)
	var h http.Handler = capturePattern(mux)
	h = limitBody(d.Limits.MaxBodyBytes, h)
	h = Edge(d, h)
	h = instrument(d.Metrics, d.Now, h)
	return h
}
