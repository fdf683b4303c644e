package ui

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

func tableFixture() []api.Receipt {
	return []api.Receipt{
		{Seq: 1, Read: 10, Unread: 10},             // 50%
		{Seq: 2, Read: 30, Unread: 10},             // 75%
		{Seq: 3, Code: 10062},                      // missing
		{Seq: 4, Read: 2, Unread: 18},              // 10%
		{Seq: 5, Read: 10, Unread: 30},             // 25%
		{Seq: 6, Read: 0, Unread: 0},               // no members: no rate
		{Seq: 7, Read: 30, Unread: 10},             // 75%, ties with 2
		{Seq: 8, Code: 10062, CodeText: "no such"}, // missing
	}
}

func seqsOf(rs []api.Receipt) []uint32 {
	out := make([]uint32, len(rs))
	for i, r := range rs {
		out[i] = r.Seq
	}
	return out
}

func TestTableSort(t *testing.T) {
	tests := []struct {
		view tableView
		want []uint32
	}{
		{tableView{}, []uint32{1, 2, 3, 4, 5, 6, 7, 8}},
		{tableView{Sort: sortSeq, Desc: true}, []uint32{8, 7, 6, 5, 4, 3, 2, 1}},
		{tableView{Sort: sortRead}, []uint32{3, 6, 8, 4, 1, 5, 2, 7}},
		{tableView{Sort: sortRead, Desc: true}, []uint32{7, 2, 5, 1, 4, 8, 6, 3}},
		{tableView{Sort: sortUnread}, []uint32{3, 6, 8, 1, 2, 7, 4, 5}},
		// Rows without a rate (missing, no members) sort below every rate.
		{tableView{Sort: sortRate}, []uint32{3, 6, 8, 4, 5, 1, 2, 7}},
		{tableView{Sort: sortRate, Desc: true}, []uint32{7, 2, 1, 5, 4, 8, 6, 3}},
		{tableView{Sort: sortStatus}, []uint32{1, 2, 4, 5, 6, 7, 3, 8}},
		{tableView{Sort: sortStatus, Desc: true}, []uint32{8, 3, 7, 6, 5, 4, 2, 1}},
	}
	for _, tt := range tests {
		got := seqsOf(tableRows(tableFixture(), tt.view))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("sort %q desc=%v (-want +got):\n%s", tt.view.Sort, tt.view.Desc, diff)
		}
	}
}

