package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/cairn-dev/cairn/internal/registry"
)

// readBody reads a request's body, at most MaxBodyBytes. A body of known
// length is read into a buffer of that length, in one allocation.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	if req.ContentLength < 0 || req.ContentLength > MaxBodyBytes {
		return io.ReadAll(http.MaxBytesReader(w, req.Body, MaxBodyBytes))
	}
	body := make([]byte, req.ContentLength)
	if _, err := io.ReadFull(req.Body, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// readLimitedBody reads a request's body, refusing one over MaxBodyBytes
// with AWS's error.
func readLimitedBody(w http.ResponseWriter, req *http.Request) ([]byte, *wireError) {
	tooLarge := func() *wireError {
		return &wireError{status: http.StatusRequestEntityTooLarge, Type: "SerializationException",
			Message: fmt.Sprintf("The request body is larger than the limit of %d bytes", MaxBodyBytes)}
	}
	if req.ContentLength > MaxBodyBytes {
		return nil, tooLarge()
	}
	body, err := readBody(w, req)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, tooLarge()
		}
		return nil, serialization("The request body could not be read: " + err.Error())
	}
	return body, nil
}

// buffers holds the buffers answers are encoded in, put back once
// written.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled is the largest buffer put back: a rare large answer (a
// ListInstances of a large service) is left to the collector.
const maxPooled = 64 << 10

func getBuffer() []byte { return (*buffers.Get().(*[]byte))[:0] }

func putBuffer(b []byte) {
	if cap(b) <= maxPooled {
		b = b[:0]
		buffers.Put(&b)
	}
}

// operation runs one API operation on a request body.
type operation func(ctx context.Context, c registry.Caller, body []byte) ([]byte, *wireError)

// handle adapts a registry method to an operation: decode, call, encode.
func handle[In any, Out any](fn func(context.Context, registry.Caller, *In) (*Out, error)) operation {
	return func(ctx context.Context, c registry.Caller, body []byte) ([]byte, *wireError) {
		in := new(In)
		if fast, ok := any(in).(interface{ DecodeFast([]byte) bool }); !ok || !fast.DecodeFast(body) {
			if werr := decodeBody(body, in); werr != nil {
				return nil, werr
			}
		}
		if p := principalFrom(ctx); p != nil {
			if werr := p.authorize(c, in); werr != nil {
				return nil, werr
			}
		}
		out, err := fn(ctx, c, in)
		if err != nil {
			return nil, toWire(err)
		}
		if fast, ok := any(out).(interface{ AppendJSON([]byte) []byte }); ok {
			b := fast.AppendJSON(getBuffer())
			if r, ok := any(out).(interface{ Release() }); ok {
				r.Release() // encoded: nothing refers to it any more
			}
			return b, nil
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, &wireError{status: statusInternal, Type: "InternalFailure", Message: "encode response: " + err.Error()}
		}
		return b, nil
	}
}

// decodeBody decodes a JSON object into in; an empty body is an empty
// object. Unknown members are ignored, as AWS ignores them.
func decodeBody(body []byte, in any) *wireError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				return serialization(fmt.Sprintf("The request body must be a JSON object, not a JSON %s", typeErr.Value))
			}
			return serialization(fmt.Sprintf("The value of %s must be %s, not a JSON %s", field, describe(typeErr.Type.String()), typeErr.Value))
		case errors.As(err, &syntaxErr):
			return serialization(fmt.Sprintf("The request body is not valid JSON: %v (at byte %d)", syntaxErr, syntaxErr.Offset))
		default:
			return serialization("The request body could not be decoded: " + err.Error())
		}
	}
	return nil
}

// describe names a Go type the way a client author thinks of it.
func describe(goType string) string {
	switch {
	case goType == "string" || goType == "*string":
		return "a string"
	case strings.Contains(goType, "int"):
		return "an integer"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "an object of strings"
	case strings.Contains(goType, "Time"):
		return "a timestamp in epoch seconds"
	}
	return "an object"
}
