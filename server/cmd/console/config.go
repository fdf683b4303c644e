package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/bff"
	"github.com/timconsole/timconsole/server/directory"
	"github.com/timconsole/timconsole/server/redisstore"
	"github.com/timconsole/timconsole/server/tim"
)

// EnvPrefix starts every environment variable the console reads. A value's
// variable is the prefix plus its TOML path in upper case, with "." and "-"
// as "_": oidc.issuer is TIMCONSOLE_OIDC_ISSUER, apps.prod-sg.key is
// TIMCONSOLE_APPS_PROD_SG_KEY.
const EnvPrefix = "TIMCONSOLE"

// Config is the console's whole configuration: the TOML file, then the
// environment, then flags. Secret fields (type Secret) are refused in the
// file; they come from the environment or from a *_file path.
type Config struct {
	Server  ServerConfig          `toml:"server"`
	Log     LogConfig             `toml:"log"`
	OIDC    OIDCConfig            `toml:"oidc"`
	Session SessionConfig         `toml:"session"`
	Access  AccessConfig          `toml:"access"`
	Limits  LimitsConfig          `toml:"limits"`
	Redis   RedisConfig           `toml:"redis"`
	Apps    map[string]*AppConfig `toml:"apps"`
}

// ServerConfig is how the console listens.
type ServerConfig struct {
	// Addr is host:port. The default is loopback: behind a reverse proxy the
	// console should not be reachable directly; the container sets 0.0.0.0.
	Addr string `toml:"addr"`
	// MetricsAddr, when set (host:port), serves /metrics on a listener of
	// its own and only there, so Prometheus can reach it on an internal
	// address while the console's listener is exposed. Empty (the default)
	// serves /metrics on Addr.
	MetricsAddr string `toml:"metrics_addr"`
	// WebDir holds app.wasm, wasm_exec.js and the CSS.
	WebDir string `toml:"web_dir"`
	// TrustedProxies are CIDRs (or addresses) of reverse proxies whose
	// X-Forwarded-For is believed when logging who made a request.
	TrustedProxies []string `toml:"trusted_proxies"`
	// TLSCertFile and TLSKeyFile turn on HTTPS; leave empty behind a proxy
	// that terminates TLS.
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout bound slow clients.
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	ReadTimeout       Duration `toml:"read_timeout"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	// ShutdownTimeout is how long in-flight queries may run after SIGTERM.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
}

// LogConfig picks the log format ("json" or "text") and level.
type LogConfig struct {
	Format string `toml:"format"`
	Level  string `toml:"level"`
}

// OIDCConfig describes the identity provider and this console's client
// registration there.
type OIDCConfig struct {
	Issuer       string `toml:"issuer"`
	ClientID     string `toml:"client_id"`
	ClientSecret Secret `toml:"client_secret,omitempty"`
	// ClientSecretFile is read at start (a mounted secret).
	ClientSecretFile      string   `toml:"client_secret_file"`
	RedirectURL           string   `toml:"redirect_url"`
	PostLogoutRedirectURL string   `toml:"post_logout_redirect_url"`
	Scopes                []string `toml:"scopes"`
	GroupsClaim           string   `toml:"groups_claim"`
	// CallTimeout bounds each call to the provider; StartupTimeout bounds
	// the discovery retries at start.
	CallTimeout    Duration `toml:"call_timeout"`
	StartupTimeout Duration `toml:"startup_timeout"`
	// ClientAuth is how the client secret goes to the token endpoint:
	// "basic" (client_secret_basic) or "post" (client_secret_post). Empty
	// (the default) takes it from the provider's discovery document.
	ClientAuth string `toml:"client_auth"`
}

// SessionConfig holds the cookie keys and the session lifetimes.
type SessionConfig struct {
	// Keys are "hash:block" pairs in base64, separated by spaces or commas,
	// newest first: the first pair signs and encrypts, all pairs decode.
	Keys     Secret `toml:"keys,omitempty"`
	KeysFile string `toml:"keys_file"`
	// IdleTimeout ends a session without requests; AbsoluteTimeout ends
	// every session, however active.
	IdleTimeout     Duration `toml:"idle_timeout"`
	AbsoluteTimeout Duration `toml:"absolute_timeout"`
}

// AccessConfig is who may sign in (sso-security.md §4.2): listed subjects,
// verified emails or email domains, and, when groups are set, at least one
// of those groups. Per-app groups live in each app's allowed_groups.
type AccessConfig struct {
	Subjects []string `toml:"subjects"`
	Emails   []string `toml:"emails"`
	Domains  []string `toml:"domains"`
	Groups   []string `toml:"groups"`
}

// LimitsConfig bounds what one request may cost.
type LimitsConfig struct {
	MaxBodyBytes        int64    `toml:"max_body_bytes"`
	QueryTimeout        Duration `toml:"query_timeout"`
	RequestTimeout      Duration `toml:"request_timeout"`
	MaxPullsPerOperator int      `toml:"max_pulls_per_operator"`
}

// RedisConfig is the Redis that several console replicas share: the
// session registry (a login on one replica works on all, a logout anywhere
// ends it everywhere) and one call budget per app for the whole fleet. An
// empty Addr means no Redis: in-process sessions and each replica pacing
// its apps alone, right for a single replica.
type RedisConfig struct {
	// Addr is host:port.
	Addr string `toml:"addr"`
	// Username (a Redis 6 ACL user) and Password authenticate; the password
	// is a secret (TIMCONSOLE_REDIS_PASSWORD or password_file).
	Username     string `toml:"username"`
	Password     Secret `toml:"password,omitempty"`
	PasswordFile string `toml:"password_file"`
	DB           int    `toml:"db"`
	// TLS (1.2 or newer) verifies the server as TLSServerName (default: the
	// host of Addr) against the system roots, or against TLSCAFile's PEM
	// certificates for a private CA.
	TLS           bool   `toml:"tls"`
	TLSServerName string `toml:"tls_server_name"`
	TLSCAFile     string `toml:"tls_ca_file"`
	// KeyPrefix starts every key: the same for every replica of a fleet,
	// different for fleets sharing one Redis.
	KeyPrefix string `toml:"key_prefix"`
	// Replicas is the largest number of replicas that may run at once.
	// While Redis is unreachable each replica paces an app at rate ÷
	// Replicas, so the fleet still keeps to the vendor's limit.
	Replicas int `toml:"replicas"`
	// DialTimeout, ReadTimeout and WriteTimeout bound every Redis call, so
	// an outage shows within seconds.
	DialTimeout  Duration `toml:"dial_timeout"`
	ReadTimeout  Duration `toml:"read_timeout"`
	WriteTimeout Duration `toml:"write_timeout"`
}

// AppConfig is one Tencent Cloud Chat app, keyed by its console ID.
type AppConfig struct {
	Name     string `toml:"name"`
	SDKAppID uint64 `toml:"sdk_app_id"`
	// Region names the data centre (tim.Regions); BaseURL replaces it for an
	// emulator or a private endpoint, BackupURL is then its failover.
	Region    string `toml:"region"`
	BaseURL   string `toml:"base_url"`
	BackupURL string `toml:"backup_url"`
	// Identifier is an App admin account; every call is signed as it.
	Identifier string `toml:"identifier"`
	Key        Secret `toml:"key,omitempty"`
	KeyFile    string `toml:"key_file"`
	// BatchSize seqs per call, RateLimit calls/s for this app (shared by all
	// operators), MaxSeqs per query, SigLifetime of each UserSig.
	BatchSize int     `toml:"batch_size"`
	RateLimit float64 `toml:"rate_limit"`
	// RateHeadroom is the fraction of RateLimit left unused against timing
	// jitter (0 = the client's default, 5%).
	RateHeadroom float64  `toml:"rate_headroom"`
	MaxSeqs      int      `toml:"max_seqs"`
	SigLifetime  Duration `toml:"sig_lifetime"`
	CallTimeout  Duration `toml:"call_timeout"`
	MaxAttempts  int      `toml:"max_attempts"`
	Concurrency  int      `toml:"concurrency"`
	// AllowedGroups, when set, restricts this app to operators in one of
	// these groups (on top of the access policy).
	AllowedGroups []string `toml:"allowed_groups"`
	// DirectoryRefresh is how often the app's group directory is rebuilt
	// once an operator has searched it (default 10m; at least 1m).
	DirectoryRefresh Duration `toml:"directory_refresh"`
	// MessagePreview is "text" (timelines show the start of text
	// messages) or "off" (kind, sender and time only; the default, as
	// message text is personal data).
	MessagePreview string `toml:"message_preview"`
}

// Secret is a configuration value that must never be printed or logged.
// Its text form is "[redacted]", so --print-config and %v are safe.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// MarshalText hides the value in --print-config.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Duration is a time.Duration written as "30s" or "1h".
type Duration struct{ time.Duration }

// UnmarshalText parses Go duration syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write 30s, 5m or 1h)", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes Go duration syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

func dur(d time.Duration) Duration { return Duration{d} }

// DefaultConfig is the configuration before the file, environment and
// flags apply: loopback, JSON logs, conservative limits.
func DefaultConfig() Config {
	return Config{
		Server: ServerConfig{
			Addr:              "127.0.0.1:8080",
			WebDir:            "web",
			ReadHeaderTimeout: dur(10 * time.Second),
			ReadTimeout:       dur(30 * time.Second),
			IdleTimeout:       dur(2 * time.Minute),
			ShutdownTimeout:   dur(30 * time.Second),
		},
		Log:  LogConfig{Format: "json", Level: "info"},
		OIDC: OIDCConfig{Scopes: []string{"openid", "email", "profile"}, GroupsClaim: "groups", CallTimeout: dur(10 * time.Second), StartupTimeout: dur(30 * time.Second)},
		Session: SessionConfig{
			IdleTimeout:     dur(auth.DefaultIdleTimeout),
			AbsoluteTimeout: dur(auth.DefaultAbsoluteTimeout),
		},
		Limits: LimitsConfig{MaxBodyBytes: 64 << 10, QueryTimeout: dur(bff.DefaultQueryTimeout), RequestTimeout: dur(20 * time.Second), MaxPullsPerOperator: 2},
		Redis: RedisConfig{
			KeyPrefix:    redisstore.DefaultKeyPrefix,
			DialTimeout:  dur(redisstore.DefaultDialTimeout),
			ReadTimeout:  dur(redisstore.DefaultReadTimeout),
			WriteTimeout: dur(redisstore.DefaultWriteTimeout),
		},
		Apps: map[string]*AppConfig{},
	}
}

// applyDefaults fills every app's unset values (the rest of the defaults
// are DefaultConfig's, under the file and the environment).
func applyDefaults(cfg *Config) {
	for id, a := range cfg.Apps {
		appDefaults(id, a)
	}
}

// appDefaults fills an app's unset values.
func appDefaults(id string, a *AppConfig) {
	if a.Name == "" {
		a.Name = id
	}
	if a.BatchSize == 0 {
		a.BatchSize = tim.DefaultBatchSize
	}
	if a.RateLimit == 0 {
		a.RateLimit = tim.DefaultRateLimit
	}
	if a.MaxSeqs == 0 {
		a.MaxSeqs = tim.DefaultMaxSeqs
	}
	if a.SigLifetime.Duration == 0 {
		a.SigLifetime = dur(tim.DefaultSigLifetime)
	}
	if a.CallTimeout.Duration == 0 {
		a.CallTimeout = dur(tim.DefaultCallTimeout)
	}
	if a.MaxAttempts == 0 {
		a.MaxAttempts = tim.DefaultMaxAttempts
	}
	if a.Concurrency == 0 {
		a.Concurrency = tim.DefaultConcurrency
	}
	if a.DirectoryRefresh.Duration == 0 {
		a.DirectoryRefresh = dur(directory.DefaultRefresh)
	}
	if a.MessagePreview == "" {
		a.MessagePreview = bff.PreviewOff
	}
}

// problems collects every configuration problem so start-up reports them
// all at once.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// ConfigError lists every problem found in the configuration.
type ConfigError struct{ Problems []string }

// Error lists the problems one per line, ready for a terminal.
func (e *ConfigError) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

func sortedIDs(apps map[string]*AppConfig) []string {
	ids := make([]string, 0, len(apps))
	for id := range apps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// policyOf builds the sign-in policy. The apps' allowed_groups are the
// BFF's rule (bff.App.AllowedGroups); the session only has to keep them.
func policyOf(cfg *Config) auth.Policy {
	pol := auth.Policy{
		Subjects: cfg.Access.Subjects,
		Emails:   cfg.Access.Emails,
		Domains:  cfg.Access.Domains,
		Groups:   cfg.Access.Groups,
	}
	for _, a := range cfg.Apps {
		pol.KeepGroups = append(pol.KeepGroups, a.AllowedGroups...)
	}
	return pol
}

// printConfig writes the effective configuration as TOML. Secrets print as
// "[redacted]" (or not at all when unset).
func printConfig(w io.Writer, cfg Config) error {
	if err := toml.NewEncoder(w).Encode(cfg); err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	return nil
}

// LoadConfig builds the configuration: defaults, then the file (if path is
// not empty), then the environment, then flags (the override function), and
// validates the result. The error is a *ConfigError with every problem; the
// returned Config is usable for --print-config even then.
func LoadConfig(path string, getenv func(string) string, override func(*Config)) (Config, error) {
	cfg := DefaultConfig()
	var p problems
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			p.add("config file: %v", err)
		} else {
			decodeFile(f, path, &cfg, &p)
			f.Close()
		}
	}
	applyEnv(getenv, &cfg, &p)
	if override != nil {
		override(&cfg)
	}
	loadSecretFiles(&cfg, &p)
	applyDefaults(&cfg)
	validate(cfg, &p)
	if len(p) > 0 {
		return cfg, &ConfigError{Problems: p}
	}
	return cfg, nil
}
