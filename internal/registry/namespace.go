package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// pDNSName indexes DNS namespaces by lower-cased name:
// dnsname/<account>/<region>/<name>/<id> → dnsNameEntry.
const pDNSName = "dnsname/"

type dnsNameEntry struct {
	Type string `json:"type"`
	Vpc  string `json:"vpc,omitempty"`
}

func dnsNamePrefix(s scope, name string) string {
	return pDNSName + s.String() + "/" + strings.ToLower(name) + "/"
}

// check validates an input against the model.
func check(in cloudmap.Validatable) error {
	if err := cloudmap.Validate(in); err != nil {
		return &Error{Kind: KindInvalid, Message: err.Error()}
	}
	return nil
}

type nsCreate struct {
	typ, name, desc, crid, vpc string
	soaTTL                     *int64
	tags                       []cloudmap.Tag
	fingerprint                string
}

// CreateHttpNamespace starts creating an HTTP namespace.
func (r *Registry) CreateHttpNamespace(ctx context.Context, c Caller, in *cloudmap.CreateHttpNamespaceRequest) (*cloudmap.CreateHttpNamespaceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	fp := *in
	fp.CreatorRequestId = ""
	id, err := r.createNamespace(ctx, c, nsCreate{typ: cloudmap.NamespaceTypeHttp, name: in.Name, desc: in.Description,
		crid: in.CreatorRequestId, tags: in.Tags, fingerprint: fingerprint(fp)})
	if err != nil {
		return nil, err
	}
	return &cloudmap.CreateHttpNamespaceResponse{OperationId: id}, nil
}

// CreatePrivateDnsNamespace starts creating a private DNS namespace.
func (r *Registry) CreatePrivateDnsNamespace(ctx context.Context, c Caller, in *cloudmap.CreatePrivateDnsNamespaceRequest) (*cloudmap.CreatePrivateDnsNamespaceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	fp := *in
	fp.CreatorRequestId = ""
	spec := nsCreate{typ: cloudmap.NamespaceTypeDnsPrivate, name: strings.TrimSuffix(in.Name, "."), desc: in.Description,
		crid: in.CreatorRequestId, vpc: in.Vpc, tags: in.Tags, fingerprint: fingerprint(fp)}
	if p := in.Properties; p != nil && p.DnsProperties != nil && p.DnsProperties.SOA != nil {
		spec.soaTTL = p.DnsProperties.SOA.TTL
	}
	if err := checkDNSName(spec.name); err != nil {
		return nil, err
	}
	id, err := r.createNamespace(ctx, c, spec)
	if err != nil {
		return nil, err
	}
	return &cloudmap.CreatePrivateDnsNamespaceResponse{OperationId: id}, nil
}

// CreatePublicDnsNamespace starts creating a public DNS namespace.
func (r *Registry) CreatePublicDnsNamespace(ctx context.Context, c Caller, in *cloudmap.CreatePublicDnsNamespaceRequest) (*cloudmap.CreatePublicDnsNamespaceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	fp := *in
	fp.CreatorRequestId = ""
	spec := nsCreate{typ: cloudmap.NamespaceTypeDnsPublic, name: in.Name, desc: in.Description,
		crid: in.CreatorRequestId, tags: in.Tags, fingerprint: fingerprint(fp)}
	if p := in.Properties; p != nil && p.DnsProperties != nil && p.DnsProperties.SOA != nil {
		spec.soaTTL = p.DnsProperties.SOA.TTL
	}
	id, err := r.createNamespace(ctx, c, spec)
	if err != nil {
		return nil, err
	}
	return &cloudmap.CreatePublicDnsNamespaceResponse{OperationId: id}, nil
}

// checkDNSName checks that a private namespace name can be a DNS zone: the
// model's pattern allows any printable characters, but a hosted zone's
// labels are at most 63 characters and none is empty.
func checkDNSName(name string) error {
	if name == "" {
		return invalid("The namespace name must not be empty")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return invalid("The namespace name %q is not a valid DNS domain name: each label must be 1 to 63 characters", name)
		}
	}
	return nil
}

