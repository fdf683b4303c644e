package bff_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/bff"
	"github.com/timconsole/timconsole/server/devidp"
	"github.com/timconsole/timconsole/server/directory"
	"github.com/timconsole/timconsole/server/internal/testenv"
	"github.com/timconsole/timconsole/server/profiles"
	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

// The test apps: alpha holds the generated demo data set and is open to
// every operator; beta holds testdata/fixture.json and is restricted to
// ops-admins.
const (
	alphaSDKAppID = 1400000001
	betaSDKAppID  = 1400000002
	admin         = "administrator"
	// Groups of the generated data set (timemu.DemoGroups).
	warRoom  = "@TGS#2OPSWAR01" // 18 members, 1,500 messages
	allHands = "@TGS#2ALLHANDS" // 200 members
	opsTeam  = "@TGS#2OPSTEAM"  // beta's only group
)

var (
	alice = auth.Operator{Subject: "u-alice", Email: "alice@ops.example", Name: "Alice Admin", Groups: []string{devidp.GroupOpsAdmins}}
	bob   = auth.Operator{Subject: "u-bob", Email: "bob@ops.example", Name: "Bob Reader", Groups: []string{devidp.GroupOpsReadonly}}
)

// envOptions tunes one test environment.
type envOptions struct {
	emu    timemu.Config
	limits bff.Limits
	webDir string
	demo   bool
	// tim adjusts both apps' client configuration.
	tim func(*tim.Config)
	// registry replaces the in-memory session registry; checks are extra
	// readiness checks.
	registry auth.Registry
	checks   []bff.ReadyCheck
}

// testEnv is a BFF on a real loopback server in front of the emulator
// (through the real tim client) and the development IdP (for discovery;
// sessions are minted).
type testEnv struct {
	t       testing.TB
	URL     string
	emu     *testenv.Emulator
	auth    *auth.Auth
	idp     *devidp.Server
	alpha   *tim.Client
	metrics *bff.Metrics
	logs    *syncBuffer

	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

// newEnv starts everything and registers the clean-up.
func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	emu := testenv.StartEmulator(t, o.emu)
	emu.AddApp(alphaSDKAppID, "alpha-secret-key", admin)
	emu.AddApp(betaSDKAppID, "beta-secret-key", admin)
	if err := emu.Load(timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: alphaSDKAppID})); err != nil {
		t.Fatalf("load generated data: %v", err)
	}
	f, err := os.Open("testdata/fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	fx, err := timemu.LoadFixture(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Load(fx); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	idp := testenv.StartIdP(t, "http://127.0.0.1:1") // discovery only: sessions are minted
	client := idp.Client

	a, err := auth.New(ctx, auth.Config{
		Issuer:       idp.Issuer(),
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  "http://127.0.0.1:1/auth/callback",
		SessionKeys:  []auth.KeyPair{{Hash: randomBytes(64), Block: randomBytes(32)}},
		Policy: auth.Policy{
			Groups:     devidp.DemoAllowedGroups,
			KeepGroups: []string{devidp.GroupOpsAdmins},
		},
		Registry:   o.registry,
		Logger:     logger,
		WriteError: bff.ErrorWriter(logger),
	})
	if err != nil {
		t.Fatalf("auth: %v", err)
	}

	metrics := bff.NewMetrics()
	newClient := func(id string, sdkAppID uint64, key string) *tim.Client {
		cfg := tim.Config{
			SDKAppID:     sdkAppID,
			Key:          key,
			Identifier:   admin,
			BaseURL:      emu.URL,
			CallTimeout:  500 * time.Millisecond,
			MaxAttempts:  3,
			MaxRetryTime: 10 * time.Second,
			RetryBackoff: 5 * time.Millisecond,
			Hooks:        metrics.TimHooks(id),
		}
		if o.tim != nil {
			o.tim(&cfg)
		}
		c, err := tim.New(cfg)
		if err != nil {
			t.Fatalf("tim client %s: %v", id, err)
		}
		return c
	}
	alpha := newClient("alpha", alphaSDKAppID, "alpha-secret-key")
	alphaDir := directory.New(alpha, directory.Config{Refresh: -1})
	t.Cleanup(alphaDir.Close)
	srv := httptest.NewServer(bff.NewServer(bff.Deps{
		Logger: logger,
		Auth:   a,
		Apps: []bff.App{
			{ID: "alpha", Name: "Alpha", Region: "custom", Client: alpha, Directory: alphaDir, Profiles: profiles.New(alpha, 0, nil), Preview: bff.PreviewText},
			{ID: "beta", Name: "Beta", Region: "custom", Client: newClient("beta", betaSDKAppID, "beta-secret-key"), AllowedGroups: []string{devidp.GroupOpsAdmins}},
		},
		AppHandler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><title>go-app stand-in</title>")
		}),
		WebDir:    o.webDir,
		IdPOrigin: idp.Issuer(),
		Metrics:   metrics,
		Demo:      o.demo,
		Limits:    o.limits,
		Checks:    o.checks,
	}))
	t.Cleanup(srv.Close)
	return &testEnv{t: t, URL: srv.URL, emu: emu, auth: a, idp: idp.Server, alpha: alpha, metrics: metrics, logs: logs, cookies: map[string]*http.Cookie{}}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// cookie mints (once per operator) a real session cookie.
