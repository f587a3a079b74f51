package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// revFixture is a registry over a bolt store in dir, with one HTTP
// namespace "ns" and the helpers the tests below share.
type revFixture struct {
	t     *testing.T
	dir   string
	st    *bolt.Store
	r     *Registry
	cfg   Config
	c     Caller
	nsID  string
	svcID string
}

func newRevFixture(t *testing.T, cfg Config) *revFixture {
	f := &revFixture{t: t, dir: t.TempDir(), cfg: cfg, c: Caller{Account: "000000000000", Region: "us-east-1"}}
	f.open()
	t.Cleanup(f.close)
	ctx := context.Background()
	op, err := f.r.CreateHttpNamespace(ctx, f.c, &cloudmap.CreateHttpNamespaceRequest{Name: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got, err := f.r.GetOperation(ctx, f.c, &cloudmap.GetOperationRequest{OperationId: op.OperationId})
		if err != nil {
			t.Fatal(err)
		}
		if got.Operation.Status == cloudmap.OperationStatusSuccess {
			f.nsID = got.Operation.Targets["NAMESPACE"]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the namespace's creation is still %s", got.Operation.Status)
		}
	}
	f.svcID = f.createService("web")
	return f
}

func (f *revFixture) open() {
	st, err := bolt.Open(f.dir, bolt.DefaultOptions())
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := New(context.Background(), st, f.cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.st, f.r = st, r
}

func (f *revFixture) close() {
	if f.r != nil {
		f.r.Close()
		_ = f.st.Close()
		f.r = nil
	}
}

func (f *revFixture) restart() {
	f.close()
	f.open()
}

func (f *revFixture) createService(name string) string {
	out, err := f.r.CreateService(context.Background(), f.c, &cloudmap.CreateServiceRequest{Name: name, NamespaceId: f.nsID})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.Service.Id
}

func (f *revFixture) register(svcID, id string) {
	f.t.Helper()
	if _, err := f.r.RegisterInstance(context.Background(), f.c, &cloudmap.RegisterInstanceRequest{ServiceId: svcID, InstanceId: id,
		CreatorRequestId: "crid-" + id + fmt.Sprint(time.Now().UnixNano()), Attributes: map[string]string{AttrIPv4: "192.0.2.1"}}); err != nil {
		f.t.Fatalf("RegisterInstance %s: %v", id, err)
	}
}

func (f *revFixture) deregister(svcID, id string) {
	f.t.Helper()
	if _, err := f.r.DeregisterInstance(context.Background(), f.c, &cloudmap.DeregisterInstanceRequest{ServiceId: svcID, InstanceId: id}); err != nil {
		f.t.Fatalf("DeregisterInstance %s: %v", id, err)
	}
}

func (f *revFixture) revision(svc string) int64 {
	f.t.Helper()
	out, err := f.r.DiscoverInstancesRevision(context.Background(), f.c, &cloudmap.DiscoverInstancesRevisionRequest{NamespaceName: "ns", ServiceName: svc})
	if err != nil {
		f.t.Fatal(err)
	}
	return *out.InstancesRevision
}

// TestRegisterWritesOnlyItsOwnKeys checks the commits of registrations and
// deregistrations: each writes the instance's key, its operation's and its
// token's, and nothing shared with other instances (no namespace or
// service record).
func TestRegisterWritesOnlyItsOwnKeys(t *testing.T) {
	for _, delay := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(fmt.Sprint("delay=", delay), func(t *testing.T) {
			f := newRevFixture(t, Config{OperationDelay: delay, Limits: DefaultLimits()})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events := f.st.Watch(ctx, f.r.currentView().rev)
			waitDone := func() bool {
				v := f.r.currentView()
				v.mu.RLock()
				defer v.mu.RUnlock()
				for _, op := range v.ops.byID {
					if !op.done() {
						return false
					}
				}
				return true
			}
			settle := func() {
				for deadline := time.Now().Add(10 * time.Second); !waitDone(); time.Sleep(5 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("operations did not finish")
					}
				}
			}
			f.register(f.svcID, "a")
			f.register(f.svcID, "b")
			settle()
			f.deregister(f.svcID, "a")
			settle()
			last := f.r.currentView().rev
			own := []string{pInstance + f.svcID + "/", pOperation, pIdem, pLock + pInstance + f.svcID + "/"}
			for ev := range events {
				for _, ch := range ev.Changes {
					ok := false
					for _, p := range own {
						ok = ok || strings.HasPrefix(ch.Key, p)
					}
					if !ok {
						t.Errorf("commit %d wrote %s, which is not the instance's or its operation's", ev.Rev, ch.Key)
					}
				}
				if ev.Rev >= last {
					break
				}
			}
		})
	}
}

