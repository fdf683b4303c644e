package tim

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Error is every failure of a call that reached (or tried to reach) Tencent:
// a Tencent error code, a non-200 HTTP status or a transport failure. The
// BFF branches on it with errors.As and translates it at its boundary.
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
	// Err is the transport cause (network error, timeout, bad body), if any.
	Err error
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
	return scrub(b.String())
}

// Unwrap exposes the transport cause, e.g. context.Canceled.
func (e *Error) Unwrap() error { return e.Err }

// Explanation is a short operator-facing text for the failure.
func (e *Error) Explanation() string {
	switch {
	case e.Code != 0:
		return Explain(e.Code)
	case errors.Is(e.Err, context.Canceled):
		return "The request was cancelled."
	case errors.Is(e.Err, errLimiter):
		return "The app's call budget (calls per second) left no room before the deadline; try again or query fewer seqs."
	case errors.Is(e.Err, context.DeadlineExceeded):
		return "Tencent Cloud Chat did not answer in time; try again."
	case e.HTTPStatus != 0 || e.Err != nil:
		return "Tencent Cloud Chat could not be reached or answered with an error page; this is usually temporary, try again."
	}
	return Explain(e.Code)
}

// Transient reports whether trying again later may succeed: server errors,
// network failures, timeouts and rate limiting.
func (e *Error) Transient() bool {
	retry, _ := classify(e)
	return retry
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
	if e.Code != 0 {
		rl, ok := retryCodes[e.Code]
		return ok, rl
	}
	if e.HTTPStatus != 0 {
		return e.HTTPStatus >= 500, false
	}
	if e.Err == nil || errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, errBadRequest) || errors.Is(e.Err, errLimiter) {
		return false, false
	}
	// Network errors, per-attempt timeouts and unreadable bodies.
	return true, false
}

// errBadRequest marks a request this client could not even build.
var errBadRequest = errors.New("bad request")

// errLimiter marks a call the limiter refused, typically because the wait
// would outlast the caller's deadline; retrying cannot help.
var errLimiter = errors.New("rate limiter")

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
	70001: "The admin UserSig expired; a new one is signed automatically.",
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
