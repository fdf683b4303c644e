//go:build !(js && wasm)

package ui

import (
	"bytes"
	"context"
	"net/http"
	"time"
)

// newTransport returns the net/http transport used on the host: in tests,
// and (never, in practice) during server prerendering, which does no API
// calls. It is never linked into the wasm.
func newTransport() transport {
	return httpTransport{c: &http.Client{Timeout: 30 * time.Second}}
}

type httpTransport struct{ c *http.Client }

func (t httpTransport) do(ctx context.Context, r request) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", r.Accept)
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.c.Do(req)
	if err != nil {
		return nil, err
	}
	return &response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: resp.Body}, nil
}
