package tim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

// The pulls below run against the emulator's fault modes (timemu.Fault),
// through the real client. Their request loops are bounded by the pulls'
// batch counts and contexts.

// TestFatalStopsPull: once a fatal answer arrives, no further batch of the
// pull is sent. Every call of a 20-batch pull is answered with the code;
// with 4 workers only the calls already on the wire may still arrive (the
// documented bound, Concurrency − 1), so the emulator sees at most 4 calls
// for a code that is fatal at once, and at most 8 for 70001, whose first
// refusal each worker may answer with one re-signed retry.
func TestFatalStopsPull(t *testing.T) {
	const concurrency = 4
	tests := []struct {
		code, maxCalls int
	}{
		{70009, concurrency},
		{10007, concurrency},
		{70001, 2 * concurrency},
	}
	for _, tt := range tests {
		e := mustEmulator(t, timemu.Config{RateLimit: -1}, 1000)
		// The latency keeps every worker's call on the wire at once, the
		// worst case for the bound.
		e.SetLatency(20 * time.Millisecond)
		e.Inject(timemu.Fault{Kind: timemu.FaultCode, Code: tt.code, Always: true, Command: tim.CmdGroupMsgReceipt})
		c := mustClient(t, e.URL, func(c *tim.Config) { c.Concurrency = concurrency })
		_, err := c.PullReceipts(context.Background(), allHands, seqRange(1, 1000), nil)
		te, ok := errors.AsType[*tim.Error](err)
		if !ok || te.Code != tt.code || !te.Fatal() {
			t.Errorf("code %d: PullReceipts = %v, want a fatal *tim.Error with that code", tt.code, err)
		}
		if n := e.Calls(tim.CmdGroupMsgReceipt); n > tt.maxCalls || n < 1 {
			t.Errorf("code %d: the emulator saw %d calls of a 20-batch pull, want 1 to %d", tt.code, n, tt.maxCalls)
		}
	}
}

// TestHungVendorBound: when every call hangs, the pull ends when its
// context's deadline (the console's query limit) passes, with a timeout
// naming the call limit; each call is tried twice at most, so the calls
// sent are bounded by the workers and the limit, not by the batch count.
func TestHungVendorBound(t *testing.T) {
	const (
		concurrency = 4
		callTimeout = 150 * time.Millisecond
		queryLimit  = 800 * time.Millisecond
	)
	e := mustEmulator(t, timemu.Config{RateLimit: -1}, 1000)
	e.Inject(timemu.Fault{Kind: timemu.FaultHang, Always: true})
	c := mustClient(t, e.URL, func(c *tim.Config) {
		c.Concurrency = concurrency
		c.CallTimeout = callTimeout
	})
	ctx, cancel := context.WithTimeout(context.Background(), queryLimit)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.PullReceipts(ctx, allHands, seqRange(1, 1000), nil)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the pull did not end 30 s after its deadline")
	}
	te, ok := errors.AsType[*tim.Error](err)
	if !ok || te.Cause() != tim.CauseTimeout || te.Timeout != callTimeout || te.Attempts != 2 {
		t.Fatalf("PullReceipts = %v (%+v), want a timeout after 2 attempts of %v", err, te, callTimeout)
	}
	// Each worker's attempts last callTimeout; the deadline allows
	// queryLimit/callTimeout of them in a row, plus the one it cuts short.
	bound := concurrency * (int(queryLimit/callTimeout) + 1)
	if n := e.Calls(tim.CmdGroupMsgReceipt); n > bound {
		t.Errorf("%d calls sent to a hung vendor, want at most %d", n, bound)
	}
}

// TestPartialPullEmulator: a 10,000-seq pull with one batch failing on every
// attempt returns the other 9,950 receipts, correct, and the 50 seqs of the
// failing batch marked CodeNotFetched with the cause.
func TestPartialPullEmulator(t *testing.T) {
	e := mustEmulator(t, timemu.Config{RateLimit: -1}, 10000)
	const bad = 7777 // batch 7751-7800
	e.Inject(timemu.Fault{Kind: timemu.FaultHTTP502, Seq: bad, Always: true})
	c := mustClient(t, e.URL, nil)
	p, err := c.PullReceipts(context.Background(), allHands, seqRange(1, 10000), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.NotFetched != 50 || len(p.Receipts) != 10000 {
		t.Fatalf("NotFetched %d of %d receipts, want 50 of 10000", p.NotFetched, len(p.Receipts))
	}
	fetched := 0
	for _, r := range p.Receipts {
		if r.Seq >= 7751 && r.Seq <= 7800 {
			if r.Code != tim.CodeNotFetched || r.Err == nil || r.Err.HTTPStatus != 502 {
				t.Errorf("seq %d of the failing batch: %+v, want CodeNotFetched with HTTP 502", r.Seq, r)
			}
			continue
		}
		if want := e.truth(allHands, r.Seq); r != want {
			t.Errorf("seq %d: %+v, want %+v", r.Seq, r, want)
		}
		fetched++
	}
	if fetched != 9950 {
		t.Errorf("%d fetched, want 9950", fetched)
	}
}
