package ui

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/api"
)

func newTestClient(t *testing.T, f *fakeBFF) *client {
	t.Helper()
	srv := mustStartBFF(t, f)
	return &client{t: newTransport(), base: srv.URL}
}

func TestClientReceiptsStream(t *testing.T) {
	c := newTestClient(t, &fakeBFF{stream: true})
	var progress [][2]int
	resp, err := c.receipts(context.Background(), api.ReceiptsRequest{App: "prod", GroupID: "g", Seqs: api.SeqText("1-5")},
		func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][2]int{{0, 5}, {2, 5}, {4, 5}}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if len(resp.Results) != 5 || resp.Results[4].Seq != 5 {
		t.Errorf("results = %+v", resp.Results)
	}
}

func TestClientReceiptsPlainJSON(t *testing.T) {
	c := newTestClient(t, &fakeBFF{})
	resp, err := c.receipts(context.Background(), api.ReceiptsRequest{App: "prod", GroupID: "g", Seqs: api.SeqText("1-3")}, nil)
	if err != nil || len(resp.Results) != 3 {
		t.Fatalf("receipts = %+v, %v", resp, err)
	}
}

// TestClientReceiptsOnce: a small pull asks for plain JSON, even from a
// server that would stream (this one's stream has no result line).
func TestClientReceiptsOnce(t *testing.T) {
	c := newTestClient(t, &fakeBFF{stream: true, noResult: true})
	resp, err := c.receiptsOnce(context.Background(), api.ReceiptsRequest{App: "prod", GroupID: "g", Seqs: api.SeqText("1-3")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Receipt{testReceipt(1), testReceipt(2), testReceipt(3)}
	if diff := cmp.Diff(want, resp.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if resp.App != "prod" || resp.GroupID != "g" || resp.Summary != api.Summarize(want) || resp.Upstream.Calls != 1 {
		t.Errorf("answer = %+v", resp)
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name string
		bff  *fakeBFF
		seqs string
		want api.Error
	}{
		{"api error body", &fakeBFF{status: 502, errBody: `{"code":"upstream","message":"group gone","upstreamCode":10010}`}, "1",
			api.Error{Code: api.ECodeUpstream, Message: "group gone", UpstreamCode: 10010}},
		{"validation problems", &fakeBFF{}, "x",
			api.Error{Code: api.ECodeInvalid, Message: "bad seqs", Problems: []api.Problem{{Field: "seqs", Message: `at character 1: "x" is not a number`}}}},
		{"proxy page", &fakeBFF{status: 504, errBody: "<html>gateway timeout</html>"}, "1",
			api.Error{Code: api.ECodeUnavailable, Message: "the server answered HTTP 504", Retryable: true}},
		{"401 without body", &fakeBFF{status: 401}, "1",
			api.Error{Code: api.ECodeUnauthorized, Message: "your session has ended; sign in again"}},
		{"stream ends early", &fakeBFF{stream: true, noResult: true}, "1-3",
			api.Error{Code: api.ECodeUnavailable, Message: "the result stream ended before the result arrived; try again", Retryable: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, tt.bff)
			_, err := c.receipts(context.Background(), api.ReceiptsRequest{App: "prod", GroupID: "g", Seqs: api.SeqText(tt.seqs)}, nil)
			got := asAPIError(err)
			if got == nil {
				t.Fatalf("err = %v, want an *api.Error", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientCancel(t *testing.T) {
	c := newTestClient(t, &fakeBFF{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.receipts(ctx, api.ReceiptsRequest{App: "prod", GroupID: "g", Seqs: api.SeqText("1")}, nil)
	if !errors.Is(err, context.Canceled) || asAPIError(err) != nil {
		t.Errorf("err = %v, want context.Canceled and no error shown", err)
	}
}

func TestClientUnreachable(t *testing.T) {
	c := &client{t: newTransport(), base: "http://127.0.0.1:1"}
	_, err := c.me(context.Background())
	if e := asAPIError(err); e == nil || e.Code != api.ECodeUnavailable || !e.Retryable {
		t.Errorf("err = %v, want unavailable and retryable", err)
	}
}

// TestLineReader feeds lines larger than bufio.Scanner's limit, in small
// chunks, with and without a final newline.
func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	in := "a\n\n" + long + "\nlast"
	l := lineReader{r: &chunky{s: in, n: 7000}}
	var got []string
	for i := 0; i < 10; i++ {
		line, err := l.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(line))
	}
	if diff := cmp.Diff([]string{"a", "", long, "last"}, got); diff != "" {
		t.Errorf("lines differ (-want +got): %d lines, diff %d bytes", len(got), len(diff))
	}
}

// chunky returns at most n bytes per Read, like a network stream.
type chunky struct {
	s string
	n int
}

func (c *chunky) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.s)
	c.s = c.s[k:]
	return k, nil
}
