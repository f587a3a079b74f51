package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// RegisterInstance starts registering (or re-registering, replacing its
// attributes) an instance of a service.
func (r *Registry) RegisterInstance(ctx context.Context, c Caller, in *cloudmap.RegisterInstanceRequest) (*cloudmap.RegisterInstanceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	if in.Attributes == nil {
		return nil, invalid("1 validation error detected: Value null at 'Attributes' failed to satisfy constraint: Member must not be null")
	}
	svcID, err := resolveID(c, "service", ResService, in.ServiceId)
	if err != nil {
		return nil, err
	}
	start := opStart{fingerprint: registerFingerprint(in), reads: func() []string { return r.instanceReads(svcID, in.InstanceId) }, target: svcID + "/" + in.InstanceId}
	if in.CreatorRequestId != "" {
		start.idem = idemKey(c.scope(), "register/"+svcID, in.CreatorRequestId)
		start.conflict = func(_ store.Tx, prev *idemRecord) error {
			return invalid("The CreatorRequestId %s was already used for a different RegisterInstance request (operation %s); use a new one for each registration",
				in.CreatorRequestId, prev.OperationID)
		}
	}
	start.prepare = func(tx store.Tx) (*opPlan, error) {
		// Shared records, only read here.
		svc, ns, err := sharedServiceAndNamespace(&r.decoded, tx, c, in.ServiceId)
		if err != nil {
			return nil, err
		}
		if err := checkInstanceAttributes(in.Attributes, svc, ns); err != nil {
			return nil, err
		}
		if svc.DNSConfig != nil && hasRecordType(svc.DNSConfig, "SRV") && !ValidHost(in.InstanceId, svc.Name+"."+ns.Name) {
			return nil, invalid("The InstanceId %q can't name the host of an SRV record (%s.%s.%s): each dot-separated part must be 1 to 63 characters, and the whole name at most 253",
				in.InstanceId, in.InstanceId, svc.Name, ns.Name)
		}
		if err := r.checkProbeTarget(svc, in.Attributes); err != nil {
			return nil, err
		}
		old, err := getRecord[instRecord](tx, instKey(svc.ID, in.InstanceId))
		if err != nil {
			return nil, err
		}
		if old == nil {
			if err := r.checkInstanceQuota(tx, svc, ns); err != nil {
				return nil, err
			}
		} else if old.CreatedBy != c.Account && svc.Account != c.Account {
			return nil, accessDenied("Instance %s of service %s was registered by account %s; account %s can't replace it", in.InstanceId, svc.ID, old.CreatedBy, c.Account)
		}
		inst := &instRecord{ServiceID: svc.ID, ID: in.InstanceId, CreatorRequestID: in.CreatorRequestId,
			CreatedBy: c.Account, Attributes: in.Attributes}
		if svc.HealthCheckCustomConfig != nil {
			inst.Custom = cloudmap.CustomHealthStatusHealthy
			if s, ok := in.Attributes[AttrInitHealth]; ok {
				inst.Custom = s
			}
		}
		return &opPlan{typ: cloudmap.OperationTypeRegisterInstance, targetID: svc.ID + "/" + in.InstanceId, owner: &svc.scope,
			lock: pLock + instKey(svc.ID, in.InstanceId), targets: instanceTargets(ns.ID, svc.ID, in.InstanceId),
			work: &opWork{ServiceID: svc.ID, Instance: inst}}, nil
	}
	if r.cfg.Limits.InstancesPerService > 0 || r.cfg.Limits.InstancesPerNamespace > 0 {
		done := r.inflight.add(svcID)
		defer done()
	}
	id, err := r.startOperation(ctx, c, start)
	if err != nil {
		return nil, err
	}
	return &cloudmap.RegisterInstanceResponse{OperationId: id}, nil
}

