package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/auth/authtest"
	"github.com/timconsole/timconsole/server/bff"
)

// fakeOP is a scripted OpenID provider for ID-token unit tests: discovery,
// JWKS, a token endpoint that answers with whatever ID token the test signed,
// and userinfo. The security behaviour of a real provider is tested against
// devidp; this one lets tests forge exactly the bad token they need.
type fakeOP struct {
	t   *testing.T
	srv *httptest.Server

	mu              sync.Mutex
	published       []testKey // in the JWKS
	idToken         string    // next token response's id_token
	accessToken     string
	userinfo        map[string]any
	discoveryFails  int // answer 503 to this many discovery requests
	discoveryCalls  int
	jwksCalls       int
	tokenHang       chan struct{} // when set, the token endpoint waits for it
	tokenCalls      int
	withEndSession  bool
	issuerOverwrite string
}

type testKey struct {
	id  string
	key *rsa.PrivateKey
}

func newTestKey(t *testing.T, id string) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{id: id, key: k}
}

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	f := &fakeOP{t: t, accessToken: "at-" + rand.Text(), withEndSession: true}
	f.published = []testKey{newTestKey(t, "k1")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.discoveryCalls++
		fail := f.discoveryFails > 0
		if fail {
			f.discoveryFails--
		}
		iss := f.issuer()
		endSession := f.withEndSession
		f.mu.Unlock()
		if fail {
			http.Error(w, "starting up", http.StatusServiceUnavailable)
			return
		}
		doc := map[string]any{
			"issuer":                                iss,
			"authorization_endpoint":                f.srv.URL + "/authorize",
			"token_endpoint":                        f.srv.URL + "/token",
			"jwks_uri":                              f.srv.URL + "/keys",
			"userinfo_endpoint":                     f.srv.URL + "/userinfo",
			"id_token_signing_alg_values_supported": []string{"RS256", "HS256", "none"},
		}
		if endSession {
			doc["end_session_endpoint"] = f.srv.URL + "/end_session"
		}
		writeJSON(w, doc)
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.jwksCalls++
		var set jose.JSONWebKeySet
		for _, k := range f.published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.id, Algorithm: "RS256", Use: "sig"})
		}
		writeJSON(w, set)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.tokenCalls++
		hang := f.tokenHang
		idt, at := f.idToken, f.accessToken
		f.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		writeJSON(w, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 300, "id_token": idt})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		ui, at := f.userinfo, f.accessToken
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+at || ui == nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		writeJSON(w, ui)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.mu.Lock()
		if f.tokenHang != nil {
			close(f.tokenHang)
			f.tokenHang = nil
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

type callCounts struct{ discovery, jwks, token int }

func (f *fakeOP) calls() callCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return callCounts{f.discoveryCalls, f.jwksCalls, f.tokenCalls}
}

func (f *fakeOP) issuer() string {
	if f.issuerOverwrite != "" {
		return f.issuerOverwrite
	}
	return f.srv.URL
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// claims returns valid ID token claims for the login with nonce.
func (f *fakeOP) claims(now time.Time, nonce string) map[string]any {
	return map[string]any{
		"iss":            f.srv.URL,
		"sub":            "u-1",
		"aud":            "console",
		"exp":            now.Add(5 * time.Minute).Unix(),
		"iat":            now.Unix(),
		"nonce":          nonce,
		"email":          "ana@ops.example",
		"email_verified": true,
		"name":           "Ana",
		"groups":         []string{"ops-admins"},
		"at_hash":        atHash(f.accessToken),
	}
}

func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// sign makes a compact JWS of claims with key k and algorithm alg.
func sign(t *testing.T, k testKey, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	var key any = k.key
	if alg == jose.HS256 {
		key = []byte("console-secret-console-secret-32")
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.id)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsigned makes an alg=none token.
func unsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

func (f *fakeOP) setIDToken(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.idToken = tok
}

// unitEnv is a console whose provider is a fakeOP.
type unitEnv struct {
	op      *fakeOP
	console *httptest.Server
	auth    *auth.Auth
	clock   *authtest.Clock
	logs    *logBuffer
	reg     *auth.MemoryRegistry
}

func newUnitEnv(t *testing.T, configure func(*auth.Config)) *unitEnv {
	t.Helper()
	u := &unitEnv{op: newFakeOP(t), clock: authtest.NewClock(time.Now()), logs: &logBuffer{}}
	u.reg = auth.NewMemoryRegistry(u.clock.Now)
	var handler http.Handler = http.NotFoundHandler()
	u.console = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(u.console.Close)
	cfg := u.config()
	if configure != nil {
		configure(&cfg)
	}
	a, err := auth.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	u.auth = a
	handler = consoleHandler(a)
	return u
}

func (u *unitEnv) config() auth.Config {
	return auth.Config{
		Issuer:                u.op.srv.URL,
		ClientID:              "console",
		ClientSecret:          "console-secret",
		RedirectURL:           u.console.URL + auth.CallbackPath,
		PostLogoutRedirectURL: u.console.URL + "/",
		SessionKeys:           []auth.KeyPair{keyOld},
		Policy:                groupPolicy,
		Registry:              u.reg,
		Now:                   u.clock.Now,
		Logger:                slog.New(slog.NewJSONHandler(u.logs, nil)),
		StartupTimeout:        2 * time.Second,
		WriteError:            bff.ErrorWriter(nil),
	}
}

// start begins a login and returns state and nonce from the authorize URL.
func (u *unitEnv) start(t *testing.T, c *http.Client) (state, nonce string) {
	t.Helper()
	loc := location(t, get(t, c, u.console.URL+auth.LoginPath))
	q := loc.Query()
	return q.Get("state"), q.Get("nonce")
}

// callback GETs /auth/callback with a code, the state and extra parameters.
func (u *unitEnv) callback(t *testing.T, c *http.Client, state string, extra url.Values) *http.Response {
	t.Helper()
	q := url.Values{"code": {"code-1"}, "state": {state}}
	for k, v := range extra {
		q[k] = v
	}
	return get(t, c, u.console.URL+auth.CallbackPath+"?"+q.Encode())
}
