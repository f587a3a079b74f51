package registry

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	custom    string
	pending   string // custom status taking effect at pendingAt (epoch ms)
	pendingAt int64
	probe     string
	// forced is a status a fault forces until forcedUntil (epoch ms).
	forced      string
	forcedUntil int64
	idx         int // position in svcView.list
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

// load builds a view from the store's snapshot. Instance records, nearly
// all of a large snapshot, are decoded on every CPU at once (at a million
// instances, decoding is most of a start), a window at a time so that
// few decoded records exist at once, and each window's stored bytes are
// let go once applied: the memory a start needs beyond the view stays
// small.
func loadView(ctx context.Context, st store.Store) (*view, error) {
	v := newView()
	var changes []store.Change
	v.keyRevs = map[string]int64{}
	rev, err := st.LoadRevs(ctx, func(key string, value []byte, keyRev int64) error {
		if relevant(key) {
			changes = append(changes, store.Change{Key: key, Value: value})
			if strings.HasPrefix(key, pOperation) {
				v.keyRevs[key] = keyRev
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer func() { v.keyRevs = nil }()
	sortByRank(changes)
	const window = 1 << 15
	for lo := 0; lo < len(changes) || lo == 0; lo += window {
		w := changes[lo:min(lo+window, len(changes))]
		if err := v.applySorted(rev, w, decodeInstances(w)); err != nil {
			return nil, err
		}
		clear(w)
	}
	return v, nil
}

// decodeInstances decodes the instance records among changes, in
// parallel, by index; an entry is nil for other keys and for a record
// that does not decode (applyOne decodes it again and reports the error).
func decodeInstances(changes []store.Change) []*instRecord {
	out := make([]*instRecord, len(changes))
	workers := runtime.GOMAXPROCS(0)
	const chunk = 4096
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(changes) {
					return
				}
				for i := lo; i < min(lo+chunk, len(changes)); i++ {
					if c := changes[i]; !c.Deleted() && strings.HasPrefix(c.Key, pInstance) {
						out[i], _ = decodeInstance(c.Value)
					}
				}
			}
		}()
	}
	wg.Wait()
	return out
}

func relevant(key string) bool {
	return strings.HasPrefix(key, pNamespace) || strings.HasPrefix(key, pService) ||
		strings.HasPrefix(key, pInstance) || strings.HasPrefix(key, pOperation) || key == kRevBase
}

// rank orders a commit's changes so that parents exist before children are
// added and children are gone before parents are removed.
func rank(c store.Change) int {
	var r int
	switch {
	case strings.HasPrefix(c.Key, pNamespace):
		r = 0
	case strings.HasPrefix(c.Key, pService):
		r = 1
	case strings.HasPrefix(c.Key, pInstance):
		r = 2
	default:
		r = 3
	}
	if c.Deleted() {
		return 10 - r
	}
	return r
}

// apply applies one commit (or a snapshot) at revision rev.
func (v *view) apply(rev int64, changes []store.Change) error {
	sortByRank(changes)
	return v.applySorted(rev, changes, nil)
}

// sortByRank puts changes in the order apply needs them (see rank),
// keeping the order of changes of the same rank.
func sortByRank(changes []store.Change) {
	sort.SliceStable(changes, func(a, b int) bool { return rank(changes[a]) < rank(changes[b]) })
}

// applySorted applies changes already in rank order. decoded, when not
// nil, holds instance records decoded beforehand, by index.
func (v *view) applySorted(rev int64, changes []store.Change, decoded []*instRecord) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.applying = rev
	for i, c := range changes {
		var pre *instRecord
		if decoded != nil {
			pre = decoded[i]
		}
		if err := v.applyOne(c, pre); err != nil {
			return err
		}
	}
	if rev > v.rev {
		v.rev = rev
	}
	close(v.notify)
	v.notify = make(chan struct{})
	return nil
}

