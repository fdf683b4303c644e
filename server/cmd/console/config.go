package main

import (
	"crypto/x509"
	"encoding"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/bff"
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

// secretKeys are the TOML keys refused in the file, per section.
var secretKeys = map[string]string{
	"oidc.client_secret": EnvPrefix + "_OIDC_CLIENT_SECRET or oidc.client_secret_file",
	"session.keys":       EnvPrefix + "_SESSION_KEYS or session.keys_file",
	"redis.password":     EnvPrefix + "_REDIS_PASSWORD or redis.password_file",
}

// decodeFile reads the TOML file over cfg. Unknown keys and secrets in the
// file are problems (a typo must not silently fall back to a default).
func decodeFile(r io.Reader, name string, cfg *Config, p *problems) {
	md, err := toml.NewDecoder(r).Decode(cfg)
	if err != nil {
		p.add("%s: %v", name, err)
		return
	}
	for key, where := range secretKeys {
		if md.IsDefined(strings.Split(key, ".")...) {
			p.add("%s: %s is a secret and is not accepted in the file; use %s", name, key, where)
		}
	}
	for id := range cfg.Apps {
		if md.IsDefined("apps", id, "key") {
			p.add("%s: apps.%s.key is a secret and is not accepted in the file; use %s or apps.%s.key_file", name, id, appEnv(id, "key"), id)
		}
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		unknown = append(unknown, k.String())
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p.add("%s: unknown setting %q", name, k)
	}
}

// appEnv is the variable of one app setting.
func appEnv(id, key string) string {
	return envName(EnvPrefix, "apps", id, key)
}

func envName(parts ...string) string {
	s := strings.Join(parts, "_")
	s = strings.NewReplacer("-", "_", ".", "_").Replace(s)
	return strings.ToUpper(s)
}

// applyEnv overrides cfg with every TIMCONSOLE_* variable that is set.
// TIMCONSOLE_APPS (a comma-separated list of IDs) declares apps that exist
// only in the environment.
func applyEnv(getenv func(string) string, cfg *Config, p *problems) {
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		section := tomlName(f)
		if section == "apps" {
			continue
		}
		overlay(getenv, v.Field(i), envName(EnvPrefix, section), section, p)
	}
	if list := getenv(EnvPrefix + "_APPS"); list != "" {
		for _, id := range splitList(list) {
			if _, ok := cfg.Apps[id]; !ok {
				cfg.Apps[id] = &AppConfig{}
			}
		}
	}
	for id, a := range cfg.Apps {
		if a == nil {
			a = &AppConfig{}
			cfg.Apps[id] = a
		}
		overlay(getenv, reflect.ValueOf(a).Elem(), envName(EnvPrefix, "apps", id), "apps."+id, p)
	}
}

// overlay sets each field of the struct v whose variable is set.
func overlay(getenv func(string) string, v reflect.Value, prefix, path string, p *problems) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := tomlName(f)
		env := envName(prefix, name)
		raw, set := getenv(env), getenv(env) != ""
		if !set {
			continue
		}
		if err := setFromText(v.Field(i), raw); err != nil {
			p.add("%s (%s.%s): %v", env, path, name, err)
		}
	}
}

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

var durationType = reflect.TypeFor[Duration]()

