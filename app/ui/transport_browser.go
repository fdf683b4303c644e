//go:build js && wasm

package ui

import (
	"context"
	"errors"
	"io"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// newTransport returns the fetch() transport.
func newTransport() transport {
	// The rejection handler is created once per transport and never
	// released: every request of the transport shares it.
	return fetchTransport{ignore: app.FuncOf(func(app.Value, []app.Value) any { return nil })}
}

// fetchTransport calls the browser's fetch() through go-app's JS values:
// same origin, the session cookie sent ("same-origin" credentials), and an
// AbortController tied to ctx so Cancel really stops the request.
type fetchTransport struct {
	// ignore is a promise rejection handler that drops the reason.
	ignore app.Func
}

func (t fetchTransport) do(ctx context.Context, r request) (*response, error) {
	win := app.Window()
	abort := win.Get("AbortController").New()
	headers := map[string]any{"Accept": r.Accept}
	init := map[string]any{
		"method":      r.Method,
		"credentials": "same-origin",
		"cache":       "no-store",
		"redirect":    "follow",
		"signal":      abort.Get("signal"),
	}
	if r.Body != nil {
		headers["Content-Type"] = "application/json"
		init["body"] = string(r.Body)
	}
	init["headers"] = headers

	// One goroutine per request ties ctx to the AbortController; it ends
	// when the body is closed or ctx is done, whichever comes first.
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			abort.Call("abort")
		case <-finished:
		}
	}()

	resp, err := await(win.Call("fetch", r.URL, init))
	if err != nil {
		close(finished)
		return nil, err
	}
	body := resp.Get("body")
	var rc io.ReadCloser = &streamBody{finished: finished}
	if !body.IsNull() && !body.IsUndefined() {
		reader := body.Call("getReader")
		// An abort rejects reader.closed too; nobody else waits on it, and an
		// unhandled rejection would log an error on every Cancel.
		reader.Get("closed").Call("catch", t.ignore)
		rc = &streamBody{reader: reader, finished: finished, ignore: t.ignore}
	}
	return &response{
		Status:      resp.Get("status").Int(),
		ContentType: resp.Get("headers").Call("get", "Content-Type").String(),
		Body:        rc,
	}, nil
}

// streamBody reads a ReadableStream chunk by chunk, so the progress stream
// is seen as it arrives.
type streamBody struct {
	reader   app.Value
	pending  []byte
	done     bool
	finished chan struct{}
	closed   bool
	ignore   app.Func
}

func (b *streamBody) Read(p []byte) (int, error) {
	for len(b.pending) == 0 {
		if b.done || b.reader == nil {
			return 0, io.EOF
		}
		chunk, err := await(b.reader.Call("read"))
		if err != nil {
			return 0, err
		}
		if chunk.Get("done").Bool() {
			b.done = true
			continue
		}
		v := chunk.Get("value")
		buf := make([]byte, v.Get("byteLength").Int())
		app.CopyBytesToGo(buf, v)
		b.pending = buf
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	return n, nil
}

func (b *streamBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.reader != nil && !b.done {
		b.reader.Call("cancel").Call("catch", b.ignore)
	}
	close(b.finished)
	return nil
}

// await waits for a JS promise. The callbacks run on a JS event-loop
// goroutine and only hand the outcome over, so the caller (always inside
// ctx.Async, never the UI goroutine) can block.
func await(p app.Value) (app.Value, error) {
	type outcome struct {
		v   app.Value
		err error
	}
	ch := make(chan outcome, 1)
	onOK := app.FuncOf(func(this app.Value, args []app.Value) any {
		var v app.Value = app.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- outcome{v: v}
		return nil
	})
	onErr := app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := "request failed"
		if len(args) > 0 {
			if m := args[0].Get("message"); m.Type() == app.TypeString {
				msg = m.String()
			} else {
				msg = args[0].Call("toString").String()
			}
		}
		ch <- outcome{err: errors.New(msg)}
		return nil
	})
	p.Call("then", onOK, onErr)
	o := <-ch
	onOK.Release()
	onErr.Release()
	return o.v, o.err
}
