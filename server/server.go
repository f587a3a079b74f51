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
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// Config is everything a server needs. Start from DefaultConfig.
type Config struct {
	// APIAddr is the address the Cloud Map API listens on (host:port;
	// port 0 picks a free one).
	APIAddr string
	// DNSAddr is the address the authoritative DNS server listens on, UDP
	// and TCP (port 0 picks a free one); empty disables DNS.
	DNSAddr string
	// DNSNameserver is the host name the NS record of every zone names.
	DNSNameserver string
	// DataDir is the folder of the embedded store. It is created if
	// absent and locked while the server runs.
	DataDir string
	// Credentials is the path of a credentials file (AWS shared-credentials
	// format with aws_account_id per profile). Empty means development
	// mode: any well-formed signature is accepted and every caller is
	// AccountID, and only loopback listeners are allowed.
	Credentials string
	// InsecureNoAuth allows development mode on non-loopback addresses.
	InsecureNoAuth bool
	// Region is the region of requests that carry no SigV4 credential
	// scope.
	Region string
	// AccountID is the 12-digit account every request acts as.
	AccountID string
	// OperationDelay makes asynchronous operations take this long from
	// SUBMITTED to SUCCESS, as on AWS; zero completes them before the call
	// returns.
	OperationDelay time.Duration
	// OperationRetention is how long finished operations are kept.
	OperationRetention time.Duration
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
	// Store, when set, is used instead of opening the embedded store in
	// DataDir. The server does not close it.
	Store store.Store
}

// DefaultConfig returns the defaults of `cairn serve`.
func DefaultConfig() Config {
	return Config{
		APIAddr:            "127.0.0.1:9080",
		DNSAddr:            "127.0.0.1:9053",
		DNSNameserver:      dns.DefaultNameserver,
		DataDir:            "./cairn-data",
		Region:             "us-east-1",
		AccountID:          "000000000000",
		OperationRetention: 72 * time.Hour,
		HealthInterval:     health.DefaultConfig().Interval,
		HealthConcurrency:  health.DefaultConfig().Concurrency,
		HealthTimeouts:     health.DefaultTimeouts(),
		Limits:             registry.DefaultLimits(),
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
	if c.Credentials == "" && !c.InsecureNoAuth {
		for _, addr := range []string{c.APIAddr, c.DNSAddr} {
			if addr != "" && !loopback(addr) {
				return fmt.Errorf("server: %s is not a loopback address, and without --credentials cairn accepts every request unverified "+
					"(development mode); give --credentials FILE to verify signatures, listen on 127.0.0.1, "+
					"or pass --insecure-no-auth to accept unverified requests from the network", addr)
			}
		}
	}
	if c.Store == nil && c.DataDir == "" {
		return errors.New("server: the data directory is empty; set --data-dir")
	}
	if !validRegion(c.Region) {
		return fmt.Errorf("server: the region %q is not a region name such as us-east-1", c.Region)
	}
	if len(c.AccountID) != 12 || !digits(c.AccountID) {
		return fmt.Errorf("server: the account ID %q must be 12 digits, such as 000000000000", c.AccountID)
	}
	if c.OperationDelay < 0 || c.OperationRetention < 0 || c.CustomHealthDelay < 0 {
		return errors.New("server: the operation delay and retention and the custom health delay must not be negative")
	}
	if c.HealthInterval <= 0 {
		return fmt.Errorf("server: the health check interval %v must be positive, such as 30s", c.HealthInterval)
	}
	if c.HealthConcurrency <= 0 {
		return fmt.Errorf("server: the health check concurrency %d must be positive", c.HealthConcurrency)
	}
	if c.Limits.NamespacesPerRegion < 0 || c.Limits.InstancesPerNamespace < 0 || c.Limits.InstancesPerService < 0 {
		return errors.New("server: limits must not be negative (0 means no limit)")
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

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validRegion(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Server is a running cairn.
type Server struct {
	cfg      Config
	log      *slog.Logger
	st       store.Store
	ownStore bool
	reg      *registry.Registry
	apiLn    net.Listener
	dns      *dns.Server
	http     *http.Server
	auth     *sigv4.Auth
	checker  *health.Checker
	stop     context.CancelFunc
	checking chan struct{}
	ready    atomic.Bool
	served   chan error
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
	var creds sigv4.Credentials
	if cfg.Credentials != "" {
		c, err := sigv4.LoadCredentials(cfg.Credentials)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		creds = c
	}
	s.auth = sigv4.NewAuth(api.SigningName, cfg.Region, cfg.AccountID, creds)
	if s.st == nil {
		st, err := bolt.Open(cfg.DataDir, bolt.DefaultOptions())
		if err != nil {
			return nil, fmt.Errorf("server: open the store in %s: %w", cfg.DataDir, err)
		}
		s.st, s.ownStore = st, true
	}
	started := time.Now()
	reg, err := registry.New(context.Background(), s.st, registry.Config{
		OperationDelay: cfg.OperationDelay, OperationRetention: cfg.OperationRetention,
		CustomHealthDelay: cfg.CustomHealthDelay, Limits: cfg.Limits, Logger: log,
	})
	if err != nil {
		s.closeStore()
		return nil, fmt.Errorf("server: load the registry: %w", err)
	}
	s.reg = reg
	log.Info("state loaded", "took", time.Since(started).Round(time.Millisecond))
	ln, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		reg.Close()
		s.closeStore()
		return nil, fmt.Errorf("server: listen for the API on %s: %w", cfg.APIAddr, err)
	}
	s.apiLn = ln
	if cfg.DNSAddr != "" {
		d, err := dns.Listen(cfg.DNSAddr, dns.NewHandler(reg, cfg.DNSNameserver))
		if err != nil {
			_ = ln.Close()
			reg.Close()
			s.closeStore()
			return nil, fmt.Errorf("server: %w", err)
		}
		s.dns = d
		log.Info("serving DNS", "addr", d.Addr())
	}
	handler := api.New(api.Config{Registry: reg, Auth: s.auth, Logger: log, Ready: s.ready.Load})
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { s.served <- s.http.Serve(ln) }()
	s.checker = health.New(reg, health.Config{Interval: cfg.HealthInterval, Concurrency: cfg.HealthConcurrency,
		Timeouts: cfg.HealthTimeouts, Logger: log})
	ctx, stop := context.WithCancel(context.Background())
	s.stop, s.checking = stop, make(chan struct{})
	go func() {
		defer close(s.checking)
		s.checker.Run(ctx)
	}()
	s.ready.Store(true)
	if creds == nil {
		log.Warn("development mode: requests are not verified and every caller is the development account; give --credentials to verify signatures",
			"account", cfg.AccountID)
	} else {
		log.Info("verifying SigV4 signatures", "credentials", cfg.Credentials, "identities", len(creds))
	}
	log.Info("serving the Cloud Map API", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "region", cfg.Region)
	return s, nil
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

// Endpoint is the API's base URL, for an SDK's endpoint setting.
func (s *Server) Endpoint() string { return "http://" + s.APIAddr() }

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
	s.log.Info("credentials reloaded", "credentials", s.cfg.Credentials, "identities", len(creds))
	return nil
}

// HealthStats returns the health checker's counters.
func (s *Server) HealthStats() health.Stats { return s.checker.Stats() }

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
	if s.dns != nil {
		if derr := s.dns.Shutdown(ctx); derr != nil && err == nil {
			err = derr
		}
	}
	s.stop()
	<-s.checking
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
