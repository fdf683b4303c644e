package ui

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQueryURLRoundTrip(t *testing.T) {
	q := query{App: "prod", Group: "@TGS#1A&B", Seqs: "1-500,777", Count: 501}
	p := q.path()
	if p != "/receipts?app=prod&group=%40TGS%231A%26B&seqs=1-500%2C777" {
		t.Errorf("path = %q", p)
	}
	u, _ := url.Parse(p)
	got, ok := queryFromURL(u)
	if !ok {
		t.Fatalf("queryFromURL(%q) not ok", p)
	}
	if diff := cmp.Diff(q, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if csv := q.csvPath(); csv != "/api/receipts.csv?app=prod&groupId=%40TGS%231A%26B&seqs=1-500%2C777" {
		t.Errorf("csvPath = %q", csv)
	}
}

func TestQueryFromURL(t *testing.T) {
	tests := []struct {
		raw  string
		ok   bool
		want query
	}{
		{"/receipts?app=a&group=g&seqs=3,1-2", true, query{App: "a", Group: "g", Seqs: "1-3", Count: 3}},
		{"/receipts?app=a&group=g", false, query{App: "a", Group: "g"}},
		{"/receipts?app=a&group=g&seqs=x", false, query{App: "a", Group: "g", Seqs: "x"}},
		{"/receipts?app=a&group=a%20b&seqs=1", false, query{App: "a", Group: "a b", Seqs: "1"}},
		{"/", false, query{}},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.raw)
		got, ok := queryFromURL(u)
		if ok != tt.ok || !cmp.Equal(tt.want, got) {
			t.Errorf("queryFromURL(%q) = %+v, %v; want %+v, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLoginURL(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:8080/receipts?app=a&group=g&seqs=1-5")
	if got, want := loginURL(u), "/auth/login?return_to=%2Freceipts%3Fapp%3Da%26group%3Dg%26seqs%3D1-5"; got != want {
		t.Errorf("loginURL = %q, want %q", got, want)
	}
	if got, want := loginURL(&url.URL{}), "/auth/login?return_to=%2F"; got != want {
		t.Errorf("loginURL(empty) = %q, want %q", got, want)
	}
}

func TestPushRecent(t *testing.T) {
	a := query{App: "p", Group: "a", Seqs: "1"}
	b := query{App: "p", Group: "b", Seqs: "1"}
	c := query{App: "p", Group: "c", Seqs: "1"}
	list := pushRecent(nil, a, 2)
	list = pushRecent(list, b, 2)
	list = pushRecent(list, a, 2) // moves to the front, no duplicate
	if diff := cmp.Diff([]query{a, b}, list); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	list = pushRecent(list, c, 2)
	if diff := cmp.Diff([]query{c, a}, list); diff != "" {
		t.Errorf("limit (-want +got):\n%s", diff)
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234", -12: "-12"} {
		if got := formatInt(in); got != want {
			t.Errorf("formatInt(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{0: "0", 1.5: "1.5", 2.005: "2", 10.126: "10.13", -0.001: "0"} {
		if got := formatFloat(in); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", in, got, want)
		}
	}
	if got := formatPct(0.6455); got != "64.5%" && got != "64.6%" {
		t.Errorf("formatPct = %q", got)
	}
}
