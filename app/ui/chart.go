package ui

import (
	"math"
	"strings"

	"github.com/timconsole/timconsole/server/api"
)

// Chart size in SVG user units. The SVG scales to its container's width;
// the numbers only fix the aspect ratio and the text size relative to it.
const (
	chartW = 960.0
	chartH = 320.0
)

// Plot margins: left for the count axis, right for the read-rate axis, top
// for the legend and the bucket note, bottom for the seq labels.
const (
	chartMarginL = 56.0
	chartMarginR = 52.0
	chartMarginT = 40.0
	chartMarginB = 36.0
)

// Bucketing: above chartMaxBars seqs, neighbouring seqs are merged into about
// chartBuckets bars, because thousands of one-pixel bars are neither readable
// nor fast to draw.
const (
	chartMaxBars = 300
	chartBuckets = 150
)

// chartCol is one bar position: one seq, or a bucket of neighbouring seqs.
type chartCol struct {
	Index        int
	SeqLo, SeqHi uint32
	Messages     int // seqs in the column
	Missing      int // seqs without a receipt
	TotalRead    int
	TotalUnread  int
	// Read and Unread are what the bar shows: the counts for one seq, the
	// average per message with a receipt for a bucket.
	Read, Unread float64
	// Rate is TotalRead/(TotalRead+TotalUnread), or -1 when there is none.
	Rate float64

	X, W             float64 // bar
	SlotX, SlotW     float64 // the whole column, for hover and focus
	ReadY, ReadH     float64
	UnreadY, UnreadH float64
	RateY            float64
	// MissingBand marks a column in which no seq has a receipt.
	MissingBand bool
	// MissingMark puts the no-receipt triangle under the column: a single
	// seq without a receipt, or a bucket that is mostly missing. Real data
	// has a few gaps everywhere, so marking every bucket with one gap drew
	// a solid red row that told the operator nothing.
	MissingMark bool
}

// missingMarkShare is the share of seqs without a receipt from which a
// bucket gets the no-receipt marker (its tooltip always gives the share).
const missingMarkShare = 0.5

// markMissing reports whether a column gets the no-receipt marker.
func markMissing(c chartCol) bool {
	if c.Missing == 0 {
		return false
	}
	return c.Messages == 1 || float64(c.Missing) >= missingMarkShare*float64(c.Messages)
}

// chartTick is an axis tick: its position on the axis and its label.
type chartTick struct {
	Pos   float64
	Label string
}

// chartGeom is everything the SVG needs, computed by chartLayout.
type chartGeom struct {
	W, H                     float64
	Left, Top, Right, Bottom float64
	Cols                     []chartCol
	YMax                     float64
	YTicks                   []chartTick // count axis (left), Pos is y
	RateTicks                []chartTick // read-rate axis (right), Pos is y
	XTicks                   []chartTick // seq labels, Pos is x
	// RatePath is the read-rate line as an SVG path; it breaks at columns
	// without a rate.
	RatePath   string
	Bucketed   bool
	BucketSize int
	// Note says how the chart was simplified, shown on the chart.
	Note string
}

// chartLayout computes the chart for receipts in seq order. It is pure so
// the geometry can be tested without a browser.
func chartLayout(rs []api.Receipt, w, h float64) chartGeom {
	g := chartGeom{
		W: w, H: h,
		Left: chartMarginL, Top: chartMarginT,
		Right: w - chartMarginR, Bottom: h - chartMarginB,
	}
	g.Cols, g.BucketSize = chartColumns(rs)
	g.Bucketed = g.BucketSize > 1
	if g.Bucketed {
		g.Note = formatInt(len(rs)) + " seqs in " + formatInt(len(g.Cols)) + " buckets of up to " +
			formatInt(g.BucketSize) + "; bars show the average per message"
	}
	maxTotal := 0.0
	for _, c := range g.Cols {
		maxTotal = max(maxTotal, c.Read+c.Unread)
	}
	step, top := niceAxis(maxTotal)
	g.YMax = top
	plotH := g.Bottom - g.Top
	yOf := func(v float64) float64 { return g.Bottom - v/top*plotH }
	for v := 0.0; v <= top+step/2; v += step {
		g.YTicks = append(g.YTicks, chartTick{Pos: yOf(v), Label: formatInt(int(math.Round(v)))})
	}
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		g.RateTicks = append(g.RateTicks, chartTick{Pos: g.Bottom - p*plotH, Label: formatInt(int(p*100)) + "%"})
	}

	n := len(g.Cols)
	if n == 0 {
		return g
	}
	slot := (g.Right - g.Left) / float64(n)
	barW := slot * 0.72
	if slot < 4 {
		barW = slot * 0.9
	}
	var path strings.Builder
	penDown := false
	for i := range g.Cols {
		c := &g.Cols[i]
		c.SlotX = g.Left + float64(i)*slot
		c.SlotW = slot
		c.W = barW
		c.X = c.SlotX + (slot-barW)/2
		c.ReadH = c.Read / top * plotH
		c.ReadY = g.Bottom - c.ReadH
		c.UnreadH = c.Unread / top * plotH
		c.UnreadY = c.ReadY - c.UnreadH
		c.MissingBand = c.Missing == c.Messages
		c.MissingMark = markMissing(*c)
		if c.Rate < 0 {
			penDown = false
			continue
		}
		c.RateY = g.Bottom - c.Rate*plotH
		cx := c.SlotX + slot/2
		if penDown {
			path.WriteString(" L")
		} else {
			if path.Len() > 0 {
				path.WriteByte(' ')
			}
			path.WriteString("M")
		}
		path.WriteString(formatFloat(cx) + " " + formatFloat(c.RateY))
		penDown = true
	}
	g.RatePath = path.String()

	every := max(1, (n+7)/8)
	for i := 0; i < n; i += every {
		c := g.Cols[i]
		g.XTicks = append(g.XTicks, chartTick{Pos: c.SlotX + slot/2, Label: formatSeq(c.SeqLo)})
	}
	return g
}

