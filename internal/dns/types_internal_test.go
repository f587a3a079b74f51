package dns

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/internal/registry"
)

// The registry's record types are miekg/dns's, by number: the handler
// passes a query's type through as it is.
func TestRegistryTypesAreDNSTypes(t *testing.T) {
	for reg, want := range map[uint16]uint16{registry.TypeA: dns.TypeA, registry.TypeAAAA: dns.TypeAAAA,
		registry.TypeSRV: dns.TypeSRV, registry.TypeCNAME: dns.TypeCNAME, registry.TypeANY: dns.TypeANY} {
		if reg != want {
			t.Errorf("registry type %d; dns.Type%s is %d", reg, dns.TypeToString[want], want)
		}
	}
}
