package ui

import (
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/timconsole/timconsole/server/api"
)

// Decoding of the result stream's lines. encoding/json is reflection
// driven, and reflection is slow in wasm: a 10,000-seq result took about
// 65 ms to decode in Chromium, more than drawing it. decodeEvent reads the
// hot shape by hand (the event envelope, the result's top level and each
// receipt) and leaves the small, rare parts (the summary, the upstream
// counters, an error) to encoding/json. Any value it does not expect (a
// float where a count belongs, a key it does not know the type of...) sends
// the whole line to encoding/json, so the result is always what
// json.Unmarshal would give.

// errShape means the hand decoder met something it leaves to encoding/json.
var errShape = errors.New("unexpected JSON shape")

// decodeEvent decodes one line of the progress stream.
func decodeEvent(line []byte) (api.Event, error) {
	var ev api.Event
	d := jsonScan{b: line}
	if err := d.event(&ev); err == nil && d.end() {
		return ev, nil
	}
	ev = api.Event{}
	err := json.Unmarshal(line, &ev)
	return ev, err
}

// decodeResult decodes a plain JSON answer of POST /api/receipts, as
// decodeEvent does a stream's line.
func decodeResult(b []byte) (*api.ReceiptsResponse, error) {
	var r api.ReceiptsResponse
	d := jsonScan{b: b}
	if err := d.result(&r); err == nil && d.end() {
		return &r, nil
	}
	r = api.ReceiptsResponse{}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// jsonScan is a cursor over one JSON document.
type jsonScan struct {
	b []byte
	i int
}

func (d *jsonScan) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (d *jsonScan) end() bool {
	d.ws()
	return d.i == len(d.b)
}

// peek returns the next non-space byte, or 0 at the end.
func (d *jsonScan) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *jsonScan) expect(c byte) error {
	if d.peek() != c {
		return errShape
	}
	d.i++
	return nil
}

// object calls field for each key of an object; field reads the value.
func (d *jsonScan) object(field func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return errShape
		}
	}
}

// str reads a string without escapes (keys, IDs, the codes' texts); one
// with escapes or invalid UTF-8 goes through encoding/json.
func (d *jsonScan) str() (string, error) {
	if err := d.expect('"'); err != nil {
		return "", err
	}
	start := d.i
	ascii := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.b[start:d.i]) {
				return d.escaped(start - 1) // encoding/json replaces bad bytes
			}
			s := string(d.b[start:d.i])
			d.i++
			return s, nil
		case c >= 0x80:
			ascii = false
		case c == '\\':
			return d.escaped(start - 1)
		case c < 0x20:
			return "", errShape
		}
		d.i++
	}
	return "", errShape
}

// escaped reads the string that starts at the quote at start.
func (d *jsonScan) escaped(start int) (string, error) {
	d.i = start + 1
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case '\\':
			d.i += 2
			continue
		case '"':
			d.i++
			var s string
			if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
				return "", err
			}
			return s, nil
		}
		d.i++
	}
	return "", errShape
}

// int reads an integer; a fraction or an exponent is left to encoding/json.
func (d *jsonScan) int() (int, error) {
	d.ws()
	neg := false
	if d.i < len(d.b) && d.b[d.i] == '-' {
		neg = true
		d.i++
	}
	start := d.i
	n := 0
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		if d.i-start >= 15 {
			return 0, errShape // beyond what the UI's counts can be
		}
		n = n*10 + int(d.b[d.i]-'0')
		d.i++
	}
	if d.i == start || (d.b[start] == '0' && d.i-start > 1) {
		return 0, errShape
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			return 0, errShape
		}
	}
	if neg {
		n = -n
	}
	return n, nil
}

// bool reads true or false.
func (d *jsonScan) bool() (bool, error) {
	d.ws()
	switch {
	case hasPrefixAt(d.b, d.i, "true"):
		d.i += 4
		return true, nil
	case hasPrefixAt(d.b, d.i, "false"):
		d.i += 5
		return false, nil
	}
	return false, errShape
}

// null reports (and consumes) a null.
func (d *jsonScan) null() bool {
	d.ws()
	if hasPrefixAt(d.b, d.i, "null") {
		d.i += 4
		return true
	}
	return false
}

func hasPrefixAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// raw returns the bytes of the next value, which must be an object (the
// small parts left to encoding/json), or nil for null.
func (d *jsonScan) raw() ([]byte, error) {
	if d.null() {
		return nil, nil
	}
	if d.peek() != '{' {
		return nil, errShape
	}
	start, depth := d.i, 0
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				d.i++
				return d.b[start:d.i], nil
			}
		case '"':
			d.i++
			for d.i < len(d.b) && d.b[d.i] != '"' {
				if d.b[d.i] == '\\' {
					d.i++
				}
				d.i++
			}
		}
		d.i++
	}
	return nil, errShape
}

// into decodes the next object (or null) with encoding/json.
func (d *jsonScan) into(v any) error {
	b, err := d.raw()
	if err != nil || b == nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// event reads an api.Event.
func (d *jsonScan) event(ev *api.Event) error {
	return d.object(func(key string) (err error) {
		switch key {
		case "type":
			ev.Type, err = d.str()
		case "done":
			ev.Done, err = d.int()
		case "total":
			ev.Total, err = d.int()
		case "result":
			if d.null() {
				return nil
			}
			ev.Result = &api.ReceiptsResponse{}
			err = d.result(ev.Result)
		case "error":
			if d.null() {
				return nil
			}
			ev.Error = &api.Error{}
			err = d.into(ev.Error)
		default:
			err = errShape
		}
		return err
	})
}

// result reads an api.ReceiptsResponse.
func (d *jsonScan) result(r *api.ReceiptsResponse) error {
	return d.object(func(key string) (err error) {
		switch key {
		case "app":
			r.App, err = d.str()
		case "groupId":
			r.GroupID, err = d.str()
		case "results":
			r.Results, err = d.receipts()
		case "summary":
			err = d.into(&r.Summary)
		case "upstream":
			err = d.into(&r.Upstream)
		case "partial":
			r.Partial, err = d.bool()
		default:
			err = errShape
		}
		return err
	})
}

// receipts reads the results array.
func (d *jsonScan) receipts() ([]api.Receipt, error) {
	if d.null() {
		return nil, nil
	}
	if err := d.expect('['); err != nil {
		return nil, err
	}
	// About 40 bytes a receipt: one allocation for the usual result.
	out := make([]api.Receipt, 0, (len(d.b)-d.i)/40)
	if d.peek() == ']' {
		d.i++
		return out, nil
	}
	for range len(d.b) { // every element takes at least one byte
		var r api.Receipt
		if err := d.receipt(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return out, nil
		default:
			return nil, errShape
		}
	}
	return nil, errShape
}

// receipt reads one api.Receipt.
func (d *jsonScan) receipt(r *api.Receipt) error {
	return d.object(func(key string) (err error) {
		switch key {
		case "seq":
			var n int
			n, err = d.int()
			if err == nil && (n < 0 || n > 1<<32-1) {
				err = errShape
			}
			r.Seq = uint32(n)
		case "read":
			r.Read, err = d.int()
		case "unread":
			r.Unread, err = d.int()
		case "code":
			r.Code, err = d.int()
		case "codeText":
			r.CodeText, err = d.str()
		default:
			err = errShape
		}
		return err
	})
}
