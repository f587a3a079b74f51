package pagetoken_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/internal/pagetoken"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func TestSignOpen(t *testing.T) {
	for _, after := range []string{"", "x", "000001587055860121/ns-ylexjili4cdxy3xm", "ünïcode", strings.Repeat("k", 64)} {
		in := pagetoken.Token{Op: "ListServices", Query: "q1", After: after}
		tok := pagetoken.Sign(key, in)
		if !strings.HasPrefix(tok, pagetoken.Prefix) || strings.ContainsAny(tok, "+/= ") || len(tok) > 4096 {
			t.Errorf("token %q: not a prefixed, URL-safe NextToken", tok)
		}
		if got, ok := pagetoken.Open(key, tok); !ok || got != in {
			t.Errorf("Open(Sign(%+v)) = %+v, %v", in, got, ok)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	tok := pagetoken.Sign(key, pagetoken.Token{Op: "ListServices", Query: "q1", After: "srv-1"})
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, pagetoken.Prefix))
	forged := append([]byte(nil), raw...)
	forged[0] ^= 1
	altered := append(append([]byte(nil), raw[:pagetoken.MACLen]...), strings.Replace(string(raw[pagetoken.MACLen:]), "srv-1", "srv-2", 1)...)
	for name, bad := range map[string]string{
		"no prefix":        strings.TrimPrefix(tok, pagetoken.Prefix),
		"forged MAC":       pagetoken.Prefix + base64.RawURLEncoding.EncodeToString(forged),
		"altered position": pagetoken.Prefix + base64.RawURLEncoding.EncodeToString(altered),
		"truncated":        tok[:len(tok)-4],
		"MAC only":         pagetoken.Prefix + base64.RawURLEncoding.EncodeToString(raw[:pagetoken.MACLen]),
		"not base64":       pagetoken.Prefix + "!!!",
		"empty":            "",
	} {
		if got, ok := pagetoken.Open(key, bad); ok {
			t.Errorf("%s: opened as %+v", name, got)
		}
	}
	if got, ok := pagetoken.Open([]byte("another key entirely............"), tok); ok {
		t.Errorf("another key opened it: %+v", got)
	}
}

// FuzzOpen: Open never panics, and opens only what the key signed.
func FuzzOpen(f *testing.F) {
	signed := map[pagetoken.Token]bool{}
	for _, after := range []string{"", "x", "i-abcd1234"} {
		tk := pagetoken.Token{Op: "ListServices", Query: "q", After: after}
		signed[tk] = true
		f.Add(pagetoken.Sign(key, tk))
	}
	f.Add("")
	f.Add("t")
	f.Add(strings.Repeat("A", 64))
	f.Fuzz(func(t *testing.T, tok string) {
		if got, ok := pagetoken.Open(key, tok); ok && !signed[got] {
			t.Fatalf("%q opened as %+v, never signed", tok, got)
		}
	})
}

func Example() {
	key := []byte("a server's secret key")
	tok := pagetoken.Sign(key, pagetoken.Token{Op: "ListServices", Query: "q", After: "srv-1"})
	t, ok := pagetoken.Open(key, tok)
	fmt.Println(t.Op, t.After, ok)
	_, ok = pagetoken.Open([]byte("another key"), tok)
	fmt.Println(ok)
	// Output:
	// ListServices srv-1 true
	// false
}