// setFromText parses an environment value into a config field. Error
// messages never echo secret values.
func setFromText(f reflect.Value, raw string) error {
	if f.Type() == durationType {
		var d Duration
		if err := d.UnmarshalText([]byte(raw)); err != nil {
			return err
		}
		f.Set(reflect.ValueOf(d))
		return nil
	}
	if tu, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok && f.Kind() != reflect.String {
		return tu.UnmarshalText([]byte(raw))
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Slice:
		f.Set(reflect.ValueOf(splitList(raw)))
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		f.SetInt(n)
	case reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a positive whole number", raw)
		}
		f.SetUint(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", raw)
		}
		f.SetFloat(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// splitList splits on commas and white space, dropping empty items.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// loadSecretFiles reads every *_file secret. A secret given both directly
// and as a file is a problem: which one wins would be a guess.
func loadSecretFiles(cfg *Config, p *problems) {
	read := func(what, path string, into *Secret) {
		if path == "" {
			return
		}
		if *into != "" {
			p.add("%s is set both directly and as a file; set one", what)
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			p.add("%s: read %s: %v", what, path, errors.Unwrap(err))
			return
		}
		*into = Secret(strings.TrimSpace(string(b)))
		if *into == "" {
			p.add("%s: %s is empty", what, path)
		}
	}
	read("oidc client secret", cfg.OIDC.ClientSecretFile, &cfg.OIDC.ClientSecret)
	read("session keys", cfg.Session.KeysFile, &cfg.Session.Keys)
	read("redis password", cfg.Redis.PasswordFile, &cfg.Redis.Password)
	for _, id := range sortedIDs(cfg.Apps) {
		read("apps."+id+" key", cfg.Apps[id].KeyFile, &cfg.Apps[id].Key)
	}
}

func sortedIDs(apps map[string]*AppConfig) []string {
	ids := make([]string, 0, len(apps))
	for id := range apps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// appIDPattern keeps IDs usable in URLs, file names and variable names.
var appIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// validate checks the whole configuration and reports every problem. It
// also fills per-app defaults.
func validate(cfg *Config, p *problems) {
	s := cfg.Server
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		p.add("server.addr %q: want host:port", s.Addr)
	}
	if s.WebDir == "" {
		p.add("server.web_dir is empty")
	}
	if s.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(s.MetricsAddr); err != nil {
			p.add("server.metrics_addr %q: want host:port", s.MetricsAddr)
		} else if s.MetricsAddr == s.Addr {
			p.add("server.metrics_addr must differ from server.addr")
		}
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		p.add("server.tls_cert_file and server.tls_key_file go together")
	}
	for _, f := range []string{s.TLSCertFile, s.TLSKeyFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				p.add("server TLS file %s: %v", f, errors.Unwrap(err))
			}
		}
	}
	if _, err := parseProxies(s.TrustedProxies); err != nil {
		p.add("server.trusted_proxies: %v", err)
	}
	for name, d := range map[string]Duration{"server.read_header_timeout": s.ReadHeaderTimeout, "server.read_timeout": s.ReadTimeout, "server.idle_timeout": s.IdleTimeout, "server.shutdown_timeout": s.ShutdownTimeout} {
		if d.Duration <= 0 {
			p.add("%s must be positive", name)
		}
	}

	if !slices.Contains([]string{"json", "text"}, cfg.Log.Format) {
		p.add("log.format %q: want json or text", cfg.Log.Format)
	}
	if _, err := parseLevel(cfg.Log.Level); err != nil {
		p.add("log.level: %v", err)
	}

	o := cfg.OIDC
	checkURL(p, "oidc.issuer", o.Issuer, true)
	if o.ClientID == "" {
		p.add("oidc.client_id is required")
	}
	if o.ClientSecret == "" {
		p.add("the OIDC client secret is required: set %s_OIDC_CLIENT_SECRET or oidc.client_secret_file", EnvPrefix)
	}
	if checkURL(p, "oidc.redirect_url", o.RedirectURL, true) {
		if u, _ := url.Parse(o.RedirectURL); u.Path != auth.CallbackPath {
			p.add("oidc.redirect_url must end in %s (the console's callback), got path %q", auth.CallbackPath, u.Path)
		}
	}
	if o.PostLogoutRedirectURL != "" {
		checkURL(p, "oidc.post_logout_redirect_url", o.PostLogoutRedirectURL, false)
	}
	if !slices.Contains(o.Scopes, "openid") {
		p.add("oidc.scopes must include openid")
	}
	if o.GroupsClaim == "" {
		p.add("oidc.groups_claim is empty")
	}
	if o.CallTimeout.Duration <= 0 || o.StartupTimeout.Duration <= 0 {
		p.add("oidc.call_timeout and oidc.startup_timeout must be positive")
	}
	if !slices.Contains([]string{"", auth.ClientAuthBasic, auth.ClientAuthPost}, o.ClientAuth) {
		p.add("oidc.client_auth %q: want %s, %s or empty (from discovery)", o.ClientAuth, auth.ClientAuthBasic, auth.ClientAuthPost)
	}

	if cfg.Session.Keys == "" {
		p.add("session keys are required: set %s_SESSION_KEYS or session.keys_file (generate a pair with `console keygen`)", EnvPrefix)
	} else if _, err := parseKeyPairs(string(cfg.Session.Keys)); err != nil {
		p.add("session keys: %v", err)
	}
	if cfg.Session.IdleTimeout.Duration <= 0 || cfg.Session.AbsoluteTimeout.Duration <= 0 {
		p.add("session.idle_timeout and session.absolute_timeout must be positive")
	} else if cfg.Session.IdleTimeout.Duration > cfg.Session.AbsoluteTimeout.Duration {
		p.add("session.idle_timeout (%v) is longer than session.absolute_timeout (%v)", cfg.Session.IdleTimeout, cfg.Session.AbsoluteTimeout)
	}

	l := cfg.Limits
	if l.MaxBodyBytes < 1024 || l.MaxBodyBytes > 16<<20 {
		p.add("limits.max_body_bytes %d: want 1024 to %d", l.MaxBodyBytes, 16<<20)
	}
	if l.QueryTimeout.Duration <= 0 || l.RequestTimeout.Duration <= 0 {
		p.add("limits.query_timeout and limits.request_timeout must be positive")
	}
	if l.MaxPullsPerOperator < 1 || l.MaxPullsPerOperator > 64 {
		p.add("limits.max_pulls_per_operator %d: want 1 to 64", l.MaxPullsPerOperator)
	}

	validateRedis(p, cfg.Redis)

	if len(cfg.Apps) == 0 {
		p.add("no apps configured: add an [apps.<id>] table (or %s_APPS=<id> and its variables)", EnvPrefix)
	}
	seen := map[uint64]string{}
	for _, id := range sortedIDs(cfg.Apps) {
		a := cfg.Apps[id]
		appDefaults(id, a)
		validateApp(p, id, a)
		if other, dup := seen[a.SDKAppID]; dup && a.SDKAppID != 0 {
			p.add("apps.%s: SDKAppID %d is also used by apps.%s", id, a.SDKAppID, other)
		}
		seen[a.SDKAppID] = id
	}

	if err := policyOf(cfg).Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				p.add("%s", line)
			}
		}
	}
}

