package sigv4

import (
	"net/http"
	"testing"
)

// BenchmarkVerify: one realistic DiscoverInstances request, signed by the
// AWS SDK for Go v2 (eight signed headers, a session token), verified
// with its signing key cached.
//
//	go test -run '^$' -bench '^BenchmarkVerify$' -benchmem ./internal/sigv4/
func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		name string
		id   Identity
	}{{"key", idA}, {"session-token", idB}} {
		b.Run(bc.name, func(b *testing.B) {
			v := newVerifier()
			req := signed(b, signOpts{id: bc.id})
			body := []byte(discoverBody)
			if _, _, err := v.Verify(req, body); err != nil { // caches the key
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, _, err := v.Verify(req, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyUncachedKey: the same with the signing key derived each
// time (the first request of a key, day and region).
func BenchmarkVerifyUncachedKey(b *testing.B) {
	v := newVerifier()
	req := signed(b, signOpts{id: idA})
	body := []byte(discoverBody)
	b.ReportAllocs()
	for b.Loop() {
		v.keys.Clear()
		if _, _, err := v.Verify(req, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRefused: a wrong signature costs what a right one does
// (no early exit), and a malformed header costs next to nothing.
func BenchmarkVerifyRefused(b *testing.B) {
	for _, bc := range []struct {
		name string
		req  func(b *testing.B) *http.Request
	}{
		{"wrong-secret", func(b *testing.B) *http.Request { return signed(b, signOpts{id: idA, secret: "wrong"}) }},
		{"unknown-key", func(b *testing.B) *http.Request {
			return signed(b, signOpts{id: Identity{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "s"}})
		}},
		{"no-header", func(b *testing.B) *http.Request {
			return onWire(b, clientRequest(b, "h", "DiscoverInstances", discoverBody))
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := newVerifier()
			req := bc.req(b)
			body := []byte(discoverBody)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := v.Verify(req, body); err == nil {
					b.Fatal("verified")
				}
			}
		})
	}
}

func BenchmarkParseAuthorization(b *testing.B) {
	h := signed(b, signOpts{id: idB}).Header.Get("Authorization")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAuthorization(h); err != nil {
			b.Fatal(err)
		}
	}
}
