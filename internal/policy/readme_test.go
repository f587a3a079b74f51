package policy

import (
	"os"
	"regexp"
	"testing"
)

// TestREADME_Examples parses the README's example policies and checks
// that each does what the README says of it.
func TestREADME_Examples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) < 3 {
		t.Fatalf("the README has %d example policies, want 3", len(blocks))
	}
	var pols []*Policy
	for i, b := range blocks[:3] {
		p, err := Parse(b[1], "README example")
		if err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		pols = append(pols, p)
	}
	discover, deployer, reader := pols[0], pols[1], pols[2]
	ctx := func(kv ...string) *Context { return ctxOf(kv...) }
	cases := []struct {
		name   string
		p      *Policy
		action string
		res    string
		ctx    *Context
		want   bool
	}{
		{"discover-only discovers in shop", discover, "DiscoverInstances", nsARN, ctx(KeyNamespaceName, "shop"), true},
		{"discover-only: other namespaces", discover, "DiscoverInstances", nsARN, ctx(KeyNamespaceName, "admin"), false},
		{"discover-only can't register", discover, "RegisterInstance", svARN, ctx(KeyNamespaceName, "shop"), false},
		{"deployer registers in team-a-*", deployer, "RegisterInstance", svARN, ctx(KeyNamespaceName, "team-a-web"), true},
		{"deployer: not in team-b", deployer, "DeregisterInstance", svARN, ctx(KeyNamespaceName, "team-b-web"), false},
		{"deployer creates tagged services", deployer, "CreateService", nsARN, ctx(KeyNamespaceName, "team-a-web", "aws:RequestTag/team", "a"), true},
		{"deployer: untagged services", deployer, "CreateService", nsARN, ctx(KeyNamespaceName, "team-a-web"), false},
		{"deployer: can't delete", deployer, "DeleteService", svARN, ctx(KeyNamespaceName, "team-a-web"), false},
		{"deployer follows operations", deployer, "GetOperation", "*", ctx(), true},
		{"reader reads from the office", reader, "ListServices", "*", ctx(KeySourceIP, "10.2.3.4"), true},
		{"reader discovers", reader, "DiscoverInstancesRevision", svARN, ctx(KeySourceIP, "127.0.0.1"), true},
		{"reader: not from elsewhere", reader, "GetService", svARN, ctx(KeySourceIP, "192.0.2.7"), false},
		{"reader changes nothing", reader, "UpdateService", svARN, ctx(KeySourceIP, "10.2.3.4"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Evaluate(&Request{Action: action(t, tc.action), Resource: tc.res, Context: tc.ctx}).Allowed(); got != tc.want {
				t.Fatalf("allowed %v, want %v", got, tc.want)
			}
		})
	}
}
