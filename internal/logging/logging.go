// Package logging builds cairn's loggers: text or JSON (log/slog), and a
// handler that adds the request ID carried by a context to every line
// logged with that context, so that every line about one request can be
// found by its ID.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// Formats are the log formats New accepts.
const (
	FormatText = "text"
	FormatJSON = "json"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying a request ID. It costs one small
// allocation (context.WithValue would cost two: the string is boxed).
func WithRequestID(ctx context.Context, id string) context.Context {
	return &requestCtx{Context: ctx, id: id}
}

// requestCtx is a context that carries a request ID.
type requestCtx struct {
	context.Context
	id string
}

func (c *requestCtx) Value(key any) any {
	if _, ok := key.(requestIDKey); ok {
		return c.id
	}
	return c.Context.Value(key)
}

// RequestID returns the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// New returns a logger writing to w in format (FormatText or FormatJSON)
// at level and above. A line logged with a context that carries a request
// ID (WithRequestID) gets a request_id attribute, unless it has one.
func New(w io.Writer, format string, level slog.Leveler) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch format {
	case FormatText, "":
		h = slog.NewTextHandler(w, opts)
	case FormatJSON:
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("logging: the log format %q is neither text nor json", format)
	}
	return slog.New(requestIDHandler{h}), nil
}

// requestIDHandler adds the context's request ID to each record.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		has := false
		r.Attrs(func(a slog.Attr) bool {
			has = a.Key == "request_id"
			return !has
		})
		if !has {
			r = r.Clone()
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// FormatOf returns the format of a logger made by New (FormatText or
// FormatJSON), or "" for another logger.
func FormatOf(l *slog.Logger) string {
	h, ok := l.Handler().(requestIDHandler)
	if !ok {
		return ""
	}
	switch h.Handler.(type) {
	case *slog.JSONHandler:
		return FormatJSON
	case *slog.TextHandler:
		return FormatText
	}
	return ""
}
