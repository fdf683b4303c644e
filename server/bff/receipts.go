package bff

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/tim"
)

// queryDeps is what the query handlers share.
type queryDeps struct {
	logger  *slog.Logger
	apps    *appSet
	auth    *auth.Auth
	pulls   *pullLimiter
	now     func() time.Time
	proxies []netip.Prefix
}

// auditRecord is one query's audit trail entry, filled in as the request
// goes and written once by finish.
type auditRecord struct {
	kind           string
	op             auth.Operator
	app            string
	sdkAppID       uint64
	group          string
	seqs           int
	calls, retries int
	start          time.Time
	client         string
	// partial marks a pull that kept its results although some batches
	// failed; the outcome is then "partial".
	partial bool
	// results counts what a search or a listing answered (0: not one).
	results int
	done    bool
}

func (q queryDeps) startAudit(r *http.Request, kind string) *auditRecord {
	op, _ := auth.OperatorFrom(r.Context())
	return &auditRecord{kind: kind, op: op, start: q.now(), client: clientIP(r, q.proxies)}
}

// finish writes the audit record: who, which app and group, how many seqs,
// the outcome, the upstream calls and how long it took. One record per
// query, whatever the outcome, so refused and failed queries are visible too.
func (q queryDeps) finish(ctx context.Context, rec *auditRecord, e *api.Error) {
	if rec.done {
		return
	}
	rec.done = true
	outcome := "ok"
	switch {
	case e != nil:
		outcome = e.Code
	case rec.partial:
		outcome = "partial"
	}
	attrs := []slog.Attr{
		slog.String("kind", rec.kind),
		slog.String("operator", rec.op.Subject),
		slog.String("email", rec.op.Email),
		slog.String("app", rec.app),
		slog.Uint64("sdkAppId", rec.sdkAppID),
		slog.String("group", rec.group),
		slog.Int("seqs", rec.seqs),
		slog.String("outcome", outcome),
		slog.Int("upstreamCalls", rec.calls),
		slog.Int("upstreamRetries", rec.retries),
		slog.Int64("durationMs", q.now().Sub(rec.start).Milliseconds()),
		slog.String("client", rec.client),
	}
	if e != nil && e.UpstreamCode != 0 {
		attrs = append(attrs, slog.Int("upstreamCode", e.UpstreamCode))
	}
	if rec.results > 0 {
		attrs = append(attrs, slog.Int("results", rec.results))
	}
	q.logger.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
}

// admit reserves one of the operator's concurrent pulls, or answers 429
// and records the refusal; an admitted caller releases the slot when done.
func (q queryDeps) admit(w http.ResponseWriter, r *http.Request, rec *auditRecord) bool {
	if q.pulls.acquire(rec.op.Subject) {
		return true
	}
	q.fail(w, r, rec, errorf(api.ECodeTooMany, "you already have %d queries running; wait for one to finish", q.pulls.max))
	return false
}

// fail audits a refused or failed query and answers with the error.
func (q queryDeps) fail(w http.ResponseWriter, r *http.Request, rec *auditRecord, err error) {
	e, _ := toAPIError(r.Context(), err)
	q.finish(r.Context(), rec, e)
	writeError(w, r, q.logger, err)
}

// resolved copies what Valid resolved into the audit record: the app (as
// asked, when unknown), its SDKAppID and the seq count.
func (rec *auditRecord) resolved(appID string, app *App, seqs int) {
	rec.app, rec.seqs = cut(appID, 40), seqs
	if app != nil {
		rec.sdkAppID = app.Client.SDKAppID()
	}
}

// pull runs the query and translates the result into the api types.
func (q queryDeps) pull(ctx context.Context, rec *auditRecord, app *App, groupID string, seqs []uint32, progress func(done, total int)) (*api.ReceiptsResponse, error) {
	p, err := app.Client.PullReceipts(ctx, groupID, seqs, progress)
	if err != nil {
		return nil, fmt.Errorf("app %s: %w", app.ID, err)
	}
	rec.calls, rec.retries = p.Calls, p.Retries
	res := &api.ReceiptsResponse{
		App:      app.ID,
		GroupID:  groupID,
		Results:  make([]api.Receipt, len(p.Receipts)),
		Upstream: api.Upstream{Calls: p.Calls, Retries: p.Retries, ElapsedMS: p.Elapsed.Milliseconds()},
	}
	for i, r := range p.Receipts {
		res.Results[i] = api.Receipt{Seq: r.Seq, Read: r.Read, Unread: r.Unread, Code: r.Code}
		switch {
		case r.Code == tim.CodeNotFetched:
			res.Results[i].Code = api.CodeNotFetched
			res.Results[i].CodeText = notFetchedText(r.Err)
		case r.Code != 0:
			res.Results[i].CodeText = Explain(r.Code)
		}
	}
	res.Summary = api.Summarize(res.Results)
	res.Partial = p.NotFetched > 0
	rec.partial = res.Partial
	return res, nil
}

