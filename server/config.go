package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/awsid"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
	"github.com/cairn-dev/cairn/internal/store"
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
	// ListOperationsConcurrency is how many ListOperations requests the
	// API serves at once (half of GOMAXPROCS, at least 1, by default);
	// more wait for their turn, in the order they came. Zero serves every
	// request at once.
	ListOperationsConcurrency int
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
		APIAddr:                   "127.0.0.1:9080",
		DNSAddr:                   "127.0.0.1:9053",
		DNSNameserver:             dns.DefaultNameserver,
		APIMaxConnsPerClient:      256,
		DNSMaxConnsPerClient:      32,
		DNSRateLimit:              dns.RRLConfig{Slip: dns.RRLDefaultSlip, Window: dns.RRLDefaultWindow},
		DataDir:                   "./cairn-data",
		Region:                    "us-east-1",
		AccountID:                 "000000000000",
		OperationRetention:        72 * time.Hour,
		MaxOperationsPerAccount:   1_000_000,
		ListOperationsConcurrency: max(1, runtime.GOMAXPROCS(0)/2),
		HealthInterval:            health.DefaultConfig().Interval,
		HealthConcurrency:         health.DefaultConfig().Concurrency,
		HealthTimeouts:            health.DefaultTimeouts(),
		Limits:                    registry.DefaultLimits(),
	}
}

// Validate reports the first setting that can't work, saying what to
// change.
func (c Config) Validate() error {
	for _, check := range []func() error{c.checkListeners, c.checkExposure, c.checkStore, c.checkIdentity, c.checkBounds} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkListeners checks the listeners' addresses, and that the admin
// listener stays on loopback unless a token guards it.
func (c Config) checkListeners() error {
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
	return nil
}

// checkExposure refuses development mode (no signature verification) on
// a listener beyond loopback, unless --insecure-no-auth asks for it.
func (c Config) checkExposure() error {
	if c.Credentials != "" || c.InsecureNoAuth {
		return nil
	}
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
	return nil
}

// checkStore checks that the store named has what it needs to open.
func (c Config) checkStore() error {
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
	return nil
}

// checkIdentity checks the region and account of unsigned requests, and
// the regions requests may act in.
func (c Config) checkIdentity() error {
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
	return nil
}

// checkBounds checks the numbers: durations, counts, caps and limits,
// and the size of etcd's transactions.
func (c Config) checkBounds() error {
	if c.MaxOperationsPerAccount < 0 {
		return fmt.Errorf("server: the most operations per account %d must not be negative (0 for no limit)", c.MaxOperationsPerAccount)
	}
	if c.ListOperationsConcurrency < 0 {
		return fmt.Errorf("server: the ListOperations concurrency %d must not be negative (0 for no limit)", c.ListOperationsConcurrency)
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

// dnsVPCIDs are the VPCs with DNS listeners of their own.
func (c Config) dnsVPCIDs() []string {
	var ids []string
	for _, d := range c.DNSVPCs {
		ids = append(ids, d.VPC)
	}
	return ids
}
