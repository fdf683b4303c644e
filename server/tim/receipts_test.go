package tim_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/tim"
)

func TestGroupMsgReceiptMembers(t *testing.T) {
	tests := []struct {
		name   string
		filter tim.Filter
		body   string
		want   *tim.MemberPage
	}{
		{
			"read list with IsFinished 0",
			tim.FilterRead,
			`{"ActionStatus":"OK","ErrorCode":0,"IsFinished":0,"Cursor":"c2","MsgSeq":1,"ReadList":[{"Read_Account":"a"},{"Read_Account":"b"}]}`,
			&tim.MemberPage{Members: []string{"a", "b"}, Cursor: "c2"},
		},
		{
			"unread list with IsFinish 1",
			tim.FilterUnread,
			`{"ActionStatus":"OK","ErrorCode":0,"IsFinish":1,"Cursor":"c3","UnreadList":[{"Unread_Account":"x"}]}`,
			&tim.MemberPage{Members: []string{"x"}, Done: true},
		},
		{
			"IsFinished 1",
			tim.FilterUnread,
			`{"ActionStatus":"OK","ErrorCode":0,"IsFinished":1,"Cursor":"","UnreadList":[]}`,
			&tim.MemberPage{Members: []string{}, Done: true},
		},
		{
			"no flag, no cursor, short list",
			tim.FilterRead,
			`{"ActionStatus":"OK","ErrorCode":0,"ReadList":[{"Read_Account":"a"}]}`,
			&tim.MemberPage{Members: []string{"a"}, Done: true},
		},
		{
			"the other list only",
			tim.FilterUnread,
			`{"ActionStatus":"OK","ErrorCode":0,"IsFinished":0,"Cursor":"n","ReadList":[{"Read_Account":"q"}]}`,
			&tim.MemberPage{Members: []string{"q"}, Cursor: "n"},
		},
		{
			"both lists: the asked one wins",
			tim.FilterRead,
			`{"ActionStatus":"OK","ErrorCode":0,"IsFinished":1,"ReadList":[{"Read_Account":"r"}],"UnreadList":[{"Unread_Account":"u"}]}`,
			&tim.MemberPage{Members: []string{"r"}, Done: true},
		},
		{
			"item keyed by the other account name",
			tim.FilterUnread,
			`{"ActionStatus":"OK","ErrorCode":0,"IsFinished":1,"UnreadList":[{"Read_Account":"r"}]}`,
			&tim.MemberPage{Members: []string{"r"}, Done: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustFakeTIM(t, func(int, request) answer { return ok(tt.body) })
			c := mustClient(t, f.URL, nil)
			got, err := c.GroupMsgReceiptMembers(context.Background(), "g", 1, tt.filter, "c1", 2)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("page mismatch (-want +got):\n%s", diff)
			}
			var req struct {
				Filter tim.Filter
				Cursor string
				Count  int
			}
			if err := json.Unmarshal(f.Requests()[0].Body, &req); err != nil {
				t.Fatal(err)
			}
			if req.Filter != tt.filter || req.Cursor != "c1" || req.Count != 2 {
				t.Errorf("request %+v, want filter %d, cursor c1, count 2", req, tt.filter)
			}
		})
	}
}

