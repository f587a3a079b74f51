// Package registry is cairn's domain core: AWS Cloud Map's namespaces,
// services, instances, operations and tags, the rules that govern them, and
// the in-memory view that serves reads.
//
// # Basics
//
// A Registry is built over a store.Store with New. Each API operation is a
// method that takes the Caller (account and region) and the operation's
// input shape from package cloudmap, and returns its output shape or an
// *Error. Writes run as store transactions: they read what they check and
// write what they change in one atomic, durable commit, and return only
// once the commit is on disk and applied to the view. Reads
// (DiscoverInstances, Get*, List*) are served from the view; so is DNS,
// through the records API of ReadDNS (zones, DNS services, instances with
// their addresses parsed), from which internal/dns builds its answers.
//
// Asynchronous operations (namespace create/update/delete, UpdateService,
// RegisterInstance, DeregisterInstance) are records in the store that move
// SUBMITTED → PENDING → SUCCESS or FAIL. With Config.OperationDelay zero the
// work is done in the same commit that records the operation, so the caller
// sees SUCCESS and the effect at once; with a delay the record is committed
// as SUBMITTED, and a worker moves it on, as AWS does.
//
// # Caveats
//
// The registry knows nothing of HTTP, DNS or the AWS SDK: the API edge maps
// *Error kinds to AWS error shapes.
package registry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
)

// Caller is who makes a request: the account and region it acts in.
type Caller struct {
	Account string
	Region  string
}

func (c Caller) scope() scope { return scope{Account: c.Account, Region: c.Region} }

// Limits are the quotas the registry enforces. Zero means no limit.
type Limits struct {
	// NamespacesPerRegion is AWS's "namespaces per Region" quota (50).
	NamespacesPerRegion int
	// InstancesPerNamespace is AWS's "instances per namespace" quota (2,000).
	InstancesPerNamespace int
	// InstancesPerService is AWS's "instances per service" quota (1,000).
	InstancesPerService int
}

// DefaultLimits returns AWS's default quotas.
func DefaultLimits() Limits {
	return Limits{NamespacesPerRegion: 50, InstancesPerNamespace: 2000, InstancesPerService: 1000}
}

// Config configures a Registry.
type Config struct {
	// OperationDelay is how long an asynchronous operation takes from
	// SUBMITTED to its end; half of it is spent SUBMITTED, half PENDING.
	// Zero (the default) completes operations before the call returns.
	OperationDelay time.Duration
	// OperationRetention is how long finished operations (and the
	// idempotency tokens tied to them) are kept. Default 72h.
	OperationRetention time.Duration
	// MaxOperationsPerAccount is the most operations one account keeps
	// (in all its regions, with those started by accounts its namespaces
	// are shared with); past it, its oldest finished operations (by
	// creation) are deleted at once, before their retention ends, so that
	// no caller can grow the server's memory without bound. An account can
	// go past it for as long as that deletion takes to commit, and by its
	// unfinished operations. Zero means no limit.
	MaxOperationsPerAccount int
	// CustomHealthDelay is how long a custom health status change waits
	// before it takes effect (AWS waits about 30 s); zero applies it at
	// once.
	CustomHealthDelay time.Duration
	// Limits are the resource quotas.
	Limits Limits
	// Logger receives the registry's logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// DNSListenerVPCs are the VPCs with DNS listeners of their own: their
	// private namespaces may overlap other accounts' namespaces, except
	// public ones and those of the same VPC (see checkTenancy).
	DNSListenerVPCs []string
	// ProbeAllowed, when set, refuses (with the reason) a health check
	// target that may not be probed: RegisterInstance in a service with a
	// HealthCheckConfig fails with InvalidInput.
	ProbeAllowed func(netip.AddrPort) error

	// hooks let this package's tests break the view's upkeep on purpose.
	hooks *testHooks
	// Observer, when set, is told how long the view takes to apply
	// commits and when it is rebuilt (see package metrics).
	Observer Observer
}

// Observer is told about the in-memory view's work.
type Observer interface {
	// ViewApplied is called once a write's commit is in the view, with
	// the time from the store acknowledging the commit to the view
	// holding it: how stale reads can be right after a write.
	ViewApplied(lag time.Duration)
	// ViewReloaded is called when the view is rebuilt from the store
	// because the store could no longer replay what it missed.
	ViewReloaded()
}

// testHooks are points where a test of this package injects failures
// into a real registry over a real store.
type testHooks struct {
	// beforeApply runs before follow applies each commit from the watch.
	// An error fails the commit as an error applying it would;
	// errRewatch ends the watch and starts another from the last applied
	// revision, as after a lost connection.
	beforeApply func(store.Event) error
}

// errRewatch, from testHooks.beforeApply, restarts the watch.
var errRewatch = errors.New("registry: watch again")

