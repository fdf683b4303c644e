package tim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
	"github.com/timconsole/timconsole/server/tim"
)

func TestRegions(t *testing.T) {
	tests := []struct {
		region       tim.Region
		main, backup string
		name         string
	}{
		{"china", "console.tim.qq.com", "adminapi.my-imcloud.com", "China"},
		{"singapore", "adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com", "Singapore"},
		{"seoul", "adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com", "Seoul"},
		{"tokyo", "adminapijpn.im.qcloud.com", "adminapijpn.my-imcloud.com", "Tokyo"},
		{"frankfurt", "adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com", "Frankfurt"},
		{"mumbai", "adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com", "Mumbai"},
		{"siliconvalley", "adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com", "Silicon Valley"},
		{"jakarta", "adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com", "Jakarta"},
	}
	var want []tim.Region
	for _, tt := range tests {
		want = append(want, tt.region)
		main, backup, ok := tt.region.Domains()
		if !ok || main != tt.main || backup != tt.backup {
			t.Errorf("%s.Domains() = %q, %q, %v, want %q, %q, true", tt.region, main, backup, ok, tt.main, tt.backup)
		}
		if got := tt.region.DisplayName(); got != tt.name {
			t.Errorf("%s.DisplayName() = %q, want %q", tt.region, got, tt.name)
		}
		if _, err := tim.New(tim.Config{SDKAppID: testApp, Key: testKey, Identifier: testAdmin, Region: tt.region}); err != nil {
			t.Errorf("New(Region %s) = %v", tt.region, err)
		}
	}
	if diff := cmp.Diff(want, tim.Regions()); diff != "" {
		t.Errorf("Regions() mismatch (-want +got):\n%s", diff)
	}
	if _, _, ok := tim.Region("atlantis").Domains(); ok {
		t.Error(`Region("atlantis").Domains() ok = true, want false`)
	}
	if got, want := tim.Region("atlantis").DisplayName(), "atlantis"; got != want {
		t.Errorf("DisplayName() = %q, want %q", got, want)
	}
}

func TestNewValidation(t *testing.T) {
	good := tim.Config{SDKAppID: testApp, Key: testKey, Identifier: testAdmin, Region: tim.Singapore}
	tests := []struct {
		name string
		mod  func(*tim.Config)
		want []string // substrings of the error
	}{
		{"everything missing", func(c *tim.Config) { *c = tim.Config{} }, []string{"SDKAppID", "Key", "Identifier", "Region"}},
		{"unknown region", func(c *tim.Config) { c.Region = "mars" }, []string{`unknown Region "mars"`}},
		{"relative base URL", func(c *tim.Config) { c.BaseURL = "/v4" }, []string{"absolute http(s) URL"}},
		{"base URL with query", func(c *tim.Config) { c.BaseURL = "http://127.0.0.1:1/?a=b" }, []string{"must not carry a query"}},
		{"backup without base", func(c *tim.Config) { c.BackupURL = "http://127.0.0.1:1" }, []string{"BackupURL needs BaseURL"}},
		{"negative batch", func(c *tim.Config) { c.BatchSize = -1 }, []string{"BatchSize"}},
		{"short sig lifetime", func(c *tim.Config) { c.SigLifetime = time.Millisecond }, []string{"SigLifetime"}},
		{"headroom of 1", func(c *tim.Config) { c.RateHeadroom = 1 }, []string{"RateHeadroom"}},
		{"64-bit app ID", func(c *tim.Config) { c.SDKAppID = 1 << 40 }, []string{"SDKAppID"}},
	}
	for _, tt := range tests {
		cfg := good
		tt.mod(&cfg)
		_, err := tim.New(cfg)
		if err == nil {
			t.Errorf("%s: New = nil error, want one", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: New = %q, want it to mention %q", tt.name, err, w)
			}
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("%s: New error contains the key", tt.name)
		}
	}
	c, err := tim.New(good)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.MaxSeqs(), 10000; got != want {
		t.Errorf("MaxSeqs() = %d, want %d", got, want)
	}
	if got, want := c.SDKAppID(), uint64(testApp); got != want {
		t.Errorf("SDKAppID() = %d, want %d", got, want)
	}
}

