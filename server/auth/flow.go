package auth

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"
)

// Values of the login-flow cookie.
const (
	flowState    = "state"
	flowNonce    = "nonce"
	flowVerifier = "verifier"
	flowReturnTo = "return_to"
	flowCreated  = "created" // unix seconds, judged with the injected clock
)

// HandleLogin starts a login (GET /auth/login?return_to=/path): fresh state,
// nonce and PKCE verifier go into a one-shot, encrypted flow cookie named by
// the state's prefix, and the browser is sent to the provider. Each login has
// its own flow cookie, so several tabs signing in at once do not overwrite
// each other's; at most MaxFlowCookies are kept (the oldest go first).
func (a *Auth) HandleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
		a.capFlowCookies(w, r)
		fs := sessions.NewSession(a.flowStore, flowCookieName(state))
		opts := *a.flowStore.Options
		fs.Options = &opts
		fs.Values[flowState] = state
		fs.Values[flowNonce] = nonce
		fs.Values[flowVerifier] = verifier
		fs.Values[flowReturnTo] = SafeReturnTo(r.URL.Query().Get("return_to"))
		fs.Values[flowCreated] = a.now().Unix()
		if err := a.flowStore.Save(r, w, fs); err != nil {
			a.log.ErrorContext(r.Context(), "login: encode flow cookie", "err", err.Error())
			a.page(w, http.StatusInternalServerError, "Sign-in is unavailable", "The console could not start the sign-in. Try again later.")
			return
		}
		target := a.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
		http.Redirect(w, r, target, http.StatusFound)
	})
}

// flowIDLen is how many characters of the state name a login's flow cookie:
// 72 random bits, so the few flows of one browser never collide, while the
// full state is still compared at the callback.
const flowIDLen = 12

// MaxFlowCookies caps the flow cookies one browser holds. Each is about
// 0.7 KB and the browser sends them all with every request to the console,
// so a larger cap risks "431 Request Header Fields Too Large".
const MaxFlowCookies = 3

// maxFlowDecode bounds how many flow cookies of one request are decoded to
// find the oldest; any beyond it are simply expired.
const maxFlowDecode = 16

// flowCookieName names the flow cookie of the login with this state
// (randomToken output: base64url, valid in a cookie name).
func flowCookieName(state string) string {
	return FlowCookieName + "-" + state[:flowIDLen]
}

// flowCookieNameFromState names the flow cookie a callback's state parameter
// points to; ok is false when the state cannot be one this package made.
func flowCookieNameFromState(state string) (string, bool) {
	if len(state) < flowIDLen {
		return "", false
	}
	for _, c := range []byte(state[:flowIDLen]) {
		if !isBase64URL(c) {
			return "", false
		}
	}
	return flowCookieName(state), true
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// capFlowCookies expires the oldest flow cookies the request carries so that,
// with the one about to be set, at most MaxFlowCookies remain. Age comes from
// the creation time inside each (encrypted, signed) cookie; one that does not
// decode (forged, from a retired key, or beyond maxFlowDecode) counts as
// oldest. Expired ones need no help: their 10-minute Max-Age removes them.
func (a *Auth) capFlowCookies(w http.ResponseWriter, r *http.Request) {
	type flow struct {
		name    string
		created int64
	}
	var flows []flow
	seen := map[string]bool{}
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, FlowCookieName+"-") || seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		f := flow{name: c.Name, created: math.MinInt64}
		if len(flows) < maxFlowDecode {
			if fs, err := a.flowStore.New(r, c.Name); err == nil && !fs.IsNew {
				if created, ok := fs.Values[flowCreated].(int64); ok {
					f.created = created
				}
			}
		}
		flows = append(flows, f)
	}
	if len(flows) < MaxFlowCookies {
		return
	}
	slices.SortStableFunc(flows, func(x, y flow) int { return cmp.Compare(x.created, y.created) })
	for _, f := range flows[:len(flows)-(MaxFlowCookies-1)] {
		deleteCookie(w, f.name)
	}
}

// callbackError is a failed callback: what the user sees, what the audit log
// records, and the metrics outcome.
type callbackError struct {
	status  int
	outcome string
	title   string
	message string
	cause   error
}

func (e *callbackError) Error() string { return e.outcome + ": " + e.cause.Error() }

func flowError(cause error) *callbackError {
	return &callbackError{
		status: http.StatusBadRequest, outcome: OutcomeBadFlow,
		title:   "Sign-in expired",
		message: "This sign-in expired, was already used, or was started in another tab. Start again.",
		cause:   cause,
	}
}

