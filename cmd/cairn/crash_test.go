//go:build unix

package main

// TestCrashUnderLoad kills the cairn binary (SIGKILL) under load, again
// and again, and checks each time that what it acknowledged survived (its
// model of the server is in crashmodel_test.go, the child process in
// process_test.go).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

func TestCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills cairn processes")
	}
	t.Parallel()
	begin := time.Now()
	dataDir := t.TempDir()
	m := &model{insts: map[string]*instRec{}, ops: map[string]opInfo{}}

	srv := startServer(t, dataDir)
	t.Logf("first start: %v (with the build, unless a parallel test did it)", time.Since(begin).Round(time.Millisecond))
	env := setupCrashEnv(t, srv.client())

	const cycles = 3
	for cycle := 1; cycle <= cycles; cycle++ {
		dur := time.Duration(300+rand.IntN(500)) * time.Millisecond
		acked, deregs := runLoad(t, srv, m, env, cycle, dur)
		checkBolt(t, dataDir)
		t.Logf("cycle %d: killed after %v of load or more (on a busy machine): %d registrations and %d deregistrations acknowledged",
			cycle, dur, acked, deregs)

		started := time.Now()
		srv = startServer(t, dataDir)
		t.Logf("cycle %d: restart took %v", cycle, time.Since(started).Round(time.Millisecond))
		verified := time.Now()
		n, inFlight, took := verifyState(t, srv.client(), m, env)
		t.Logf("cycle %d: verified %d instances in %v; %d of the %d requests in flight at the kill took effect",
			cycle, n, time.Since(verified).Round(time.Millisecond), took, inFlight)
		if t.Failed() {
			return
		}
	}

	// The namespace's instance counter, which only the quota shows, must
	// equal the instances present: with a quota of one more, one new
	// instance fits and a second does not.
	total := m.count(stPresent)
	if code := srv.stop(t); code != 0 {
		t.Fatalf("cairn serve exited %d after SIGTERM", code)
	}
	srv = startServer(t, dataDir, "--limit-instances-per-namespace", strconv.Itoa(total+1))
	c := srv.client()
	ctx := context.Background()
	register := func(svc int, id string) error {
		_, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: &env.svcIDs[svc], InstanceId: &id, Attributes: instAttrs(id, 0, 0)})
		return err
	}
	if err := register(0, "quota-1"); err != nil {
		t.Errorf("register 1 instance with %d present and a namespace quota of %d: %v", total, total+1, err)
	}
	var limit *types.ResourceLimitExceeded
	if err := register(1, "quota-2"); !errors.As(err, &limit) {
		t.Errorf("register 2 instances with %d present and a namespace quota of %d: %v; want ResourceLimitExceeded", total, total+1, err)
	}
	for id, r := range m.insts { // re-registering an instance is not limited
		if r.state == stPresent {
			if err := register(r.svc, id); err != nil {
				t.Errorf("re-register %s at the quota: %v", id, err)
			}
			break
		}
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("cairn serve exited %d after SIGTERM", code)
	}
	checkBolt(t, dataDir)
	t.Logf("total: %v", time.Since(begin).Round(time.Millisecond))
}

func setupCrashEnv(t *testing.T, c *sd.Client) *crashEnv {
	t.Helper()
	ctx := context.Background()
	env := &crashEnv{nsName: "crash.example"}
	ns, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: &env.nsName})
	if err != nil {
		t.Fatalf("CreateHttpNamespace: %v", err)
	}
	op, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: ns.OperationId})
	if err != nil {
		t.Fatalf("GetOperation: %v", err)
	}
	if op.Operation.Status != types.OperationStatusSuccess {
		t.Fatalf("CreateHttpNamespace operation is %s; want SUCCESS", op.Operation.Status)
	}
	env.nsID = op.Operation.Targets[string(types.OperationTargetTypeNamespace)]
	for i := range crashServices {
		name := fmt.Sprintf("svc-%d", i)
		out, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: &name, NamespaceId: &env.nsID})
		if err != nil {
			t.Fatalf("CreateService: %v", err)
		}
		env.svcIDs = append(env.svcIDs, *out.Service.Id)
		env.svcNames = append(env.svcNames, name)
	}
	return env
}

