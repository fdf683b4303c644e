package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/timconsole/timconsole/server/api"
)

// request is one call to the BFF, same origin.
type request struct {
	Method string
	// URL is a path on the BFF ("/api/me"), or an absolute URL in host tests.
	URL    string
	Accept string
	Body   []byte
}

// response is the BFF's answer; Body streams and must be closed.
type response struct {
	Status      int
	ContentType string
	Body        io.ReadCloser
}

// transport sends requests. In the browser it is a thin wrapper over
// fetch() (transport_browser.go): net/http would add about 0.85 MB of
// brotli'd wasm. On the host (tests, server prerendering) it is net/http.
type transport interface {
	do(ctx context.Context, r request) (*response, error)
}

// Limits on what the client reads, so a broken server cannot exhaust the
// tab's memory.
const (
	maxErrorBody = 64 << 10
	maxLineBytes = 32 << 20
)

// client is the browser's API client: typed calls over a transport, with
// every failure turned into an *api.Error the UI can show.
type client struct {
	t    transport
	base string // "" in the browser (same origin); a server URL in host tests
}

// me asks who is signed in and which apps they may query.
func (c *client) me(ctx context.Context) (*api.Me, error) {
	var me api.Me
	if err := c.call(ctx, "GET", api.PathMe, nil, &me); err != nil {
		return nil, err
	}
	return &me, nil
}

// members fetches one page of a drill-down list.
func (c *client) members(ctx context.Context, req api.MembersRequest) (*api.MembersResponse, error) {
	var page api.MembersResponse
	if err := c.call(ctx, "POST", api.PathMembers, req, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// receipts runs a query. It asks for the NDJSON progress stream and reports
// progress as it arrives; a server that answers with plain JSON works too.
func (c *client) receipts(ctx context.Context, req api.ReceiptsRequest, progress func(done, total int)) (*api.ReceiptsResponse, error) {
	return c.pull(ctx, req, api.ContentTypeNDJSON+", application/json", progress, nil)
}

// receiptsOnce runs a query asking for plain JSON: one answer, and no
// progress lines to read and show. It suits pulls too small to have
// progress worth showing. arrived, if not nil, is called once the
// answer's headers are in, before its body is read and decoded.
func (c *client) receiptsOnce(ctx context.Context, req api.ReceiptsRequest, arrived func()) (*api.ReceiptsResponse, error) {
	return c.pull(ctx, req, "application/json", nil, arrived)
}

// pull is POST /api/receipts with the given Accept header; arrived is as
// for receiptsOnce.
func (c *client) pull(ctx context.Context, req api.ReceiptsRequest, accept string, progress func(done, total int), arrived func()) (*api.ReceiptsResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, &api.Error{Code: api.ECodeInternal, Message: "encoding the query: " + err.Error()}
	}
	resp, err := c.send(ctx, request{Method: "POST", URL: c.base + api.PathReceipts, Accept: accept, Body: body})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if arrived != nil {
		arrived()
	}
	if !strings.HasPrefix(resp.ContentType, api.ContentTypeNDJSON) {
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxLineBytes+1))
		if err != nil {
			return nil, readErr(ctx, "reading the result", err)
		}
		if len(b) > maxLineBytes {
			return nil, &api.Error{Code: api.ECodeInternal, Message: "the result is too large to show"}
		}
		out, err := decodeResult(b)
		if err != nil {
			return nil, readErr(ctx, "reading the result", err)
		}
		return out, nil
	}
	lines := lineReader{r: resp.Body}
	for {
		line, err := lines.next()
		if err == io.EOF {
			return nil, &api.Error{Code: api.ECodeUnavailable, Message: "the result stream ended before the result arrived; try again", Retryable: true}
		}
		if err != nil {
			return nil, readErr(ctx, "reading the progress stream", err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, err := decodeEvent(line)
		if err != nil {
			return nil, &api.Error{Code: api.ECodeInternal, Message: "the server sent an unreadable progress line"}
		}
		switch ev.Type {
		case api.EventProgress:
			if progress != nil {
				progress(ev.Done, ev.Total)
			}
		case api.EventResult:
			if ev.Result == nil {
				return nil, &api.Error{Code: api.ECodeInternal, Message: "the server sent an empty result"}
			}
			return ev.Result, nil
		case api.EventError:
			if ev.Error == nil {
				return nil, &api.Error{Code: api.ECodeInternal, Message: "the query failed"}
			}
			return nil, ev.Error
		}
	}
}

// call sends a JSON request and decodes a JSON answer.
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	r := request{Method: method, URL: c.base + path, Accept: "application/json"}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &api.Error{Code: api.ECodeInternal, Message: "encoding the request: " + err.Error()}
		}
		r.Body = b
	}
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return readErr(ctx, "reading the answer", err)
	}
	return nil
}

// send does the round trip and turns non-2xx answers into *api.Error.
func (c *client) send(ctx context.Context, r request) (*response, error) {
	resp, err := c.t.do(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &api.Error{Code: api.ECodeUnavailable, Message: "the console's server could not be reached: " + err.Error(), Retryable: true}
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, decodeError(resp.Status, io.LimitReader(resp.Body, maxErrorBody))
}

// decodeError reads an api.Error body, or describes the status when the
// body is not one (a proxy's HTML error page, say).
func decodeError(status int, body io.Reader) *api.Error {
	var e api.Error
	if err := json.NewDecoder(body).Decode(&e); err == nil && e.Code != "" {
		return &e
	}
	e = api.Error{Code: api.ECodeInternal, Message: "the server answered HTTP " + strconv.Itoa(status)}
	switch {
	case status == 401:
		e.Code, e.Message = api.ECodeUnauthorized, "your session has ended; sign in again"
	case status == 403:
		e.Code, e.Message = api.ECodeForbidden, "you are not allowed to do this"
	case status == 429:
		e.Code, e.Retryable = api.ECodeTooMany, true
	case status >= 502 && status <= 504:
		e.Code, e.Retryable = api.ECodeUnavailable, true
	}
	return &e
}

// readErr reports a failure while reading a body: a cancellation stays
// context.Canceled so the UI can stay quiet about it.
func readErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &api.Error{Code: api.ECodeUnavailable, Message: what + ": " + err.Error(), Retryable: true}
}

// asAPIError returns err as an *api.Error, or nil for a cancellation.
func asAPIError(err error) *api.Error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	var e *api.Error
	if errors.As(err, &e) {
		return e
	}
	return &api.Error{Code: api.ECodeInternal, Message: err.Error()}
}

// lineReader splits a stream into lines without bufio.Scanner's 64 KiB
// line limit: a result line for 10,000 seqs is several hundred KiB.
type lineReader struct {
	r   io.Reader
	buf []byte
	eof bool
}

// next returns the next line without its newline; the last line may lack
// one. It returns io.EOF when the stream is used up.
func (l *lineReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf, '\n'); i >= 0 {
			line := l.buf[:i:i]
			l.buf = l.buf[i+1:]
			return line, nil
		}
		if l.eof {
			if len(l.buf) > 0 {
				line := l.buf
				l.buf = nil
				return line, nil
			}
			return nil, io.EOF
		}
		if len(l.buf) > maxLineBytes {
			return nil, errors.New("line too long")
		}
		chunk := make([]byte, 32<<10)
		n, err := l.r.Read(chunk)
		l.buf = append(l.buf, chunk[:n]...)
		if err == io.EOF {
			l.eof = true
		} else if err != nil {
			return nil, err
		}
	}
}
