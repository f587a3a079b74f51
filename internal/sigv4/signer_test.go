package sigv4

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// accessKey is the signing half of an identity.
func accessKey(id Identity) AccessKey {
	return AccessKey{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey, SessionToken: id.SessionToken}
}

// The signature equals the AWS SDK for Go v2 signer's for the same
// request, with and without a session token, across a day boundary.
func TestSignerMatchesSDK(t *testing.T) {
	hash := payloadHash(discoverBody)
	target := "Route53AutoNaming_v20170314.DiscoverInstances"
	for _, id := range []Identity{idA, idB} {
		for _, at := range []time.Time{
			time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC),
			time.Date(2026, 3, 14, 23, 59, 59, 0, time.UTC),
			time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), // a new day: a new key
		} {
			s := NewSigner(accessKey(id), "servicediscovery", "eu-west-1", "127.0.0.1:9080")
			s.Now = func() time.Time { return at }
			date, auth := s.Sign(target, hash)

			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9080/", nil)
			req.Header.Set("Content-Type", JSONContentType)
			req.Header.Set("X-Amz-Target", target)
			err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id.AccessKeyID,
				SecretAccessKey: id.SecretAccessKey, SessionToken: id.SessionToken}, req, hash, "servicediscovery", "eu-west-1", at)
			if err != nil {
				t.Fatal(err)
			}
			if want := req.Header.Get("Authorization"); auth != want {
				t.Errorf("%s at %v:\n got %s\nwant %s", id.AccessKeyID, at, auth, want)
			}
			if want := req.Header.Get("X-Amz-Date"); date != want {
				t.Errorf("date %s, want %s", date, want)
			}
			if s.SessionToken() != id.SessionToken {
				t.Errorf("SessionToken() = %q", s.SessionToken())
			}
		}
	}
}

// What a Signer signs, the Verifier accepts, request after request from
// the same Signer (its buffers reused); a wrong secret, another region's
// signer or a changed body is refused.
func TestSignerVerified(t *testing.T) {
	v := newVerifier()
	send := func(s *Signer, target, body string) (*http.Request, error) {
		req := clientRequest(t, "cairn.example:9080", target, body)
		date, auth := s.Sign(req.Header.Get("X-Amz-Target"), payloadHash(body))
		req.Header.Set("X-Amz-Date", date)
		req.Header.Set("Authorization", auth)
		if tok := s.SessionToken(); tok != "" {
			req.Header.Set("X-Amz-Security-Token", tok)
		}
		_, _, err := v.Verify(req, []byte(body))
		return req, err
	}
	for _, id := range []Identity{idA, idB} {
		s := NewSigner(accessKey(id), "servicediscovery", "ap-south-1", "cairn.example:9080")
		s.Now = func() time.Time { return testNow }
		for i := range 3 {
			body := fmt.Sprintf(`{"NamespaceName":"ns","ServiceName":"svc-%d"}`, i)
			req, err := send(s, "DiscoverInstances", body)
			if err != nil {
				t.Fatalf("%s request %d: %v", id.Profile, i, err)
			}
			got, region, _ := v.Verify(req, []byte(body))
			if got.AccountID != id.AccountID || region != "ap-south-1" {
				t.Errorf("%s: verified as %s in %s", id.Profile, got.AccountID, region)
			}
		}
	}
	wrong := accessKey(idA)
	wrong.SecretAccessKey = "wrong"
	s := NewSigner(wrong, "servicediscovery", "us-east-1", "cairn.example:9080")
	s.Now = func() time.Time { return testNow }
	if _, err := send(s, "ListNamespaces", `{}`); code(err) != CodeInvalidSignature {
		t.Errorf("wrong secret: %v", err)
	}
	s = NewSigner(accessKey(idA), "servicediscovery", "us-east-1", "cairn.example:9080")
	s.Now = func() time.Time { return testNow }
	req := clientRequest(t, "cairn.example:9080", "ListNamespaces", `{}`)
	date, auth := s.Sign(req.Header.Get("X-Amz-Target"), payloadHash(`{}`))
	req.Header.Set("X-Amz-Date", date)
	req.Header.Set("Authorization", auth)
	if _, _, err := v.Verify(req, []byte(`{"MaxResults":1}`)); code(err) != CodeInvalidSignature {
		t.Errorf("changed body: %v", err)
	}
}

func code(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return fmt.Sprint(err)
}

// A Signer signs each request of a client with one allocation, the
// Authorization string.
func TestSignerAllocs(t *testing.T) {
	s := NewSigner(accessKey(idB), "servicediscovery", "us-east-1", "127.0.0.1:9080")
	hash := payloadHash(discoverBody)
	s.Sign("Route53AutoNaming_v20170314.DiscoverInstances", hash)
	n := testing.AllocsPerRun(100, func() { s.Sign("Route53AutoNaming_v20170314.DiscoverInstances", hash) })
	if n > 1.5 { // a second's first request formats the date: at most once per run
		t.Errorf("%.1f allocations per signature, want 1", n)
	}
}

// BenchmarkSign: what signing one DiscoverInstances request costs a
// client (the signing key cached, the payload hash precomputed).
//
//	go test -run '^$' -bench '^BenchmarkSign$' -benchmem ./internal/sigv4/
func BenchmarkSign(b *testing.B) {
	s := NewSigner(accessKey(idA), "servicediscovery", "us-east-1", "127.0.0.1:9080")
	hash := PayloadHash([]byte(`{"NamespaceName":"bench-ns-000","ServiceName":"svc-000","QueryParameters":{"stage":"canary"},"MaxResults":10}`))
	b.ReportAllocs()
	for b.Loop() {
		s.Sign("Route53AutoNaming_v20170314.DiscoverInstances", hash)
	}
}

// ExampleSigner signs a request the way cairn's load harness does: the
// body's hash once, then a signature per send.
func ExampleSigner() {
	s := NewSigner(AccessKey{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
		"servicediscovery", "us-east-1", "127.0.0.1:9080")
	s.Now = func() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC) }
	body := []byte(`{"MaxResults":10}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9080/", strings.NewReader(string(body)))
	date, auth := s.Sign("Route53AutoNaming_v20170314.ListNamespaces", PayloadHash(body))
	req.Header.Set("Content-Type", JSONContentType)
	req.Header.Set("X-Amz-Target", "Route53AutoNaming_v20170314.ListNamespaces")
	req.Header.Set("X-Amz-Date", date)
	req.Header.Set("Authorization", auth)
	fmt.Println(req.Header.Get("X-Amz-Date"))
	fmt.Println(strings.SplitAfter(auth, "SignedHeaders=")[0] + "…")
	// Output:
	// 20260314T150926Z
	// AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/servicediscovery/aws4_request, SignedHeaders=…
}
