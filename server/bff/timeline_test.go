package bff_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/timemu"
)

func (e *testEnv) timeline(t *testing.T, app, group, query string) (int, *api.MessagesResponse, *api.Error) {
	t.Helper()
	path := api.PathGroups + "/" + url.PathEscape(group) + "/messages?app=" + app
	if query != "" {
		path += "&" + query
	}
	return decodeAnswer[api.MessagesResponse](t, e.request(alice, http.MethodGet, path, nil))
}

// TestTimeline reads a group's messages newest first, page by page, with
// nicknames, kinds, previews (the app allows them), recall marks and the
// receipt counts of each message; previews stay off where the app says so;
// the text never reaches the log.
func TestTimeline(t *testing.T) {
	e := newEnv(t, envOptions{emu: timemu.Config{RateLimit: -1}})
	fx := timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: alphaSDKAppID})
	var war timemu.FixtureGroup
	for _, g := range fx.Apps[0].Groups {
		if g.ID == warRoom {
			war = g
		}
	}
	status, page, apiErr := e.timeline(t, "alpha", warRoom, "")
	if status != http.StatusOK {
		t.Fatalf("status %d %+v", status, apiErr)
	}
	if len(page.Messages) != api.DefaultTimelineLimit || !page.Previews {
		t.Fatalf("%d messages, previews %v; want %d with previews", len(page.Messages), page.Previews, api.DefaultTimelineLimit)
	}
	truth := e.truth(alphaSDKAppID, warRoom, seqRange(1, 1500))
	previews, recalled := 0, 0
	for i, m := range page.Messages {
		if want := uint32(1500 - i); m.Seq != want {
			t.Fatalf("message %d has seq %d, want %d (newest first, recalled ones included)", i, m.Seq, want)
		}
		fm := war.Messages[m.Seq-1]
		if m.Time != fm.Time || m.Kind != fm.Kind || m.Recalled != fm.Recalled {
			t.Errorf("seq %d: time %d kind %q recalled %v; want %d %q %v", m.Seq, m.Time, m.Kind, m.Recalled, fm.Time, fm.Kind, fm.Recalled)
		}
		if m.From != "" && m.Nick != fx.Apps[0].Nicks[m.From] {
			t.Errorf("seq %d: nick %q of %s, want %q", m.Seq, m.Nick, m.From, fx.Apps[0].Nicks[m.From])
		}
		if m.Recalled {
			recalled++
		} else if m.Kind == "text" {
			if m.Preview != fm.Text {
				t.Errorf("seq %d: preview %q, want %q", m.Seq, m.Preview, fm.Text)
			}
			previews++
		}
		tr := truth[m.Seq-1]
		if m.Code != tr.Code || m.Read != tr.Read || m.Unread != tr.Unread {
			t.Errorf("seq %d: counts %d/%d code %d, want %d/%d code %d", m.Seq, m.Read, m.Unread, m.Code, tr.Read, tr.Unread, tr.Code)
		}
	}
	if previews == 0 {
		t.Error("no text previews on the first page")
	}
	// The next page starts below the last seq, without overlap.
	_, next, _ := e.timeline(t, "alpha", warRoom, fmt.Sprintf("before=%d", page.Before))
	if page.Before != 1451 || len(next.Messages) != 50 || next.Messages[0].Seq != 1450 {
		t.Errorf("before %d, next page %d messages from %d; want 1451, 50 from 1450", page.Before, len(next.Messages), next.Messages[0].Seq)
	}
	// The last 1000, and a time range.
	_, big, _ := e.timeline(t, "alpha", warRoom, "limit=1000")
	if len(big.Messages) != 1000 || big.Before != 501 {
		t.Errorf("limit 1000: %d messages, before %d", len(big.Messages), big.Before)
	}
	from, to := war.Messages[99].Time, war.Messages[199].Time
	_, rng, _ := e.timeline(t, "alpha", warRoom, fmt.Sprintf("from=%d&to=%d&limit=1000", from, to))
	for _, m := range rng.Messages {
		if m.Time < from || m.Time > to {
			t.Fatalf("seq %d at %d outside %d..%d", m.Seq, m.Time, from, to)
		}
	}
	if n := len(rng.Messages); n < 95 || n > 101 || rng.Before != 0 {
		t.Errorf("range: %d messages, before %d; want about 100 and the range read to its start", n, rng.Before)
	}

	// Previews are the app's choice: beta keeps them off.
	_, beta, _ := e.timeline(t, "beta", opsTeam, "")
	for _, m := range beta.Messages {
		if m.Preview != "" || beta.Previews {
			t.Fatalf("beta (previews off) sent a preview: %+v", m)
		}
	}

	for _, tt := range []struct{ query, field string }{
		{"limit=5000", "limit"},
		{"before=x", "before"},
		{"from=200&to=100", "from"},
	} {
		if status, _, apiErr := e.timeline(t, "alpha", warRoom, tt.query); status != http.StatusBadRequest || apiErr.Problems[0].Field != tt.field {
			t.Errorf("%s: %d %+v, want 400 on %s", tt.query, status, apiErr, tt.field)
		}
	}
	if status, _, _ := e.timeline(t, "alpha", "@TGS#aLIVELAUNCH", ""); status == http.StatusOK {
		t.Error("an AVChatRoom has no history, but its timeline answered 200")
	}

	logs := e.logs.String()
	for _, m := range page.Messages {
		if m.Preview != "" && strings.Contains(logs, m.Preview) {
			t.Fatalf("a message text reached the log: %q", m.Preview)
		}
	}
	audits := 0
	for _, rec := range e.auditRecords() {
		if rec["kind"] == "messages" && rec["group"] == warRoom {
			audits++
		}
	}
	if audits < 4 {
		t.Errorf("%d timeline audit records, want one per page", audits)
	}
}
