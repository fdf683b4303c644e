package tim

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Pull is the result of a bulk receipt query.
type Pull struct {
	// Receipts has one entry per distinct requested seq, in seq order.
	Receipts []Receipt
	// Calls counts HTTP attempts, Retries the attempts beyond each batch's
	// first; both feed the audit record and metrics.
	Calls, Retries int
	Elapsed        time.Duration
}

// PullReceipts fetches the counts of any number of seqs (up to MaxSeqs):
// duplicates are dropped, the rest split into batches of BatchSize and run
// Concurrency at a time, all paced by the Client's one limiter. Per-seq codes
// (e.g. 10062) are kept in the receipts; only a failed call fails the pull,
// and then the other batches are cancelled.
//
// progress, if not nil, is called after each batch with the batches done
// and the total; calls are serialized but come from the pull's goroutines,
// and the pull waits for each, so it must be quick (e.g. a non-blocking
// channel send).
func (c *Client) PullReceipts(ctx context.Context, groupID string, seqs []uint32, progress func(done, total int)) (*Pull, error) {
	start := c.now()
	if groupID == "" {
		return nil, fmt.Errorf("pull receipts: %w: empty group ID", ErrInvalid)
	}
	if len(seqs) > c.cfg.MaxSeqs {
		return nil, fmt.Errorf("pull receipts: %w: %d, at most %d", ErrTooManySeqs, len(seqs), c.cfg.MaxSeqs)
	}
	sorted := slices.Clone(seqs)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	if len(sorted) == 0 {
		return &Pull{Receipts: []Receipt{}, Elapsed: c.now().Sub(start)}, nil
	}

	batches := slices.Collect(slices.Chunk(sorted, c.cfg.BatchSize))
	results := make([][]Receipt, len(batches))
	var st stats

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // guards next, done, firstErr and progress calls
		next     int
		done     int
		firstErr error
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || ctx.Err() != nil || next == len(batches) {
			return 0, false
		}
		next++
		return next - 1, true
	}
	workers := min(c.cfg.Concurrency, len(batches))
	for range workers {
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok {
					return
				}
				rs, err := c.groupMsgReceipts(ctx, groupID, batches[i], &st)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
					return
				}
				results[i] = rs
				done++
				if progress != nil {
					progress(done, len(batches))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, fmt.Errorf("pull receipts: %w", firstErr)
	}
	p := &Pull{
		Receipts: make([]Receipt, 0, len(sorted)),
		Calls:    int(st.calls.Load()),
		Retries:  int(st.retries.Load()),
	}
	for _, rs := range results {
		p.Receipts = append(p.Receipts, rs...)
	}
	p.Elapsed = c.now().Sub(start)
	return p, nil
}
