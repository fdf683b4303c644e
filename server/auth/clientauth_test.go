package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/timconsole/timconsole/server/auth"
)

// TestTokenEndpointClientAuth signs in against a provider whose client accepts
// one method only, as ORY Hydra's do: with the method chosen from discovery
// or set by Config.ClientAuth, the first code exchange succeeds and the
// provider refuses no call. With the wrong method configured, the sign-in
// fails and the provider's whole error_description (whose decisive words
// come last) reaches the log.
func TestTokenEndpointClientAuth(t *testing.T) {
	tests := []struct {
		name       string
		registered string   // the client's only method at the provider
		advertised []string // discovery's token_endpoint_auth_methods_supported
		configured string   // Config.ClientAuth
		wantOK     bool
	}{
		{name: "post-only provider, from discovery", registered: "client_secret_post", advertised: []string{"client_secret_post"}, wantOK: true},
		{name: "post client, configured", registered: "client_secret_post", configured: auth.ClientAuthPost, wantOK: true},
		{name: "basic-only provider, from discovery", registered: "client_secret_basic", advertised: []string{"client_secret_basic", "client_secret_post"}, wantOK: true},
		{name: "basic configured, provider wants post", registered: "client_secret_post", configured: auth.ClientAuthBasic, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{
				tokenAuthMethod: tt.registered,
				advertised:      tt.advertised,
				configure:       func(c *auth.Config) { c.ClientAuth = tt.configured },
			})
			c := browser(t)
			resp := e.login(t, c, "alice", "alice-pw", "")
			resp.Body.Close()
			rejected := e.idp.RejectedTokenCalls()
			if tt.wantOK {
				if resp.StatusCode != http.StatusFound {
					t.Fatalf("callback status %d, want 302", resp.StatusCode)
				}
				if status, _ := e.me(t, c); status != http.StatusOK {
					t.Errorf("/api/me after sign-in: %d, want 200", status)
				}
				if rejected != 0 {
					t.Errorf("the provider refused %d token calls, want 0 (the first exchange must succeed)", rejected)
				}
				return
			}
			if resp.StatusCode == http.StatusFound || rejected != 1 {
				t.Fatalf("callback status %d with %d refused calls, want a failed sign-in and 1 refusal", resp.StatusCode, rejected)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, "but method 'client_secret_basic' was requested") {
				t.Errorf("the provider's decisive words are not in the log:\n%s", logs)
			}
			if strings.Contains(logs, "console-secret") {
				t.Error("the log holds the client secret")
			}
		})
	}
}

// TestClientAuthConfig refuses an unknown method and a provider that
// supports neither secret method.
func TestClientAuthConfig(t *testing.T) {
	e := newEnv(t, envOptions{})
	cfg := e.cfg
	cfg.ClientAuth = "jwt"
	if _, err := auth.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), `"jwt"`) {
		t.Errorf("ClientAuth jwt: %v, want an error naming it", err)
	}
	// A configured method needs nothing from discovery...
	e2 := newEnv(t, envOptions{advertised: []string{"private_key_jwt"}, configure: func(c *auth.Config) { c.ClientAuth = auth.ClientAuthPost }})
	// ...without one, such a provider is refused at start.
	cfg = e2.cfg
	cfg.ClientAuth = ""
	if _, err := auth.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "private_key_jwt") {
		t.Errorf("provider with private_key_jwt only: %v, want an error listing its methods", err)
	}
}