// applyOne applies one change; pre, when not nil, is the instance record
// of c already decoded.
func (v *view) applyOne(c store.Change, pre *instRecord) error {
	switch {
	case strings.HasPrefix(c.Key, pNamespace):
		id := strings.TrimPrefix(c.Key, pNamespace)
		old := v.namespaces[id]
		if c.Deleted() {
			if old != nil {
				delete(v.byHTTPName, old.rec.scope.String()+"/"+old.rec.HTTPName)
				delete(v.namespaces, id)
				v.removeZone(old)
			}
			return nil
		}
		rec, err := decode[nsRecord](c.Value)
		if err != nil {
			return err
		}
		if old == nil {
			old = &nsView{byName: map[string]*svcView{}, byLower: map[string]*svcView{}}
			v.namespaces[id] = old
			old.rec = rec
			v.addZone(old)
		}
		old.rec = rec
		v.byHTTPName[rec.scope.String()+"/"+rec.HTTPName] = old
	case strings.HasPrefix(c.Key, pService):
		id := strings.TrimPrefix(c.Key, pService)
		old := v.services[id]
		if c.Deleted() {
			if old != nil {
				if old.ns.byName[old.rec.Name] == old {
					delete(old.ns.byName, old.rec.Name)
				}
				if old.ns.byLower[strings.ToLower(old.rec.Name)] == old {
					delete(old.ns.byLower, strings.ToLower(old.rec.Name))
				}
				delete(v.services, id)
			}
			return nil
		}
		rec, err := decode[svcRecord](c.Value)
		if err != nil {
			return err
		}
		ns := v.namespaces[rec.NamespaceID]
		if ns == nil {
			return nil // cannot happen: services are created in existing namespaces
		}
		if old == nil {
			old = &svcView{ns: ns, instances: map[string]*instView{}}
			v.services[id] = old
		} else if old.rec.HealthGen != rec.HealthGen {
			for _, inst := range old.list { // measured by the old check
				inst.probe = ""
			}
		}
		old.rec = rec
		ns.byName[rec.Name] = old
		ns.byLower[strings.ToLower(rec.Name)] = old
	case strings.HasPrefix(c.Key, pInstance):
		svcID, instID, _ := strings.Cut(strings.TrimPrefix(c.Key, pInstance), "/")
		svc := v.services[svcID]
		if svc == nil {
			return nil
		}
		if c.Deleted() {
			if svc.remove(instID) {
				svc.ns.instances--
			}
			return nil
		}
		rec := pre
		if rec == nil {
			var err error
			if rec, err = decodeInstance(c.Value); err != nil {
				return err
			}
		}
		if svc.put(rec) {
			svc.ns.instances++
		}
	case c.Key == kRevBase:
		if !c.Deleted() {
			b, err := decode[int64](c.Value)
			if err != nil {
				return err
			}
			v.revBase = *b
		}
	case strings.HasPrefix(c.Key, pOperation):
		id := strings.TrimPrefix(c.Key, pOperation)
		if c.Deleted() {
			v.ops.remove(id)
			return nil
		}
		rec, err := decode[opRecord](c.Value)
		if err != nil {
			return err
		}
		o := newOpView(rec)
		o.rev = v.applying
		if r, ok := v.keyRevs[c.Key]; ok {
			o.rev = r
		}
		if rec.changesInstances() {
			if svc := v.services[rec.Targets[cloudmap.OperationTargetTypeService]]; svc != nil {
				svc.opRev = max(svc.opRev, o.rev)
			}
		}
		v.ops.put(o)
	}
	return nil
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

// put adds or replaces an instance and reports whether it is new.
func (s *svcView) put(rec *instRecord) bool {
	attrs := make([]cloudmap.Attribute, 0, len(rec.Attributes))
	for k, val := range rec.Attributes {
		attrs = append(attrs, cloudmap.Attribute{Key: k, Value: val})
	}
	slices.SortFunc(attrs, func(a, b cloudmap.Attribute) int { return strings.Compare(a.Key, b.Key) })
	iv := &instView{id: rec.ID, crid: rec.CreatorRequestID, createdBy: rec.CreatedBy, attrs: attrs, custom: rec.Custom,
		pending: rec.CustomPending, pendingAt: rec.CustomAt, forced: rec.Forced, forcedUntil: rec.ForcedUntil}
	if s.rec == nil || rec.ProbeGen == s.rec.HealthGen {
		iv.probe = rec.Probe
	}
	old, replaced := s.instances[rec.ID]
	if replaced {
		iv.idx = old.idx
		s.list[old.idx] = iv
	} else {
		iv.idx = len(s.list)
		s.list = append(s.list, iv)
	}
	s.instances[rec.ID] = iv
	s.byAttr.Store(nil)
	return !replaced
}

// remove removes an instance and reports whether it was there.
func (s *svcView) remove(id string) bool {
	old, ok := s.instances[id]
	if !ok {
		return false
	}
	last := s.list[len(s.list)-1]
	s.list[old.idx] = last
	last.idx = old.idx
	s.list = s.list[:len(s.list)-1]
	delete(s.instances, id)
	s.byAttr.Store(nil)
	return true
}

// health is an instance's current health status as reads report it.
func (s *svcView) health(i *instView) string {
	if i.forcedUntil != 0 && time.Now().UnixMilli() < i.forcedUntil {
		return i.forced
	}
	switch {
	case s.rec.HealthCheckCustomConfig != nil:
		if i.pending == "" { // the common case: no delayed change, no clock read
			return i.customStatus(0)
		}
		return i.customStatus(time.Now().UnixMilli())
	case s.rec.HealthCheckConfig != nil:
		// Route 53 treats a new health check as healthy until it has
		// results.
		if i.probe == cloudmap.HealthStatusUnhealthy {
			return cloudmap.HealthStatusUnhealthy
		}
		return cloudmap.HealthStatusHealthy
	}
	return cloudmap.HealthStatusUnknown
}

// customStatus is the custom health status in effect at nowMS.
func (i *instView) customStatus(nowMS int64) string {
	if i.pending != "" && nowMS >= i.pendingAt {
		return i.pending
	}
	if i.custom != "" {
		return i.custom
	}
	return cloudmap.HealthStatusHealthy
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
