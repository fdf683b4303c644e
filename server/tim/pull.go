package tim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Pull is the result of a bulk receipt query.
type Pull struct {
	// Receipts has one entry per distinct requested seq, in seq order. The
	// seqs of a batch that still failed after its retries with a transient
	// cause have Code CodeNotFetched and Err set.
	Receipts []Receipt
	// NotFetched counts those seqs; 0 means the pull is complete.
	NotFetched int
	// Calls counts HTTP attempts, Retries the attempts beyond each batch's
	// first; both feed the audit record and metrics.
	Calls, Retries int
	Elapsed        time.Duration
}

// PullReceipts fetches the counts of any number of seqs (up to MaxSeqs).
// seqs is the canonical list, sorted and distinct, as server/api's grammar
// produces it: the seq list is normalised once, there, and a list that is
// not canonical is refused with ErrInvalid (a check, not a second sort).
// The seqs are split into batches of BatchSize and run Concurrency at a
// time, all paced by the Client's one limiter. Per-seq codes (e.g. 10062)
// are kept in the receipts.
//
// How a failed batch ends the pull depends on its cause:
//   - A Fatal answer (a rejected signature after a fresh one, a missing
//     permission, an unknown group, ...) fails the whole pull at once: no
//     further batch is started and the pull's context is cancelled, so no
//     retry of another batch is sent either. Only the calls already on the
//     wire when the answer arrived may still reach Tencent: at most
//     Concurrency − 1 of them, one per other worker.
//   - Cancelling ctx fails the pull the same way.
//   - A transient cause that outlasted the batch's retries (timeouts, HTTP
//     5xx, unreadable answers, throttling, ctx's deadline) marks that
//     batch's seqs CodeNotFetched, and the other batches go on: the pull is
//     partial. When no batch at all succeeded, the first failure is
//     returned as the error instead.
//
// progress, if not nil, is called after each batch, fetched or failed, with
// the batches done and the total; calls are serialized but come from the
// pull's goroutines, and the pull waits for each, so it must be quick (e.g.
// a non-blocking channel send).
func (c *Client) PullReceipts(ctx context.Context, groupID string, seqs []uint32, progress func(done, total int)) (*Pull, error) {
	start := c.now()
	if groupID == "" {
		return nil, fmt.Errorf("pull receipts: %w: empty group ID", ErrInvalid)
	}
	if len(seqs) > c.cfg.MaxSeqs {
		return nil, fmt.Errorf("pull receipts: %w: %d, at most %d", ErrTooManySeqs, len(seqs), c.cfg.MaxSeqs)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			return nil, fmt.Errorf("pull receipts: %w: the seqs must be sorted and distinct (seq %d after %d)", ErrInvalid, seqs[i], seqs[i-1])
		}
	}
	if len(seqs) == 0 {
		return &Pull{Receipts: []Receipt{}, Elapsed: c.now().Sub(start)}, nil
	}

	batches := slices.Collect(slices.Chunk(seqs, c.cfg.BatchSize))
	results := make([][]Receipt, len(batches))
	failed := make([]*Error, len(batches))
	var st stats

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // guards next, done, firstErr and progress calls
		next     int
		done     int
		fetched  int
		firstErr error // fatal: fails the whole pull
		firstTE  *Error
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next == len(batches) {
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
				te, isTE := errors.AsType[*Error](err)
				switch {
				case err == nil:
					results[i] = rs
					fetched++
				case isTE && !te.Fatal() && te.Cause() != CauseCanceled:
					failed[i] = te
					if firstTE == nil {
						firstTE = te
					}
				default:
					if firstErr == nil {
						firstErr = err
						cancel() // stop the other workers' calls and retries
					}
					mu.Unlock()
					return
				}
				done++
				if progress != nil {
					progress(done, len(batches))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	if firstErr != nil {
		return nil, fmt.Errorf("pull receipts: %w", firstErr)
	}
	if fetched == 0 {
		return nil, fmt.Errorf("pull receipts: %w", firstTE)
	}
	p := &Pull{
		Receipts: make([]Receipt, 0, len(seqs)),
		Calls:    int(st.calls.Load()),
		Retries:  int(st.retries.Load()),
	}
	for i, rs := range results {
		if te := failed[i]; te != nil {
			for _, s := range batches[i] {
				p.Receipts = append(p.Receipts, Receipt{Seq: s, Code: CodeNotFetched, Err: te})
			}
			p.NotFetched += len(batches[i])
			continue
		}
		p.Receipts = append(p.Receipts, rs...)
	}
	p.Elapsed = c.now().Sub(start)
	return p, nil
}
