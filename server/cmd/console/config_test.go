package main

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// env is a map-backed getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

var (
	hashKey  = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("h", 64)))
	blockKey = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
	keyPair  = hashKey + ":" + blockKey
)

const goodTOML = `
[server]
addr = "127.0.0.1:9090"
trusted_proxies = ["10.0.0.0/8", "192.168.1.7"]

[oidc]
issuer = "https://sso.corp.example"
client_id = "timconsole"
client_secret_file = "SECRET_FILE"
redirect_url = "https://console.corp.example/auth/callback"
scopes = ["openid", "email", "profile", "groups"]

[session]
idle_timeout = "30m"
absolute_timeout = "8h"

[access]
domains = ["corp.example"]
groups = ["ops"]

[apps.prod-sg]
name = "Production (Singapore)"
sdk_app_id = 1400123456
region = "singapore"
identifier = "administrator"
rate_limit = 150
allowed_groups = ["ops-sg"]
`

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	secretFile := writeFile(t, "client_secret", "s3cret-from-file\n")
	path := writeFile(t, "console.toml", strings.Replace(goodTOML, "SECRET_FILE", secretFile, 1))
	getenv := env{
		"TIMCONSOLE_SESSION_KEYS":            keyPair,
		"TIMCONSOLE_APPS_PROD_SG_KEY":        "prod-key",
		"TIMCONSOLE_OIDC_ISSUER":             "https://login.corp.example",
		"TIMCONSOLE_APPS_PROD_SG_MAX_SEQS":   "5000",
		"TIMCONSOLE_LIMITS_QUERY_TIMEOUT":    "90s",
		"TIMCONSOLE_APPS":                    "staging",
		"TIMCONSOLE_APPS_STAGING_SDK_APP_ID": "1400999999",
		"TIMCONSOLE_APPS_STAGING_BASE_URL":   "http://127.0.0.1:7000",
		"TIMCONSOLE_APPS_STAGING_IDENTIFIER": "admin",
		"TIMCONSOLE_APPS_STAGING_KEY":        "staging-key",
	}.get
	cfg, err := LoadConfig(path, getenv, func(c *Config) { c.Server.WebDir = "/srv/web" })
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	got := []any{
		cfg.Server.Addr, cfg.Server.WebDir, cfg.Server.TrustedProxies,
		cfg.OIDC.Issuer, string(cfg.OIDC.ClientSecret), cfg.Session.IdleTimeout.Duration,
		cfg.Limits.QueryTimeout.Duration, cfg.Access.Domains,
		cfg.Apps["prod-sg"].Name, cfg.Apps["prod-sg"].RateLimit, cfg.Apps["prod-sg"].MaxSeqs, string(cfg.Apps["prod-sg"].Key),
		cfg.Apps["prod-sg"].BatchSize, cfg.Apps["prod-sg"].SigLifetime.Duration,
		cfg.Apps["staging"].Name, cfg.Apps["staging"].SDKAppID, cfg.Apps["staging"].BaseURL,
	}
	want := []any{
		"127.0.0.1:9090", "/srv/web", []string{"10.0.0.0/8", "192.168.1.7"},
		"https://login.corp.example", "s3cret-from-file", 30 * time.Minute,
		90 * time.Second, []string{"corp.example"},
		"Production (Singapore)", 150.0, 5000, "prod-key",
		50, 24 * time.Hour,
		"staging", uint64(1400999999), "http://127.0.0.1:7000",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadConfigProblems(t *testing.T) {
	path := writeFile(t, "bad.toml", `
[server]
addr = "nowhere"
tls_cert_file = "cert.pem"

[oidc]
issuer = "http://sso.corp.example"
client_id = "timconsole"
client_secret = "in-the-file"
redirect_url = "https://console.corp.example/callback"

[session]
keys = "also-in-the-file"

[access]
emails = ["not-an-email"]

[apps.prod]
sdk_app_id = 1400123456
region = "atlantis"
key = "key-in-the-file"
rate_limit = 500
batch_size = 80

[apps.Bad_ID]
sdk_app_id = 1400123456
region = "singapore"
base_url = "http://127.0.0.1:1"
identifier = "x"

[apps.prod.extra]
typo = 1
`)
	getenv := env{
		"TIMCONSOLE_APPS_PROD_MAX_SEQS":      "lots",
		"TIMCONSOLE_SESSION_IDLE_TIMEOUT":    "forever",
		"TIMCONSOLE_APPS_BAD_ID_KEY":         "k",
		"TIMCONSOLE_OIDC_CLIENT_SECRET_FILE": "/does/not/exist",
	}.get
	_, err := LoadConfig(path, getenv, nil)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("LoadConfig error = %v, want a *ConfigError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`oidc.client_secret is a secret and is not accepted in the file`,
		`session.keys is a secret and is not accepted in the file`,
		`apps.prod.key is a secret and is not accepted in the file; use TIMCONSOLE_APPS_PROD_KEY`,
		`unknown setting "apps.prod.extra.typo"`,
		`TIMCONSOLE_APPS_PROD_MAX_SEQS (apps.prod.max_seqs): "lots" is not a whole number`,
		`TIMCONSOLE_SESSION_IDLE_TIMEOUT (session.idle_timeout): "forever" is not a duration`,
		`oidc client secret is set both directly and as a file`,
		`server.addr "nowhere"`,
		`server.tls_cert_file and server.tls_key_file go together`,
		`oidc.issuer "http://sso.corp.example": use https`,
		`oidc.redirect_url must end in /auth/callback`,
		`"not-an-email" is not an email address`,
		`apps.prod.region "atlantis" is unknown`,
		`apps.prod.identifier (an App admin account) is required`,
		`apps.prod.rate_limit 500`,
		`apps.prod.batch_size 80`,
		`apps.Bad_ID: the ID must be`,
		`apps.Bad_ID: set region or base_url, not both`,
		`SDKAppID 1400123456 is also used by`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q", want)
		}
	}
	for _, secret := range []string{"in-the-file", "also-in-the-file", "key-in-the-file"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the problems echo the secret %q", secret)
		}
	}
	if t.Failed() {
		t.Logf("got:\n%s", msg)
	}
}

