// Package devidp is a small OpenID Connect provider for development, tests and
// the console's demo mode, built on zitadel's op package.
//
// It behaves like a strict production IdP where it matters for the console's
// security tests: a real HTML login form that checks passwords, exact
// redirect_uri and post_logout_redirect_uri matching, PKCE S256 required,
// nonce, at_hash, a groups claim, userinfo, end_session, and fresh random
// signing and encryption keys at every start. It only ever listens on a
// loopback address. It is not a production IdP: passwords are plain text in
// the fixture and there is no SSO session (every login shows the form).
package devidp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is one account in the fixture.
type User struct {
	// ID is the subject (sub); default "u-" + Username.
	ID            string   `json:"id,omitempty"`
	Username      string   `json:"username"`
	Password      string   `json:"password"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
}

// Client is one registered relying party (the console's BFF).
type Client struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	// RedirectURIs and PostLogoutRedirectURIs are matched exactly.
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`

	// IDTokenAudience, when set, replaces the aud of ID tokens issued to this
	// client (re-signed with the provider's key). Negative tests only: it
	// makes the "wrong audience" ID token a correct provider never issues.
	IDTokenAudience []string `json:"-"`
	// IDTokenLifetime defaults to 5 minutes.
	IDTokenLifetime time.Duration `json:"-"`
	// TokenAuthMethod is how this client must authenticate at the token
	// endpoint: "" (either) or "client_secret_basic" / "client_secret_post"
	// only. A strict provider (ORY Hydra, say) refuses the other method with
	// 401 invalid_client, and so does this one.
	TokenAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
}

// Fixture is the JSON file the command loads: {"users": [...], "clients": [...]}.
type Fixture struct {
	Users   []User   `json:"users"`
	Clients []Client `json:"clients"`
}

// LoadFixture reads a JSON fixture; unknown fields are refused so a typo
// (say "email_verfied") cannot silently change a test.
func LoadFixture(r io.Reader) (*Fixture, error) {
	var f Fixture
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("devidp fixture: %v", err)
	}
	return &f, nil
}

// Config configures Start.
type Config struct {
	// Addr is the listen address; it must be a loopback IP or "localhost"
	// with a port ("127.0.0.1:0" picks a free port). Default "127.0.0.1:0".
	Addr string
	// IssuerHost is the host name in the issuer URL (default "localhost").
	// With the console on 127.0.0.1 and the IdP on localhost the two are
	// cross-site, as in production, so SameSite mistakes show up in tests.
	IssuerHost string
	Users      []User
	Clients    []Client
	// IDTokenClaims puts email, profile and groups claims into the ID token.
	// When false they are only at userinfo, which tests the console's
	// userinfo fallback.
	IDTokenClaims bool
	// Logger receives one line per login attempt and errors; default discard.
	Logger *slog.Logger
	// TokenAuthMethods, when set, replaces token_endpoint_auth_methods_supported
	// in the discovery document (e.g. only "client_secret_post", as a
	// post-only provider advertises).
	TokenAuthMethods []string
}

// Server is a running provider.
type Server struct {
	issuer  string
	srv     *http.Server
	storage *storage
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
	token     *tokenAuth
}

// RejectedTokenCalls counts token requests refused because the client used
// an authentication method it is not registered for.
func (s *Server) RejectedTokenCalls() int { return int(s.token.rejected.Load()) }

// Start listens on cfg.Addr and serves the provider until ctx is done or Close
// is called. It refuses any non-loopback address.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.IssuerHost == "" {
		cfg.IssuerHost = "localhost"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkLoopback(cfg.Addr); err != nil {
		return nil, err
	}
	if !isLoopbackHost(cfg.IssuerHost) {
		return nil, fmt.Errorf("devidp: issuer host %q is not a loopback name", cfg.IssuerHost)
	}
	st, err := newStorage(cfg.Users, cfg.Clients, cfg.IDTokenClaims)
	if err != nil {
		return nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("devidp: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	issuer := fmt.Sprintf("http://%s:%d", cfg.IssuerHost, port)
	if strings.Contains(cfg.IssuerHost, ":") {
		issuer = fmt.Sprintf("http://[%s]:%d", cfg.IssuerHost, port)
	}
	tok := &tokenAuth{st: st}
	h, err := newHandler(issuer, st, cfg.Logger, tok, cfg.TokenAuthMethods)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{
		issuer:  issuer,
		storage: st,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
			ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		},
		done:  make(chan struct{}),
		stop:  make(chan struct{}),
		token: tok,
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("devidp serve", "err", err.Error())
		}
	}()
	go func() { // ends with ctx or Close, whichever comes first
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.stop:
		}
	}()
	return s, nil
}

// Issuer is the provider's issuer URL, e.g. "http://localhost:40123".
func (s *Server) Issuer() string { return s.issuer }

// Close stops the server and waits for it to finish.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = s.srv.Close()
		}
		<-s.done
	})
	return s.closeErr
}

// checkLoopback refuses anything but an explicit loopback host: an empty host
// (":9998") would listen on every interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("devidp: address %q: %v", addr, err)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("devidp: refusing to listen on %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", addr)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newHandler wires the op provider and the login form.
func newHandler(issuer string, st *storage, log *slog.Logger, tok *tokenAuth, methods []string) (http.Handler, error) {
	var key [32]byte
	rand.Read(key[:]) // a new access-token encryption key at every start
	keyID := rand.Text()
	config := &op.Config{
		CryptoKey:                key,
		CryptoKeyId:              keyID,
		DefaultLogoutRedirectURI: pathLoggedOut,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedUILocales:       []language.Tag{language.English},
	}
	provider, err := op.NewProvider(config, st, op.StaticIssuer(issuer),
		op.WithAllowInsecure(), // http:// issuer on loopback
		op.WithCrypto(op.NewAES256GCMCrypto(key, keyID)),
	)
	if err != nil {
		return nil, fmt.Errorf("devidp: %v", err)
	}
	mux := http.NewServeMux()
	l := &login{storage: st, callback: op.AuthCallbackURL(provider), log: log, formAction: formAction(st.clientList())}
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.Handle("GET "+pathLogin, http.HandlerFunc(l.form))
	mux.Handle("POST "+pathLogin, interceptor.HandlerFunc(l.submit))
	mux.HandleFunc("GET "+pathLoggedOut, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "signed out\n")
	})
	mux.Handle("/", provider)
	tok.next = audienceRewriter{st: st, next: provider}
	mux.Handle(provider.TokenEndpoint().Relative(), tok)
	if methods != nil {
		mux.Handle(oidc.DiscoveryEndpoint, discoveryRewriter{next: provider, methods: methods})
	}
	return mux, nil
}
