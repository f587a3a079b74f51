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
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn/internal/admin"
	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/cluster"
	"github.com/cairn-dev/cairn/internal/console"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/fault"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/metrics"
	"github.com/cairn-dev/cairn/internal/netlimit"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/route53"
	"github.com/cairn-dev/cairn/internal/sigv4"
	"github.com/cairn-dev/cairn/internal/statefile"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
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
	reg := s.reg
	if err := s.loadStartFiles(); err != nil {
		reg.Close()
		s.closeStore()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		reg.Close()
		s.closeStore()
		return nil, fmt.Errorf("server: listen for the API on %s: %w", cfg.APIAddr, err)
	}
	s.apiLn = ln
	dnsCfg := s.dnsConfig()
	ln = netlimit.PerClient(ln, cfg.APIMaxConnsPerClient)
	if cfg.TLSCert != "" {
		// Outermost, so that net/http sees *tls.Conn.
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"},
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil }})
	}
	if err := s.listenDNS(dnsCfg); err != nil {
		_ = s.closeDNS(context.Background())
		_ = ln.Close()
		reg.Close()
		s.closeStore()
		return nil, fmt.Errorf("server: %w", err)
	}
	s.probes = health.NewPolicy(health.PolicyConfig{Allow: cfg.HealthProbeAllow, Deny: cfg.HealthProbeDeny,
		Restricted: creds != nil, Own: s.ownAddrs()})
	s.http = &http.Server{
		Handler:           s.apiHandler(creds == nil),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { s.served <- s.http.Serve(ln) }()
	ctx, stop := context.WithCancel(context.Background())
	var src health.Source = reg
	var owns func(string) bool
	if es, ok := s.st.(*etcd.Store); ok {
		// Several servers share this store: each health check is run by
		// one live server, and moves when membership changes.
		m, err := cluster.Join(ctx, es.Client(), es.Prefix(), cluster.Config{ID: cfg.MemberID, TTL: cfg.MemberTTL, Logger: log})
		if err != nil {
			stop()
			s.shutdownEarly()
			return nil, fmt.Errorf("server: join the servers sharing etcd: %w", err)
		}
		s.members = m
		src, owns = cluster.Source(ctx, reg, m), m.Owns
		s.monitoring = make(chan struct{})
		go func() {
			defer close(s.monitoring)
			s.monitorStore(ctx, es)
		}()
	}
	var healthObs health.Observer
	if s.metrics != nil {
		healthObs = s.metrics.Health()
	}
	s.checker = health.New(src, health.Config{Interval: cfg.HealthInterval, Concurrency: cfg.HealthConcurrency,
		Timeouts: cfg.HealthTimeouts, Logger: log, Owns: owns, Observer: healthObs, Policy: s.probes})
	s.stop, s.checking = stop, make(chan struct{})
	go func() {
		defer close(s.checking)
		s.checker.Run(ctx)
	}()
	if cfg.AdminAddr != "" {
		if err := s.serveAdmin(reg, dnsCfg, adminToken); err != nil {
			stop()
			<-s.checking
			if s.monitoring != nil {
				<-s.monitoring
			}
			if s.members != nil {
				s.members.Close()
			}
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

// loadSecrets reads the credentials file and the admin token, and makes
// the SigV4 verifiers (and the metrics, with the admin listener).
func (s *Server) loadSecrets() (creds sigv4.Credentials, adminToken string, err error) {
	cfg := s.cfg
	if cfg.Credentials != "" {
		if creds, err = sigv4.LoadCredentials(cfg.Credentials); err != nil {
			return nil, "", fmt.Errorf("server: %w", err)
		}
	}
	s.auth = sigv4.NewAuth(api.SigningName, cfg.Region, cfg.AccountID, creds)
	s.r53Auth = sigv4.NewAuth(route53.SigningName, route53.SigningRegion, cfg.AccountID, creds)
	if cfg.AdminAddr != "" {
		if cfg.AdminTokenFile != "" {
			if adminToken, err = readToken(cfg.AdminTokenFile); err != nil {
				return nil, "", err
			}
		}
		s.metrics = metrics.New()
	}
	s.auth.SetRegions(cfg.Regions)
	return creds, adminToken, nil
}

// openRegistry opens the store (unless Config.Store gave one) and loads
// the registry from it; on failure it closes what it opened.
func (s *Server) openRegistry() error {
	cfg, log := s.cfg, s.log
	if s.st == nil {
		st, err := openStore(cfg, log, s.commitObserver())
		if err != nil {
			return err
		}
		s.st, s.ownStore = st, true
	}
	started := time.Now()
	var viewObs registry.Observer
	if s.metrics != nil {
		viewObs = s.metrics.View()
	}
	reg, err := registry.New(context.Background(), s.st, registry.Config{
		OperationDelay: cfg.OperationDelay, OperationRetention: cfg.OperationRetention, MaxOperationsPerAccount: cfg.MaxOperationsPerAccount,
		CustomHealthDelay: cfg.CustomHealthDelay, Limits: cfg.Limits, Logger: log, Observer: viewObs,
		DNSListenerVPCs: cfg.dnsVPCIDs(),
		// s.probes is set once the listeners are known, before the API
		// serves.
		ProbeAllowed: func(a netip.AddrPort) error { return s.probes.Check(a) },
	})
	if err != nil {
		s.closeStore()
		return fmt.Errorf("server: load the registry: %w", err)
	}
	s.reg = reg
	log.Info("state loaded", "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// loadStartFiles loads what the server starts with: the faults of
// --faults, the state of --init, the TLS certificate.
func (s *Server) loadStartFiles() error {
	cfg := s.cfg
	s.faults = fault.NewSet()
	if cfg.FaultsFile != "" {
		if err := loadFaults(s.faults, cfg.FaultsFile, cfg.AccountID); err != nil {
			return fmt.Errorf("server: --faults: %w", err)
		}
	}
	if cfg.InitFile != "" {
		if err := s.init(cfg.InitFile); err != nil {
			return err
		}
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return errors.New("server: give both --tls-cert and --tls-key, or neither")
		}
		if err := s.loadCert(); err != nil {
			return err
		}
	}
	return nil
}

// apiHandler serves the Cloud Map API, and Route 53's read API under its
// path.
func (s *Server) apiHandler(devMode bool) http.Handler {
	cfg, log := s.cfg, s.log
	nameserver := cfg.DNSNameserver
	if nameserver == "" {
		nameserver = dns.DefaultNameserver
	}
	apiCfg := api.Config{Registry: s.reg, Auth: s.auth, Logger: log, Ready: s.ready.Load, Degraded: s.degraded,
		DevMode: devMode, Throttle: cfg.Throttle, Faults: s.faults}
	if s.metrics != nil {
		apiCfg.Observer = s.metrics.API()
	}
	if cfg.AccessLog {
		apiCfg.AccessLog = log
	}
	return routeByPath(api.New(apiCfg),
		route53.New(route53.Config{Registry: s.reg, Auth: s.r53Auth, Nameserver: nameserver, Logger: log}))
}

// init creates what the state file at path describes, unless it exists.
func (s *Server) init(path string) error {
	st, err := statefile.Read(path)
	if err != nil {
		return fmt.Errorf("server: --init: %w", err)
	}
	if err := s.reg.Import(context.Background(), s.cfg.AccountID, s.cfg.Region, st); err != nil {
		var ie *registry.ImportError
		if errors.As(err, &ie) && ie.Pos == "" {
			return fmt.Errorf("server: --init %s: %w", path, err)
		}
		return fmt.Errorf("server: --init: %w", err)
	}
	n := 0
	for _, ns := range st.Namespaces {
		n += len(ns.Services)
	}
	s.log.Info("state file applied", "file", path, "namespaces", len(st.Namespaces), "services", n)
	return nil
}

// commitObserver is the observer of the store's commits, or nil without
// metrics.
func (s *Server) commitObserver() store.CommitObserver {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.Store()
}

// readToken reads the admin token file: its content without surrounding
// white space, which must not be empty.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("server: read the admin token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("server: the admin token file %s is empty; put a long random token in it", path)
	}
	if strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("server: the admin token in %s holds white space; use one line of printable characters", path)
	}
	return t, nil
}

// serveAdmin starts the admin listener: metrics, profiles and the console.
func (s *Server) serveAdmin(reg *registry.Registry, dnsCfg dns.HandlerConfig, token string) error {
	m := s.metrics
	m.WatchRegistry(reg)
	m.WatchHealth(s.checker.Stats)
	if s.members != nil {
		members := s.members
		m.WatchCluster(func() int { return len(members.Live()) })
	}
	ln, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		return fmt.Errorf("server: listen for the admin listener on %s: %w", s.cfg.AdminAddr, err)
	}
	dnsCfg.Observer, dnsCfg.QueryLog = nil, nil // the console's own queries are not traffic
	con := console.New(console.Config{Registry: reg, DNS: dns.NewHandlerConfig(reg, dnsCfg), LastProbe: s.checker.LastProbe,
		APIEndpoint: s.Endpoint(), Logger: s.log})
	s.adminLn = ln
	s.admin = &http.Server{
		Handler:           admin.Handler(admin.Config{Metrics: m.Handler(), Console: con, Token: token}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() { _ = s.admin.Serve(ln) }()
	s.log.Info("serving the admin listener", "addr", ln.Addr().String(), "token", token != "")
	return nil
}

// AdminAddr is the address of the admin listener, or "" when it is off.
func (s *Server) AdminAddr() string {
	if s.adminLn == nil {
		return ""
	}
	return s.adminLn.Addr().String()
}

// Metrics are the server's metrics, or nil when the admin listener is
// off.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// openStore opens the store that cfg names.
func openStore(cfg Config, log *slog.Logger, obs store.CommitObserver) (store.Store, error) {
	if cfg.StoreKind == StoreEtcd {
		e := cfg.Etcd
		st, err := etcd.Open(context.Background(), etcd.Options{
			Endpoints: e.Endpoints, CAFile: e.CAFile, CertFile: e.CertFile, KeyFile: e.KeyFile,
			Username: e.Username, Password: e.Password, Prefix: e.Prefix,
			DialTimeout: e.DialTimeout, RequestTimeout: e.RequestTimeout, MaxTxnOps: e.MaxTxnOps, Logger: log, Observer: obs,
		})
		if err != nil {
			return nil, fmt.Errorf("server: open the etcd store: %w", err)
		}
		return st, nil
	}
	opts := bolt.DefaultOptions()
	opts.Observer = obs
	st, err := bolt.Open(cfg.DataDir, opts)
	if err != nil {
		return nil, fmt.Errorf("server: open the store in %s: %w", cfg.DataDir, err)
	}
	return st, nil
}

// shutdownEarly undoes a Start that failed after the API began serving.
func (s *Server) shutdownEarly() {
	_ = s.http.Close()
	_ = s.closeDNS(context.Background())
	s.reg.Close()
	s.closeStore()
}

// monitorStore pings etcd every second, logs when it becomes unreachable
// and when it answers again, and keeps the state for /healthz.
func (s *Server) monitorStore(ctx context.Context, es *etcd.Store) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		err := es.Ping(ctx)
		if ctx.Err() != nil {
			return
		}
		was := s.storeErr.Swap(&storeStatus{err: err})
		switch {
		case err != nil && (was == nil || was.err == nil):
			s.log.Error("etcd is unreachable: serving reads and DNS from the last state seen; writes are refused with ServiceUnavailable until it answers", "err", err)
		case err == nil && was != nil && was.err != nil:
			s.log.Info("etcd answers again: writes are accepted")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type storeStatus struct{ err error }

// degraded describes why the server serves only reads, or "" when it
// serves everything.
func (s *Server) degraded() string {
	if st := s.storeErr.Load(); st != nil && st.err != nil {
		return "etcd unreachable: reads and DNS are served from the last state seen, writes are refused: " + st.err.Error()
	}
	return ""
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

// loadCert reads the TLS certificate and key; on error the certificate in
// use stays.
func (s *Server) loadCert() error {
	c, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("server: TLS certificate %s and key %s: %w", s.cfg.TLSCert, s.cfg.TLSKey, err)
	}
	s.cert.Store(&c)
	return nil
}

// ReloadTLS reads the TLS certificate and key again and, if they are
// valid, serves every later connection with them; on error the ones in
// use stay.
func (s *Server) ReloadTLS() error {
	if s.cfg.TLSCert == "" {
		return errors.New("server: no TLS certificate to reload")
	}
	if err := s.loadCert(); err != nil {
		return err
	}
	s.log.Info("TLS certificate reloaded", "cert", s.cfg.TLSCert)
	return nil
}

// ReloadCredentials reads the credentials file again and, if it is valid,
// uses it for every later request; on error the identities in use stay.
func (s *Server) ReloadCredentials() error {
	if s.cfg.Credentials == "" {
		return errors.New("server: no credentials file to reload (development mode)")
	}
	creds, err := sigv4.LoadCredentials(s.cfg.Credentials)
	if err != nil {
		return fmt.Errorf("server: reload: %w", err)
	}
	s.auth.SetCredentials(creds)
	s.r53Auth.SetCredentials(creds)
	s.log.Info("credentials reloaded", "credentials", s.cfg.Credentials, "identities", len(creds))
	return nil
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
	s.stop()
	<-s.checking
	if s.monitoring != nil {
		<-s.monitoring
	}
	if s.members != nil {
		s.members.Close()
	}
	s.reg.Close()
	if cerr := s.closeStore(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func (s *Server) closeStore() error {
	if !s.ownStore {
		return nil
	}
	if err := s.st.Close(); err != nil {
		return fmt.Errorf("server: close the store: %w", err)
	}
	return nil
}

// routeByPath sends Route 53's requests (under /2013-04-01/) to r53 and
// everything else to the Cloud Map API, on the same port, as AWS serves
// each at its own endpoint.
func routeByPath(cloudMap, r53 http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, route53.PathPrefix) {
			r53.ServeHTTP(w, req)
			return
		}
		cloudMap.ServeHTTP(w, req)
	})
}
