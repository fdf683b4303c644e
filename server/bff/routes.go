package bff

import (
	"context"
	"net/http"
	"time"

	"github.com/timconsole/timconsole/server/api"
)

// addRoutes is the console's whole HTTP surface on one screen.
func addRoutes(mux *http.ServeMux, d Deps) {
	apps := newAppSet(d.Apps)
	pulls := newPullLimiter(d.Limits.MaxPullsPerOperator, d.Metrics)
	q := queryDeps{logger: d.Logger, apps: apps, auth: d.Auth, pulls: pulls, now: d.Now, proxies: d.TrustedProxies}

	// signedIn wraps an /api/* handler: a session is required, the answer is
	// never cached, and the handler has a deadline.
	signedIn := func(timeout time.Duration, h http.Handler) http.Handler {
		return NoStore(d.Auth.RequireOperator(withDeadline(timeout, withApps(apps, h))))
	}
	long, short := d.Limits.QueryTimeout, d.Limits.RequestTimeout

	// Operations.
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(d.Auth, len(d.Apps), d.Checks))
	if d.SeparateMetrics {
		mux.Handle("/metrics", handleNotFound(d.Logger)) // served by MetricsHandler only
	} else {
		mux.Handle("GET /metrics", handleMetrics(d.Metrics, d.Auth.ActiveSessions, d.Checks))
	}

	// Sign-in (sso-security.md §3). Logout is POST only; state never
	// changes on GET.
	mux.Handle("GET "+api.PathLogin, NoStore(d.Auth.HandleLogin()))
	mux.Handle("GET /auth/callback", NoStore(d.Auth.HandleCallback()))
	mux.Handle("POST "+api.PathLogout, NoStore(d.Auth.HandleLogout()))
	mux.Handle("/auth/", NoStore(handleNotFound(d.Logger)))

	// The browser <-> BFF contract (server/api).
	mux.Handle("GET "+api.PathMe, signedIn(short, handleMe(d.Logger, apps, d.Auth, d.Demo)))
	mux.Handle("POST "+api.PathReceipts, signedIn(long, handleReceipts(q)))
	mux.Handle("POST "+api.PathMembers, signedIn(short, handleMembers(q)))
	mux.Handle("GET "+api.PathReceiptsCSV, signedIn(long, handleReceiptsCSV(q)))
	mux.Handle("GET "+api.PathGroups, signedIn(short, handleGroups(q)))
	mux.Handle("GET "+api.PathGroups+"/{group}/messages", signedIn(short, handleTimeline(q)))
	mux.Handle("/api/", signedIn(short, handleNotFound(d.Logger)))

	// The go-app shell and its files.
	mux.Handle("GET /web/", handleStatic(d.WebDir))
	mux.Handle("GET /wasm_exec.js", handleWasmExec(d.WebDir, d.AppHandler))
	mux.Handle("/", d.AppHandler)
}

// MetricsHandler serves GET /metrics alone, for a listener of its own
// (server.metrics_addr), so Prometheus can be reached where the console is
// not; every other path is 404. d is the same Deps as NewServer's, which
// then leaves /metrics out (Deps.SeparateMetrics).
func MetricsHandler(d Deps) http.Handler {
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	var sessions func(context.Context) int
	if d.Auth != nil {
		sessions = d.Auth.ActiveSessions
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", handleMetrics(d.Metrics, sessions, d.Checks))
	mux.Handle("/", http.NotFoundHandler())
	return mux
}