// Registry is the Cloud Map domain over a store.
type Registry struct {
	st       store.Store
	cfg      Config
	log      *slog.Logger
	tokenKey []byte

	// view is swapped whole when it is rebuilt; every read loads it, so
	// it is an atomic pointer rather than a mutex on the hot paths.
	view atomic.Pointer[view]
	// inflight counts registrations by service, for the quotas.
	inflight inflight
	// decoded holds the service and namespace records registrations
	// read, decoded (read-only).
	decoded decodeCache

	// trim wakes the janitor when an account keeps more operations than
	// Config.MaxOperationsPerAccount.
	trim chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New loads the registry's state from st and starts following its changes.
func New(ctx context.Context, st store.Store, cfg Config) (*Registry, error) {
	if cfg.OperationRetention == 0 {
		cfg.OperationRetention = 72 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key, err := loadTokenKey(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := ensureRevBase(ctx, st); err != nil {
		return nil, err
	}
	v, err := loadView(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("registry: load state: %w", err)
	}
	if len(v.oldOpKeys) > 0 {
		moved, err := moveOperationKeys(ctx, st, v.oldOpKeys)
		if err != nil {
			return nil, err
		}
		log.Info("registry: moved operations to time-ordered keys", "operations", moved)
		if v, err = loadView(ctx, st); err != nil {
			return nil, fmt.Errorf("registry: load state: %w", err)
		}
		if n := len(v.oldOpKeys); n > 0 {
			log.Warn("registry: operations are still being written under the earlier key layout: a server of an earlier version shares this store", "operations", n)
		}
	}
	v.oldOpKeys = nil
	rctx, cancel := context.WithCancel(context.Background())
	r := &Registry{st: st, cfg: cfg, log: log, tokenKey: key, trim: make(chan struct{}, 1), ctx: rctx, cancel: cancel}
	r.setView(v)
	r.wg.Add(2)
	go r.follow(v.rev)
	go r.janitor()
	r.resumeOperations()
	return r, nil
}

// Close stops the registry's background work. It does not close the store.
func (r *Registry) Close() {
	r.cancel()
	r.wg.Wait()
}

func (r *Registry) now() time.Time { return r.cfg.Now() }

func (r *Registry) currentView() *view {
	return r.view.Load()
}

// setView makes v the current view and returns the one it replaces.
func (r *Registry) setView(v *view) *view {
	v.mu.Lock()
	v.ops.setLimit(r.cfg.MaxOperationsPerAccount)
	v.mu.Unlock()
	if v.ops.over.Load() {
		select {
		case r.trim <- struct{}{}:
		default:
		}
	}
	return r.view.Swap(v)
}

// follow applies the store's commits to the view. When the store can no
// longer replay what the view missed (ErrCompacted), or a commit fails to
// apply (a record that does not decode), it loads a new view from the
// store and replaces the old one, which wakes everyone waiting on it: a
// view is never left partial, and no writer waits on a view that will not
// advance.
func (r *Registry) follow(from int64) {
	defer r.wg.Done()
	for r.ctx.Err() == nil {
		v := r.currentView()
		wctx, cancel := context.WithCancel(r.ctx)
		reload, rewatch := false, false
		for ev := range r.st.Watch(wctx, from) {
			if ev.Err != nil {
				r.log.Warn("registry: the store cannot replay the changes after the view's revision; reloading the view", "rev", from, "err", ev.Err)
				reload = true
				break
			}
			var err error
			if h := r.cfg.hooks; h != nil && h.beforeApply != nil {
				err = h.beforeApply(ev)
			}
			if errors.Is(err, errRewatch) {
				rewatch = true
				break
			}
			if err == nil {
				err = v.apply(ev.Rev, ev.Changes)
			}
			if err != nil {
				r.log.Error("registry: apply a commit; reloading the view", "rev", ev.Rev, "err", err)
				reload = true
				break
			}
			if v.ops.over.Load() {
				select {
				case r.trim <- struct{}{}:
				default:
				}
			}
			from = ev.Rev
		}
		cancel()
		if r.ctx.Err() != nil {
			return
		}
		switch {
		case reload:
			nv := r.reloadView()
			if nv == nil {
				return
			}
			r.setView(nv).abandon()
			if r.cfg.Observer != nil {
				r.cfg.Observer.ViewReloaded()
			}
			from = nv.rev
		case rewatch:
		default:
			time.Sleep(50 * time.Millisecond) // the watch ended without error: store closing
		}
	}
}

// reloadView loads a new view from the store, trying again until it
// succeeds or the registry closes (then it returns nil).
func (r *Registry) reloadView() *view {
	wait := 100 * time.Millisecond
	for {
		nv, err := loadView(r.ctx, r.st)
		if err == nil {
			nv.oldOpKeys = nil // moved at start only (see New)
			return nv
		}
		r.log.Error("registry: reload the view", "err", err)
		select {
		case <-time.After(wait):
		case <-r.ctx.Done():
			return nil
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// update runs fn in a store transaction and waits until the view has
// applied it, so the caller's next read sees its own write.
func (r *Registry) update(ctx context.Context, fn func(tx store.Tx) error) error {
	rev, err := r.st.Update(ctx, fn)
	if err != nil {
		if _, ok := AsError(err); ok {
			return err
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return &Error{Kind: KindUnavailable, Message: fmt.Sprintf("the store could not commit the change: %v", err)}
	}
	var committed time.Time
	if r.cfg.Observer != nil {
		committed = time.Now()
	}
	for {
		v := r.currentView()
		err := v.waitFor(ctx, rev)
		if errors.Is(err, errAbandoned) {
			continue // replaced: the new view is current
		}
		if err != nil {
			return err
		}
		if r.currentView() == v {
			if r.cfg.Observer != nil {
				r.cfg.Observer.ViewApplied(time.Since(committed))
			}
			return nil
		}
	}
}

// loadTokenKey returns the key that signs pagination tokens, creating it on
// first start so that tokens stay valid across restarts.
func loadTokenKey(ctx context.Context, st store.Store) ([]byte, error) {
	var key []byte
	_, err := st.Update(ctx, func(tx store.Tx) error {
		v, ok, err := tx.Get(kTokenKey)
		if err != nil {
			return err
		}
		if ok {
			key = append([]byte(nil), v...)
			return nil
		}
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		return tx.Put(kTokenKey, key)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: token key: %w", err)
	}
	return key, nil
}

// getRecord reads and decodes the record at key, or returns nil if absent.
func getRecord[T any](tx store.Tx, key string) (*T, error) {
	b, ok, err := tx.Get(key)
	if err != nil || !ok {
		return nil, err
	}
	return decode[T](b)
}

func putRecord(tx store.Tx, key string, v any) error { return tx.Put(key, encode(v)) }
