package ui

import (
	"net/url"
	"strings"

	"github.com/timconsole/timconsole/server/api"
)

// URL paths of the console's own pages. Both are the same component: "/" is
// the empty form, "/receipts" carries a query so that a copied link reopens
// the same result.
const (
	pathHome     = "/"
	pathReceipts = "/receipts"
)

// query is one receipts question as it appears in the URL. Seqs is kept in
// the compact canonical form of api.FormatSeqs so equal questions have equal
// URLs (and hit the same cache entry and recent-queries slot).
type query struct {
	App   string `json:"app"`
	Group string `json:"group"`
	Seqs  string `json:"seqs"`
	// Count is the number of distinct seqs, for the recent-queries list.
	Count int `json:"count,omitempty"`
}

// key identifies the question regardless of Count.
func (q query) key() string { return q.App + "\x00" + q.Group + "\x00" + q.Seqs }

// path is the deep link of the query.
func (q query) path() string {
	v := url.Values{}
	v.Set("app", q.App)
	v.Set("group", q.Group)
	v.Set("seqs", q.Seqs)
	return pathReceipts + "?" + v.Encode()
}

// csvPath is the export link for the same query (the BFF spells the group
// parameter groupId, like the JSON body).
func (q query) csvPath() string {
	v := url.Values{}
	v.Set("app", q.App)
	v.Set("groupId", q.Group)
	v.Set("seqs", q.Seqs)
	return api.PathReceiptsCSV + "?" + v.Encode()
}

// queryFromURL reads a query from a deep link. ok is false when the URL does
// not name a complete question; the form then only pre-fills what is there.
func queryFromURL(u *url.URL) (q query, ok bool) {
	if u == nil {
		return query{}, false
	}
	v := u.Query()
	q = query{
		App:   strings.TrimSpace(v.Get("app")),
		Group: strings.TrimSpace(v.Get("group")),
		Seqs:  strings.TrimSpace(v.Get("seqs")),
	}
	if q.App == "" || q.Group == "" || q.Seqs == "" {
		return q, false
	}
	seqs, problems := api.ParseSeqs(q.Seqs, 0)
	if len(problems) > 0 || api.CheckGroupID(q.Group) != nil {
		return q, false
	}
	q.Seqs = api.FormatSeqs(seqs)
	q.Count = len(seqs)
	return q, true
}

// loginURL is where an unauthenticated browser goes: the BFF's login with
// the current deep link as return_to, so the operator lands back on the same
// result.
func loginURL(current *url.URL) string {
	rt := "/"
	if current != nil && current.Path != "" {
		rt = current.Path
		if current.RawQuery != "" {
			rt += "?" + current.RawQuery
		}
	}
	return api.PathLogin + "?return_to=" + url.QueryEscape(rt)
}
