package bff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/tim"
)

// statusByCode is the one table from an api error code to its HTTP status.
// Tencent refusals are 502 (the console's upstream said no) except the few
// codes that mean the operator's input was wrong, listed in upstreamInputCodes.
var statusByCode = map[string]int{
	api.ECodeInvalid:      http.StatusBadRequest,
	api.ECodeUnauthorized: http.StatusUnauthorized,
	api.ECodeForbidden:    http.StatusForbidden,
	api.ECodeNotFound:     http.StatusNotFound,
	api.ECodeBadMethod:    http.StatusMethodNotAllowed,
	api.ECodeTooLarge:     http.StatusRequestEntityTooLarge,
	api.ECodeTooMany:      http.StatusTooManyRequests,
	api.ECodeUpstream:     http.StatusBadGateway,
	api.ECodeUnavailable:  http.StatusBadGateway,
	api.ECodeTimeout:      http.StatusGatewayTimeout,
	api.ECodeThrottled:    http.StatusServiceUnavailable,
	api.ECodeInternal:     http.StatusInternalServerError,
	api.ECodeCanceled:     499, // nginx's "client closed request"; nobody reads it but logs and metrics
}

// upstreamInputCodes are Tencent codes that blame the request (unknown or
// malformed group, bad parameter): 422 tells the UI the operator can fix it.
var upstreamInputCodes = map[int]bool{10004: true, 10010: true, 10015: true}

