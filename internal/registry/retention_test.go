package registry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestRegistry(t testing.TB, cfg Config) *Registry {
	t.Helper()
	st, err := bolt.Open(t.TempDir(), bolt.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); _ = st.Close() })
	return r
}

func TestRegistry_ExpireOperations_DropsOldOperationsAndTheirTokens(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newTestRegistry(t, Config{OperationRetention: time.Hour, Now: clock.Now})
	ctx := context.Background()
	c := Caller{Account: "000000000000", Region: "us-east-1"}

	first, err := r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "a", CreatorRequestId: "tok-a"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(50 * time.Minute)
	second, err := r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(20 * time.Minute) // the first is 70 minutes old, the second 20
	r.expireOperations()

	if _, err := r.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: first.OperationId}); err == nil {
		t.Errorf("operation %s is older than the retention and still there", first.OperationId)
	} else if e, ok := AsError(err); !ok || e.Kind != KindNotFound {
		t.Errorf("GetOperation of an expired operation: %v, want NotFound", err)
	}
	if _, err := r.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: second.OperationId}); err != nil {
		t.Errorf("operation %s is within the retention: %v", second.OperationId, err)
	}
	// The token went with its operation: reusing it starts a new
	// operation, which fails on the name that the first one took.
	_, err = r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "a", CreatorRequestId: "tok-a"})
	if e, ok := AsError(err); !ok || e.Kind != KindAlreadyExists {
		t.Errorf("reusing an expired token for the same name: %v, want AlreadyExists", err)
	}
}
