//go:build e2e

package e2e_test

import (
	"encoding/csv"
	"fmt"
	"math"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"

	"github.com/timconsole/timconsole/server/bff"
	"github.com/timconsole/timconsole/server/timemu"
)

// drillPageSize is the drill-down page size the suite asks for with the
// deep link's pageSize parameter, so a 40-member group spans several pages.
const drillPageSize = 5

// withPageSize adds the drill-down page size to a deep link.
func withPageSize(link string, n int) string { return link + "&pageSize=" + strconv.Itoa(n) }

// deepLink is the console URL of a query, spelled as the UI spells it.
func deepLink(s *stack, group, seqs string) string {
	return s.URL + "/receipts?" + url.Values{"app": {appID}, "group": {group}, "seqs": {seqs}}.Encode()
}

// signIn fills the development IdP's login form, which the browser is on or
// being redirected to, and submits it.
func (b *browser) signIn(s *stack, user string) {
	b.t.Helper()
	idp, err := url.Parse(s.IdP.Issuer())
	if err != nil {
		b.t.Fatal(err)
	}
	b.waitFor("the IdP login form", fmt.Sprintf(`location.host === %q && document.querySelector('#username') !== null`, idp.Host), 30*time.Second)
	b.typeInto("username", user)
	b.typeInto("password", s.passwords[user])
	b.click("submit")
}

// signedInAt opens url, signs in as user on the way and waits until the app
// is mounted back at url.
func (b *browser) signedInAt(s *stack, u, user string) {
	b.t.Helper()
	b.navigate(u)
	b.signIn(s, user)
	b.waitFor("the way back to "+u, fmt.Sprintf(`location.href === %q`, u), 30*time.Second)
	b.waitMounted()
	b.waitFor("the operator", `document.querySelector('#operator') !== null`, 20*time.Second)
}

// finish runs the checks every journey ends with: no CSP violation, and no
// secret in anything the browser received.
func finish(t *testing.T, b *browser, s *stack, wantUserSig bool) {
	t.Helper()
	if v := b.cspViolations(); len(v) > 0 {
		t.Errorf("CSP violations:\n%s", strings.Join(v, "\n"))
	}
	// The scan must have seen the bundle the browser runs, not only JSON.
	for _, path := range []string{"/app.js", "/web/app.wasm", "/wasm_exec.js"} {
		if !slices.ContainsFunc(b.received(), func(r capturedResponse) bool {
			return strings.HasPrefix(r.RequestURL, s.URL+path) && len(r.Body) > 0
		}) {
			t.Errorf("secret scan: the body of %s was not captured", path)
		}
	}
	b.assertNoSecrets(s.secretSet(wantUserSig))
}

// chartColumn is one column of the SVG chart as drawn.
type chartColumn struct {
	Seq     uint32  `json:"seq"`
	SeqHi   uint32  `json:"seqHi"`
	Label   string  `json:"label"`
	ReadH   float64 `json:"readH"`
	UnreadH float64 `json:"unreadH"`
	Missing bool    `json:"missing"`
}

func (b *browser) chart() []chartColumn {
	b.t.Helper()
	return eval[[]chartColumn](b, `[...document.querySelectorAll('svg#chart g.col')].map(g => ({
		seq: +g.dataset.seq,
		seqHi: +(g.dataset.seqHi || g.dataset.seq),
		label: g.querySelector('rect.hit').getAttribute('aria-label'),
		readH: +g.querySelector('rect.bar-read').getAttribute('height'),
		unreadH: +g.querySelector('rect.bar-unread').getAttribute('height'),
		missing: g.querySelector('path.missing-mark') !== null,
	}))`)
}

// tableRow is one row of the results table as shown.
type tableRow struct {
	Seq    uint32 `json:"seq"`
	Read   string `json:"read"`
	Unread string `json:"unread"`
}

