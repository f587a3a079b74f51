package loadgen

import (
	"context"
	"testing"
)

// BenchmarkConnTrivial: one client's full request (sign, send, read the
// answer) against the trivial in-process server: the tool's cost per
// request plus a minimal server's.
func BenchmarkConnTrivial(b *testing.B) {
	t, err := StartTrivial("")
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	e, _ := NewEndpoint(t.Endpoint(), "us-east-1", testCreds, 1)
	c := e.NewConn()
	body := []byte(`{"NamespaceName":"bench-ns-000","ServiceName":"svc-000","QueryParameters":{"stage":"canary"},"MaxResults":10}`)
	hash := PayloadHash(body)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Do(context.Background(), TargetPrefix+"DiscoverInstances", body, hash); err != nil {
			b.Fatal(err)
		}
	}
}
