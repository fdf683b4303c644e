// Package auth signs operators in to the console with OpenID Connect and keeps
// their sessions.
//
// The BFF is a confidential OAuth client (authorization code flow with PKCE
// S256, state and nonce). Tokens never reach the browser: the browser holds only
// an encrypted, signed session ID in a __Host- cookie, and the session itself
// lives in a server-side Registry so logout and timeouts are real. Who may use
// the console is decided by a Policy evaluated once, at login. The standard
// this package is built to is docs/sso-security.md.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"
)

// Cookie names. The __Host- prefix makes the browser refuse the cookie unless
// it is Secure, has Path=/ and no Domain, so a sibling subdomain cannot plant
// or shadow it.
//
// FlowCookieName is the prefix of the login-flow cookies: each login's is
// FlowCookieName + "-" + the first 12 characters of its state, so logins
// started in several tabs at once do not overwrite each other.
const (
	SessionCookieName = "__Host-bff-session"
	FlowCookieName    = "__Host-bff-login"
)

// Paths the handlers expect to be mounted at; the 401 answers point the
// browser to LoginPath.
const (
	LoginPath    = "/auth/login"
	CallbackPath = "/auth/callback"
	LogoutPath   = "/auth/logout"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultIdleTimeout     = time.Hour
	DefaultAbsoluteTimeout = 12 * time.Hour
	DefaultStartupTimeout  = 30 * time.Second
	DefaultCallTimeout     = 10 * time.Second
	DefaultGroupsClaim     = "groups"
	// FlowTimeout bounds how long a login may take between /auth/login and the
	// callback; an older flow cookie is refused.
	FlowTimeout = 10 * time.Minute
)

// Login outcomes passed to Hooks.OnLogin, one per callback, so metrics can tell
// configuration trouble from attacks and from people who are simply not allowed.
const (
	OutcomeSuccess     = "success"
	OutcomeDenied      = "denied"      // signed in at the IdP, refused by the Policy
	OutcomeIdPError    = "idp_error"   // the IdP answered with error=... (e.g. access_denied)
	OutcomeBadFlow     = "bad_flow"    // missing/expired flow cookie, wrong state or iss
	OutcomeBadToken    = "bad_token"   // code exchange or ID token verification failed
	OutcomeUnavailable = "unavailable" // the IdP could not be reached
	// OutcomeStoreUnavailable: the operator signed in at the IdP, but the
	// session Registry failed (a shared store such as Redis is down).
	OutcomeStoreUnavailable = "store_unavailable"
	OutcomeInternal         = "internal" // cookie encoding failure, or anything unforeseen
)

// ErrStoreUnavailable is what Config.WriteError gets when the session
// Registry failed with anything but ErrNotFound (a shared store that is
// down, a timeout). Sessions fail closed: such a request is refused and the
// cookie is kept, never treated as "not signed in", which would clear the
// cookie and send the operator round a login loop. The BFF answers it with
// 503 and Retry-After.
var ErrStoreUnavailable = errors.New("session store unavailable")

// RetryAfter is the Retry-After (in seconds) of the answers refused because
// of ErrStoreUnavailable, the callback's page and the BFF's 503s alike:
// about the time a restarted store needs.
const RetryAfter = 60

