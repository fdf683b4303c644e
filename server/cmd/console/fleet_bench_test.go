package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkFleetPull pulls 10,000 seqs through the real wiring (run,
// Redis-shared sessions and limiter, the tim client) against one Redis and
// one emulator enforcing the vendor's 200 calls/s: one replica pulling all
// of them, then two replicas pulling 5,000 each at the same time. It
// reports the most calls the emulator saw in any one second from the whole
// fleet (fleet_peak_calls_per_s, never above 200) and the pull's elapsed
// time over the ideal, ceil(10000/50)/200 s = 1 s (ratio_to_ideal; the 5%
// default headroom alone makes it about 1.05). Run with -benchtime 1x: each
// iteration is a bounded pull of about a second.
func BenchmarkFleetPull(b *testing.B) {
	const seqs, batch, rate = 10000, 50, 200
	ideal := time.Duration((seqs+batch-1)/batch) * time.Second / rate
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			f := startFleet(b, fleetOptions{replicas: n, rate: rate})
			cookies := make([]*http.Cookie, n)
			for i, r := range f.Replicas {
				cookies[i] = f.mustSignIn(b, r.URL, "alice")
			}
			per := seqs / n
			var elapsed time.Duration
			peak, iterations := 0, 0
			for b.Loop() {
				f.Emu.ResetStats()
				problems := make([]string, n)
				start := time.Now()
				var wg sync.WaitGroup
				for i, r := range f.Replicas {
					wg.Go(func() {
						lo := 1 + i*per
						status, res, msg := pull(r.URL, cookies[i], lo, lo+per-1)
						if status != http.StatusOK || len(res.Results) != per {
							problems[i] = fmt.Sprintf("pull of %d seqs on %s: status %d %s", per, r.URL, status, msg)
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)
				for _, p := range problems {
					if p != "" {
						b.Fatal(p)
					}
				}
				peak = max(peak, f.Emu.PeakPerSecond(fleetSDKAppID))
				iterations++
			}
			b.ReportMetric(float64(peak), "fleet_peak_calls_per_s")
			b.ReportMetric((elapsed/time.Duration(iterations)).Seconds()/ideal.Seconds(), "ratio_to_ideal")
		})
	}
}