func TestRunPrintConfig(t *testing.T) {
	secretFile := writeFile(t, "client_secret", "s3cret-from-file")
	path := writeFile(t, "console.toml", strings.Replace(goodTOML, "SECRET_FILE", secretFile, 1))
	getenv := env{"TIMCONSOLE_SESSION_KEYS": keyPair, "TIMCONSOLE_APPS_PROD_SG_KEY": "prod-key"}.get
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"--config", path, "--print-config", "--addr", "127.0.0.1:7777"}, getenv, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run --print-config: %v", err)
	}
	out := stdout.String()
	for _, want := range []string{`addr = "127.0.0.1:7777"`, `client_secret = "[redacted]"`, `keys = "[redacted]"`, `key = "[redacted]"`, `[apps.prod-sg]`} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config output lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{"s3cret-from-file", "prod-key", hashKey[:20], blockKey[:20]} {
		if strings.Contains(out+stderr.String(), secret) {
			t.Errorf("--print-config shows a secret")
		}
	}
}

func TestRunInvalidConfig(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run(context.Background(), nil, env{}.get, &stdout, &stderr)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Run with no configuration = %v, want a *ConfigError", err)
	}
	// Everything missing is reported at once.
	for _, want := range []string{"oidc.issuer is required", "oidc.client_id is required", "client secret is required", "session keys are required", "no apps configured", "access policy is empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, err)
		}
	}
}

// TestExampleConfig keeps timconsole.example.toml valid: with its secret
// files in place and the staging key in the environment it loads cleanly.
func TestExampleConfig(t *testing.T) {
	example, err := os.ReadFile("../../../timconsole.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"timconsole_oidc_client_secret": "client-secret",
		"timconsole_session_keys":       "# newest first\n" + keyPair + "\n",
		"timconsole_prod_sg_key":        "prod-key",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := writeFile(t, "timconsole.toml", strings.ReplaceAll(string(example), "/run/secrets", dir))
	cfg, err := LoadConfig(path, env{"TIMCONSOLE_APPS_STAGING_KEY": "staging-key"}.get, nil)
	if err != nil {
		t.Fatalf("the example configuration does not load: %v", err)
	}
	if len(cfg.Apps) != 2 || string(cfg.Apps["prod-sg"].Key) != "prod-key" || cfg.Apps["staging"].RateLimit != 50 {
		t.Errorf("apps = %+v", cfg.Apps)
	}
}
