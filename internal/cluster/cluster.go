// Package cluster tracks the cairn servers that share one etcd store and
// splits the health checks among them, so that each instance is probed by
// exactly one live server.
//
// # Basics
//
// Each server keeps a key <prefix>members/<id> in etcd, bound to a lease
// of TTL seconds that it renews while it runs. Every server watches those
// keys, so all agree on the live members, and assigns each health check
// key to one of them by rendezvous hashing (the member with the highest
// hash of member and key wins): when a member joins or leaves, only the
// checks it gains or loses move.
//
// # Caveats
//
// A server that dies without leaving keeps its checks until its lease
// expires (TTL); a server that leaves cleanly revokes its lease, so its
// checks move at once. While etcd is unreachable a server keeps the
// membership it saw last. Two servers may briefly both probe an instance
// while a membership change reaches them: the statuses they report are
// the same probe results, so this is harmless.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/health"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Config configures a Members.
type Config struct {
	// ID names this server; empty picks "<hostname>-<random>".
	ID string
	// TTL is how long the membership of a server that stops renewing it
	// lasts; default 5 s.
	TTL time.Duration
	// Logger receives membership changes; nil discards them.
	Logger *slog.Logger
}

// Members is this server's membership and its view of the others.
type Members struct {
	cli    *clientv3.Client
	prefix string // <prefix>members/
	id     string
	ttl    time.Duration
	log    *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	live    []string // sorted member IDs
	changed chan struct{}
}

// Join registers this server under prefix (the store's etcd prefix) and
// starts following the membership. It returns once this server's key is
// written and the members are known.
func Join(ctx context.Context, cli *clientv3.Client, prefix string, cfg Config) (*Members, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Second
	}
	if cfg.ID == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.ID = strings.Trim(host+"-"+hex.EncodeToString(b), "-")
	}
	if strings.Contains(cfg.ID, "/") {
		return nil, fmt.Errorf("cluster: member ID %q contains a slash", cfg.ID)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Members{cli: cli, prefix: prefix + "members/", id: cfg.ID, ttl: cfg.TTL, log: log, changed: make(chan struct{})}
	jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lease, err := m.register(jctx)
	if err != nil {
		return nil, fmt.Errorf("cluster: register member %s: %w", m.id, err)
	}
	rev, err := m.load(jctx)
	if err != nil {
		return nil, fmt.Errorf("cluster: list members: %w", err)
	}
	rctx, stop := context.WithCancel(context.Background())
	m.cancel = stop
	m.wg.Add(2)
	go m.keepAlive(rctx, lease)
	go m.follow(rctx, rev)
	log.Info("joined the servers sharing etcd", "member", m.id, "members", m.Live())
	return m, nil
}

// ID is this server's member ID.
func (m *Members) ID() string { return m.id }

// Live returns the member IDs this server currently sees, sorted.
func (m *Members) Live() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.live)
}

// Changed returns a channel that is closed at the next membership change.
func (m *Members) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Owns reports whether this server runs the health check with the given
// key: whether it wins the key's rendezvous among the live members.
func (m *Members) Owns(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Owner(m.live, key) == m.id
}

// Owner returns the member of members that the key is assigned to, or ""
// if there is none.
func Owner(members []string, key string) string {
	var best string
	var bestScore uint64
	for _, id := range members {
		h := fnv.New64a()
		_, _ = h.Write([]byte(id))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(key))
		score := mix(h.Sum64())
		if best == "" || score > bestScore || score == bestScore && id < best {
			best, bestScore = id, score
		}
	}
	return best
}

// mix is splitmix64's finalizer: it spreads FNV's output over all bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Close leaves: it revokes this server's lease, so that the others take
// its checks over at once, and stops following.
func (m *Members) Close() {
	m.cancel()
	m.wg.Wait()
}

// register grants a lease and writes this server's key with it.
func (m *Members) register(ctx context.Context) (clientv3.LeaseID, error) {
	g, err := m.cli.Grant(ctx, int64(max(m.ttl/time.Second, 1)))
	if err != nil {
		return 0, err
	}
	if _, err := m.cli.Put(ctx, m.prefix+m.id, "", clientv3.WithLease(g.ID)); err != nil {
		return 0, err
	}
	return g.ID, nil
}

// keepAlive renews the lease while the server runs, registers again when
// the lease is lost (etcd was unreachable for longer than the TTL), and
// revokes it when the server leaves.
func (m *Members) keepAlive(ctx context.Context, lease clientv3.LeaseID) {
	defer m.wg.Done()
	for {
		if lease != 0 {
			ka, err := m.cli.KeepAlive(ctx, lease)
			if err == nil {
				for range ka {
				}
			}
			if ctx.Err() != nil {
				rctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_, _ = m.cli.Revoke(rctx, lease)
				cancel()
				return
			}
			m.log.Warn("cluster: membership lease lost; registering again", "member", m.id)
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		l, err := m.register(rctx)
		cancel()
		lease = l
		if err != nil {
			lease = 0
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// load reads the members and returns the etcd revision of the read.
func (m *Members) load(ctx context.Context) (int64, error) {
	resp, err := m.cli.Get(ctx, m.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return 0, err
	}
	live := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		live = append(live, string(kv.Key[len(m.prefix):]))
	}
	m.set(live)
	return resp.Header.Revision, nil
}

// set replaces the live members and signals a change.
func (m *Members) set(live []string) {
	slices.Sort(live)
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.Equal(live, m.live) {
		return
	}
	if m.live != nil {
		m.log.Info("cluster: members changed", "member", m.id, "members", live)
	}
	m.live = live
	close(m.changed)
	m.changed = make(chan struct{})
}

// follow watches the members' keys from rev on, reloading them when the
// watch breaks.
func (m *Members) follow(ctx context.Context, rev int64) {
	defer m.wg.Done()
	for ctx.Err() == nil {
		wch := m.cli.Watch(clientv3.WithRequireLeader(ctx), m.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for resp := range wch {
			if resp.Err() != nil {
				break
			}
			if len(resp.Events) == 0 {
				continue
			}
			live := m.Live()
			for _, ev := range resp.Events {
				id := string(ev.Kv.Key[len(m.prefix):])
				live = slices.DeleteFunc(live, func(s string) bool { return s == id })
				if ev.Type == clientv3.EventTypePut {
					live = append(live, id)
				}
				rev = ev.Kv.ModRevision
			}
			m.set(live)
		}
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			r, err := m.load(lctx)
			cancel()
			if err == nil {
				rev = r
				break
			}
			if !errors.Is(err, context.Canceled) {
				m.log.Debug("cluster: list members", "err", err)
			}
		}
	}
}

// Source wraps a health source so that the checker also re-syncs its
// targets when the membership changes, which changes what Owns says.
func Source(ctx context.Context, src health.Source, m *Members) health.Source {
	return &source{Source: src, m: m, ctx: ctx}
}

type source struct {
	health.Source
	m   *Members
	ctx context.Context
}

func (s *source) Changed() <-chan struct{} {
	reg, mem := s.Source.Changed(), s.m.Changed()
	out := make(chan struct{})
	go func() {
		select {
		case <-reg:
		case <-mem:
		case <-s.ctx.Done():
			return
		}
		close(out)
	}()
	return out
}
