package timemu_test

import (
	"github.com/timconsole/timconsole/server/internal/testenv"

	"bytes"
	"compress/zlib"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/timemu"
)

const (
	testApp   = 1400000000
	testKey   = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
	testAdmin = "administrator"
	testGroup = "@TGS#2TTV7VSII"
)

// clock is an injectable clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sigFields are the JSON fields of a hand-built UserSig, in the v1.4 layout
// order. Raw values let tests write malformed documents.
type sigFields struct {
	Identifier  string
	SDKAppID    string // JSON text, e.g. "1400000000" or `"1400000000"`
	Time        int64
	Expire      int64
	Key         string // signs with this key
	UserBuf     string // JSON text of TLS.userbuf; "" = none
	SigOverride string // standard base64 to put in TLS.sig instead of the HMAC
}

// signAt builds a UserSig in the vendor v1.4 layout (struct order, trailing
// newline, zlib stored blocks) for a chosen time, which the vendor library
// cannot do.
func signAt(t testing.TB, appID uint64, key, identifier string, at time.Time, expire int64) string {
	t.Helper()
	return buildSig(t, sigFields{Identifier: identifier, SDKAppID: fmt.Sprint(appID), Time: at.Unix(), Expire: expire, Key: key})
}

// sigOf is the TLS.sig value: standard base64 of the HMAC-SHA256 over the
// string to sign.
func sigOf(key, identifier string, appID uint64, tm, expire int64) string {
	return sigOfRaw(key, identifier, fmt.Sprint(appID), tm, expire)
}

func sigOfRaw(key, identifier, appID string, tm, expire int64) string {
	mac := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(mac, "TLS.identifier:%s\nTLS.sdkappid:%s\nTLS.time:%d\nTLS.expire:%d\n", identifier, appID, tm, expire)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func buildSig(t testing.TB, f sigFields) string {
	t.Helper()
	sig := sigOfRaw(f.Key, f.Identifier, strings.Trim(f.SDKAppID, `"`), f.Time, f.Expire)
	if f.SigOverride != "" {
		sig = f.SigOverride
	}
	id, _ := json.Marshal(f.Identifier)
	doc := fmt.Sprintf(`{"TLS.ver":"2.0","TLS.identifier":%s,"TLS.sdkappid":%s,"TLS.expire":%d,"TLS.time":%d,`, id, f.SDKAppID, f.Expire, f.Time)
	if f.UserBuf != "" {
		doc += `"TLS.userbuf":` + f.UserBuf + ","
	}
	doc += `"TLS.sig":"` + sig + "\"}\n"
	return encodeSig(t, []byte(doc), zlib.NoCompression)
}

// encodeSig compresses and encodes any payload the way UserSigs are encoded.
func encodeSig(t testing.TB, payload []byte, level int) string {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(payload)
	w.Close()
	return urlSafe(base64.StdEncoding.EncodeToString(b.Bytes()))
}

func urlSafe(s string) string { return strings.NewReplacer("+", "*", "/", "-", "=", "_").Replace(s) }

// env is one emulator behind a real loopback HTTP server.
type env struct {
	emu   *timemu.Emulator
	srv   *httptest.Server
	clock *clock
}

// newEnv starts an emulator with cfg (its clock replaced by a test clock)
// and the small fixture loaded.
func newEnv(t testing.TB, cfg timemu.Config) *env {
	t.Helper()
	c := newClock()
	cfg.Now = c.Now
	emu := timemu.New(cfg)
	f, err := os.Open("testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fx, err := timemu.LoadFixture(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Load(fx); err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, srv: newServer(t, emu), clock: c}
}

// newServer serves emu on loopback until the test ends.
func newServer(t testing.TB, emu *timemu.Emulator) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close) // runs first: releases hung requests before srv.Close waits for them
	return srv
}

func jsonValid(b []byte) bool { return json.Valid(b) }

// query returns a valid query for the admin, signed at the env's clock.
func (e *env) query(t testing.TB) url.Values {
	t.Helper()
	return url.Values{
		"sdkappid":    {fmt.Sprint(testApp)},
		"identifier":  {testAdmin},
		"usersig":     {signAt(t, testApp, testKey, testAdmin, e.clock.Now(), 86400)},
		"random":      {"99999999"},
		"contenttype": {"json"},
	}
}

// result is a decoded answer plus the raw body.
type result struct {
	Status int
	Code   int
	Body   map[string]any
	Raw    string
}

// post sends body to command with q over HTTP.
func (e *env) post(t testing.TB, command string, q url.Values, body string) result {
	t.Helper()
	service := "group_open_http_svc"
	if command == timemu.CmdPortraitGet {
		service = "profile"
	}
	return e.do(t, http.MethodPost, "/v4/"+service+"/"+command, q.Encode(), body)
}

// call is post with a valid admin query.
func (e *env) call(t testing.TB, command, body string) result {
	t.Helper()
	return e.post(t, command, e.query(t), body)
}

func (e *env) do(t testing.TB, method, path, rawQuery, body string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path+"?"+rawQuery, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := result{Status: resp.StatusCode, Raw: string(raw)}
	if resp.StatusCode != http.StatusOK {
		return r
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r.Body); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v: %q", method, path, err, raw)
	}
	code, err := r.Body["ErrorCode"].(json.Number).Int64()
	if err != nil {
		t.Fatalf("%s %s: ErrorCode: %v", method, path, err)
	}
	r.Code = int(code)
	status, want := r.Body["ActionStatus"], "OK"
	if code != 0 {
		want = "FAIL"
	}
	if status != want {
		t.Errorf("%s %s: ActionStatus = %v with ErrorCode %d, want %s", method, path, status, code, want)
	}
	return r
}

// mustOK fails the test unless r is a success.
func mustOK(t testing.TB, what string, r result) {
	t.Helper()
	if r.Status != http.StatusOK || r.Code != 0 {
		t.Fatalf("%s: status %d, code %d: %s", what, r.Status, r.Code, r.Raw)
	}
}

// seqList renders a MsgSeqList body fragment.
func seqList(seqs ...uint32) string {
	items := make([]string, len(seqs))
	for i, s := range seqs {
		items[i] = fmt.Sprintf(`{"MsgSeq":%d}`, s)
	}
	return "[" + strings.Join(items, ",") + "]"
}

// vector is one shared UserSig test vector (testenv holds the one copy).
type vector = testenv.Vector

func loadVectors(t testing.TB) []vector { return testenv.Vectors(t) }
