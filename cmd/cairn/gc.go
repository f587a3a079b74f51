package main

import (
	"log/slog"
	"runtime/debug"
)

// serveGCPercent is the garbage collector's target (GOGC) of cairn serve
// when the environment sets none. Go's default, 100, collects each time
// the heap doubles; a registry's live heap is small and steady (the view)
// while every request allocates a little, so at 100 the collector ran
// for 6% of the read path's CPU and 11–14% of the write path's. At 400
// it runs a quarter as often, for a heap that may grow to five times the
// live one between collections; GOGC and GOMEMLIMIT, when set, are the
// runtime's as always (GOMEMLIMIT caps the heap whatever the target).
const serveGCPercent = 400

// tuneGC sets serveGCPercent unless GOGC is set. It returns the target
// it replaced and whether it set one.
func tuneGC(getenv func(string) string, log *slog.Logger) (prev int, set bool) {
	if v := getenv("GOGC"); v != "" {
		log.Debug("garbage collector target from GOGC", "GOGC", v)
		return 0, false
	}
	prev = debug.SetGCPercent(serveGCPercent)
	log.Debug("garbage collector target", "percent", serveGCPercent)
	return prev, true
}