// TestRequestBuilding checks the wire format of every command: POST to
// /v4/group_open_http_svc/<command>, exactly the documented query
// parameters, a UserSig the vendor's verifier accepts, and a JSON body.
func TestRequestBuilding(t *testing.T) {
	f := mustFakeTIM(t, func(n int, r request) answer {
		if r.Command == tim.CmdGroupMsgReceipt {
			return ok(receiptsAnswer(t, r))
		}
		return ok(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgSeq":7,"IsFinished":1}`)
	})
	c := mustClient(t, f.URL, nil)
	ctx := context.Background()
	if _, err := c.GroupMsgReceipts(ctx, "@TGS#1", []uint32{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GroupMsgReceiptMembers(ctx, "@TGS#1", 3, tim.FilterUnread, "", 500); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkGroupMsgRead(ctx, "@TGS#1", "user 1", []uint32{4}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendGroupMsg(ctx, "@TGS#1", "user1", "hello", true); err != nil {
		t.Fatal(err)
	}

	wantBodies := []string{
		`{"GroupId":"@TGS#1","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}]}`,
		`{"GroupId":"@TGS#1","MsgSeq":3,"Filter":1,"Cursor":"","Count":200}`,
		`{"GroupId":"@TGS#1","From_Account":"user 1","MsgSeqList":[{"MsgSeq":4}]}`,
		`{"GroupId":"@TGS#1","From_Account":"user1","Random":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}],"NeedReadReceipt":1}`,
	}
	wantCommands := []string{"get_group_msg_receipt", "get_group_msg_receipt_detail", "group_msg_receipt", "send_group_msg"}
	wantIDs := []string{testAdmin, testAdmin, testAdmin, testAdmin}
	reqs := f.Requests()
	if len(reqs) != len(wantBodies) {
		t.Fatalf("%d requests, want %d", len(reqs), len(wantBodies))
	}
	for i, r := range reqs {
		if r.Method != http.MethodPost {
			t.Errorf("request %d: method %s, want POST", i, r.Method)
		}
		if want := "/v4/group_open_http_svc/" + wantCommands[i]; r.Path != want {
			t.Errorf("request %d: path %q, want %q", i, r.Path, want)
		}
		var keys []string
		for k, v := range r.Query {
			keys = append(keys, k)
			if len(v) != 1 {
				t.Errorf("request %d: query %s given %d times", i, k, len(v))
			}
		}
		slices.Sort(keys)
		if diff := cmp.Diff([]string{"contenttype", "identifier", "random", "sdkappid", "usersig"}, keys); diff != "" {
			t.Errorf("request %d: query keys (-want +got):\n%s", i, diff)
		}
		if got, want := r.Query.Get("sdkappid"), fmt.Sprint(testApp); got != want {
			t.Errorf("request %d: sdkappid=%q, want %q", i, got, want)
		}
		if got := r.Query.Get("identifier"); got != wantIDs[i] {
			t.Errorf("request %d: identifier=%q, want %q", i, got, wantIDs[i])
		}
		if got, want := r.Query.Get("contenttype"), "json"; got != want {
			t.Errorf("request %d: contenttype=%q, want %q", i, got, want)
		}
		if !strings.HasPrefix(r.RawQuery, "sdkappid=") {
			t.Errorf("request %d: query %q does not start with sdkappid", i, r.RawQuery)
		}
		var rnd uint32
		if _, err := fmt.Sscan(r.Query.Get("random"), &rnd); err != nil {
			t.Errorf("request %d: random=%q is not a uint32", i, r.Query.Get("random"))
		}
		if err := tencentyun.VerifyUserSig(testApp, testKey, testAdmin, r.Query.Get("usersig"), time.Now()); err != nil {
			t.Errorf("request %d: usersig does not verify: %v", i, err)
		}
		if r.ContentType != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, r.ContentType)
		}
		body := string(r.Body)
		if i == 3 {
			// Random is a fresh nonce; compare the rest.
			var m map[string]any
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			m["Random"] = 0
			b, _ := json.Marshal(m)
			body, wantBodies[i] = string(b), canonical(t, wantBodies[i])
		}
		if body != wantBodies[i] {
			t.Errorf("request %d: body\n %s\nwant\n %s", i, body, wantBodies[i])
		}
	}
}

func canonical(t *testing.T, s string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// TestRandomParam checks that every request carries a fresh random over the
// whole uint32 range, not a counter or a 31-bit value.
func TestRandomParam(t *testing.T) {
	f := mustFakeTIM(t, func(n int, r request) answer { return ok(receiptsAnswer(t, r)) })
	c := mustClient(t, f.URL, nil)
	const n = 200
	for range n {
		if _, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	high := 0
	for _, r := range f.Requests() {
		v := r.Query.Get("random")
		seen[v] = true
		var u uint64
		fmt.Sscan(v, &u)
		if u > 1<<32-1 {
			t.Errorf("random=%s is over 32 bits", v)
		}
		if u >= 1<<31 {
			high++
		}
	}
	if len(seen) < n-1 {
		t.Errorf("%d distinct random values in %d calls", len(seen), n)
	}
	if high < n/5 || high > n*4/5 {
		t.Errorf("%d of %d random values ≥ 2^31, want about half", high, n)
	}
}

func TestGroupMsgReceiptsDecode(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     []tim.Receipt
		wantCode int // of the *tim.Error; 0 and wantErr false: success
		wantErr  bool
	}{
		{
			name: "OK with per-item codes and unknown fields",
			body: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ErrorDisplay":"","RequestId":"Id-9",
				"GroupMsgReceiptList":[{"Code":0,"MsgSeq":1,"ReadNum":1,"UnreadNum":6,"Extra":true},
				{"Code":10062,"MsgSeq":2},{"Code":10062,"MsgSeq":3,"ReadNum":0,"UnreadNum":0}]}`,
			want: []tim.Receipt{{Seq: 1, Read: 1, Unread: 6}, {Seq: 2, Code: 10062}, {Seq: 3, Code: 10062}},
		},
		{
			name: "items out of order and one missing",
			body: `{"ActionStatus":"OK","ErrorCode":0,"GroupMsgReceiptList":[{"MsgSeq":3,"ReadNum":2,"UnreadNum":1},{"MsgSeq":1,"ReadNum":5,"UnreadNum":0}]}`,
			want: []tim.Receipt{{Seq: 1, Read: 5}, {Seq: 2, Code: tim.CodeMissing}, {Seq: 3, Read: 2, Unread: 1}},
		},
		{name: "FAIL with code", body: `{"ActionStatus":"FAIL","ErrorCode":10010,"ErrorInfo":"group not found"}`, wantCode: 10010, wantErr: true},
		{name: "OK status but code", body: `{"ActionStatus":"OK","ErrorCode":10004,"ErrorInfo":"bad"}`, wantCode: 10004, wantErr: true},
		{name: "FAIL without code", body: `{"ActionStatus":"FAIL","ErrorCode":0,"ErrorInfo":"odd"}`, wantErr: true},
		{name: "no envelope", body: `{"GroupMsgReceiptList":[]}`, wantErr: true},
		{name: "not JSON", body: `<html>gateway</html>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustFakeTIM(t, func(int, request) answer { return ok(tt.body) })
			c := mustClient(t, f.URL, func(c *tim.Config) { c.MaxAttempts = 1 })
			got, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1, 2, 3})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("GroupMsgReceipts = %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("GroupMsgReceipts mismatch (-want +got):\n%s", diff)
				}
				return
			}
			var te *tim.Error
			if !errors.As(err, &te) {
				t.Fatalf("GroupMsgReceipts error = %v, want a *tim.Error", err)
			}
			if te.Code != tt.wantCode || te.Command != tim.CmdGroupMsgReceipt {
				t.Errorf("error = %+v, want code %d from %s", te, tt.wantCode, tim.CmdGroupMsgReceipt)
			}
		})
	}
}

