package bff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/tim"
)

// Message previews: per app, "text" shows the start of text messages,
// "off" (the default) shows kind, sender and time only. Message text is
// personal data, so showing it is a deployment's choice per app; the demo
// turns it on. Text is never logged or audited, and the answer is no-store.
const (
	PreviewOff  = "off"
	PreviewText = "text"
)

// previewRunes is how much of a text message a preview shows.
const previewRunes = 120

// timelineInput is GET /api/groups/{group}/messages?app=&before=&limit=&from=&to=.
type timelineInput struct {
	App, GroupID  string
	Before, Limit string
	From, To      string
	app           *App
	before        uint32
	limit         int
	from, to      int64
}

// Valid checks the app, the group, the cursor, the page size and the range.
func (in *timelineInput) Valid(ctx context.Context) error {
	var v validate
	app, err := v.appAndGroup(ctx, in.App, in.GroupID)
	in.app = app
	if err != nil {
		return err
	}
	num := func(field, s string, max uint64) uint64 {
		return v.number(field, s, max, fmt.Sprintf("%s must be a number from 0 to %d", field, max))
	}
	in.before = uint32(num("before", in.Before, 1<<32-1))
	in.limit = int(num("limit", in.Limit, api.MaxTimelineLimit))
	if in.limit == 0 {
		in.limit = api.DefaultTimelineLimit
	}
	in.from = int64(num("from", in.From, 1<<62))
	in.to = int64(num("to", in.To, 1<<62))
	if in.to != 0 && in.from > in.to {
		v.addf("from", "from is after to")
	}
	return v.err()
}

// handleTimeline answers GET /api/groups/{group}/messages: the group's
// messages, newest first, from before (exclusive; 0 = the newest) within
// from..to (Unix seconds, either open), limit of them, each with its
// sender's nickname, kind, preview (when the app allows), recall and delete
// marks, and its receipt counts. The history is read 20 messages a call
// (group_msg_get_simple), the nicknames from the app's cache, the counts in
// batches of 50 (get_group_msg_receipt); a failure of the counts or the
// names leaves them out, not the page.
func handleTimeline(q queryDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := q.startAudit(r, "messages")
		qv := r.URL.Query()
		in := &timelineInput{App: qv.Get("app"), GroupID: r.PathValue("group"),
			Before: qv.Get("before"), Limit: qv.Get("limit"), From: qv.Get("from"), To: qv.Get("to")}
		err := in.Valid(r.Context())
		rec.group = in.GroupID
		rec.resolved(in.App, in.app, 0)
		if err != nil {
			q.fail(w, r, rec, err)
			return
		}
		res, calls, err := timeline(r.Context(), in)
		rec.calls = calls
		if err != nil {
			q.fail(w, r, rec, fmt.Errorf("app %s: %w", in.app.ID, err))
			return
		}
		rec.results = len(res.Messages)
		q.finish(r.Context(), rec, nil)
		_ = encode(w, http.StatusOK, res)
	})
}

func timeline(ctx context.Context, in *timelineInput) (*api.MessagesResponse, int, error) {
	app := in.app
	res := &api.MessagesResponse{App: app.ID, GroupID: in.GroupID, Messages: []api.Message{}, Previews: app.Preview == PreviewText}
	calls := 0
	before := in.before
	if before == 1 {
		return res, 0, nil // nothing below seq 1
	}
	if before > 1 {
		before-- // GroupHistory's bound is inclusive, the API's exclusive
	}
	// Each call returns up to 20; recalled messages are left out by
	// Tencent, so allow for some slack, bounded.
	maxCalls := in.limit/tim.MaxHistoryPage*2 + 4
	low := uint32(0)
	for calls < maxCalls && len(res.Messages) < in.limit {
		page, err := app.Client.GroupHistory(ctx, in.GroupID, before, tim.MaxHistoryPage, true)
		calls++
		if err != nil {
			return nil, calls, err
		}
		if page.Finished == 2 {
			res.Expired = true
		}
		if len(page.Messages) == 0 {
			low = 1
			break
		}
		for _, m := range page.Messages {
			low = m.Seq
			if in.to != 0 && m.Time > in.to {
				continue
			}
			if in.from != 0 && m.Time != 0 && m.Time < in.from {
				low = 1 // the range is read to its start
				break
			}
			if len(res.Messages) < in.limit {
				res.Messages = append(res.Messages, toAPIMessage(m, app.Preview == PreviewText))
			}
		}
		if low <= 1 || page.Finished == 2 {
			low = 1
			break
		}
		before = low - 1
	}
	if low > 1 && len(res.Messages) > 0 {
		res.Before = res.Messages[len(res.Messages)-1].Seq
	}
	calls += decorate(ctx, app, in.GroupID, res.Messages)
	return res, calls, nil
}

