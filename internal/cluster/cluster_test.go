package cluster_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/cluster"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func client(t *testing.T, srv *etcdtest.Server) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMembership(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := context.Background()
	join := func(id string, cli *clientv3.Client) *cluster.Members {
		m, err := cluster.Join(ctx, cli, "/m/", cluster.Config{ID: id, TTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	shared := client(t, srv)
	defer shared.Close()
	a := join("a", shared)
	defer a.Close()
	changed := a.Changed()
	b := join("b", shared)
	crashCli := client(t, srv)
	c := join("c", crashCli)
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("a's Changed did not fire when b joined")
	}
	all := []string{"a", "b", "c"}
	eventually(t, "a sees a, b and c", func() bool { return slices.Equal(a.Live(), all) })

	// Every key is owned by exactly one member.
	for i := range 100 {
		key := "svc/" + string(rune('a'+i%26)) + string(rune('0'+i%10))
		owners := 0
		for _, m := range []*cluster.Members{a, b, c} {
			if m.Owns(key) {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("key %s has %d owners", key, owners)
		}
	}

	// b leaves cleanly: at once.
	start := time.Now()
	b.Close()
	eventually(t, "a sees b leave", func() bool { return slices.Equal(a.Live(), []string{"a", "c"}) })
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("a clean leave took %v to show; want at once", d)
	}
	// c "crashes": its client goes away without revoking its lease, which
	// expires after the TTL.
	crashCli.Close()
	c.Close()
	eventually(t, "a sees c's lease expire", func() bool { return slices.Equal(a.Live(), []string{"a"}) })
	if !a.Owns("anything") {
		t.Error("the last member does not own every key")
	}
}

// TestRejoinAfterOutage checks that a member whose lease expired while
// etcd was down registers again.
func TestRejoinAfterOutage(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := client(t, srv)
	defer cli.Close()
	m, err := cluster.Join(context.Background(), cli, "/m/", cluster.Config{ID: "a", TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv.Stop()
	time.Sleep(2 * time.Second)
	srv.Restart()
	// The key is back (its lease kept alive, or a new one if it expired
	// meanwhile); revoke its lease from outside, as an expiry would.
	var lease int64
	eventually(t, "a's key after the restart", func() bool {
		r, err := cli.Get(context.Background(), "/m/members/a")
		if err != nil || len(r.Kvs) != 1 {
			return false
		}
		lease = r.Kvs[0].Lease
		return true
	})
	if _, err := cli.Revoke(context.Background(), clientv3.LeaseID(lease)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a registers again", func() bool {
		r, err := cli.Get(context.Background(), "/m/members/a")
		return err == nil && len(r.Kvs) == 1 && r.Kvs[0].Lease != lease
	})
	eventually(t, "a sees itself", func() bool { return slices.Equal(m.Live(), []string{"a"}) })
}
