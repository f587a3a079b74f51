package registry

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// recordSets are the DNS record combinations a service may define, each
// written as its sorted types joined by "+". The API reference lists A,
// AAAA, A+AAAA, SRV and CNAME; the service also accepts SRV beside A
// and/or AAAA (ECS's service discovery guide: "any combination of A or SRV
// records"; aws-cdk issue 18894), which users depend on. CNAME combines
// with nothing.
var recordSets = map[string]bool{
	"A": true, "AAAA": true, "A+AAAA": true, "SRV": true, "CNAME": true,
	"A+SRV": true, "AAAA+SRV": true, "A+AAAA+SRV": true,
}

func recordSet(records []cloudmap.DnsRecord) (string, error) {
	seen := map[string]bool{}
	var types []string
	for _, rec := range records {
		if seen[rec.Type] {
			return "", invalid("DnsConfig.DnsRecords lists the record type %s more than once", rec.Type)
		}
		seen[rec.Type] = true
		types = append(types, rec.Type)
	}
	sort.Strings(types)
	set := strings.Join(types, "+")
	if !recordSets[set] {
		return "", invalid("DnsConfig.DnsRecords must be A, AAAA or SRV records, alone or together, or one CNAME record; %q is not allowed", set)
	}
	return set, nil
}

// checkHealthCheck applies the documented rules on HealthCheckConfig.
func checkHealthCheck(hc *cloudmap.HealthCheckConfig, ns *nsRecord, records string) error {
	if hc == nil {
		return nil
	}
	if ns.Type == cloudmap.NamespaceTypeDnsPrivate {
		return invalid("HealthCheckConfig is not supported for services in private DNS namespaces; use HealthCheckCustomConfig")
	}
	if hc.Type == cloudmap.HealthCheckTypeTcp && hc.ResourcePath != "" {
		return invalid("HealthCheckConfig.ResourcePath can't be set when HealthCheckConfig.Type is TCP")
	}
	if records == "CNAME" {
		return invalid("A service with a CNAME record can't have a HealthCheckConfig")
	}
	return nil
}

// CreateService creates a service in a namespace.
func (r *Registry) CreateService(ctx context.Context, c Caller, in *cloudmap.CreateServiceRequest) (*cloudmap.CreateServiceResponse, error) {
	nsRef, records, err := checkCreateService(c, in)
	if err != nil {
		return nil, err
	}
	fp := *in
	fp.CreatorRequestId = ""
	fingerprint := fingerprint(fp)
	s := c.scope()
	var out *svcRecord
	err = r.update(ctx, func(tx store.Tx) error {
		out = nil
		var idem string
		if in.CreatorRequestId != "" {
			idem = idemKey(s, "svc", in.CreatorRequestId)
			var err error
			if out, err = txServiceOfToken(tx, s, idem, in.CreatorRequestId, fingerprint); out != nil || err != nil {
				return err
			}
		}
		ns, err := txNamespace(tx, c, nsRef)
		if err != nil {
			return err
		}
		if err := txTakesServices(tx, ns); err != nil {
			return err
		}
		if ns.Type == cloudmap.NamespaceTypeHttp && in.DnsConfig != nil {
			return invalid("When you specify an HTTP service, you can't include a DnsConfig element.")
		}
		if err := checkHealthCheck(in.HealthCheckConfig, ns, records); err != nil {
			return err
		}
		nameKey := svcNameKey(ns.ID, in.Name, ns.isDNS())
		if err := txServiceNameFree(tx, ns, nameKey, in.Name); err != nil {
			return err
		}
		id, err := chosenID(ctx, tx, svcKey, newServiceID)
		if err != nil {
			return err
		}
		svc := r.newService(c, ns, id, in, records)
		if err := tx.Put(nameKey, []byte(svc.ID)); err != nil {
			return err
		}
		if idem != "" {
			if err := putRecord(tx, idem, &idemRecord{Fingerprint: fingerprint, ResourceID: svc.ID}); err != nil {
				return err
			}
		}
		ns.ServiceCount++
		if err := putRecord(tx, nsKey(ns.ID), ns); err != nil {
			return err
		}
		out = svc
		return putRecord(tx, svcKey(svc.ID), svc)
	})
	if err != nil {
		return nil, err
	}
	return &cloudmap.CreateServiceResponse{Service: serviceOut(out, 0)}, nil
}