func TestTableFilter(t *testing.T) {
	tests := []struct {
		name string
		view tableView
		want []uint32
	}{
		{"only missing", tableView{OnlyMissing: true}, []uint32{3, 8}},
		{"below 50%", tableView{Below: 50}, []uint32{4, 5}},
		{"below 50.1%", tableView{Below: 50.1}, []uint32{1, 4, 5}},
		{"below 100% keeps every rate", tableView{Below: 100}, []uint32{1, 2, 4, 5, 7}},
		{"both: missing rows have no rate", tableView{OnlyMissing: true, Below: 80}, nil},
		{"below, sorted by rate", tableView{Below: 60, Sort: sortRate, Desc: true}, []uint32{1, 5, 4}},
	}
	for _, tt := range tests {
		got := seqsOf(tableRows(tableFixture(), tt.view))
		if len(got) == 0 {
			got = nil
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseBelow(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "50": 50, " 12.5 ": 12.5, "30%": 30, "0": 0, "-3": 0, "101": 0, "abc": 0, "100": 100} {
		if got := parseBelow(in); got != want {
			t.Errorf("parseBelow(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestToggleSort(t *testing.T) {
	v := tableView{Page: 3}
	steps := []struct {
		click sortKey
		sort  sortKey
		desc  bool
	}{
		{sortSeq, sortSeq, true}, // the default column flips
		{sortSeq, sortSeq, false},
		{sortRate, sortRate, false},
		{sortRate, sortRate, true},
		{sortRead, sortRead, false},
	}
	for i, s := range steps {
		v = v.toggleSort(s.click)
		if v.Sort != s.sort || v.Desc != s.desc || v.Page != 0 {
			t.Errorf("click %d on %q: sort %q desc %v page %d; want %q %v page 0", i, s.click, v.Sort, v.Desc, v.Page, s.sort, s.desc)
		}
	}
}

func TestPageOf(t *testing.T) {
	rows := receipts(1, 250, func(uint32) api.Receipt { return api.Receipt{} })
	tests := []struct{ page, wantPage, n int }{{0, 0, 100}, {1, 1, 100}, {2, 2, 50}, {9, 2, 50}, {-1, 0, 100}}
	for _, tt := range tests {
		got, p := pageOf(rows, tt.page)
		if p != tt.wantPage || len(got) != tt.n {
			t.Errorf("pageOf(250 rows, %d) = %d rows, page %d; want %d, %d", tt.page, len(got), p, tt.n, tt.wantPage)
		}
	}
	if got, p := pageOf(nil, 2); len(got) != 0 || p != 0 {
		t.Errorf("pageOf(nil, 2) = %d rows, page %d", len(got), p)
	}
}

// TestTableRenders checks the rendered table: header sort state, row
// order after a sort, the row count line with a filter, and the rows'
// cells and selection.
func TestTableRenders(t *testing.T) {
	fixture := tableFixture()
	bySeq := map[uint32]api.Receipt{}
	for _, r := range fixture {
		bySeq[r.Seq] = r
	}
	tb := &resultsTable{Results: fixture, Key: "k1"}
	tb.OnInit()

	// Section > [head, scroll > table > [caption, thead, tbody > rows], foot]
	row := func(i int) []int { return []int{1, 0, 2, i} }
	wantRow := func(seq uint32, selected bool) *tableRow { return &tableRow{R: bySeq[seq], Selected: selected} }
	if err := app.Match(wantRow(1, false), tb.Render(), row(0)...); err != nil {
		t.Errorf("first row before sorting: %v", err)
	}
	tb.view = tb.view.toggleSort(sortRate)
	tb.refresh()
	if err := app.Match(wantRow(3, false), tb.Render(), row(0)...); err != nil {
		t.Errorf("first row by rate: %v", err)
	}
	if err := app.Match(wantRow(4, false), tb.Render(), row(3)...); err != nil {
		t.Errorf("fourth row by rate: %v", err)
	}
	// The open row is marked, the others are not.
	tb.Selected, tb.HasSelected = 4, true
	if err := app.Match(wantRow(4, true), tb.Render(), row(3)...); err != nil {
		t.Errorf("selected row: %v", err)
	}

	tb.below = "50"
	tb.refresh()
	if err := app.Match(app.Text("Rows 1–2 of 2 (filtered from 8)"), tb.Render(), 2, 0, 0); err != nil {
		t.Errorf("count line: %v", err)
	}

	// A new result of the same question keeps the sort and the filters; a
	// new question starts on page 1 with them too.
	tb.view.Page = 3
	tb.Results = append([]api.Receipt(nil), fixture...)
	tb.OnUpdate(app.Context{})
	if tb.view.Page != 3 || len(tb.rows) != 2 {
		t.Errorf("refresh: page %d, %d rows; want page kept, filter kept", tb.view.Page, len(tb.rows))
	}
	tb.Key = "k2"
	tb.OnUpdate(app.Context{})
	if tb.view.Page != 0 || tb.view.Sort != sortRate {
		t.Errorf("new question: page %d, sort %q; want page 0, sort kept", tb.view.Page, tb.view.Sort)
	}

	// A row: seq, read, unread, rate, status; a missing receipt shows dashes.
	if err := app.Match(app.Text("1"), (&tableRow{R: bySeq[1]}).Render(), 0, 0); err != nil {
		t.Errorf("row seq cell: %v", err)
	}
	for seq, r := range bySeq {
		if r.Code == 0 {
			continue
		}
		if err := app.Match(app.Text("—"), (&tableRow{R: r}).Render(), 1, 0); err != nil {
			t.Errorf("row %d read cell: %v", seq, err)
		}
		break
	}
}
