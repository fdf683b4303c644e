package ui

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/api"
)

func TestDrillStateMachine(t *testing.T) {
	q := query{App: "prod", Group: "g1", Seqs: "1-9", Count: 9}
	row := api.Receipt{Seq: 7, Read: 3, Unread: 2}
	var d drill

	req, ok := d.open(q, row, defaultMembersPage)
	want := api.MembersRequest{App: "prod", GroupID: "g1", Seq: 7, Filter: api.FilterRead, Limit: defaultMembersPage}
	if !ok || !cmp.Equal(want, req) {
		t.Fatalf("open = %+v, %v; want %+v", req, ok, want)
	}
	if _, ok := d.loadMore(); ok {
		t.Error("loadMore while the first page loads sent a request")
	}

	d.loaded(req, &api.MembersResponse{Members: []string{"ann", "bob"}, Cursor: "c2"})
	if l := d.list(); l.Status != loaded || l.Done || l.Cursor != "c2" || len(l.Members) != 2 {
		t.Fatalf("after page 1: %+v", l)
	}

	// Unread tab: first page; back to Read: nothing to load.
	reqU, ok := d.switchTab(api.FilterUnread)
	if !ok || reqU.Filter != api.FilterUnread || reqU.Cursor != "" {
		t.Fatalf("switchTab(unread) = %+v, %v", reqU, ok)
	}
	if _, ok := d.switchTab(api.FilterRead); ok {
		t.Error("switching back to a loaded tab sent a request")
	}
	if _, ok := d.switchTab("bogus"); ok || d.Tab != api.FilterRead {
		t.Errorf("switchTab(bogus) changed the tab to %q", d.Tab)
	}
	// The unread answer lands in its own list even though Read is shown.
	d.loaded(reqU, &api.MembersResponse{Members: []string{"cy", "di"}, Done: true})
	if l := d.Lists[api.FilterUnread]; l.Status != loaded || !l.Done || len(l.Members) != 2 {
		t.Errorf("unread list = %+v", l)
	}

	// Page 2 of Read fails, keeps page 1, then the retry succeeds.
	req2, ok := d.loadMore()
	if !ok || req2.Cursor != "c2" {
		t.Fatalf("loadMore = %+v, %v; want cursor c2", req2, ok)
	}
	d.failed(req2, &api.Error{Code: api.ECodeUpstream, Message: "boom", UpstreamCode: 70169})
	if l := d.list(); l.Status != loadingErr || len(l.Members) != 2 || l.Err.UpstreamCode != 70169 {
		t.Fatalf("after failure: %+v", l)
	}
	req3, ok := d.loadMore()
	if !ok || req3.Cursor != "c2" {
		t.Fatalf("retry = %+v, %v", req3, ok)
	}
	d.loaded(req3, &api.MembersResponse{Members: []string{"eve"}, Done: true})
	if l := d.list(); !l.Done || l.Err != nil || len(l.Members) != 3 {
		t.Fatalf("after page 2: %+v", l)
	}
	if _, ok := d.loadMore(); ok {
		t.Error("loadMore on a complete list sent a request")
	}

	// Local search over the loaded members, case-insensitive.
	d.Search = "E"
	if diff := cmp.Diff([]string{"eve"}, d.visible()); diff != "" {
		t.Errorf("search (-want +got):\n%s", diff)
	}
	if d.total() != 3 {
		t.Errorf("total = %d, want Tencent's read count 3", d.total())
	}
}

func TestDrillIgnoresStaleAnswers(t *testing.T) {
	q := query{App: "prod", Group: "g1", Seqs: "1-9", Count: 9}
	var d drill
	old, _ := d.open(q, api.Receipt{Seq: 7, Read: 3}, defaultMembersPage)
	newer, _ := d.open(q, api.Receipt{Seq: 8, Read: 3}, defaultMembersPage)

	d.loaded(old, &api.MembersResponse{Members: []string{"stale"}, Done: true})
	d.failed(old, &api.Error{Code: api.ECodeInternal})
	if l := d.list(); l.Status != loading || len(l.Members) != 0 {
		t.Fatalf("an answer for seq 7 changed the seq 8 panel: %+v", l)
	}
	d.loaded(newer, &api.MembersResponse{Members: []string{"ok"}, Done: true})
	if got := d.list().Members; len(got) != 1 || got[0] != "ok" {
		t.Errorf("members = %q", got)
	}

	// Closed panel: answers are dropped.
	again, _ := d.loadMore()
	d.close()
	d.loaded(again, &api.MembersResponse{Members: []string{"late"}})
	if d.Open || d.Lists != nil {
		t.Errorf("closed panel changed: %+v", d)
	}
}

func TestDrillMissingReceipt(t *testing.T) {
	var d drill
	if _, ok := d.open(query{App: "a", Group: "g"}, api.Receipt{Seq: 3, Code: 10062}, defaultMembersPage); ok {
		t.Error("open on a seq without receipt sent a request")
	}
	if l := d.list(); l.Status != loaded || !l.Done {
		t.Errorf("list = %+v, want loaded and done", l)
	}
	if _, ok := d.switchTab(api.FilterUnread); ok {
		t.Error("switchTab on a seq without receipt sent a request")
	}
}

func TestDrillEmptyCursorEndsTheList(t *testing.T) {
	var d drill
	req, _ := d.open(query{App: "a", Group: "g"}, api.Receipt{Seq: 3, Read: 5}, defaultMembersPage)
	d.loaded(req, &api.MembersResponse{Members: []string{"a"}, Cursor: "", Done: false})
	if !d.list().Done {
		t.Error("a page without cursor did not end the list; load more would repeat page 1")
	}
}