func TestMemberCountClamp(t *testing.T) {
	f := mustFakeTIM(t, func(int, request) answer { return ok(`{"ActionStatus":"OK","ErrorCode":0,"IsFinished":1}`) })
	c := mustClient(t, f.URL, nil)
	for _, count := range []int{0, -5, 201, 100000} {
		if _, err := c.GroupMsgReceiptMembers(context.Background(), "g", 1, tim.FilterRead, "", count); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range f.Requests() {
		var req struct{ Count int }
		json.Unmarshal(r.Body, &req)
		if req.Count != 200 {
			t.Errorf("request %d: Count %d, want 200", i, req.Count)
		}
	}
	if _, err := c.GroupMsgReceiptMembers(context.Background(), "g", 1, tim.Filter(2), "", 1); !errors.Is(err, tim.ErrInvalid) {
		t.Errorf("filter 2: error %v, want ErrInvalid", err)
	}
}

func TestMarkGroupMsgReadSplits(t *testing.T) {
	f := mustFakeTIM(t, func(int, request) answer { return ok(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`) })
	c := mustClient(t, f.URL, nil)
	seqs := seqRange(1, 120)
	if err := c.MarkGroupMsgRead(context.Background(), "g", "u1", seqs); err != nil {
		t.Fatal(err)
	}
	var got []uint32
	var sizes []int
	for _, r := range f.Requests() {
		var req struct {
			From       string `json:"From_Account"`
			MsgSeqList []struct{ MsgSeq uint32 }
		}
		if err := json.Unmarshal(r.Body, &req); err != nil {
			t.Fatal(err)
		}
		if req.From != "u1" {
			t.Errorf("From_Account %q, want u1", req.From)
		}
		sizes = append(sizes, len(req.MsgSeqList))
		for _, s := range req.MsgSeqList {
			got = append(got, s.MsgSeq)
		}
	}
	if diff := cmp.Diff([]int{50, 50, 20}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(seqs, got); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
}

func TestSendGroupMsg(t *testing.T) {
	f := mustFakeTIM(t, func(int, request) answer {
		return ok(`{"ActionStatus":"OK","ErrorCode":0,"MsgTime":1700000000,"MsgSeq":4294967295,"MsgDropReason":""}`)
	})
	c := mustClient(t, f.URL, nil)
	seq, err := c.SendGroupMsg(context.Background(), "g", "", "hi", false)
	if err != nil {
		t.Fatal(err)
	}
	if seq != 4294967295 {
		t.Errorf("MsgSeq = %d, want 4294967295", seq)
	}
	var req map[string]any
	json.Unmarshal(f.Requests()[0].Body, &req)
	if _, ok := req["NeedReadReceipt"]; ok {
		t.Errorf("NeedReadReceipt sent without a receipt request: %v", req)
	}
	if _, ok := req["From_Account"]; ok {
		t.Errorf("From_Account sent for an admin message: %v", req)
	}
}

// TestPullReceipts checks a bulk pull against the fake server: batches of
// BatchSize, results merged in seq order with per-item codes kept, progress
// reported, calls counted; and a list that is not canonical (sorted,
// distinct: the grammar's output) refused before any call.
func TestPullReceipts(t *testing.T) {
	f := mustFakeTIM(t, func(n int, r request) answer {
		if n == 3 {
			return answer{Status: 502}
		}
		return ok(receiptsAnswer(t, r))
	})
	c := mustClient(t, f.URL, func(c *tim.Config) { c.Concurrency = 4 })
	for _, bad := range [][]uint32{{2, 1}, {1, 2, 2, 3}, {5, 4, 3, 2, 1}} {
		if _, err := c.PullReceipts(context.Background(), "g", bad, nil); !errors.Is(err, tim.ErrInvalid) {
			t.Errorf("PullReceipts(%v) = %v, want ErrInvalid", bad, err)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d calls for refused lists, want 0", n)
	}
	seqs := seqRange(1, 1000)
	var progress [][2]int
	var mu sync.Mutex
	p, err := c.PullReceipts(context.Background(), "g", seqs, func(done, total int) {
		mu.Lock()
		progress = append(progress, [2]int{done, total})
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []tim.Receipt
	for s := uint32(1); s <= 1000; s++ {
		want = append(want, wantReceipt(s))
	}
	if diff := cmp.Diff(want, p.Receipts); diff != "" {
		t.Errorf("receipts mismatch (-want +got):\n%s", diff)
	}
	if p.Calls != 21 || p.Retries != 1 {
		t.Errorf("Calls, Retries = %d, %d, want 21, 1", p.Calls, p.Retries)
	}
	for i, pr := range progress {
		if pr != [2]int{i + 1, 20} {
			t.Errorf("progress call %d = %v, want [%d 20]", i, pr, i+1)
		}
	}
	if len(progress) != 20 {
		t.Errorf("%d progress calls, want 20", len(progress))
	}
	var asked []uint32
	for _, r := range f.Requests() {
		var req struct{ MsgSeqList []struct{ MsgSeq uint32 } }
		json.Unmarshal(r.Body, &req)
		if len(req.MsgSeqList) > 50 {
			t.Errorf("batch of %d seqs, want ≤ 50", len(req.MsgSeqList))
		}
		for _, s := range req.MsgSeqList {
			asked = append(asked, s.MsgSeq)
		}
	}
	slices.Sort(asked)
	if n := len(slices.Compact(asked)); n != 1000 {
		t.Errorf("%d distinct seqs asked, want 1000", n)
	}
}

func TestPullLimits(t *testing.T) {
	f := mustFakeTIM(t, func(n int, r request) answer { return ok(receiptsAnswer(t, r)) })
	c := mustClient(t, f.URL, func(c *tim.Config) { c.MaxSeqs = 100 })
	_, err := c.PullReceipts(context.Background(), "g", seqRange(1, 101), nil)
	if !errors.Is(err, tim.ErrTooManySeqs) {
		t.Errorf("101 seqs: error %v, want ErrTooManySeqs", err)
	}
	p, err := c.PullReceipts(context.Background(), "g", nil, nil)
	if err != nil || len(p.Receipts) != 0 || p.Calls != 0 {
		t.Errorf("no seqs: %+v, %v, want an empty pull", p, err)
	}
	if _, err := c.PullReceipts(context.Background(), "", []uint32{1}, nil); !errors.Is(err, tim.ErrInvalid) {
		t.Errorf("empty group: error %v, want ErrInvalid", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d calls made for rejected pulls, want 0", n)
	}

	big := mustClient(t, f.URL, nil)
	_, err = big.PullReceipts(context.Background(), "g", seqRange(1, 10001), nil)
	if !errors.Is(err, tim.ErrTooManySeqs) {
		t.Errorf("10,001 seqs with the default cap: error %v, want ErrTooManySeqs", err)
	}
}

// TestPullFailsOnCallError checks a call failing with a final code fails the
// whole pull with that *tim.Error.
func TestPullFailsOnCallError(t *testing.T) {
	f := mustFakeTIM(t, func(n int, r request) answer {
		if n == 2 {
			return ok(`{"ActionStatus":"FAIL","ErrorCode":10010,"ErrorInfo":"no group"}`)
		}
		return ok(receiptsAnswer(t, r))
	})
	c := mustClient(t, f.URL, func(c *tim.Config) { c.Concurrency = 1 })
	_, err := c.PullReceipts(context.Background(), "g", seqRange(1, 500), nil)
	var te *tim.Error
	if !errors.As(err, &te) || te.Code != 10010 {
		t.Fatalf("PullReceipts = %v, want code 10010", err)
	}
	if n := len(f.Requests()); n != 3 {
		t.Errorf("%d calls, want 3 (no batch after the failure)", n)
	}
}

// TestPullCancel checks a cancelled context stops a pull whose calls hang:
// it returns context.Canceled long before the per-call timeout.
func TestPullCancel(t *testing.T) {
	started := make(chan struct{}, 100)
	f := mustFakeTIM(t, func(n int, r request) answer {
		started <- struct{}{}
		return answer{Hang: true}
	})
	c := mustClient(t, f.URL, func(c *tim.Config) {
		c.CallTimeout = time.Hour
		c.Concurrency = 3
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.PullReceipts(ctx, "g", seqRange(1, 1000), nil)
		errc <- err
	}()
	<-started
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("PullReceipts = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("PullReceipts still running 30 s after cancel")
	}
	if n := len(f.Requests()); n > 3 {
		t.Errorf("%d calls, want at most the 3 in flight", n)
	}
}

// TestSharedRateLimit runs three pulls at once through one client against a
// server counting arrivals per sliding second: together they stay under the
// client's limit and the server never rejects a call.
func TestSharedRateLimit(t *testing.T) {
	const limit = 40
	f := mustFakeTIM(t, func(n int, r request) answer { return ok(receiptsAnswer(t, r)) })
	f.Limit = limit
	c := mustClient(t, f.URL, func(c *tim.Config) {
		c.RateLimit = limit
		c.RateHeadroom = 0.2 // about sharing, not about jitter on a busy machine
		c.BatchSize = 10
		c.MaxAttempts = 1
	})
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			base := uint32(i * 1000)
			_, errs[i] = c.PullReceipts(context.Background(), "g", seqRange(base+1, base+300), nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("pull %d: %v", i, err)
		}
	}
	if got := len(f.Requests()); got != 90 {
		t.Errorf("%d calls, want 90", got)
	}
	if peak := f.Peak(); peak > limit {
		t.Errorf("peak %d calls in one second, want ≤ %d", peak, limit)
	}
	if r := f.Rejected(); r != 0 {
		t.Errorf("%d calls rejected for rate, want 0", r)
	}
}
