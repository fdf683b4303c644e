package timemu_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
	"github.com/timconsole/timconsole/server/timemu"
)

const okBody = `{"GroupId":"@TGS#2TTV7VSII","MsgSeqList":[{"MsgSeq":1}]}`

// TestChecks covers every gateway, UserSig and body check of the package
// comment, in order, through real HTTP.
func TestChecks(t *testing.T) {
	e := newEnv(t, timemu.Config{})
	now := e.clock.Now()
	e.emu.AddApp(1400000001, "other-key", "administrator")
	e.emu.AddApp(testApp, testKey, "ops")

	vendorSig, err := tencentyun.GenUserSig(testApp, testKey, testAdmin, 86400)
	if err != nil {
		t.Fatal(err)
	}
	sig := func(f sigFields) string {
		if f.Identifier == "" {
			f.Identifier = testAdmin
		}
		if f.SDKAppID == "" {
			f.SDKAppID = fmt.Sprint(testApp)
		}
		if f.Time == 0 {
			f.Time = now.Unix()
		}
		if f.Expire == 0 {
			f.Expire = 86400
		}
		if f.Key == "" {
			f.Key = testKey
		}
		return buildSig(t, f)
	}
	corrupted := []byte(sig(sigFields{}))
	corrupted[60] ^= 1 // breaks the zlib checksum
	// Tampered: the expiry extended tenfold, the signature kept.
	tampered := sig(sigFields{Expire: 864000, SigOverride: sigOf(testKey, testAdmin, testApp, now.Unix(), 86400)})

	tests := []struct {
		name   string
		method string
		path   string // default: get_group_msg_receipt
		rawQ   string // replaces the query when set
		set    map[string]string
		del    []string
		body   *string
		want   int
	}{
		{name: "OK", want: 0},
		{name: "OK vendor GenUserSig", set: map[string]string{"usersig": vendorSig}, want: 0},
		{name: "OK random max", set: map[string]string{"random": "4294967295"}, want: 0},
		{name: "OK random zero", set: map[string]string{"random": "0"}, want: 0},
		{name: "OK second admin", set: map[string]string{"identifier": "ops", "usersig": signAt(t, testApp, testKey, "ops", now, 60)}, want: 0},
		{name: "OK at expiry boundary", set: map[string]string{"usersig": sig(sigFields{Time: now.Unix() - 300, Expire: 300})}, want: 0},
		{name: "OK zlib default level", set: map[string]string{"usersig": encodeSig(t, []byte(fmt.Sprintf(`{"TLS.ver":"2.0","TLS.identifier":"administrator","TLS.sdkappid":%d,"TLS.expire":86400,"TLS.time":%d,"TLS.sig":%q}`, testApp, now.Unix(), sigOf(testKey, testAdmin, testApp, now.Unix(), 86400))), -1)}, want: 0},
		{name: "method GET", method: http.MethodGet, want: timemu.CodeBadRequestFormat},
		{name: "method PUT", method: http.MethodPut, want: timemu.CodeBadRequestFormat},
		{name: "unknown command", path: "/v4/group_open_http_svc/no_such_command", want: timemu.CodeUnknownCommand},
		{name: "unknown service", path: "/v4/openim/get_group_msg_receipt", want: timemu.CodeUnknownCommand},
		{name: "wrong version", path: "/v3/group_open_http_svc/get_group_msg_receipt", want: timemu.CodeUnknownCommand},
		{name: "root", path: "/", want: timemu.CodeUnknownCommand},
		{name: "query unparseable", rawQ: "sdkappid=%zz", want: timemu.CodeHTTPParse},
		{name: "sdkappid missing", del: []string{"sdkappid"}, want: timemu.CodeSDKAppIDMissing},
		{name: "sdkappid empty", set: map[string]string{"sdkappid": ""}, want: timemu.CodeSDKAppIDMissing},
		{name: "sdkappid not a number", set: map[string]string{"sdkappid": "14e8"}, want: timemu.CodeSDKAppIDInvalid},
		{name: "sdkappid unknown", set: map[string]string{"sdkappid": "1400000099"}, want: timemu.CodeSDKAppIDInvalid},
		{name: "random missing", del: []string{"random"}, want: timemu.CodeHTTPParse},
		{name: "random negative", set: map[string]string{"random": "-1"}, want: timemu.CodeHTTPParse},
		{name: "random over 32 bits", set: map[string]string{"random": "4294967296"}, want: timemu.CodeHTTPParse},
		{name: "random not a number", set: map[string]string{"random": "abc"}, want: timemu.CodeHTTPParse},
		{name: "contenttype missing", del: []string{"contenttype"}, want: timemu.CodeHTTPParse},
		{name: "contenttype wrong case", set: map[string]string{"contenttype": "JSON"}, want: timemu.CodeHTTPParse},
		{name: "identifier missing", del: []string{"identifier"}, want: timemu.CodeNeedAdmin},
		{name: "usersig missing", del: []string{"usersig"}, want: timemu.CodeSigEmpty},
		{name: "usersig empty", set: map[string]string{"usersig": ""}, want: timemu.CodeSigEmpty},
		{name: "usersig not base64", set: map[string]string{"usersig": "!!!not-base64"}, want: timemu.CodeSigUndecodable},
		{name: "usersig truncated", set: map[string]string{"usersig": sig(sigFields{})[:40]}, want: timemu.CodeSigUndecodable},
		{name: "usersig not zlib", set: map[string]string{"usersig": urlSafe("aGVsbG8gd29ybGQ=")}, want: timemu.CodeSigUndecodable},
		{name: "usersig not JSON", set: map[string]string{"usersig": encodeSig(t, []byte("hello"), -1)}, want: timemu.CodeSigUndecodable},
		{name: "usersig JSON trailing data", set: map[string]string{"usersig": encodeSig(t, []byte(`{"TLS.identifier":"administrator"} x`), -1)}, want: timemu.CodeSigUndecodable},
		{name: "usersig sdkappid quoted", set: map[string]string{"usersig": sig(sigFields{SDKAppID: fmt.Sprintf("%q", fmt.Sprint(testApp))})}, want: timemu.CodeSigUndecodable},
		{name: "usersig fields missing", set: map[string]string{"usersig": encodeSig(t, []byte(`{"TLS.ver":"2.0"}`), -1)}, want: timemu.CodeSigUndecodable},
		{name: "usersig sig not base64", set: map[string]string{"usersig": sig(sigFields{SigOverride: "%%%"})}, want: timemu.CodeSigUndecodable},
		{name: "usersig app mismatch", set: map[string]string{"usersig": signAt(t, 1400000001, testKey, testAdmin, now, 86400)}, want: timemu.CodeSigAppMismatch},
		{name: "usersig identifier mismatch", set: map[string]string{"usersig": signAt(t, testApp, testKey, "ops", now, 86400)}, want: timemu.CodeSigIdentifierMismatch},
		{name: "usersig expired", set: map[string]string{"usersig": sig(sigFields{Time: now.Unix() - 301, Expire: 300})}, want: timemu.CodeSigExpired},
		{name: "usersig wrong key", set: map[string]string{"usersig": sig(sigFields{Key: "wrong-key"})}, want: timemu.CodeSigBadSignature},
		{name: "usersig corrupted", set: map[string]string{"usersig": string(corrupted)}, want: timemu.CodeSigUndecodable},
		{name: "usersig tampered", set: map[string]string{"usersig": tampered}, want: timemu.CodeSigBadSignature},
		{name: "usersig signature replaced", set: map[string]string{"usersig": sig(sigFields{SigOverride: "yLAe+w7WUeUuqbV9h/TX78u21oTGi+i9Zp1u3PpnY60="})}, want: timemu.CodeSigBadSignature},
		{name: "usersig with userbuf", set: map[string]string{"usersig": sig(sigFields{UserBuf: `"AAEC"`})}, want: timemu.CodeSigCheckFailed},
		{name: "identifier not an admin", set: map[string]string{"identifier": "bob", "usersig": signAt(t, testApp, testKey, "bob", now, 86400)}, want: timemu.CodeNeedAdmin},
		{name: "admin of another app", set: map[string]string{"sdkappid": "1400000001", "usersig": signAt(t, 1400000001, testKey, testAdmin, now, 86400)}, want: timemu.CodeSigBadSignature},
		{name: "body empty", body: ptr(""), want: timemu.CodeJSONParse},
		{name: "body whitespace", body: ptr(" \n"), want: timemu.CodeJSONParse},
		{name: "body not JSON", body: ptr("GroupId=1"), want: timemu.CodeJSONParse},
		{name: "body truncated", body: ptr(okBody[:20]), want: timemu.CodeJSONParse},
		{name: "body array", body: ptr(`[` + okBody + `]`), want: timemu.CodeJSONParse},
		{name: "body two objects", body: ptr(okBody + okBody), want: timemu.CodeJSONParse},
		{name: "body too large", body: ptr(`{"x":"` + strings.Repeat("a", 1<<20) + `"}`), want: timemu.CodeJSONParse},
		{name: "body wrong type", body: ptr(`{"GroupId":5,"MsgSeqList":[{"MsgSeq":1}]}`), want: timemu.CodeInvalidParam},
		{name: "body seq negative", body: ptr(`{"GroupId":"@TGS#2TTV7VSII","MsgSeqList":[{"MsgSeq":-1}]}`), want: timemu.CodeInvalidParam},
		{name: "body seq over 32 bits", body: ptr(`{"GroupId":"@TGS#2TTV7VSII","MsgSeqList":[{"MsgSeq":4294967296}]}`), want: timemu.CodeInvalidParam},
		{name: "body seq fraction", body: ptr(`{"GroupId":"@TGS#2TTV7VSII","MsgSeqList":[{"MsgSeq":1.5}]}`), want: timemu.CodeInvalidParam},
		{name: "body field names are case-sensitive", body: ptr(`{"groupId":"@TGS#2TTV7VSII","MsgSeqList":[{"MsgSeq":1}]}`), want: timemu.CodeInvalidGroupID},
		{name: "body item field case-sensitive", body: ptr(`{"GroupId":"@TGS#2TTV7VSII","MsgSeqList":[{"msgseq":1}]}`), want: timemu.CodeInvalidParam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := e.query(t)
			for k, v := range tt.set {
				q.Set(k, v)
			}
			for _, k := range tt.del {
				q.Del(k)
			}
			raw := q.Encode()
			if tt.rawQ != "" {
				raw = tt.rawQ
			}
			method, path, body := http.MethodPost, "/v4/group_open_http_svc/get_group_msg_receipt", okBody
			if tt.method != "" {
				method = tt.method
			}
			if tt.path != "" {
				path = tt.path
			}
			if tt.body != nil {
				body = *tt.body
			}
			got := e.do(t, method, path, raw, body)
			if got.Status != http.StatusOK {
				t.Fatalf("HTTP status = %d, want 200", got.Status)
			}
			if got.Code != tt.want {
				t.Errorf("ErrorCode = %d, want %d (%s)", got.Code, tt.want, got.Raw)
			}
			if got.Code != 0 && got.Body["ErrorInfo"] == "" {
				t.Errorf("ErrorInfo is empty for code %d", got.Code)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestUsersigVectors checks the shared vectors: both vendor layouts must
// verify until time+expire inclusive, and each negative check must give its
// code.
func TestUsersigVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		valid := time.Unix(v.ValidUntil, 0)
		for layout, sig := range map[string]string{"v1.1": v.V11, "v1.4": v.V14} {
			t.Run(fmt.Sprintf("%d/%s", v.SDKAppID, layout), func(t *testing.T) {
				tests := []struct {
					name       string
					app        uint64
					key, ident string
					now        time.Time
					want       int
				}{
					{"at time", v.SDKAppID, v.Key, v.Identifier, time.Unix(v.Time, 0), 0},
					{"at valid_until", v.SDKAppID, v.Key, v.Identifier, valid, 0},
					{"after valid_until", v.SDKAppID, v.Key, v.Identifier, valid.Add(time.Second), timemu.CodeSigExpired},
					{"wrong key", v.SDKAppID, v.Key + "x", v.Identifier, valid, timemu.CodeSigBadSignature},
					{"identifier+x", v.SDKAppID, v.Key, v.Identifier + "x", valid, timemu.CodeSigIdentifierMismatch},
					{"sdkappid+1", v.SDKAppID + 1, v.Key, v.Identifier, valid, timemu.CodeSigAppMismatch},
				}
				for _, tt := range tests {
					if got := timemu.CheckUserSig(tt.app, tt.key, tt.ident, sig, tt.now); got != tt.want {
						t.Errorf("%s: CheckUserSig = %d, want %d", tt.name, got, tt.want)
					}
				}
			})
		}
		// The hand-built v1.4 layout is byte-identical to the vector.
		if got := signAt(t, v.SDKAppID, v.Key, v.Identifier, time.Unix(v.Time, 0), v.Expire); got != v.V14 {
			t.Errorf("signAt(vector %d) = %s, want %s", v.SDKAppID, got, v.V14)
		}
	}
}

// TestUsersigVectorsOverHTTP sends vector 1 in both layouts through the
// emulator with its clock at the expiry boundary and one second after.
func TestUsersigVectorsOverHTTP(t *testing.T) {
	e := newEnv(t, timemu.Config{})
	v := loadVectors(t)[0]
	for _, sig := range []string{v.V11, v.V14} {
		for _, tt := range []struct {
			at   int64
			want int
		}{{v.ValidUntil, 0}, {v.ValidUntil + 1, timemu.CodeSigExpired}} {
			e.clock.Set(time.Unix(tt.at, 0))
			q := e.query(t)
			q.Set("usersig", sig)
			if got := e.post(t, timemu.CmdGetReceipt, q, okBody); got.Code != tt.want {
				t.Errorf("at %d: ErrorCode = %d, want %d", tt.at, got.Code, tt.want)
			}
		}
	}
}