// checkCreateService checks what a CreateService request can be refused
// for before reading the store, and returns the namespace it names (ID
// or ARN) and its record set (see recordSet).
func checkCreateService(c Caller, in *cloudmap.CreateServiceRequest) (nsRef, records string, err error) {
	if err := check(in); err != nil {
		return "", "", err
	}
	nsRef = in.NamespaceId
	if in.DnsConfig != nil && in.DnsConfig.NamespaceId != "" {
		if nsRef == "" {
			nsRef = in.DnsConfig.NamespaceId
		} else if id, _ := resolveID(c, "namespace", ResNamespace, nsRef); id != in.DnsConfig.NamespaceId {
			return "", "", invalid("NamespaceId %s and DnsConfig.NamespaceId %s differ", in.NamespaceId, in.DnsConfig.NamespaceId)
		}
	}
	if nsRef == "" {
		return "", "", invalid("NamespaceId is required")
	}
	if err := checkTags(in.Tags, ""); err != nil {
		return "", "", err
	}
	if in.HealthCheckConfig != nil && in.HealthCheckCustomConfig != nil {
		return "", "", invalid("A service can have HealthCheckConfig or HealthCheckCustomConfig, not both")
	}
	if in.DnsConfig != nil {
		if in.Type == cloudmap.ServiceTypeOptionHttp {
			return "", "", invalid("A service of Type HTTP can't include a DnsConfig element")
		}
		if records, err = recordSet(in.DnsConfig.DnsRecords); err != nil {
			return "", "", err
		}
		if records == "CNAME" && in.DnsConfig.RoutingPolicy == cloudmap.RoutingPolicyMultivalue {
			return "", "", invalid("A service with a CNAME record must use the WEIGHTED routing policy")
		}
	}
	return nsRef, records, nil
}

// txServiceOfToken returns the service a CreatorRequestId already made
// (idem is its key), when the request is the same (fingerprint); nil when
// the token is new; AlreadyExists when it made a service of other
// parameters.
func txServiceOfToken(tx store.Tx, s scope, idem, token, fingerprint string) (*svcRecord, error) {
	prev, err := getRecord[idemRecord](tx, idem)
	if err != nil || prev == nil {
		return nil, err
	}
	svc, err := getRecord[svcRecord](tx, svcKey(prev.ResourceID))
	if err != nil {
		return nil, err
	}
	if svc != nil && prev.Fingerprint == fingerprint {
		return svc, nil
	}
	if svc == nil {
		svc = &svcRecord{scope: s}
	}
	return nil, &Error{Kind: KindAlreadyExists, Resource: ResService, CreatorRequestID: token,
		ServiceID: prev.ResourceID, ServiceARN: ServiceARN(svc.Region, svc.Account, prev.ResourceID),
		Message: fmt.Sprintf("The CreatorRequestId %s was already used to create service %s with different parameters", token, prev.ResourceID)}
}

// txTakesServices refuses a namespace whose deletion is in flight: the
// deletion would end FAIL, the namespace no longer empty.
func txTakesServices(tx store.Tx, ns *nsRecord) error {
	held, ok, err := tx.Get(pLock + nsKey(ns.ID))
	if err != nil || !ok {
		return err
	}
	op, err := getRecord[opRecord](tx, opKey(string(held)))
	if err != nil {
		return err
	}
	if op != nil && op.Type == cloudmap.OperationTypeDeleteNamespace {
		return &Error{Kind: KindNotFound, Resource: ResNamespace,
			Message: fmt.Sprintf("The namespace %s is being deleted (operation %s)", ns.ID, held)}
	}
	return nil
}

// txServiceNameFree refuses a name (nameKey) a service of ns already has.
func txServiceNameFree(tx store.Tx, ns *nsRecord, nameKey, name string) error {
	held, ok, err := tx.Get(nameKey)
	if err != nil || !ok {
		return err
	}
	e := &Error{Kind: KindAlreadyExists, Resource: ResService, ServiceID: string(held), ServiceARN: ServiceARN(ns.Region, ns.Account, string(held)),
		Message: fmt.Sprintf("A service named %s already exists in namespace %s: %s", name, ns.ID, held)}
	if other, _ := getRecord[svcRecord](tx, svcKey(string(held))); other != nil {
		e.CreatorRequestID = other.CreatorRequestID
	}
	return e
}

