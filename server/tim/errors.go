package tim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Error is every failure of a call that reached (or tried to reach) Tencent:
// a Tencent error code, a non-200 HTTP status or a transport failure. The
// BFF branches on Cause with errors.As and translates it at its boundary.
//
// Error() never contains the UserSig or the key: URLs are stripped of their
// query and Tencent's text is scrubbed before it is stored.
type Error struct {
	// Command is the REST command, e.g. "get_group_msg_receipt".
	Command string
	// Code is Tencent's ErrorCode; 0 for transport failures.
	Code int
	// Info is Tencent's ErrorInfo text (informational; branch on Code).
	Info string
	// HTTPStatus is set when Tencent answered with a non-200 status.
	HTTPStatus int
	// Timeout is the per-call limit (Config.CallTimeout) that passed without
	// an answer; set with CauseTimeout.
	Timeout time.Duration
	// Excerpt is the start of an unreadable answer (CauseUnreadable), with
	// UserSigs scrubbed and control characters replaced, for the log only.
	Excerpt string
	// Attempts is how many HTTP attempts the call made before it gave up.
	Attempts int
	// Err is the transport cause (network error, timeout, bad body), if any.
	Err error
}

// Cause says what kind of failure an Error is. The BFF picks the HTTP status
// and the operator's words by it; retries and a pull's fast stop follow it.
type Cause int

// The causes, in the order Cause tests them.
const (
	CauseCode       Cause = iota + 1 // Tencent answered with an ErrorCode
	CauseHTTP                        // Tencent, or a gateway before it, answered a non-200 status
	CauseTimeout                     // no answer within Config.CallTimeout
	CauseUnreadable                  // the answer was not Tencent's JSON envelope
	CauseCanceled                    // the caller gave up
	CauseDeadline                    // the caller's own deadline passed (a query's time limit)
	CauseLimiter                     // the app's call budget left no room before the deadline
	CauseRequest                     // the client could not build the request
	CauseNetwork                     // DNS, connect or TLS failure, or a broken connection
)

// Cause classifies the failure.
func (e *Error) Cause() Cause {
	switch {
	case e.Code != 0:
		return CauseCode
	case e.HTTPStatus != 0:
		return CauseHTTP
	case e.Err == nil:
		return CauseCode // ActionStatus FAIL without a code: Tencent said no
	case errors.Is(e.Err, errTimeout):
		return CauseTimeout
	case errors.Is(e.Err, errMalformed):
		return CauseUnreadable
	case errors.Is(e.Err, context.Canceled):
		return CauseCanceled
	case errors.Is(e.Err, context.DeadlineExceeded):
		return CauseDeadline
	case errors.Is(e.Err, errLimiter):
		return CauseLimiter
	case errors.Is(e.Err, errBadRequest):
		return CauseRequest
	}
	return CauseNetwork
}

// Error reads "tim <command>: code <n> (<info>)" or names the transport
// failure; it is scrubbed of any usersig parameter.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("tim ")
	b.WriteString(e.Command)
	switch {
	case e.Code != 0:
		fmt.Fprintf(&b, ": code %d", e.Code)
		if e.Info != "" {
			fmt.Fprintf(&b, " (%s)", e.Info)
		}
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	case e.Info != "":
		fmt.Fprintf(&b, ": %s", e.Info)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, " (answer began %q)", e.Excerpt)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return scrub(b.String())
}

// Unwrap exposes the transport cause, e.g. context.Canceled.
func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether trying again later may succeed: server errors,
// network failures, timeouts and rate limiting.
func (e *Error) Transient() bool {
	retry, _ := classify(e)
	return retry
}

// Fatal reports a failure that no retry can fix: a Tencent code that
// describes the request or the app (a rejected signature, a missing
// permission, an unknown group, an edition without receipts), a 4xx other
// than 429, or a request the client could not build. A pull stops at the
// first one.
func (e *Error) Fatal() bool {
	switch e.Cause() {
	case CauseCode, CauseRequest:
		return !e.Transient()
	case CauseHTTP:
		return e.HTTPStatus < 500 && e.HTTPStatus != http.StatusTooManyRequests
	}
	return false
}

// Throttled reports rate limiting: one of Tencent's frequency codes or an
// HTTP 429 from its gateway.
func (e *Error) Throttled() bool {
	_, rl := classify(e)
	return rl
}

// retryCodes are the Tencent codes worth retrying; the value is true for
// rate-limit codes, which back off longer.
var retryCodes = map[int]bool{
	10002: false, // internal error
	70169: false, // internal timeout
	70500: false, // internal error
	60007: true,  // REST call frequency over limit
	60011: true,  // SDKAppID frequency over limit
	60018: true,  // too many requests
	60019: true,  // too many requests
	10006: true,  // group-service frequency limit
}

// classify decides whether a failed attempt is retried, and whether it was
// rate limiting (longer backoff). Other Tencent codes are never retried:
// they describe the request, and repeating it would fail the same way.
func classify(e *Error) (retry, rateLimited bool) {
	switch e.Cause() {
	case CauseCode:
		rl, ok := retryCodes[e.Code]
		return ok, rl
	case CauseHTTP:
		if e.HTTPStatus == http.StatusTooManyRequests {
			return true, true
		}
		return e.HTTPStatus >= 500, false
	case CauseTimeout, CauseUnreadable, CauseNetwork:
		return true, false
	}
	// Cancelled, past the caller's deadline, refused by the limiter or not
	// buildable: retrying cannot help.
	return false, false
}

// attemptsFor caps the attempts of one call by the cause of its last
// failure: a timeout or an unreadable answer is tried once more only, so a
// hung or broken endpoint answers the operator within about two call
// timeouts instead of MaxAttempts of them.
func attemptsFor(c Cause, max int) int {
	if c == CauseTimeout || c == CauseUnreadable {
		return min(max, 2)
	}
	return max
}

// errBadRequest marks a request this client could not even build.
var errBadRequest = errors.New("bad request")

// errLimiter marks a call the limiter refused, typically because the wait
// would outlast the caller's deadline; retrying cannot help.
var errLimiter = errors.New("rate limiter")

// errTimeout marks an attempt that got no answer within Config.CallTimeout.
var errTimeout = errors.New("no answer in time")

// sigParam matches a usersig query parameter in any text, so that a URL that
// slips into an error string is still scrubbed.
var sigParam = regexp.MustCompile(`(?i)usersig=[^&\s"']*`)

// scrub removes UserSig values from text that may echo a URL.
func scrub(s string) string {
	if !strings.Contains(strings.ToLower(s), "usersig=") {
		return s
	}
	return sigParam.ReplaceAllString(s, "[redacted]")
}

// redact returns err with every URL stripped of its query string, so that a
// *url.Error from net/http never carries the UserSig.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: stripQuery(ue.URL), Err: ue.Err}
	}
	return err
}

func stripQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}
