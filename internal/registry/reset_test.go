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

// seedReset writes, in one commit, a DNS namespace of account with a
// service of n instances and an operation per instance, as registrations
// leave them, and waits until the view has them.
func seedReset(tb testing.TB, r *Registry, account, tag string, n int) {
	tb.Helper()
	s := scope{Account: account, Region: "us-east-1"}
	nsID, svcID := "ns-"+tag, "srv-"+tag
	err := r.update(context.Background(), func(tx store.Tx) error {
		_ = putRecord(tx, nsKey(nsID), &nsRecord{scope: s, ID: nsID, Name: tag + ".test", HTTPName: tag + ".test", Type: "DNS_PRIVATE"})
		_ = tx.Put(nsNameKey(s, tag+".test"), []byte(nsID))
		_ = putRecord(tx, svcKey(svcID), &svcRecord{scope: s, ID: svcID, NamespaceID: nsID, Name: "web", Type: "DNS_HTTP"})
		_ = tx.Put(svcNameKey(nsID, "web", true), []byte(svcID))
		for i := range n {
			id := fmt.Sprintf("i-%d", i)
			_ = putRecord(tx, instKey(svcID, id), &instRecord{ServiceID: svcID, ID: id, CreatedBy: account,
				Attributes: map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.%d.%d", i/250, i%250)}})
			op := fmt.Sprintf("op-%s-%d", tag, i)
			// Created now: at 0 the janitor, whenever it first runs, could
			// expire them before the test looks.
			_ = putRecord(tx, opKey(op), &opRecord{scope: s, ID: op, Type: "REGISTER_INSTANCE", Status: "SUCCESS", CreateDate: r.now().UnixMilli(),
				Targets: map[string]string{"INSTANCE": id}, IdemKey: idemKey(s, "inst", op)})
			_ = putRecord(tx, idemKey(s, "inst", op), &idemRecord{Fingerprint: "x", OperationID: op})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestResetScopesToTheAccount(t *testing.T) {
	r := newBoltRegistry(t)
	seedReset(t, r, "111111111111", "a", 20)
	seedReset(t, r, "222222222222", "b", 20)
	if err := r.Reset(context.Background(), "111111111111"); err != nil {
		t.Fatal(err)
	}
	left := map[string]int{}
	_, err := r.st.Load(context.Background(), func(k string, _ []byte) error {
		for _, p := range []string{pNamespace, pNSName, pService, pSvcName, pInstance, pOperation, pIdem, pLock} {
			if len(k) > len(p) && k[:len(p)] == p {
				left[p]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{pNamespace: 1, pNSName: 1, pService: 1, pSvcName: 1, pInstance: 20, pOperation: 20, pIdem: 20}
	if fmt.Sprint(left) != fmt.Sprint(want) {
		t.Fatalf("after resetting one account the store holds %v; want the other's %v", left, want)
	}
	v := r.currentView()
	if len(v.namespaces) != 1 || v.namespaces["ns-b"] == nil || len(v.services) != 1 || len(v.ops.byID) != 20 {
		t.Fatalf("the view holds %d namespaces, %d services, %d operations", len(v.namespaces), len(v.services), len(v.ops.byID))
	}
	// Namespaces made through the API leave name indexes too.
	c := Caller{Account: "333333333333", Region: "eu-west-1"}
	if _, err := r.CreatePrivateDnsNamespace(context.Background(), c, &cloudmap.CreatePrivateDnsNamespaceRequest{Name: "z.test", Vpc: "vpc-1", CreatorRequestId: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateHttpNamespace(context.Background(), c, &cloudmap.CreateHttpNamespaceRequest{Name: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Reset(context.Background(), c.Account); err != nil {
		t.Fatal(err)
	}
	if keys := storeKeys(t, r, "meta/", "ns/ns-b", "svc/srv-b", "inst/srv-b/", "op/op-b", "idem/222222222222/", "nsname/222222222222/", "svcname/ns-b/"); len(keys) != 0 {
		t.Fatalf("after resetting account %s the store still holds %v", c.Account, keys)
	}
	if err := r.Reset(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if keys := storeKeys(t, r, "meta/"); len(keys) != 0 {
		t.Fatalf("after a reset of everything the store still holds %v", keys)
	}
	if v := r.currentView(); len(v.namespaces)+len(v.services)+len(v.ops.byID) != 0 {
		t.Fatalf("after a reset of everything the view holds %d namespaces, %d services, %d operations", len(v.namespaces), len(v.services), len(v.ops.byID))
	}
}

// storeKeys lists the store's keys but those under the prefixes kept.
func storeKeys(t *testing.T, r *Registry, kept ...string) []string {
	t.Helper()
	var keys []string
	_, err := r.st.Load(context.Background(), func(k string, _ []byte) error {
		for _, p := range kept {
			if strings.HasPrefix(k, p) {
				return nil
			}
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// maxWrites is a store that bounds the keys one commit may write, as etcd
// does, so that a reset goes in batches.
type maxWrites struct {
	store.Store
	n       int
	commits int
}

func (m *maxWrites) MaxWrites() int { return m.n }
func (m *maxWrites) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	m.commits++
	return m.Store.Update(ctx, func(tx store.Tx) error {
		c := &countTx{Tx: tx}
		if err := fn(c); err != nil {
			return err
		}
		if c.writes > m.n {
			return fmt.Errorf("%d writes in one commit, over %d", c.writes, m.n)
		}
		return nil
	})
}

type countTx struct {
	store.Tx
	writes int
}

func (c *countTx) Put(k string, v []byte) error { c.writes++; return c.Tx.Put(k, v) }
func (c *countTx) Delete(k string) error        { c.writes++; return c.Tx.Delete(k) }

func TestResetInBatches(t *testing.T) {
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := &maxWrites{Store: st, n: 1 << 20}
	r, err := New(context.Background(), m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seedReset(t, r, "111111111111", "a", 50)
	seedReset(t, r, "111111111111", "b", 50)
	m.commits, m.n = 0, 127
	if err := r.Reset(context.Background(), "111111111111"); err != nil {
		t.Fatal(err)
	}
	if v := r.currentView(); len(v.namespaces)+len(v.services)+len(v.ops.byID) != 0 {
		t.Fatalf("after a batched reset the view holds %d namespaces, %d services, %d operations", len(v.namespaces), len(v.services), len(v.ops.byID))
	}
	if m.commits < 3 {
		t.Fatalf("the reset of 300+ keys took %d commits of at most 127 writes", m.commits)
	}
}

// BenchmarkReset: a reset of 1,000 instances (with their operations and
// idempotency records) on the durable embedded store, beside the bare
// reference of the same run, a commit of one key.
//
//	go test -run '^$' -bench Reset ./internal/registry/
func BenchmarkReset(b *testing.B) {
	st, err := bolt.Open(b.TempDir(), bolt.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r, err := New(context.Background(), st, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var resets, commits []time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		seedReset(b, r, "000000000000", fmt.Sprint(i), 1000)
		start := time.Now()
		if err := r.update(context.Background(), func(tx store.Tx) error { return tx.Put("bench/one", []byte(fmt.Sprint(i))) }); err != nil {
			b.Fatal(err)
		}
		commits = append(commits, time.Since(start))
		b.StartTimer()
		start = time.Now()
		if err := r.Reset(context.Background(), ""); err != nil {
			b.Fatal(err)
		}
		resets = append(resets, time.Since(start))
	}
	b.ReportMetric(float64(median(resets).Microseconds())/1000, "reset-p50-ms")
	b.ReportMetric(float64(median(commits).Microseconds())/1000, "commit-p50-ms")
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