// createNamespace starts creating the namespace spec describes: its
// operation takes the names it needs (quota, public DNS name, HttpName) in
// the transaction that records it.
func (r *Registry) createNamespace(ctx context.Context, c Caller, spec nsCreate) (string, error) {
	if err := checkTags(spec.tags, ""); err != nil {
		return "", err
	}
	s := c.scope()
	start := opStart{fingerprint: spec.fingerprint}
	if spec.crid != "" {
		start.idem = idemKey(s, "ns", spec.crid)
		start.conflict = func(tx store.Tx, prev *idemRecord) error {
			return &Error{Kind: KindAlreadyExists, Resource: ResNamespace, CreatorRequestID: spec.crid, NamespaceID: prev.ResourceID,
				Message: fmt.Sprintf("The CreatorRequestId %s was already used to create namespace %s with different parameters", spec.crid, prev.ResourceID)}
		}
	}
	start.prepare = func(tx store.Tx) (*opPlan, error) {
		if err := txNamespaceQuota(tx, c, r.cfg.Limits.NamespacesPerRegion); err != nil {
			return nil, err
		}
		if spec.typ == cloudmap.NamespaceTypeDnsPublic {
			if held, err := txPublicNameHolder(tx, s, spec.name); err != nil {
				return nil, err
			} else if held != "" {
				return nil, nsAlreadyExists(tx, spec.name, held)
			}
		}
		id, err := chosenID(ctx, tx, nsKey, newNamespaceID)
		if err != nil {
			return nil, err
		}
		httpName, err := txTakeHTTPName(tx, s, spec, id)
		if err != nil {
			return nil, err
		}
		ns := &nsRecord{scope: s, ID: id, Name: spec.name, HTTPName: httpName, Type: spec.typ, Description: spec.desc,
			CreatorRequestID: spec.crid, Vpc: spec.vpc, SOATTL: spec.soaTTL, CreateDate: r.now().UnixMilli(), Tags: dedupTags(spec.tags)}
		if ns.isDNS() {
			ns.HostedZoneID = hostedZoneID(id)
			if err := putRecord(tx, dnsNamePrefix(s, spec.name)+id, &dnsNameEntry{Type: spec.typ, Vpc: spec.vpc}); err != nil {
				return nil, err
			}
		}
		return &opPlan{typ: cloudmap.OperationTypeCreateNamespace, targetID: id,
			targets: map[string]string{cloudmap.OperationTargetTypeNamespace: id}, work: &opWork{Namespace: ns}}, nil
	}
	return r.startOperation(ctx, c, start)
}

// txNamespaceQuota refuses a namespace past the quota of namespaces the
// caller may have in its region (0 for none).
func txNamespaceQuota(tx store.Tx, c Caller, lim int) error {
	if lim <= 0 {
		return nil
	}
	n := 0
	if err := tx.Scan(pNSName+c.scope().String()+"/", func(string, []byte) bool { n++; return n < lim }); err != nil {
		return err
	}
	if n >= lim {
		return &Error{Kind: KindLimit, Message: fmt.Sprintf("You have reached the quota of %d namespaces in region %s", lim, c.Region)}
	}
	return nil
}

// txPublicNameHolder is the ID of the public DNS namespace of scope s
// named name, or "" when there is none.
func txPublicNameHolder(tx store.Tx, s scope, name string) (string, error) {
	var holder string
	prefix := dnsNamePrefix(s, name)
	err := tx.Scan(prefix, func(k string, v []byte) bool {
		if strings.Contains(k[len(prefix):], "/") {
			return true // the entry of a longer name, such as "<name>/x"
		}
		if e, _ := decode[dnsNameEntry](v); e != nil && e.Type == cloudmap.NamespaceTypeDnsPublic {
			holder = k[strings.LastIndex(k, "/")+1:]
			return false
		}
		return true
	})
	return holder, err
}