func validateApp(p *problems, id string, a *AppConfig) {
	at := "apps." + id
	if !appIDPattern.MatchString(id) {
		p.add("%s: the ID must be 1-32 lower-case letters, digits or '-', starting with a letter or digit", at)
	}
	if a.SDKAppID == 0 || a.SDKAppID > math.MaxUint32 {
		p.add("%s.sdk_app_id must be the app's non-zero 32-bit SDKAppID", at)
	}
	switch {
	case a.BaseURL != "" && a.Region != "":
		p.add("%s: set region or base_url, not both", at)
	case a.BaseURL != "":
		checkURL(p, at+".base_url", a.BaseURL, false)
		if a.BackupURL != "" {
			checkURL(p, at+".backup_url", a.BackupURL, false)
		}
	case a.Region == "":
		p.add("%s.region is required (one of %s), or base_url", at, regionList())
	default:
		if _, _, ok := tim.Region(a.Region).Domains(); !ok {
			p.add("%s.region %q is unknown; want one of %s", at, a.Region, regionList())
		}
		if a.BackupURL != "" {
			p.add("%s.backup_url needs base_url (a region has its own backup domain)", at)
		}
	}
	if a.Identifier == "" {
		p.add("%s.identifier (an App admin account) is required", at)
	}
	if a.Key == "" {
		p.add("%s: the secret key is required: set %s or %s.key_file", at, appEnv(id, "key"), at)
	}
	if a.BatchSize < 1 || a.BatchSize > 50 {
		p.add("%s.batch_size %d: want 1 to 50 (Tencent's documented batch)", at, a.BatchSize)
	}
	if a.RateLimit <= 0 || a.RateLimit > tim.DefaultRateLimit || math.IsNaN(a.RateLimit) {
		p.add("%s.rate_limit %v: want more than 0 and at most %d calls/s (Tencent's documented limit per app)", at, a.RateLimit, tim.DefaultRateLimit)
	}
	if a.RateHeadroom < 0 || a.RateHeadroom >= 0.5 || math.IsNaN(a.RateHeadroom) {
		p.add("%s.rate_headroom %v: want 0 (default) to below 0.5", at, a.RateHeadroom)
	}
	if a.MaxSeqs < 1 || a.MaxSeqs > 100000 {
		p.add("%s.max_seqs %d: want 1 to 100000", at, a.MaxSeqs)
	}
	if a.SigLifetime.Duration < time.Minute || a.SigLifetime.Duration > 180*24*time.Hour {
		p.add("%s.sig_lifetime %v: want 1m to 4320h (Tencent advises at least 24h)", at, a.SigLifetime)
	}
	if a.CallTimeout.Duration <= 0 || a.MaxAttempts < 1 || a.Concurrency < 1 {
		p.add("%s: call_timeout, max_attempts and concurrency must be positive", at)
	}
	for _, g := range a.AllowedGroups {
		if strings.TrimSpace(g) == "" {
			p.add("%s.allowed_groups has an empty group", at)
		}
	}
}

