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

// Pacer is the default Limiter: a token bucket plus a sliding-window guard.
// It is exported so that a shared Limiter can fall back to the same pacing
// when its shared budget is out of reach (redisstore paces a replica's
// local share with it while Redis is down) instead of keeping a copy.
//
// Tencent (and the emulator) count calls by arrival in any one-second
// window. The bucket (burst 1, the limit less the headroom) spaces calls
// evenly, but it schedules by reservation: a goroutine that wakes late sends
// late, and the calls behind it do not, which bunches arrivals together. The
// guard records when each call is actually released and holds a call back
// while the last floor(limit) releases span less than one second plus a
// margin, so the bunching cannot add up to more than the limit in a window.
type Pacer struct {
	bucket *rate.Limiter
	window time.Duration

	mu   sync.Mutex
	sent []time.Time // ring of the latest release times
	next int         // oldest entry once the ring is full
	n    int
}

var _ Limiter = (*Pacer)(nil)

// NewPacer returns a Pacer for limit calls/s (positive) that leaves the
// fraction headroom (0 to below 1) of it unused; the guard's margin is half
// the headroom. It starts with one call's token, so a first call goes at
// once.
func NewPacer(limit, headroom float64) *Pacer {
	p := &Pacer{
		bucket: rate.NewLimiter(rate.Limit(limit*(1-headroom)), 1),
		window: time.Second + time.Duration(float64(time.Second)*headroom/2),
	}
	if k := math.Floor(limit); k >= 1 && k <= maxWindowLog {
		p.sent = make([]time.Time, int(k))
	}
	return p
}

// Drain spends the token a new Pacer starts with, so that its first call
// waits one interval like every other. A Pacer that takes over a stream of
// calls from another budget calls it first: the calls that budget just
// granted are still inside the vendor's one-second window, and an immediate
// extra call on every replica would come on top of them.
func (p *Pacer) Drain() { p.bucket.Allow() }

// Wait blocks until one call may be sent now, or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error {
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
