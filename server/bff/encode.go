package bff

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/timconsole/timconsole/server/api"
)

// encode writes v as a JSON answer with the given status.
func encode[T any](w http.ResponseWriter, status int, v T) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}

// decode reads a JSON request body into a T. It insists on a JSON content
// type (a cheap second line of defence behind CrossOriginProtection: a
// text/plain form post from another site never gets this far) and turns
// syntax and type errors into field problems the operator can read.
func decode[T any](r *http.Request) (T, error) {
	var v T
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return v, problemsError{{Field: "body", Message: "send the request as JSON (Content-Type: application/json)"}}
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&v); err != nil {
		return v, decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, problemsError{{Field: "body", Message: "the body holds more than one JSON value"}}
	}
	return v, nil
}

// decodeProblem turns a JSON decoding error into a validation problem, or
// passes through the errors writeError knows (body too large).
func decodeProblem(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return problemsError{{Field: "body", Message: "the body is empty; send a JSON object"}}
	case errors.As(err, &se):
		return problemsError{{Field: "body", Message: fmt.Sprintf("invalid JSON at byte %d", se.Offset)}}
	case errors.As(err, &te):
		// A request embedded in a handler's input (queryInput) prefixes the
		// path with its Go type name; the JSON names are all lower case.
		field := te.Field
		for {
			head, rest, ok := strings.Cut(field, ".")
			if !ok || head == "" || head[0] < 'A' || head[0] > 'Z' {
				break
			}
			field = rest
		}
		if field == "" {
			field = "body"
		}
		return problemsError{{Field: field, Message: fmt.Sprintf("expected %s, got a JSON %s", te.Type, te.Value)}}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problemsError{{Field: "body", Message: "the JSON body ends too early"}}
	default:
		// A field's own UnmarshalJSON (api.SeqSpec) says what is wrong in
		// operator words.
		return problemsError{{Field: "body", Message: err.Error()}}
	}
}

// validate collects every problem of a request, in field order.
type validate []api.Problem

func (v *validate) add(p *api.Problem) {
	if p != nil {
		*v = append(*v, *p)
	}
}

func (v *validate) addf(field, format string, args ...any) {
	*v = append(*v, api.Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// number parses a query parameter that must be a whole number from 0 to
// max ("" is 0), adding problem for field when it is not.
func (v *validate) number(field, s string, max uint64, problem string) uint64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		v.addf(field, "%s", problem)
		return 0
	}
	return n
}

func (v validate) err() error {
	if len(v) == 0 {
		return nil
	}
	return problemsError(v)
}
