package tim

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestPacerWindowGuard checks the guard alone (an unlimited bucket): however
// many callers, no window of the guard's length holds more releases than
// its size.
func TestPacerWindowGuard(t *testing.T) {
	const size, window, calls = 10, 100 * time.Millisecond, 35
	p := &Pacer{bucket: rate.NewLimiter(rate.Inf, 1), window: window, sent: make([]time.Time, size)}
	var mu sync.Mutex
	var times []time.Time
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			if err := p.Wait(context.Background()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i := size; i < len(times); i++ {
		// Half the window: the times are taken just after release, so
		// scheduling may shift them; without the guard they are all ~0 apart.
		if d := times[i].Sub(times[i-size]); d < window/2 {
			t.Errorf("releases %d and %d only %v apart, want about %v", i-size, i, d, window)
		}
	}
}

func TestPacerCancel(t *testing.T) {
	p := NewPacer(1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := p.Wait(ctx); err == nil {
		t.Error("Wait on a cancelled context = nil, want an error")
	}
}

// TestPacerDrain: a new Pacer lets its first call go at once; a drained one
// makes it wait a full interval (here one second, far beyond the deadline).
func TestPacerDrain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := NewPacer(1, 0).Wait(ctx); err != nil {
		t.Errorf("first Wait of a new Pacer = %v, want nil", err)
	}
	p := NewPacer(1, 0)
	p.Drain()
	if err := p.Wait(ctx); err == nil {
		t.Error("first Wait of a drained Pacer = nil, want an error (the wait outlasts the deadline)")
	}
}
