package bff

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
)

// appSet looks apps up by ID and keeps the configured order for menus.
type appSet struct {
	list []App
	byID map[string]*App
}

func newAppSet(apps []App) *appSet {
	s := &appSet{list: apps, byID: make(map[string]*App, len(apps))}
	for i := range apps {
		s.byID[apps[i].ID] = &s.list[i]
	}
	return s
}

func toAPIApp(a *App) api.App {
	return api.App{ID: a.ID, Name: a.Name, SDKAppID: a.Client.SDKAppID(), Region: a.Region, MaxSeqs: a.Client.MaxSeqs()}
}

// handleMe answers GET /api/me: who is signed in and only the apps they may
// query, so the UI never offers an app that would answer 403.
func handleMe(logger *slog.Logger, apps *appSet, a *auth.Auth, demo bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := auth.OperatorFrom(r.Context())
		if !ok {
			writeError(w, r, logger, errorf(api.ECodeUnauthorized, "sign in first"))
			return
		}
		me := api.Me{
			Operator: api.Operator{Subject: op.Subject, Email: op.Email, Name: op.Name, Groups: op.Groups},
			Apps:     []api.App{},
			Demo:     demo,
		}
		for i := range apps.list {
			app := &apps.list[i]
			if !app.mayUse(op) {
				continue
			}
			me.Apps = append(me.Apps, toAPIApp(app))
			if m := app.Client.MaxSeqs(); me.MaxSeqs == 0 || m < me.MaxSeqs {
				me.MaxSeqs = m
			}
		}
		if err := encode(w, http.StatusOK, me); err != nil {
			logger.DebugContext(r.Context(), "write /api/me", slog.String("err", err.Error()))
		}
	})
}

// handleHealthz is liveness: the process answers HTTP. It checks nothing
// else, so a provider outage never gets the console restarted.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		_ = encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz is readiness: configuration is loaded (the server exists
// only after it validated, with at least one app), the identity provider's
// discovery document is reachable, so nobody is sent to a login that cannot
// work, and every critical check (the shared session store) is ok. The
// informational checks (each app's limiter) are shown, never a reason for
// 503: a limiter pacing at its local share still serves.
func handleReadyz(a *auth.Auth, apps int, checks []ReadyCheck) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		c := map[string]any{"status": "ok", "config": "ok", "idp": "ok"}
		if apps == 0 {
			c["status"], c["config"] = "unavailable", "no apps configured"
		}
		if err := a.Ready(ctx); err != nil {
			// The cause may name internal hosts: status only.
			c["status"], c["idp"] = "unavailable", "identity provider unreachable"
		}
		if !runChecks(ctx, checks, c) {
			c["status"] = "unavailable"
		}
		status := http.StatusOK
		if c["status"] != "ok" {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Cache-Control", "no-store")
		_ = encode(w, status, c)
	})
}

// runChecks probes every check, one after another (there are a handful),
// writes their states into out and reports whether every critical one was
// ok.
func runChecks(ctx context.Context, checks []ReadyCheck, out map[string]any) bool {
	ready := true
	for _, ch := range checks {
		state, ok := ch.Probe(ctx)
		if ch.Critical && !ok {
			ready = false
		}
		if ch.Group == "" {
			out[ch.Name] = state
			continue
		}
		g, _ := out[ch.Group].(map[string]string)
		if g == nil {
			g = map[string]string{}
			out[ch.Group] = g
		}
		g[ch.Name] = state
	}
	return ready
}

// handleNotFound answers unknown /api/ and /auth/ paths (and known paths
// with the wrong method) in the API's JSON error shape rather than with the
// go-app page.
func handleNotFound(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case api.PathMe, api.PathReceipts, api.PathMembers, api.PathReceiptsCSV, api.PathGroups, api.PathLogin, api.PathLogout, auth.CallbackPath:
			writeError(w, r, logger, errorf(api.ECodeBadMethod, "%s is not allowed on %s", r.Method, r.URL.Path))
		default:
			writeError(w, r, logger, errorf(api.ECodeNotFound, "no such endpoint"))
		}
	})
}
