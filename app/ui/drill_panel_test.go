package ui

import (
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// drillHarness loads a panel on the host, where OnMount never runs: it
// registers the panel's fetch handler as OnMount does and keeps the
// context for the test.
type drillHarness struct {
	*drillPanel
	ctx *app.Context
}

func (h drillHarness) OnPreRender(ctx app.Context) {
	*h.ctx = ctx
	ctx.Handle(actionDrillFetch, h.handleFetch)
}

func mustLoadDrill(t *testing.T, f *fakeBFF, row api.Receipt, pageSize int) (drillHarness, app.TestEngine) {
	t.Helper()
	srv := mustStartBFF(t, f)
	h := drillHarness{
		drillPanel: &drillPanel{Query: query{App: "prod", Group: "g1", Seqs: "1-20", Count: 20}, Row: row, PageSize: pageSize,
			api: &client{t: newTransport(), base: srv.URL}},
		ctx: new(app.Context),
	}
	e := app.NewTestEngine()
	if err := e.Load(h); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	if h.fetchOnMount {
		h.fetchOnMount = false
		h.fetch(*h.ctx, h.first)
	}
	return h, e
}

// TestDrillPanel walks the panel: first page, load more through the
// action (the path a button's click takes), the other tab failing then
// retried, and the page size of the next requests.
func TestDrillPanel(t *testing.T) {
	f := &fakeBFF{members: 150}
	h, e := mustLoadDrill(t, f, testReceipt(7), defaultMembersPage)
	if l := h.d.list(); l.Status != loading {
		t.Fatalf("before the first answer: %+v", l)
	}
	e.ConsumeAll()
	if l := h.d.list(); l.Status != loaded || len(l.Members) != defaultMembersPage || l.Done {
		t.Fatalf("read page 1: status %v, %d members, done %v", l.Status, len(l.Members), l.Done)
	}
	post := func(req api.MembersRequest, ok bool) {
		t.Helper()
		if !ok {
			t.Fatal("the state machine sent no request")
		}
		(*h.ctx).NewActionWithValue(actionDrillFetch, req)
		e.ConsumeAll()
	}
	post(h.d.loadMore())
	if l := h.d.list(); len(l.Members) != 150 || !l.Done || l.Members[149] != "read-7-149" {
		t.Fatalf("read page 2: %d members, done %v", len(l.Members), l.Done)
	}

	// Unread tab fails once: the error shows inline, the read list stays.
	f.mu.Lock()
	f.memberErr = &api.Error{Code: api.ECodeUpstream, Message: "busy", UpstreamCode: 70169, Retryable: true}
	f.mu.Unlock()
	post(h.d.switchTab(api.FilterUnread))
	if l := h.d.list(); l.Status != loadingErr || l.Err.UpstreamCode != 70169 {
		t.Fatalf("unread after failure: %+v", l)
	}
	if len(h.d.Lists[api.FilterRead].Members) != 150 {
		t.Error("the read list was lost")
	}
	// A smaller page size applies to the next request.
	h.PageSize = 25
	h.OnUpdate(*h.ctx)
	req, ok := h.d.loadMore()
	if req.Limit != 25 {
		t.Errorf("limit %d after the page size changed, want 25", req.Limit)
	}
	post(req, ok)
	if l := h.d.list(); l.Status != loaded || len(l.Members) != 25 {
		t.Fatalf("unread after retry: status %v, %d members", l.Status, len(l.Members))
	}
}

// TestDrillPanelMissingReceipt: a seq without receipt opens without a
// request.
func TestDrillPanelMissingReceipt(t *testing.T) {
	f := &fakeBFF{members: 150}
	h, e := mustLoadDrill(t, f, testReceipt(10), defaultMembersPage)
	e.ConsumeAll()
	if n := f.count(api.PathMembers); n != 0 {
		t.Errorf("missing seq: %d member calls, want none", n)
	}
	if l := h.d.list(); l.Status != loaded || !l.Done {
		t.Errorf("list = %+v, want loaded and done", l)
	}
}

// TestDrillPanelPageSizeSelect renders the "per page" select: the
// standard sizes, plus a deep link's own size first.
func TestDrillPanelPageSizeSelect(t *testing.T) {
	tests := []struct {
		size int
		want []string
	}{
		{100, []string{"25", "50", "100", "200"}},
		{5, []string{"5", "25", "50", "100", "200"}},
	}
	for _, tt := range tests {
		p := &drillPanel{PageSize: tt.size}
		html := app.HTMLString(p.renderPageSize())
		for _, v := range tt.want {
			if !containsAll(html, `value="`+v+`"`) {
				t.Errorf("size %d: no option %s in %s", tt.size, v, html)
			}
		}
		if !containsAll(html, `id="members-per-page"`, "selected") {
			t.Errorf("size %d: no selected option: %s", tt.size, html)
		}
	}
}