// newService is the record of the service in asks for, ID id, in ns:
// DNS_HTTP with a DnsConfig (MULTIVALUE unless a CNAME makes it
// WEIGHTED), else HTTP.
func (r *Registry) newService(c Caller, ns *nsRecord, id string, in *cloudmap.CreateServiceRequest, records string) *svcRecord {
	svc := &svcRecord{scope: ns.scope, ID: id, NamespaceID: ns.ID, Name: in.Name, Type: cloudmap.ServiceTypeHttp,
		Description: in.Description, CreatorRequestID: in.CreatorRequestId, HealthCheckConfig: in.HealthCheckConfig,
		CreateDate: r.now().UnixMilli(), Revision: r.revisionFloor(), Tags: dedupTags(in.Tags)}
	if ns.Account != c.Account {
		svc.CreatedBy = c.Account // a service in a namespace shared with the caller
	}
	if in.DnsConfig != nil {
		dc := *in.DnsConfig
		dc.NamespaceId = ns.ID
		if dc.RoutingPolicy == "" {
			dc.RoutingPolicy = cloudmap.RoutingPolicyMultivalue
			if records == "CNAME" {
				dc.RoutingPolicy = cloudmap.RoutingPolicyWeighted
			}
		}
		svc.DNSConfig = &dc
		svc.Type = cloudmap.ServiceTypeDnsHttp
	}
	if in.HealthCheckCustomConfig != nil {
		one := int32(1) // deprecated: "always set to 1"
		svc.HealthCheckCustomConfig = &cloudmap.HealthCheckCustomConfig{FailureThreshold: &one}
	}
	return svc
}

// serviceOut is a service as the API shows it; instances is its instance
// count, from the view.
func serviceOut(s *svcRecord, instances int) *cloudmap.Service {
	count := int32(instances)
	return &cloudmap.Service{
		Id: s.ID, Arn: ServiceARN(s.Region, s.Account, s.ID), ResourceOwner: s.Account, Name: s.Name,
		NamespaceId: s.NamespaceID, Description: s.Description, InstanceCount: &count, DnsConfig: s.DNSConfig,
		Type: s.Type, HealthCheckConfig: s.HealthCheckConfig, HealthCheckCustomConfig: s.HealthCheckCustomConfig,
		CreateDate: msTime(s.CreateDate), CreatorRequestId: s.CreatorRequestID, CreatedByAccount: s.creator(),
	}
}

// GetService returns one service.
func (r *Registry) GetService(ctx context.Context, c Caller, in *cloudmap.GetServiceRequest) (*cloudmap.GetServiceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	svc, err := v.service(c, in.Id)
	if err != nil {
		return nil, err
	}
	return &cloudmap.GetServiceResponse{Service: serviceOut(svc.rec, len(svc.instances))}, nil
}

// ListServices lists the caller's services that match every filter.
func (r *Registry) ListServices(ctx context.Context, c Caller, in *cloudmap.ListServicesRequest) (*cloudmap.ListServicesResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	var nsIDs []string
	owner := ""
	for _, f := range in.Filters {
		if f.Condition != "" && f.Condition != cloudmap.FilterConditionEq {
			return nil, invalid("The filter %s takes the condition EQ, not %s", f.Name, f.Condition)
		}
		if len(f.Values) != 1 {
			return nil, invalid("The filter %s takes exactly one value", f.Name)
		}
		switch f.Name {
		case cloudmap.ServiceFilterNameNamespaceId:
			id, err := resolveID(c, "namespace", ResNamespace, f.Values[0])
			if err != nil {
				id = "" // an ARN of another account or region matches nothing
			}
			nsIDs = append(nsIDs, id)
		case cloudmap.ServiceFilterNameResourceOwner:
			switch f.Values[0] {
			case "SELF", "OTHER_ACCOUNTS":
				owner = f.Values[0]
			default:
				return nil, invalid("The filter RESOURCE_OWNER value %q is not SELF or OTHER_ACCOUNTS", f.Values[0])
			}
		}
	}
	v := r.currentView()
	v.mu.RLock()
	type item struct {
		rec       *svcRecord
		instances int
	}
	var items []item
	for _, svc := range v.services {
		if !visible(c, svc.ns.rec) {
			continue
		}
		ok := owner == "" || (owner == "SELF") == (svc.rec.Account == c.Account)
		for _, id := range nsIDs {
			ok = ok && svc.rec.NamespaceID == id
		}
		if ok {
			items = append(items, item{svc.rec, len(svc.instances)})
		}
	}
	v.mu.RUnlock()
	page, next, err := paginate(r, items, func(s item) string { return createdKey(s.rec.CreateDate, s.rec.ID) },
		"ListServices", fingerprint([]any{c, in.Filters}), in.NextToken, maxResults(in.MaxResults, 100))
	if err != nil {
		return nil, err
	}
	out := &cloudmap.ListServicesResponse{Services: []cloudmap.ServiceSummary{}, NextToken: next}
	for _, it := range page {
		s := serviceOut(it.rec, it.instances)
		out.Services = append(out.Services, cloudmap.ServiceSummary{
			Id: s.Id, Arn: s.Arn, ResourceOwner: s.ResourceOwner, Name: s.Name, Type: s.Type, Description: s.Description,
			InstanceCount: s.InstanceCount, DnsConfig: s.DnsConfig, HealthCheckConfig: s.HealthCheckConfig,
			HealthCheckCustomConfig: s.HealthCheckCustomConfig, CreateDate: s.CreateDate, CreatedByAccount: s.CreatedByAccount,
		})
	}
	return out, nil
}

