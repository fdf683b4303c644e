package tim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// maxBody caps a response body; Tencent fails answers above 1 MB (10018).
const maxBody = 4 << 20

// envelope is the common part of every Tencent answer.
type envelope struct {
	ActionStatus string `json:"ActionStatus"`
	ErrorCode    int    `json:"ErrorCode"`
	ErrorInfo    string `json:"ErrorInfo"`
}

// stats counts the HTTP attempts of one logical operation (a pull).
type stats struct {
	calls, retries atomic.Int64
}

// call sends one command with retries and decodes the answer into out. st
// may be nil.
func (c *Client) call(ctx context.Context, service, command string, req, out any, st *stats) error {
	body, err := json.Marshal(req)
	if err != nil {
		return &Error{Command: command, Err: fmt.Errorf("%w: encode: %v", errBadRequest, err)}
	}
	if len(body) == 0 || string(body) == "null" {
		body = []byte("{}") // Tencent rejects an empty body.
	}

	start := c.now()
	resigned := false
	for attempt := 1; ; attempt++ {
		sig, err := c.signer.sig(c.cfg.SDKAppID, c.cfg.Key, c.cfg.Identifier)
		if err != nil {
			return &Error{Command: command, Err: fmt.Errorf("%w: %v", errBadRequest, err)}
		}
		base, isMain := c.base()
		e := c.attempt(ctx, base, service, command, sig, body, out, st, attempt > 1)
		if e == nil {
			return nil
		}
		e.Attempts = attempt
		if ctx.Err() != nil {
			// The caller gave up or its deadline passed: report that, not
			// the attempt's symptom.
			return &Error{Command: command, Err: ctx.Err(), Attempts: attempt}
		}
		if (e.Code == 70001 || e.Code == 70052) && !resigned {
			// Expired or invalidated UserSig: sign afresh and try once more.
			// A second refusal is final (Fatal): the key or the clock is wrong.
			resigned = true
			c.signer.drop(c.cfg.SDKAppID, c.cfg.Identifier, sig)
			continue
		}
		retry, rateLimited := classify(e)
		if !retry || attempt >= attemptsFor(e.Cause(), c.cfg.MaxAttempts) {
			return e
		}
		if isMain && len(c.bases) > 1 && isNetwork(e) {
			// The main domain failed below HTTP: switch to the backup at
			// once and keep using it for a while.
			c.failToBackup()
			continue
		}
		wait := c.backoff(attempt, rateLimited)
		if c.now().Sub(start)+wait > c.cfg.MaxRetryTime {
			return e
		}
		if err := sleep(ctx, wait); err != nil {
			return &Error{Command: command, Err: err, Attempts: attempt}
		}
	}
}

// attempt makes one HTTP request: wait for the limiter, POST, decode. Only
// requests that pass the limiter count in st.
func (c *Client) attempt(ctx context.Context, base, service, command, sig string, body []byte, out any, st *stats, retry bool) *Error {
	waitStart := c.now()
	if err := c.limiterFor(command).Wait(ctx); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return &Error{Command: command, Err: fmt.Errorf("%w: %w", errLimiter, err)}
	}
	if h := c.cfg.Hooks.OnLimiterWait; h != nil {
		h(c.now().Sub(waitStart))
	}
	if st != nil {
		st.calls.Add(1)
		if retry {
			st.retries.Add(1)
		}
	}

	actx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	started := c.now()
	e := c.post(actx, base, service, command, sig, body, out)
	if h := c.cfg.Hooks.OnCall; h != nil {
		code := -1
		if e == nil {
			code = 0
		} else if e.Code != 0 {
			code = e.Code
		}
		h(command, code, c.now().Sub(started))
	}
	if e == nil {
		return nil
	}
	if e.Cause() == CauseNetwork || e.Cause() == CauseDeadline {
		if ctx.Err() == nil && (actx.Err() == context.DeadlineExceeded || isTimeout(e.Err)) {
			// This attempt's own limit passed, not the caller's.
			e.Err = fmt.Errorf("%w after %v: %w", errTimeout, c.cfg.CallTimeout, e.Err)
			e.Timeout = c.cfg.CallTimeout
		}
	}
	if e.Info != "" {
		e.Info = strings.ReplaceAll(scrub(e.Info), sig, "REDACTED")
	}
	if e.Excerpt != "" {
		e.Excerpt = strings.ReplaceAll(scrub(e.Excerpt), sig, "REDACTED")
	}
	return e
}

