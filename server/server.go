// Package server is cairn's composition root: it opens the store, builds
// the registry over it, and serves the Cloud Map API. It is what `cairn
// serve` runs, and what a Go test embeds to run a whole cairn in-process:
//
//	cfg := server.DefaultConfig()
//	cfg.APIAddr = "127.0.0.1:0"
//	cfg.DataDir = t.TempDir()
//	srv, err := server.Start(cfg)
//	…
//	defer srv.Close(context.Background())
//	endpoint := srv.Endpoint() // http://127.0.0.1:<port>
package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/cairn-dev/cairn/internal/cluster"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/fault"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/metrics"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/etcd"
)

// Server is a running cairn.
type Server struct {
	cfg      Config
	log      *slog.Logger
	st       store.Store
	ownStore bool
	reg      *registry.Registry
	faults   *fault.Set
	apiLn    net.Listener
	dns      *dns.Server
	probes   *health.Policy
	cert     atomic.Pointer[tls.Certificate]
	vpcDNS   map[string]*dns.Server
	http     *http.Server
	auth     *sigv4.Auth
	r53Auth  *sigv4.Auth // the same credentials, for Route 53's signing name
	checker  *health.Checker
	stop     context.CancelFunc
	checking chan struct{}
	// With the etcd store: this server's membership, and the monitor of
	// etcd's reachability.
	members    *cluster.Members
	monitoring chan struct{}
	storeErr   atomic.Pointer[storeStatus]
	ready      atomic.Bool
	served     chan error
	// The admin listener, when on.
	metrics *metrics.Metrics
	adminLn net.Listener
	admin   *http.Server
}

// Start opens the store, loads the registry and starts serving. It returns
// once the server accepts requests.
func Start(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, st: cfg.Store, served: make(chan error, 1)}
	creds, adminToken, err := s.loadSecrets()
	if err != nil {
		return nil, err
	}
	if err := s.openRegistry(); err != nil {
		return nil, err
	}
	if err := s.loadStartFiles(); err != nil {
		s.reg.Close()
		s.closeStore()
		return nil, err
	}
	ln, err := s.listenAPI()
	if err != nil {
		s.reg.Close()
		s.closeStore()
		return nil, err
	}
	dnsCfg := s.dnsConfig()
	if err := s.listenDNS(dnsCfg); err != nil {
		_ = s.closeDNS(context.Background())
		_ = ln.Close()
		s.reg.Close()
		s.closeStore()
		return nil, fmt.Errorf("server: %w", err)
	}
	s.probes = health.NewPolicy(health.PolicyConfig{Allow: cfg.HealthProbeAllow, Deny: cfg.HealthProbeDeny,
		Restricted: creds != nil, Own: s.ownAddrs()})
	s.serveAPI(ln, creds == nil)
	if err := s.startHealth(); err != nil {
		s.shutdownEarly()
		return nil, err
	}
	if cfg.AdminAddr != "" {
		if err := s.serveAdmin(s.reg, dnsCfg, adminToken); err != nil {
			s.stopHealth()
			s.shutdownEarly()
			return nil, err
		}
	}
	s.ready.Store(true)
	s.logStarted(ln.Addr().String(), creds)
	return s, nil
}

// logStarted says what the server serves, and warns of what travels in
// clear or unverified.
func (s *Server) logStarted(addr string, creds sigv4.Credentials) {
	cfg, log := s.cfg, s.log
	if cfg.clearOnNetwork() {
		log.Warn("the API is served without TLS on a network address: signatures protect requests from being changed, "+
			"but namespaces, services, instance attributes, tags and discovery answers travel in clear; give --tls-cert and --tls-key",
			"addr", addr)
	}
	if creds == nil {
		log.Warn("development mode: requests are not verified and every caller is the development account; give --credentials to verify signatures",
			"account", cfg.AccountID)
	} else {
		log.Info("verifying SigV4 signatures", "credentials", cfg.Credentials, "identities", len(creds))
	}
	if es, ok := s.st.(*etcd.Store); ok {
		log.Info("serving the Cloud Map API", "addr", addr, "store", "etcd",
			"etcd", strings.Join(es.Options().Endpoints, ","), "prefix", es.Prefix(), "member", s.members.ID(), "region", cfg.Region)
	} else {
		log.Info("serving the Cloud Map API", "addr", addr, "data_dir", cfg.DataDir, "region", cfg.Region)
	}
}

// shutdownEarly undoes a Start that failed after the API began serving.
func (s *Server) shutdownEarly() {
	_ = s.http.Close()
	_ = s.closeDNS(context.Background())
	s.reg.Close()
	s.closeStore()
}

// APIAddr is the address the API listens on.
func (s *Server) APIAddr() string { return s.apiLn.Addr().String() }

// Endpoint is the API's base URL, for an SDK's endpoint setting:
// https:// with TLS.
func (s *Server) Endpoint() string {
	if s.cfg.TLSCert != "" {
		return "https://" + s.APIAddr()
	}
	return "http://" + s.APIAddr()
}

// HealthStats returns the health checker's counters.
func (s *Server) HealthStats() health.Stats { return s.checker.Stats() }

// Members is this server's membership among the servers sharing its etcd
// store, or nil with the embedded store.
func (s *Server) Members() *cluster.Members { return s.members }

// Reset forgets everything of account in every region (namespaces,
// services, instances, operations, idempotency tokens, health statuses,
// shares); an empty account forgets everything. When it returns, the API
// and DNS answer nothing of what was forgotten.
func (s *Server) Reset(ctx context.Context, account string) error {
	s.faults.Clear(account, "")
	return s.reg.Reset(ctx, account)
}

// Faults are the server's injected faults.
func (s *Server) Faults() *fault.Set { return s.faults }

// Registry is the server's registry, for tests and embedding.
func (s *Server) Registry() *registry.Registry { return s.reg }

// Done receives the error that ended serving the API
// (http.ErrServerClosed after Close).
func (s *Server) Done() <-chan error { return s.served }

// Close stops accepting requests, waits for those in flight (until ctx
// ends), stops the registry and closes the store.
func (s *Server) Close(ctx context.Context) error {
	s.ready.Store(false)
	err := s.http.Shutdown(ctx)
	if err != nil {
		_ = s.http.Close()
	}
	if s.admin != nil {
		// The console's live refresh keeps connections busy: close at once.
		_ = s.admin.Close()
	}
	if derr := s.closeDNS(ctx); derr != nil && err == nil {
		err = derr
	}
	s.stopHealth()
	s.reg.Close()
	if cerr := s.closeStore(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}