// decorate adds the nicknames and the receipt counts to msgs, in place, and
// returns the Tencent calls it made for the counts.
func decorate(ctx context.Context, app *App, groupID string, msgs []api.Message) int {
	if len(msgs) == 0 {
		return 0
	}
	var senders []string
	var seqs []uint32
	for _, m := range msgs {
		if m.From != "" {
			senders = append(senders, m.From)
		}
		seqs = append(seqs, m.Seq)
	}
	// The names and the counts are independent calls: fetch them at once.
	var nicks map[string]string
	done := make(chan struct{})
	go func() {
		defer close(done)
		if app.Profiles != nil {
			// Names are a convenience: on a failure the accounts show alone.
			nicks, _ = app.Profiles.Nicknames(ctx, senders)
		}
	}()
	slices.Sort(seqs)
	p, err := app.Client.PullReceipts(ctx, groupID, slices.Compact(seqs), nil)
	<-done
	for i := range msgs {
		msgs[i].Nick = nicks[msgs[i].From]
	}
	if err != nil {
		// A group without receipts (AVChatRoom, Community) answers 10007;
		// the timeline still shows, with the cause on every message.
		code, text := api.CodeNotFetched, "Not fetched: the receipt counts could not be read."
		if te, ok := errors.AsType[*tim.Error](err); ok && te.Cause() == tim.CauseCode {
			code, text = te.Code, Explain(te.Code)
		}
		for i := range msgs {
			msgs[i].Code, msgs[i].CodeText = code, text
		}
		return 0
	}
	bySeq := make(map[uint32]tim.Receipt, len(p.Receipts))
	for _, r := range p.Receipts {
		bySeq[r.Seq] = r
	}
	for i := range msgs {
		r := bySeq[msgs[i].Seq]
		msgs[i].Read, msgs[i].Unread, msgs[i].Code = r.Read, r.Unread, r.Code
		switch {
		case r.Code == tim.CodeNotFetched:
			msgs[i].Code, msgs[i].CodeText = api.CodeNotFetched, notFetchedText(r.Err)
		case r.Code != 0:
			msgs[i].CodeText = Explain(r.Code)
		}
	}
	return p.Calls
}

// msgKinds names the TIM element types.
var msgKinds = map[string]string{
	"TIMTextElem": "text", "TIMImageElem": "image", "TIMFileElem": "file", "TIMSoundElem": "sound",
	"TIMVideoFileElem": "video", "TIMLocationElem": "location", "TIMFaceElem": "face", "TIMCustomElem": "custom",
}

func toAPIMessage(m tim.HistoryMessage, previews bool) api.Message {
	out := api.Message{Seq: m.Seq, Time: m.Time, From: m.From, Recalled: m.Placeholder == 2, Deleted: m.Placeholder == 1}
	if len(m.Body) == 0 {
		return out
	}
	out.Kind = msgKinds[m.Body[0].Type]
	if out.Kind == "" {
		out.Kind = "other"
	}
	if previews && out.Kind == "text" {
		var c struct {
			Text string `json:"Text"`
		}
		if json.Unmarshal(m.Body[0].Content, &c) == nil {
			out.Preview = preview(c.Text)
		}
	}
	return out
}

// preview cuts text to previewRunes characters, on a character boundary.
func preview(text string) string {
	if utf8.RuneCountInString(text) <= previewRunes {
		return text
	}
	n := 0
	for i := range text {
		if n == previewRunes {
			return text[:i] + "…"
		}
		n++
	}
	return text
}
