package tim

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxWindowLog bounds the memory of the sliding-window guard; higher limits
// (only seen in tests) are paced by the token bucket alone.
const maxWindowLog = 10000

// pacer is the default Limiter: a token bucket plus a sliding-window guard.
//
// Tencent (and the emulator) count calls by arrival in any one-second
// window. The bucket (burst 1, RateLimit less the headroom) spaces calls
// evenly, but it schedules by reservation: a goroutine that wakes late sends
// late, and the calls behind it do not, which bunches arrivals together. The
// guard records when each call is actually released and holds a call back
// while the last floor(RateLimit) releases span less than one second plus a
// margin, so the bunching cannot add up to more than the limit in a window.
type pacer struct {
	bucket *rate.Limiter
	window time.Duration

	mu   sync.Mutex
	sent []time.Time // ring of the latest release times
	next int         // oldest entry once the ring is full
	n    int
}

func newPacer(limit, headroom float64) *pacer {
	p := &pacer{
		bucket: rate.NewLimiter(rate.Limit(limit*(1-headroom)), 1),
		window: time.Second + time.Duration(float64(time.Second)*headroom/2),
	}
	if k := math.Floor(limit); k >= 1 && k <= maxWindowLog {
		p.sent = make([]time.Time, int(k))
	}
	return p
}

// Wait blocks until one call may be sent now.
func (p *pacer) Wait(ctx context.Context) error {
	if err := p.bucket.Wait(ctx); err != nil {
		return err
	}
	if p.sent == nil {
		return nil
	}
	for {
		p.mu.Lock()
		now := time.Now()
		if p.n < len(p.sent) || now.Sub(p.sent[p.next]) >= p.window {
			p.sent[p.next] = now
			p.next = (p.next + 1) % len(p.sent)
			p.n = min(p.n+1, len(p.sent))
			p.mu.Unlock()
			return nil
		}
		d := p.window - now.Sub(p.sent[p.next])
		p.mu.Unlock()
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}
