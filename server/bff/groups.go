package bff

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/directory"
)

// maxQueryLen bounds a directory search text.
const maxQueryLen = 100

// groupsInput is a directory search: GET /api/groups?app=&q=&type=&cursor=&limit=.
type groupsInput struct {
	App, Q, Type, Cursor, Limit string
	app                         *App
	offset, limit               int
}

// groupTypes are the types a search may filter by.
var groupTypes = map[string]bool{"Private": true, "Work": true, "Public": true, "ChatRoom": true, "Meeting": true, "AVChatRoom": true, "Community": true}

// Valid checks the app, the text, the type, the cursor and the page size.
func (in *groupsInput) Valid(ctx context.Context) error {
	app, err := lookupApp(ctx, in.App)
	in.app = app
	if err != nil {
		return err
	}
	var v validate
	switch {
	case app == nil:
		v.addf("app", "unknown app %q", cut(in.App, 40))
	case app.Directory == nil:
		v.addf("app", "app %q has no group directory", app.ID)
	}
	if len(in.Q) > maxQueryLen {
		v.addf("q", "the search is %d bytes; at most %d", len(in.Q), maxQueryLen)
	}
	if in.Type != "" && !groupTypes[in.Type] {
		v.addf("type", "unknown group type %q", cut(in.Type, 20))
	}
	in.offset = int(v.number("cursor", in.Cursor, math.MaxInt32, "the cursor is not one this console handed out"))
	in.limit = int(v.number("limit", in.Limit, directory.MaxPage, fmt.Sprintf("limit must be between 1 and %d", directory.MaxPage)))
	return v.err()
}

// handleGroups answers GET /api/groups: one page of the app's directory,
// searched by name or ID prefix and filtered by type; while the first
// index build runs, its progress. Every search writes an audit record with
// the counts (never the search text).
func handleGroups(q queryDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := q.startAudit(r, "groups")
		qv := r.URL.Query()
		in := &groupsInput{App: qv.Get("app"), Q: strings.TrimSpace(qv.Get("q")), Type: qv.Get("type"), Cursor: qv.Get("cursor"), Limit: qv.Get("limit")}
		err := in.Valid(r.Context())
		rec.resolved(in.App, in.app, 0)
		if err != nil {
			q.fail(w, r, rec, err)
			return
		}
		res, err := in.app.Directory.Search(directory.Query{Text: in.Q, Type: in.Type, Offset: in.offset, Limit: in.limit})
		if err != nil {
			q.fail(w, r, rec, err)
			return
		}
		out := api.GroupsResponse{App: in.app.ID, Groups: make([]api.Group, len(res.Groups)), Total: res.Total, Ready: res.Ready, Stale: res.Err != nil && res.Ready}
		for i, g := range res.Groups {
			out.Groups[i] = api.Group{ID: g.ID, Name: g.Name, Type: g.Type, MemberNum: g.MemberNum, NextMsgSeq: g.NextMsgSeq, LastMsgTime: g.LastMsgTime, Receipts: g.Receipts}
		}
		if res.Next > 0 {
			out.Cursor = strconv.Itoa(res.Next)
		}
		if !res.Built.IsZero() {
			out.BuiltAt = res.Built.Unix()
		}
		if res.Progress.Building {
			out.Progress = &api.IndexProgress{Listed: res.Progress.Listed, Detailed: res.Progress.Detailed, Total: res.Progress.Total}
		}
		rec.results = res.Total
		q.finish(r.Context(), rec, nil)
		_ = encode(w, http.StatusOK, out)
	})
}
