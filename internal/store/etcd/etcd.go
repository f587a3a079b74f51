// Package etcd is a store.Store kept in etcd, so that any number of cairn
// servers can share one state: each follows it with a watch and writes to
// it with transactions that compare revisions.
//
// # Layout
//
// Under Options.Prefix (default "/cairn/"):
//
//	<prefix>kv/<key>   the store's key space
//	<prefix>rev        written by every commit: its ModRevision is the
//	                   revision of the space's latest commit
//	<prefix>members/…  not the store's: cairn servers' membership (see
//	                   package cluster)
//
// Store revisions are etcd revisions. Load returns the revision of the
// space's latest commit (0 for a space never written), so that two spaces
// in one etcd don't see each other's commits, and a watcher whose start
// was compacted away but that missed nothing in its own space resumes
// instead of reloading.
//
// # Transactions
//
// Update is optimistic. Like the bolt store, one committer goroutine
// gathers the Update calls waiting at that moment into one batch: it pins
// a revision with one serializable read (no quorum round: the member the
// client asks may lag, which the commit's comparisons below make safe),
// runs the closures over that snapshot as if one after the other (each
// seeing the batch's earlier writes), and commits the batch with one etcd
// Txn. The closures first run concurrently over the snapshot alone, so
// that their reads reach etcd together; a closure that read nothing the
// closures before it write keeps that run, the others run again in order.
// Batches are pipelined: up to four Txns are in flight while the next
// batch is prepared; a batch that read a key an in-flight batch writes
// waits for it and is prepared again, so it is never committed or answered
// before a batch it depends on. The Txn's If compares the
// ModRevision of every key the closures read from the snapshot (0 when
// absent) and, for every scanned range, that no key in it changed after
// the pinned revision; keys seen in a scan are compared one by one too, so
// that a deletion is noticed. When the comparisons fail, another server
// committed something the batch read: the closures run again on fresh
// reads, up to MaxAttempts times. The fresh reads come back with the
// failure, in the same round trip (the Txn's Else reads the keys the batch
// read, at the revision it failed at: etcd's STM pattern), so a retry
// needs no new linearizable read and re-reads only what it had not read. When the comparisons would exceed
// MaxTxnOps, the batch compares the space's revision key instead (any
// commit to the space since the read fails it), which is safe but retries
// more under contention.
//
// # Caveats
//
//   - etcd bounds a transaction's operations (--max-txn-ops, 128 by
//     default) and size (--max-request-bytes, 1.5 MiB): a single Update
//     that writes more keys than MaxTxnOps allows fails. Run etcd with a
//     larger --max-txn-ops and set MaxTxnOps to match for bigger ones.
//   - While etcd is unreachable, Update fails after RequestTimeout with an
//     error that is not a context error, so the registry reports it as a
//     retryable ServiceUnavailable. A commit that times out may still have
//     been applied.
package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/batch"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// DefaultPrefix is the etcd key prefix of cairn's state.
const DefaultPrefix = "/cairn/"

// Options configures a Store. The zero value of a field means its default.
type Options struct {
	// Endpoints are etcd's client URLs, such as http://127.0.0.1:2379
	// (https:// with TLS).
	Endpoints []string
	// CAFile verifies etcd's server certificate; CertFile and KeyFile are
	// the client certificate, for etcd's --client-cert-auth.
	CAFile, CertFile, KeyFile string
	// Username and Password authenticate to etcd when its auth is on.
	Username, Password string
	// DialTimeout bounds connecting to etcd when opening; default 5 s.
	DialTimeout time.Duration
	// Prefix is the etcd key prefix of the store; default "/cairn/".
	Prefix string
	// RequestTimeout bounds every Update, Load page and watch restart:
	// while etcd is unreachable they fail after this long; default 5 s.
	RequestTimeout time.Duration
	// MaxTxnOps is etcd's --max-txn-ops (default 128): the most
	// comparisons, and the most writes, one etcd transaction may carry.
	MaxTxnOps int
	// MaxTxnBytes bounds the values written by one batch; default 1 MiB
	// (etcd's default --max-request-bytes is 1.5 MiB).
	MaxTxnBytes int
	// MaxBatch is the most Update calls that share one etcd transaction;
	// default 256.
	MaxBatch int
	// MaxAttempts is how many times a batch is tried when other writers
	// conflict with it before its Updates fail; default 64.
	MaxAttempts int
	// Logger receives the store's warnings; nil discards them.
	Logger *slog.Logger
	// Observer, when set, is told about commits, conflicts and watch
	// restarts.
	Observer store.CommitObserver
}

