package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		gogc string
		want bool
	}{{"", true}, {"100", false}, {"off", false}} {
		before := debug.SetGCPercent(-1)
		debug.SetGCPercent(before)
		prev, set := tuneGC(func(k string) string {
			if k == "GOGC" {
				return tc.gogc
			}
			return ""
		}, log)
		now := debug.SetGCPercent(before) // read it, and put the test's own back
		if set != tc.want {
			t.Errorf("GOGC=%q: set %v, want %v", tc.gogc, set, tc.want)
		}
		if tc.want && (now != serveGCPercent || prev != before) {
			t.Errorf("GOGC unset: target %d (was %d), want %d (was %d)", now, prev, serveGCPercent, before)
		}
		if !tc.want && now != before {
			t.Errorf("GOGC=%q: target changed to %d from %d", tc.gogc, now, before)
		}
	}
}
