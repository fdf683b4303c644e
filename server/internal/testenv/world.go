package testenv

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/timconsole/timconsole/server/devidp"
)

// IdP is the development identity provider with the demo users and one
// client registered for the given console URLs.
type IdP struct {
	*devidp.Server
	Client    devidp.Client
	Passwords map[string]string
}

// StartIdP starts the development provider on "localhost" (cross-site to
// consoles on 127.0.0.1, as a real provider is), with the demo users and a
// client whose redirect and post-logout URIs are those of consoleURLs.
func StartIdP(tb testing.TB, consoleURLs ...string) *IdP {
	tb.Helper()
	users, client, passwords := devidp.DemoFixture(consoleURLs[0])
	for _, u := range consoleURLs[1:] {
		client.RedirectURIs = append(client.RedirectURIs, u+"/auth/callback")
		client.PostLogoutRedirectURIs = append(client.PostLogoutRedirectURIs, u+"/")
	}
	srv, err := devidp.Start(context.Background(), devidp.Config{
		Addr:          "127.0.0.1:0",
		IssuerHost:    "localhost",
		Users:         users,
		Clients:       []devidp.Client{client},
		IDTokenClaims: true,
	})
	if err != nil {
		tb.Fatalf("start devidp: %v", err)
	}
	tb.Cleanup(func() { srv.Close() })
	return &IdP{Server: srv, Client: client, Passwords: passwords}
}

// App is one Tencent app of a console's configuration.
type App struct {
	ID       string
	SDKAppID uint64
	Admin    string
	Key      string
	BaseURL  string
}

// ConsoleEnv is the environment of a console signing in through idp and
// querying app, as a deployment would set it: terse text logs at warn, a
// short shutdown bound, the demo groups' access. extra is added last and
// may override any variable.
func ConsoleEnv(idp *IdP, sessionKeys string, app App, extra map[string]string) map[string]string {
	env := map[string]string{
		"TIMCONSOLE_SERVER_SHUTDOWN_TIMEOUT": "5s",
		"TIMCONSOLE_LOG_FORMAT":              "text",
		"TIMCONSOLE_LOG_LEVEL":               "warn",
		"TIMCONSOLE_OIDC_ISSUER":             idp.Issuer(),
		"TIMCONSOLE_OIDC_CLIENT_ID":          idp.Client.ID,
		"TIMCONSOLE_OIDC_CLIENT_SECRET":      idp.Client.Secret,
		"TIMCONSOLE_OIDC_SCOPES":             "openid email profile groups",
		"TIMCONSOLE_OIDC_STARTUP_TIMEOUT":    "10s",
		"TIMCONSOLE_SESSION_KEYS":            sessionKeys,
		"TIMCONSOLE_ACCESS_GROUPS":           strings.Join(devidp.DemoAllowedGroups, ","),
		"TIMCONSOLE_APPS":                    app.ID,
		AppVar(app.ID, "SDK_APP_ID"):         strconv.FormatUint(app.SDKAppID, 10),
		AppVar(app.ID, "BASE_URL"):           app.BaseURL,
		AppVar(app.ID, "IDENTIFIER"):         app.Admin,
		AppVar(app.ID, "KEY"):                app.Key,
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// AppVar names a per-app variable of ConsoleEnv's app, e.g. AppVar("e2e",
// "RATE_LIMIT") is TIMCONSOLE_APPS_E2E_RATE_LIMIT.
func AppVar(appID, key string) string {
	return "TIMCONSOLE_APPS_" + strings.ToUpper(strings.ReplaceAll(appID, "-", "_")) + "_" + key
}
