package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// newGatedServer serves the API with ListOperations served one at a time,
// over a registry that keeps ops operations, and returns the handler and
// an SDK client of it.
func newGatedServer(t *testing.T, ops int) (*api.Handler, *sd.Client) {
	t.Helper()
	opts := bolt.DefaultOptions()
	opts.NoSync = true
	st, err := bolt.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(context.Background(), st, registry.Config{})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	h := api.New(api.Config{Registry: reg, DefaultRegion: testRegion, AccountID: testAccount, ListOperationsConcurrency: 1})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		reg.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	ctx, c := t.Context(), registry.Caller{Account: testAccount, Region: testRegion}
	ns, err := reg.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := reg.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: ns.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := reg.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: "cart", NamespaceId: op.Operation.Targets[cloudmap.OperationTargetTypeNamespace]})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops - 1 {
		if _, err := reg.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: fmt.Sprintf("i-%d", i),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := cairntest.AWSConfig(srv.URL, testRegion)
	cfg.RetryMaxAttempts = 1 // a cancelled call is not sent again
	return h, sd.NewFromConfig(cfg)
}

// pageAll lists every operation, page after page of 7.
func pageAll(ctx context.Context, client *sd.Client) ([]string, error) {
	var ids []string
	var token *string
	for {
		out, err := client.ListOperations(ctx, &sd.ListOperationsInput{MaxResults: aws.Int32(7), NextToken: token})
		if err != nil {
			return ids, err
		}
		for _, o := range out.Operations {
			ids = append(ids, aws.ToString(o.Id))
		}
		if token = out.NextToken; token == nil {
			return ids, nil
		}
	}
}

// With ListOperations served one at a time (--list-operations-concurrency
// 1), SDK clients paging at once over real connections wait for their
// turn while the slot is taken, get no error for it, and each pages
// through every operation, in order, once their turns come.
func TestListOperationsConcurrency_ClientsBeyondTheLimitWaitAndComplete(t *testing.T) {
	const ops, pagers = 60, 6
	h, client := newGatedServer(t, ops)
	ctx := t.Context()
	want, err := pageAll(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != ops {
		t.Fatalf("listed %d operations; the account keeps %d", len(want), ops)
	}

	release := api.HoldListOperations(h)
	type result struct {
		ids []string
		err error
	}
	results := make(chan result, pagers)
	for range pagers {
		go func() {
			ids, err := pageAll(ctx, client)
			results <- result{ids, err}
		}()
	}
	api.WaitFor(t, "every pager to wait", func() bool { return h.Waiting("ListOperations") == pagers })
	select {
	case r := <-results:
		t.Fatalf("a pager finished while the only slot was taken: %d operations, %v", len(r.ids), r.err)
	default:
	}
	release()
	for range pagers {
		r := <-results
		if r.err != nil {
			t.Fatalf("a pager failed: %v", r.err)
		}
		if !slices.Equal(r.ids, want) {
			t.Fatalf("a pager listed %d operations, not the %d of the listing alone, in its order", len(r.ids), len(want))
		}
	}
	if w := h.Waiting("ListOperations"); w != 0 {
		t.Fatalf("%d requests still wait", w)
	}
}

// A client that gives up while its request waits for a slot leaves the
// queue (its connection closes, the request's context ends); the next
// request is served once the slot frees.
func TestListOperationsConcurrency_ClientGivesUpWhileWaiting(t *testing.T) {
	h, client := newGatedServer(t, 3)
	release := api.HoldListOperations(h)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := client.ListOperations(ctx, &sd.ListOperationsInput{})
		done <- err
	}()
	api.WaitFor(t, "the request to wait", func() bool { return h.Waiting("ListOperations") == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("ListOperations = %v; want the client's context.Canceled", err)
	}
	api.WaitFor(t, "the server to drop the request", func() bool { return h.Waiting("ListOperations") == 0 })
	release()
	out, err := client.ListOperations(t.Context(), &sd.ListOperationsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Operations) != 3 {
		t.Fatalf("listed %d operations; want 3", len(out.Operations))
	}
}
