package tim_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/internal/testenv"
	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

const allHands = "@TGS#2ALLHANDS" // 200 members in the generated data set

// emu is the Tencent emulator behind a loopback HTTP server.
type emu struct{ *testenv.Emulator }

// mustEmulator starts the emulator with the test app and the generated demo
// data set (the biggest group has messages seqs).
func mustEmulator(tb testing.TB, cfg timemu.Config, messages int) *emu {
	tb.Helper()
	e := testenv.StartEmulator(tb, cfg)
	e.AddApp(testApp, testKey, testAdmin)
	if err := e.Load(timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: testApp, Messages: messages})); err != nil {
		tb.Fatalf("load fixture: %v", err)
	}
	return &emu{e}
}

// truth is the emulator's own answer for seq, as a Receipt.
func (e *emu) truth(group string, seq uint32) tim.Receipt {
	read, unread, ok := e.Receipt(testApp, group, seq)
	if !ok {
		return tim.Receipt{Seq: seq, Code: 10062}
	}
	return tim.Receipt{Seq: seq, Read: len(read), Unread: len(unread)}
}

// TestEmulatorPull pulls a few thousand seqs (some unknown) through the
// emulator and compares every receipt with the emulator's ground truth.
func TestEmulatorPull(t *testing.T) {
	e := mustEmulator(t, timemu.Config{}, 3000)
	c := mustClient(t, e.URL, func(c *tim.Config) { c.RateLimit = 0 }) // the default 200/s
	seqs := append(seqRange(1, 3100), 4000000000)                      // canonical: sorted, distinct
	var lastDone, total atomic.Int64
	p, err := c.PullReceipts(context.Background(), allHands, seqs, func(done, tot int) {
		lastDone.Store(int64(done))
		total.Store(int64(tot))
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []tim.Receipt
	codes := map[int]int{}
	for _, s := range seqs {
		r := e.truth(allHands, s)
		want = append(want, r)
		codes[r.Code]++
	}
	if diff := cmp.Diff(want, p.Receipts); diff != "" {
		t.Errorf("receipts mismatch (-want +got):\n%s", diff)
	}
	if codes[0] == 0 || codes[10062] < 101 {
		t.Errorf("test data too uniform: codes %v", codes)
	}
	if got, want := p.Calls, 63; got != want || p.Retries != 0 {
		t.Errorf("Calls, Retries = %d, %d, want %d, 0", got, p.Retries, want)
	}
	if got := e.Calls(tim.CmdGroupMsgReceipt); got != p.Calls {
		t.Errorf("emulator saw %d calls, the pull counted %d", got, p.Calls)
	}
	if lastDone.Load() != 63 || total.Load() != 63 {
		t.Errorf("last progress %d/%d, want 63/63", lastDone.Load(), total.Load())
	}
}

// TestEmulatorMembers pages through the reader and non-reader lists of
// messages with a small page size, in both IsFinish variants, and compares
// them with the ground truth.
func TestEmulatorMembers(t *testing.T) {
	for _, emitIsFinish := range []bool{false, true} {
		e := mustEmulator(t, timemu.Config{EmitIsFinish: emitIsFinish, RateLimit: -1}, 500)
		c := mustClient(t, e.URL, nil)
		for _, seq := range []uint32{100, 250, 499, 500} {
			read, unread, ok := e.Receipt(testApp, allHands, seq)
			if !ok {
				continue
			}
			for _, tc := range []struct {
				filter tim.Filter
				want   []string
			}{{tim.FilterRead, read}, {tim.FilterUnread, unread}} {
				for _, count := range []int{7, 200, 1000} {
					got, pages := collect(t, c, seq, tc.filter, count)
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("IsFinish %v, seq %d, filter %d, count %d: members (-want +got):\n%s",
							emitIsFinish, seq, tc.filter, count, diff)
					}
					if maxPages := len(tc.want)/min(count, 200) + 1; pages > maxPages {
						t.Errorf("seq %d: %d pages, want ≤ %d", seq, pages, maxPages)
					}
				}
			}
		}
	}
}

// collect follows the cursor to the end, at most 100 pages.
func collect(t *testing.T, c *tim.Client, seq uint32, filter tim.Filter, count int) ([]string, int) {
	t.Helper()
	members := []string{}
	cursor := ""
	for page := 1; page <= 100; page++ {
		p, err := c.GroupMsgReceiptMembers(context.Background(), allHands, seq, filter, cursor, count)
		if err != nil {
			t.Fatalf("seq %d page %d: %v", seq, page, err)
		}
		if len(p.Members) > min(count, 200) {
			t.Fatalf("seq %d page %d: %d members, want ≤ %d", seq, page, len(p.Members), count)
		}
		members = append(members, p.Members...)
		if p.Done {
			return members, page
		}
		cursor = p.Cursor
	}
	t.Fatalf("seq %d: no last page after 100 pages", seq)
	return nil, 0
}

// TestEmulatorFaults injects each kind of failure into the emulator and
// checks the client's recovery or final error.
func TestEmulatorFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     timemu.Fault
		wantCode  int // 0: the call succeeds
		wantCalls int
		wantSigns int
	}{
		{"502 twice", timemu.Fault{Kind: timemu.FaultHTTP502, Count: 2}, 0, 3, 1},
		{"hang then timeout", timemu.Fault{Kind: timemu.FaultHang}, 0, 2, 1},
		{"malformed JSON", timemu.Fault{Kind: timemu.FaultMalformed}, 0, 2, 1},
		{"10002 burst", timemu.Fault{Kind: timemu.FaultCode, Code: 10002, Count: 3}, 0, 4, 1},
		{"60007 rate limited", timemu.Fault{Kind: timemu.FaultCode, Code: 60007}, 0, 2, 1},
		{"70001 re-signs", timemu.Fault{Kind: timemu.FaultCode, Code: 70001}, 0, 2, 2},
		{"70052 re-signs", timemu.Fault{Kind: timemu.FaultCode, Code: 70052}, 0, 2, 2},
		{"70001 twice fails", timemu.Fault{Kind: timemu.FaultCode, Code: 70001, Count: 2}, 70001, 2, 2},
		{"10002 outlasting the attempts", timemu.Fault{Kind: timemu.FaultCode, Code: 10002, Count: 10}, 10002, 4, 1},
		{"10004 is final", timemu.Fault{Kind: timemu.FaultCode, Code: 10004}, 10004, 1, 1},
		{"other command's fault", timemu.Fault{Kind: timemu.FaultHTTP502, Command: tim.CmdSendGroupMsg}, 0, 1, 1},
	}
	// No rate limit here: rate limiting is injected as a fault.
	e := mustEmulator(t, timemu.Config{RateLimit: -1}, 100)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustClient(t, e.URL, func(c *tim.Config) { c.CallTimeout = 500 * time.Millisecond })
			signs := tim.CountSigns(c)
			e.ResetStats()
			e.Inject(tt.fault)
			t.Cleanup(func() {
				// Drain what is left of the fault for the next case.
				for range 20 {
					c.GroupMsgReceipts(context.Background(), allHands, []uint32{1})
				}
			})
			p, err := c.PullReceipts(context.Background(), allHands, seqRange(1, 40), nil)
			if got := e.Calls(tim.CmdGroupMsgReceipt); got != tt.wantCalls {
				t.Errorf("emulator saw %d calls, want %d", got, tt.wantCalls)
			}
			if got := signs(); got != tt.wantSigns {
				t.Errorf("%d sigs minted, want %d", got, tt.wantSigns)
			}
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("PullReceipts = %v, want success", err)
				}
				if p.Calls != tt.wantCalls || p.Retries != tt.wantCalls-1 {
					t.Errorf("Calls, Retries = %d, %d, want %d, %d", p.Calls, p.Retries, tt.wantCalls, tt.wantCalls-1)
				}
				for _, r := range p.Receipts {
					if want := e.truth(allHands, r.Seq); r != want {
						t.Errorf("receipt %+v, want %+v", r, want)
					}
				}
				return
			}
			var te *tim.Error
			if !errors.As(err, &te) || te.Code != tt.wantCode {
				t.Fatalf("PullReceipts = %v, want code %d", err, tt.wantCode)
			}
		})
	}
}