func tokenError(cause error) *callbackError {
	return &callbackError{
		status: http.StatusUnauthorized, outcome: OutcomeBadToken,
		title:   "Sign-in failed",
		message: "The identity provider's answer could not be verified. Start again; if it keeps failing, tell the console's administrators.",
		cause:   cause,
	}
}

func unavailableError(cause error) *callbackError {
	return &callbackError{
		status: http.StatusBadGateway, outcome: OutcomeUnavailable,
		title:   "Identity provider unreachable",
		message: "The identity provider did not answer. Try again in a moment.",
		cause:   cause,
	}
}

// HandleCallback finishes a login (GET /auth/callback): it checks the flow
// cookie, state and iss, exchanges the code with the PKCE verifier, verifies
// the ID token (signature, iss, aud, azp, exp, nonce, at_hash), fetches
// userinfo when claims are missing, applies the Policy and, only then, creates
// a new session. The flow cookie is the one named by the state parameter's
// prefix; it is deleted whatever happens.
func (a *Auth) HandleCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		// One-shot: the flow cookie this callback names is gone after this
		// request, whatever happens. A state that cannot name a flow cookie
		// names none, and the callback fails below.
		if name, ok := flowCookieNameFromState(r.URL.Query().Get("state")); ok {
			deleteCookie(w, name)
		}
		if _, err := r.Cookie(FlowCookieName); err == nil {
			deleteCookie(w, FlowCookieName) // the single flow cookie of earlier versions
		}
		op, returnTo, err := a.callback(r)
		if err != nil {
			var denied *deniedError
			if errors.As(err, &denied) {
				a.loginHook(OutcomeDenied)
				a.log.LogAttrs(r.Context(), slog.LevelWarn, "audit",
					slog.String("event", "login.denied"),
					slog.String("reason", denied.reason),
					slog.String("sub", denied.id.Subject),
					slog.String("email", denied.id.Email),
					slog.Any("groups", denied.id.Groups),
				)
				a.page(w, http.StatusForbidden, "Access denied",
					fmt.Sprintf("You are signed in at the identity provider as %s, but you are not allowed to use this console: %s.",
						displayName(denied.id), denied.reason))
				return
			}
			ce, ok := errors.AsType[*callbackError](err)
			if !ok {
				ce = &callbackError{status: http.StatusInternalServerError, outcome: OutcomeInternal,
					title: "Sign-in failed", message: "The console could not complete the sign-in. Try again later.", cause: err}
			}
			a.loginHook(ce.outcome)
			attrs := []slog.Attr{slog.String("event", "login.failed"), slog.String("outcome", ce.outcome), slog.String("err", ce.cause.Error())}
			if _, expired := errors.AsType[*oidc.TokenExpiredError](ce.cause); expired {
				attrs = append(attrs, slog.String("reason", "id token expired (check the clocks of the console and the identity provider)"))
			}
			a.log.LogAttrs(r.Context(), slog.LevelWarn, "audit", attrs...)
			a.page(w, ce.status, ce.title, ce.message)
			return
		}
		if old := a.sessionID(r); old != "" {
			if err := a.reg.Delete(r.Context(), old); err != nil {
				a.failSession(w, r, storeError(err))
				return
			}
		}
		cookie, s, err := a.newSession(r.Context(), op.Operator, op.rawIDToken)
		if err != nil {
			a.failSession(w, r, err)
			return
		}
		http.SetCookie(w, cookie)
		a.loginHook(OutcomeSuccess)
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "audit",
			slog.String("event", "login.success"),
			slog.String("sub", s.Operator.Subject),
			slog.String("email", s.Operator.Email),
			slog.Any("groups", s.Operator.Groups),
		)
		http.Redirect(w, r, SafeReturnTo(returnTo), http.StatusFound)
	})
}

// failSession answers a callback whose identity checks passed but whose
// session could not be made. A Registry failure is the store being down: a
// 503 page with Retry-After that says so (reloading the callback cannot
// help, the code is spent, so the page links to a fresh sign-in). Anything
// else is internal.
func (a *Auth) failSession(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrStoreUnavailable) {
		a.loginHook(OutcomeStoreUnavailable)
		a.log.LogAttrs(r.Context(), slog.LevelError, "audit",
			slog.String("event", "login.failed"), slog.String("outcome", OutcomeStoreUnavailable), slog.String("err", err.Error()))
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		a.page(w, http.StatusServiceUnavailable, "Session store unavailable",
			"Session store unavailable, try again in a minute. Your sign-in at the identity provider worked, but the console could not record your session.")
		return
	}
	a.loginHook(OutcomeInternal)
	a.log.ErrorContext(r.Context(), "login: create session", "err", err.Error())
	a.page(w, http.StatusInternalServerError, "Sign-in failed", "The console could not complete the sign-in. Try again later.")
}