// registerFingerprint is fingerprint of in without its CreatorRequestId,
// encoded by hand: the same bytes as encoding/json's, so the same
// fingerprint as earlier versions stored. A request with a string that
// encoding/json escapes otherwise than cloudmap.AppendJSONString (see
// plainJSON) goes through encoding/json.
func registerFingerprint(in *cloudmap.RegisterInstanceRequest) string {
	fp := *in
	fp.CreatorRequestId = ""
	if !plainJSON(fp.ServiceId) || !plainJSON(fp.InstanceId) {
		return fingerprint(fp)
	}
	for k, v := range fp.Attributes {
		if !plainJSON(k) || !plainJSON(v) {
			return fingerprint(fp)
		}
	}
	b := make([]byte, 0, 256)
	b = append(b, '{')
	if len(fp.Attributes) > 0 {
		b = appendStringMap(append(b, `"Attributes":`...), fp.Attributes)
	}
	for _, f := range []struct{ name, v string }{{`"InstanceId":`, fp.InstanceId}, {`"ServiceId":`, fp.ServiceId}} {
		if f.v != "" {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = cloudmap.AppendJSONString(append(b, f.name...), f.v)
		}
	}
	b = append(b, '}')
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// plainJSON reports whether cloudmap.AppendJSONString encodes s as
// encoding/json does: s has no control character (encoding/json writes
// some as \b or \f) and nothing encoding/json escapes for HTML (<, >, &,
// U+2028, U+2029).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '<', c == '>', c == '&':
			return false
		case c == 0xe2 && (strings.HasPrefix(s[i:], "\u2028") || strings.HasPrefix(s[i:], "\u2029")):
			return false
		}
	}
	return true
}

func instanceTargets(ns, svc, inst string) map[string]string {
	return map[string]string{
		cloudmap.OperationTargetTypeNamespace: ns,
		cloudmap.OperationTargetTypeService:   svc,
		cloudmap.OperationTargetTypeInstance:  inst,
	}
}

// checkInstanceQuota refuses a new instance when its service or namespace
// has reached its quota, counting the registrations still in flight.
//
// Far from the quota it counts from the view, and the registrations of
// this server not yet in the view, without reading anything in tx, so
// that registrations do not conflict with each other. Within quotaSlack
// of the quota it counts exactly in tx (every instance of the service or
// namespace, and the registrations in flight): such registrations then
// conflict with each other and commit one after the other. With several
// servers, a service can pass its quota only if more than quotaSlack of
// its registrations committed on other servers are not yet in this
// server's view (see README, "Quotas").
func (r *Registry) checkInstanceQuota(tx store.Tx, svc *svcRecord, ns *nsRecord) error {
	svcLim, nsLim := r.cfg.Limits.InstancesPerService, r.cfg.Limits.InstancesPerNamespace
	exact := r.cfg.OperationDelay > 0 // registrations in flight are not all this server's
	v := r.currentView()
	v.mu.RLock()
	svcCount, nsCount := 0, 0
	var svcIDs []string
	if sv := v.services[svc.ID]; sv != nil {
		svcCount = len(sv.instances)
		for _, other := range sv.ns.byName {
			svcIDs = append(svcIDs, other.rec.ID)
		}
	}
	if nv := v.namespaces[ns.ID]; nv != nil {
		nsCount = nv.instances
	}
	v.mu.RUnlock()
	svcFlight, nsFlight := r.inflight.count(svc.ID), r.inflight.sum(svcIDs)
	if svcLim > 0 && (exact || svcCount+svcFlight+quotaSlack >= svcLim) {
		n, err := countInstances(tx, svc.ID)
		if err != nil {
			return err
		}
		if n >= svcLim {
			return &Error{Kind: KindLimit, Message: fmt.Sprintf("The service %s has reached the quota of %d instances", svc.ID, svcLim)}
		}
	}
	if nsLim > 0 && (exact || nsCount+nsFlight+quotaSlack >= nsLim) {
		prefix := pSvcName + ns.ID + "/"
		var ids []string
		if err := tx.Scan(prefix, func(_ string, v []byte) bool { ids = append(ids, string(v)); return true }); err != nil {
			return err
		}
		total := 0
		for _, id := range ids {
			n, err := countInstances(tx, id)
			if err != nil {
				return err
			}
			total += n
		}
		if total >= nsLim {
			return &Error{Kind: KindLimit, Message: fmt.Sprintf("The namespace %s has reached the quota of %d instances", ns.ID, nsLim)}
		}
	}
	return nil
}

