package registry

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cairn-dev/cairn/internal/pagetoken"
)

func tokenRegistry(key string) *Registry { return &Registry{tokenKey: []byte(key)} }

const testTokenKey = "0123456789abcdef0123456789abcdef"

// wantBadToken checks that err is the InvalidInput of a refused token.
func wantBadToken(t *testing.T, after string, err error) {
	t.Helper()
	e, ok := AsError(err)
	if !ok || e.Kind != KindInvalid || !strings.Contains(e.Message, "is not valid for this request") {
		t.Errorf("decodeToken = %q, %v; want InvalidInput", after, err)
		return
	}
	if after != "" {
		t.Errorf("refused token still gave position %q", after)
	}
	if !utf8.ValidString(e.Message) || len(e.Message) > 300 {
		t.Errorf("message of %d bytes: %q", len(e.Message), e.Message)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	r := tokenRegistry(testTokenKey)
	for _, after := range []string{"x", "000001587055860121/ns-ylexjili4cdxy3xm", "i-abcd1234", "ünïcode", strings.Repeat("k", 64)} {
		tok := r.encodeToken(pageToken{Op: "ListServices", Query: "q1", After: after})
		if len(tok) > 4096 {
			t.Errorf("token of %d characters is longer than NextToken's 4096", len(tok))
		}
		if strings.ContainsAny(tok, "+/= ") {
			t.Errorf("token %q is not URL-safe", tok)
		}
		got, err := r.decodeToken(tok, "ListServices", "q1")
		if err != nil || got != after {
			t.Errorf("round trip of %q = %q, %v", after, got, err)
		}
	}
	// No token: the first page.
	if got, err := r.decodeToken("", "ListServices", "q1"); got != "" || err != nil {
		t.Errorf("empty token = %q, %v", got, err)
	}
	// Tokens survive a restart: the same key decodes them.
	tok := r.encodeToken(pageToken{Op: "ListInstances", Query: "q", After: "i-1"})
	if got, err := tokenRegistry(testTokenKey).decodeToken(tok, "ListInstances", "q"); got != "i-1" || err != nil {
		t.Errorf("same key, new registry: %q, %v", got, err)
	}
}

func TestTokenRefused(t *testing.T) {
	r := tokenRegistry(testTokenKey)
	tok := r.encodeToken(pageToken{Op: "ListServices", Query: "q1", After: "srv-1"})
	raw, _ := base64.RawURLEncoding.DecodeString(tok)

	forgedMAC := append([]byte(nil), raw...)
	forgedMAC[0] ^= 1
	altered := append([]byte(nil), raw[:pagetoken.MACLen]...)
	altered = append(altered, strings.Replace(string(raw[pagetoken.MACLen:]), "srv-1", "srv-2", 1)...)
	for name, bad := range map[string]struct{ tok, op, query string }{
		"other operation":  {tok, "ListNamespaces", "q1"},
		"other query":      {tok, "ListServices", "q2"},
		"forged MAC":       {base64.RawURLEncoding.EncodeToString(forgedMAC), "ListServices", "q1"},
		"altered position": {base64.RawURLEncoding.EncodeToString(altered), "ListServices", "q1"},
		"truncated":        {tok[:len(tok)-4], "ListServices", "q1"},
		"MAC only":         {base64.RawURLEncoding.EncodeToString(raw[:pagetoken.MACLen]), "ListServices", "q1"},
		"not base64":       {"!!!not-base64!!!", "ListServices", "q1"},
		"padded base64":    {base64.URLEncoding.EncodeToString(raw) + "==", "ListServices", "q1"},
		"standard base64":  {"+/" + tok, "ListServices", "q1"},
		"plain ID":         {"srv-1", "ListServices", "q1"},
		"long garbage":     {strings.Repeat("A", 4096), "ListServices", "q1"},
		"multi-byte":       {strings.Repeat("日", 30), "ListServices", "q1"},
	} {
		t.Run(name, func(t *testing.T) {
			after, err := r.decodeToken(bad.tok, bad.op, bad.query)
			wantBadToken(t, after, err)
		})
	}

	t.Run("other key", func(t *testing.T) {
		after, err := tokenRegistry("another key entirely............").decodeToken(tok, "ListServices", "q1")
		wantBadToken(t, after, err)
	})

	t.Run("signed but not JSON", func(t *testing.T) {
		after, err := r.decodeToken(signBody(r, []byte("not json")), "ListServices", "q1")
		wantBadToken(t, after, err)
	})
	t.Run("signed JSON of another shape", func(t *testing.T) {
		after, err := r.decodeToken(signBody(r, []byte(`{"o":1}`)), "ListServices", "q1")
		wantBadToken(t, after, err)
	})
	t.Run("signed, well-formed", func(t *testing.T) {
		// The check above is not vacuous: a body signed so is accepted.
		after, err := r.decodeToken(signBody(r, []byte(`{"o":"ListServices","q":"q1","a":"z"}`)), "ListServices", "q1")
		if after != "z" || err != nil {
			t.Errorf("decodeToken = %q, %v", after, err)
		}
	})
}

// signBody signs an arbitrary body as encodeToken signs a token's JSON.
func signBody(r *Registry, body []byte) string {
	m := hmac.New(sha256.New, r.tokenKey)
	m.Write(body)
	return pagetoken.Prefix + base64.RawURLEncoding.EncodeToString(append(m.Sum(nil)[:pagetoken.MACLen], body...))
}

func TestPaginate(t *testing.T) {
	r := tokenRegistry(testTokenKey)
	id := func(s string) string { return s }
	items := make([]string, 10)
	for i := range items {
		items[i] = fmt.Sprintf("k%02d", 9-i) // out of order: paginate sorts
	}
	var got []string
	tok := ""
	pages := 0
	for {
		page, next, err := paginate(r, append([]string(nil), items...), id, "ListInstances", "q", tok, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, page...)
		if next == "" {
			break
		}
		if len(page) != 3 {
			t.Errorf("a page before the last has %d items", len(page))
		}
		tok = next
	}
	want := []string{"k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09"}
	if pages != 4 || !reflect.DeepEqual(got, want) {
		t.Errorf("%d pages of %v", pages, got)
	}

	// A last page that is exactly full has no next token.
	page, next, err := paginate(r, []string{"a", "b", "c"}, id, "op", "q", "", 3)
	if err != nil || len(page) != 3 || next != "" {
		t.Errorf("full last page: %v, %q, %v", page, next, err)
	}
	page, next, err = paginate(r, nil, id, "op", "q", "", 3)
	if err != nil || len(page) != 0 || next != "" {
		t.Errorf("no items: %v, %q, %v", page, next, err)
	}

	// Items added and removed between pages: no duplicates, no gaps among
	// the items that stay.
	page, next, _ = paginate(r, []string{"k00", "k02", "k04", "k06"}, id, "op", "q", "", 2)
	if !reflect.DeepEqual(page, []string{"k00", "k02"}) {
		t.Fatalf("first page %v", page)
	}
	page, next, err = paginate(r, []string{"k00", "k01", "k03", "k06"}, id, "op", "q", next, 2)
	if err != nil || !reflect.DeepEqual(page, []string{"k03", "k06"}) || next != "" {
		t.Errorf("second page after changes: %v, %q, %v", page, next, err)
	}
	// The position's item itself gone: resume after where it was.
	page, next, _ = paginate(r, []string{"a", "b", "c", "d"}, id, "op", "q", "", 1)
	page, _, _ = paginate(r, []string{"b", "c", "d"}, id, "op", "q", next, 1)
	if !reflect.DeepEqual(page, []string{"b"}) {
		t.Errorf("after a deleted position: %v", page)
	}

	// A token of another request is refused.
	_, next, _ = paginate(r, []string{"a", "b"}, id, "op", "q", "", 1)
	if _, _, err := paginate(r, []string{"a", "b"}, id, "op", "other", next, 1); err == nil {
		t.Errorf("token of another query accepted")
	}

	if maxResults(nil, 100) != 100 {
		t.Errorf("maxResults(nil) != default")
	}
	five := int32(5)
	if maxResults(&five, 100) != 5 {
		t.Errorf("maxResults(5) != 5")
	}
}