// statusOf picks the HTTP status of an api error from the table.
func statusOf(e *api.Error) int {
	if e.Code == api.ECodeUpstream && upstreamInputCodes[e.UpstreamCode] {
		return http.StatusUnprocessableEntity
	}
	if s, ok := statusByCode[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// problemsError carries validation problems from a handler to writeError.
type problemsError []api.Problem

func (p problemsError) Error() string { return fmt.Sprintf("%d validation problems", len(p)) }

// errorf makes an *api.Error with a safe, operator-facing message.
func errorf(code, format string, args ...any) *api.Error {
	return &api.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// toAPIError maps any error to the *api.Error the browser sees. The second
// result is true when the error is the console's or Tencent's fault and is
// worth a log line.
func toAPIError(ctx context.Context, err error) (*api.Error, bool) {
	var (
		ae  *api.Error
		te  *tim.Error
		ps  problemsError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.Is(err, auth.ErrNoSession):
		return &api.Error{Code: api.ECodeUnauthorized, Message: "Please sign in.", LoginURL: api.PathLogin}, false
	case errors.Is(err, auth.ErrStoreUnavailable):
		// auth has logged the cause already.
		return &api.Error{Code: api.ECodeUnavailable, Message: "The session store is unavailable; try again in a minute.", Retryable: true}, false
	case errors.As(err, &ae):
		c := *ae
		return &c, c.Code == api.ECodeInternal || c.Code == api.ECodeUpstream || c.Code == api.ECodeUnavailable
	case errors.As(err, &ps):
		return &api.Error{Code: api.ECodeInvalid, Message: "the request has problems; see the list", Problems: ps}, false
	case errors.As(err, &mbe):
		return errorf(api.ECodeTooLarge, "the request body is larger than %d bytes", mbe.Limit), false
	case errors.Is(err, tim.ErrInvalid), errors.Is(err, tim.ErrTooManySeqs):
		// The BFF validates first, so this is a gap in its own checks.
		return errorf(api.ECodeInvalid, "the query was refused before reaching Tencent: %s", err), true
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return errorf(api.ECodeCanceled, "the request was cancelled"), false
	case errors.As(err, &te):
		return upstreamError(te), true
	case errors.Is(err, context.DeadlineExceeded):
		return &api.Error{Code: api.ECodeTimeout, Message: "The query did not finish within its time limit; try again, or ask for fewer seqs", Retryable: true}, true
	default:
		return errorf(api.ECodeInternal, "internal error"), true
	}
}

// upstreamError names the cause of a failed Tencent call in the operator's
// words, with the status code that fits it (statusByCode) and the Tencent
// code or HTTP status it came with.
func upstreamError(te *tim.Error) *api.Error {
	e := &api.Error{Code: api.ECodeUnavailable, Retryable: true}
	switch te.Cause() {
	case tim.CauseCode:
		e.UpstreamCode = te.Code
		switch {
		case te.Throttled():
			e.Code = api.ECodeThrottled
			e.Message = fmt.Sprintf("Tencent is throttling this app's calls (code %d), even after the console backed off; wait a few seconds and try again", te.Code)
		case te.Transient():
			e.Message = fmt.Sprintf("Tencent Chat kept failing (code %d: %s), even after retries; try again in a minute", te.Code, Explain(te.Code))
		default:
			e.Code, e.Retryable = api.ECodeUpstream, false
			e.Message = fmt.Sprintf("Tencent Chat refused the request (code %d): %s", te.Code, Explain(te.Code))
		}
	case tim.CauseTimeout:
		e.Code = api.ECodeTimeout
		e.Message = fmt.Sprintf("Tencent did not answer within %s, even on a second try; Tencent may be slow or unreachable, try again in a minute", seconds(te.Timeout))
	case tim.CauseDeadline:
		e.Code = api.ECodeTimeout
		e.Message = "The query did not finish within its time limit; try again, or ask for fewer seqs"
	case tim.CauseUnreadable:
		e.Message = "Tencent's answer could not be read (it was not Tencent's JSON, e.g. a proxy's error page); try again, and if it persists check the app's endpoint"
	case tim.CauseHTTP:
		e.UpstreamStatus = te.HTTPStatus
		switch {
		case te.Throttled():
			e.Code = api.ECodeThrottled
			e.Message = fmt.Sprintf("Tencent is throttling this app's calls (HTTP %d); wait a few seconds and try again", te.HTTPStatus)
		case te.Fatal():
			e.Code, e.Retryable = api.ECodeUpstream, false
			e.Message = fmt.Sprintf("Tencent answered HTTP %d: the console's request was refused; check the app's region or endpoint", te.HTTPStatus)
		default:
			e.Message = fmt.Sprintf("Tencent answered HTTP %d, even after retries; this is usually temporary, try again in a minute", te.HTTPStatus)
		}
	case tim.CauseLimiter:
		e.Code = api.ECodeTimeout
		e.Message = "The app's call budget (calls per second, shared by every operator) left no room before the query's time limit; try again or ask for fewer seqs"
	case tim.CauseRequest:
		e.Code, e.Retryable = api.ECodeInternal, false
		e.Message = "internal error"
	default:
		e.Message = "Tencent Chat could not be reached (the connection failed), even after retries; check the network, or try again in a minute"
	}
	return e
}

// seconds writes a duration for operators: "5 s", "1.5 s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// notFetchedText is the CodeText of a seq a partial pull could not fetch:
// the cause in a table cell's length.
func notFetchedText(te *tim.Error) string {
	return "Not fetched: " + upstreamError(te).Message + "."
}

// writeError is the one place that turns an error into an HTTP answer: it
// maps err to an *api.Error, picks the status from the table, logs the
// console's and Tencent's failures once (never the operator's mistakes), and
// sends the browser only the safe fields.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	e, logIt := toAPIError(r.Context(), err)
	status := statusOf(e)
	h := w.Header()
	if errors.Is(err, auth.ErrStoreUnavailable) {
		// The console's own session store, not Tencent: 503, and a hint
		// when to come back.
		status = http.StatusServiceUnavailable
		h.Set("Retry-After", strconv.Itoa(auth.RetryAfter))
	}
	if logIt {
		logFailure(r, logger, e, status, err)
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Disposition")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// logFailure logs a failure once, with method, path, operator and cause.
// Causes never hold secrets: tim scrubs UserSigs from its errors and the
// key never enters an error.
func logFailure(r *http.Request, logger *slog.Logger, e *api.Error, status int, err error) {
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.String("code", e.Code),
		slog.String("cause", err.Error()),
	}
	if op, ok := auth.OperatorFrom(r.Context()); ok {
		attrs = append(attrs, slog.String("operator", op.Subject))
	}
	logger.LogAttrs(r.Context(), slog.LevelError, "request failed", attrs...)
}

// ErrorWriter returns the BFF's error writer for packages that answer on the
// BFF's behalf (auth's refusals: auth.ErrNoSession, auth.ErrStoreUnavailable),
// so every error the browser sees has one shape and one status table.
func ErrorWriter(logger *slog.Logger) func(w http.ResponseWriter, r *http.Request, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(w http.ResponseWriter, r *http.Request, err error) { writeError(w, r, logger, err) }
}
