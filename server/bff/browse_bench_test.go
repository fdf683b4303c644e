package bff_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/timemu"
)

// BenchmarkBrowse reports two figures of the browse pages, each against a
// baseline measured in the same run:
//   - a directory search of a 100,000-group index through the BFF, p99,
//     against GET /api/me's p99 (the cheapest signed-in request); goal ≤ 1.5;
//   - a timeline page of 50 messages with receipts and nicknames, server
//     time against the vendor round trips it needs (3 history calls one
//     after the other, then the counts and the names at once), each
//     answered by the emulator after a fixed 20 ms; goal ≤ 1.2.
//
// Each part is bounded: 300 requests a side, 20 timeline pages.
func BenchmarkBrowse(b *testing.B) {
	e := newEnv(b, envOptions{
		tim: func(c *timConfig) { c.RateLimit = 1e6; c.Concurrency = 16 },
		emu: timemu.Config{RateLimit: -1},
	})
	if err := e.emu.Load(timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: alphaSDKAppID, ExtraGroups: 100000 - 8})); err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	ck := e.cookie(alice)
	get := func(path string) error {
		r, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		r.AddCookie(ck)
		resp, err := hc.Do(r)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return nil
	}
	search := api.PathGroups + "?app=alpha&q=" + url.QueryEscape("team 0999")
	// The first search starts the build (about 10 s: the 1 call/s of the
	// group list); wait for it, bounded.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, res, _ := decodeAnswer[api.GroupsResponse](b, e.request(alice, http.MethodGet, search, nil))
		if status == http.StatusOK && res.Ready {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the 100,000-group index was not built in 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	timeline := api.PathGroups + "/" + url.PathEscape(warRoom) + "/messages?app=alpha&limit=50"
	var searchRatio, timelineRatio float64
	for range b.N {
		// Interleaved, so that both sides see the same machine: a noisy
		// second would otherwise land on one of them only.
		var me, s []time.Duration
		for i := range 350 {
			for _, side := range []struct {
				path string
				out  *[]time.Duration
			}{{api.PathMe, &me}, {search, &s}} {
				start := time.Now()
				if err := get(side.path); err != nil {
					b.Fatal(err)
				}
				if i >= 50 { // the first 50 warm up
					*side.out = append(*side.out, time.Since(start))
				}
			}
		}
		slices.Sort(me)
		slices.Sort(s)
		searchRatio = float64(percentile(s, 99)) / float64(percentile(me, 99))
		b.Logf("directory search of 100,000 groups: p99 %v against /api/me's %v: ratio %.2f (goal <= 1.5); p50 %v against %v", percentile(s, 99), percentile(me, 99), searchRatio, percentile(s, 50), percentile(me, 50))

		const rt = 20 * time.Millisecond
		e.emu.SetLatency(rt)
		pages := measure(b, func(int) error { return get(timeline) }, 1, 20)
		e.emu.SetLatency(0)
		ideal := 4 * rt // 3 history calls, then receipts and names in parallel
		timelineRatio = float64(percentile(pages, 50)) / float64(ideal)
		b.Logf("timeline page of 50: server p50 %v against %v of vendor round trips: ratio %.2f (goal <= 1.2)", percentile(pages, 50), ideal, timelineRatio)
	}
	b.ReportMetric(searchRatio, "search-p99-ratio")
	b.ReportMetric(timelineRatio, "timeline-ratio")
}