// chartColumns groups receipts into columns: one per seq up to
// chartMaxBars, buckets of neighbouring seqs above.
func chartColumns(rs []api.Receipt) ([]chartCol, int) {
	size := 1
	if len(rs) > chartMaxBars {
		size = (len(rs) + chartBuckets - 1) / chartBuckets
	}
	cols := make([]chartCol, 0, (len(rs)+size-1)/size)
	for lo := 0; lo < len(rs); lo += size {
		hi := min(lo+size, len(rs))
		c := chartCol{Index: len(cols), SeqLo: rs[lo].Seq, SeqHi: rs[hi-1].Seq, Messages: hi - lo}
		for _, r := range rs[lo:hi] {
			if r.Code != 0 {
				c.Missing++
				continue
			}
			c.TotalRead += r.Read
			c.TotalUnread += r.Unread
		}
		if with := c.Messages - c.Missing; with > 0 {
			c.Read = float64(c.TotalRead) / float64(with)
			c.Unread = float64(c.TotalUnread) / float64(with)
		}
		c.Rate = -1
		if t := c.TotalRead + c.TotalUnread; t > 0 {
			c.Rate = float64(c.TotalRead) / float64(t)
		}
		cols = append(cols, c)
	}
	return cols, size
}

// niceAxis picks a tick step of 1, 2, 2.5 or 5 times a power of ten (at
// least 1: counts are whole) giving about four intervals, and the axis top.
func niceAxis(maxV float64) (step, top float64) {
	if maxV <= 0 {
		return 1, 4
	}
	raw := maxV / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	step = max(step, 1)
	top = math.Ceil(maxV/step) * step
	return step, top
}

// colLabel names a column: "seq 42" or "seqs 1–40".
func colLabel(c chartCol) string {
	if c.SeqLo == c.SeqHi {
		return "seq " + formatSeq(c.SeqLo)
	}
	return "seqs " + formatSeq(c.SeqLo) + "–" + formatSeq(c.SeqHi)
}

// colLines is the tooltip text of a column, with the exact numbers.
func colLines(c chartCol) []string {
	lines := []string{colLabel(c)}
	if c.Messages > 1 {
		l := formatInt(c.Messages) + " messages, " + formatInt(c.Missing) + " without receipt"
		if c.Missing > 0 {
			l += " (" + formatPct(float64(c.Missing)/float64(c.Messages)) + ")"
		}
		lines = append(lines, l)
	} else if c.Missing > 0 {
		return append(lines, "no receipt (10062)")
	}
	lines = append(lines, "read "+formatInt(c.TotalRead)+" · unread "+formatInt(c.TotalUnread))
	if c.Rate >= 0 {
		lines = append(lines, "read rate "+formatPct(c.Rate))
	}
	return lines
}

// tooltipBox places the tooltip of column i inside the plot: right of the
// column, or left of it near the right edge. Widths are estimated from the
// character count (about 6.6 units per character at the chart's font size).
func tooltipBox(g chartGeom, i int) (x, y, w, h float64) {
	c := g.Cols[i]
	lines := colLines(c)
	longest := 0
	for _, l := range lines {
		longest = max(longest, len([]rune(l)))
	}
	w = float64(longest)*6.6 + 20
	h = float64(len(lines))*16 + 12
	x = c.SlotX + c.SlotW + 6
	if x+w > g.Right {
		x = c.SlotX - 6 - w
	}
	x = max(x, g.Left)
	y = min(c.UnreadY, c.rateYOr(g.Bottom)) - h/2
	y = min(max(y, g.Top), g.Bottom-h)
	return x, y, w, h
}

// rateYOr is the y of the column's rate point, or def when it has none.
func (c chartCol) rateYOr(def float64) float64 {
	if c.Rate < 0 {
		return def
	}
	return c.RateY
}
