package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/redisstore"
)

// BenchmarkLimiter_Fleet reports, for one and two replicas sharing the
// vendor's default 200 calls/s through one Redis, the calls/s the fleet
// achieved, its ratio to the ideal (the rate less the headroom) and the peak
// in any one-second window. Each iteration releases 400 calls (about two
// seconds) from 16 callers per replica, like a bulk pull.
func BenchmarkLimiter_Fleet(b *testing.B) {
	const rate, calls, workers = 200, 400, 16
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			srv := mustStartRedis(b)
			var reps []*replica
			for range n {
				cfg := storeConfig(srv)
				cfg.Replicas = n
				lim, err := mustNew(b, cfg).NewLimiter(redisstore.LimiterConfig{SDKAppID: testAppID, Rate: rate})
				if err != nil {
					b.Fatal(err)
				}
				reps = append(reps, &replica{lim: lim})
			}
			var perSec float64
			peak := 0
			for b.Loop() {
				var arr arrivals
				start := time.Now()
				stop := drive(b, reps, workers, calls, &arr)
				waitFor(b, "all calls", time.Minute, func() bool { return arr.count() >= calls })
				elapsed := time.Since(start)
				stop()
				perSec += float64(calls) / elapsed.Seconds()
				peak = max(peak, arr.peak())
			}
			perSec /= float64(b.N)
			b.ReportMetric(perSec, "calls/s")
			b.ReportMetric(perSec/(rate*(1-redisstore.DefaultHeadroom)), "ratio")
			b.ReportMetric(float64(peak), "peak/s")
		})
	}
}