func (b *browser) table() []tableRow {
	b.t.Helper()
	return eval[[]tableRow](b, `[...document.querySelectorAll('#results-table tbody tr[data-seq]')].map(tr => ({
		seq: +tr.dataset.seq,
		read: tr.cells[1].textContent.trim(),
		unread: tr.cells[2].textContent.trim(),
	}))`)
}

// tile reads a summary tile's value as a number.
func (b *browser) tile(name string) int {
	b.t.Helper()
	s := eval[string](b, fmt.Sprintf(`document.querySelector('#summary .tile[data-tile=%q] .tile-value').textContent`, name))
	n, err := strconv.Atoi(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s))
	if err != nil {
		b.t.Fatalf("tile %s shows %q", name, s)
	}
	return n
}

// walkMembers reads the open drill-down tab to its end with "load more",
// and returns the members and the number of pages it took.
func (b *browser) walkMembers(tab string) ([]string, int) {
	b.t.Helper()
	const loaded = `document.querySelector('#drilldown .loading-line') === null`
	count := `document.querySelectorAll('#member-list li.member').length`
	b.waitFor(tab+" first page", loaded+` && (`+count+` > 0 || document.querySelector('#load-more') === null)`, 20*time.Second)
	pages := 1
	for range 100 {
		if !eval[bool](b, `document.querySelector('#load-more') !== null`) {
			break
		}
		n := eval[int](b, count)
		b.click("load-more")
		pages++
		b.waitFor(fmt.Sprintf("%s page %d", tab, pages), fmt.Sprintf(`%s && %s > %d`, loaded, count, n), 20*time.Second)
	}
	if eval[bool](b, `document.querySelector('#member-error') !== null`) {
		b.t.Fatalf("%s: %s", tab, eval[string](b, `document.querySelector('#member-error').textContent`))
	}
	return eval[[]string](b, `[...document.querySelectorAll('#member-list li.member')].map(li => li.textContent.trim())`), pages
}

