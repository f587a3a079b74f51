package registry

import (
	"context"
	"net/netip"
	"reflect"
	"strconv"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// DefaultFailureThreshold is the FailureThreshold of a health check that
// does not set one: Route 53's default of three checks.
const DefaultFailureThreshold = 3

// HealthTarget is one instance that a Route 53-style health check probes.
type HealthTarget struct {
	ServiceID  string
	InstanceID string
	// Type is HTTP, HTTPS or TCP.
	Type string
	// Path is the request path of HTTP and HTTPS checks ("/" by default).
	Path string
	// Host is the Host header of HTTP and HTTPS checks.
	Host string
	// Threshold is how many consecutive results against the current
	// status flip it.
	Threshold int
	// Addr is the instance's AWS_INSTANCE_IPV4 (or else
	// AWS_INSTANCE_IPV6) and AWS_INSTANCE_PORT; not valid when the
	// instance lacks them, and then every probe fails.
	Addr netip.AddrPort
	// Healthy is the status in effect now.
	Healthy bool
}

// Key identifies the target's instance.
func (t HealthTarget) Key() string { return t.ServiceID + "/" + t.InstanceID }

// HealthTargets lists every instance of every service with a
// HealthCheckConfig.
func (r *Registry) HealthTargets() []HealthTarget {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []HealthTarget
	for _, svc := range v.services {
		hc := svc.rec.HealthCheckConfig
		if hc == nil {
			continue
		}
		threshold := DefaultFailureThreshold
		if hc.FailureThreshold != nil {
			threshold = int(*hc.FailureThreshold)
		}
		path := hc.ResourcePath
		if path == "" {
			path = "/"
		}
		for _, inst := range svc.list {
			out = append(out, HealthTarget{
				ServiceID: svc.rec.ID, InstanceID: inst.id, Type: hc.Type, Path: path, Threshold: threshold,
				Host: svc.rec.Name + "." + svc.ns.rec.Name, Addr: probeAddr(inst),
				Healthy: inst.probe != cloudmap.HealthStatusUnhealthy,
			})
		}
	}
	return out
}

func probeAddr(inst *instView) netip.AddrPort {
	return probeAddrOf(inst.attr)
}

// checkProbeTarget refuses an instance of a service with a Route 53-style
// health check whose address the probe policy denies.
func (r *Registry) checkProbeTarget(svc *svcRecord, attrs map[string]string) error {
	if svc.HealthCheckConfig == nil || r.cfg.ProbeAllowed == nil {
		return nil
	}
	addr := probeAddrOf(func(k string) (string, bool) { v, ok := attrs[k]; return v, ok })
	if !addr.IsValid() {
		return nil // nothing to probe: the check fails without a probe
	}
	if err := r.cfg.ProbeAllowed(addr); err != nil {
		return invalid("The instance can't be registered in service %s, whose health check would probe it: %v", svc.ID, err)
	}
	return nil
}

// probeAddrOf is the address a health check probes, from the instance's
// attributes: AWS_INSTANCE_IPV4 (or else AWS_INSTANCE_IPV6) and
// AWS_INSTANCE_PORT; the zero AddrPort when they don't name one.
func probeAddrOf(attr func(string) (string, bool)) netip.AddrPort {
	ip, ok := attr(AttrIPv4)
	if !ok {
		ip, ok = attr(AttrIPv6)
	}
	port, okPort := attr(AttrPort)
	if !ok || !okPort {
		return netip.AddrPort{}
	}
	addr, err := netip.ParseAddr(ip)
	p, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || perr != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(addr, uint16(p))
}

// Changed returns a channel that is closed at the next change the view
// applies.
func (r *Registry) Changed() <-chan struct{} {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.notify
}

// ReportHealth records the status a health check settled on for target.
// It is durable, so the status survives a restart. It is ignored when the
// instance, its address or its service's health check changed since the
// target was listed: the result is about something that no longer exists.
func (r *Registry) ReportHealth(ctx context.Context, t HealthTarget, healthy bool) error {
	status := cloudmap.HealthStatusUnhealthy
	if healthy {
		status = cloudmap.HealthStatusHealthy
	}
	return r.update(ctx, func(tx store.Tx) error {
		svc, err := getRecord[svcRecord](tx, svcKey(t.ServiceID))
		if err != nil || svc == nil || svc.HealthCheckConfig == nil || svc.HealthCheckConfig.Type != t.Type {
			return err
		}
		inst, err := getRecord[instRecord](tx, instKey(t.ServiceID, t.InstanceID))
		if err != nil || inst == nil {
			return err
		}
		if probeAddr(&instView{attrs: pairs(inst.Attributes)}) != t.Addr || inst.Probe == status && inst.ProbeGen == svc.HealthGen {
			return nil
		}
		inst.Probe, inst.ProbeGen = status, svc.HealthGen
		return putRecord(tx, instKey(t.ServiceID, t.InstanceID), inst)
	})
}

func sameHealthCheck(a, b *cloudmap.HealthCheckConfig) bool { return reflect.DeepEqual(a, b) }
