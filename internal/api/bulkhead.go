package api

import (
	"context"
	"sync/atomic"
	"time"
)

// bulkhead admits at most a fixed number of requests at once; the others
// wait, in the order they came, until a slot frees or their context ends.
// While requests wait, a slot rests after each request for restFactor
// times as long as the request held it before the next one takes it:
// contended, the slots are busy a third of the time at most.
//
// It keeps callers in a tight loop of one kind of request (eight clients
// paging ListOperations without pause) from taking the cores from the
// other callers: those requests wait parked, costing no CPU, instead of
// all running at once and filling the run queue, and together they get
// at most a third of what the slots could serve. Measured on 2 cores
// (BENCHMARKS.md, "Operations at scale"): resting as long as the page
// took left four other callers' p50 ×1.3–2.0 of what it was alone, twice
// as long ×1.2–1.4, the pagers still fetching 2,300 pages a second.
//
// The slots are a buffered channel: a goroutine blocked sending on a full
// channel is queued, and a receive hands the freed slot straight to the
// queue's oldest sender, so no late arrival overtakes one that waits.
// restFactor is how many times as long as its request a contended slot
// rests.
const restFactor = 2

type bulkhead struct {
	slots   chan struct{}
	waiting atomic.Int64 // requests waiting for a slot now
}

func newBulkhead(n int) *bulkhead { return &bulkhead{slots: make(chan struct{}, n)} }

// enter takes a slot, waiting for one in arrival order, and returns when
// it took it, for leave; it returns ctx.Err() if ctx ends first (the
// client went away), without a slot.
func (b *bulkhead) enter(ctx context.Context) (time.Time, error) {
	select {
	case b.slots <- struct{}{}:
		return time.Now(), nil
	default:
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	select {
	case b.slots <- struct{}{}:
		return time.Now(), nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// leave gives back the slot enter took at since: at once if no request
// waits, else once it has rested restFactor times as long as it was held.
// The caller does not wait for the rest.
func (b *bulkhead) leave(since time.Time) {
	if b.waiting.Load() == 0 {
		<-b.slots
		return
	}
	time.AfterFunc(restFactor*time.Since(since), func() { <-b.slots })
}

// Waiting is how many requests of the operation named op wait for their
// turn now (0 for an operation served without a limit).
func (h *Handler) Waiting(op string) int {
	if e := h.ops[op]; e != nil && e.gate != nil {
		return int(e.gate.waiting.Load())
	}
	return 0
}