// Config is everything the SSO part of the BFF needs. The cmd package fills it
// from the configuration file and secrets; nothing here reads the environment.
type Config struct {
	// Issuer is the exact issuer URL; discovery fails unless the provider's
	// document names the same string (trailing slashes matter).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the absolute URL of /auth/callback as registered at the IdP.
	RedirectURL string
	// PostLogoutRedirectURL, when set, is sent as post_logout_redirect_uri at
	// logout; it must be registered at the IdP.
	PostLogoutRedirectURL string
	// Scopes requested at login. Default: openid, email, profile, plus "groups"
	// when the Policy uses groups.
	Scopes []string
	// GroupsClaim names the claim that lists the user's groups (default "groups").
	GroupsClaim string
	// SessionKeys sign and encrypt the cookies, in rotation order: the first
	// pair encodes, every pair decodes. Add a new pair first, remove the old
	// one after one AbsoluteTimeout.
	SessionKeys []KeyPair
	// IdleTimeout ends a session without requests for this long (default 1h);
	// AbsoluteTimeout ends every session this long after login (default 12h),
	// however active.
	IdleTimeout, AbsoluteTimeout time.Duration
	// Policy decides who may sign in. An empty Policy is refused.
	Policy Policy
	// Registry keeps the sessions; nil means an in-process MemoryRegistry
	// (enough for one replica).
	Registry Registry
	// HTTPClient is used for every call to the provider; nil means an own
	// client with CallTimeout. A client without a Timeout is refused.
	HTTPClient *http.Client
	// CallTimeout bounds each provider call when HTTPClient is nil (default 10s).
	CallTimeout time.Duration
	// StartupTimeout bounds how long New retries discovery while the provider
	// is down (default 30s: a provider restarting with the console, as in a
	// compose file or a cold cluster, is often that slow).
	StartupTimeout time.Duration
	// ClientAuth is how the client secret goes to the token endpoint:
	// ClientAuthBasic (HTTP Basic, client_secret_basic) or ClientAuthPost
	// (form fields, client_secret_post). Empty means the provider's choice:
	// basic when discovery lists it in token_endpoint_auth_methods_supported
	// (or lists nothing, the standard's default), else post when listed. A
	// fixed method means no call is spent finding out and a provider whose
	// client was switched fails loudly instead of after a retry.
	ClientAuth string
	// Now is the clock for sessions, flow age and ID token expiry (default time.Now).
	Now func() time.Time
	// Logger receives the audit records (login, denial, logout) and
	// provider-trouble warnings. Default: discard.
	Logger *slog.Logger
	// Hooks are optional metrics callbacks.
	Hooks Hooks
	// WriteError answers the requests RequireOperator and HandleLogout
	// refuse, with ErrNoSession or ErrStoreUnavailable; the BFF's writer
	// turns them into its JSON errors. Nil means plain-text statuses.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
}

// KeyPair is one generation of cookie keys: Hash (32 or 64 bytes) authenticates,
// Block (16, 24 or 32 bytes, AES) encrypts. Both are required: the cookie
// content must be unreadable as well as unforgeable.
type KeyPair struct{ Hash, Block []byte }

