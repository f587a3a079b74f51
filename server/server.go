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
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn/internal/admin"
	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/awsid"
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

// Config is everything a server needs. Start from DefaultConfig.
type Config struct {
	// APIAddr is the address the Cloud Map API listens on (host:port;
	// port 0 picks a free one).
	APIAddr string
	// DNSAddr is the address the authoritative DNS server listens on, UDP
	// and TCP (port 0 picks a free one); empty disables DNS.
	DNSAddr string
	// APIMaxConnsPerClient caps the connections each client address holds
	// open to the API, and DNSMaxConnsPerClient those to DNS over TCP; 0
	// means no cap.
	APIMaxConnsPerClient, DNSMaxConnsPerClient int
	// DNSNameserver is the host name the NS record of every zone names.
	DNSNameserver string
	// DNSRateLimit limits the responses each source prefix gets over UDP
	// on every DNS listener (--dns-rrl); a Rate of 0 leaves them
	// unlimited.
	DNSRateLimit dns.RRLConfig
	// DNSVPCs are DNS listeners of one VPC each: each answers that VPC's
	// private namespaces and the public ones, and DNSAddr then answers the
	// private namespaces of the other VPCs only.
	DNSVPCs []DNSVPC
	// DataDir is the folder of the embedded store. It is created if
	// absent and locked while the server runs.
	DataDir string
	// Credentials is the path of a credentials file (AWS shared-credentials
	// format with aws_account_id per profile). Empty means development
	// mode: any well-formed signature is accepted and every caller is
	// AccountID, and only loopback listeners are allowed.
	Credentials string
	// TLSCert and TLSKey are the PEM files of the API's certificate (with
	// its chain) and key; the API then serves HTTPS only. Both are read
	// again by Reload.
	TLSCert, TLSKey string
	// InsecureNoAuth allows development mode on non-loopback addresses.
	InsecureNoAuth bool
	// Region is the region of requests that carry no SigV4 credential
	// scope.
	Region string
	// AccountID is the 12-digit account every request acts as.
	AccountID string
	// HealthProbeAllow and HealthProbeDeny are the operator's rules of
	// the health-probe policy (see health.Policy); with Credentials the
	// policy also denies loopback, link-local, unspecified and multicast
	// addresses and cairn's own listeners and etcd.
	HealthProbeAllow, HealthProbeDeny []netip.Prefix
	// Regions are the region names a request may act in; nil means the
	// regions of the AWS partitions cairn serves (sigv4.AWSRegions).
	Regions []string
	// OperationDelay makes asynchronous operations take this long from
	// SUBMITTED to SUCCESS, as on AWS; zero completes them before the call
	// returns.
	OperationDelay time.Duration
	// OperationRetention is how long finished operations are kept.
	OperationRetention time.Duration
	// MaxOperationsPerAccount is the most operations one account keeps
	// (1,000,000 by default, about 300 MB of memory); past it the
	// account's oldest finished operations are deleted before their
	// retention ends. Zero means no limit.
	MaxOperationsPerAccount int
	// HealthInterval is how often each instance of a service with a
	// HealthCheckConfig is probed (Route 53's 30 s by default).
	HealthInterval time.Duration
	// HealthConcurrency is how many health probes may run at once.
	HealthConcurrency int
	// HealthTimeouts are the probes' deadlines (Route 53's by default).
	HealthTimeouts health.Timeouts
	// CustomHealthDelay delays custom health status changes, as AWS does
	// (about 30 s); zero applies them at once.
	CustomHealthDelay time.Duration
	// Limits are the resource quotas (AWS's defaults; zero is unlimited).
	Limits registry.Limits
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Store, when set, is used instead of opening the store that
	// StoreKind names. The server does not close it.
	Store store.Store
	// StoreKind is the store the server opens: "bolt" (the default), the
	// embedded store in DataDir, or "etcd", the etcd that Etcd names,
	// which any number of servers can share.
	StoreKind string
	// Etcd configures the etcd store.
	Etcd EtcdConfig
	// MemberID names this server among the servers sharing an etcd store,
	// for assigning health checks; empty picks a random one.
	MemberID string
	// Throttle, when set, limits request rates as AWS does (`--throttle
	// aws`, api.AWSThrottle); nil never throttles.
	Throttle *api.ThrottleConfig
	// FaultsFile is a file of faults (JSON or YAML: a Faults list, as
	// `cairn fault add` takes them) injected from the start, in AccountID.
	FaultsFile string
	// InitFile is a state file (JSON or YAML, the format of `cairn
	// export`) whose namespaces, services and instances are created at
	// start in AccountID, unless they exist already.
	InitFile string
	// MemberTTL is how long a server that stops renewing its membership
	// (a crash) keeps the health checks it was assigned; default 5 s.
	MemberTTL time.Duration
	// AdminAddr is the address of the admin listener (Prometheus metrics
	// at /metrics, profiles at /debug/pprof/, the console at /); empty
	// turns it off. `cairn serve` listens on DefaultAdminAddr.
	AdminAddr string
	// AdminTokenFile is a file holding the bearer token every admin
	// request must carry; without it the admin listener only listens on
	// loopback addresses.
	AdminTokenFile string
	// AccessLog logs one line per API request to Logger.
	AccessLog bool
	// DNSQueryLog logs one line per DNS query to Logger.
	DNSQueryLog bool
}

