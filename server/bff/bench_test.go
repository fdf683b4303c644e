package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/timemu"
)

// BenchmarkOverhead reports what the BFF adds to a 50-seq query (one
// Tencent call): the same query through the BFF over HTTP (session check,
// validation, JSON, audit) and straight to the emulator through the same
// tim client, as p50 and p99 latency ratios at 1 and 64 concurrent clients.
//
// Both the emulator's and the client's rate limits are lifted, so the
// limiter (which would otherwise dominate at 64 clients) is not measured.
// Each run is bounded: 300 requests per side at 1 client, 640 at 64.
func BenchmarkOverhead(b *testing.B) {
	e := newEnv(b, envOptions{
		tim: func(c *timConfig) { c.RateLimit = 1e9; c.CallTimeout = 10 * time.Second; c.Concurrency = 64 },
		emu: timemu.Config{RateLimit: -1},
	})
	seqs := seqRange(1001, 1050)
	body, _ := json.Marshal(api.ReceiptsRequest{App: "alpha", GroupID: allHands, Seqs: api.SeqText("1001-1050")})
	// One operator per client: the per-operator pull bound must not turn
	// the 64-client run into 429s.
	var cookies []*http.Cookie
	for i := range 64 {
		cookies = append(cookies, e.cookie(auth.Operator{Subject: fmt.Sprintf("u-bench%02d", i), Groups: []string{"ops-readonly"}}))
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}
	ctx := context.Background()

	viaBFF := func(client int) error {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+api.PathReceipts, bytes.NewReader(body))
		if err != nil {
			return err
		}
		r.Header.Set("Content-Type", "application/json")
		r.AddCookie(cookies[client])
		resp, err := hc.Do(r)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var res api.ReceiptsResponse
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK || len(res.Results) != len(seqs) {
			return fmt.Errorf("status %d, %d results", resp.StatusCode, len(res.Results))
		}
		return nil
	}
	direct := func(int) error {
		p, err := e.alpha.PullReceipts(ctx, allHands, seqs, nil)
		if err == nil && len(p.Receipts) != len(seqs) {
			err = fmt.Errorf("%d receipts", len(p.Receipts))
		}
		return err
	}

	type figures struct{ p50, p99 float64 }
	ratios := map[int]figures{}
	for range b.N {
		for _, c := range []struct{ clients, requests int }{{1, 300}, {64, 640}} {
			measure(b, direct, c.clients, 50) // warm connections and caches
			measure(b, viaBFF, c.clients, 50)
			d := measure(b, direct, c.clients, c.requests)
			v := measure(b, viaBFF, c.clients, c.requests)
			ratios[c.clients] = figures{
				p50: float64(percentile(v, 50)) / float64(percentile(d, 50)),
				p99: float64(percentile(v, 99)) / float64(percentile(d, 99)),
			}
			b.Logf("%2d clients: direct p50 %v p99 %v; via BFF p50 %v p99 %v", c.clients,
				percentile(d, 50), percentile(d, 99), percentile(v, 50), percentile(v, 99))
		}
	}
	b.ReportMetric(ratios[1].p50, "p50-ratio-1client")
	b.ReportMetric(ratios[1].p99, "p99-ratio-1client")
	b.ReportMetric(ratios[64].p50, "p50-ratio-64clients")
	b.ReportMetric(ratios[64].p99, "p99-ratio-64clients")
}

// measure runs fn requests times from clients goroutines and returns each
// call's latency, sorted.
func measure(b *testing.B, fn func(client int) error, clients, requests int) []time.Duration {
	b.Helper()
	var (
		next atomic.Int64
		mu   sync.Mutex
		out  = make([]time.Duration, 0, requests)
		errs atomic.Int64
		wg   sync.WaitGroup
	)
	for client := range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(requests) {
				start := time.Now()
				if err := fn(client); err != nil {
					if errs.Add(1) == 1 {
						b.Errorf("request: %v", err)
					}
					continue
				}
				d := time.Since(start)
				mu.Lock()
				out = append(out, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(out) == 0 {
		b.Fatal("no successful requests")
	}
	slices.Sort(out)
	return out
}

// percentile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}
