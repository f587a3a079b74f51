package registry

import (
	"context"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// newBoltRegistry is a registry over a bolt store in a temporary folder.
func newBoltRegistry(t *testing.T) *Registry {
	t.Helper()
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(context.Background(), st, Config{Limits: DefaultLimits()})
	if err != nil {
		_ = st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		_ = st.Close()
	})
	return r
}

var nsCaller = Caller{Account: "123456789012", Region: "us-east-1"}

// createPrivate creates a private DNS namespace and returns its operation.
func createPrivate(t *testing.T, r *Registry, name, vpc string) *cloudmap.Operation {
	t.Helper()
	ctx := context.Background()
	out, err := r.CreatePrivateDnsNamespace(ctx, nsCaller, &cloudmap.CreatePrivateDnsNamespaceRequest{Name: name, Vpc: vpc})
	if err != nil {
		t.Fatalf("CreatePrivateDnsNamespace(%s): %v", name, err)
	}
	op, err := r.GetOperation(ctx, nsCaller, &cloudmap.GetOperationRequest{OperationId: out.OperationId})
	if err != nil {
		t.Fatalf("GetOperation: %v", err)
	}
	return op.Operation
}

// A private namespace conflicts with one of the same name in the same VPC,
// and with no other: not with a name that merely begins with it and "/"
// (the model's pattern allows "/" in private names).
func TestPrivateNamespaceConflicts(t *testing.T) {
	r := newBoltRegistry(t)
	for _, tc := range []struct {
		name, vpc, status string
	}{
		{"example.com/x", "vpc-1", cloudmap.OperationStatusSuccess},
		{"example.com", "vpc-1", cloudmap.OperationStatusSuccess},
		{"Example.COM", "vpc-1", cloudmap.OperationStatusFail}, // DNS names ignore case
		{"example.com", "vpc-2", cloudmap.OperationStatusSuccess},
		{"example.com/y", "vpc-2", cloudmap.OperationStatusSuccess},
		{"sub.example.com", "vpc-1", cloudmap.OperationStatusSuccess},
	} {
		op := createPrivate(t, r, tc.name, tc.vpc)
		if op.Status != tc.status {
			t.Errorf("%s in %s: %s %s %s, want %s", tc.name, tc.vpc, op.Status, op.ErrorCode, op.ErrorMessage, tc.status)
		}
		if op.Status == cloudmap.OperationStatusFail && op.ErrorCode != "CANNOT_CREATE_HOSTED_ZONE" {
			t.Errorf("%s: error code %s", tc.name, op.ErrorCode)
		}
	}
}

// GetOperation validates its input like every other operation.
func TestGetOperationValidates(t *testing.T) {
	r := newBoltRegistry(t)
	ctx := context.Background()
	for _, in := range []*cloudmap.GetOperationRequest{
		{},
		{OperationId: "gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd", OwnerAccount: "1234"},
	} {
		_, err := r.GetOperation(ctx, nsCaller, in)
		if e, ok := AsError(err); !ok || e.Kind != KindInvalid {
			t.Errorf("GetOperation(%+v) = %v, want InvalidInput", in, err)
		}
	}
	_, err := r.GetOperation(ctx, nsCaller, &cloudmap.GetOperationRequest{OperationId: "gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd"})
	if e, ok := AsError(err); !ok || e.Kind != KindNotFound || e.Resource != ResOperation {
		t.Errorf("unknown operation: %v, want OperationNotFound", err)
	}
}