// DefaultOptions returns the defaults that Open uses for zero fields.
func DefaultOptions() Options {
	return Options{
		Endpoints:      []string{"http://127.0.0.1:2379"},
		DialTimeout:    5 * time.Second,
		Prefix:         DefaultPrefix,
		RequestTimeout: 5 * time.Second,
		MaxTxnOps:      128,
		MaxTxnBytes:    1 << 20,
		MaxBatch:       256,
		MaxAttempts:    64,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if len(o.Endpoints) == 0 {
		o.Endpoints = d.Endpoints
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = d.DialTimeout
	}
	if o.Prefix == "" {
		o.Prefix = d.Prefix
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = d.RequestTimeout
	}
	if o.MaxTxnOps <= 0 {
		o.MaxTxnOps = d.MaxTxnOps
	}
	if o.MaxTxnBytes <= 0 {
		o.MaxTxnBytes = d.MaxTxnBytes
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = d.MaxBatch
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = d.MaxAttempts
	}
	return o
}

// Store is a store.Store in etcd. It is safe for concurrent use. A
// closure passed to Update runs on the committer goroutine and must not
// call the Store.
type Store struct {
	cli  *clientv3.Client
	opts Options
	log  *slog.Logger

	kv     string // <prefix>kv/: the key space
	kvEnd  string // the end of kv's range
	marker string // <prefix>rev

	reqs chan *batch.Request // unbuffered: a send is a pickup by the committer
	ctx  context.Context
	stop context.CancelFunc // cancels ctx at Close: ends the watchers
	done chan struct{}      // closed when the committer has stopped
	wg   sync.WaitGroup     // watchers

	closeMu sync.Mutex
	closed  bool

	health health

	// beforeSend, set by this package's tests, runs before each batch's
	// commit Txn is sent.
	beforeSend func()
}

var _ store.Store = (*Store)(nil)

// Open connects to etcd and checks that it answers within DialTimeout.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if !strings.HasSuffix(opts.Prefix, "/") {
		opts.Prefix += "/"
	}
	cfg := clientv3.Config{
		Endpoints:            opts.Endpoints,
		DialTimeout:          opts.DialTimeout,
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		Username:             opts.Username,
		Password:             opts.Password,
		Logger:               zap.NewNop(),
		Context:              context.Background(),
	}
	if opts.CAFile != "" || opts.CertFile != "" || opts.KeyFile != "" {
		tc, err := tlsConfig(opts)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd: connect to %s: %w", strings.Join(opts.Endpoints, ","), err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := newStore(cli, opts, log)
	cctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	if _, err := cli.Get(cctx, s.marker); err != nil {
		cli.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("etcd: no answer from %s within %v: %v", strings.Join(opts.Endpoints, ","), opts.DialTimeout, err)
	}
	go s.run()
	return s, nil
}

func newStore(cli *clientv3.Client, opts Options, log *slog.Logger) *Store {
	ctx, stop := context.WithCancel(context.Background())
	kv := opts.Prefix + "kv/"
	return &Store{
		cli: cli, opts: opts, log: log,
		kv: kv, kvEnd: clientv3.GetPrefixRangeEnd(kv), marker: opts.Prefix + "rev",
		reqs: make(chan *batch.Request), ctx: ctx, stop: stop, done: make(chan struct{}),
	}
}