// DefaultAdminAddr is the admin listener's address in `cairn serve`.
// DefaultConfig leaves the admin listener off, so that servers embedded
// in tests do not compete for the port.
const DefaultAdminAddr = "127.0.0.1:9081"

// DNSVPC is the DNS listener of one VPC.
type DNSVPC struct {
	// VPC is the VPC ID namespaces name (CreatePrivateDnsNamespace's Vpc).
	VPC string
	// Addr is the address it listens on, UDP and TCP (host:port).
	Addr string
}

// ParseDNSVPC parses "vpc-…=host:port".
func ParseDNSVPC(s string) (DNSVPC, error) {
	vpc, addr, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok || vpc == "" || addr == "" {
		return DNSVPC{}, fmt.Errorf("server: the DNS listener %q is not VPC=host:port, such as vpc-0abc=10.0.1.2:53", s)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return DNSVPC{}, fmt.Errorf("server: the DNS listener address of %s, %q, is not host:port: %w", vpc, addr, err)
	}
	return DNSVPC{VPC: vpc, Addr: addr}, nil
}

// Store kinds.
const (
	StoreBolt = "bolt"
	StoreEtcd = "etcd"
)

// EtcdConfig configures the etcd store.
type EtcdConfig struct {
	// Endpoints are etcd's client URLs, such as http://127.0.0.1:2379.
	Endpoints []string
	// CAFile verifies etcd's certificate; CertFile and KeyFile are this
	// server's client certificate.
	CAFile, CertFile, KeyFile string
	// Username and Password authenticate to etcd when its auth is on.
	Username, Password string
	// Prefix is the etcd key prefix of cairn's state (default "/cairn/").
	Prefix string
	// DialTimeout bounds connecting at start (default 5 s);
	// RequestTimeout bounds each write while etcd is unreachable (default
	// 5 s), after which it fails with a retryable ServiceUnavailable.
	DialTimeout, RequestTimeout time.Duration
	// MaxTxnOps is etcd's --max-txn-ops (default 128): cairn never sends
	// a transaction of more operations. Set it to etcd's when etcd runs
	// with a larger limit.
	MaxTxnOps int
}

// DefaultConfig returns the defaults of `cairn serve`.
func DefaultConfig() Config {
	return Config{
		APIAddr:                 "127.0.0.1:9080",
		DNSAddr:                 "127.0.0.1:9053",
		DNSNameserver:           dns.DefaultNameserver,
		APIMaxConnsPerClient:    256,
		DNSMaxConnsPerClient:    32,
		DNSRateLimit:            dns.RRLConfig{Slip: dns.RRLDefaultSlip, Window: dns.RRLDefaultWindow},
		DataDir:                 "./cairn-data",
		Region:                  "us-east-1",
		AccountID:               "000000000000",
		OperationRetention:      72 * time.Hour,
		MaxOperationsPerAccount: 1_000_000,
		HealthInterval:          health.DefaultConfig().Interval,
		HealthConcurrency:       health.DefaultConfig().Concurrency,
		HealthTimeouts:          health.DefaultTimeouts(),
		Limits:                  registry.DefaultLimits(),
	}
}

