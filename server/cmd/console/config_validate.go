package main

import (
	"github.com/timconsole/timconsole/server/bff"

	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/redisstore"
	"github.com/timconsole/timconsole/server/tim"
)

// validate: every problem of a configuration, found without changing it.

// appIDPattern keeps IDs usable in URLs, file names and variable names.
var appIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// validate checks the whole configuration and reports every problem. It
// changes nothing: applyDefaults has filled the per-app defaults before.
func validate(cfg Config, p *problems) {
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
		validateApp(p, id, a)
		if other, dup := seen[a.SDKAppID]; dup && a.SDKAppID != 0 {
			p.add("apps.%s: SDKAppID %d is also used by apps.%s", id, a.SDKAppID, other)
		}
		seen[a.SDKAppID] = id
	}

	if err := policyOf(&cfg).Validate(); err != nil {
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
	if a.MessagePreview != bff.PreviewOff && a.MessagePreview != bff.PreviewText {
		p.add("%s.message_preview %q: want %q or %q", at, a.MessagePreview, bff.PreviewText, bff.PreviewOff)
	}
	if a.DirectoryRefresh.Duration < time.Minute {
		p.add("%s.directory_refresh must be at least 1m", at)
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
