package ui

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// receipts builds n receipts from seq first, with read/unread from f.
func receipts(first uint32, n int, f func(seq uint32) api.Receipt) []api.Receipt {
	rs := make([]api.Receipt, n)
	for i := range rs {
		rs[i] = f(first + uint32(i))
		rs[i].Seq = first + uint32(i)
	}
	return rs
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestChartLayoutBars(t *testing.T) {
	rs := []api.Receipt{
		{Seq: 10, Read: 30, Unread: 10},
		{Seq: 11, Read: 0, Unread: 0, Code: 10062},
		{Seq: 12, Read: 5, Unread: 15},
		{Seq: 13, Read: 40, Unread: 0},
	}
	g := chartLayout(rs, chartW, chartH)
	if len(g.Cols) != 4 || g.Bucketed || g.Note != "" {
		t.Fatalf("cols, bucketed, note = %d, %v, %q; want 4 bars, not bucketed", len(g.Cols), g.Bucketed, g.Note)
	}
	if g.YMax != 40 {
		t.Errorf("YMax = %v, want 40 (largest stack is 40)", g.YMax)
	}
	plotH := g.Bottom - g.Top
	for i, c := range g.Cols {
		r := rs[i]
		read, unread := float64(r.Read), float64(r.Unread)
		if r.Code != 0 {
			read, unread = 0, 0
		}
		if !approx(c.ReadH, read/g.YMax*plotH) || !approx(c.UnreadH, unread/g.YMax*plotH) {
			t.Errorf("col %d heights = %v, %v; want proportional to %v, %v", i, c.ReadH, c.UnreadH, read, unread)
		}
		if !approx(c.ReadY+c.ReadH, g.Bottom) || !approx(c.UnreadY+c.UnreadH, c.ReadY) {
			t.Errorf("col %d is not stacked on the base line: %+v", i, c)
		}
		if c.X < g.Left || c.X+c.W > g.Right || c.W <= 0 {
			t.Errorf("col %d bar [%v, %v] outside the plot [%v, %v]", i, c.X, c.X+c.W, g.Left, g.Right)
		}
	}
	// Equal counts, equal heights: seq 10 (40 members) and seq 13 (40) stack to the top.
	if !approx(g.Cols[0].UnreadY, g.Top) || !approx(g.Cols[3].ReadY, g.Top) {
		t.Errorf("full stacks do not reach the top: %v, %v, top %v", g.Cols[0].UnreadY, g.Cols[3].ReadY, g.Top)
	}
	// The missing receipt is marked, has no rate, and breaks the rate line.
	if m := g.Cols[1]; m.Missing != 1 || !m.MissingBand || !m.MissingMark || m.Rate != -1 {
		t.Errorf("missing col = %+v, want Missing 1, MissingBand, MissingMark, Rate -1", m)
	}
	for i, c := range g.Cols {
		if i != 1 && (c.Missing != 0 || c.MissingBand || c.MissingMark) {
			t.Errorf("col %d marked missing: %+v", i, c)
		}
	}
	if n := strings.Count(g.RatePath, "M"); n != 2 {
		t.Errorf("rate path %q has %d segments, want 2 (broken at the missing seq)", g.RatePath, n)
	}
	if !approx(g.Cols[0].RateY, g.Bottom-0.75*plotH) {
		t.Errorf("rate point of seq 10 at %v, want 75%% of the plot", g.Cols[0].RateY)
	}
}

func TestChartLayoutAxes(t *testing.T) {
	g := chartLayout(receipts(1, 10, func(s uint32) api.Receipt { return api.Receipt{Read: int(s) * 17} }), chartW, chartH)
	// Largest 170: step 50, top 200.
	var labels []string
	for _, tk := range g.YTicks {
		labels = append(labels, tk.Label)
	}
	if diff := cmp.Diff([]string{"0", "50", "100", "150", "200"}, labels); diff != "" {
		t.Errorf("y ticks (-want +got):\n%s", diff)
	}
	if len(g.RateTicks) != 5 || g.RateTicks[4].Label != "100%" || !approx(g.RateTicks[4].Pos, g.Top) {
		t.Errorf("rate ticks = %+v", g.RateTicks)
	}
	if len(g.XTicks) == 0 || g.XTicks[0].Label != "1" {
		t.Errorf("x ticks = %+v, want the first seq labelled", g.XTicks)
	}
}

func TestNiceAxis(t *testing.T) {
	tests := []struct{ max, step, top float64 }{
		{0, 1, 4},
		{3, 1, 3},
		{10, 2.5, 10},
		{170, 50, 200},
		{1000, 250, 1000},
		{1001, 500, 1500},
	}
	for _, tt := range tests {
		step, top := niceAxis(tt.max)
		if step != tt.step || top != tt.top {
			t.Errorf("niceAxis(%v) = %v, %v; want %v, %v", tt.max, step, top, tt.step, tt.top)
		}
	}
}

func TestChartBucketing(t *testing.T) {
	tests := []struct {
		n        int
		bucketed bool
		cols     int
		size     int
	}{
		{50, false, 50, 1},
		{chartMaxBars, false, chartMaxBars, 1},
		{chartMaxBars + 1, true, 101, 3},
		{5000, true, 148, 34},
		{10000, true, 150, 67},
	}
	for _, tt := range tests {
		rs := receipts(1, tt.n, func(s uint32) api.Receipt { return api.Receipt{Read: 3, Unread: 1} })
		g := chartLayout(rs, chartW, chartH)
		if g.Bucketed != tt.bucketed || len(g.Cols) != tt.cols || g.BucketSize != tt.size {
			t.Errorf("%d seqs: bucketed, cols, size = %v, %d, %d; want %v, %d, %d", tt.n, g.Bucketed, len(g.Cols), g.BucketSize, tt.bucketed, tt.cols, tt.size)
		}
		if tt.bucketed && !strings.Contains(g.Note, formatInt(tt.n)+" seqs in") {
			t.Errorf("%d seqs: note = %q", tt.n, g.Note)
		}
		total := 0
		for _, c := range g.Cols {
			total += c.Messages
		}
		if total != tt.n {
			t.Errorf("%d seqs: columns hold %d", tt.n, total)
		}
	}
}

func TestChartBucketValues(t *testing.T) {
	// 600 seqs in buckets of 4; every 4th seq from 5 on is missing.
	rs := receipts(1, 600, func(s uint32) api.Receipt {
		if s%4 == 1 && s > 4 {
			return api.Receipt{Code: 10062}
		}
		return api.Receipt{Read: int(s % 4), Unread: 2}
	})
	g := chartLayout(rs, chartW, chartH)
	if g.BucketSize != 4 {
		t.Fatalf("bucket size = %d, want 4", g.BucketSize)
	}
	first, second := g.Cols[0], g.Cols[1]
	// Seqs 1-4: read 1+2+3+0, unread 8, over 4 messages.
	if first.SeqLo != 1 || first.SeqHi != 4 || first.TotalRead != 6 || first.TotalUnread != 8 || first.Missing != 0 || !approx(first.Read, 1.5) || !approx(first.Unread, 2) {
		t.Errorf("bucket 1 = %+v", first)
	}
	// Seqs 5-8: seq 5 missing; averages over the 3 with a receipt.
	if second.Missing != 1 || second.MissingBand || second.TotalRead != 5 || !approx(second.Read, 5.0/3) || !approx(second.Unread, 2) {
		t.Errorf("bucket 2 = %+v", second)
	}
	if lines := colLines(second); lines[0] != "seqs 5–8" || lines[1] != "4 messages, 1 without receipt (25.0%)" {
		t.Errorf("tooltip = %q", lines)
	}
	// One gap in four is common in real data: no marker, or every bucket
	// would carry one.
	if second.MissingMark {
		t.Errorf("bucket 2 (1 of 4 missing) is marked: %+v", second)
	}
	if lines := colLines(first); lines[1] != "4 messages, 0 without receipt" {
		t.Errorf("tooltip of a complete bucket = %q", lines)
	}
}

// TestChartBucketMissingMark checks which buckets get the no-receipt
// marker: those at least half missing, and not the ones with a few gaps.
func TestChartBucketMissingMark(t *testing.T) {
	// 400 seqs in buckets of 3 (bucket i holds seqs 3i+1..3i+3); missing[i]
	// is how many of bucket i's seqs have no receipt.
	missing := map[int]int{0: 0, 1: 1, 2: 2, 3: 3}
	rs := receipts(1, 400, func(s uint32) api.Receipt {
		b, k := int(s-1)/3, int(s-1)%3
		if k < missing[b] {
			return api.Receipt{Code: 10062}
		}
		return api.Receipt{Read: 2, Unread: 1}
	})
	g := chartLayout(rs, chartW, chartH)
	if g.BucketSize != 3 {
		t.Fatalf("bucket size = %d, want 3", g.BucketSize)
	}
	tests := []struct {
		bucket           int
		mark, band       bool
		tooltipSubstring string
	}{
		{0, false, false, "3 messages, 0 without receipt"},
		{1, false, false, "3 messages, 1 without receipt (33.3%)"},
		{2, true, false, "3 messages, 2 without receipt (66.7%)"},
		{3, true, true, "3 messages, 3 without receipt (100.0%)"},
		{4, false, false, "3 messages, 0 without receipt"},
	}
	for _, tt := range tests {
		c := g.Cols[tt.bucket]
		if c.MissingMark != tt.mark || c.MissingBand != tt.band {
			t.Errorf("bucket %d (%d of %d missing): mark, band = %v, %v; want %v, %v", tt.bucket, c.Missing, c.Messages, c.MissingMark, c.MissingBand, tt.mark, tt.band)
		}
		if got := joinLines(colLines(c)); !strings.Contains(got, tt.tooltipSubstring) {
			t.Errorf("bucket %d tooltip %q lacks %q", tt.bucket, got, tt.tooltipSubstring)
		}
	}
	// Exactly half is "mostly missing" too.
	half := chartCol{Messages: 4, Missing: 2}
	if !markMissing(half) {
		t.Error("a bucket with 2 of 4 missing is not marked")
	}

	// The drawn chart has a triangle for buckets 2 and 3 only, and the
	// legend says what a bucket's triangle means.
	html := chartSVG(newResult(query{App: "prod", Group: "g", Seqs: "1-400", Count: 400}, &api.ReceiptsResponse{Results: rs}).Geom)
	if diff := cmp.Diff([]string{"7", "10"}, markedSeqs(html)); diff != "" {
		t.Errorf("buckets with a missing marker, by first seq (-want +got):\n%s", diff)
	}
	if !strings.Contains(html, "≥ 50% without receipt (10062)") {
		t.Error("the legend does not explain the bucket marker")
	}
}

// TestChartSeqMissingMark checks that an unbucketed chart marks every seq
// without a receipt, however few.
func TestChartSeqMissingMark(t *testing.T) {
	rs := receipts(1, 50, func(s uint32) api.Receipt {
		if s == 7 || s == 31 {
			return api.Receipt{Code: 10062}
		}
		return api.Receipt{Read: 5, Unread: 5}
	})
	html := chartSVG(newResult(query{App: "prod", Group: "g", Seqs: "1-50", Count: 50}, &api.ReceiptsResponse{Results: rs}).Geom)
	if diff := cmp.Diff([]string{"7", "31"}, markedSeqs(html)); diff != "" {
		t.Errorf("seqs with a missing marker (-want +got):\n%s", diff)
	}
	if !strings.Contains(html, ">No receipt (10062)<") {
		t.Error("the legend of an unbucketed chart changed")
	}
}

func TestTooltipStaysInPlot(t *testing.T) {
	g := chartLayout(receipts(1, 40, func(s uint32) api.Receipt { return api.Receipt{Read: 100, Unread: 50} }), chartW, chartH)
	for _, i := range []int{0, 20, 39} {
		x, y, w, h := tooltipBox(g, i)
		if x < g.Left || x+w > g.Right || y < g.Top || y+h > g.Bottom {
			t.Errorf("tooltip %d at (%v, %v, %v, %v) leaves the plot", i, x, y, w, h)
		}
	}
}

// TestChartRendersBucketNote checks that the chart card says it bucketed.
func TestChartRendersBucketNote(t *testing.T) {
	q := query{App: "prod", Group: "g", Seqs: "1-5000", Count: 5000}
	r := newResult(q, &api.ReceiptsResponse{Results: receipts(1, 5000, func(uint32) api.Receipt { return api.Receipt{Read: 1} })})
	c := &receiptChart{Geom: r.Geom}
	c.OnInit()
	// Section > [head, p.bucket-note, frame]
	want := app.P().Class("bucket-note").Role("note").Text("Bucketed: 5,000 seqs in 148 buckets of up to 34; bars show the average per message.")
	if err := app.Match(want, c.Render(), 1); err != nil {
		t.Error(err)
	}
}

// markedSeqs lists the data-seq of every missing marker in rendered SVG, in
// document order (attribute order is not stable, so each tag is parsed).
func markedSeqs(html string) []string {
	var seqs []string
	for _, tag := range regexp.MustCompile(`<path [^>]*>`).FindAllString(html, -1) {
		if !strings.Contains(tag, `class="missing-mark"`) {
			continue
		}
		m := regexp.MustCompile(`data-seq="(\d+)"`).FindStringSubmatch(tag)
		if m == nil {
			seqs = append(seqs, "?")
			continue
		}
		seqs = append(seqs, m[1])
	}
	return seqs
}