// runLoad registers and deregisters instances from many goroutines for
// dur, then kills the server with SIGKILL while requests are in flight.
// Only a successful response is an acknowledgement.
func runLoad(t *testing.T, srv *child, m *model, env *crashEnv, cycle int, dur time.Duration) (acked, deregs int64) {
	t.Helper()
	c := srv.client()
	ctx := context.Background()
	var killed atomic.Bool
	var nAcked, nDeregs atomic.Int64
	stop := make(chan struct{})
	// Deregistration candidates: instances acknowledged present, which
	// no registrar touches again.
	candidates := make(chan string, 4096)
	m.mu.Lock()
	for _, id := range slices.Sorted(maps.Keys(m.insts)) {
		if m.insts[id].state == stPresent && rand.IntN(4) == 0 && len(candidates) < cap(candidates)/2 {
			candidates <- id
		}
	}
	m.mu.Unlock()
	unexpected := func(what string, err error) {
		if !killed.Load() {
			t.Errorf("%s before the kill: %v", what, err)
		}
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}

	var wg sync.WaitGroup
	for w := range registrars {
		wg.Go(func() {
			svc := w % crashServices
			var own []string // present instances only this goroutine re-registers
			for n := 0; !stopped(); n++ {
				id := fmt.Sprintf("c%d-w%02d-%06d", cycle, w, n)
				gen := 0
				if len(own) > 0 && n%8 == 7 { // re-register one, with new attributes
					id = own[rand.IntN(len(own))]
					gen = n
				}
				attrs := instAttrs(id, cycle, gen)
				m.mu.Lock()
				r := m.insts[id]
				if r == nil {
					r = &instRec{svc: svc, state: stAbsent}
					m.insts[id] = r
				}
				r.wasPresent = r.state == stPresent
				r.state, r.next = stRegistering, attrs
				m.mu.Unlock()
				out, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{
					ServiceId: &env.svcIDs[svc], InstanceId: &id, Attributes: attrs,
					CreatorRequestId: aws.String(fmt.Sprintf("%s-%d", id, gen)),
				})
				if err != nil {
					unexpected("RegisterInstance "+id, err)
					continue
				}
				m.mu.Lock()
				r.state, r.attrs, r.next = stPresent, attrs, nil
				m.ops[*out.OperationId] = opInfo{types.OperationTypeRegisterInstance, id}
				m.mu.Unlock()
				nAcked.Add(1)
				if gen == 0 {
					if n%3 == 0 {
						select {
						case candidates <- id:
						default:
							own = append(own, id)
						}
					} else {
						own = append(own, id)
					}
				}
			}
		})
	}
	for range deregistrars {
		wg.Go(func() {
			for !stopped() {
				var id string
				select {
				case id = <-candidates:
				case <-stop:
					return
				}
				m.mu.Lock()
				r := m.insts[id]
				r.state = stDeregistering
				m.mu.Unlock()
				out, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: &env.svcIDs[r.svc], InstanceId: &id})
				if err != nil {
					unexpected("DeregisterInstance "+id, err)
					continue
				}
				m.mu.Lock()
				r.state, r.attrs = stAbsent, nil
				m.ops[*out.OperationId] = opInfo{types.OperationTypeDeregisterInstance, id}
				m.mu.Unlock()
				nDeregs.Add(1)
			}
		})
	}
	// The kill comes after dur, at a random moment; on a machine so busy
	// that the load has not yet done enough to test (50 registrations), it
	// waits for that, up to a minute.
	began := time.Now()
	time.Sleep(dur)
	for nAcked.Load() < 50 && time.Since(began) < time.Minute {
		time.Sleep(10 * time.Millisecond)
	}
	loaded := time.Since(began)
	// No new requests from here on; those in flight meet the SIGKILL.
	killed.Store(true)
	close(stop)
	srv.kill()
	wg.Wait()
	if nAcked.Load() < 50 {
		t.Errorf("only %d registrations were acknowledged in %v; the load is too light to test much", nAcked.Load(), loaded.Round(time.Millisecond))
	}
	return nAcked.Load(), nDeregs.Load()
}