func (e *testEnv) cookie(op auth.Operator) *http.Cookie {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.cookies[op.Subject]; ok {
		return c
	}
	c, err := e.auth.MintSession(context.Background(), op)
	if err != nil {
		e.t.Fatalf("mint session: %v", err)
	}
	e.cookies[op.Subject] = c
	return c
}

// request sends one request as op (no session when op.Subject is empty).
// body is JSON-encoded unless it is a string or nil; headers are name,
// value pairs.
func (e *testEnv) request(op auth.Operator, method, path string, body any, headers ...string) *http.Response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if op.Subject != "" {
		req.AddCookie(e.cookie(op))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// receipts posts a query and decodes the JSON answer (or error).
func (e *testEnv) receipts(op auth.Operator, req api.ReceiptsRequest) (int, *api.ReceiptsResponse, *api.Error) {
	e.t.Helper()
	resp := e.request(op, http.MethodPost, api.PathReceipts, req)
	return decodeAnswer[api.ReceiptsResponse](e.t, resp)
}

// decodeAnswer reads a 200 answer into T, anything else into *api.Error.
func decodeAnswer[T any](t testing.TB, resp *http.Response) (int, *T, *api.Error) {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e api.Error
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("status %d, body not an api.Error: %v\n%s", resp.StatusCode, err, b)
		}
		return resp.StatusCode, nil, &e
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, b)
	}
	return resp.StatusCode, &v, nil
}

// truth computes the expected receipts from the emulator's ground truth.
func (e *testEnv) truth(sdkAppID uint64, groupID string, seqs []uint32) []api.Receipt {
	e.t.Helper()
	out := make([]api.Receipt, len(seqs))
	for i, s := range seqs {
		read, unread, ok := e.emu.Receipt(sdkAppID, groupID, s)
		if !ok {
			out[i] = api.Receipt{Seq: s, Code: 10062, CodeText: bff.Explain(10062)}
			continue
		}
		out[i] = api.Receipt{Seq: s, Read: len(read), Unread: len(unread)}
	}
	return out
}

// auditRecords returns the audit log records written so far.
func (e *testEnv) auditRecords() []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			e.t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "audit" {
			out = append(out, rec)
		}
	}
	return out
}

func seqRange(lo, hi uint32) []uint32 {
	var out []uint32
	for s := lo; s <= hi; s++ {
		out = append(out, s)
	}
	return out
}

// syncBuffer is the harness's log sink.
type syncBuffer = testenv.SyncBuffer

// timConfig names tim.Config in option functions.
type timConfig = tim.Config

func limits(maxBody int64) bff.Limits { return bff.Limits{MaxBodyBytes: maxBody} }

func limitsPulls(n int) bff.Limits { return bff.Limits{MaxPullsPerOperator: n} }