// isTimeout reports a net.Error timeout (response-header or client timeout).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *Client) post(ctx context.Context, base, service, command, sig string, body []byte, out any) *Error {
	u := requestURL(base, service, command, c.cfg.SDKAppID, c.cfg.Identifier, sig, random32())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return &Error{Command: command, Err: fmt.Errorf("%w: %v", errBadRequest, redact(err))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return &Error{Command: command, Err: redact(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return &Error{Command: command, Err: fmt.Errorf("read answer: %w", redact(err))}
	}
	if resp.StatusCode != http.StatusOK {
		return &Error{Command: command, HTTPStatus: resp.StatusCode}
	}
	if len(data) > maxBody {
		return &Error{Command: command, Err: errors.New("answer over 4 MB")}
	}
	return decode(command, data, out)
}

// decode checks the envelope and fills out. Unknown fields are ignored: the
// gateway adds fields (ErrorDisplay, RequestId) that the docs do not list.
func decode(command string, data []byte, out any) *Error {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return &Error{Command: command, Err: fmt.Errorf("%w: %v", errMalformed, err), Excerpt: excerpt(data)}
	}
	status := strings.ToUpper(env.ActionStatus)
	switch {
	case env.ErrorCode != 0 || status == "FAIL":
		return &Error{Command: command, Code: env.ErrorCode, Info: env.ErrorInfo}
	case status != "OK":
		return &Error{Command: command, Err: fmt.Errorf("%w: no ActionStatus", errMalformed), Excerpt: excerpt(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return &Error{Command: command, Err: fmt.Errorf("%w: %v", errMalformed, err), Excerpt: excerpt(data)}
		}
	}
	return nil
}

// excerptLen bounds the part of an unreadable answer kept for the log: enough
// to tell a proxy's error page from truncated JSON, too short to carry a
// member list.
const excerptLen = 80

// excerpt is the start of an unreadable answer, valid UTF-8 with control
// characters replaced, so a log line cannot be forged or broken by it.
func excerpt(data []byte) string {
	s := strings.ToValidUTF8(string(data[:min(len(data), excerptLen)]), "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(data) > excerptLen {
		s += "…"
	}
	return s
}

// errMalformed marks an answer that is not Tencent's JSON envelope, such as
// an error page from a proxy; it is retried once (attemptsFor).
var errMalformed = errors.New("malformed answer")

// requestURL builds the documented REST URL. The UserSig alphabet
// (A–Z a–z 0–9 * - _) is query-safe, so it goes in unescaped as in Tencent's
// own samples; the identifier is escaped.
func requestURL(base, service, command string, app uint64, identifier, sig string, random uint32) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteString("/v4/")
	b.WriteString(url.PathEscape(service))
	b.WriteByte('/')
	b.WriteString(url.PathEscape(command))
	b.WriteString("?sdkappid=")
	b.WriteString(strconv.FormatUint(app, 10))
	b.WriteString("&identifier=")
	b.WriteString(url.QueryEscape(identifier))
	b.WriteString("&usersig=")
	b.WriteString(sig)
	b.WriteString("&random=")
	b.WriteString(strconv.FormatUint(uint64(random), 10))
	b.WriteString("&contenttype=json")
	return b.String()
}

// random32 is the per-request nonce: uniform over all 32-bit values, from
// the system CSPRNG as the issue requires.
func random32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24).
	return binary.BigEndian.Uint32(b[:])
}

// base picks the domain for the next attempt: the main one unless it
// recently failed at the network level.
func (c *Client) base() (string, bool) {
	if len(c.bases) > 1 {
		c.failover.mu.Lock()
		onBackup := c.now().Before(c.failover.until)
		c.failover.mu.Unlock()
		if onBackup {
			return c.bases[1], false
		}
	}
	return c.bases[0], true
}

func (c *Client) failToBackup() {
	c.failover.mu.Lock()
	c.failover.until = c.now().Add(failoverPeriod)
	c.failover.mu.Unlock()
}

// isNetwork reports a failure below HTTP (DNS, connect, TLS, timeout): the
// case in which the backup domain may help.
func isNetwork(e *Error) bool {
	return e.Code == 0 && e.HTTPStatus == 0 && e.Err != nil &&
		!errors.Is(e.Err, errMalformed) && !errors.Is(e.Err, errBadRequest) &&
		!errors.Is(e.Err, context.Canceled)
}

// backoff is the jittered exponential delay before retry number attempt
// (1-based): base·2^(attempt-1), capped, then scaled by a random factor in
// [0.5, 1) so that concurrent callers do not retry in lockstep.
func (c *Client) backoff(attempt int, rateLimited bool) time.Duration {
	d := c.cfg.RetryBackoff
	if rateLimited {
		d *= 5
	}
	const maxBackoff = 10 * time.Second
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// limiterFor is the limiter that paces command: its own, or the app's.
func (c *Client) limiterFor(command string) Limiter {
	if l := c.limiters[command]; l != nil {
		return l
	}
	return c.limiter
}
