package timemu_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/timemu"
)

const receiptBody = `{"GroupId":"@TGS#2TTV7VSII","MsgSeqList":[{"MsgSeq":1}]}`

// burst fires n calls with a few workers and counts the answers by code.
func burst(t *testing.T, e *env, n int) map[int]int {
	t.Helper()
	q := e.query(t)
	var mu sync.Mutex
	codes := map[int]int{}
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				r := e.post(t, timemu.CmdGetReceipt, q, receiptBody)
				mu.Lock()
				codes[r.Code]++
				mu.Unlock()
			}
		}()
	}
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	return codes
}

// TestRateLimit uses the injected clock, so the window logic is checked
// exactly whatever the machine's speed.
func TestRateLimit(t *testing.T) {
	t.Run("burst at one instant", func(t *testing.T) {
		e := newEnv(t, timemu.Config{})
		codes := burst(t, e, 300)
		if codes[0] != 200 || codes[timemu.CodeRateLimited] != 100 {
			t.Errorf("answers by code = %v, want 200 OK and 100 × %d", codes, timemu.CodeRateLimited)
		}
		if got := e.emu.PeakPerSecond(testApp); got != 300 {
			t.Errorf("PeakPerSecond = %d, want 300 (rejected calls count)", got)
		}
		e.clock.Add(999 * time.Millisecond)
		if got := e.call(t, timemu.CmdGetReceipt, receiptBody); got.Code != timemu.CodeRateLimited {
			t.Errorf("0.999 s later: ErrorCode = %d, want %d", got.Code, timemu.CodeRateLimited)
		}
		e.clock.Add(time.Millisecond)
		if got := e.call(t, timemu.CmdGetReceipt, receiptBody); got.Code != 0 {
			t.Errorf("1 s later: ErrorCode = %d, want 0", got.Code)
		}
	})
	t.Run("sliding window", func(t *testing.T) {
		e := newEnv(t, timemu.Config{RateLimit: 10})
		start := e.clock.Now()
		steps := []struct {
			at       time.Duration
			calls    int
			wantOK   int
			wantPeak int
		}{
			{0, 6, 6, 6},
			{500 * time.Millisecond, 6, 4, 12},
			{999 * time.Millisecond, 1, 0, 13},
			{1000 * time.Millisecond, 7, 6, 14}, // the first 6 left both windows
			{1499 * time.Millisecond, 1, 0, 15}, // 6+1+7+1 arrivals within (0.499 s, 1.499 s]
			{1500 * time.Millisecond, 4, 4, 15}, // 13 in the window now; the peak stays
		}
		for _, s := range steps {
			e.clock.Set(start.Add(s.at))
			if codes := burst(t, e, s.calls); codes[0] != s.wantOK || codes[0]+codes[timemu.CodeRateLimited] != s.calls {
				t.Errorf("at %v: answers %v, want %d OK of %d", s.at, codes, s.wantOK, s.calls)
			}
			if got := e.emu.PeakPerSecond(testApp); got != s.wantPeak {
				t.Errorf("at %v: PeakPerSecond = %d, want %d", s.at, got, s.wantPeak)
			}
		}
	})
	t.Run("per app", func(t *testing.T) {
		e := newEnv(t, timemu.Config{RateLimit: 2})
		e.emu.AddApp(1400000001, testKey, testAdmin)
		other := e.query(t)
		other.Set("sdkappid", "1400000001")
		other.Set("usersig", signAt(t, 1400000001, testKey, testAdmin, e.clock.Now(), 60))
		for i := range 3 {
			e.call(t, timemu.CmdGetReceipt, receiptBody)
			if got := e.post(t, timemu.CmdGetGroupInfo, other, `{"GroupIdList":["x"]}`); got.Code != 0 && i < 2 {
				t.Errorf("other app call %d: ErrorCode = %d, want 0", i, got.Code)
			}
		}
		// The limits are per API and app, as Tencent documents them: the
		// receipt command's budget is spent, another command's is not.
		if got := e.call(t, timemu.CmdGetReceipt, receiptBody); got.Code != timemu.CodeRateLimited {
			t.Errorf("a third receipt call: ErrorCode = %d, want %d", got.Code, timemu.CodeRateLimited)
		}
		if got := e.call(t, timemu.CmdGetGroupInfo, `{"GroupIdList":["x"]}`); got.Code != 0 {
			t.Errorf("another command of the limited app: ErrorCode = %d, want 0 (its own budget)", got.Code)
		}
		if a, b := e.emu.PeakPerSecond(testApp), e.emu.PeakPerSecond(1400000001); a != 5 || b != 3 {
			t.Errorf("PeakPerSecond = %d, %d; want 5, 3 (arrivals of all commands)", a, b)
		}
	})
	t.Run("per command", func(t *testing.T) {
		// get_appid_group_list is documented at 1 call/s whatever RateLimit
		// says; CommandRates sets any command's own.
		e := newEnv(t, timemu.Config{CommandRates: map[string]int{timemu.CmdGetGroupInfo: 1}})
		for _, cmd := range []string{timemu.CmdGetGroupList, timemu.CmdGetGroupInfo} {
			body := `{"GroupIdList":["x"]}`
			if cmd == timemu.CmdGetGroupList {
				body = `{}`
			}
			if got := e.call(t, cmd, body); got.Code != 0 {
				t.Errorf("%s first call: ErrorCode = %d, want 0", cmd, got.Code)
			}
			if got := e.call(t, cmd, body); got.Code != timemu.CodeRateLimited {
				t.Errorf("%s second call in the same second: ErrorCode = %d, want %d", cmd, got.Code, timemu.CodeRateLimited)
			}
			e.clock.Set(e.clock.Now().Add(time.Second))
			if got := e.call(t, cmd, body); got.Code != 0 {
				t.Errorf("%s a second later: ErrorCode = %d, want 0", cmd, got.Code)
			}
		}
	})
	t.Run("disabled", func(t *testing.T) {
		e := newEnv(t, timemu.Config{RateLimit: -1})
		if codes := burst(t, e, 250); codes[0] != 250 {
			t.Errorf("answers by code = %v, want 250 OK", codes)
		}
		if got := e.emu.PeakPerSecond(testApp); got != 250 {
			t.Errorf("PeakPerSecond = %d, want 250", got)
		}
	})
	t.Run("real clock", func(t *testing.T) {
		// No assertion on speed: however slow the machine, at most 5 calls
		// per started second may pass.
		emu := timemu.New(timemu.Config{RateLimit: 5})
		emu.AddApp(testApp, testKey, testAdmin)
		e := &env{emu: emu, clock: newClock()}
		e.srv = newServer(t, emu)
		start := time.Now()
		codes := burst(t, e, 40)
		limit := 5 * (1 + int(time.Since(start)/time.Second))
		if admitted := 40 - codes[timemu.CodeRateLimited]; admitted < 5 || admitted > limit {
			t.Errorf("%d calls admitted (%v), want 5..%d", admitted, codes, limit)
		}
	})
}