// quotaSlack is how close to a quota registrations are counted exactly
// (see checkInstanceQuota).
const quotaSlack = 256

// countInstances counts, in tx, a service's instances and the
// registrations in flight of instances that don't exist yet: each holds
// its instance's lock, and a lock on an instance that doesn't exist can
// only be a registration's.
func countInstances(tx store.Tx, svcID string) (int, error) {
	n := 0
	if err := tx.Scan(instKey(svcID, ""), func(string, []byte) bool { n++; return true }); err != nil {
		return 0, err
	}
	prefix := pLock + instKey(svcID, "")
	var ids []string
	if err := tx.Scan(prefix, func(k string, _ []byte) bool { ids = append(ids, k[len(prefix):]); return true }); err != nil {
		return 0, err
	}
	for _, id := range ids {
		_, exists, err := tx.Get(instKey(svcID, id))
		if err != nil {
			return 0, err
		}
		if !exists {
			n++
		}
	}
	return n, nil
}

// inflight counts, by service, the registrations this server has started
// and whose commit its view may not have applied yet.
type inflight struct {
	mu sync.Mutex
	n  map[string]int
}

// add counts one registration into svcID until the returned func is
// called.
func (f *inflight) add(svcID string) (done func()) {
	f.mu.Lock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[svcID]++
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		if f.n[svcID]--; f.n[svcID] == 0 {
			delete(f.n, svcID)
		}
		f.mu.Unlock()
	}
}

func (f *inflight) count(svcID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[svcID]
}

func (f *inflight) sum(svcIDs []string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, id := range svcIDs {
		n += f.n[id]
	}
	return n
}

// instanceReads are the keys a registration or deregistration of instID
// in svcID reads: the service's and its namespace's records (the
// namespace as the view knows it), the instance and its lock.
func (r *Registry) instanceReads(svcID, instID string) []string {
	keys := []string{svcKey(svcID), instKey(svcID, instID), pLock + instKey(svcID, instID)}
	v := r.currentView()
	v.mu.RLock()
	if s := v.services[svcID]; s != nil {
		keys = append(keys, nsKey(s.rec.NamespaceID))
	}
	v.mu.RUnlock()
	return keys
}

// execRegister writes a registered instance. It writes the instance's key
// alone: the service's instance count and InstancesRevision come from the
// view (see view.instancesRevision), so that registrations into one
// service don't all rewrite, and on etcd conflict on, the service's
// record. It reads the service's record, which only a change of the
// service itself writes: a registration into a service being deleted
// conflicts with the deletion. When the registration was prepared in tx
// (prepared), prepare has read the service already, in the same
// transaction: it is not read again.
func (r *Registry) execRegister(tx store.Tx, inst *instRecord, prepared bool) (*opFailure, error) {
	if prepared {
		return nil, putRecord(tx, instKey(inst.ServiceID, inst.ID), inst)
	}
	if _, ok, err := tx.Get(svcKey(inst.ServiceID)); err != nil {
		return nil, err
	} else if !ok {
		return &opFailure{"INTERNAL_FAILURE", fmt.Sprintf("the service %s no longer exists", inst.ServiceID)}, nil
	}
	return nil, putRecord(tx, instKey(inst.ServiceID, inst.ID), inst)
}