func tlsConfig(o Options) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd: read the CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd: the CA file %s holds no PEM certificate", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("etcd: give both the client certificate and its key, or neither")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd: load the client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Client is the store's etcd client, for cairn's cluster membership.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Prefix is the store's etcd key prefix, ending in "/".
func (s *Store) Prefix() string { return s.opts.Prefix }

// Options returns the options the store runs with, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// Load calls fn for every key in ascending order from one snapshot and
// returns the revision of the space's latest commit. The snapshot is read
// in pages at one etcd revision and copied out before fn is first called.
func (s *Store) Load(ctx context.Context, fn func(key string, value []byte) error) (int64, error) {
	return s.LoadRevs(ctx, func(key string, value []byte, _ int64) error { return fn(key, value) })
}

// LoadRevs is Load, with each key's ModRevision: the revision of the
// commit that last wrote it.
func (s *Store) LoadRevs(ctx context.Context, fn func(key string, value []byte, rev int64) error) (int64, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	type kv struct {
		key   string
		value []byte
		rev   int64
	}
	var (
		all []kv
		rev int64
		err error
	)
	for attempt := 0; ; attempt++ {
		all, rev = all[:0], 0
		err = s.loadPages(ctx, func(key string, value []byte, modRev int64) {
			all = append(all, kv{key, value, modRev})
			rev = max(rev, modRev)
		}, &rev)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if s.isClosed() {
			return 0, store.ErrClosed
		}
		if !errors.Is(err, rpctypes.ErrCompacted) || attempt >= 5 {
			return 0, fmt.Errorf("etcd: load: %v", err)
		}
	}
	for _, e := range all {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := fn(e.key, e.value, e.rev); err != nil {
			return 0, err
		}
	}
	return rev, nil
}

// loadPage is how many keys one page of Load reads.
const loadPage = 1000

// loadPages reads the whole space at one revision, page by page, and
// sets *markerRev to the revision of its latest commit.
func (s *Store) loadPages(ctx context.Context, each func(key string, value []byte, modRev int64), markerRev *int64) error {
	var at int64
	from := s.kv
	for {
		pctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
		var kvs *clientv3.GetResponse
		if at == 0 {
			resp, err := s.cli.Txn(pctx).Then(
				clientv3.OpGet(s.marker),
				clientv3.OpGet(from, clientv3.WithRange(s.kvEnd), clientv3.WithLimit(loadPage)),
			).Commit()
			if err != nil {
				cancel()
				return err
			}
			at = resp.Header.Revision
			if m := resp.Responses[0].GetResponseRange(); len(m.Kvs) > 0 {
				*markerRev = max(*markerRev, m.Kvs[0].ModRevision)
			}
			kvs = (*clientv3.GetResponse)(resp.Responses[1].GetResponseRange())
		} else {
			resp, err := s.cli.Get(pctx, from, clientv3.WithRange(s.kvEnd), clientv3.WithLimit(loadPage), clientv3.WithRev(at))
			if err != nil {
				cancel()
				return err
			}
			kvs = resp
		}
		cancel()
		for _, e := range kvs.Kvs {
			each(string(e.Key[len(s.kv):]), value(e.Value), e.ModRevision)
		}
		if !kvs.More || len(kvs.Kvs) == 0 {
			return nil
		}
		from = string(kvs.Kvs[len(kvs.Kvs)-1].Key) + "\x00"
	}
}

// value makes an empty value non-nil, so that it is not mistaken for a
// deletion (etcd's protobuf decodes an empty value as nil).
func value(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

func (s *Store) isClosed() bool {
	select {
	case <-s.ctx.Done():
		return true
	default:
		return false
	}
}

// Close finishes the commit in progress, ends the watchers and closes the
// etcd client. Calls after the first return store.ErrClosed.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed = true
	s.stop()
	<-s.done
	s.wg.Wait()
	if err := s.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcd: close: %w", err)
	}
	return nil
}

// MaxWrites is the most keys one Update may write: one etcd transaction
// holds MaxTxnOps operations, one of which records the revision.
func (s *Store) MaxWrites() int { return s.opts.MaxTxnOps - 1 }
