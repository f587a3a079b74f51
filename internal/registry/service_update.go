package registry

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// UpdateService starts changing a service's description, record TTLs and
// Route 53 health check.
func (r *Registry) UpdateService(ctx context.Context, c Caller, in *cloudmap.UpdateServiceRequest) (*cloudmap.UpdateServiceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	id, err := r.startOperation(ctx, c, opStart{prepare: func(tx store.Tx) (*opPlan, error) {
		svc, ns, err := txServiceAndNamespace(tx, c, in.Id)
		if err != nil {
			return nil, err
		}
		change, err := planServiceChange(svc, ns, in.Service)
		if err != nil {
			return nil, err
		}
		if len(ns.SharedWith) > 0 {
			if other, err := instanceByOtherAccount(tx, svc.ID, c.Account); err != nil {
				return nil, err
			} else if other != "" {
				return nil, invalid("The service %s is in a shared namespace and has instances registered by account %s; only services whose instances were all registered by the caller can be updated", svc.ID, other)
			}
		}
		return &opPlan{typ: cloudmap.OperationTypeUpdateService, targetID: svc.ID, lock: pLock + svcKey(svc.ID), owner: &svc.scope,
			targets: map[string]string{cloudmap.OperationTargetTypeNamespace: ns.ID, cloudmap.OperationTargetTypeService: svc.ID},
			work:    &opWork{ServiceID: svc.ID, Service: change}}, nil
	}})
	if err != nil {
		return nil, err
	}
	return &cloudmap.UpdateServiceResponse{OperationId: id}, nil
}

// planServiceChange validates a ServiceChange against the service. Record
// types can't change, only their TTLs; an omitted HealthCheckConfig is
// deleted, as AWS documents; an omitted DnsConfig leaves the records as
// they are (a DNS service's records can't be removed).
func planServiceChange(svc *svcRecord, ns *nsRecord, ch *cloudmap.ServiceChange) (*svcChange, error) {
	if ns.Type == cloudmap.NamespaceTypeHttp {
		return nil, invalid("UpdateService can't update a service in an HTTP namespace (%s)", ns.ID)
	}
	out := &svcChange{HealthCheckConfig: ch.HealthCheckConfig}
	if ch.Description != "" {
		d := ch.Description
		out.Description = &d
	}
	records := ""
	if svc.DNSConfig != nil {
		records, _ = recordSet(svc.DNSConfig.DnsRecords)
	}
	if ch.DnsConfig != nil {
		if svc.DNSConfig == nil {
			return nil, invalid("The service %s has no DNS records; record types can't be added after creation", svc.ID)
		}
		set, err := recordSet(ch.DnsConfig.DnsRecords)
		if err != nil {
			return nil, err
		}
		if set != records {
			return nil, invalid("The record types of a service can't be changed (%s to %s); only their TTLs can", records, set)
		}
		out.DNSRecords = ch.DnsConfig.DnsRecords
	}
	if ch.HealthCheckConfig != nil {
		if svc.HealthCheckCustomConfig != nil {
			return nil, invalid("The service %s has a HealthCheckCustomConfig; it can't also have a HealthCheckConfig", svc.ID)
		}
		if old := svc.HealthCheckConfig; old != nil && old.Type != ch.HealthCheckConfig.Type {
			return nil, invalid("The health check type of a service can't be changed (%s to %s)", old.Type, ch.HealthCheckConfig.Type)
		}
		if err := checkHealthCheck(ch.HealthCheckConfig, ns, records); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *Registry) execUpdateService(tx store.Tx, w *opWork) (*opFailure, error) {
	svc, err := getRecord[svcRecord](tx, svcKey(w.ServiceID))
	if err != nil {
		return nil, err
	}
	if svc == nil {
		return &opFailure{"INTERNAL_FAILURE", fmt.Sprintf("the service %s no longer exists", w.ServiceID)}, nil
	}
	ch := w.Service
	if ch.Description != nil {
		svc.Description = *ch.Description
	}
	if ch.DNSRecords != nil && svc.DNSConfig != nil {
		dc := *svc.DNSConfig
		dc.DnsRecords = ch.DNSRecords
		svc.DNSConfig = &dc
	}
	if !sameHealthCheck(svc.HealthCheckConfig, ch.HealthCheckConfig) {
		// The instances' statuses were measured by the old check: a new
		// check starts healthy. They are forgotten by generation, in this
		// one record, however many instances the service has.
		svc.HealthGen++
	}
	svc.HealthCheckConfig = ch.HealthCheckConfig
	return nil, putRecord(tx, svcKey(svc.ID), svc)
}