// DeregisterInstance starts removing an instance, with the DNS records and
// health check Cloud Map keeps for it.
func (r *Registry) DeregisterInstance(ctx context.Context, c Caller, in *cloudmap.DeregisterInstanceRequest) (*cloudmap.DeregisterInstanceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	start := opStart{}
	if svcID, err := resolveID(c, "service", ResService, in.ServiceId); err == nil {
		start.reads = func() []string { return r.instanceReads(svcID, in.InstanceId) }
		start.target = svcID + "/" + in.InstanceId
	}
	start.prepare = func(tx store.Tx) (*opPlan, error) {
		svc, err := txService(tx, c, in.ServiceId)
		if err != nil {
			return nil, err
		}
		lock := pLock + instKey(svc.ID, in.InstanceId)
		if held, ok, err := tx.Get(lock); err != nil {
			return nil, err
		} else if ok {
			return nil, duplicate(string(held))
		}
		inst, err := getRecord[instRecord](tx, instKey(svc.ID, in.InstanceId))
		if err != nil {
			return nil, err
		}
		if inst == nil {
			return nil, notFound(ResInstance, in.InstanceId)
		}
		if inst.CreatedBy != c.Account && svc.Account != c.Account {
			return nil, accessDenied("Instance %s of service %s was registered by account %s; account %s can't deregister it", in.InstanceId, svc.ID, inst.CreatedBy, c.Account)
		}
		return &opPlan{typ: cloudmap.OperationTypeDeregisterInstance, targetID: svc.ID + "/" + in.InstanceId, lock: lock, owner: &svc.scope,
			targets: instanceTargets(svc.NamespaceID, svc.ID, in.InstanceId),
			work:    &opWork{ServiceID: svc.ID, InstanceID: in.InstanceId}}, nil
	}
	id, err := r.startOperation(ctx, c, start)
	if err != nil {
		return nil, err
	}
	return &cloudmap.DeregisterInstanceResponse{OperationId: id}, nil
}

// execDeregister deletes an instance's key, and writes nothing else (see
// execRegister).
func (r *Registry) execDeregister(tx store.Tx, svcID, instID string) (*opFailure, error) {
	return nil, tx.Delete(instKey(svcID, instID))
}

// GetInstance returns one instance.
func (r *Registry) GetInstance(ctx context.Context, c Caller, in *cloudmap.GetInstanceRequest) (*cloudmap.GetInstanceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	svc, err := v.service(c, in.ServiceId)
	if err != nil {
		return nil, err
	}
	inst := svc.instances[in.InstanceId]
	if inst == nil {
		return nil, notFound(ResInstance, in.InstanceId)
	}
	return &cloudmap.GetInstanceResponse{ResourceOwner: svc.rec.Account, Instance: &cloudmap.Instance{
		Id: inst.id, CreatorRequestId: inst.crid, Attributes: inst.attrMap(), CreatedByAccount: inst.createdBy,
	}}, nil
}

// ListInstances lists a service's instances in order of ID.
func (r *Registry) ListInstances(ctx context.Context, c Caller, in *cloudmap.ListInstancesRequest) (*cloudmap.ListInstancesResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	svc, err := v.service(c, in.ServiceId)
	if err != nil {
		v.mu.RUnlock()
		return nil, err
	}
	items := append([]*instView(nil), svc.list...)
	owner := svc.rec.Account
	v.mu.RUnlock()
	page, next, err := paginate(r, items, func(i *instView) string { return i.id }, "ListInstances",
		fingerprint([]any{c, svc.rec.ID}), in.NextToken, maxResults(in.MaxResults, 100))
	if err != nil {
		return nil, err
	}
	out := &cloudmap.ListInstancesResponse{ResourceOwner: owner, Instances: []cloudmap.InstanceSummary{}, NextToken: next}
	for _, i := range page {
		out.Instances = append(out.Instances, cloudmap.InstanceSummary{Id: i.id, Attributes: i.attrMap(), CreatedByAccount: i.createdBy})
	}
	return out, nil
}

