package tim

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	netErr := &url.Error{Op: "Post", URL: "https://h/v4/x/y", Err: errors.New("connection refused")}
	tests := []struct {
		name        string
		err         *Error
		retry, slow bool
	}{
		{"10002 internal error", &Error{Code: 10002}, true, false},
		{"70169 internal timeout", &Error{Code: 70169}, true, false},
		{"70500 internal error", &Error{Code: 70500}, true, false},
		{"60007 rate limit", &Error{Code: 60007}, true, true},
		{"60011 app rate limit", &Error{Code: 60011}, true, true},
		{"60018 too many requests", &Error{Code: 60018}, true, true},
		{"60019 too many requests", &Error{Code: 60019}, true, true},
		{"10006 group rate limit", &Error{Code: 10006}, true, true},
		{"10004 invalid parameter", &Error{Code: 10004}, false, false},
		{"10010 no such group", &Error{Code: 10010}, false, false},
		{"10062 no receipt", &Error{Code: 10062}, false, false},
		{"70001 expired sig", &Error{Code: 70001}, false, false},
		{"70009 bad key", &Error{Code: 70009}, false, false},
		{"60010 not admin", &Error{Code: 60010}, false, false},
		{"FAIL without code", &Error{Info: "odd"}, false, false},
		{"HTTP 500", &Error{HTTPStatus: 500}, true, false},
		{"HTTP 502", &Error{HTTPStatus: 502}, true, false},
		{"HTTP 503", &Error{HTTPStatus: 503}, true, false},
		{"HTTP 404", &Error{HTTPStatus: 404}, false, false},
		{"HTTP 302", &Error{HTTPStatus: 302}, false, false},
		{"network error", &Error{Err: netErr}, true, false},
		{"attempt timeout", &Error{Err: fmt.Errorf("%w after 5s: %w", errTimeout, context.DeadlineExceeded)}, true, false},
		{"caller's deadline", &Error{Err: fmt.Errorf("x: %w", context.DeadlineExceeded)}, false, false},
		{"HTTP 429", &Error{HTTPStatus: 429}, true, true},
		{"malformed answer", &Error{Err: fmt.Errorf("%w: eof", errMalformed)}, true, false},
		{"cancelled", &Error{Err: context.Canceled}, false, false},
		{"unbuildable request", &Error{Err: fmt.Errorf("%w: x", errBadRequest)}, false, false},
		{"limiter refused", &Error{Err: fmt.Errorf("%w: would exceed deadline", errLimiter)}, false, false},
	}
	for _, tt := range tests {
		retry, slow := classify(tt.err)
		if retry != tt.retry || slow != tt.slow {
			t.Errorf("%s: classify = (retry %v, rate-limited %v), want (%v, %v)", tt.name, retry, slow, tt.retry, tt.slow)
		}
		if got := tt.err.Transient(); got != tt.retry {
			t.Errorf("%s: Transient() = %v, want %v", tt.name, got, tt.retry)
		}
	}
}

// TestCauses checks the cause of each failure and whether it is fatal (a
// pull stops at once) or throttling. The operator's words for each are the
// BFF's (its TestUpstreamWords).
func TestCauses(t *testing.T) {
	netErr := &url.Error{Op: "Post", URL: "https://h/v4/x/y", Err: errors.New("connection refused")}
	tests := []struct {
		name      string
		err       *Error
		cause     Cause
		fatal     bool
		throttled bool
	}{
		{"70001 second time", &Error{Code: 70001}, CauseCode, true, false},
		{"70002 empty sig", &Error{Code: 70002}, CauseCode, true, false},
		{"70003 unparsable sig", &Error{Code: 70003}, CauseCode, true, false},
		{"70009 wrong key", &Error{Code: 70009}, CauseCode, true, false},
		{"70013 wrong identifier", &Error{Code: 70013}, CauseCode, true, false},
		{"70014 wrong app", &Error{Code: 70014}, CauseCode, true, false},
		{"10003 unknown API", &Error{Code: 10003}, CauseCode, true, false},
		{"10004 bad parameter", &Error{Code: 10004}, CauseCode, true, false},
		{"10007 permission", &Error{Code: 10007}, CauseCode, true, false},
		{"10010 no group", &Error{Code: 10010}, CauseCode, true, false},
		{"10015 bad group ID", &Error{Code: 10015}, CauseCode, true, false},
		{"10059 edition", &Error{Code: 10059}, CauseCode, true, false},
		{"10026 API off", &Error{Code: 10026}, CauseCode, true, false},
		{"60020 package expired", &Error{Code: 60020}, CauseCode, true, false},
		{"10002 internal", &Error{Code: 10002}, CauseCode, false, false},
		{"60007 throttled", &Error{Code: 60007}, CauseCode, false, true},
		{"HTTP 502", &Error{HTTPStatus: 502}, CauseHTTP, false, false},
		{"HTTP 429", &Error{HTTPStatus: 429}, CauseHTTP, false, true},
		{"HTTP 403", &Error{HTTPStatus: 403}, CauseHTTP, true, false},
		{"timeout", &Error{Err: fmt.Errorf("%w after 5s: %w", errTimeout, context.DeadlineExceeded), Timeout: 5 * time.Second}, CauseTimeout, false, false},
		{"unreadable", &Error{Err: fmt.Errorf("%w: eof", errMalformed)}, CauseUnreadable, false, false},
		{"network", &Error{Err: netErr}, CauseNetwork, false, false},
		{"cancelled", &Error{Err: context.Canceled}, CauseCanceled, false, false},
		{"caller's deadline", &Error{Err: context.DeadlineExceeded}, CauseDeadline, false, false},
		{"limiter", &Error{Err: fmt.Errorf("%w: %w", errLimiter, errors.New("would exceed deadline"))}, CauseLimiter, false, false},
		{"unbuildable", &Error{Err: fmt.Errorf("%w: x", errBadRequest)}, CauseRequest, true, false},
	}
	for _, tt := range tests {
		if got := tt.err.Cause(); got != tt.cause {
			t.Errorf("%s: Cause() = %d, want %d", tt.name, got, tt.cause)
		}
		if got := tt.err.Fatal(); got != tt.fatal {
			t.Errorf("%s: Fatal() = %v, want %v", tt.name, got, tt.fatal)
		}
		if got := tt.err.Throttled(); got != tt.throttled {
			t.Errorf("%s: Throttled() = %v, want %v", tt.name, got, tt.throttled)
		}
	}
}

