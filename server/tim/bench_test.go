package tim_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

// BenchmarkPull10000 pulls 10,000 seqs per iteration through a client with
// the default settings (batches of 50, 200 calls/s) against the emulator,
// which enforces 200 calls/s per app. It reports the elapsed time as a ratio
// to the ideal ceil(10000/50)/200 s (target ≤ 1.10) and fails if the
// emulator ever saw more than 200 calls in one second.
func BenchmarkPull10000(b *testing.B) {
	const seqs, limit = 10000, 200
	e := mustEmulator(b, timemu.Config{RateLimit: limit}, 12000)
	c, err := tim.New(tim.Config{SDKAppID: testApp, Key: testKey, Identifier: testAdmin, BaseURL: e.URL})
	if err != nil {
		b.Fatal(err)
	}
	list := seqRange(1, seqs)
	batch := tim.DefaultBatchSize
	ideal := time.Duration(math.Ceil(float64(seqs)/float64(batch)) / limit * float64(time.Second))

	var worst time.Duration
	var calls, retries, n int
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		p, err := c.PullReceipts(context.Background(), allHands, list, nil)
		elapsed := time.Since(start)
		if err != nil {
			b.Fatalf("PullReceipts: %v", err)
		}
		if len(p.Receipts) != seqs {
			b.Fatalf("%d receipts, want %d", len(p.Receipts), seqs)
		}
		worst = max(worst, elapsed)
		calls += p.Calls
		retries += p.Retries
		n++
	}
	b.StopTimer()
	peak := e.PeakPerSecond(testApp)
	b.ReportMetric(float64(worst)/float64(ideal), "ratio_to_ideal")
	b.ReportMetric(float64(batch), "batch_size")
	b.ReportMetric(float64(peak), "peak_calls_per_s")
	b.ReportMetric(float64(calls)/float64(n), "calls/op")
	b.ReportMetric(float64(retries)/float64(n), "retries/op")
	if peak > limit {
		b.Fatalf("the emulator saw %d calls in one second, limit %d", peak, limit)
	}
}
