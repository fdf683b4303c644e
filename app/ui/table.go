package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/timconsole/timconsole/server/api"
)

// sortKey is a sortable table column.
type sortKey string

// Table columns, in display order. The values are used in element IDs
// (#sort-seq …) and data attributes.
const (
	sortSeq    sortKey = "seq"
	sortRead   sortKey = "read"
	sortUnread sortKey = "unread"
	sortRate   sortKey = "rate"
	sortStatus sortKey = "status"
)

// tableColumn is a column of the results table.
type tableColumn struct {
	Key   sortKey
	Label string
	Num   bool
}

// tableColumns lists the columns in display order.
func tableColumns() []tableColumn {
	return []tableColumn{
		{sortSeq, "Seq", true},
		{sortRead, "Read", true},
		{sortUnread, "Unread", true},
		{sortRate, "Read rate", true},
		{sortStatus, "Status", false},
	}
}

// tablePageSize bounds the rows in the DOM: a 10,000-seq result stays fast,
// and the filters plus sorting find the interesting rows anyway.
const tablePageSize = 100

// tableView is how the operator looks at the table: the sort order and the
// filters. The zero value is "by seq, ascending, unfiltered".
type tableView struct {
	Sort sortKey
	Desc bool
	// OnlyMissing keeps the seqs without a receipt.
	OnlyMissing bool
	// Below, when in (0, 100], keeps the seqs with a receipt whose read rate
	// is strictly below that many percent.
	Below float64
	Page  int
}

// toggleSort is a click on a column header: the same column flips the
// direction, another column starts ascending, so the worst read rates and
// the smallest counts come first.
func (v tableView) toggleSort(k sortKey) tableView {
	if v.Sort == k || (v.Sort == "" && k == sortSeq) {
		v.Desc = !v.Desc
	} else {
		v.Sort, v.Desc = k, false
	}
	if v.Sort == "" {
		v.Sort = sortSeq
	}
	v.Page = 0
	return v
}

// rowRate is a receipt's read rate, or -1 when it has none (missing, or no
// members counted), so such rows sort together below every real rate.
func rowRate(r api.Receipt) float64 {
	if r.Code != 0 || r.Read+r.Unread == 0 {
		return -1
	}
	return float64(r.Read) / float64(r.Read+r.Unread)
}

// parseBelow reads the "below X% read" box: blank or invalid means off.
func parseBelow(s string) float64 {
	s = strings.TrimSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v > 100 {
		return 0
	}
	return v
}

// tableRows filters and sorts the receipts for the table. Ties fall back to
// the seq so the order is stable and predictable.
func tableRows(rs []api.Receipt, v tableView) []api.Receipt {
	out := make([]api.Receipt, 0, len(rs))
	for _, r := range rs {
		if v.OnlyMissing && r.Code == 0 {
			continue
		}
		if v.Below > 0 {
			rate := rowRate(r)
			if rate < 0 || rate*100 >= v.Below {
				continue
			}
		}
		out = append(out, r)
	}
	by := func(a, b api.Receipt) int {
		switch v.Sort {
		case sortRead:
			return cmp.Compare(a.Read, b.Read)
		case sortUnread:
			return cmp.Compare(a.Unread, b.Unread)
		case sortRate:
			return cmp.Compare(rowRate(a), rowRate(b))
		case sortStatus:
			return cmp.Compare(a.Code, b.Code)
		}
		return 0
	}
	slices.SortStableFunc(out, func(a, b api.Receipt) int {
		c := by(a, b)
		if c == 0 {
			c = cmp.Compare(a.Seq, b.Seq)
		}
		if v.Desc {
			return -c
		}
		return c
	})
	return out
}

// pageOf returns the rows of page p (clamped) and the clamped page.
func pageOf(rows []api.Receipt, p int) ([]api.Receipt, int) {
	pages := max(1, (len(rows)+tablePageSize-1)/tablePageSize)
	p = min(max(p, 0), pages-1)
	lo := p * tablePageSize
	hi := min(lo+tablePageSize, len(rows))
	return rows[lo:hi], p
}

// statusText is the table's status cell: the code and what it means.
func statusText(r api.Receipt) string {
	if r.Code == 0 {
		return "OK"
	}
	text := r.CodeText
	if text == "" {
		text = explainCode(r.Code)
	}
	return strconv.Itoa(r.Code) + " · " + text
}

// explainCode is the UI's fallback wording for per-message codes the BFF
// did not explain.
func explainCode(code int) string {
	switch code {
	case 0:
		return "OK"
	case 10062:
		return "no receipt: the message was sent without a read receipt, or the seq does not exist"
	}
	return "Tencent error"
}