// TestDeepLinkJourney is journey 1: an allowed operator opens a deep link,
// signs in through the real IdP form and lands on the same query, run; the
// chart, table, sorting, drill-down and CSV all match the emulator. It also
// checks the session cookie's attributes and contents (checklist item 11).
func TestDeepLinkJourney(t *testing.T) {
	s := startStack(t, stackOptions{})
	b := newBrowser(t)
	link := withPageSize(deepLink(s, opsGroup, "1-20"), drillPageSize)

	b.navigate(link)
	b.signIn(s, "alice")
	b.screenshot("1-idp-form-filled")
	b.waitFor("the way back to the deep link", fmt.Sprintf(`location.href === %q`, link), 30*time.Second)
	b.waitMounted()
	b.waitFor("the chart", `document.querySelectorAll('svg#chart g.col').length === 20 && document.querySelector('#progress') === null`, 30*time.Second)
	b.screenshot("2-results")

	if got := eval[string](b, `document.querySelector('#operator').textContent`); !strings.Contains(got, "Alice Admin") {
		t.Errorf("operator shows %q, want Alice Admin", got)
	}
	if got := eval[string](b, `document.querySelector('#group-input').value + ' ' + document.querySelector('#seqs-input').value`); got != opsGroup+" 1-20" {
		t.Errorf("the form shows %q, want the deep link's query", got)
	}

	// Ground truth from the emulator.
	var truths []truth
	want := map[string]int{}
	for seq := uint32(1); seq <= 20; seq++ {
		tr := s.truth(opsGroup, seq)
		if tr.Receipt == opsNoReceipt[seq] {
			t.Fatalf("seq %d: emulator receipt %v, fixture says %v", seq, tr.Receipt, !opsNoReceipt[seq])
		}
		truths = append(truths, tr)
		want["messages"]++
		if tr.Receipt {
			want["with-receipt"]++
			want["total-read"] += len(tr.Read)
			want["total-unread"] += len(tr.Unread)
		} else {
			want["missing"]++
		}
	}

	t.Run("chart", func(t *testing.T) {
		b := b.in(t)
		cols := b.chart()
		if len(cols) != len(truths) {
			t.Fatalf("%d chart columns, want one per seq (%d)", len(cols), len(truths))
		}
		scale := 0.0 // bar units per member, the same for every bar
		for i, c := range cols {
			tr := truths[i]
			if c.Seq != tr.Seq || c.SeqHi != tr.Seq {
				t.Errorf("column %d is seqs %d-%d, want seq %d", i, c.Seq, c.SeqHi, tr.Seq)
				continue
			}
			if !tr.Receipt {
				if !c.Missing || !strings.Contains(c.Label, "no receipt") {
					t.Errorf("seq %d has no receipt, but the chart shows missing=%v %q", tr.Seq, c.Missing, c.Label)
				}
				continue
			}
			wantLabel := fmt.Sprintf("read %d · unread %d", len(tr.Read), len(tr.Unread))
			if c.Missing || !strings.Contains(c.Label, wantLabel) {
				t.Errorf("seq %d: chart label %q, want %q", tr.Seq, c.Label, wantLabel)
			}
			if scale == 0 && len(tr.Read) > 0 {
				scale = c.ReadH / float64(len(tr.Read))
			}
			for _, bar := range []struct {
				h float64
				n int
			}{{c.ReadH, len(tr.Read)}, {c.UnreadH, len(tr.Unread)}} {
				if math.Abs(bar.h-scale*float64(bar.n)) > 0.02+0.01*bar.h {
					t.Errorf("seq %d: a bar of %d members is %.2f high, want %.2f", tr.Seq, bar.n, bar.h, scale*float64(bar.n))
				}
			}
		}
		for name, n := range want {
			if got := b.tile(name); got != n {
				t.Errorf("tile %s = %d, want %d", name, got, n)
			}
		}
	})

	t.Run("table and sorting", func(t *testing.T) {
		b := b.in(t)
		count := func(tr truth, n int) string {
			if !tr.Receipt {
				return "—"
			}
			return strconv.Itoa(n)
		}
		var rows []tableRow
		for _, tr := range truths {
			rows = append(rows, tableRow{Seq: tr.Seq, Read: count(tr, len(tr.Read)), Unread: count(tr, len(tr.Unread))})
		}
		if diff := cmp.Diff(rows, b.table()); diff != "" {
			t.Errorf("table by seq (-want +got):\n%s", diff)
		}
		// By read count, ascending (messages without receipt count 0),
		// ties by seq; a second click reverses.
		asc := slices.Clone(rows)
		slices.SortStableFunc(asc, func(x, y tableRow) int {
			rx, _ := strconv.Atoi(x.Read)
			ry, _ := strconv.Atoi(y.Read)
			if rx != ry {
				return rx - ry
			}
			return int(x.Seq) - int(y.Seq)
		})
		b.click("sort-read")
		b.waitFor("the sorted table", fmt.Sprintf(`document.querySelector('#results-table tbody tr[data-seq]').dataset.seq === '%d'`, asc[0].Seq), 10*time.Second)
		if diff := cmp.Diff(asc, b.table()); diff != "" {
			t.Errorf("table by read, ascending (-want +got):\n%s", diff)
		}
		b.screenshot("3-sorted-by-read")
		desc := slices.Clone(asc)
		slices.Reverse(desc)
		b.click("sort-read")
		b.waitFor("the reversed table", fmt.Sprintf(`document.querySelector('#results-table tbody tr[data-seq]').dataset.seq === '%d'`, desc[0].Seq), 10*time.Second)
		if diff := cmp.Diff(desc, b.table()); diff != "" {
			t.Errorf("table by read, descending (-want +got):\n%s", diff)
		}
	})

	t.Run("drill-down", func(t *testing.T) {
		b := b.in(t)
		// The seq whose shorter list is longest walks the most pages.
		var pick truth
		for _, tr := range truths {
			if tr.Receipt && min(len(tr.Read), len(tr.Unread)) > min(len(pick.Read), len(pick.Unread)) {
				pick = tr
			}
		}
		if min(len(pick.Read), len(pick.Unread)) <= 2*drillPageSize {
			t.Fatalf("the fixture has no seq with more than %d readers and non-readers", 2*drillPageSize)
		}
		b.click(fmt.Sprintf("row-%d", pick.Seq))
		b.waitFor("the drill-down", `document.querySelector('#drilldown') !== null`, 10*time.Second)
		if got := eval[string](b, `document.querySelector('#members-per-page').value`); got != strconv.Itoa(drillPageSize) {
			t.Errorf("the per-page select shows %q, want the deep link's %d", got, drillPageSize)
		}
		for _, tab := range []struct {
			id   string
			want []string
		}{{"tab-read", pick.Read}, {"tab-unread", pick.Unread}} {
			b.click(tab.id)
			b.waitFor(tab.id+" selected", fmt.Sprintf(`document.querySelector('#%s').getAttribute('aria-selected') === 'true'`, tab.id), 10*time.Second)
			got, pages := b.walkMembers(tab.id)
			if diff := cmp.Diff(tab.want, got); diff != "" {
				t.Errorf("seq %d %s members (-emulator +shown):\n%s", pick.Seq, tab.id, diff)
			}
			if wantPages := (len(tab.want) + drillPageSize - 1) / drillPageSize; pages != wantPages {
				t.Errorf("seq %d %s took %d pages, want %d of %d", pick.Seq, tab.id, pages, wantPages, drillPageSize)
			}
			b.screenshot("4-drilldown-" + tab.id)
		}
	})

	t.Run("keyboard", func(t *testing.T) {
		b := b.in(t)
		focused := func() string { return eval[string](b, `document.activeElement ? document.activeElement.id : ''`) }
		rows := b.table()
		if len(rows) < 2 {
			t.Fatalf("%d rows, want at least 2", len(rows))
		}
		first, second := fmt.Sprintf("row-%d", rows[0].Seq), fmt.Sprintf("row-%d", rows[1].Seq)
		eval[bool](b, fmt.Sprintf(`(() => { document.getElementById(%q).focus(); return true; })()`, first))
		b.do(10*time.Second, chromedp.KeyEvent(kb.ArrowDown))
		if got := focused(); got != second {
			t.Errorf("ArrowDown from %s focused %q, want %s", first, got, second)
		}
		b.do(10*time.Second, chromedp.KeyEvent(kb.ArrowUp))
		if got := focused(); got != first {
			t.Errorf("ArrowUp from %s focused %q, want %s", second, got, first)
		}
		b.do(10*time.Second, chromedp.KeyEvent(kb.Enter))
		b.waitFor("the drill-down of the focused row", fmt.Sprintf(`(document.querySelector('#drilldown-title') || {}).textContent === 'Seq %d'
			&& document.activeElement && document.activeElement.id === 'drilldown-title'`, rows[0].Seq), 10*time.Second)
		if got := eval[string](b, fmt.Sprintf(`document.getElementById(%q).getAttribute('aria-current') || ''`, first)); got != "true" {
			t.Errorf("the open row %s has aria-current %q, want true", first, got)
		}
		eval[bool](b, fmt.Sprintf(`(() => { document.getElementById(%q).focus(); return true; })()`, second))
		b.do(10*time.Second, chromedp.KeyEvent(" "))
		b.waitFor("the drill-down of the row opened with Space", fmt.Sprintf(`(document.querySelector('#drilldown-title') || {}).textContent === 'Seq %d'`, rows[1].Seq), 10*time.Second)
		// A sort redraws the table: the focus stays on the sort button.
		b.click("sort-seq")
		b.waitFor("the table by seq", fmt.Sprintf(`document.querySelector('#results-table tbody tr[data-seq]').dataset.seq === '%d'`, truths[0].Seq), 10*time.Second)
		if got := focused(); got != "sort-seq" {
			t.Errorf("after sorting by seq the focus is on %q, want sort-seq", got)
		}
	})

	t.Run("csv", func(t *testing.T) {
		b := b.in(t)
		// The link leaves the file name to the server: a bare download
		// attribute, and a Content-Disposition that names the file.
		if got := eval[string](b, `(() => { const a = document.querySelector('#csv-link');
			return a.hasAttribute('download') ? 'download=' + JSON.stringify(a.getAttribute('download')) : 'no download attribute'; })()`); got != `download=""` {
			t.Errorf("the CSV link has %s, want a bare download attribute", got)
		}
		type download struct {
			Status      int    `json:"status"`
			Type        string `json:"type"`
			Disposition string `json:"disposition"`
			Body        string `json:"body"`
		}
		d := eval[download](b, `(async () => {
			const r = await fetch(document.querySelector('#csv-link').href, {credentials: 'same-origin'});
			return {status: r.status, type: r.headers.get('Content-Type') || '', disposition: r.headers.get('Content-Disposition') || '', body: await r.text()};
		})()`)
		if d.Status != 200 || !strings.HasPrefix(d.Type, "text/csv") || !strings.Contains(d.Disposition, "attachment") {
			t.Fatalf("CSV download: %d %q %q", d.Status, d.Type, d.Disposition)
		}
		if _, params, err := mime.ParseMediaType(d.Disposition); err != nil || !strings.HasPrefix(params["filename"], "receipts-"+appID+"-") || !strings.HasSuffix(params["filename"], ".csv") {
			t.Errorf("CSV Content-Disposition %q names no receipts-%s-….csv file (%v)", d.Disposition, appID, err)
		}
		records, err := csv.NewReader(strings.NewReader(d.Body)).ReadAll()
		if err != nil {
			t.Fatalf("CSV: %v\n%s", err, d.Body)
		}
		if len(records) != len(truths)+1 || !slices.Equal(records[0][:5], []string{"seq", "read", "unread", "read_rate", "code"}) {
			t.Fatalf("CSV has %d lines, header %v; want a header and %d rows", len(records), records[0], len(truths))
		}
		for i, tr := range truths {
			rec := records[i+1]
			wantRead, wantUnread, wantCode := strconv.Itoa(len(tr.Read)), strconv.Itoa(len(tr.Unread)), "0"
			if !tr.Receipt {
				wantRead, wantUnread, wantCode = "0", "0", strconv.Itoa(10062)
			}
			want := []string{strconv.Itoa(int(tr.Seq)), wantRead, wantUnread, wantCode}
			if got := []string{rec[0], rec[1], rec[2], rec[4]}; !slices.Equal(got, want) {
				t.Errorf("CSV row %d = %v, want seq,read,unread,code = %v", i+1, got, want)
			}
		}
	})

	t.Run("session cookie", func(t *testing.T) { checkSessionCookie(t, b.in(t), s) })

	t.Run("CSP header", func(t *testing.T) {
		// The page runs under the strict policy (checklist item 20): the
		// document carries it, and the finish below finds no violation.
		var csp string
		for _, r := range b.received() {
			if r.RequestURL == link && strings.Contains(r.Headers, "Content-Security-Policy") {
				csp = r.Headers
			}
		}
		for _, want := range []string{"'wasm-unsafe-eval'", "frame-ancestors 'none'", "form-action 'self' " + s.IdP.Issuer()} {
			if !strings.Contains(csp, want) {
				t.Errorf("the deep link's headers lack %q in their CSP:\n%s", want, csp)
			}
		}
	})

	finish(t, b, s, true)
}

