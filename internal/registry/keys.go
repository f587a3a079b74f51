package registry

import "strings"

// Key layout in the store. Every key starts with a short kind prefix.
const (
	pNamespace = "ns/"     // ns/<id> → nsRecord
	pNSName    = "nsname/" // nsname/<account>/<region>/<httpName> → namespace ID
	pService   = "svc/"    // svc/<id> → svcRecord
	pSvcName   = "svcname/"
	pInstance  = "inst/" // inst/<serviceID>/<instanceID> → instRecord
	pOperation = "op/"   // op/<time>/<prefix> → opRecord: see opKey
	pLock      = "lock/" // lock/<target> → operation ID in flight
	pIdem      = "idem/" // idem/<account>/<region>/<kind>/<token> → idemRecord
	kTokenKey  = "meta/token-key"
	kRevBase   = "meta/revbase" // → JSON number: see view.instancesRevision
)

func nsKey(id string) string                { return pNamespace + id }
func nsNameKey(s scope, name string) string { return pNSName + s.String() + "/" + name }
func svcKey(id string) string               { return pService + id }
func instKey(svc, id string) string         { return pInstance + svc + "/" + id }

// svcNameKey indexes service names within a namespace; in DNS namespaces
// names are unique regardless of case, so the key is lower-cased there.
func svcNameKey(nsID, name string, dns bool) string {
	if dns {
		name = strings.ToLower(name)
	}
	return pSvcName + nsID + "/" + name
}

func idemKey(s scope, kind, token string) string {
	return pIdem + s.String() + "/" + kind + "/" + token
}

// opKey is the key of operation id. An ID of operationID's form
// (<32 base32 characters>-<8 base36 characters of the creation time>) is
// keyed time first, op/<time>/<prefix>: operations are created in time
// order, so each commit's new operations land together at the end of the
// key space instead of on as many random pages of the store's B+tree as
// there are operations (bbolt rewrites and fsyncs every page a commit
// touches: with time-first keys a registration touched 2.8 pages, not
// 4.4). Any other ID is keyed op/<id>. Files written before keep
// op/<id> keys of the first form until moveOperationKeys moves them.
func opKey(id string) string {
	if isOpIDForm(id) {
		return pOperation + id[33:] + "/" + id[:32]
	}
	return pOperation + id
}

// opIDFromKey is the operation ID an operation key holds, in either
// layout.
func opIDFromKey(key string) string {
	rest := key[len(pOperation):]
	if len(rest) == 41 && rest[8] == '/' {
		return rest[9:] + "-" + rest[:8]
	}
	return rest
}

// isOpIDForm reports whether id has operationID's form, 32 characters,
// "-", 8 characters (without checking the characters themselves: an ID
// of that shape and other characters is keyed the same way, and read
// back by opIDFromKey).
func isOpIDForm(id string) bool {
	return len(id) == 41 && id[32] == '-' && !strings.Contains(id, "/")
}