// TestEmulatorSeeding sends messages with receipts, marks some read and
// reads the counts back, the way seeding tools use the client.
func TestEmulatorSeeding(t *testing.T) {
	e := mustEmulator(t, timemu.Config{RateLimit: -1}, 10)
	c := mustClient(t, e.URL, nil)
	ctx := context.Background()
	_, unread, ok := e.Receipt(testApp, allHands, 10)
	if !ok || len(unread) < 2 {
		t.Fatalf("seq 10: need two unread members, got %v, %v", unread, ok)
	}
	from, reader := unread[0], unread[1]

	var seqs []uint32
	for range 60 {
		seq, err := c.SendGroupMsg(ctx, allHands, from, "hello", true)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	plain, err := c.SendGroupMsg(ctx, allHands, from, "no receipt", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MarkGroupMsgRead(ctx, allHands, reader, seqs); err != nil {
		t.Fatal(err)
	}
	got, err := c.GroupMsgReceipts(ctx, allHands, append(seqs, plain))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got[:len(seqs)] {
		if r.Seq != seqs[i] || r.Code != 0 || r.Read != 1 || r.Unread != 198 {
			t.Errorf("receipt %+v, want seq %d read 1 unread 198", r, seqs[i])
		}
	}
	if last := got[len(got)-1]; last.Code != 10062 {
		t.Errorf("message without receipt: %+v, want code 10062", last)
	}
	if n := e.Calls(tim.CmdMarkGroupMsgRead); n != 2 {
		t.Errorf("%d group_msg_receipt calls for 60 seqs, want 2", n)
	}
}

// TestEmulatorSharedRateLimit runs concurrent pulls through one client with
// the default limit: together they must stay within the emulator's 200
// calls in any second, so no call is rejected or retried. A wide headroom
// keeps the test about sharing (three unshared limiters would send 480
// calls/s) and not about scheduling jitter on a busy machine; the benchmark
// measures the default headroom.
func TestEmulatorSharedRateLimit(t *testing.T) {
	e := mustEmulator(t, timemu.Config{}, 5000)
	c := mustClient(t, e.URL, func(c *tim.Config) {
		c.RateLimit = 0 // the default: 200 calls/s
		c.RateHeadroom = 0.2
		c.MaxAttempts = 1
	})
	var wg sync.WaitGroup
	pulls := make([]*tim.Pull, 3)
	errs := make([]error, 3)
	for i := range pulls {
		wg.Go(func() {
			pulls[i], errs[i] = c.PullReceipts(context.Background(), allHands, seqRange(1, 5000), nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pull %d: %v", i, err)
		}
		if pulls[i].Retries != 0 {
			t.Errorf("pull %d: %d retries, want 0", i, pulls[i].Retries)
		}
	}
	if got := e.Calls(tim.CmdGroupMsgReceipt); got != 300 {
		t.Errorf("%d calls, want 300", got)
	}
	if peak := e.PeakPerSecond(testApp); peak > 200 {
		t.Errorf("peak %d calls in one second, want ≤ 200", peak)
	}
}
