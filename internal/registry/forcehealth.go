package registry

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// ForceHealth makes an instance report status (HEALTHY or UNHEALTHY) for
// d, whatever its health checks say: in discovery, DNS answers and
// GetInstancesHealthStatus. It is a fault for tests; it is stored with the
// instance, so every server sharing the store sees it, and it ends by
// itself. A d of zero ends a forced status at once. The caller must be
// able to reach the service (its own, or shared with it).
func (r *Registry) ForceHealth(ctx context.Context, c Caller, serviceID, instanceID, status string, d time.Duration) error {
	if d > 0 && status != cloudmap.HealthStatusHealthy && status != cloudmap.HealthStatusUnhealthy {
		return invalid("A forced health status is HEALTHY or UNHEALTHY, not %q", status)
	}
	if d < 0 {
		return invalid("A forced health status lasts a positive duration, not %v", d)
	}
	return r.update(ctx, func(tx store.Tx) error {
		svc, err := txService(tx, c, serviceID)
		if err != nil {
			return err
		}
		inst, err := getRecord[instRecord](tx, instKey(svc.ID, instanceID))
		if err != nil {
			return err
		}
		if inst == nil {
			return notFound(ResInstance, instanceID)
		}
		if d == 0 {
			if inst.Forced == "" {
				return nil
			}
			inst.Forced, inst.ForcedUntil = "", 0
		} else {
			inst.Forced, inst.ForcedUntil = status, r.now().Add(d).UnixMilli()
		}
		return putRecord(tx, instKey(svc.ID, inst.ID), inst)
	})
}