// Validate reports the first setting that can't work, saying what to
// change.
func (c Config) Validate() error {
	if c.APIAddr == "" {
		return errors.New("server: the API address is empty; set --api-addr to host:port, such as 127.0.0.1:9080")
	}
	if _, _, err := net.SplitHostPort(c.APIAddr); err != nil {
		return fmt.Errorf("server: the API address %q is not host:port: %w", c.APIAddr, err)
	}
	if c.DNSAddr != "" {
		if _, _, err := net.SplitHostPort(c.DNSAddr); err != nil {
			return fmt.Errorf("server: the DNS address %q is not host:port: %w", c.DNSAddr, err)
		}
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			return fmt.Errorf("server: the admin address %q is not host:port: %w", c.AdminAddr, err)
		}
		if c.AdminTokenFile == "" && !loopback(c.AdminAddr) {
			return fmt.Errorf("server: the admin listener %s is not a loopback address, and it serves profiles and the whole registry; "+
				"give --admin-token-file FILE so that every admin request must carry its token, or listen on 127.0.0.1", c.AdminAddr)
		}
	}
	seen := map[string]bool{}
	for _, d := range c.DNSVPCs {
		if _, err := ParseDNSVPC(d.VPC + "=" + d.Addr); err != nil {
			return err
		}
		if seen[d.VPC] {
			return fmt.Errorf("server: the VPC %s has two DNS listeners; give one --dns-vpc per VPC", d.VPC)
		}
		seen[d.VPC] = true
	}
	if c.Credentials == "" && !c.InsecureNoAuth {
		addrs := []string{c.APIAddr, c.DNSAddr}
		for _, d := range c.DNSVPCs {
			addrs = append(addrs, d.Addr)
		}
		for _, addr := range addrs {
			if addr != "" && !loopback(addr) {
				return fmt.Errorf("server: %s is not a loopback address, and without --credentials cairn accepts every request unverified "+
					"(development mode); give --credentials FILE to verify signatures, listen on 127.0.0.1, "+
					"or pass --insecure-no-auth to accept unverified requests from the network", addr)
			}
		}
	}
	switch c.StoreKind {
	case "", StoreBolt:
		if c.Store == nil && c.DataDir == "" {
			return errors.New("server: the data directory is empty; set --data-dir")
		}
	case StoreEtcd:
		if c.Store == nil && len(c.Etcd.Endpoints) == 0 {
			return errors.New("server: the etcd store needs etcd's address; set --etcd-endpoints, such as http://127.0.0.1:2379")
		}
	default:
		return fmt.Errorf("server: the store %q is neither bolt nor etcd; set --store bolt or --store etcd", c.StoreKind)
	}
	if !awsid.IsRegion(c.Region) {
		return fmt.Errorf("server: the region %q is not a region name such as us-east-1", c.Region)
	}
	for _, r := range c.Regions {
		if !awsid.IsRegion(r) {
			return fmt.Errorf("server: %q in --regions is not a region name such as us-east-1 (lower-case letters, digits and hyphens)", r)
		}
	}
	if allowed := c.allowedRegions(); !slices.Contains(allowed, c.Region) {
		if c.Regions != nil {
			return fmt.Errorf("server: the region %q is not among --regions %s", c.Region, strings.Join(c.Regions, ","))
		}
		return fmt.Errorf("server: the region %q is not an AWS region name such as us-east-1; give --regions to serve other names", c.Region)
	}
	if !awsid.IsAccountID(c.AccountID) {
		return fmt.Errorf("server: the account ID %q must be 12 digits, such as 000000000000", c.AccountID)
	}
	if c.MaxOperationsPerAccount < 0 {
		return fmt.Errorf("server: the most operations per account %d must not be negative (0 for no limit)", c.MaxOperationsPerAccount)
	}
	if c.OperationDelay < 0 || c.OperationRetention < 0 || c.CustomHealthDelay < 0 {
		return errors.New("server: the operation delay and retention and the custom health delay must not be negative")
	}
	if c.HealthInterval <= 0 {
		return fmt.Errorf("server: the health check interval %v must be positive, such as 30s", c.HealthInterval)
	}
	if c.APIMaxConnsPerClient < 0 || c.DNSMaxConnsPerClient < 0 {
		return errors.New("server: connection caps must not be negative (0 means no cap)")
	}
	if err := c.DNSRateLimit.Check(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if c.HealthConcurrency <= 0 {
		return fmt.Errorf("server: the health check concurrency %d must be positive", c.HealthConcurrency)
	}
	if c.Limits.NamespacesPerRegion < 0 || c.Limits.InstancesPerNamespace < 0 || c.Limits.InstancesPerService < 0 {
		return errors.New("server: limits must not be negative (0 means no limit)")
	}
	if c.Etcd.MaxTxnOps != 0 && c.Etcd.MaxTxnOps < 8 {
		return fmt.Errorf("server: --etcd-max-txn-ops %d is too small: cairn's writes take up to 8 operations (etcd's default is 128)", c.Etcd.MaxTxnOps)
	}
	return nil
}

// loopback reports whether a listen address is on the loopback interface
// only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// clearOnNetwork reports whether the API verifies signatures on a network
// address without TLS: what it serves then travels in clear.
func (c Config) clearOnNetwork() bool {
	return c.Credentials != "" && c.TLSCert == "" && !loopback(c.APIAddr)
}

// allowedRegions are the regions requests may act in.
func (c Config) allowedRegions() []string {
	if c.Regions != nil {
		return c.Regions
	}
	return sigv4.AWSRegions()
}

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