// TestRetries runs scripted answer sequences and checks how many attempts
// the client makes and what it returns.
func TestRetries(t *testing.T) {
	good := `{"ActionStatus":"OK","ErrorCode":0,"GroupMsgReceiptList":[{"MsgSeq":1,"ReadNum":1,"UnreadNum":1}]}`
	code := func(c int) answer {
		return ok(fmt.Sprintf(`{"ActionStatus":"FAIL","ErrorCode":%d,"ErrorInfo":"e"}`, c))
	}
	tests := []struct {
		name         string
		script       []answer // then good
		wantAttempts int
		wantCode     int
		wantStatus   int
		wantErr      bool
	}{
		{"success", nil, 1, 0, 0, false},
		{"10002 twice then OK", []answer{code(10002), code(10002)}, 3, 0, 0, false},
		{"70169 then OK", []answer{code(70169)}, 2, 0, 0, false},
		{"70500 then OK", []answer{code(70500)}, 2, 0, 0, false},
		{"60007 then OK", []answer{code(60007)}, 2, 0, 0, false},
		{"60011 then OK", []answer{code(60011)}, 2, 0, 0, false},
		{"60018 then OK", []answer{code(60018)}, 2, 0, 0, false},
		{"60019 then OK", []answer{code(60019)}, 2, 0, 0, false},
		{"10006 then OK", []answer{code(10006)}, 2, 0, 0, false},
		{"502 then OK", []answer{{Status: 502, Body: "bad gateway"}}, 2, 0, 0, false},
		{"500 then OK", []answer{{Status: 500}}, 2, 0, 0, false},
		{"malformed then OK", []answer{ok(`{"ActionStatus":`)}, 2, 0, 0, false},
		{"10004 is final", []answer{code(10004)}, 1, 10004, 0, true},
		{"10010 is final", []answer{code(10010)}, 1, 10010, 0, true},
		{"70009 is final", []answer{code(70009)}, 1, 70009, 0, true},
		{"404 is final", []answer{{Status: 404}}, 1, 0, 404, true},
		{"10002 until attempts run out", []answer{code(10002), code(10002), code(10002), code(10002), code(10002)}, 4, 10002, 0, true},
		{"502 until attempts run out", []answer{{Status: 502}, {Status: 502}, {Status: 502}, {Status: 502}}, 4, 0, 502, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustFakeTIM(t, func(n int, r request) answer {
				if n < len(tt.script) {
					return tt.script[n]
				}
				return ok(good)
			})
			var calls []int
			var mu sync.Mutex
			c := mustClient(t, f.URL, func(c *tim.Config) {
				c.Hooks.OnCall = func(cmd string, code int, d time.Duration) {
					mu.Lock()
					calls = append(calls, code)
					mu.Unlock()
				}
			})
			_, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1})
			if got := len(f.Requests()); got != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", got, tt.wantAttempts)
			}
			if got := len(calls); got != tt.wantAttempts {
				t.Errorf("OnCall called %d times, want %d", got, tt.wantAttempts)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("GroupMsgReceipts = %v, want success", err)
				}
				return
			}
			var te *tim.Error
			if !errors.As(err, &te) {
				t.Fatalf("GroupMsgReceipts = %v, want a *tim.Error", err)
			}
			if te.Code != tt.wantCode || te.HTTPStatus != tt.wantStatus {
				t.Errorf("error = %v, want code %d, HTTP status %d", err, tt.wantCode, tt.wantStatus)
			}
		})
	}
}

