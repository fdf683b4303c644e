package timemu

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// FaultKind says how an injected fault answers.
type FaultKind int

// The fault kinds. Each mimics a failure a client must survive against the
// real service: a gateway error, a request that never answers, a body that
// is not JSON, and a Tencent error code.
const (
	FaultHTTP502   FaultKind = iota + 1 // HTTP 502 with an HTML body
	FaultHang                           // no answer until the client gives up or Close
	FaultMalformed                      // HTTP 200 with truncated JSON
	FaultCode                           // HTTP 200, ActionStatus FAIL, ErrorCode Fault.Code
)

// String names the kind in logs.
func (k FaultKind) String() string {
	switch k {
	case FaultHTTP502:
		return "http502"
	case FaultHang:
		return "hang"
	case FaultMalformed:
		return "malformed"
	case FaultCode:
		return "code"
	}
	return "unknown"
}

// Fault makes the next Count calls (of Command, or of any command when
// Command is "") fail the way Kind says, before any check runs.
type Fault struct {
	Kind    FaultKind
	Count   int    // calls to affect; below 1 means 1
	Code    int    // ErrorCode for FaultCode; 0 means 10002
	Command string // e.g. "get_group_msg_receipt"; "" = any command
	// Seq, when not 0, narrows the fault to calls whose body asks for that
	// message seq (in MsgSeqList or as MsgSeq): one batch of a pull.
	Seq uint32
	// Always keeps the fault for every matching call: Count is ignored and
	// the fault is never used up (a permanently broken batch).
	Always bool
}

// asksFor reports whether a request body names seq in MsgSeqList or MsgSeq.
// Bodies that do not parse match nothing; the checks after the fault
// answer them as usual.
func asksFor(body []byte, seq uint32) bool {
	var req struct {
		MsgSeq     uint32 `json:"MsgSeq"`
		MsgSeqList []struct {
			MsgSeq uint32 `json:"MsgSeq"`
		} `json:"MsgSeqList"`
	}
	if json.Unmarshal(body, &req) != nil {
		return false
	}
	if req.MsgSeq == seq {
		return true
	}
	for _, it := range req.MsgSeqList {
		if it.MsgSeq == seq {
			return true
		}
	}
	return false
}

// Inject queues a fault. Faults are consumed in the order injected; a call
// takes the first queued fault whose Command matches.
func (e *Emulator) Inject(f Fault) {
	if f.Count < 1 {
		f.Count = 1
	}
	if f.Kind == FaultCode && f.Code == 0 {
		f.Code = CodeInternal
	}
	e.smu.Lock()
	e.faults = append(e.faults, f)
	e.smu.Unlock()
}

// PendingFaults counts the queued faults' remaining calls (an Always fault
// counts once), so a test can check that a client used up exactly what it
// was given.
func (e *Emulator) PendingFaults() int {
	e.smu.Lock()
	defer e.smu.Unlock()
	n := 0
	for _, f := range e.faults {
		if f.Always {
			n++
			continue
		}
		n += f.Count
	}
	return n
}

// Abandoned counts the hung calls (FaultHang) whose client closed the
// request: a client that gives up on a call, or whose caller cancelled,
// shows here.
func (e *Emulator) Abandoned() int {
	e.smu.Lock()
	defer e.smu.Unlock()
	return e.abandoned
}

// ClearFaults drops every queued fault.
func (e *Emulator) ClearFaults() {
	e.smu.Lock()
	e.faults = nil
	e.smu.Unlock()
}

// SetLatency delays every following answer by d (0 turns it off), so tests
// can see timeouts, progress and concurrency.
func (e *Emulator) SetLatency(d time.Duration) {
	e.smu.Lock()
	e.latency = d
	e.smu.Unlock()
}

// takeFault finds the first queued fault for command (and, for faults with
// a Seq, for a body asking for it) and uses one of its calls up.
func (e *Emulator) takeFault(command string, body []byte) (Fault, bool) {
	e.smu.Lock()
	defer e.smu.Unlock()
	for i, f := range e.faults {
		if f.Command != "" && f.Command != command {
			continue
		}
		if f.Seq != 0 && !asksFor(body, f.Seq) {
			continue
		}
		if f.Always {
			return f, true
		}
		e.faults[i].Count--
		if e.faults[i].Count == 0 {
			e.faults = append(e.faults[:i], e.faults[i+1:]...)
		}
		return f, true
	}
	return Fault{}, false
}