// verifyState checks the restarted server against the model, then makes
// the model what the server holds (resolving the unacknowledged
// requests). It returns the number of instances present, of requests in
// flight at the crash, and of those that took effect.
func verifyState(t *testing.T, c *sd.Client, m *model, env *crashEnv) (present, inFlight, tookEffect int) {
	t.Helper()
	ctx := context.Background()
	m.mu.Lock()
	defer m.mu.Unlock()

	// The namespace and its services.
	ns, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: &env.nsID})
	if err != nil {
		t.Fatalf("GetNamespace: %v", err)
	}
	if got := aws.ToInt32(ns.Namespace.ServiceCount); got != crashServices {
		t.Errorf("namespace ServiceCount = %d; want %d", got, crashServices)
	}
	svcs, err := c.ListServices(ctx, &sd.ListServicesInput{})
	if err != nil {
		t.Fatalf("ListServices: %v", err)
	}
	if len(svcs.Services) != crashServices {
		t.Errorf("ListServices returned %d services; want %d", len(svcs.Services), crashServices)
	}

	// Instances: ListInstances, page by page.
	listed := map[string]map[string]string{} // id -> attributes
	listedSvc := map[string]int{}
	for svc, svcID := range env.svcIDs {
		var token *string
		var ids []string
		for {
			out, err := c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: &svcID, NextToken: token, MaxResults: aws.Int32(100)})
			if err != nil {
				t.Fatalf("ListInstances: %v", err)
			}
			for _, in := range out.Instances {
				id := aws.ToString(in.Id)
				if _, dup := listed[id]; dup {
					t.Errorf("ListInstances lists %s twice", id)
				}
				listed[id], listedSvc[id] = in.Attributes, svc
				ids = append(ids, id)
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		if !slices.IsSorted(ids) {
			t.Errorf("ListInstances of %s is not in order of ID", svcID)
		}
		out, err := c.GetService(ctx, &sd.GetServiceInput{Id: &svcID})
		if err != nil {
			t.Fatalf("GetService: %v", err)
		}
		if got := int(aws.ToInt32(out.Service.InstanceCount)); got != len(ids) {
			t.Errorf("service %s: InstanceCount = %d, but ListInstances lists %d", svcID, got, len(ids))
		}
		// DiscoverInstances, one shard at a time so that each answer is
		// below MaxResults and so complete, must return the same.
		discovered := 0
		for shard := range crashShards {
			out, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{
				NamespaceName: &env.nsName, ServiceName: &env.svcNames[svc], MaxResults: aws.Int32(1000),
				HealthStatus: types.HealthStatusFilterAll, QueryParameters: map[string]string{"shard": strconv.Itoa(shard)},
			})
			if err != nil {
				t.Fatalf("DiscoverInstances: %v", err)
			}
			if len(out.Instances) >= 1000 {
				t.Fatalf("DiscoverInstances of shard %d returned %d instances; the test needs more shards", shard, len(out.Instances))
			}
			for _, in := range out.Instances {
				id := aws.ToString(in.InstanceId)
				if a, ok := listed[id]; !ok || listedSvc[id] != svc || !maps.Equal(a, in.Attributes) {
					t.Errorf("DiscoverInstances returned %s %v, which ListInstances of %s does not list so", id, in.Attributes, svcID)
				}
			}
			discovered += len(out.Instances)
		}
		if discovered != len(ids) {
			t.Errorf("service %s: DiscoverInstances returned %d instances, ListInstances %d", svcID, discovered, len(ids))
		}
	}

	// Every listed instance was sent, with these attributes; every
	// acknowledged one is there; no acknowledged deregistration is.
	outcome := map[string]bool{} // unacknowledged requests: did they take effect?
	for id, attrs := range listed {
		r := m.insts[id]
		if r == nil {
			t.Errorf("instance %s is listed but was never registered", id)
			continue
		}
		if listedSvc[id] != r.svc {
			t.Errorf("instance %s is listed in service %d; it was registered in %d", id, listedSvc[id], r.svc)
		}
		switch r.state {
		case stAbsent:
			t.Errorf("instance %s is listed after its deregistration was acknowledged", id)
		case stPresent, stDeregistering:
			if !maps.Equal(attrs, r.attrs) {
				t.Errorf("instance %s has attributes %v; the last acknowledged registration set %v", id, attrs, r.attrs)
			}
			outcome[id] = false
		case stRegistering:
			switch {
			case maps.Equal(attrs, r.next):
				outcome[id] = true
			case r.wasPresent && maps.Equal(attrs, r.attrs):
				outcome[id] = false
			default:
				t.Errorf("instance %s has attributes %v; want those of a registration sent: %v (or %v)", id, attrs, r.next, r.attrs)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.insts)) {
		r := m.insts[id]
		_, ok := listed[id]
		switch r.state {
		case stPresent:
			if !ok {
				t.Errorf("instance %s was acknowledged registered but is missing after the crash", id)
				continue
			}
		case stRegistering:
			if !ok {
				outcome[id] = false
				if r.wasPresent {
					t.Errorf("instance %s, present before an unacknowledged re-registration, is missing", id)
				}
			}
		case stDeregistering:
			outcome[id] = !ok
		}
		if ok {
			present++
		}
	}

	// GetInstance agrees, for a sample of present and absent instances.
	checked := 0
	for id, r := range m.insts {
		if checked == 100 {
			break
		}
		checked++
		out, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: &env.svcIDs[r.svc], InstanceId: &id})
		var nf *types.InstanceNotFound
		if attrs, ok := listed[id]; ok {
			if err != nil {
				t.Errorf("GetInstance %s (listed): %v", id, err)
			} else if !maps.Equal(out.Instance.Attributes, attrs) {
				t.Errorf("GetInstance %s: attributes %v; ListInstances has %v", id, out.Instance.Attributes, attrs)
			}
		} else if !errors.As(err, &nf) {
			t.Errorf("GetInstance %s (not listed): %v; want InstanceNotFound", id, err)
		}
	}

	// Operations: every one is finished with SUCCESS; every acknowledged
	// one is listed; the others belong to unacknowledged requests, and
	// exist exactly for those that took effect, as the operation record
	// and its effect are one commit.
	listedOps := map[string]bool{}
	for _, svcID := range env.svcIDs {
		var token *string
		for {
			out, err := c.ListOperations(ctx, &sd.ListOperationsInput{NextToken: token, MaxResults: aws.Int32(100),
				Filters: []types.OperationFilter{{Name: types.OperationFilterNameServiceId, Condition: types.FilterConditionEq, Values: []string{svcID}}}})
			if err != nil {
				t.Fatalf("ListOperations: %v", err)
			}
			for _, op := range out.Operations {
				id := aws.ToString(op.Id)
				if listedOps[id] {
					t.Errorf("ListOperations lists %s twice", id)
				}
				listedOps[id] = true
				if op.Status != types.OperationStatusSuccess {
					t.Errorf("operation %s is %s; want SUCCESS", id, op.Status)
				}
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
	}
	for id, info := range m.ops {
		if !listedOps[id] {
			t.Errorf("acknowledged %s operation %s of %s is not listed", info.typ, id, info.inst)
		}
	}
	took := map[string]types.OperationType{} // instance -> unacknowledged operation found
	for id := range listedOps {
		if _, ok := m.ops[id]; ok {
			continue
		}
		out, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: &id})
		if err != nil {
			t.Fatalf("GetOperation %s: %v", id, err)
		}
		inst := out.Operation.Targets[string(types.OperationTargetTypeInstance)]
		r := m.insts[inst]
		want := types.OperationTypeRegisterInstance
		if r != nil && r.state == stDeregistering {
			want = types.OperationTypeDeregisterInstance
		}
		if r == nil || (r.state != stRegistering && r.state != stDeregistering) || out.Operation.Type != want {
			t.Errorf("operation %s (%s of %q) matches no request in flight at the crash", id, out.Operation.Type, inst)
			continue
		}
		if prev, dup := took[inst]; dup {
			t.Errorf("instance %s has two unacknowledged operations (%s, %s)", inst, prev, out.Operation.Type)
		}
		took[inst] = out.Operation.Type
		m.ops[id] = opInfo{out.Operation.Type, inst}
	}
	for id, r := range m.insts {
		if r.state != stRegistering && r.state != stDeregistering {
			continue
		}
		_, hasOp := took[id]
		inFlight++
		if outcome[id] {
			tookEffect++
		}
		// A re-registration that left the old attributes in place, or a
		// registration that left none, must have left no operation.
		if outcome[id] != hasOp {
			t.Errorf("instance %s: unacknowledged request took effect: %v; its operation is listed: %v", id, outcome[id], hasOp)
		}
	}
	for id := range listedOps {
		if _, ok := m.ops[id]; !ok {
			m.ops[id] = opInfo{}
		}
	}

	// The model becomes what the server holds.
	for id, r := range m.insts {
		if attrs, ok := listed[id]; ok {
			r.state, r.attrs = stPresent, attrs
		} else {
			r.state, r.attrs = stAbsent, nil
		}
		r.next, r.wasPresent = nil, false
	}
	return present, inFlight, tookEffect
}