// TestRetryTimeBudget checks MaxRetryTime stops retries even when attempts
// remain.
func TestRetryTimeBudget(t *testing.T) {
	f := mustFakeTIM(t, func(int, request) answer {
		return ok(`{"ActionStatus":"FAIL","ErrorCode":60007,"ErrorInfo":"slow down"}`)
	})
	c := mustClient(t, f.URL, func(c *tim.Config) {
		c.MaxAttempts = 100
		c.RetryBackoff = 20 * time.Millisecond // rate limit: 50-100 ms, then doubling
		c.MaxRetryTime = time.Second
	})
	_, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1})
	var te *tim.Error
	if !errors.As(err, &te) || te.Code != 60007 {
		t.Fatalf("GroupMsgReceipts = %v, want code 60007", err)
	}
	// The backoffs add up to at least 750 ms after 4 retries and 1,550 ms
	// after 5, so a 1 s budget allows at most 5 of the 100 attempts.
	if n := len(f.Requests()); n < 2 || n > 5 {
		t.Errorf("%d attempts within a 1 s budget, want 2..5", n)
	}
}

// TestResign checks that an expired or invalidated UserSig is replaced once:
// a new sig is minted and the call repeated, but a second rejection is final.
func TestResign(t *testing.T) {
	for _, code := range []int{70001, 70052} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			reject := 1
			f := mustFakeTIM(t, func(n int, r request) answer {
				if n < reject {
					return ok(fmt.Sprintf(`{"ActionStatus":"FAIL","ErrorCode":%d,"ErrorInfo":"sig"}`, code))
				}
				return ok(receiptsAnswer(t, r))
			})
			c := mustClient(t, f.URL, nil)
			signs := tim.CountSigns(c)
			if _, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1}); err != nil {
				t.Fatalf("GroupMsgReceipts = %v, want success after re-signing", err)
			}
			if got, want := signs(), 2; got != want {
				t.Errorf("%d sigs minted, want %d", got, want)
			}
			if got, want := len(f.Requests()), 2; got != want {
				t.Errorf("%d attempts, want %d", got, want)
			}

			reject = 100
			_, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1})
			var te *tim.Error
			if !errors.As(err, &te) || te.Code != code {
				t.Fatalf("GroupMsgReceipts = %v, want code %d", err, code)
			}
			if got, want := len(f.Requests()), 4; got != want {
				t.Errorf("%d attempts in total, want %d (one re-sign per call)", got, want)
			}
		})
	}
}

