package api

import (
	"regexp"
	"testing"
)

// Request IDs are version 4 UUIDs, in lower case, and differ.
func TestRequestIDForm(t *testing.T) {
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 10000 {
		id := requestID()
		if !uuid4.MatchString(id) {
			t.Fatalf("request ID %q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("request ID %q twice", id)
		}
		seen[id] = true
	}
}