// TestErrorJourneys is journey 4: a group that does not exist, a range over
// the cap (refused before any upstream call) and a burst of upstream 502s
// that outlasts the client's retries, then a retry that succeeds.
func TestErrorJourneys(t *testing.T) {
	s := startStack(t, stackOptions{})
	b := newBrowser(t)
	b.signedInAt(s, deepLink(s, "@TGS#2NOSUCHGROUP", "1-20"), "alice")

	t.Run("unknown group", func(t *testing.T) {
		b := b.in(t)
		b.waitFor("the error", `document.querySelector('#error-box') !== null`, 20*time.Second)
		b.screenshot("1-unknown-group")
		if code := eval[string](b, `document.querySelector('#error-box').dataset.code`); code != "upstream" {
			t.Errorf("error code %q, want upstream", code)
		}
		if got := eval[string](b, `(document.querySelector('#error-tencent-code') || {}).textContent || ''`); !strings.Contains(got, "10010") {
			t.Errorf("Tencent code shown %q, want 10010", got)
		}
		if got, want := eval[string](b, `document.querySelector('#error-box').textContent`), bff.Explain(10010); !strings.Contains(got, want) {
			t.Errorf("error box %q lacks the 10010 explanation %q", got, want)
		}
	})

	t.Run("over the cap", func(t *testing.T) {
		b := b.in(t)
		before := s.Emu.TotalCalls()
		b.typeInto("group-input", opsGroup)
		b.typeInto("seqs-input", "1-10001")
		b.click("pull-button")
		b.waitFor("the validation message", `document.querySelector('#seqs-hint.hint-error') !== null`, 10*time.Second)
		b.screenshot("2-over-the-cap-form")
		hint := eval[string](b, `document.querySelector('#seqs-hint').textContent`)
		if !strings.Contains(hint, "10,000") && !strings.Contains(hint, "10000") {
			t.Errorf("seqs hint %q does not name the cap of 10,000", hint)
		}
		// The same range in a deep link: the BFF refuses it.
		b.navigate(deepLink(s, opsGroup, "1-10001"))
		b.waitMounted()
		b.waitFor("the BFF's validation error", `document.querySelector('#error-box[data-code="invalid"]') !== null`, 20*time.Second)
		b.screenshot("3-over-the-cap-link")
		if after := s.Emu.TotalCalls(); after != before {
			t.Errorf("the emulator saw %d calls for an over-the-cap range, want none", after-before)
		}
	})

	t.Run("502 burst and retry", func(t *testing.T) {
		b := b.in(t)
		const cmd = "get_group_msg_receipt"
		before := s.Emu.Calls(cmd)
		s.Emu.Inject(timemu.Fault{Kind: timemu.FaultHTTP502, Count: 3, Command: cmd}) // max_attempts is 3
		b.typeInto("group-input", opsGroup)
		b.typeInto("seqs-input", "1-20")
		b.click("pull-button")
		b.waitFor("the retryable error", `document.querySelector('#error-box') !== null && document.querySelector('#retry-button') !== null`, 30*time.Second)
		b.screenshot("4-upstream-502")
		if code := eval[string](b, `document.querySelector('#error-box').dataset.code`); code != "unavailable" {
			t.Errorf("error code %q, want unavailable", code)
		}
		if n := s.Emu.Calls(cmd) - before; n != 3 {
			t.Errorf("the emulator saw %d calls, want the 3 attempts", n)
		}
		b.click("retry-button")
		b.waitFor("the result after the retry", `document.querySelector('#error-box') === null && document.querySelectorAll('svg#chart g.col').length === 20`, 30*time.Second)
		b.screenshot("5-retried")
	})

	t.Run("hung vendor: elapsed time, and cancel stops the calls", func(t *testing.T) {
		b := b.in(t)
		const cmd = "get_group_msg_receipt"
		s.Emu.Inject(timemu.Fault{Kind: timemu.FaultHang, Always: true, Command: cmd})
		defer s.Emu.ClearFaults()
		before, abandoned := s.Emu.Calls(cmd), s.Emu.Abandoned()
		b.typeInto("group-input", opsGroup)
		b.typeInto("seqs-input", "1-20")
		b.click("pull-button")
		// One batch, hung: its first attempt waits for the 5 s call timeout.
		b.waitFor("the elapsed time", `/ [0-9]+ s elapsed$/.test((document.querySelector('#progress-label') || {}).textContent || '')`, 10*time.Second)
		b.screenshot("6-hung-elapsed")
		b.click("cancel-button")
		b.waitFor("the cancelled pull", `document.querySelector('#progress') === null && document.querySelector('#notice') !== null`, 10*time.Second)
		// The BFF closed the hung call at once, and sent no retry.
		deadline := time.Now().Add(10 * time.Second)
		for s.Emu.Abandoned() == abandoned && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if s.Emu.Abandoned() == abandoned {
			t.Error("the hung call was not closed after Cancel")
		}
		if n := s.Emu.Calls(cmd) - before; n != 1 {
			t.Errorf("the emulator saw %d calls, want 1 (cancel before any retry)", n)
		}
	})

	t.Run("partial result and retry of the failed seqs", func(t *testing.T) {
		b := b.in(t)
		const cmd = "get_group_msg_receipt"
		// Seqs 1001-1200 are 4 batches; 1101-1150 fails on all 3 attempts.
		s.Emu.Inject(timemu.Fault{Kind: timemu.FaultHTTP502, Count: 3, Command: cmd, Seq: 1120})
		totalRead := func(skip func(seq uint32) bool) int {
			n := 0
			for seq := uint32(1001); seq <= 1200; seq++ {
				if read, _, ok := s.Emu.Receipt(sdkAppID, bigGroup, seq); ok && !skip(seq) {
					n += len(read)
				}
			}
			return n
		}
		b.typeInto("group-input", bigGroup)
		b.typeInto("seqs-input", "1001-1200")
		b.click("pull-button")
		b.waitFor("the partial result", `document.querySelector('#partial-banner') !== null && document.querySelector('#progress') === null`, 30*time.Second)
		b.screenshot("7-partial")
		if n := b.tile("not-fetched"); n != 50 {
			t.Errorf("not-fetched tile %d, want 50", n)
		}
		if got, want := b.tile("total-read"), totalRead(func(seq uint32) bool { return seq >= 1101 && seq <= 1150 }); got != want {
			t.Errorf("total-read tile %d, want %d (the fetched 150 seqs)", got, want)
		}
		banner := eval[string](b, `document.querySelector('#partial-banner').textContent`)
		if !strings.Contains(banner, "Tencent answered HTTP 502") || !strings.Contains(banner, "Retry the 50 failed seqs") {
			t.Errorf("partial banner %q, want the cause and the retry", banner)
		}
		before := s.Emu.Calls(cmd)
		b.click("retry-failed")
		b.waitFor("the completed result", `document.querySelector('#partial-banner') === null && document.querySelector('#progress') === null && document.querySelector('#summary .tile[data-tile="not-fetched"]') === null`, 30*time.Second)
		b.screenshot("8-retried-failed-seqs")
		if n := s.Emu.Calls(cmd) - before; n != 1 {
			t.Errorf("the retry made %d calls, want 1 (the failed batch only)", n)
		}
		if got, want := b.tile("total-read"), totalRead(func(uint32) bool { return false }); got != want {
			t.Errorf("total-read tile after the retry %d, want %d", got, want)
		}
		if n := b.tile("messages"); n != 200 {
			t.Errorf("messages tile %d, want 200", n)
		}
	})

	finish(t, b, s, true)
}

