package timemu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
	"github.com/timconsole/timconsole/server/timemu"
)

var fuzzNow = time.Unix(1700000000, 0)

// FuzzRequest feeds arbitrary commands, queries and bodies to the handler:
// it must never panic and must always answer HTTP 200 with a JSON envelope.
func FuzzRequest(f *testing.F) {
	raw, err := os.ReadFile("testdata/small.json")
	if err != nil {
		f.Fatal(err)
	}
	q := url.Values{
		"sdkappid":    {"1400000000"},
		"identifier":  {testAdmin},
		"usersig":     {signAt(f, testApp, testKey, testAdmin, fuzzNow, 86400)},
		"random":      {"1"},
		"contenttype": {"json"},
	}.Encode()
	for cmd, body := range map[string]string{
		timemu.CmdGetReceipt:       okBody,
		timemu.CmdGetReceiptDetail: detailBody(testGroup, 1, 1, "", 2),
		timemu.CmdMarkRead:         `{"GroupId":"@TGS#2TTV7VSII","From_Account":"dave","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}]}`,
		timemu.CmdSendGroupMsg:     `{"GroupId":"@TGS#2TTV7VSII","From_Account":"bob","NeedReadReceipt":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}`,
		timemu.CmdCreateGroup:      `{"Type":"Public","Name":"n","MemberList":[{"Member_Account":"a"}]}`,
		timemu.CmdAddGroupMember:   `{"GroupId":"work-team","MemberList":[{"Member_Account":"a"}]}`,
		timemu.CmdDestroyGroup:     `{"GroupId":"work-team"}`,
		timemu.CmdGetGroupInfo:     `{"GroupIdList":["work-team","x"]}`,
		"nope":                     `{}`,
	} {
		f.Add(cmd, q, []byte(body))
	}
	f.Add(timemu.CmdGetReceiptDetail, q, []byte(`{"GroupId":"@TGS#2TTV7VSII","MsgSeq":1,"Flag":1,"Cursor":"djE6MToxOjI","Num":1}`))
	f.Add(timemu.CmdGetReceipt, "sdkappid=%zz&usersig=", []byte(`{"groupid":1,"MsgSeqList":[{"MsgSeq":-1}]}`))
	f.Add(timemu.CmdGetReceipt, q, []byte(` {"GroupId":"\u0000","MsgSeqList":[null,{"MsgSeq":1e3}]} `))

	// One emulator serves many inputs (its UserSig cache keeps executions
	// fast); a fresh one every 500 inputs bounds what create_group and
	// add_group_member can accumulate.
	var emu *timemu.Emulator
	execs := 0
	f.Fuzz(func(t *testing.T, command, rawQuery string, body []byte) {
		if execs%500 == 0 {
			fx, err := timemu.LoadFixture(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			emu = timemu.New(timemu.Config{Now: func() time.Time { return fuzzNow }, RateLimit: -1, CountSender: execs%1000 == 0})
			if err := emu.Load(fx); err != nil {
				t.Fatal(err)
			}
		}
		execs++
		req := (&http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Path: "/v4/group_open_http_svc/" + command, RawQuery: rawQuery},
			Header: http.Header{},
			Body:   io.NopCloser(bytes.NewReader(body)),
		}).WithContext(context.Background())
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP status %d", rec.Code)
		}
		var env struct {
			ActionStatus string
			ErrorCode    *int
			ErrorInfo    *string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.ErrorCode == nil || env.ErrorInfo == nil {
			t.Fatalf("answer %q is not an envelope: %v", rec.Body.String(), err)
		}
		if (env.ActionStatus == "OK") != (*env.ErrorCode == 0) {
			t.Fatalf("ActionStatus %q with ErrorCode %d", env.ActionStatus, *env.ErrorCode)
		}
	})
}

// FuzzUserSig feeds arbitrary strings to the UserSig check: it must never
// panic, must answer one of the UserSig codes, and must accept only what the
// vendor's verifier accepts.
func FuzzUserSig(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.V11)
		f.Add(v.V14)
		f.Add(v.V14[:len(v.V14)/2])
	}
	f.Add("")
	f.Add("eJyrVgrxCdZLrSjILEpVsjI0NTU1MjAw0AGLZqak5pVkpmWmFilZKSWm5GbmKUEkilOyEwsKMlOUrAxNDAwMjYxNTM2gMpnpSlZKed7B3iYlppEZocXhlm7lYUGWeeXuznlVhWERZo6plfqmzl6eJaGFIaapybZQI0syc0H2m4NsN4C7oAxstZGegVItIAAA---NRzFh")
	f.Add(signAt(f, testApp, testKey, testAdmin, fuzzNow, 86400))
	allowed := map[int]bool{0: true, timemu.CodeSigEmpty: true, timemu.CodeSigUndecodable: true, timemu.CodeSigAppMismatch: true,
		timemu.CodeSigIdentifierMismatch: true, timemu.CodeSigExpired: true, timemu.CodeSigBadSignature: true, timemu.CodeSigCheckFailed: true}
	f.Fuzz(func(t *testing.T, sig string) {
		got := timemu.CheckUserSig(testApp, testKey, testAdmin, sig, fuzzNow)
		if !allowed[got] {
			t.Fatalf("CheckUserSig = %d, not a UserSig code", got)
		}
		if got == 0 {
			if err := tencentyun.VerifyUserSig(testApp, testKey, testAdmin, sig, fuzzNow); err != nil {
				t.Fatalf("accepted a UserSig the vendor rejects: %v", err)
			}
		}
	})
}
