package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/logging"
)

func TestRequestIDOnEveryLine(t *testing.T) {
	tests := []struct {
		format string
		want   string
	}{
		{logging.FormatText, "request_id=req-1"},
		{logging.FormatJSON, `"request_id":"req-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := logging.New(&buf, tt.format, slog.LevelInfo)
			if err != nil {
				t.Fatal(err)
			}
			ctx := logging.WithRequestID(context.Background(), "req-1")
			log.InfoContext(ctx, "one")
			log.With("component", "x").WarnContext(ctx, "two")
			log.InfoContext(ctx, "three", "request_id", "req-1") // not twice
			log.Info("four")                                     // no request: no ID
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 4 {
				t.Fatalf("%d lines: %q", len(lines), buf.String())
			}
			for _, l := range lines[:3] {
				if strings.Count(l, tt.want) != 1 {
					t.Errorf("line %q does not carry %s once", l, tt.want)
				}
			}
			if strings.Contains(lines[3], "request_id") {
				t.Errorf("line %q carries a request ID", lines[3])
			}
			if tt.format == logging.FormatJSON {
				var m map[string]any
				if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
					t.Errorf("line %q is not JSON: %v", lines[0], err)
				}
			}
		})
	}
	if _, err := logging.New(&bytes.Buffer{}, "xml", slog.LevelInfo); err == nil {
		t.Error("New accepted the format xml")
	}
}

func ExampleNew() {
	log, _ := logging.New(os.Stdout, logging.FormatJSON, slog.LevelInfo)
	log = slog.New(stripTime{log.Handler()})
	log.InfoContext(logging.WithRequestID(context.Background(), "5f0c…"), "request", "operation", "ListNamespaces")
	// Output: {"level":"INFO","msg":"request","operation":"ListNamespaces","request_id":"5f0c…"}
}

// stripTime drops the time (a record without one is written without
// it) so that the example's output is stable.
type stripTime struct{ slog.Handler }

func (s stripTime) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Time{}
	return s.Handler.Handle(ctx, r)
}