// TestStats checks the per-command counters and ResetStats.
func TestStats(t *testing.T) {
	e := newEnv(t, timemu.Config{})
	e.call(t, timemu.CmdGetReceipt, receiptBody)
	e.call(t, timemu.CmdGetReceipt, "")
	e.call(t, timemu.CmdGetGroupInfo, `{"GroupIdList":["x"]}`)
	e.do(t, http.MethodPost, "/v4/group_open_http_svc/nope", "", "{}")
	if got := e.emu.Calls(timemu.CmdGetReceipt); got != 2 {
		t.Errorf("Calls(get_group_msg_receipt) = %d, want 2", got)
	}
	if got := e.emu.Calls(timemu.CmdGetGroupInfo); got != 1 {
		t.Errorf("Calls(get_group_info) = %d, want 1", got)
	}
	if got := e.emu.TotalCalls(); got != 4 {
		t.Errorf("TotalCalls = %d, want 4", got)
	}
	if got := e.emu.PeakPerSecond(testApp); got != 3 {
		t.Errorf("PeakPerSecond = %d, want 3", got)
	}
	e.emu.ResetStats()
	if a, b, c := e.emu.Calls(timemu.CmdGetReceipt), e.emu.TotalCalls(), e.emu.PeakPerSecond(testApp); a+b+c != 0 {
		t.Errorf("after ResetStats: %d, %d, %d; want zeros", a, b, c)
	}
}