// DeleteService deletes a service that has no instances, with its
// attributes.
func (r *Registry) DeleteService(ctx context.Context, c Caller, in *cloudmap.DeleteServiceRequest) (*cloudmap.DeleteServiceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	err := r.update(ctx, func(tx store.Tx) error {
		svc, err := txService(tx, c, in.Id)
		if err != nil {
			return err
		}
		if err := mayChangeService(c, svc); err != nil {
			return err
		}
		n := 0
		if err := tx.Scan(instKey(svc.ID, ""), func(string, []byte) bool { n++; return true }); err != nil {
			return err
		}
		if n > 0 {
			return &Error{Kind: KindInUse, Message: fmt.Sprintf("The service %s can't be deleted because it contains %d instance(s)", svc.ID, n)}
		}
		if held, ok, err := tx.Get(pLock + svcKey(svc.ID)); err != nil {
			return err
		} else if ok {
			return &Error{Kind: KindInUse, Message: fmt.Sprintf("The service %s can't be deleted while operation %s on it is in progress", svc.ID, held)}
		}
		// A registration in flight has no instance yet; deleting the
		// service under it would leave the operation to fail.
		var busy string
		if err := tx.Scan(pLock+instKey(svc.ID, ""), func(_ string, v []byte) bool { busy = string(v); return false }); err != nil {
			return err
		}
		if busy != "" {
			return &Error{Kind: KindInUse, Message: fmt.Sprintf("The service %s can't be deleted while operation %s on one of its instances is in progress", svc.ID, busy)}
		}
		ns, err := getRecord[nsRecord](tx, nsKey(svc.NamespaceID))
		if err != nil {
			return err
		}
		if ns != nil {
			ns.ServiceCount--
			if err := putRecord(tx, nsKey(ns.ID), ns); err != nil {
				return err
			}
			if err := tx.Delete(svcNameKey(ns.ID, svc.Name, ns.isDNS())); err != nil {
				return err
			}
		}
		if svc.CreatorRequestID != "" {
			if err := tx.Delete(idemKey(svc.scope, "svc", svc.CreatorRequestID)); err != nil {
				return err
			}
		}
		return tx.Delete(svcKey(svc.ID))
	})
	if err != nil {
		return nil, err
	}
	return &cloudmap.DeleteServiceResponse{}, nil
}

// mayChangeService refuses changes to a service by an account that neither
// owns its namespace nor created it.
func mayChangeService(c Caller, svc *svcRecord) error {
	if svc.Account == c.Account || svc.creator() == c.Account {
		return nil
	}
	return accessDenied("Account %s can't change service %s: only the namespace's owner (%s) or the service's creator (%s) can", c.Account, svc.ID, svc.Account, svc.creator())
}

// instanceByOtherAccount returns an account other than account that
// registered an instance of the service, or "".
func instanceByOtherAccount(tx store.Tx, svcID, account string) (string, error) {
	var other string
	var decodeErr error
	err := tx.Scan(instKey(svcID, ""), func(k string, v []byte) bool {
		inst, err := decode[instRecord](v)
		if err != nil {
			decodeErr = err
			return false
		}
		if inst.CreatedBy != account {
			other = inst.CreatedBy
			return false
		}
		return true
	})
	if err == nil {
		err = decodeErr
	}
	return other, err
}
