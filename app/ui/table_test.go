package ui

import (
	"encoding/xml"
	"io"
	"strings"
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
	tb := &resultsTable{Results: fixture, Key: "k1"}
	tb.OnInit()

	// Section > [head, scroll > the table's Raw HTML, foot]
	rows := func() []htmlRow {
		t.Helper()
		page, _ := pageOf(tb.rows, tb.view.Page)
		h := tableHTML(page, tb.view, tb.Selected, tb.HasSelected)
		if err := app.Match(app.Raw(h), tb.Render(), 1, 0); err != nil {
			t.Fatalf("the table's HTML: %v", err)
		}
		return parseTable(t, h).rows
	}
	if got := rows()[0]; got.seq != "1" || got.id != "row-1" {
		t.Errorf("first row before sorting: %+v, want seq 1", got)
	}
	tb.view = tb.view.toggleSort(sortRate)
	tb.refresh()
	if got := rows(); got[0].seq != "3" || got[3].seq != "4" {
		t.Errorf("rows by rate: first %+v, fourth %+v; want seqs 3 and 4", got[0], got[3])
	}
	// The open row is marked, the others are not.
	tb.Selected, tb.HasSelected = 4, true
	for _, r := range rows() {
		marked := strings.Contains(" "+r.class+" ", " row-selected ") && r.current == "true"
		unmarked := !strings.Contains(r.class, "row-selected") && r.current == ""
		if (r.seq == "4" && !marked) || (r.seq != "4" && !unmarked) {
			t.Errorf("row %s with seq 4 open: class %q, aria-current %q", r.seq, r.class, r.current)
		}
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
}

// TestTableHTML checks the table's markup: the header's sort state and
// buttons, each row's attributes and cells, and escaping of the server's
// code texts.
func TestTableHTML(t *testing.T) {
	page := []api.Receipt{
		{Seq: 1, Read: 1500, Unread: 500},
		{Seq: 3, Code: 10062},
		{Seq: 9, Code: 10062, CodeText: `<img src=x onerror="alert(1)"> & 'more'`},
		{Seq: 6},
		{Seq: 7, Code: api.CodeNotFetched, CodeText: "Tencent answered HTTP 502"},
	}
	h := tableHTML(page, tableView{Sort: sortRead, Desc: true}, 3, true)
	got := parseTable(t, h)

	wantHead := []htmlTh{
		{sort: "none", class: "num", button: "sort-seq", key: "seq", text: "Seq↕"},
		{sort: "descending", class: "num", button: "sort-read", key: "read", text: "Read▼"},
		{sort: "none", class: "num", button: "sort-unread", key: "unread", text: "Unread↕"},
		{sort: "none", class: "num", button: "sort-rate", key: "rate", text: "Read rate↕"},
		{sort: "none", button: "sort-status", key: "status", text: "Status↕"},
	}
	if diff := cmp.Diff(wantHead, got.head, cmp.AllowUnexported(htmlTh{})); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	wantRows := []htmlRow{
		{id: "row-1", seq: "1", tabindex: "0", class: "row", label: "seq 1, open members",
			cells: []string{"1", "1,500", "500", "75.0%", "✓ OK"}},
		{id: "row-3", seq: "3", tabindex: "0", class: "row row-missing row-selected", current: "true", label: "seq 3, open members",
			cells: []string{"3", "—", "—", "—", "✕ 10062 " + explainCode(10062)}},
		{id: "row-9", seq: "9", tabindex: "0", class: "row row-missing", label: "seq 9, open members",
			cells: []string{"9", "—", "—", "—", `✕ 10062 <img src=x onerror="alert(1)"> & 'more'`}},
		{id: "row-6", seq: "6", tabindex: "0", class: "row", label: "seq 6, open members",
			cells: []string{"6", "0", "0", "—", "✓ OK"}},
		{id: "row-7", seq: "7", tabindex: "0", class: "row row-missing", label: "seq 7, open members",
			cells: []string{"7", "—", "—", "—", "✕ not fetched Tencent answered HTTP 502"}},
	}
	if diff := cmp.Diff(wantRows, got.rows, cmp.AllowUnexported(htmlRow{})); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if got.bars != 1 {
		t.Errorf("%d rate bars, want 1 (the one row with a rate)", got.bars)
	}
	if strings.Contains(h, "<img") {
		t.Errorf("the server's code text reached the markup unescaped: %s", h)
	}
}

// htmlTable is what parseTable read from the table's markup.
type htmlTable struct {
	head []htmlTh
	rows []htmlRow
	bars int // rate bars (span.rate-bar, aria-hidden) in the rows
}

type htmlTh struct{ sort, class, button, key, text string }

type htmlRow struct {
	id, seq, tabindex, class, current, label string
	cells                                    []string
}

// parseTable reads the table's markup as XML (the writer closes every
// element, so it must be well-formed) into its header cells and rows.
func parseTable(t *testing.T, h string) htmlTable {
	t.Helper()
	var out htmlTable
	d := xml.NewDecoder(strings.NewReader(h))
	attr := func(e xml.StartElement, name string) string {
		for _, a := range e.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	var th *htmlTh
	var row *htmlRow
	var cell *strings.Builder
	for range len(h) {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the table's HTML is not well-formed: %v\n%s", err, h)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "th":
				th = &htmlTh{sort: attr(tok, "aria-sort"), class: attr(tok, "class")}
				cell = &strings.Builder{}
			case "button":
				if th != nil {
					th.button, th.key = attr(tok, "id"), attr(tok, "data-sort")
				}
			case "tr":
				if attr(tok, "data-seq") != "" {
					row = &htmlRow{id: attr(tok, "id"), seq: attr(tok, "data-seq"), tabindex: attr(tok, "tabindex"),
						class: attr(tok, "class"), current: attr(tok, "aria-current"), label: attr(tok, "aria-label")}
				}
			case "td":
				cell = &strings.Builder{}
			case "span":
				if row != nil && strings.Contains(attr(tok, "class"), "rate-bar") {
					if attr(tok, "aria-hidden") != "true" {
						t.Errorf("a row's rate bar is not aria-hidden: %v", tok.Attr)
					}
					out.bars++
				}
			}
		case xml.CharData:
			if cell != nil {
				cell.Write(tok)
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "th":
				th.text = cell.String()
				out.head = append(out.head, *th)
				th, cell = nil, nil
			case "td":
				if row != nil {
					row.cells = append(row.cells, cell.String())
				}
				cell = nil
			case "tr":
				if row != nil {
					out.rows = append(out.rows, *row)
					row = nil
				}
			}
		}
	}
	return out
}