// TestInstancesRevisionOnlyGrows follows one service's InstancesRevision
// through registrations, deregistrations, health changes, restarts, the
// expiry of the operations behind it, and the service deleted and created
// again under its name.
func TestInstancesRevisionOnlyGrows(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	f := newRevFixture(t, Config{OperationRetention: time.Hour, Now: clock.Now, Limits: DefaultLimits()})
	other := f.createService("other")
	last := f.revision("web")
	step := func(what string, changes bool) {
		t.Helper()
		rev := f.revision("web")
		switch {
		case changes && rev <= last:
			t.Errorf("after %s: InstancesRevision %d, want more than %d", what, rev, last)
		case !changes && rev != last:
			t.Errorf("after %s: InstancesRevision %d, want %d unchanged", what, rev, last)
		}
		last = rev
	}
	f.register(f.svcID, "a")
	step("a registration", true)
	f.register(f.svcID, "a")
	step("the same instance registered again", true)
	f.register(other, "x")
	step("a registration into another service", false)
	f.register(f.svcID, "b")
	step("a second registration", true)
	f.restart()
	step("a restart", false)
	f.deregister(f.svcID, "b")
	step("a deregistration", true)
	f.restart()
	step("a restart after a deregistration", false)

	clock.Add(2 * time.Hour) // every operation so far expires
	f.r.expireOperations()
	if n := len(f.r.currentView().ops.byID); n != 0 {
		t.Fatalf("%d operations left after the expiry", n)
	}
	step("the expiry of the operations", false)
	f.restart()
	step("a restart after the expiry", false)
	f.register(f.svcID, "c")
	step("a registration after the expiry", true)

	f.deregister(f.svcID, "a")
	f.deregister(f.svcID, "c")
	step("deregistering every instance", true)
	if _, err := f.r.DeleteService(context.Background(), f.c, &cloudmap.DeleteServiceRequest{Id: f.svcID}); err != nil {
		t.Fatal(err)
	}
	f.svcID = f.createService("web")
	step("the service created again", true)
	f.register(f.svcID, "a")
	step("a registration into the new service", true)
}

// TestRevisionBaseAboveLegacyFloors opens a store written before the
// revision base, whose InstancesRevisions were clock microseconds, and
// checks that registrations still make them grow.
func TestRevisionBaseAboveLegacyFloors(t *testing.T) {
	f := newRevFixture(t, Config{Limits: DefaultLimits()})
	f.register(f.svcID, "a")
	legacy := time.Now().UnixMicro()
	_, err := f.st.Update(context.Background(), func(tx store.Tx) error {
		svc, err := getRecord[svcRecord](tx, svcKey(f.svcID))
		if err != nil {
			return err
		}
		svc.Revision = legacy
		if err := putRecord(tx, svcKey(f.svcID), svc); err != nil {
			return err
		}
		return tx.Delete(kRevBase)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.restart()
	if rev := f.revision("web"); rev < legacy {
		t.Fatalf("InstancesRevision %d after the upgrade; it was %d", rev, legacy)
	}
	f.register(f.svcID, "b")
	if rev := f.revision("web"); rev <= legacy {
		t.Errorf("InstancesRevision %d after a registration; it was %d before the upgrade", rev, legacy)
	}
}

// TestInstanceCountsFromTheView checks the counts the API shows, which no
// longer come from records that every registration rewrites.
func TestInstanceCountsFromTheView(t *testing.T) {
	f := newRevFixture(t, Config{Limits: DefaultLimits()})
	for _, id := range []string{"a", "b", "c"} {
		f.register(f.svcID, id)
	}
	f.register(f.svcID, "a") // again: still three
	f.deregister(f.svcID, "b")
	f.restart()
	got, err := f.r.GetService(context.Background(), f.c, &cloudmap.GetServiceRequest{Id: f.svcID})
	if err != nil {
		t.Fatal(err)
	}
	if n := *got.Service.InstanceCount; n != 2 {
		t.Errorf("InstanceCount %d; want 2", n)
	}
	list, err := f.r.ListServices(context.Background(), f.c, &cloudmap.ListServicesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Services) != 1 || *list.Services[0].InstanceCount != 2 {
		t.Errorf("ListServices: %+v; want one service of 2 instances", list.Services)
	}
	_, err = f.r.DeleteService(context.Background(), f.c, &cloudmap.DeleteServiceRequest{Id: f.svcID})
	if e, ok := AsError(err); !ok || e.Kind != KindInUse {
		t.Errorf("DeleteService of a service with instances: %v; want ResourceInUse", err)
	}
}
