//go:build e2e

package e2e_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// BenchmarkBrowser reports the medians over 5 fresh-profile loads of the
// times issue 7 asks for: navigation to the app mounted and usable, and a
// click on Pull to the chart drawn for 50 and for 10,000 seqs. Each profile
// gets a session cookie from a login done with a plain HTTP client, so the
// sign-in is not timed.
func BenchmarkBrowser(b *testing.B) {
	const loads = 5
	s := startStack(b, stackOptions{})
	var mount, pull50, pull10k []float64
	for b.Loop() {
		mount, pull50, pull10k = nil, nil, nil
		for range loads {
			m, p50, p10k := benchLoad(b, s)
			mount, pull50, pull10k = append(mount, m), append(pull50, p50), append(pull10k, p10k)
		}
	}
	b.ReportMetric(median(mount), "mount-ms")
	b.ReportMetric(median(pull50), "pull50-ms")
	b.ReportMetric(median(pull10k), "pull10k-ms")
	b.Logf("mount %v ms; pull 50 %v ms; pull 10,000 %v ms", mount, pull50, pull10k)
}

// benchLoad measures one fresh profile.
func benchLoad(tb testing.TB, s *stack) (mount, pull50, pull10k float64) {
	tb.Helper()
	br := newBenchBrowser(tb)
	defer br.close() // one browser at a time, not five at the end
	_, ck := s.httpLogin("alice")
	secure, httpOnly := true, true
	if _, err := chromedp.Call(br.ctx, network.SetCookie, network.SetCookieParams{
		Name: ck.Name, Value: ck.Value, URL: s.URL + "/", Path: "/",
		Secure: &secure, HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax,
	}); err != nil {
		tb.Fatalf("set the session cookie: %v", err)
	}

	start := time.Now()
	br.navigate(s.URL + "/")
	br.waitFor("the app to be usable", `document.querySelector('#console[data-mounted="true"]') !== null
		&& !document.querySelector('#pull-button').disabled
		&& document.querySelector('#app-select option[value]:not([value=""])') !== null`, 60*time.Second)
	mount = ms(time.Since(start))

	pull := func(group, seqs, done string) float64 {
		br.typeInto("group-input", group)
		br.typeInto("seqs-input", seqs)
		start := time.Now()
		br.click("pull-button")
		br.waitFor("the chart for "+seqs, done, 60*time.Second)
		return ms(time.Since(start))
	}
	pull50 = pull(bigGroup, "1-50", `document.querySelector('#progress') === null && document.querySelectorAll('svg#chart g.col').length === 50`)
	pull10k = pull(bigGroup, "1-10000", `document.querySelector('#progress') === null && document.querySelector('.bucket-note') !== null
		&& document.querySelector('#summary .tile[data-tile="messages"] .tile-value').textContent.replace(/\D/g, '') === '10000'`)
	return mount, pull50, pull10k
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
