package api

import (
	"context"
	"testing"
	"time"
)

// HoldListOperations takes every slot of h's ListOperations gate, as
// requests being served would, and returns what gives them back.
func HoldListOperations(h *Handler) (release func()) {
	g := h.ops["ListOperations"].gate
	var held []func()
	for range cap(g.slots) {
		since, _ := g.enter(context.Background())
		held = append(held, func() { g.leave(since) })
	}
	return func() {
		for _, f := range held {
			f()
		}
	}
}

// WaitFor polls cond until it holds, or fails the test after a minute (a
// loaded machine is slow, never wrong).
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
