package cluster

import (
	"fmt"
	"testing"
)

// TestOwnerSpread checks that rendezvous hashing spreads keys evenly and
// that removing a member moves only its keys.
func TestOwnerSpread(t *testing.T) {
	members := []string{"a", "b", "c"}
	const keys = 3000
	count := map[string]int{}
	before := make([]string, keys)
	for i := range keys {
		k := fmt.Sprintf("srv-%d/i-%d", i%37, i)
		before[i] = Owner(members, k)
		count[before[i]]++
	}
	for _, m := range members {
		if n := count[m]; n < keys/3-150 || n > keys/3+150 {
			t.Errorf("member %s owns %d of %d keys; want about %d", m, n, keys, keys/3)
		}
	}
	for i := range keys {
		k := fmt.Sprintf("srv-%d/i-%d", i%37, i)
		after := Owner([]string{"a", "c"}, k)
		if before[i] != "b" && after != before[i] {
			t.Fatalf("key %s moved from %s to %s when b left", k, before[i], after)
		}
	}
	if got := Owner(nil, "k"); got != "" {
		t.Errorf("Owner of no members = %q", got)
	}
}
