package api

import (
	"context"
	"sync/atomic"
	"time"
)

// bulkhead admits at most a fixed number of requests at once; the others
// wait, in the order they came, until a slot frees or their context ends.
// While requests wait, a slot rests after each request for as long as the
// request held it before the next one takes it: contended, the slots are
// busy half the time at most.
//
// It keeps callers in a tight loop of one kind of request (eight clients
// paging ListOperations without pause) from taking the cores from the
// other callers: those requests wait parked, costing no CPU, instead of
// all running at once and filling the run queue, and together they get
// at most half of what the slots could serve.
//
// The slots are a buffered channel: a goroutine blocked sending on a full
// channel is queued, and a receive hands the freed slot straight to the
// queue's oldest sender, so no late arrival overtakes one that waits.
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
// waits, else once it has rested as long as it was held. The caller does
// not wait for the rest.
func (b *bulkhead) leave(since time.Time) {
	if b.waiting.Load() == 0 {
		<-b.slots
		return
	}
	time.AfterFunc(time.Since(since), func() { <-b.slots })
}