// TestFaults checks every fault kind, the command filter and the count.
func TestFaults(t *testing.T) {
	t.Run("502 twice for one command", func(t *testing.T) {
		e := newEnv(t, timemu.Config{})
		e.emu.Inject(timemu.Fault{Kind: timemu.FaultHTTP502, Count: 2, Command: timemu.CmdGetReceipt})
		if got := e.call(t, timemu.CmdGetGroupInfo, `{"GroupIdList":["x"]}`); got.Status != 200 || got.Code != 0 {
			t.Errorf("other command: status %d code %d, want 200 and 0", got.Status, got.Code)
		}
		for i := range 2 {
			if got := e.call(t, timemu.CmdGetReceipt, receiptBody); got.Status != http.StatusBadGateway {
				t.Errorf("call %d: status %d, want 502", i, got.Status)
			}
		}
		if got := e.call(t, timemu.CmdGetReceipt, receiptBody); got.Status != 200 || got.Code != 0 {
			t.Errorf("third call: status %d code %d, want 200 and 0", got.Status, got.Code)
		}
		if got := e.emu.Calls(timemu.CmdGetReceipt); got != 3 {
			t.Errorf("Calls = %d, want 3 (faulted calls count)", got)
		}
	})
	t.Run("code", func(t *testing.T) {
		e := newEnv(t, timemu.Config{})
		e.emu.Inject(timemu.Fault{Kind: timemu.FaultCode, Code: 70169})
		e.emu.Inject(timemu.Fault{Kind: timemu.FaultCode})
		for _, want := range []int{70169, timemu.CodeInternal, 0} {
			if got := e.call(t, timemu.CmdGetReceipt, receiptBody); got.Code != want {
				t.Errorf("ErrorCode = %d, want %d", got.Code, want)
			}
		}
	})
	t.Run("malformed", func(t *testing.T) {
		e := newEnv(t, timemu.Config{})
		e.emu.Inject(timemu.Fault{Kind: timemu.FaultMalformed})
		resp, err := http.Post(e.srv.URL+"/v4/group_open_http_svc/get_group_msg_receipt?"+e.query(t).Encode(), "application/json", strings.NewReader(receiptBody))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "{") || jsonValid(b) {
			t.Errorf("status %d body %q, want 200 and truncated JSON", resp.StatusCode, b)
		}
	})
	t.Run("hang until the client gives up", func(t *testing.T) {
		e := newEnv(t, timemu.Config{})
		e.emu.Inject(timemu.Fault{Kind: timemu.FaultHang})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/v4/group_open_http_svc/get_group_msg_receipt?"+e.query(t).Encode(), strings.NewReader(receiptBody))
		_, err := e.srv.Client().Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the client's deadline", err)
		}
		if got := e.call(t, timemu.CmdGetReceipt, receiptBody); got.Code != 0 {
			t.Errorf("next call: ErrorCode = %d, want 0", got.Code)
		}
	})
	t.Run("hang until Close", func(t *testing.T) {
		e := newEnv(t, timemu.Config{})
		e.emu.Inject(timemu.Fault{Kind: timemu.FaultHang})
		done := make(chan result, 1)
		go func() { done <- e.call(t, timemu.CmdGetReceipt, receiptBody) }()
		waitFor(t, func() bool { return e.emu.Calls(timemu.CmdGetReceipt) == 1 })
		e.emu.Close()
		select {
		case r := <-done:
			if r.Status != http.StatusBadGateway {
				t.Errorf("status %d, want 502", r.Status)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("hung request not released by Close")
		}
	})
	t.Run("latency honours the client's deadline", func(t *testing.T) {
		e := newEnv(t, timemu.Config{})
		e.emu.SetLatency(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/v4/group_open_http_svc/get_group_msg_receipt?"+e.query(t).Encode(), strings.NewReader(receiptBody))
		if _, err := e.srv.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the client's deadline", err)
		}
		e.emu.SetLatency(time.Millisecond)
		if got := e.call(t, timemu.CmdGetReceipt, receiptBody); got.Code != 0 {
			t.Errorf("with 1 ms latency: ErrorCode = %d, want 0", got.Code)
		}
	})
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 10 s")
}
