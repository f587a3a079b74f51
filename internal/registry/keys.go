package registry

import "strings"

// Key layout in the store. Every key starts with a short kind prefix.
const (
	pNamespace = "ns/"     // ns/<id> → nsRecord
	pNSName    = "nsname/" // nsname/<account>/<region>/<httpName> → namespace ID
	pService   = "svc/"    // svc/<id> → svcRecord
	pSvcName   = "svcname/"
	pInstance  = "inst/" // inst/<serviceID>/<instanceID> → instRecord
	pOperation = "op/"   // op/<id> → opRecord
	pLock      = "lock/" // lock/<target> → operation ID in flight
	pIdem      = "idem/" // idem/<account>/<region>/<kind>/<token> → idemRecord
	kTokenKey  = "meta/token-key"
	kRevBase   = "meta/revbase" // → JSON number: see view.instancesRevision
)

func nsKey(id string) string                { return pNamespace + id }
func nsNameKey(s scope, name string) string { return pNSName + s.String() + "/" + name }
func svcKey(id string) string               { return pService + id }
func opKey(id string) string                { return pOperation + id }
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