// TestLongPull is journey 5: 5,000 seqs show progress, finish and draw a
// bucketed chart.
func TestLongPull(t *testing.T) {
	s := startStack(t, stackOptions{})
	b := newBrowser(t)
	b.signedInAt(s, s.URL+"/", "alice")

	// Remember every progress label the page shows, however briefly.
	eval[bool](b, `(() => {
		window.e2eProgress = [];
		new MutationObserver(() => {
			const l = document.querySelector('#progress-label');
			if (l && window.e2eProgress.at(-1) !== l.textContent) window.e2eProgress.push(l.textContent);
		}).observe(document.body, {subtree: true, childList: true, characterData: true});
		return true;
	})()`)
	s.Emu.SetLatency(150 * time.Millisecond) // about 1.5 s for the 100 calls
	b.typeInto("group-input", bigGroup)
	b.typeInto("seqs-input", "1-5000")
	b.click("pull-button")
	b.waitFor("the progress bar", `document.querySelector('#progress') !== null`, 10*time.Second)
	b.waitFor("some progress", `document.querySelector('#progress-bar').value > 0`, 20*time.Second)
	b.screenshot("1-progress")
	b.waitFor("the bucketed chart", `document.querySelector('#progress') === null && document.querySelector('.bucket-note') !== null`, 60*time.Second)
	s.Emu.SetLatency(0)
	b.screenshot("2-bucketed")

	if n := b.tile("messages"); n != 5000 {
		t.Errorf("messages tile %d, want 5000", n)
	}
	cols := b.chart()
	if len(cols) < 20 || len(cols) > 300 {
		t.Errorf("%d chart columns for 5,000 seqs, want buckets", len(cols))
	}
	covered := 0
	for _, c := range cols {
		covered += int(c.SeqHi-c.Seq) + 1
	}
	if covered != 5000 {
		t.Errorf("the buckets cover %d seqs, want 5000", covered)
	}
	labels := eval[[]string](b, `window.e2eProgress`)
	sawCount := slices.ContainsFunc(labels, func(l string) bool { return strings.Contains(l, "of 5,000") })
	if !sawCount {
		t.Errorf("no progress label counted seqs of 5,000; saw %q", labels)
	}
	finish(t, b, s, true)
}

