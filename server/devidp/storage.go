package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	pathLogin       = "/login/username"
	pathLoggedOut   = "/logged-out"
	scopeGroups     = "groups"
	accessTokenTTL  = 5 * time.Minute
	authRequestTTL  = 10 * time.Minute
	defaultIDTokTTL = 5 * time.Minute
	// maxPending bounds the auth requests and tokens kept in memory.
	maxPending = 10000
)

// storage implements op.Storage in memory: auth requests, codes and access
// tokens. No refresh tokens, no client credentials, no JWT profile: the
// console needs none of them, and what is not implemented cannot be abused.
type storage struct {
	idTokenClaims bool
	key           signingKey

	mu       sync.Mutex
	users    map[string]*User // by ID
	byName   map[string]*User // by username
	clients  map[string]*Client
	requests map[string]*authRequest
	codes    map[string]string // code -> request ID
	tokens   map[string]*accessToken
}

var _ op.Storage = (*storage)(nil)
var _ op.CanSetUserinfoFromRequest = (*storage)(nil)

func newStorage(users []User, clients []Client, idTokenClaims bool) (*storage, error) {
	var problems []string
	s := &storage{
		idTokenClaims: idTokenClaims,
		users:         make(map[string]*User),
		byName:        make(map[string]*User),
		clients:       make(map[string]*Client),
		requests:      make(map[string]*authRequest),
		codes:         make(map[string]string),
		tokens:        make(map[string]*accessToken),
	}
	for _, u := range users {
		if u.ID == "" {
			u.ID = "u-" + u.Username
		}
		if u.Username == "" || u.Password == "" {
			problems = append(problems, fmt.Sprintf("user %q: username and password are required", u.Username))
			continue
		}
		if _, dup := s.byName[u.Username]; dup {
			problems = append(problems, fmt.Sprintf("user %q: duplicate username", u.Username))
			continue
		}
		if _, dup := s.users[u.ID]; dup {
			problems = append(problems, fmt.Sprintf("user %q: duplicate id %q", u.Username, u.ID))
			continue
		}
		u.Groups = slices.Clone(u.Groups)
		s.users[u.ID] = &u
		s.byName[u.Username] = &u
	}
	for _, c := range clients {
		if c.ID == "" || c.Secret == "" || len(c.RedirectURIs) == 0 {
			problems = append(problems, fmt.Sprintf("client %q: id, secret and at least one redirect URI are required", c.ID))
			continue
		}
		if _, dup := s.clients[c.ID]; dup {
			problems = append(problems, fmt.Sprintf("client %q: duplicate id", c.ID))
			continue
		}
		if m := c.TokenAuthMethod; m != "" && m != string(oidc.AuthMethodBasic) && m != string(oidc.AuthMethodPost) {
			problems = append(problems, fmt.Sprintf("client %q: token_endpoint_auth_method %q: want client_secret_basic or client_secret_post", c.ID, m))
			continue
		}
		if c.IDTokenLifetime == 0 {
			c.IDTokenLifetime = defaultIDTokTTL
		}
		s.clients[c.ID] = &c
	}
	if len(s.clients) == 0 && len(problems) == 0 {
		problems = append(problems, "at least one client is required")
	}
	if len(problems) > 0 {
		return nil, errors.New("devidp: invalid fixture:\n  " + strings.Join(problems, "\n  "))
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: signing key: %v", err)
	}
	s.key = signingKey{id: rand.Text(), key: priv}
	return s, nil
}

// checkPassword compares in constant time and does the same work for unknown
// users, so the form does not reveal which usernames exist.
func (s *storage) checkPassword(username, password string) (*User, bool) {
	s.mu.Lock()
	u, ok := s.byName[username]
	s.mu.Unlock()
	want := "\x00no-such-user\x00"
	if ok {
		want = u.Password
	}
	match := subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1
	return u, ok && match
}

// completeLogin marks the auth request as authenticated by user.
func (s *storage) completeLogin(requestID string, u *User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[requestID]
	if !ok || time.Since(req.created) > authRequestTTL {
		return errors.New("login request unknown or expired")
	}
	req.userID = u.ID
	req.done = true
	req.authTime = time.Now()
	return nil
}

func (s *storage) requestExists(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	return ok && !req.done && time.Since(req.created) <= authRequestTTL
}

// purgeLocked drops expired auth requests and tokens; called with mu held
// when the maps grow, so memory stays bounded.
func (s *storage) purgeLocked() {
	now := time.Now()
	for id, r := range s.requests {
		if now.Sub(r.created) > authRequestTTL {
			delete(s.requests, id)
			for c, rid := range s.codes {
				if rid == id {
					delete(s.codes, c)
				}
			}
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// CreateAuthRequest implements op.Storage. PKCE with S256 is required of every
// client, and prompt=none fails because there is no SSO session.
func (s *storage) CreateAuthRequest(_ context.Context, ar *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if ar.CodeChallenge == "" || ar.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required")
	}
	if slices.Contains(ar.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) >= maxPending {
		s.purgeLocked()
		if len(s.requests) >= maxPending {
			return nil, oidc.ErrServerError().WithDescription("too many pending logins")
		}
	}
	req := &authRequest{
		id:            rand.Text(),
		created:       time.Now(),
		clientID:      ar.ClientID,
		redirectURI:   ar.RedirectURI,
		state:         ar.State,
		nonce:         ar.Nonce,
		scopes:        slices.Clone([]string(ar.Scopes)),
		responseType:  ar.ResponseType,
		responseMode:  ar.ResponseMode,
		codeChallenge: &oidc.CodeChallenge{Challenge: ar.CodeChallenge, Method: ar.CodeChallengeMethod},
	}
	s.requests[req.id] = req
	return req, nil
}

// AuthRequestByID implements op.Storage.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok || time.Since(req.created) > authRequestTTL {
		return nil, errors.New("auth request not found")
	}
	return req, nil
}

