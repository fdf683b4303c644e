package ui

import (
	"strings"

	"github.com/timconsole/timconsole/server/api"
)

// Drill-down page sizes: how many members one "load more" asks for. The
// panel's "per page" select offers memberPageSizes(); the deep link's
// pageSize parameter may ask for any size from 1 to api.MaxMembersLimit
// (the end-to-end suite walks several pages of a small group that way).
const defaultMembersPage = 100

// memberPageSizes are the choices of the panel's "per page" select.
func memberPageSizes() []int { return []int{25, 50, 100, 200} }

// validPageSize clamps a requested drill-down page size; 0 or less means
// the default.
func validPageSize(n int) int {
	if n <= 0 {
		return defaultMembersPage
	}
	return min(n, api.MaxMembersLimit)
}

// loadStatus drives the loaders: what a list shows depends only on it.
type loadStatus int

const (
	neverLoaded loadStatus = iota
	loading
	loadingErr
	loaded
)

// memberList is one tab of the drill-down: the pages loaded so far.
type memberList struct {
	Members []string
	Cursor  string
	Done    bool
	Status  loadStatus
	Err     *api.Error
}

// drill is the drill-down panel as a state machine. Its methods return the
// request to send, if any, and the component sends it; the answers come back
// through loaded or failed, which ignore answers for a panel that has
// moved on (another seq, or a closed panel).
type drill struct {
	Open   bool
	Query  query
	Row    api.Receipt
	Tab    string // api.FilterRead or api.FilterUnread
	Lists  map[string]*memberList
	Search string
	// PageSize is the members asked for per page.
	PageSize int
}

// open shows the panel for one row, on the Read tab, and asks for its first
// page.
func (d *drill) open(q query, row api.Receipt, pageSize int) (api.MembersRequest, bool) {
	*d = drill{
		Open:     true,
		Query:    q,
		Row:      row,
		Tab:      api.FilterRead,
		Lists:    map[string]*memberList{api.FilterRead: {}, api.FilterUnread: {}},
		PageSize: validPageSize(pageSize),
	}
	return d.next()
}

// close hides the panel; answers still in flight are then ignored.
func (d *drill) close() { *d = drill{} }

// switchTab shows the other list, loading its first page when it was
// never loaded.
func (d *drill) switchTab(tab string) (api.MembersRequest, bool) {
	if !d.Open || (tab != api.FilterRead && tab != api.FilterUnread) {
		return api.MembersRequest{}, false
	}
	d.Tab = tab
	if d.list().Status == neverLoaded {
		return d.next()
	}
	return api.MembersRequest{}, false
}

// loadMore asks for the next page of the current tab. It does nothing while
// a page is loading or when the list is complete; after an error it retries.
func (d *drill) loadMore() (api.MembersRequest, bool) {
	if !d.Open {
		return api.MembersRequest{}, false
	}
	l := d.list()
	if l.Status == loading || l.Done {
		return api.MembersRequest{}, false
	}
	return d.next()
}

// next marks the current list loading and returns its request.
func (d *drill) next() (api.MembersRequest, bool) {
	l := d.list()
	if d.Row.Code != 0 {
		// No receipt: Tencent has no member lists for this seq.
		l.Status, l.Done = loaded, true
		return api.MembersRequest{}, false
	}
	l.Status, l.Err = loading, nil
	return api.MembersRequest{
		App:     d.Query.App,
		GroupID: d.Query.Group,
		Seq:     d.Row.Seq,
		Filter:  d.Tab,
		Cursor:  l.Cursor,
		Limit:   validPageSize(d.PageSize),
	}, true
}

// current reports whether an answer to req still belongs on screen.
func (d *drill) current(req api.MembersRequest) bool {
	if !d.Open || d.Query.App != req.App || d.Query.Group != req.GroupID || d.Row.Seq != req.Seq {
		return false
	}
	l := d.Lists[req.Filter]
	return l != nil && l.Status == loading && l.Cursor == req.Cursor
}

// loaded appends a page.
func (d *drill) loaded(req api.MembersRequest, page *api.MembersResponse) {
	if !d.current(req) {
		return
	}
	l := d.Lists[req.Filter]
	l.Members = append(l.Members, page.Members...)
	l.Cursor = page.Cursor
	l.Done = page.Done || page.Cursor == ""
	l.Status = loaded
}

// failed records an error; what was loaded stays on screen.
func (d *drill) failed(req api.MembersRequest, err *api.Error) {
	if !d.current(req) {
		return
	}
	l := d.Lists[req.Filter]
	l.Status, l.Err = loadingErr, err
}

// list is the current tab's list.
func (d *drill) list() *memberList {
	if d.Lists == nil {
		d.Lists = map[string]*memberList{}
	}
	l := d.Lists[d.Tab]
	if l == nil {
		l = &memberList{}
		d.Lists[d.Tab] = l
	}
	return l
}

// total is what Tencent counted for the current tab, for "12 of 340".
func (d *drill) total() int {
	if d.Tab == api.FilterUnread {
		return d.Row.Unread
	}
	return d.Row.Read
}

// visible is the current tab's members matching the local search box.
func (d *drill) visible() []string {
	l := d.list()
	s := strings.ToLower(strings.TrimSpace(d.Search))
	if s == "" {
		return l.Members
	}
	var out []string
	for _, m := range l.Members {
		if strings.Contains(strings.ToLower(m), s) {
			out = append(out, m)
		}
	}
	return out
}