// GetInstancesHealthStatus returns the health of a service's instances,
// all of them or the ones listed, in order of ID.
func (r *Registry) GetInstancesHealthStatus(ctx context.Context, c Caller, in *cloudmap.GetInstancesHealthStatusRequest) (*cloudmap.GetInstancesHealthStatusResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	type entry struct{ id, status string }
	v := r.currentView()
	v.mu.RLock()
	svc, err := v.service(c, in.ServiceId)
	if err != nil {
		v.mu.RUnlock()
		return nil, err
	}
	var items []entry
	if in.Instances != nil {
		seen := map[string]bool{}
		for _, id := range in.Instances {
			inst := svc.instances[id]
			if inst == nil {
				v.mu.RUnlock()
				return nil, notFound(ResInstance, id)
			}
			if !seen[id] {
				seen[id] = true
				items = append(items, entry{id, svc.health(inst)})
			}
		}
	} else {
		for _, inst := range svc.list {
			items = append(items, entry{inst.id, svc.health(inst)})
		}
	}
	svcID := svc.rec.ID
	v.mu.RUnlock()
	page, next, err := paginate(r, items, func(e entry) string { return e.id }, "GetInstancesHealthStatus",
		fingerprint([]any{c, svcID, in.Instances}), in.NextToken, maxResults(in.MaxResults, 100))
	if err != nil {
		return nil, err
	}
	out := &cloudmap.GetInstancesHealthStatusResponse{Status: make(map[string]string, len(page)), NextToken: next}
	for _, e := range page {
		out.Status[e.id] = e.status
	}
	return out, nil
}

// UpdateInstanceCustomHealthStatus sets the health of an instance of a
// service with a custom health check.
func (r *Registry) UpdateInstanceCustomHealthStatus(ctx context.Context, c Caller, in *cloudmap.UpdateInstanceCustomHealthStatusRequest) error {
	if err := check(in); err != nil {
		return err
	}
	return r.update(ctx, func(tx store.Tx) error {
		svc, err := txService(tx, c, in.ServiceId)
		if err != nil {
			return err
		}
		inst, err := getRecord[instRecord](tx, instKey(svc.ID, in.InstanceId))
		if err != nil {
			return err
		}
		if inst == nil {
			return notFound(ResInstance, in.InstanceId)
		}
		// As for deregistering it: the instance's status is its
		// registrant's and the namespace owner's to set, not another
		// consumer's of a shared namespace.
		if inst.CreatedBy != c.Account && svc.Account != c.Account {
			return accessDenied("Instance %s of service %s was registered by account %s; account %s can't change its health status", in.InstanceId, svc.ID, inst.CreatedBy, c.Account)
		}
		if svc.HealthCheckCustomConfig == nil {
			return &Error{Kind: KindCustomHealthNotFound, Message: fmt.Sprintf(
				"The health check for instance %s of service %s isn't a custom health check", in.InstanceId, svc.ID)}
		}
		if !applyCustomStatus(inst, in.Status, r.now().UnixMilli(), r.cfg.CustomHealthDelay) {
			return nil
		}
		return putRecord(tx, instKey(svc.ID, inst.ID), inst)
	})
}

// applyCustomStatus records a custom health status request on inst and
// reports whether inst changed. Without a delay the status applies at once.
// With one, it applies after the delay, as on AWS: a repeated request does
// not restart the clock, and a request for the status already in effect
// cancels the pending change.
func applyCustomStatus(inst *instRecord, status string, nowMS int64, delay time.Duration) bool {
	current := (&instView{custom: inst.Custom, pending: inst.CustomPending, pendingAt: inst.CustomAt}).customStatus(nowMS)
	before := *inst
	if inst.CustomPending != "" && nowMS >= inst.CustomAt {
		inst.Custom, inst.CustomPending, inst.CustomAt = inst.CustomPending, "", 0
	}
	switch {
	case delay <= 0:
		inst.Custom, inst.CustomPending, inst.CustomAt = status, "", 0
	case status == current:
		inst.CustomPending, inst.CustomAt = "", 0
	case status != inst.CustomPending:
		inst.CustomPending, inst.CustomAt = status, nowMS+delay.Milliseconds()
	}
	return inst.Custom != before.Custom || inst.CustomPending != before.CustomPending || inst.CustomAt != before.CustomAt
}

func hasRecordType(dc *cloudmap.DnsConfig, typ string) bool {
	for _, r := range dc.DnsRecords {
		if r.Type == typ {
			return true
		}
	}
	return false
}
