package registry

import (
	"context"
	"errors"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// view is the in-memory state the reads are served from: every namespace,
// service, instance and operation, indexed for the hot paths. It is built
// from the store's snapshot and kept current from the store's change
// stream, so it reflects exactly the committed state up to rev.
type view struct {
	mu         sync.RWMutex
	rev        int64
	namespaces map[string]*nsView // by ID
	byHTTPName map[string]*nsView // by scope + "/" + HttpName
	// zones lists the DNS namespaces by lower-cased name, oldest first:
	// the oldest namespace of a name is the one DNS answers for.
	zones    map[string][]*nsView
	services map[string]*svcView
	ops      opIndex
	notify   chan struct{} // closed and replaced at every applied commit
	// abandoned is closed when the registry replaces the view (after the
	// store's ErrCompacted, or an error applying a commit): whoever waits
	// on this view then waits on the new one, as Consul's state store
	// closes its abandonCh. notify is closed then too, for good.
	abandoned chan struct{}
	// revBase is added to store revisions to make InstancesRevision (see
	// instancesRevision); from the record kRevBase.
	revBase int64
	// applying is the revision of the commit being applied, and keyRevs,
	// while a snapshot is applied, the revision of each operation key;
	// both only under mu, during apply.
	applying int64
	keyRevs  map[string]int64
	// oldOpKeys are the operation keys of the earlier layout (op/<id>)
	// loadView found, for moveOperationKeys.
	oldOpKeys []string
}

type nsView struct {
	rec *nsRecord
	// byName finds services by exact name; byLower by lower-cased name,
	// for DNS namespaces where names are unique regardless of case.
	byName  map[string]*svcView
	byLower map[string]*svcView
	// instances counts the instances of the namespace's services.
	instances int
}

type svcView struct {
	rec       *svcRecord
	ns        *nsView
	instances map[string]*instView
	list      []*instView // the same instances, for random sampling
	// byAttr indexes the instances by the attribute keys that
	// DiscoverInstances' QueryParameters asked for (see withAttr); nil
	// after each change of the service's instances.
	byAttr atomic.Pointer[map[string]attrIndex]
	// opRev is the store revision of the latest registration or
	// deregistration of the service the view has seen succeed (0: none).
	opRev int64
	// hosts finds an instance by its lower-cased ID, for the A and AAAA
	// records of SRV targets (<instance>.<service>.<namespace>), so that
	// such a query does not scan the service; hostsMore holds the rare
	// instances whose ID differs from another's only in case. ents lists,
	// by each lower-cased suffix of an instance ID after a dot, the
	// instances whose host name passes through it (an empty
	// non-terminal). Kept for services of DNS namespaces only (hosts is
	// nil otherwise).
	hosts     map[string]*instView
	hostsMore map[string][]*instView
	ents      map[string][]*instView
}

// instancesRevision is a service's InstancesRevision: the revision of the
// store's commit of its latest registration or deregistration, plus the
// store's revision base, or its record's floor if that is greater. It
// needs no write to any shared record: the commit that registers an
// instance writes its operation record, whose revision the view knows.
// An operation expires only in a commit that raises the floor to its
// revision (see expireOperations), so the value never goes back, on a
// restart either.
func (v *view) instancesRevision(s *svcView) int64 {
	if s.opRev == 0 {
		return s.rec.Revision
	}
	return max(s.rec.Revision, v.revBase+s.opRev)
}

// attrIndex lists a service's instances by the value of one attribute.
// It is never modified once built.
type attrIndex map[string][]*instView

// withAttr returns the instances of s whose attribute a.Key is a.Value;
// the caller must not modify the slice. It indexes the service by a.Key
// on the first call for that key after a change, so that a query looks
// at the instances that match rather than at every instance: with
// millions of instances, the instances a scan would read are out of the
// CPU's caches, and reading them is most of what a discovery costs. The
// view's read lock must be held (its write lock excludes the change that
// drops the index).
func (s *svcView) withAttr(a cloudmap.Attribute) []*instView {
	old := s.byAttr.Load()
	if old != nil {
		if idx, ok := (*old)[a.Key]; ok {
			return idx[a.Value]
		}
	}
	idx := attrIndex{}
	for _, inst := range s.list {
		if v, ok := inst.attr(a.Key); ok {
			idx[v] = append(idx[v], inst)
		}
	}
	m := make(map[string]attrIndex, 1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[a.Key] = idx
	s.byAttr.Store(&m) // concurrent readers may each store theirs: any is right
	return idx[a.Value]
}

// instView is an instance as the hot paths need it: attributes as a slice
// of pairs sorted by key, which takes far less memory than a map.
type instView struct {
	id        string
	crid      string
	createdBy string
	attrs     []cloudmap.Attribute // sorted by key; shared, never modified
	attrsJSON string               // attrs as a JSON object (cloudmap.EncodeAttributes)
	custom    string
	pending   string // custom status taking effect at pendingAt (epoch ms)
	pendingAt int64
	probe     string
	// forced is a status a fault forces until forcedUntil (epoch ms).
	forced      string
	forcedUntil int64
	idx         int // position in svcView.list
	// The DNS records' data, parsed once (see dnsData): the addresses of
	// AWS_INSTANCE_IPV4 and AWS_INSTANCE_IPV6 and the port of
	// AWS_INSTANCE_PORT.
	ipv4, ipv6 netip.Addr
	port       uint16
}

func (i *instView) attr(k string) (string, bool) {
	for _, a := range i.attrs {
		if a.Key == k {
			return a.Value, true
		}
	}
	return "", false
}

func (i *instView) attrMap() map[string]string {
	m := make(map[string]string, len(i.attrs))
	for _, a := range i.attrs {
		m[a.Key] = a.Value
	}
	return m
}

func newView() *view {
	return &view{
		namespaces: map[string]*nsView{},
		byHTTPName: map[string]*nsView{},
		zones:      map[string][]*nsView{},
		services:   map[string]*svcView{},
		ops:        newOpIndex(),
		notify:     make(chan struct{}),
		abandoned:  make(chan struct{}),
	}
}

// apply applies one commit (or a snapshot) at revision rev. It decodes
// the records first, and takes the write lock only to link them in; a
// record that does not decode fails the commit before anything of it is
// applied.
func (v *view) apply(rev int64, changes []store.Change) error {
	sortByRank(changes)
	pre, err := decodeAll(changes)
	if err != nil {
		return err
	}
	v.applySorted(rev, changes, pre)
	return nil
}

// sortByRank puts changes in the order apply needs them (see rank),
// keeping the order of changes of the same rank.
func sortByRank(changes []store.Change) {
	sort.SliceStable(changes, func(a, b int) bool { return rank(changes[a]) < rank(changes[b]) })
}

// applySorted applies changes already in rank order, with their records
// decoded by decodeAll.
func (v *view) applySorted(rev int64, changes []store.Change, pre []decoded) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.applying = rev
	for i, c := range changes {
		v.applyOne(c, pre[i])
	}
	if rev > v.rev {
		v.rev = rev
	}
	close(v.notify)
	v.notify = make(chan struct{})
}

// applyOne applies one change, whose record is d, by the kind of record
// its key names.
func (v *view) applyOne(c store.Change, d decoded) {
	switch {
	case strings.HasPrefix(c.Key, pNamespace):
		v.applyNamespace(strings.TrimPrefix(c.Key, pNamespace), c.Deleted(), d.ns)
	case strings.HasPrefix(c.Key, pService):
		v.applyService(strings.TrimPrefix(c.Key, pService), c.Deleted(), d.svc)
	case strings.HasPrefix(c.Key, pInstance):
		svcID, instID, _ := strings.Cut(strings.TrimPrefix(c.Key, pInstance), "/")
		v.applyInstance(svcID, instID, c.Deleted(), d)
	case c.Key == kRevBase:
		if d.revBase != nil {
			v.revBase = *d.revBase
		}
	case strings.HasPrefix(c.Key, pOperation):
		v.applyOperation(c.Key, c.Deleted(), d.op)
	}
}

// applyNamespace adds, replaces or (deleted) removes namespace id.
func (v *view) applyNamespace(id string, deleted bool, rec *nsRecord) {
	old := v.namespaces[id]
	if deleted {
		if old != nil {
			delete(v.byHTTPName, old.rec.scope.String()+"/"+old.rec.HTTPName)
			delete(v.namespaces, id)
			v.removeZone(old)
		}
		return
	}
	if old == nil {
		old = &nsView{byName: map[string]*svcView{}, byLower: map[string]*svcView{}}
		v.namespaces[id] = old
		old.rec = rec
		v.addZone(old)
	}
	old.rec = rec
	v.byHTTPName[rec.scope.String()+"/"+rec.HTTPName] = old
}

// applyService adds, replaces or (deleted) removes service id. A service
// whose health check changed forgets its instances' probe results,
// measured by the old check.
func (v *view) applyService(id string, deleted bool, rec *svcRecord) {
	old := v.services[id]
	if deleted {
		if old != nil {
			if old.ns.byName[old.rec.Name] == old {
				delete(old.ns.byName, old.rec.Name)
			}
			if old.ns.byLower[strings.ToLower(old.rec.Name)] == old {
				delete(old.ns.byLower, strings.ToLower(old.rec.Name))
			}
			delete(v.services, id)
		}
		return
	}
	ns := v.namespaces[rec.NamespaceID]
	if ns == nil {
		return // cannot happen: services are created in existing namespaces
	}
	if old == nil {
		old = newSvcView(ns)
		v.services[id] = old
	} else if old.rec.HealthGen != rec.HealthGen {
		for _, inst := range old.list {
			inst.probe = ""
		}
	}
	old.rec = rec
	ns.byName[rec.Name] = old
	ns.byLower[strings.ToLower(rec.Name)] = old
}

// applyInstance adds, replaces or (deleted) removes an instance of
// service svcID, keeping its namespace's count of instances.
func (v *view) applyInstance(svcID, instID string, deleted bool, d decoded) {
	svc := v.services[svcID]
	if svc == nil {
		return
	}
	if deleted {
		if svc.remove(instID) {
			svc.ns.instances--
		}
		return
	}
	if svc.put(d.inst, d.probeGen) {
		svc.ns.instances++
	}
}

// applyOperation adds, replaces or (deleted) removes the operation stored
// at key, noting in its service the revision of the latest registration
// or deregistration (see instancesRevision).
func (v *view) applyOperation(key string, deleted bool, o *opView) {
	id := opIDFromKey(key)
	if deleted {
		// A key of the earlier layout (op/<id>) is deleted when
		// moveOperationKeys moves its operation, in the commit that
		// writes the new key, in either order; or when the janitor
		// deletes an operation a server of the earlier version wrote.
		// The operation goes only if the view has it from this key.
		if o := v.ops.byID[id]; o != nil && o.oldKey == (opKey(id) != key) {
			v.ops.remove(id)
		}
		return
	}
	o.oldKey = opKey(id) != key
	o.rev = v.applying
	if r, ok := v.keyRevs[key]; ok {
		o.rev = r
	}
	if o.changesInstances() {
		if svc := v.services[handleValue(o.svc)]; svc != nil {
			svc.opRev = max(svc.opRev, o.rev)
		}
	}
	v.ops.put(o)
}

func zoneKey(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func (v *view) addZone(ns *nsView) {
	if !ns.rec.isDNS() {
		return
	}
	k := zoneKey(ns.rec.Name)
	list := append(v.zones[k], ns)
	sort.SliceStable(list, func(a, b int) bool {
		if list[a].rec.CreateDate != list[b].rec.CreateDate {
			return list[a].rec.CreateDate < list[b].rec.CreateDate
		}
		return list[a].rec.ID < list[b].rec.ID
	})
	v.zones[k] = list
}

func (v *view) removeZone(ns *nsView) {
	k := zoneKey(ns.rec.Name)
	list := v.zones[k]
	for i, z := range list {
		if z == ns {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(v.zones, k)
	} else {
		v.zones[k] = list
	}
}

// errAbandoned is what waitFor returns when the view is replaced before it
// reaches the revision waited for: wait on the new view.
var errAbandoned = errors.New("registry: the view was replaced")

// waitFor blocks until the view has applied revision rev, or returns
// errAbandoned once the view is replaced.
func (v *view) waitFor(ctx context.Context, rev int64) error {
	for {
		v.mu.RLock()
		cur, ch := v.rev, v.notify
		v.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-v.abandoned:
			return errAbandoned
		default:
		}
		select {
		case <-ch:
		case <-v.abandoned:
			return errAbandoned
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// abandon marks the view replaced: it wakes every waiter, which then
// waits on the new view, and whoever waits for the view's next change.
func (v *view) abandon() {
	v.mu.Lock()
	defer v.mu.Unlock()
	select {
	case <-v.abandoned:
		return
	default:
	}
	close(v.abandoned)
	close(v.notify)
}
