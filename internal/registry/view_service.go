package registry

import (
	"slices"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// newInstView folds an instance record into what the view keeps.
func newInstView(rec *instRecord) *instView {
	attrs := make([]cloudmap.Attribute, 0, len(rec.Attributes))
	for k, val := range rec.Attributes {
		attrs = append(attrs, cloudmap.Attribute{Key: k, Value: val})
	}
	slices.SortFunc(attrs, func(a, b cloudmap.Attribute) int { return strings.Compare(a.Key, b.Key) })
	// The attributes as DiscoverInstances answers carry them, encoded once
	// here rather than at every answer; the kept keys and values share
	// the encoding's text.
	attrsJSON := cloudmap.EncodeAttributes(attrs)
	iv := &instView{id: rec.ID, crid: rec.CreatorRequestID, createdBy: rec.CreatedBy, attrs: attrs, attrsJSON: attrsJSON, custom: rec.Custom,
		pending: rec.CustomPending, pendingAt: rec.CustomAt, probe: rec.Probe, forced: rec.Forced, forcedUntil: rec.ForcedUntil}
	iv.dnsData()
	return iv
}

func newSvcView(ns *nsView) *svcView {
	s := &svcView{ns: ns, instances: map[string]*instView{}}
	if ns.rec.isDNS() {
		s.hosts = map[string]*instView{}
	}
	return s
}

// put adds or replaces an instance and reports whether it is new.
// probeGen is the service's HealthGen when the instance's probe result
// was recorded: a result measured under an older check is dropped.
func (s *svcView) put(iv *instView, probeGen int64) bool {
	if s.rec != nil && probeGen != s.rec.HealthGen {
		iv.probe = ""
	}
	old, replaced := s.instances[iv.id]
	if replaced {
		s.unindexHost(old)
		iv.idx = old.idx
		s.list[old.idx] = iv
	} else {
		iv.idx = len(s.list)
		s.list = append(s.list, iv)
	}
	s.instances[iv.id] = iv
	s.indexHost(iv)
	s.byAttr.Store(nil)
	return !replaced
}

// reserve makes room for n instances in a service that has none yet: a
// start, which knows how many each service has, links a million in
// without growing (and rehashing) each service's maps and list from
// empty.
func (s *svcView) reserve(n int) {
	if len(s.list) > 0 || n <= 0 {
		return
	}
	s.instances = make(map[string]*instView, n)
	s.list = make([]*instView, 0, n)
	if s.hosts != nil {
		s.hosts = make(map[string]*instView, n)
	}
}

// remove removes an instance and reports whether it was there.
func (s *svcView) remove(id string) bool {
	old, ok := s.instances[id]
	if !ok {
		return false
	}
	s.unindexHost(old)
	last := s.list[len(s.list)-1]
	s.list[old.idx] = last
	last.idx = old.idx
	s.list = s.list[:len(s.list)-1]
	delete(s.instances, id)
	s.byAttr.Store(nil)
	return true
}

// indexHost adds iv to the host-name indexes of a service of a DNS
// namespace: by its lower-cased ID, and by each lower-cased suffix of its
// ID after a dot (the empty non-terminals its host name makes).
func (s *svcView) indexHost(iv *instView) {
	if s.hosts == nil {
		return
	}
	k := strings.ToLower(iv.id) // the same string when already lower case
	if _, taken := s.hosts[k]; !taken {
		s.hosts[k] = iv
	} else {
		if s.hostsMore == nil {
			s.hostsMore = map[string][]*instView{}
		}
		s.hostsMore[k] = append(s.hostsMore[k], iv)
	}
	for i := 0; i < len(k); i++ {
		if k[i] == '.' {
			if s.ents == nil {
				s.ents = map[string][]*instView{}
			}
			s.ents[k[i+1:]] = append(s.ents[k[i+1:]], iv)
		}
	}
}

func (s *svcView) unindexHost(iv *instView) {
	if s.hosts == nil {
		return
	}
	k := strings.ToLower(iv.id)
	if s.hosts[k] == iv {
		if more := s.hostsMore[k]; len(more) > 0 {
			s.hosts[k] = more[0]
			dropHost(s.hostsMore, k, more[0])
		} else {
			delete(s.hosts, k)
		}
	} else {
		dropHost(s.hostsMore, k, iv)
	}
	for i := 0; i < len(k); i++ {
		if k[i] == '.' {
			dropHost(s.ents, k[i+1:], iv)
		}
	}
}

// dropHost removes iv from m[k], and m[k] when it is left empty.
func dropHost(m map[string][]*instView, k string, iv *instView) {
	list := m[k]
	i := slices.Index(list, iv)
	if i < 0 {
		return
	}
	if len(list) == 1 {
		delete(m, k)
		return
	}
	m[k] = slices.Delete(slices.Clone(list), i, i+1)
}

// hostsNamed returns the instances whose ID is label, ignoring ASCII case
// (label is lower case). The view's read lock must be held.
func (s *svcView) hostsNamed(label string) (*instView, []*instView) {
	return s.hosts[label], s.hostsMore[label]
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
