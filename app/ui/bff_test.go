package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/timconsole/timconsole/server/api"
)

// fakeBFF is a small real HTTP server speaking the api contract, so the
// client and the component are tested over a real transport.
type fakeBFF struct {
	mu        sync.Mutex
	status    int        // forced status for /api/receipts, 0 = normal
	errBody   string     // body with status
	stream    bool       // answer NDJSON when asked
	noResult  bool       // end the stream without a result line
	members   int        // members per list
	memberErr *api.Error // fail /api/receipts/members once
	calls     map[string]int
}

func (f *fakeBFF) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func testReceipt(seq uint32) api.Receipt {
	if seq%10 == 0 {
		return api.Receipt{Seq: seq, Code: 10062, CodeText: "no receipt"}
	}
	return api.Receipt{Seq: seq, Read: int(seq), Unread: 10}
}

func (f *fakeBFF) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[r.URL.Path]++
	f.mu.Unlock()
	switch r.URL.Path {
	case api.PathMe:
		json.NewEncoder(w).Encode(testMe())
	case api.PathReceipts:
		if f.status != 0 {
			w.WriteHeader(f.status)
			fmt.Fprint(w, f.errBody)
			return
		}
		var req api.ReceiptsRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(400)
			return
		}
		seqs, problems := req.Seqs.Parse(10000)
		if len(problems) > 0 {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(api.Error{Code: api.ECodeInvalid, Message: "bad seqs", Problems: problems})
			return
		}
		var rs []api.Receipt
		for _, s := range seqs {
			rs = append(rs, testReceipt(s))
		}
		resp := api.ReceiptsResponse{App: req.App, GroupID: req.GroupID, Results: rs, Summary: api.Summarize(rs), Upstream: api.Upstream{Calls: 1}}
		if f.stream && strings.Contains(r.Header.Get("Accept"), api.ContentTypeNDJSON) {
			w.Header().Set("Content-Type", api.ContentTypeNDJSON)
			enc := json.NewEncoder(w)
			for done := 0; done < len(rs); done += 2 {
				enc.Encode(api.Event{Type: api.EventProgress, Done: done, Total: len(rs)})
				w.(http.Flusher).Flush()
			}
			if !f.noResult {
				enc.Encode(api.Event{Type: api.EventResult, Result: &resp})
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	case api.PathMembers:
		f.mu.Lock()
		fail := f.memberErr
		f.memberErr = nil
		f.mu.Unlock()
		if fail != nil {
			w.WriteHeader(502)
			json.NewEncoder(w).Encode(fail)
			return
		}
		var req api.MembersRequest
		json.NewDecoder(r.Body).Decode(&req)
		start, _ := strconv.Atoi(req.Cursor)
		var page api.MembersResponse
		for i := start; i < f.members && len(page.Members) < req.Limit; i++ {
			page.Members = append(page.Members, fmt.Sprintf("%s-%d-%03d", req.Filter, req.Seq, i))
		}
		if next := start + len(page.Members); next < f.members {
			page.Cursor = strconv.Itoa(next)
		} else {
			page.Done = true
		}
		json.NewEncoder(w).Encode(page)
	default:
		http.NotFound(w, r)
	}
}

// mustStartBFF starts a fake BFF on loopback.
func mustStartBFF(t *testing.T, f *fakeBFF) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}
