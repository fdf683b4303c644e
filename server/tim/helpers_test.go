package tim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/tim"
)

const (
	testApp   = 1400000000
	testKey   = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
	testAdmin = "administrator"
)

// request is what the fake server saw of one call.
type request struct {
	Method, Command string
	Path, RawQuery  string
	Query           url.Values
	ContentType     string
	Body            []byte
	At              time.Time
}

// answer is the fake server's reply to one call: an HTTP status and a body,
// or hang until the request is cancelled.
type answer struct {
	Status int
	Body   string
	Hang   bool
}

func ok(body string) answer { return answer{Status: 200, Body: body} }

// fakeTIM is a small Tencent REST server over real HTTP for tests that need
// exact control of each answer. Limit, when set, enforces a calls-per-second
// budget over a sliding one-second window of arrivals and answers 60007 over
// it, like Tencent's gateway.
type fakeTIM struct {
	URL     string
	Limit   int
	respond func(n int, r request) answer
	stop    chan struct{}

	mu       sync.Mutex
	reqs     []request
	arrivals []time.Time
	rejected int
}

func mustFakeTIM(tb testing.TB, respond func(n int, r request) answer) *fakeTIM {
	tb.Helper()
	f := &fakeTIM{respond: respond, stop: make(chan struct{})}
	srv := httptest.NewServer(f)
	tb.Cleanup(func() {
		close(f.stop) // release hung handlers
		srv.Close()
	})
	f.URL = srv.URL
	return f
}

func (f *fakeTIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	req := request{
		Method:      r.Method,
		Command:     r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:],
		Path:        r.URL.Path,
		RawQuery:    r.URL.RawQuery,
		Query:       r.URL.Query(),
		ContentType: r.Header.Get("Content-Type"),
		Body:        body,
		At:          at,
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.arrivals = append(f.arrivals, at)
	over := f.Limit > 0 && countSince(f.arrivals, at.Add(-time.Second)) > f.Limit
	if over {
		f.rejected++
	}
	f.mu.Unlock()
	if over {
		writeJSON(w, `{"ActionStatus":"FAIL","ErrorCode":60007,"ErrorInfo":"over limit"}`)
		return
	}
	a := f.respond(n, req)
	if a.Hang {
		select {
		case <-r.Context().Done():
		case <-f.stop:
		}
		return
	}
	if a.Status != 200 {
		w.WriteHeader(a.Status)
		io.WriteString(w, a.Body)
		return
	}
	writeJSON(w, a.Body)
}

func writeJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

// countSince counts arrivals strictly after from (a one-second window
// ending now when from = now - 1s).
func countSince(arrivals []time.Time, from time.Time) int {
	n := 0
	for i := len(arrivals) - 1; i >= 0 && arrivals[i].After(from); i-- {
		n++
	}
	return n
}

func (f *fakeTIM) Requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// Peak is the most arrivals seen in any one-second window.
func (f *fakeTIM) Peak() int {
	f.mu.Lock()
	a := slices.Clone(f.arrivals)
	f.mu.Unlock()
	return peakPerSecond(a)
}

func (f *fakeTIM) Rejected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rejected
}

// peakPerSecond is the largest number of times within any half-open window
// [t, t+1s) that starts at one of them.
func peakPerSecond(times []time.Time) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	peak, j := 0, 0
	for i := range times {
		for j < len(times) && times[j].Sub(times[i]) < time.Second {
			j++
		}
		peak = max(peak, j-i)
	}
	return peak
}

// receiptsAnswer answers get_group_msg_receipt deterministically from the
// seqs asked: seq%7 readers of 20 members, and code 10062 for multiples of 10.
func receiptsAnswer(tb testing.TB, r request) string {
	var req struct {
		GroupID    string `json:"GroupId"`
		MsgSeqList []struct {
			MsgSeq uint32 `json:"MsgSeq"`
		} `json:"MsgSeqList"`
	}
	if err := json.Unmarshal(r.Body, &req); err != nil {
		tb.Errorf("bad request body %q: %v", r.Body, err)
	}
	type item struct {
		Code      int    `json:"Code"`
		MsgSeq    uint32 `json:"MsgSeq"`
		ReadNum   *int   `json:"ReadNum,omitempty"`
		UnreadNum *int   `json:"UnreadNum,omitempty"`
	}
	var items []item
	for _, s := range req.MsgSeqList {
		if s.MsgSeq%10 == 0 {
			items = append(items, item{Code: 10062, MsgSeq: s.MsgSeq})
			continue
		}
		read, unread := int(s.MsgSeq%7), 20-int(s.MsgSeq%7)
		items = append(items, item{MsgSeq: s.MsgSeq, ReadNum: &read, UnreadNum: &unread})
	}
	b, _ := json.Marshal(map[string]any{
		"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "RequestId": "Id-1",
		"GroupMsgReceiptList": items,
	})
	return string(b)
}

// wantReceipt is what receiptsAnswer says about seq.
func wantReceipt(seq uint32) tim.Receipt {
	if seq%10 == 0 {
		return tim.Receipt{Seq: seq, Code: 10062}
	}
	return tim.Receipt{Seq: seq, Read: int(seq % 7), Unread: 20 - int(seq%7)}
}

// mustClient returns a client of the test app against baseURL with fast
// retries and, unless mod says otherwise, no practical rate limit.
func mustClient(tb testing.TB, baseURL string, mod func(*tim.Config)) *tim.Client {
	tb.Helper()
	cfg := tim.Config{
		SDKAppID:     testApp,
		Key:          testKey,
		Identifier:   testAdmin,
		BaseURL:      baseURL,
		RateLimit:    100000,
		RetryBackoff: time.Millisecond,
		CallTimeout:  5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := tim.New(cfg)
	if err != nil {
		tb.Fatalf("tim.New: %v", err)
	}
	return c
}

func seqRange(from, to uint32) []uint32 {
	var out []uint32
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// sigRecorder is an HTTP transport that notes every UserSig a client sends:
// the tests see what the client mints by wrapping its HTTP client, as a
// deployment could, instead of a test hook inside the client.
type sigRecorder struct {
	mu   sync.Mutex
	sigs []string
	next http.RoundTripper
}

func (s *sigRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.sigs = append(s.sigs, r.URL.Query().Get("usersig"))
	s.mu.Unlock()
	return s.next.RoundTrip(r)
}

func (s *sigRecorder) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sigs)
}

// recordSigs gives c an HTTP client that records the UserSigs it sends.
func recordSigs(c *tim.Config) *sigRecorder {
	rec := &sigRecorder{next: http.DefaultTransport.(*http.Transport).Clone()}
	c.HTTPClient = &http.Client{Transport: rec, Timeout: time.Minute}
	return rec
}
