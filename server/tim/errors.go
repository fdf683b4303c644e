package tim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
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

// Explanation is a short operator-facing text for the failure.
func (e *Error) Explanation() string {
	switch e.Cause() {
	case CauseCode:
		return Explain(e.Code)
	case CauseCanceled:
		return "The request was cancelled."
	case CauseLimiter:
		return "The app's call budget (calls per second) left no room before the deadline; try again or query fewer seqs."
	case CauseTimeout:
		return fmt.Sprintf("Tencent did not answer within %s.", seconds(e.Timeout))
	case CauseDeadline:
		return "The query's time limit passed before Tencent answered."
	case CauseUnreadable:
		return "Tencent's answer could not be read."
	case CauseHTTP:
		return fmt.Sprintf("Tencent answered HTTP %d.", e.HTTPStatus)
	}
	return "Tencent Cloud Chat could not be reached; this is usually temporary, try again."
}

// seconds writes a duration as "5 s" or "1.5 s" for operators.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

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

// explanations is the operator-facing text for Tencent codes
// (tencent-chat-api.md §8), short enough for a table cell or a toast.
var explanations = map[int]string{
	0:     "OK.",
	60002: "Tencent could not parse the request URL (client bug).",
	60003: "Tencent could not parse the request body (client bug).",
	60004: "The admin identifier or UserSig was rejected; check the identifier and secret key.",
	60005: "The admin identifier or UserSig was rejected; check the identifier and secret key.",
	60006: "The SDKAppID is invalid; check the app configuration.",
	60007: "Tencent's REST call rate limit was exceeded; retry shortly.",
	60008: "Tencent timed out or rejected the request format; retry.",
	60009: "Tencent does not know this API; check the region and the app's edition.",
	60010: "The configured identifier is not an App admin of this app.",
	60011: "The app's request rate limit was exceeded; retry shortly.",
	60012: "The request lacked the SDKAppID (client bug).",
	60013: "Tencent could not parse its own response; retry.",
	60014: "Tencent's account exchange timed out; retry.",
	60015: "The identifier has the wrong type (client bug).",
	60016: "The SDKAppID is disabled.",
	60017: "The request is disabled for this app.",
	60018: "Too many requests; retry later.",
	60019: "Too many requests; retry later.",
	60020: "The app's Tencent package has expired or is not active yet (activation takes 5 minutes).",
	60021: "This server's IP address is not on the app's REST allow-list.",
	70001: "Tencent rejected the admin UserSig as expired, and again after the console signed a new one: check the app's secret key and this server's clock.",
	70002: "The admin UserSig was empty (client bug).",
	70003: "The admin UserSig could not be parsed; check the secret key configuration.",
	70005: "The admin UserSig check failed; check the secret key.",
	70009: "The admin UserSig signature does not match: the secret key and SDKAppID do not belong together.",
	70013: "The UserSig was signed for a different identifier than the one configured.",
	70014: "The UserSig was signed for a different SDKAppID than the one configured.",
	70016: "Tencent has no key for this app in this region; check the app's region.",
	70020: "Tencent does not know this SDKAppID in this region; check the app's region.",
	70050: "Too many failed UserSig checks: the admin account is locked for a minute.",
	70051: "The admin account is blocklisted.",
	70052: "The admin UserSig was invalidated; a new one is signed automatically.",
	70107: "The user account does not exist.",
	70114: "The request was restricted by Tencent for security reasons.",
	70169: "Tencent timed out internally; retry.",
	70206: "Invalid batch count in the request (client bug).",
	70398: "The app is over its free-trial account limit.",
	70402: "Invalid parameter in the account request.",
	70403: "The request needs App admin permission.",
	70500: "Tencent had an internal error; retry.",
	10002: "Tencent had an internal error; retry.",
	10003: "Tencent does not know this API name (client bug).",
	10004: "Invalid parameter: check the group ID and message seqs.",
	10005: "Too many accounts in the request.",
	10006: "Tencent's group-service rate limit was exceeded; retry shortly.",
	10007: "Insufficient permission; the group type may not support read receipts.",
	10008: "The request signature failed verification.",
	10010: "The group does not exist or has been dismissed.",
	10011: "Tencent could not parse the request body (client bug).",
	10015: "The group ID is invalid.",
	10018: "The answer would exceed 1 MB; query fewer seqs per call.",
	10019: "The user account does not exist.",
	10026: "This API is disabled for the app.",
	10059: "Group read receipts need the Premium/Pro edition of Tencent Cloud Chat.",
	10062: "No read receipt for this message: it does not exist or was sent without a receipt request.",
}

// Explain returns the operator-facing text for a Tencent error code; the UI
// shows it next to per-seq codes and failed queries.
func Explain(code int) string {
	if s, ok := explanations[code]; ok {
		return s
	}
	if code == CodeMissing {
		return "Tencent returned no result for this message."
	}
	return fmt.Sprintf("Tencent Cloud Chat error %d; see Tencent's error code list.", code)
}

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
