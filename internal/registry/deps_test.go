package registry

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependenciesPointInward keeps the domain free of the edges: the
// registry must not depend on HTTP, DNS, the AWS SDK or the API package.
func TestDependenciesPointInward(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{"net/http", "github.com/miekg/dns", "github.com/aws/", "github.com/cairn-dev/cairn/internal/api", "github.com/cairn-dev/cairn/server"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f) && strings.HasSuffix(f, "/") {
				t.Errorf("the registry depends on %s; the domain must not know the edges", dep)
			}
		}
	}
}