// TestHangTimesOutAndRetries checks the per-attempt timeout: a hung answer
// is abandoned after CallTimeout and the call is retried.
func TestHangTimesOutAndRetries(t *testing.T) {
	f := mustFakeTIM(t, func(n int, r request) answer {
		if n == 0 {
			return answer{Hang: true}
		}
		return ok(receiptsAnswer(t, r))
	})
	c := mustClient(t, f.URL, func(c *tim.Config) { c.CallTimeout = 300 * time.Millisecond })
	got, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1})
	if err != nil {
		t.Fatalf("GroupMsgReceipts = %v", err)
	}
	if diff := cmp.Diff([]tim.Receipt{wantReceipt(1)}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if n := len(f.Requests()); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

// closedURL returns the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestFailover checks that a network failure of the main domain sends the
// call, and the following ones, to the backup domain.
func TestFailover(t *testing.T) {
	f := mustFakeTIM(t, func(n int, r request) answer { return ok(receiptsAnswer(t, r)) })
	var codes []int
	c := mustClient(t, closedURL(t), func(c *tim.Config) {
		c.BackupURL = f.URL
		c.MaxAttempts = 2
		c.Hooks.OnCall = func(_ string, code int, _ time.Duration) { codes = append(codes, code) }
	})
	for i := range 3 {
		if _, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1}); err != nil {
			t.Fatalf("call %d: GroupMsgReceipts = %v", i, err)
		}
	}
	if diff := cmp.Diff([]int{-1, 0, 0, 0}, codes); diff != "" {
		t.Errorf("attempt codes (-want +got):\n%s", diff)
	}
	if got, want := len(f.Requests()), 3; got != want {
		t.Errorf("backup saw %d calls, want %d", got, want)
	}
}