// TestRedeploy is journey 6: the console restarts on the same port with new
// web assets; the open tab learns of it and shows the update banner, and a
// reload runs the new version.
func TestRedeploy(t *testing.T) {
	s := startStack(t, stackOptions{})
	b := newBrowser(t)
	link := deepLink(s, opsGroup, "1-20")
	b.signedInAt(s, link, "alice")
	b.waitFor("the result", `document.querySelectorAll('svg#chart g.col').length === 20`, 30*time.Second)
	b.waitFor("the service worker", `navigator.serviceWorker.controller !== null`, 20*time.Second)
	oldInfo, err := bff.ReadWebInfo(webDir)
	if err != nil {
		t.Fatal(err)
	}

	dir, marker := newVersionOf(t, webDir)
	newInfo, err := bff.ReadWebInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if newInfo.Version == oldInfo.Version {
		t.Fatal("the changed web directory hashes to the same version")
	}
	s.redeploy(dir)

	// Browsers look for a new service worker on navigations and timers;
	// ask now, as go-app's app.TryUpdate does.
	eval[bool](b, `(goappTryUpdate(), true)`)
	b.waitFor("the update banner", `document.querySelector('#update-banner') !== null`, 30*time.Second)
	b.screenshot("1-update-banner")

	// The restart ended the in-memory session, so the reload goes through
	// the login again and lands on the new version.
	b.click("reload-button")
	b.signIn(s, "alice")
	b.waitFor("the way back", fmt.Sprintf(`location.href === %q`, link), 30*time.Second)
	b.waitMounted()
	b.waitFor("the result", `document.querySelectorAll('svg#chart g.col').length === 20`, 30*time.Second)
	b.screenshot("2-new-version")

	if eval[bool](b, `document.querySelector('#update-banner') !== null`) {
		t.Error("the update banner is still shown after the reload")
	}
	caches := eval[[]string](b, `caches.keys()`)
	if !slices.Contains(caches, "app-"+newInfo.Version) || slices.Contains(caches, "app-"+oldInfo.Version) {
		t.Errorf("service worker caches %v, want only app-%s", caches, newInfo.Version)
	}
	css := eval[string](b, `fetch('/web/app.css').then(r => r.text())`)
	if !strings.Contains(css, marker) {
		t.Error("the page's app.css is not the redeployed one")
	}
	finish(t, b, s, true)
}
