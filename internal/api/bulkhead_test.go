package api

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// Requests beyond the slots wait, and take a freed slot in the order they
// came, resting or not.
func TestBulkhead_WaitersEnterInArrivalOrder(t *testing.T) {
	b := newBulkhead(1)
	held, err := b.enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			since, err := b.enter(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			b.leave(since)
		}()
		// The next one comes once this one waits.
		WaitFor(t, "the waiter", func() bool { return b.waiting.Load() == int64(i+1) })
	}
	mu.Lock()
	if len(order) != 0 {
		t.Fatalf("%d requests entered a held slot", len(order))
	}
	mu.Unlock()
	b.leave(held)
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("entered in the order %v; want the order of arrival", order)
		}
	}
	// Rested or not, every slot comes back.
	WaitFor(t, "the slot back", func() bool { return len(b.slots) == 0 })
}

// A request whose context ends while it waits leaves the queue with the
// context's error and no slot; the others are not disturbed.
func TestBulkhead_ContextEndsWhileWaiting(t *testing.T) {
	b := newBulkhead(1)
	held, err := b.enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.enter(ctx)
		done <- err
	}()
	WaitFor(t, "the waiter", func() bool { return b.waiting.Load() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("enter = %v; want context.Canceled", err)
	}
	if w := b.waiting.Load(); w != 0 {
		t.Fatalf("%d still waiting", w)
	}
	b.leave(held)
	if len(b.slots) != 0 {
		t.Fatalf("%d slots taken; want none", len(b.slots))
	}
	if _, err := b.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
}