// Check is the one rule for a key pair's lengths: the hash key 32 or 64
// bytes (HMAC-SHA256), the block key 16, 24 or 32 (AES-128/192/256).
func (k KeyPair) Check() error {
	var problems []string
	if n := len(k.Hash); n != 32 && n != 64 {
		problems = append(problems, fmt.Sprintf("hash key must be 32 or 64 bytes, got %d", n))
	}
	if n := len(k.Block); n != 16 && n != 24 && n != 32 {
		problems = append(problems, fmt.Sprintf("block key must be 16, 24 or 32 bytes, got %d", n))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Hooks let the BFF count login outcomes without this package importing a
// metrics library.
type Hooks struct {
	// OnLogin is called once per callback with one of the Outcome constants.
	OnLogin func(outcome string)
	// OnLogout is called once per logout that ended a session.
	OnLogout func()
}

// Operator is the signed-in ops person as the identity provider named them.
// Groups holds only the groups the Policy mentions, so the session stays small
// however many groups the IdP sends.
//
// It is the one server-side shape of an operator. Its JSON form, with the
// tags below, is the storage format of a shared session Registry (Redis):
// version OperatorFormat. Renaming a tag is a format change; older records
// decode because encoding/json matches names case-insensitively (version 0
// had no tags: Subject, Email, Name, Groups). The browser sees api.Operator,
// made by the BFF at its edge.
type Operator struct {
	Version int      `json:"v"`
	Subject string   `json:"subject"`
	Email   string   `json:"email,omitempty"`
	Name    string   `json:"name,omitempty"`
	Groups  []string `json:"groups,omitempty"`
}

// OperatorFormat is the version written into an Operator's JSON by
// Registry implementations that store it (Operator.Version).
const OperatorFormat = 1

// Auth is the SSO service: handlers for login, callback and logout, the
// session middleware, and the access policy.
type Auth struct {
	cfg          Config
	now          func() time.Time
	log          *slog.Logger
	client       *http.Client
	reg          Registry
	provider     *oidc.Provider
	verifier     *oidc.IDTokenVerifier
	oauth        oauth2.Config
	endSession   string
	flowStore    *sessions.CookieStore
	sessionStore *sessions.CookieStore
	writeError   func(w http.ResponseWriter, r *http.Request, err error)
}

// New validates cfg, discovers the provider (retrying with backoff while it is
// unreachable, up to cfg.StartupTimeout) and returns a ready Auth. Every
// configuration problem is reported at once.
func New(ctx context.Context, cfg Config) (*Auth, error) {
	cfg = withDefaults(cfg)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &Auth{
		cfg:        cfg,
		now:        cfg.Now,
		log:        cfg.Logger,
		client:     cfg.HTTPClient,
		reg:        cfg.Registry,
		writeError: cfg.WriteError,
	}
	if a.reg == nil {
		a.reg = NewMemoryRegistry(cfg.Now)
	}
	if a.writeError == nil {
		a.writeError = writePlainError
	}
	a.flowStore = newStore(cfg.SessionKeys, int(FlowTimeout/time.Second))
	a.sessionStore = newStore(cfg.SessionKeys, int(cfg.AbsoluteTimeout/time.Second))

	p, err := discover(ctx, a.client, cfg.Issuer, cfg.StartupTimeout, a.log)
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession  string   `json:"end_session_endpoint"`
		Algs        []string `json:"id_token_signing_alg_values_supported"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc discovery: %v", err)
	}
	style, method, err := authStyle(cfg.ClientAuth, meta.AuthMethods)
	if err != nil {
		return nil, err
	}
	a.log.Info("oidc token endpoint client authentication", slog.String("method", method))
	a.provider = p
	a.endSession = meta.EndSession
	a.verifier = p.Verifier(&oidc.Config{
		ClientID:             cfg.ClientID,
		SupportedSigningAlgs: signingAlgs(meta.Algs),
		Now:                  cfg.Now,
	})
	endpoint := p.Endpoint()
	endpoint.AuthStyle = style
	a.oauth = oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  cfg.RedirectURL,
		Scopes:       cfg.Scopes,
	}
	return a, nil
}

// The values of Config.ClientAuth, and the discovery names they stand for.
const (
	ClientAuthBasic = "basic" // client_secret_basic
	ClientAuthPost  = "post"  // client_secret_post
)

// authStyle picks the token endpoint's client authentication: the
// configured one, or the provider's from its discovery list. x/oauth2's
// own AutoDetect is never used: it spends a rejected call on every start
// against a post-only client and then sticks to its guess for the process.
func authStyle(configured string, supported []string) (oauth2.AuthStyle, string, error) {
	switch configured {
	case ClientAuthBasic:
		return oauth2.AuthStyleInHeader, "client_secret_basic (configured)", nil
	case ClientAuthPost:
		return oauth2.AuthStyleInParams, "client_secret_post (configured)", nil
	case "":
	default:
		return 0, "", fmt.Errorf("client auth %q: want %q or %q", configured, ClientAuthBasic, ClientAuthPost)
	}
	switch {
	case len(supported) == 0, slices.Contains(supported, "client_secret_basic"):
		return oauth2.AuthStyleInHeader, "client_secret_basic (from discovery)", nil
	case slices.Contains(supported, "client_secret_post"):
		return oauth2.AuthStyleInParams, "client_secret_post (from discovery)", nil
	}
	return 0, "", fmt.Errorf("oidc discovery: the provider supports neither client_secret_basic nor client_secret_post at its token endpoint (it lists %s); the console authenticates with a client secret", strings.Join(supported, ", "))
}

func withDefaults(cfg Config) Config {
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = DefaultGroupsClaim
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if cfg.StartupTimeout == 0 {
		cfg.StartupTimeout = DefaultStartupTimeout
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = cfg.CallTimeout
		cfg.HTTPClient = &http.Client{Timeout: cfg.CallTimeout, Transport: tr}
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
		if cfg.Policy.usesGroups() {
			cfg.Scopes = append(cfg.Scopes, "groups")
		}
	}
	return cfg
}

// validate lists every problem; no secret value is ever part of the message.
func (cfg Config) validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if err := checkURL(cfg.Issuer); err != nil {
		add("issuer: %v", err)
	}
	if cfg.ClientID == "" {
		add("client ID is required")
	}
	if cfg.ClientSecret == "" {
		add("client secret is required (the BFF is a confidential client)")
	}
	if err := checkURL(cfg.RedirectURL); err != nil {
		add("redirect URL: %v", err)
	}
	if cfg.PostLogoutRedirectURL != "" {
		if err := checkURL(cfg.PostLogoutRedirectURL); err != nil {
			add("post-logout redirect URL: %v", err)
		}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		add("scopes must include %q", oidc.ScopeOpenID)
	}
	if len(cfg.SessionKeys) == 0 {
		add("at least one session key pair is required")
	}
	for i, k := range cfg.SessionKeys {
		if err := k.Check(); err != nil {
			add("session key pair %d: %v", i+1, err)
		}
	}
	if cfg.IdleTimeout < 0 || cfg.AbsoluteTimeout < 0 || cfg.StartupTimeout < 0 || cfg.CallTimeout < 0 {
		add("timeouts must not be negative")
	}
	if cfg.IdleTimeout > cfg.AbsoluteTimeout {
		add("idle timeout (%v) is longer than the absolute timeout (%v)", cfg.IdleTimeout, cfg.AbsoluteTimeout)
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Timeout <= 0 {
		add("HTTP client for the provider must have a Timeout")
	}
	if err := cfg.Policy.Validate(); err != nil {
		add("%v", err)
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("invalid auth configuration:\n  " + strings.Join(problems, "\n  "))
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.User != nil {
		return errors.New("must not contain credentials")
	}
	return nil
}

// newStore builds a CookieStore with safe options; gorilla's defaults
// (SameSite=None, HttpOnly=false, 30 days) are not.
func newStore(keys []KeyPair, maxAge int) *sessions.CookieStore {
	pairs := make([][]byte, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, k.Hash, k.Block)
	}
	s := sessions.NewCookieStore(pairs...)
	s.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	s.MaxAge(maxAge)
	return s
}

// asymmetricAlgs are the only ID token algorithms accepted: "none" and HMAC
// (keyed with the client secret, which the provider shares) are never allowed.
var asymmetricAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA,
}

func signingAlgs(advertised []string) []string {
	var algs []string
	for _, a := range advertised {
		if slices.Contains(asymmetricAlgs, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	return algs
}

// discover fetches the provider metadata, retrying with exponential backoff
// while the provider is unreachable. An issuer mismatch is a configuration
// mistake and is reported at once.
func discover(ctx context.Context, client *http.Client, issuer string, timeout time.Duration, log *slog.Logger) (*oidc.Provider, error) {
	const maxAttempts = 100 // the timeout ends the loop first; this only bounds it
	start := time.Now()
	delay := 100 * time.Millisecond
	var lastErr error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), issuer)
		if err == nil {
			return p, nil
		}
		lastErr = err
		if _, ok := errors.AsType[*oidc.IssuerMismatchError](err); ok {
			return nil, fmt.Errorf("oidc discovery at %s: %v", issuer, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("oidc discovery at %s: %w", issuer, ctx.Err())
		}
		if time.Since(start)+delay > timeout {
			return nil, fmt.Errorf("oidc discovery at %s: provider unreachable after %d attempts in %v: %v",
				issuer, attempt, time.Since(start).Round(time.Millisecond), lastErr)
		}
		log.Warn("oidc discovery failed, retrying", "issuer", issuer, "attempt", attempt, "retry_in", delay, "err", err.Error())
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("oidc discovery at %s: %w", issuer, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
	return nil, fmt.Errorf("oidc discovery at %s: provider unreachable after %d attempts: %v", issuer, maxAttempts, lastErr)
}

// Ready reports whether the provider's discovery document is reachable, for
// the BFF's readiness probe.
func (a *Auth) Ready(ctx context.Context) error {
	u := strings.TrimSuffix(a.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("identity provider: %v", err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("identity provider unreachable: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("identity provider discovery: %s", resp.Status)
	}
	return nil
}

// ActiveSessions counts live sessions, for a gauge; -1 when the registry
// cannot say (callers should then leave the gauge as it was).
func (a *Auth) ActiveSessions(ctx context.Context) int {
	n, err := a.reg.Count(ctx)
	if err != nil {
		return -1
	}
	return n
}

// IdPOrigin is the origin ("scheme://host[:port]") the logout form redirects
// to, for the CSP's form-action.
func (a *Auth) IdPOrigin() string {
	target := a.endSession
	if target == "" {
		target = a.cfg.Issuer
	}
	return originOf(target)
}

// originOf reduces a URL to "scheme://host[:port]"; the BFF's CSP checks
// what it puts in its header itself.
func originOf(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (a *Auth) loginHook(outcome string) {
	if a.cfg.Hooks.OnLogin != nil {
		a.cfg.Hooks.OnLogin(outcome)
	}
}
