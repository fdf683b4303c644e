package api

import "strconv"

// Error codes carried in Error.Code. The BFF picks the HTTP status from the
// code; the UI picks its wording and whether to offer a retry.
const (
	ECodeInvalid      = "invalid"      // 400: the request is wrong; Problems says where
	ECodeUnauthorized = "unauthorized" // 401: no valid session; LoginURL says where to go
	ECodeForbidden    = "forbidden"    // 403: signed in, but not allowed
	ECodeNotFound     = "not_found"    // 404
	ECodeTooMany      = "too_many"     // 429: too many concurrent pulls for this operator
	ECodeUpstream     = "upstream"     // 422/502: Tencent answered with an error code
	ECodeUnavailable  = "unavailable"  // 502/503: Tencent's answer was an HTTP error or unreadable, or a dependency is down; retry later
	ECodeTimeout      = "timeout"      // 504: Tencent did not answer in time, or the query's time limit passed
	ECodeThrottled    = "throttled"    // 503: Tencent throttled the app's calls; retry in a few seconds
	ECodeInternal     = "internal"     // 500
	ECodeTooLarge     = "too_large"    // 413
	ECodeBadMethod    = "bad_method"   // 405
	ECodeCanceled     = "canceled"     // 499: the client went away
)

// Error is the JSON body of every error answer from the BFF.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Problems lists validation problems by field, in input order.
	Problems []Problem `json:"problems,omitempty"`
	// UpstreamCode is Tencent's ErrorCode when Tencent refused the call.
	UpstreamCode int `json:"upstreamCode,omitempty"`
	// UpstreamStatus is the HTTP status Tencent (or a gateway before it)
	// answered with, when that was the failure.
	UpstreamStatus int `json:"upstreamStatus,omitempty"`
	// Retryable tells the UI that trying again later may succeed.
	Retryable bool `json:"retryable,omitempty"`
	// LoginURL is set on 401 answers: where the browser should go to sign in.
	LoginURL string `json:"loginUrl,omitempty"`
}

// Error implements error so the wasm client can return *Error directly.
func (e *Error) Error() string {
	msg := e.Code + ": " + e.Message
	if e.UpstreamCode != 0 {
		msg += " (Tencent code " + strconv.Itoa(e.UpstreamCode) + ")"
	}
	if e.UpstreamStatus != 0 {
		msg += " (Tencent HTTP " + strconv.Itoa(e.UpstreamStatus) + ")"
	}
	return msg
}

// Problem is one validation problem.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}