// deniedError is a login the Policy refused.
type deniedError struct {
	id     identity
	reason string
}

func (e *deniedError) Error() string { return "denied: " + e.reason }

type loginResult struct {
	Operator
	rawIDToken string
}

func (a *Auth) callback(r *http.Request) (loginResult, string, error) {
	q := r.URL.Query()
	name, ok := flowCookieNameFromState(q.Get("state"))
	if !ok {
		return loginResult{}, "", flowError(errors.New("state missing or malformed"))
	}
	fs, err := a.flowStore.New(r, name)
	if err != nil || fs.IsNew {
		return loginResult{}, "", flowError(errors.New("flow cookie missing or undecodable"))
	}
	state, _ := fs.Values[flowState].(string)
	nonce, _ := fs.Values[flowNonce].(string)
	verifier, _ := fs.Values[flowVerifier].(string)
	returnTo, _ := fs.Values[flowReturnTo].(string)
	created, _ := fs.Values[flowCreated].(int64)
	if state == "" || nonce == "" || verifier == "" {
		return loginResult{}, "", flowError(errors.New("flow cookie incomplete"))
	}
	if age := a.now().Sub(time.Unix(created, 0)); age > FlowTimeout || age < -time.Minute {
		return loginResult{}, "", flowError(fmt.Errorf("flow cookie is %v old", age.Round(time.Second)))
	}
	if e := q.Get("error"); e != "" {
		return loginResult{}, "", &callbackError{
			status: http.StatusUnauthorized, outcome: OutcomeIdPError,
			title:   "Sign-in was not completed",
			message: "The identity provider did not sign you in (" + truncate(e, 64) + "). You can try again.",
			cause:   fmt.Errorf("provider error %q: %s", truncate(e, 64), a.description(q.Get("error_description"))),
		}
	}
	if !equalSecret(q.Get("state"), state) {
		return loginResult{}, "", flowError(errors.New("state mismatch"))
	}
	if iss := q.Get("iss"); iss != "" && iss != a.cfg.Issuer {
		return loginResult{}, "", flowError(fmt.Errorf("iss %q in the authorization response is not the configured issuer", truncate(iss, 200)))
	}
	code := q.Get("code")
	if code == "" {
		return loginResult{}, "", flowError(errors.New("no code in the callback"))
	}

	ctx := oidc.ClientContext(r.Context(), a.client)
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return loginResult{}, "", a.exchangeError(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return loginResult{}, "", tokenError(errors.New("no id_token in the token response"))
	}
	idt, err := a.verifyIDToken(ctx, rawID, nonce, tok.AccessToken)
	if err != nil {
		if isNetError(err) {
			return loginResult{}, "", unavailableError(err)
		}
		return loginResult{}, "", tokenError(err)
	}
	id, err := a.identity(ctx, idt, tok)
	if err != nil {
		return loginResult{}, "", err
	}
	if reason := a.cfg.Policy.decide(id); reason != "" {
		return loginResult{}, "", &deniedError{id: id, reason: reason}
	}
	op := Operator{Subject: id.Subject, Email: id.Email, Name: id.Name}
	for _, g := range a.cfg.Policy.knownGroups() {
		if slices.Contains(id.Groups, g) {
			op.Groups = append(op.Groups, g)
		}
	}
	return loginResult{Operator: op, rawIDToken: rawID}, returnTo, nil
}

// exchangeError classifies a failed code exchange. The provider's
// error_description is kept whole up to maxDescription (the decisive words,
// such as which client authentication it expected, often come last), with
// secrets redacted.
func (a *Auth) exchangeError(err error) error {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return tokenError(fmt.Errorf("code exchange refused: HTTP %d %s %s", status, truncate(re.ErrorCode, 64), a.description(re.ErrorDescription)))
	}
	if isNetError(err) {
		return unavailableError(fmt.Errorf("code exchange: %v", err))
	}
	return tokenError(fmt.Errorf("code exchange: %v", err))
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// verifyIDToken adds what go-oidc's Verify leaves to the caller: nonce, azp
// and at_hash.
func (a *Auth) verifyIDToken(ctx context.Context, raw, nonce, accessToken string) (*oidc.IDToken, error) {
	idt, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("id token: %w", err)
	}
	if !equalSecret(idt.Nonce, nonce) {
		return nil, errors.New("id token: nonce mismatch")
	}
	var c struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("id token claims: %v", err)
	}
	if (len(idt.Audience) > 1 || c.AZP != "") && c.AZP != a.cfg.ClientID {
		return nil, fmt.Errorf("id token: azp %q is not this client", truncate(c.AZP, 100))
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, fmt.Errorf("id token: at_hash: %v", err)
		}
	}
	return idt, nil
}

