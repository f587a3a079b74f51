package loadgen

import (
	"context"
	"testing"
)

// BenchmarkSign: what signing one DiscoverInstances request costs the
// tool (the signing key cached, the payload hash precomputed).
//
//	go test -run '^$' -bench Sign -benchmem ./tools/loadgen/
func BenchmarkSign(b *testing.B) {
	s := NewSigner(testCreds, "us-east-1", "127.0.0.1:9080")
	hash := PayloadHash([]byte(`{"NamespaceName":"bench-ns-000","ServiceName":"svc-000","QueryParameters":{"stage":"canary"},"MaxResults":10}`))
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(TargetPrefix+"DiscoverInstances", hash)
	}
}

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