// TestExcerpt: an unreadable answer's excerpt is short, valid UTF-8 and
// free of control characters, so a log line cannot be broken by it.
func TestExcerpt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<html>\r\n<h1>502</h1>", "<html>  <h1>502</h1>"},
		{"\xff\xfebad", "?bad"},
		{strings.Repeat("a", 100), strings.Repeat("a", excerptLen) + "…"},
	}
	for _, tt := range tests {
		if got := excerpt([]byte(tt.in)); got != tt.want {
			t.Errorf("excerpt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	c := &Client{cfg: Config{RetryBackoff: 100 * time.Millisecond}}
	tests := []struct {
		attempt  int
		slow     bool
		min, max time.Duration
	}{
		{1, false, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, false, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, false, 200 * time.Millisecond, 400 * time.Millisecond},
		{1, true, 250 * time.Millisecond, 500 * time.Millisecond},
		{2, true, 500 * time.Millisecond, time.Second},
		{30, false, 5 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := c.backoff(tt.attempt, tt.slow)
			if d < tt.min || d > tt.max {
				t.Errorf("backoff(%d, %v) = %v, want in [%v, %v]", tt.attempt, tt.slow, d, tt.min, tt.max)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d, %v) is not jittered: %v", tt.attempt, tt.slow, seen)
		}
	}
}

// TestRandom32 checks the nonce looks uniform over all 32 bits: nearly all
// distinct and the top bit set about half the time (a generator limited to
// 31 bits, like rand.Int31, fails this).
func TestRandom32(t *testing.T) {
	const n = 10000
	seen := make(map[uint32]bool, n)
	high := 0
	ones := 0
	for range n {
		v := random32()
		seen[v] = true
		if v >= 1<<31 {
			high++
		}
		ones += bits.OnesCount32(v)
	}
	if len(seen) < n-5 {
		t.Errorf("%d distinct values of %d", len(seen), n)
	}
	if high < n*45/100 || high > n*55/100 {
		t.Errorf("%d of %d values ≥ 2^31, want about half", high, n)
	}
	if mean := float64(ones) / n; mean < 15.5 || mean > 16.5 {
		t.Errorf("mean set bits %.2f, want about 16", mean)
	}
}

func TestScrubAndRedact(t *testing.T) {
	tests := []string{
		"Post \"http://h/v4/a/b?sdkappid=1&identifier=x&usersig=eJabc*-_&random=1&contenttype=json\": EOF",
		"echo USERSIG=secret more",
		"usersig=abc",
	}
	for _, in := range tests {
		if got := scrub(in); strings.Contains(strings.ToLower(got), "usersig=") {
			t.Errorf("scrub(%q) = %q, still has usersig=", in, got)
		}
	}
	ue := &url.Error{Op: "Post", URL: "http://h/v4/a/b?sdkappid=1&usersig=secret", Err: errors.New("EOF")}
	got := redact(ue).Error()
	if want := `Post "http://h/v4/a/b": EOF`; got != want {
		t.Errorf("redact(url.Error) = %q, want %q", got, want)
	}
}