// txTakeHTTPName takes the HttpName of the namespace id being created:
// its name, unless another namespace of the scope holds it. An HTTP
// namespace then can't be created; a DNS one gets a suffix, as AWS says:
// "if you reuse Name for namespace creation, a generated hash is added to
// HttpName to distinguish the two."
func txTakeHTTPName(tx store.Tx, s scope, spec nsCreate, id string) (string, error) {
	httpName := spec.name
	if held, ok, err := tx.Get(nsNameKey(s, httpName)); err != nil {
		return "", err
	} else if ok {
		if spec.typ == cloudmap.NamespaceTypeHttp {
			return "", nsAlreadyExists(tx, spec.name, string(held))
		}
		httpName = spec.name + "-" + id[3:11]
	}
	return httpName, tx.Put(nsNameKey(s, httpName), []byte(id))
}

// nsAlreadyExists is the error of a namespace named name that clashes
// with the namespace id, with that one's CreatorRequestId.
func nsAlreadyExists(tx store.Tx, name, id string) error {
	e := &Error{Kind: KindAlreadyExists, Resource: ResNamespace, NamespaceID: id,
		Message: fmt.Sprintf("A namespace named %s already exists: %s", name, id)}
	if ns, _ := getRecord[nsRecord](tx, nsKey(id)); ns != nil {
		e.CreatorRequestID = ns.CreatorRequestID
	}
	return e
}