// handleReceipts answers POST /api/receipts: one JSON answer, or, when the
// client accepts application/x-ndjson, a stream of progress events ending
// with the result or an error event.
func handleReceipts(q queryDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := q.startAudit(r, "receipts")
		req, err := decodeValid[queryInput](r)
		rec.group = req.GroupID
		rec.resolved(req.App, req.app, len(req.seqs))
		if err != nil {
			q.fail(w, r, rec, err)
			return
		}
		app, seqs := req.app, req.seqs
		if !q.admit(w, r, rec) {
			return
		}
		defer q.pulls.release(rec.op.Subject)

		if accepts(r, api.ContentTypeNDJSON) {
			q.stream(w, r, rec, app, req.GroupID, seqs)
			return
		}
		res, err := q.pull(r.Context(), rec, app, req.GroupID, seqs, nil)
		if err != nil {
			q.fail(w, r, rec, err)
			return
		}
		q.finish(r.Context(), rec, nil)
		_ = encode(w, http.StatusOK, res)
	})
}

// stream runs the pull while writing NDJSON events, flushing after each
// line so the UI's progress bar moves. Once the 200 is out, failures travel
// as a final error event.
func (q queryDeps) stream(w http.ResponseWriter, r *http.Request, rec *auditRecord, app *App, groupID string, seqs []uint32) {
	h := w.Header()
	h.Set("Content-Type", api.ContentTypeNDJSON)
	h.Set("X-Accel-Buffering", "no") // reverse proxies must not buffer the stream
	w.WriteHeader(http.StatusOK)
	ev := &eventWriter{w: w, rc: http.NewResponseController(w)}
	ev.flush()

	res, err := q.pull(r.Context(), rec, app, groupID, seqs, func(done, total int) {
		ev.send(api.Event{Type: api.EventProgress, Done: done, Total: total})
	})
	if err != nil {
		e, logIt := toAPIError(r.Context(), err)
		if logIt {
			logFailure(r, q.logger, e, statusOf(e), err)
		}
		q.finish(r.Context(), rec, e)
		ev.send(api.Event{Type: api.EventError, Error: e})
		return
	}
	q.finish(r.Context(), rec, nil)
	ev.send(api.Event{Type: api.EventResult, Result: res})
}

// eventWriter writes NDJSON lines; tim serializes its progress calls, the
// mutex keeps the final line from racing a late one all the same.
type eventWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (e *eventWriter) send(ev api.Event) {
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.w.Write(append(line, '\n')); err != nil {
		return // the client went away; the pull's context ends with it
	}
	_ = e.rc.Flush()
}

func (e *eventWriter) flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	_ = e.rc.Flush()
}

// handleReceiptsCSV answers GET /api/receipts.csv?app=&groupId=&seqs= with
// the same query as a CSV attachment. It pulls first and writes after, so a
// failure is still a proper JSON error rather than a truncated file.
func handleReceiptsCSV(q queryDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := q.startAudit(r, "receipts.csv")
		qv := r.URL.Query()
		in := &queryInput{ReceiptsRequest: api.ReceiptsRequest{App: qv.Get("app"), GroupID: qv.Get("groupId"), Seqs: api.SeqText(qv.Get("seqs"))}}
		err := in.Valid(r.Context())
		groupID := in.GroupID
		rec.group = groupID
		rec.resolved(in.App, in.app, len(in.seqs))
		if err != nil {
			q.fail(w, r, rec, err)
			return
		}
		app, seqs := in.app, in.seqs
		if !q.admit(w, r, rec) {
			return
		}
		defer q.pulls.release(rec.op.Subject)
		res, err := q.pull(r.Context(), rec, app, groupID, seqs, nil)
		if err != nil {
			q.fail(w, r, rec, err)
			return
		}
		var buf bytes.Buffer
		if err := writeCSV(&buf, res.Results); err != nil {
			q.fail(w, r, rec, err)
			return
		}
		q.finish(r.Context(), rec, nil)
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": csvFileName(app.ID, groupID, seqs)}))
		w.WriteHeader(http.StatusOK)
		_, _ = buf.WriteTo(w)
	})
}

// defaultMemberPage is the page size when the client does not ask.
const defaultMemberPage = 100

// handleMembers answers POST /api/receipts/members: one page of the members
// who read (or have not read) one message.
func handleMembers(q queryDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := q.startAudit(r, "members")
		req, err := decodeValid[membersInput](r)
		rec.group = req.GroupID
		rec.resolved(req.App, req.app, 1)
		if err != nil {
			q.fail(w, r, rec, err)
			return
		}
		app, filter := req.app, req.filter
		limit := req.Limit
		if limit == 0 {
			limit = defaultMemberPage
		}
		page, err := app.Client.GroupMsgReceiptMembers(r.Context(), req.GroupID, req.Seq, filter, req.Cursor, limit)
		if err != nil {
			q.fail(w, r, rec, fmt.Errorf("app %s: %w", app.ID, err))
			return
		}
		rec.calls = 1
		q.finish(r.Context(), rec, nil)
		res := api.MembersResponse{Members: page.Members, Cursor: page.Cursor, Done: page.Done}
		if res.Members == nil {
			res.Members = []string{}
		}
		_ = encode(w, http.StatusOK, res)
	})
}

// accepts reports whether the request's Accept header lists media type mt.
func accepts(r *http.Request, mt string) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			t, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(t), mt) {
				return true
			}
		}
	}
	return false
}

// cut shortens untrusted text before it is echoed or logged.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