// identity reads the user's claims from the ID token and, when email or the
// groups the Policy needs are missing, from userinfo (whose sub must match).
func (a *Auth) identity(ctx context.Context, idt *oidc.IDToken, tok *oauth2.Token) (identity, error) {
	var raw map[string]json.RawMessage
	if err := idt.Claims(&raw); err != nil {
		return identity{}, tokenError(fmt.Errorf("id token claims: %v", err))
	}
	id := identity{Subject: idt.Subject}
	fillIdentity(&id, raw, a.cfg.GroupsClaim)
	needGroups := a.cfg.Policy.usesGroups() && !id.HasGroups
	if (id.Email == "" || needGroups) && a.provider.UserInfoEndpoint() != "" {
		ui, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			if isNetError(err) {
				return identity{}, unavailableError(fmt.Errorf("userinfo: %v", err))
			}
			return identity{}, tokenError(fmt.Errorf("userinfo: %v", err))
		}
		if ui.Subject != idt.Subject {
			return identity{}, tokenError(errors.New("userinfo sub does not match the id token's sub"))
		}
		var uraw map[string]json.RawMessage
		if err := ui.Claims(&uraw); err != nil {
			return identity{}, tokenError(fmt.Errorf("userinfo claims: %v", err))
		}
		var fromUI identity
		fillIdentity(&fromUI, uraw, a.cfg.GroupsClaim)
		if id.Email == "" {
			id.Email, id.EmailVerified = fromUI.Email, fromUI.EmailVerified
		}
		if id.Name == "" {
			id.Name = fromUI.Name
		}
		if !id.HasGroups {
			id.Groups, id.HasGroups = fromUI.Groups, fromUI.HasGroups
		}
	}
	return id, nil
}

// maxGroups bounds what is read from a groups claim (Entra sends up to 200
// before its overage marker).
const maxGroups = 500

func fillIdentity(id *identity, raw map[string]json.RawMessage, groupsClaim string) {
	json.Unmarshal(raw["email"], &id.Email)
	if v, ok := raw["email_verified"]; ok {
		var b bool
		var s string
		if json.Unmarshal(v, &b) == nil {
			id.EmailVerified = b
		} else if json.Unmarshal(v, &s) == nil {
			id.EmailVerified = s == "true" // some providers send a string
		}
	}
	json.Unmarshal(raw["name"], &id.Name)
	if id.Name == "" {
		json.Unmarshal(raw["preferred_username"], &id.Name)
	}
	if v, ok := raw[groupsClaim]; ok {
		id.HasGroups = true
		var list []string
		var one string
		if json.Unmarshal(v, &list) == nil {
			id.Groups = list
		} else if json.Unmarshal(v, &one) == nil && one != "" {
			id.Groups = []string{one}
		}
		if len(id.Groups) > maxGroups {
			id.Groups = id.Groups[:maxGroups]
		}
	}
}

func equalSecret(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// maxDescription bounds a provider's error_description in the log.
const maxDescription = 1024

// secretParam matches secret-bearing parameters a provider may echo.
var secretParam = regexp.MustCompile(`(?i)(client_secret|code_verifier|code|password|token)=[^&\s"']*`)

// description makes a provider's error_description safe to log: the client
// secret and secret-bearing parameters redacted, control characters
// replaced, valid UTF-8, at most maxDescription bytes.
func (a *Auth) description(s string) string {
	if a.cfg.ClientSecret != "" {
		s = strings.ReplaceAll(s, a.cfg.ClientSecret, "[redacted]")
	}
	s = secretParam.ReplaceAllString(s, "$1=[redacted]")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > maxDescription {
		cut := maxDescription
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func displayName(id identity) string {
	switch {
	case id.Email != "":
		return id.Email
	case id.Name != "":
		return id.Name
	default:
		return id.Subject
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} · timconsole</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p><a href="/auth/login">Sign in again</a> · <a href="/">Back to the console</a></p>
</main>
</body>
</html>
`))

// page writes the small HTML pages of the login flow (errors and denials).
// They never redirect, so an IdP error cannot turn into a loop.
func (a *Auth) page(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	pageTemplate.Execute(w, struct{ Title, Message string }{title, message})
}