// dnsConfig is the configuration of every DNS listener's handler.
func (s *Server) dnsConfig() dns.HandlerConfig {
	cfg := s.cfg
	dnsCfg := dns.HandlerConfig{Nameserver: cfg.DNSNameserver}
	if s.metrics != nil {
		dnsCfg.Observer = s.metrics.DNS()
	}
	if cfg.DNSQueryLog {
		dnsCfg.QueryLog = s.log
	}
	if cfg.DNSRateLimit.Rate > 0 {
		// Validate checked it: NewRateLimiter can't fail.
		dnsCfg.RateLimit, _ = dns.NewRateLimiter(cfg.DNSRateLimit)
	}
	return dnsCfg
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

// dnsVPCIDs are the VPCs with DNS listeners of their own.
func (c Config) dnsVPCIDs() []string {
	var ids []string
	for _, d := range c.DNSVPCs {
		ids = append(ids, d.VPC)
	}
	return ids
}

// listenDNS starts the shared DNS listener and those of single VPCs.
func (s *Server) listenDNS(dnsCfg dns.HandlerConfig) error {
	h := dns.NewHandlerConfig(s.reg, dnsCfg).WithFaults(s.faults)
	own := s.cfg.dnsVPCIDs()
	if s.cfg.DNSAddr != "" {
		shared := h
		if len(own) > 0 {
			shared = h.ForZones(func(private bool, vpc string) bool { return !private || !slices.Contains(own, vpc) })
		}
		d, err := dns.ListenWith(s.cfg.DNSAddr, shared, dns.Options{MaxTCPConnsPerClient: s.cfg.DNSMaxConnsPerClient})
		if err != nil {
			return err
		}
		s.dns = d
		s.log.Info("serving DNS", "addr", d.Addr())
	}
	for _, v := range s.cfg.DNSVPCs {
		vpc := v.VPC
		d, err := dns.ListenWith(v.Addr, h.ForZones(func(private bool, nsVPC string) bool { return !private || nsVPC == vpc }),
			dns.Options{MaxTCPConnsPerClient: s.cfg.DNSMaxConnsPerClient})
		if err != nil {
			return err
		}
		if s.vpcDNS == nil {
			s.vpcDNS = map[string]*dns.Server{}
		}
		s.vpcDNS[vpc] = d
		s.log.Info("serving DNS for one VPC", "vpc", vpc, "addr", d.Addr())
	}
	return nil
}

// ownAddrs are the addresses of cairn's listeners and of its etcd, which
// health checks must not probe: a listener on an unspecified address is
// at its port on every address of the host.
func (s *Server) ownAddrs() []netip.AddrPort {
	var hostAddrs []netip.Addr
	if ifAddrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifAddrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				hostAddrs = append(hostAddrs, p.Addr())
			}
		}
	}
	var out []netip.AddrPort
	add := func(hostport string) {
		ap, err := netip.ParseAddrPort(hostport)
		if err != nil || ap.Port() == 0 {
			// Port 0 is a listener not yet bound (the admin listener on
			// :0); as a rule it would deny every port of the address.
			return
		}
		if !ap.Addr().IsUnspecified() {
			out = append(out, ap)
			return
		}
		for _, h := range hostAddrs {
			out = append(out, netip.AddrPortFrom(h, ap.Port()))
		}
	}
	add(s.apiLn.Addr().String())
	if s.dns != nil {
		add(s.dns.Addr())
	}
	for _, d := range s.vpcDNS {
		add(d.Addr())
	}
	if s.cfg.AdminAddr != "" {
		add(s.cfg.AdminAddr) // the admin listener starts later
	}
	endpoints := s.cfg.Etcd.Endpoints
	if es, ok := s.st.(*etcd.Store); ok {
		endpoints = es.Options().Endpoints
	}
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			continue
		}
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = "2379"
		}
		if _, err := netip.ParseAddr(host); err == nil {
			add(net.JoinHostPort(host, port))
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		cancel()
		if err != nil {
			s.log.Warn("etcd's host name does not resolve: health checks are not kept from probing it", "endpoint", e, "err", err)
			continue
		}
		for _, ip := range ips {
			add(net.JoinHostPort(ip.Unmap().String(), port))
		}
	}
	return out
}

// closeDNS stops every DNS listener.
func (s *Server) closeDNS(ctx context.Context) error {
	var errs []error
	if s.dns != nil {
		errs = append(errs, s.dns.Shutdown(ctx))
	}
	for _, d := range s.vpcDNS {
		errs = append(errs, d.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

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

// DNSAddr is the address DNS listens on (UDP and TCP), or "" when DNS is
// off.
func (s *Server) DNSAddr() string {
	if s.dns == nil {
		return ""
	}
	return s.dns.Addr()
}

// DNSVPCAddr is the address of the DNS listener of vpc (--dns-vpc), or ""
// when it has none.
func (s *Server) DNSVPCAddr(vpc string) string {
	if d := s.vpcDNS[vpc]; d != nil {
		return d.Addr()
	}
	return ""
}

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