func (r *Registry) execCreateNamespace(tx store.Tx, ns *nsRecord) (*opFailure, error) {
	if ns.isDNS() {
		fail, err := r.checkTenancy(tx, ns)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			return fail, releaseNamespaceNames(tx, ns)
		}
	}
	if ns.Type == cloudmap.NamespaceTypeDnsPrivate {
		var clash string
		prefix := dnsNamePrefix(ns.scope, ns.Name)
		err := tx.Scan(prefix, func(k string, v []byte) bool {
			id := k[len(prefix):]
			if strings.Contains(id, "/") {
				return true // the entry of a longer name, such as "<name>/x"
			}
			e, _ := decode[dnsNameEntry](v)
			if id == ns.ID || e == nil || e.Type != cloudmap.NamespaceTypeDnsPrivate || e.Vpc != ns.Vpc {
				return true
			}
			if _, exists, _ := tx.Get(nsKey(id)); exists {
				clash = id
				return false
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if clash != "" {
			if err := releaseNamespaceNames(tx, ns); err != nil {
				return nil, err
			}
			return &opFailure{"CANNOT_CREATE_HOSTED_ZONE", fmt.Sprintf(
				"ConflictingDomainExists: the domain %s is already associated with VPC %s by namespace %s", ns.Name, ns.Vpc, clash)}, nil
		}
	}
	return nil, putRecord(tx, nsKey(ns.ID), ns)
}

func releaseNamespaceNames(tx store.Tx, ns *nsRecord) error {
	if err := tx.Delete(nsNameKey(ns.scope, ns.HTTPName)); err != nil {
		return err
	}
	if ns.isDNS() {
		return tx.Delete(dnsNamePrefix(ns.scope, ns.Name) + ns.ID)
	}
	return nil
}

// DeleteNamespace starts deleting a namespace that has no services.
func (r *Registry) DeleteNamespace(ctx context.Context, c Caller, in *cloudmap.DeleteNamespaceRequest) (*cloudmap.DeleteNamespaceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	id, err := r.startOperation(ctx, c, opStart{prepare: func(tx store.Tx) (*opPlan, error) {
		ns, err := txOwnNamespace(tx, c, in.Id)
		if err != nil {
			return nil, err
		}
		if ns.ServiceCount > 0 {
			return nil, &Error{Kind: KindInUse, Message: fmt.Sprintf("The namespace %s can't be deleted because it contains %d service(s)", ns.ID, ns.ServiceCount)}
		}
		return &opPlan{typ: cloudmap.OperationTypeDeleteNamespace, targetID: ns.ID, lock: pLock + nsKey(ns.ID),
			targets: map[string]string{cloudmap.OperationTargetTypeNamespace: ns.ID}, work: &opWork{NamespaceID: ns.ID}}, nil
	}})
	if err != nil {
		return nil, err
	}
	return &cloudmap.DeleteNamespaceResponse{OperationId: id}, nil
}

func (r *Registry) execDeleteNamespace(tx store.Tx, id string) (*opFailure, error) {
	ns, err := getRecord[nsRecord](tx, nsKey(id))
	if err != nil {
		return nil, err
	}
	if ns == nil {
		return nil, nil // already gone: the end state is what was asked
	}
	if ns.ServiceCount > 0 {
		return &opFailure{"RESOURCE_IN_USE", fmt.Sprintf("the namespace %s contains %d service(s)", id, ns.ServiceCount)}, nil
	}
	if err := releaseNamespaceNames(tx, ns); err != nil {
		return nil, err
	}
	return nil, tx.Delete(nsKey(id))
}

// GetNamespace returns one namespace.
func (r *Registry) GetNamespace(ctx context.Context, c Caller, in *cloudmap.GetNamespaceRequest) (*cloudmap.GetNamespaceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	ns, err := v.namespace(c, in.Id)
	if err != nil {
		return nil, err
	}
	return &cloudmap.GetNamespaceResponse{Namespace: namespaceOut(ns.rec)}, nil
}

func namespaceProperties(ns *nsRecord) *cloudmap.NamespaceProperties {
	p := &cloudmap.NamespaceProperties{
		DnsProperties:  &cloudmap.DnsProperties{},
		HttpProperties: &cloudmap.HttpProperties{HttpName: ns.HTTPName},
	}
	if ns.isDNS() {
		p.DnsProperties.HostedZoneId = ns.HostedZoneID
		p.DnsProperties.SOA = &cloudmap.SOA{TTL: ns.SOATTL}
	}
	return p
}

func namespaceOut(ns *nsRecord) *cloudmap.Namespace {
	count := int32(ns.ServiceCount)
	return &cloudmap.Namespace{
		Id: ns.ID, Arn: NamespaceARN(ns.Region, ns.Account, ns.ID), ResourceOwner: ns.Account, Name: ns.Name,
		Type: ns.Type, Description: ns.Description, ServiceCount: &count, Properties: namespaceProperties(ns),
		CreateDate: msTime(ns.CreateDate), CreatorRequestId: ns.CreatorRequestID,
	}
}

// ListNamespaces lists the caller's namespaces that match every filter.
func (r *Registry) ListNamespaces(ctx context.Context, c Caller, in *cloudmap.ListNamespacesRequest) (*cloudmap.ListNamespacesResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	match, err := namespaceFilters(c, in.Filters)
	if err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	var items []*nsRecord
	for _, ns := range v.namespaces {
		if visible(c, ns.rec) && match(ns.rec) {
			items = append(items, ns.rec)
		}
	}
	v.mu.RUnlock()
	query := fingerprint([]any{c, in.Filters})
	page, next, err := paginate(r, items, func(n *nsRecord) string { return createdKey(n.CreateDate, n.ID) },
		"ListNamespaces", query, in.NextToken, maxResults(in.MaxResults, 100))
	if err != nil {
		return nil, err
	}
	out := &cloudmap.ListNamespacesResponse{Namespaces: []cloudmap.NamespaceSummary{}, NextToken: next}
	for _, ns := range page {
		n := namespaceOut(ns)
		if !ns.isDNS() {
			// AWS lists an HTTP namespace with an empty SOA (the CLI's
			// list-namespaces examples), though GetNamespace shows it
			// without one.
			n.Properties.DnsProperties.SOA = &cloudmap.SOA{}
		}
		out.Namespaces = append(out.Namespaces, cloudmap.NamespaceSummary{
			Id: n.Id, Arn: n.Arn, ResourceOwner: n.ResourceOwner, Name: n.Name, Type: n.Type, Description: n.Description,
			ServiceCount: n.ServiceCount, Properties: n.Properties, CreateDate: n.CreateDate,
		})
	}
	return out, nil
}

// createdKey sorts by creation time, then ID.
func createdKey(ms int64, id string) string {
	return fmt.Sprintf("%015d/%s", ms, id)
}

// namespaceFilters turns ListNamespaces filters into one predicate.
func namespaceFilters(c Caller, filters []cloudmap.NamespaceFilter) (func(*nsRecord) bool, error) {
	preds := make([]func(*nsRecord) bool, 0, len(filters))
	for _, f := range filters {
		p, err := namespaceFilter(c, f)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return func(n *nsRecord) bool {
		for _, p := range preds {
			if !p(n) {
				return false
			}
		}
		return true
	}, nil
}

// namespaceFilter is the test of one filter of ListNamespaces, or the
// error of a filter AWS refuses.
func namespaceFilter(c Caller, f cloudmap.NamespaceFilter) (func(*nsRecord) bool, error) {
	cond := f.Condition
	if cond == "" {
		cond = cloudmap.FilterConditionEq
	}
	if len(f.Values) == 0 {
		return nil, invalid("The filter %s needs at least one value", f.Name)
	}
	var field func(*nsRecord) string
	switch f.Name {
	case cloudmap.NamespaceFilterNameType:
		field = func(n *nsRecord) string { return n.Type }
		if err := checkTypeFilter(cond, f.Values); err != nil {
			return nil, err
		}
	case cloudmap.NamespaceFilterNameName:
		field = func(n *nsRecord) string { return n.Name }
	case cloudmap.NamespaceFilterNameHttpName:
		field = func(n *nsRecord) string { return n.HTTPName }
	case cloudmap.NamespaceFilterNameResourceOwner:
		return ownerFilter(c, cond, f.Values)
	}
	if f.Name != cloudmap.NamespaceFilterNameType && cond != cloudmap.FilterConditionEq && cond != cloudmap.FilterConditionBeginsWith {
		return nil, invalid("The filter %s takes the condition EQ or BEGINS_WITH, not %s", f.Name, cond)
	}
	if cond != cloudmap.FilterConditionIn && len(f.Values) != 1 {
		return nil, invalid("The filter %s with condition %s takes exactly one value", f.Name, cond)
	}
	values := f.Values
	if cond == cloudmap.FilterConditionBeginsWith {
		return func(n *nsRecord) bool { return strings.HasPrefix(field(n), values[0]) }, nil
	}
	return func(n *nsRecord) bool { return slices.Contains(values, field(n)) }, nil
}

// checkTypeFilter checks the condition and values of a TYPE filter: EQ
// and IN take namespace types only.
func checkTypeFilter(cond string, values []string) error {
	if cond != cloudmap.FilterConditionEq && cond != cloudmap.FilterConditionIn && cond != cloudmap.FilterConditionBeginsWith {
		return invalid("The filter TYPE takes the condition EQ, IN or BEGINS_WITH, not %s", cond)
	}
	if cond == cloudmap.FilterConditionBeginsWith {
		return nil
	}
	for _, val := range values {
		if val != cloudmap.NamespaceTypeHttp && val != cloudmap.NamespaceTypeDnsPrivate && val != cloudmap.NamespaceTypeDnsPublic {
			return invalid("The filter TYPE value %q is not one of HTTP, DNS_PRIVATE, DNS_PUBLIC", val)
		}
	}
	return nil
}

// ownerFilter is the test of a RESOURCE_OWNER filter: the caller's own
// namespaces (SELF) or those shared with it (OTHER_ACCOUNTS).
func ownerFilter(c Caller, cond string, values []string) (func(*nsRecord) bool, error) {
	if cond != cloudmap.FilterConditionEq || len(values) != 1 {
		return nil, invalid("The filter RESOURCE_OWNER takes the condition EQ and one value, SELF or OTHER_ACCOUNTS")
	}
	switch values[0] {
	case "SELF":
		return func(n *nsRecord) bool { return n.Account == c.Account }, nil
	case "OTHER_ACCOUNTS":
		return func(n *nsRecord) bool { return n.Account != c.Account }, nil
	}
	return nil, invalid("The filter RESOURCE_OWNER value %q is not SELF or OTHER_ACCOUNTS", values[0])
}