// maxReplicas bounds redis.replicas to something a typo cannot exceed
// silently (a share of 200/s ÷ 1000 is already one call every 5 s).
const maxReplicas = 1000

func validateRedis(p *problems, r RedisConfig) {
	if r.Addr == "" {
		var set []string
		for name, on := range map[string]bool{"username": r.Username != "", "password": r.Password != "", "tls": r.TLS, "tls_server_name": r.TLSServerName != "", "tls_ca_file": r.TLSCAFile != "", "replicas": r.Replicas != 0} {
			if on {
				set = append(set, "redis."+name)
			}
		}
		if len(set) > 0 {
			sort.Strings(set)
			p.add("%s set without redis.addr: set the address, or drop them to run without Redis", strings.Join(set, ", "))
		}
		return
	}
	if host, port, err := net.SplitHostPort(r.Addr); err != nil || host == "" || port == "" {
		p.add("redis.addr %q: want host:port", r.Addr)
	}
	if r.DB < 0 {
		p.add("redis.db %d: want 0 or more", r.DB)
	}
	if (r.TLSServerName != "" || r.TLSCAFile != "") && !r.TLS {
		p.add("redis.tls_server_name and redis.tls_ca_file need redis.tls = true")
	}
	if r.TLSCAFile != "" {
		if _, err := loadCAPool(r.TLSCAFile); err != nil {
			p.add("redis.tls_ca_file: %v", err)
		}
	}
	if r.KeyPrefix == "" || strings.ContainsAny(r.KeyPrefix, " *?[]\r\n") {
		p.add("redis.key_prefix %q: want a non-empty prefix without spaces or glob characters, e.g. %q", r.KeyPrefix, redisstore.DefaultKeyPrefix)
	}
	if r.Replicas < 1 || r.Replicas > maxReplicas {
		p.add("redis.replicas %d: want the largest number of console replicas that may run at once (1 to %d); while Redis is down each paces an app at rate ÷ replicas", r.Replicas, maxReplicas)
	}
	if r.DialTimeout.Duration <= 0 || r.ReadTimeout.Duration <= 0 || r.WriteTimeout.Duration <= 0 {
		p.add("redis.dial_timeout, redis.read_timeout and redis.write_timeout must be positive")
	}
}

// loadCAPool reads PEM certificates for verifying a server with a private
// CA.
func loadCAPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %v", path, errors.Unwrap(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

func regionList() string {
	rs := tim.Regions()
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ", ")
}

// checkURL reports whether s is an absolute http(s) URL; https is required
// except on loopback when strict is set (an issuer or callback in the clear
// would leak codes).
func checkURL(p *problems, what, s string, strict bool) bool {
	if s == "" {
		p.add("%s is required", what)
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		p.add("%s %q: want an absolute http(s) URL", what, s)
		return false
	}
	if strict && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		p.add("%s %q: use https (plain http only on loopback)", what, s)
		return false
	}
	return true
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// parseProxies reads CIDRs or single addresses.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, s := range list {
		if pr, err := netip.ParsePrefix(s); err == nil {
			out = append(out, pr.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		bad = append(bad, strconv.Quote(s))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: want CIDRs such as 10.0.0.0/8 or addresses", strings.Join(bad, ", "))
	}
	return out, nil
}

// parseKeyPairs reads "hash:block" base64 pairs, newest first. Errors name
// the pair's position, never its value.
func parseKeyPairs(s string) ([]auth.KeyPair, error) {
	var (
		out  []auth.KeyPair
		errs []string
	)
	for i, item := range splitList(stripComments(s)) {
		h, b, ok := strings.Cut(item, ":")
		if !ok {
			errs = append(errs, fmt.Sprintf("pair %d is not hash:block", i+1))
			continue
		}
		hash, err1 := decodeKey(h)
		block, err2 := decodeKey(b)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Sprintf("pair %d is not base64", i+1))
			continue
		}
		if n := len(hash); n != 32 && n != 64 {
			errs = append(errs, fmt.Sprintf("pair %d: the hash key is %d bytes, want 32 or 64", i+1, n))
		}
		if n := len(block); n != 16 && n != 24 && n != 32 {
			errs = append(errs, fmt.Sprintf("pair %d: the block key is %d bytes, want 16, 24 or 32", i+1, n))
		}
		out = append(out, auth.KeyPair{Hash: hash, Block: block})
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	if len(out) == 0 {
		return nil, errors.New("no key pair given")
	}
	return out, nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
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