// AuthRequestByCode implements op.Storage.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or already used")
	}
	return s.AuthRequestByID(ctx, id)
}

// SaveAuthCode implements op.Storage.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest implements op.Storage; it runs once the code is
// exchanged, which makes every code single-use.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// CreateAccessToken implements op.Storage.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	clientID := ""
	if ar, ok := req.(*authRequest); ok {
		clientID = ar.clientID
	}
	t := &accessToken{
		id:       rand.Text(),
		clientID: clientID,
		subject:  req.GetSubject(),
		scopes:   slices.Clone(req.GetScopes()),
		expires:  time.Now().Add(accessTokenTTL),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) >= maxPending {
		s.purgeLocked()
	}
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

// CreateAccessAndRefreshTokens implements op.Storage; refresh tokens are not
// offered (no client has the refresh_token grant).
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not supported")
}

// TokenRequestByRefreshToken implements op.Storage.
func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

// TerminateSession implements op.Storage: end_session drops the user's access
// tokens for that client.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

// RevokeToken implements op.Storage.
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.tokens, tokenOrID)
	}
	return nil
}

// GetRefreshTokenInfo implements op.Storage.
func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// SigningKey implements op.Storage.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return &s.key, nil }

// SignatureAlgorithms implements op.Storage.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet implements op.Storage.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{&publicKey{s.key}}, nil
}

// GetClientByClientID implements op.Storage.
func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, errors.New("client not found")
	}
	return &client{c: c, idTokenClaims: s.idTokenClaims}, nil
}

// tokenAuthMethod is the token endpoint method a client is registered for
// ("" = either, or an unknown client, which op refuses itself).
func (s *storage) tokenAuthMethod(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[id]; ok {
		return c.TokenAuthMethod
	}
	return ""
}

// AuthorizeClientIDSecret implements op.Storage, comparing the secret in
// constant time.
func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	want := "\x00no-such-client\x00"
	if ok {
		want = c.Secret
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 || !ok {
		return errors.New("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes implements op.Storage; deprecated upstream, the work
// is done in SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest implements op.CanSetUserinfoFromRequest: the claims
// of the ID token. With IDTokenClaims false only sub is set, so the relying
// party must call userinfo.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if !s.idTokenClaims {
		ui.Subject = req.GetSubject()
		return nil
	}
	return s.setUserinfo(ui, req.GetSubject(), scopes)
}

// SetUserinfoFromToken implements op.Storage: the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) || t.subject != subject {
		return errors.New("access token invalid or expired")
	}
	return s.setUserinfo(ui, t.subject, t.scopes)
}

func (s *storage) setUserinfo(ui *oidc.UserInfo, userID string, scopes []string) error {
	s.mu.Lock()
	u, ok := s.users[userID]
	s.mu.Unlock()
	if !ok {
		return errors.New("user not found")
	}
	ui.Subject = u.ID
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeEmail:
			ui.Email = u.Email
			ui.EmailVerified = oidc.Bool(u.EmailVerified)
		case oidc.ScopeProfile:
			ui.Name = u.Name
			ui.PreferredUsername = u.Username
		case scopeGroups:
			ui.AppendClaims(scopeGroups, slices.Clone(u.Groups))
		}
	}
	if _, set := ui.Claims[scopeGroups]; !set && slices.Contains(scopes, scopeGroups) {
		ui.AppendClaims(scopeGroups, []string{})
	}
	return nil
}

// SetIntrospectionFromToken implements op.Storage.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) || t.clientID != clientID {
		return errors.New("token invalid")
	}
	resp.Subject = subject
	resp.ClientID = t.clientID
	resp.Scope = t.scopes
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

// GetPrivateClaimsFromScopes implements op.Storage (JWT access tokens only;
// ours are opaque).
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID implements op.Storage; JWT profile is not supported.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile not supported")
}

// ValidateJWTProfileScopes implements op.Storage; JWT profile is not supported.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile not supported")
}

// Health implements op.Storage.
func (s *storage) Health(context.Context) error { return nil }

type accessToken struct {
	id, clientID, subject string
	scopes                []string
	expires               time.Time
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k signingKey }

func (p *publicKey) ID() string                         { return p.k.id }
func (p *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p *publicKey) Use() string                        { return "sig" }
func (p *publicKey) Key() any                           { return &p.k.key.PublicKey }

// authRequest implements op.AuthRequest.
type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes                                  []string
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	codeChallenge                           *oidc.CodeChallenge
	created, authTime                       time.Time
	userID                                  string
	done                                    bool
}

func (a *authRequest) GetID() string  { return a.id }
func (a *authRequest) GetACR() string { return "" }
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.userID }
func (a *authRequest) Done() bool                            { return a.done }

// client implements op.Client for a fixture client: a confidential web
// client, code flow only, exact redirect URIs.
type client struct {
	c             *Client
	idTokenClaims bool
}

func (c *client) GetID() string                       { return c.c.ID }
func (c *client) RedirectURIs() []string              { return slices.Clone(c.c.RedirectURIs) }
func (c *client) PostLogoutRedirectURIs() []string    { return slices.Clone(c.c.PostLogoutRedirectURIs) }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.TokenAuthMethod == string(oidc.AuthMethodPost) {
		return oidc.AuthMethodPost
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string {
	return pathLogin + "?authRequestID=" + id
}
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return c.c.IDTokenLifetime }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool     { return scope == scopeGroups }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return c.idTokenClaims }
func (c *client) ClockSkew() time.Duration             { return 0 }