func (e *Emulator) serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch f.Kind {
	case FaultHang:
		// Read the body to its end first: only then does net/http watch the
		// connection and end r.Context() when the client hangs up.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
		select {
		case <-r.Context().Done():
			e.smu.Lock()
			e.abandoned++
			e.smu.Unlock()
			return
		case <-e.done:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>\n"))
		}
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","GroupMsgReceiptList":[{"Code":0,"MsgSeq":`))
	case FaultCode:
		writeJSON(w, fail(f.Code))
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>\n"))
	}
}

// window holds one app's rate-limit and peak bookkeeping.
type window struct {
	admitted []time.Time // ring of the last admitted calls, at most the limit
	head     int
	arrivals []time.Time // arrivals in the last second, oldest first
	peak     int
}

// arrive counts a request: per command, in total, and in its app's
// one-second arrival window. The window is (t-1s, t], so that the peak is the
// most requests whose arrival times lie less than a second apart.
func (e *Emulator) arrive(command string, known bool, appID uint64, appKnown bool) {
	now := e.now()
	e.smu.Lock()
	defer e.smu.Unlock()
	e.total++
	if known {
		e.calls[command]++
	}
	if !appKnown {
		return
	}
	wd := e.window(appID)
	drop := 0
	for drop < len(wd.arrivals) && now.Sub(wd.arrivals[drop]) >= time.Second {
		drop++
	}
	if drop > 0 {
		wd.arrivals = append(wd.arrivals[:0], wd.arrivals[drop:]...)
	}
	wd.arrivals = append(wd.arrivals, now)
	wd.peak = max(wd.peak, len(wd.arrivals))
}

func (e *Emulator) window(appID uint64) *window {
	wd := e.windows[appID]
	if wd == nil {
		wd = &window{}
		e.windows[appID] = wd
	}
	return wd
}

// admitKey names one app's command for its rate limit.
type admitKey struct {
	app     uint64
	command string
}

// rateOf is command's limit in calls per second, or -1 for none.
func (e *Emulator) rateOf(command string) int {
	if e.cfg.RateLimit < 0 {
		return -1
	}
	if r := e.cfg.CommandRates[command]; r != 0 {
		return r
	}
	if r := defaultCommandRates[command]; r != 0 {
		return r
	}
	return e.cfg.RateLimit
}

// admit applies command's rate limit for the app: a call is admitted when
// fewer than the limit were admitted in the second before it (a sliding
// window log per app and command).
func (e *Emulator) admit(appID uint64, command string) bool {
	limit := e.rateOf(command)
	if limit < 0 {
		return true
	}
	now := e.now()
	e.smu.Lock()
	defer e.smu.Unlock()
	k := admitKey{appID, command}
	wd := e.admitted[k]
	if wd == nil {
		wd = &window{}
		e.admitted[k] = wd
	}
	if len(wd.admitted) < limit {
		wd.admitted = append(wd.admitted, now)
		return true
	}
	if now.Sub(wd.admitted[wd.head]) < time.Second {
		return false
	}
	wd.admitted[wd.head] = now
	wd.head = (wd.head + 1) % limit
	return true
}

// Calls returns how many requests reached command (e.g.
// "get_group_msg_receipt") since the start or ResetStats, over all apps,
// whatever their outcome.
func (e *Emulator) Calls(command string) int {
	e.smu.Lock()
	defer e.smu.Unlock()
	return e.calls[command]
}

// TotalCalls returns every request received, including unknown paths.
func (e *Emulator) TotalCalls() int {
	e.smu.Lock()
	defer e.smu.Unlock()
	return e.total
}

// PeakPerSecond returns the most requests of one app that arrived within
// one second, rejected ones included: it shows whether a client kept to the
// limit, whatever the emulator did with the excess.
func (e *Emulator) PeakPerSecond(sdkAppID uint64) int {
	e.smu.Lock()
	defer e.smu.Unlock()
	if wd := e.windows[sdkAppID]; wd != nil {
		return wd.peak
	}
	return 0
}

// ResetStats zeroes the counters, peaks and rate windows (not the queued
// faults or the data), so one emulator can serve several test phases.
func (e *Emulator) ResetStats() {
	e.smu.Lock()
	defer e.smu.Unlock()
	e.calls = map[string]int{}
	e.total = 0
	e.windows = map[uint64]*window{}
	e.admitted = map[admitKey]*window{}
}
