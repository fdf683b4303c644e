package main

import (
	"github.com/timconsole/timconsole/server/internal/testenv"

	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

// syncBuffer is the harness's log sink.
type syncBuffer = testenv.SyncBuffer

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestRun starts the command on a free loopback port with the key from the
// environment, makes one signed call, and stops it through the context.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-messages", "300", "-sdkappid", "20012345"}, getenv(map[string]string{"TIMEMU_KEY": "env-key"}), &stdout, &stderr)
	}()

	baseURL := ""
	re := regexp.MustCompile(`base URL:\s+(http://127\.0\.0\.1:\d+)`)
	for i := 0; i < 1000 && baseURL == ""; i++ {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			baseURL = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if baseURL == "" {
		t.Fatalf("no base URL printed within 10 s:\n%s", stdout.String())
	}
	for _, want := range []string{"sdkappid:    20012345", "identifier:  administrator", "key:         env-key", "@TGS#2ALLHANDS"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, stdout.String())
		}
	}

	sig, err := tencentyun.GenUserSig(20012345, "env-key", "administrator", 3600)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"sdkappid": {"20012345"}, "identifier": {"administrator"}, "usersig": {sig}, "random": {"7"}, "contenttype": {"json"}}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(baseURL+"/v4/group_open_http_svc/get_group_msg_receipt?"+q.Encode(), "application/json",
		strings.NewReader(`{"GroupId":"@TGS#2ALLHANDS","MsgSeqList":[{"MsgSeq":300}]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(body), `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","GroupMsgReceiptList":[{"Code":`) {
		t.Errorf("answer = %s, want a receipt list", body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v, want nil after the context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop within 10 s")
	}
}

func TestRunRefuses(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-addr", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"-addr", ":0"}, "not a loopback address"},
		{[]string{"-addr", "192.168.1.5:80"}, "not a loopback address"},
		{[]string{"-addr", "nonsense"}, "-addr"},
		{[]string{"-sdkappid", "0", "-rate", "0"}, "-rate must not be 0"},
		{[]string{"-fixture", "testdata/does-not-exist.json", "-addr", "127.0.0.1:0"}, "does-not-exist"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-h"}, "help requested"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			var out, errOut syncBuffer
			err := run(context.Background(), tt.args, getenv(nil), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("run(%v) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestRunFixture(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "localhost:0", "-fixture", "../../timemu/testdata/small.json"}, getenv(nil), &out, &errOut)
	}()
	for i := 0; i < 1000 && !strings.Contains(out.String(), "rate limit:"); i++ {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"@TGS#2TTV7VSII", "live-room", "key:         5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
}