// TestNoUserSigInErrors provokes every kind of failure, including a server
// that echoes the URL, and checks no error text carries the UserSig.
func TestNoUserSigInErrors(t *testing.T) {
	echo := func(n int, r request) answer {
		return ok(fmt.Sprintf(`{"ActionStatus":"FAIL","ErrorCode":70003,"ErrorInfo":"bad sig in %s?%s sig=%s"}`,
			r.Path, r.RawQuery, r.Query.Get("usersig")))
	}
	kinds := []struct {
		name    string
		base    func(t *testing.T) string
		timeout time.Duration
	}{
		{"connection refused", closedURL, 0},
		{"timeout", func(t *testing.T) string {
			return mustFakeTIM(t, func(int, request) answer { return answer{Hang: true} }).URL
		}, 50 * time.Millisecond},
		{"HTTP 502", func(t *testing.T) string {
			return mustFakeTIM(t, func(int, request) answer { return answer{Status: 502, Body: "usersig=leak"} }).URL
		}, 0},
		{"malformed", func(t *testing.T) string {
			return mustFakeTIM(t, func(int, request) answer { return ok("usersig=leak") }).URL
		}, 0},
		{"error echoing the URL", func(t *testing.T) string { return mustFakeTIM(t, echo).URL }, 0},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			var rec *sigRecorder
			c := mustClient(t, k.base(t), func(c *tim.Config) {
				c.MaxAttempts = 2
				rec = recordSigs(c)
				if k.timeout > 0 {
					c.CallTimeout = k.timeout
				}
			})
			_, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1})
			if err == nil {
				t.Fatal("GroupMsgReceipts = nil error, want a failure")
			}
			msgs := []string{err.Error()}
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				msgs = append(msgs, e.Error())
			}
			var te *tim.Error
			if errors.As(err, &te) {
				msgs = append(msgs, te.Info, te.Error(), fmt.Sprintf("%+v", *te))
			}
			sigs := rec.all()
			if len(sigs) == 0 {
				t.Fatal("no sig minted")
			}
			for _, m := range msgs {
				if strings.Contains(strings.ToLower(m), "usersig=") {
					t.Errorf("error text %q contains usersig=", m)
				}
				for _, s := range sigs {
					if strings.Contains(m, s) {
						t.Errorf("error text %q contains the UserSig", m)
					}
				}
				if strings.Contains(m, testKey) {
					t.Errorf("error text %q contains the key", m)
				}
			}
		})
	}
}

// TestLimiterDeadline checks that a call whose limiter wait would outlast
// the caller's deadline fails at once, without retries, and that waits are
// reported.
func TestLimiterDeadline(t *testing.T) {
	f := mustFakeTIM(t, func(n int, r request) answer { return ok(receiptsAnswer(t, r)) })
	var waits atomic.Int32
	c := mustClient(t, f.URL, func(c *tim.Config) {
		c.RateLimit = 0.5 // one call per 2 s
		c.Hooks.OnLimiterWait = func(time.Duration) { waits.Add(1) }
	})
	if _, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GroupMsgReceipts(ctx, "g", []uint32{1})
	var te *tim.Error
	if !errors.As(err, &te) || te.Transient() {
		t.Fatalf("GroupMsgReceipts = %v, want a non-transient *tim.Error", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
	if n := waits.Load(); n != 1 {
		t.Errorf("OnLimiterWait called %d times, want 1", n)
	}
}

// TestRegionEndpoints sends calls for a Region through a dialer that maps
// every host to a loopback TLS server: the main domain is used over HTTPS,
// and a network failure of the main domain moves calls to the backup.
func TestRegionEndpoints(t *testing.T) {
	var mu sync.Mutex
	var hosts []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		writeJSON(w, `{"ActionStatus":"OK","ErrorCode":0,"GroupMsgReceiptList":[]}`)
	}))
	t.Cleanup(srv.Close)
	mainHost, backupHost, _ := tim.Frankfurt.Domains()

	for _, mainDown := range []bool{false, true} {
		hosts = nil
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.InsecureSkipVerify = true // the test certificate names 127.0.0.1 only
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if mainDown && strings.HasPrefix(addr, mainHost+":") {
				return nil, errors.New("dns hijacked")
			}
			if addr != mainHost+":443" && addr != backupHost+":443" {
				return nil, fmt.Errorf("unexpected address %s", addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
		}
		c, err := tim.New(tim.Config{
			SDKAppID: testApp, Key: testKey, Identifier: testAdmin,
			Region: tim.Frankfurt, HTTPClient: &http.Client{Transport: tr},
			RetryBackoff: time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := c.GroupMsgReceipts(context.Background(), "g", []uint32{1}); err != nil {
				t.Fatalf("main down %v: %v", mainDown, err)
			}
		}
		want := []string{mainHost, mainHost}
		if mainDown {
			want = []string{backupHost, backupHost}
		}
		if diff := cmp.Diff(want, hosts); diff != "" {
			t.Errorf("main down %v: hosts (-want +got):\n%s", mainDown, diff)
		}
	}
}
