package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeCA writes a fresh self-signed CA certificate as PEM, for
// redis.tls_ca_file (only parsed here, never used for a connection).
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test redis CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

// minimalEnv is a valid configuration without Redis, from the environment
// alone.
func minimalEnv() env {
	return env{
		"TIMCONSOLE_OIDC_ISSUER":          "https://sso.corp.example",
		"TIMCONSOLE_OIDC_CLIENT_ID":       "timconsole",
		"TIMCONSOLE_OIDC_CLIENT_SECRET":   "client-secret",
		"TIMCONSOLE_OIDC_REDIRECT_URL":    "https://console.corp.example/auth/callback",
		"TIMCONSOLE_SESSION_KEYS":         keyPair,
		"TIMCONSOLE_ACCESS_DOMAINS":       "corp.example",
		"TIMCONSOLE_APPS":                 "prod",
		"TIMCONSOLE_APPS_PROD_SDK_APP_ID": "1400123456",
		"TIMCONSOLE_APPS_PROD_REGION":     "singapore",
		"TIMCONSOLE_APPS_PROD_IDENTIFIER": "administrator",
		"TIMCONSOLE_APPS_PROD_KEY":        "prod-key",
	}
}

func TestLoadConfigRedis(t *testing.T) {
	t.Run("DefaultNone", func(t *testing.T) {
		cfg, err := LoadConfig("", minimalEnv().get, nil)
		if err != nil {
			t.Fatalf("LoadConfig: %v", err)
		}
		if cfg.Redis.Addr != "" || cfg.Redis.KeyPrefix != "timconsole:" || cfg.Redis.DialTimeout.Duration != 2*time.Second {
			t.Errorf("default [redis] = %+v, want no address, prefix timconsole:, dial timeout 2s", cfg.Redis)
		}
	})

	t.Run("FileAndEnv", func(t *testing.T) {
		ca := writeCA(t)
		pw := writeFile(t, "redis_password", "pw-from-file\n")
		path := writeFile(t, "console.toml", `
[redis]
addr = "redis.corp.example:6380"
username = "timconsole"
password_file = "`+pw+`"
db = 2
tls = true
tls_server_name = "redis.internal"
tls_ca_file = "`+ca+`"
key_prefix = "ops-fleet:"
replicas = 2
read_timeout = "1500ms"
`)
		getenv := minimalEnv()
		getenv["TIMCONSOLE_REDIS_REPLICAS"] = "3"
		getenv["TIMCONSOLE_REDIS_DIAL_TIMEOUT"] = "3s"
		cfg, err := LoadConfig(path, getenv.get, nil)
		if err != nil {
			t.Fatalf("LoadConfig: %v", err)
		}
		got := []any{cfg.Redis.Addr, cfg.Redis.Username, string(cfg.Redis.Password), cfg.Redis.DB, cfg.Redis.TLS,
			cfg.Redis.TLSServerName, cfg.Redis.KeyPrefix, cfg.Redis.Replicas,
			cfg.Redis.DialTimeout.Duration, cfg.Redis.ReadTimeout.Duration, cfg.Redis.WriteTimeout.Duration}
		want := []any{"redis.corp.example:6380", "timconsole", "pw-from-file", 2, true,
			"redis.internal", "ops-fleet:", 3,
			3 * time.Second, 1500 * time.Millisecond, time.Second}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("[redis] (-want +got):\n%s", diff)
		}
	})

	t.Run("PasswordFromEnv", func(t *testing.T) {
		getenv := minimalEnv()
		getenv["TIMCONSOLE_REDIS_ADDR"] = "127.0.0.1:6379"
		getenv["TIMCONSOLE_REDIS_PASSWORD"] = "pw-from-env"
		getenv["TIMCONSOLE_REDIS_REPLICAS"] = "2"
		cfg, err := LoadConfig("", getenv.get, nil)
		if err != nil {
			t.Fatalf("LoadConfig: %v", err)
		}
		if string(cfg.Redis.Password) != "pw-from-env" || cfg.Redis.Replicas != 2 {
			t.Errorf("[redis] = %+v, want the password from the environment and 2 replicas", cfg.Redis)
		}
	})
}

func TestLoadConfigRedisProblems(t *testing.T) {
	tests := []struct {
		name string
		toml string
		env  env
		want []string
	}{
		{
			name: "SecretInFile",
			toml: "[redis]\naddr = \"127.0.0.1:6379\"\nreplicas = 2\npassword = \"pw-in-the-file\"\n",
			want: []string{"redis.password is a secret and is not accepted in the file; use TIMCONSOLE_REDIS_PASSWORD or redis.password_file"},
		},
		{
			name: "Everything",
			toml: "[redis]\naddr = \"nowhere\"\ndb = -1\ntls_ca_file = \"/does/not/exist.pem\"\nkey_prefix = \"a b*\"\ndial_timeout = \"0s\"\n",
			env:  env{"TIMCONSOLE_REDIS_PASSWORD": "pw-env", "TIMCONSOLE_REDIS_PASSWORD_FILE": "/does/not/matter"},
			want: []string{
				`redis.addr "nowhere": want host:port`,
				"redis.db -1",
				"redis.tls_server_name and redis.tls_ca_file need redis.tls = true",
				"redis.tls_ca_file: read /does/not/exist.pem",
				`redis.key_prefix "a b*"`,
				"redis.replicas 0: want the largest number of console replicas",
				"redis.dial_timeout, redis.read_timeout and redis.write_timeout must be positive",
				"redis password is set both directly and as a file",
			},
		},
		{
			name: "SettingsWithoutAddr",
			toml: "[redis]\nusername = \"u\"\nreplicas = 2\n",
			env:  env{"TIMCONSOLE_REDIS_PASSWORD": "pw-env"},
			want: []string{"redis.password, redis.replicas, redis.username set without redis.addr"},
		},
		{
			name: "UnknownKey",
			toml: "[redis]\naddr = \"127.0.0.1:6379\"\nreplicas = 2\nreplica = 3\n",
			want: []string{`unknown setting "redis.replica"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := minimalEnv()
			for k, v := range tt.env {
				getenv[k] = v
			}
			_, err := LoadConfig(writeFile(t, "console.toml", tt.toml), getenv.get, nil)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig = %v, want a *ConfigError", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("problems lack %q", want)
				}
			}
			for _, secret := range []string{"pw-in-the-file", "pw-env"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the problems show the password %q", secret)
				}
			}
			if t.Failed() {
				t.Logf("got:\n%v", err)
			}
		})
	}
}

// TestRunPrintConfigRedis: --print-config shows the [redis] section with
// the password redacted.
func TestRunPrintConfigRedis(t *testing.T) {
	getenv := minimalEnv()
	getenv["TIMCONSOLE_REDIS_ADDR"] = "127.0.0.1:6379"
	getenv["TIMCONSOLE_REDIS_PASSWORD"] = "pw-secret-value"
	getenv["TIMCONSOLE_REDIS_REPLICAS"] = "2"
	var stdout, stderr strings.Builder
	if err := run(context.Background(), []string{"--print-config"}, getenv.get, &stdout, &stderr); err != nil {
		t.Fatalf("Run --print-config: %v", err)
	}
	out := stdout.String()
	for _, want := range []string{"[redis]", `addr = "127.0.0.1:6379"`, `password = "[redacted]"`, "replicas = 2", `key_prefix = "timconsole:"`} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out+stderr.String(), "pw-secret-value") {
		t.Error("--print-config shows the Redis password")
	}
}
