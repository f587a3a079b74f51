package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// DNS tenancy: what keeps one account from changing what another
// account's names resolve to, when several accounts share a server.
//
//   - A VPC ID belongs to the account with the oldest private namespace
//     in it. Another account may name it only when that account has shared
//     one of its namespaces in the VPC with it.
//   - A DNS listener answers public namespaces and private namespaces: a
//     listener of its own (Config.DNSListenerVPCs) answers one VPC's, the
//     shared listener those of every VPC without one.
//   - Two namespaces of different accounts that one listener would answer
//     may not overlap: a name equal to, containing or inside the other's
//     fails as Route 53 fails overlapping zones, CANNOT_CREATE_HOSTED_ZONE
//     with ConflictingDomainExists.
//
// One account's own namespaces may nest, as Route 53's private zones may
// in one VPC (the most specific answers).

// dnsNameKey is one entry of the dnsname/ index, parsed.
type dnsNameKey struct {
	account, region, name, id string
}

func parseDNSNameKey(k string) (dnsNameKey, bool) {
	rest, ok := strings.CutPrefix(k, pDNSName)
	if !ok {
		return dnsNameKey{}, false
	}
	f := strings.SplitN(rest, "/", 3)
	if len(f) != 3 {
		return dnsNameKey{}, false
	}
	i := strings.LastIndexByte(f[2], '/')
	if i < 0 {
		return dnsNameKey{}, false
	}
	return dnsNameKey{account: f[0], region: f[1], name: f[2][:i], id: f[2][i+1:]}, true
}

// overlaps reports whether one of two lower-case DNS names equals, or is
// inside, the other.
func overlaps(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	return a == b || strings.HasSuffix(a, "."+b)
}

// ownListener reports whether a VPC has a DNS listener of its own.
func (r *Registry) ownListener(vpc string) bool {
	return vpc != "" && slices.Contains(r.cfg.DNSListenerVPCs, vpc)
}

// sameListener reports whether some DNS listener answers for both
// namespaces.
func (r *Registry) sameListener(aType, aVpc, bType, bVpc string) bool {
	if aType != cloudmap.NamespaceTypeDnsPrivate || bType != cloudmap.NamespaceTypeDnsPrivate {
		return true // public namespaces are answered everywhere
	}
	if aVpc == bVpc {
		return true
	}
	return !r.ownListener(aVpc) && !r.ownListener(bVpc)
}

// checkTenancy is the rule above for ns, about to be created, against
// every existing DNS namespace of the store; it returns why ns can't be
// created, or nil.
func (r *Registry) checkTenancy(tx store.Tx, ns *nsRecord) (*opFailure, error) {
	name := strings.ToLower(ns.Name)
	private := ns.Type == cloudmap.NamespaceTypeDnsPrivate
	var (
		fail     *opFailure
		vpcOwner *nsRecord       // the oldest namespace in ns's VPC
		sharing  map[string]bool // accounts with a namespace in the VPC shared with ns's
	)
	err := tx.Scan(pDNSName, func(k string, v []byte) bool {
		key, ok := parseDNSNameKey(k)
		if !ok || key.id == ns.ID {
			return true
		}
		e, _ := decode[dnsNameEntry](v)
		if e == nil {
			return true
		}
		inVPC := private && e.Type == cloudmap.NamespaceTypeDnsPrivate && e.Vpc == ns.Vpc
		if key.account == ns.Account && !inVPC {
			return true
		}
		other, _ := getRecord[nsRecord](tx, nsKey(key.id))
		if other == nil {
			return true // a create in flight, or a namespace being deleted
		}
		if inVPC {
			if vpcOwner == nil || other.CreateDate < vpcOwner.CreateDate ||
				other.CreateDate == vpcOwner.CreateDate && other.ID < vpcOwner.ID {
				vpcOwner = other
			}
			if other.sharedWith(ns.Account) {
				if sharing == nil {
					sharing = map[string]bool{}
				}
				sharing[other.Account] = true
			}
		}
		if fail == nil && key.account != ns.Account && overlaps(name, key.name) && r.sameListener(ns.Type, ns.Vpc, e.Type, e.Vpc) {
			how := "equals"
			switch {
			case len(name) > len(key.name):
				how = "falls inside"
			case len(name) < len(key.name):
				how = "contains"
			}
			fail = &opFailure{"CANNOT_CREATE_HOSTED_ZONE", fmt.Sprintf(
				"ConflictingDomainExists: the domain %s %s the domain %s of another account, answered by the same DNS listener", ns.Name, how, other.Name)}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if vpcOwner != nil && vpcOwner.Account != ns.Account && !sharing[vpcOwner.Account] {
		return &opFailure{"CANNOT_CREATE_HOSTED_ZONE", fmt.Sprintf(
			"InvalidVPCId: the VPC %s belongs to account %s, which has not shared a namespace in it with account %s", ns.Vpc, vpcOwner.Account, ns.Account)}, nil
	}
	return fail, nil
}
