// Command cairn is a self-hosted server that speaks the AWS Cloud Map API.
//
//	cairn serve [flags]   run the server (see cairn serve -h)
//	cairn share, unshare, shares   manage namespace sharing on a running cairn
//	cairn reset           forget everything of your account on a running cairn
//	cairn migrate --from STORE --to STORE   copy the state between stores
//	cairn policy simulate …   decide a request against a profile's policy
//	cairn version         print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/awsid"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/logging"
	"github.com/cairn-dev/cairn/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }

const usage = `cairn: a self-hosted AWS Cloud Map server

Usage:
  cairn serve [flags]   run the server; "cairn serve -h" lists the flags
  cairn share --namespace ID --account ACCOUNT     share a namespace with accounts
  cairn unshare --namespace ID --account ACCOUNT   stop sharing it
  cairn shares --namespace ID                      list the accounts it is shared with
  cairn reset [--endpoint URL]   forget everything of your account on a running cairn
  cairn export [--endpoint URL] > state.json   write your account's namespaces, services and instances
  cairn import [--endpoint URL] FILE            create what a state file (JSON or YAML) describes
  cairn fault add|list|clear                    inject errors, latency, DNS failures, forced health
  cairn healthcheck [--endpoint URL]            exit 0 when /healthz answers ok (a container's HEALTHCHECK)
  cairn migrate --from bolt:DIR --to etcd:ENDPOINTS   copy the state between stores (servers stopped)
  cairn policy simulate --credentials FILE --profile NAME --action servicediscovery:OP|route53:OP [--resource ARN] [--context key=value …]
                        decide one request against a profile's policy_file, offline
  cairn version         print the version
`

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], getenv, stderr)
	case "migrate":
		return migrate(args[1:], getenv, stdout, stderr)
	case "share", "unshare", "shares":
		return shareCommand(args[0], args[1:], getenv, stdout, stderr)
	case "reset":
		return resetCommand(args[1:], getenv, stdout, stderr)
	case "export":
		return exportCommand(args[1:], getenv, stdout, stderr)
	case "fault":
		return faultCommand(args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return healthcheckCommand(args[1:], getenv, stdout, stderr)
	case "import":
		return importCommand(args[1:], getenv, stdout, stderr)
	case "policy":
		return policyCommand(args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "cairn %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "cairn: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// settings binds each flag to its environment twin: the environment sets
// the default, the command line overrides it. A twin that can't be parsed
// is kept aside until the command line is parsed: the flag wins over it
// then too (see settle).
type settings struct {
	fs     *flag.FlagSet
	getenv func(string) string
	bad    []badTwin
}

// badTwin is an environment variable that does not parse as its flag's type.
type badTwin struct {
	flag string
	err  error
}

func (s *settings) env(envName string) (string, bool) {
	v := s.getenv(envName)
	return v, v != ""
}

func (s *settings) str(p *string, name, envName, help string) {
	if v, ok := s.env(envName); ok {
		*p = v
	}
	s.fs.StringVar(p, name, *p, help+" (env "+envName+")")
}

// typed binds a flag of a parsed type: want says what a valid value looks
// like, for the error about a twin that is not one.
func typed[T any](s *settings, p *T, name, envName, help, want string, parse func(string) (T, error), bind func(*T, string, T, string)) {
	if v, ok := s.env(envName); ok {
		if x, err := parse(v); err != nil {
			s.bad = append(s.bad, badTwin{name, fmt.Errorf("%s=%q is not %s", envName, v, want)})
		} else {
			*p = x
		}
	}
	bind(p, name, *p, help+" (env "+envName+")")
}

func (s *settings) duration(p *time.Duration, name, envName, help string) {
	typed(s, p, name, envName, help, "a duration such as 30s or 72h", time.ParseDuration, s.fs.DurationVar)
}

func (s *settings) boolean(p *bool, name, envName, help string) {
	typed(s, p, name, envName, help, "true or false", strconv.ParseBool, s.fs.BoolVar)
}

func (s *settings) integer(p *int, name, envName, help string) {
	typed(s, p, name, envName, help, "a whole number", strconv.Atoi, s.fs.IntVar)
}

// settle runs after the command line is parsed and sorts the malformed
// environment twins: one whose flag was given is ignored, since the flag
// wins, and comes back as a warning; the others leave their setting
// without a value the user meant, and come back joined as the error.
func (s *settings) settle() (ignored []error, err error) {
	given := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, b := range s.bad {
		if given[b.flag] {
			ignored = append(ignored, fmt.Errorf("%w; ignored, as --%s is given", b.err, b.flag))
		} else {
			errs = append(errs, fmt.Errorf("%w; correct or unset it, or give --%s", b.err, b.flag))
		}
	}
	return ignored, errors.Join(errs...)
}

func serve(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, code, ok := serveConfig(args, getenv, stderr)
	if !ok {
		return code
	}
	log := cfg.Logger

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	raiseFileLimit(cfg.Logger)
	tuneGC(getenv, cfg.Logger)
	srv, err := server.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "cairn serve: %v\n", err)
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case <-ctx.Done():
			log.Info("stopping: finishing requests in flight")
			break wait
		case err := <-srv.Done():
			log.Error("the API server stopped", "err", err)
			break wait
		case <-hup:
			if cfg.Credentials != "" {
				if err := srv.ReloadCredentials(); err != nil {
					log.Error("SIGHUP: credentials not reloaded; the previous ones stay in use", "err", err)
				}
			}
			if cfg.TLSCert != "" {
				if err := srv.ReloadTLS(); err != nil {
					log.Error("SIGHUP: TLS certificate not reloaded; the previous one stays in use", "err", err)
				}
			}
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Close(shutdown); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// list binds a comma-separated list of T, each item parsed by parse; an
// unset flag leaves *p nil. A malformed twin is handled as typed does.
func list[T any](s *settings, p *[]T, name, envName, help, want string, parse func(string) (T, error)) {
	parseAll := func(v string) ([]T, error) {
		var out []T
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			x, err := parse(f)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	}
	typed(s, p, name, envName, help, want, parseAll, func(p *[]T, name string, _ []T, usage string) {
		s.fs.Func(name, usage, func(v string) error {
			x, err := parseAll(v)
			if err != nil {
				return err
			}
			*p = x
			return nil
		})
	})
}

func parseRegion(s string) (string, error) {
	if !awsid.IsRegion(s) {
		return "", fmt.Errorf("%q is not a region name", s)
	}
	return s, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	p, err := health.ParsePrefixes(s)
	if err != nil || len(p) != 1 {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix or an address", s)
	}
	return p[0], nil
}

// serveConfig reads the settings of cairn serve from its flags and their
// environment twins. When they don't make a configuration (or -h was
// asked) it has said why on stderr, and returns false with the exit code.
func serveConfig(args []string, getenv func(string) string, stderr io.Writer) (server.Config, int, bool) {
	cfg := server.DefaultConfig()
	cfg.AdminAddr = server.DefaultAdminAddr
	cfg.StoreKind = server.StoreBolt
	raw := serveText{logLevel: "info", logFormat: logging.FormatText, throttle: "off"}
	s := &settings{fs: flag.NewFlagSet("cairn serve", flag.ContinueOnError), getenv: getenv}
	s.fs.SetOutput(stderr)
	// In this order, so that malformed twins are reported in it.
	s.listenerFlags(&cfg)
	s.accessFlags(&cfg)
	s.registryFlags(&cfg, &raw)
	s.logFlags(&cfg, &raw)
	s.storeFlags(&cfg, &raw)
	if code, ok := parseArgs(s.fs, args); !ok {
		return cfg, code, false
	}
	if s.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cairn serve: unexpected argument %q\n", s.fs.Arg(0))
		return cfg, 2, false
	}
	ignored, err := s.settle()
	if err == nil {
		err = raw.apply(&cfg, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "cairn serve: %v\n", err)
		return cfg, 2, false
	}
	for _, w := range ignored {
		cfg.Logger.Warn("malformed environment variable overridden by its flag", "err", w)
	}
	return cfg, 0, true
}

// serveText holds the settings of cairn serve that are read as text and
// parsed once the command line is known (apply).
type serveText struct {
	logLevel, logFormat, throttle, endpoints string
}

// apply parses the text settings into cfg: etcd's endpoints, the throttle
// and the logger (which writes to stderr); it also turns an admin address
// of "off" into none.
func (t serveText) apply(cfg *server.Config, stderr io.Writer) error {
	if cfg.AdminAddr == "off" {
		cfg.AdminAddr = "" // an empty CAIRN_ADMIN_ADDR counts as unset, as for every variable
	}
	if t.endpoints != "" {
		for _, e := range strings.Split(t.endpoints, ",") {
			if e = strings.TrimSpace(e); e != "" {
				cfg.Etcd.Endpoints = append(cfg.Etcd.Endpoints, e)
			}
		}
	}
	throttle, err := api.ParseThrottle(t.throttle)
	if err != nil {
		return err
	}
	cfg.Throttle = throttle
	var level slog.Level
	if err := level.UnmarshalText([]byte(t.logLevel)); err != nil {
		return fmt.Errorf("log level %q is not debug, info, warn or error", t.logLevel)
	}
	log, err := logging.New(stderr, t.logFormat, level)
	if err != nil {
		return fmt.Errorf("log format %q is not text or json", t.logFormat)
	}
	cfg.Logger = log
	return nil
}

// listenerFlags adds the flags of the listeners: the API's, DNS's and the
// admin listener's addresses, caps and rate limits.
func (s *settings) listenerFlags(cfg *server.Config) {
	s.str(&cfg.APIAddr, "api-addr", "CAIRN_API_ADDR", "address of the Cloud Map API")
	s.str(&cfg.DNSAddr, "dns-addr", "CAIRN_DNS_ADDR", "address of the authoritative DNS server, UDP and TCP; empty turns DNS off")
	list(s, &cfg.DNSVPCs, "dns-vpc", "CAIRN_DNS_VPC", "DNS listeners of single VPCs, VPC=host:port, comma-separated: each answers its VPC's private namespaces and the public ones",
		"a comma-separated list of VPC=host:port such as vpc-0abc=10.0.1.2:53", server.ParseDNSVPC)
	s.integer(&cfg.APIMaxConnsPerClient, "api-max-conns-per-client", "CAIRN_API_MAX_CONNS_PER_CLIENT", "connections one client address may hold open to the API; 0 for no cap")
	s.integer(&cfg.DNSMaxConnsPerClient, "dns-max-conns-per-client", "CAIRN_DNS_MAX_CONNS_PER_CLIENT", "TCP connections one client address may hold open to each DNS listener; 0 for no cap")
	s.integer(&cfg.DNSRateLimit.Rate, "dns-rrl", "CAIRN_DNS_RRL", "responses per second one source prefix (IPv4 /24, IPv6 /56) gets over UDP for one response (a name and type, a zone's NXDOMAINs, errors); 0 for no limit")
	s.integer(&cfg.DNSRateLimit.Slip, "dns-rrl-slip", "CAIRN_DNS_RRL_SLIP", "with --dns-rrl, every Nth response held back is sent as an empty truncated reply (the client retries over TCP); 0 drops them all")
	s.duration(&cfg.DNSRateLimit.Window, "dns-rrl-window", "CAIRN_DNS_RRL_WINDOW", "with --dns-rrl, how long a source prefix that kept over the rate stays limited after it stops (1s to 1h)")
	s.str(&cfg.DNSNameserver, "dns-nameserver", "CAIRN_DNS_NAMESERVER", "host name in the NS record of every zone")
	s.str(&cfg.AdminAddr, "admin-addr", "CAIRN_ADMIN_ADDR", "address of the admin listener: Prometheus metrics at /metrics, profiles at /debug/pprof/, the web console at /; empty or off turns it off")
	s.str(&cfg.AdminTokenFile, "admin-token-file", "CAIRN_ADMIN_TOKEN_FILE", "file holding a bearer token every admin request must carry; required for an admin address beyond loopback")
}

// accessFlags adds the flags of who may call: credentials, TLS, and the
// account and regions of requests.
func (s *settings) accessFlags(cfg *server.Config) {
	s.str(&cfg.Credentials, "credentials", "CAIRN_CREDENTIALS", "credentials file (AWS shared-credentials format, with aws_account_id per profile); without it cairn runs in development mode, loopback only; reloaded on SIGHUP")
	s.str(&cfg.TLSCert, "tls-cert", "CAIRN_TLS_CERT", "PEM certificate (with its chain) of the API: it then serves HTTPS only; reloaded on SIGHUP")
	s.str(&cfg.TLSKey, "tls-key", "CAIRN_TLS_KEY", "PEM private key of --tls-cert; reloaded on SIGHUP")
	s.boolean(&cfg.InsecureNoAuth, "insecure-no-auth", "CAIRN_INSECURE_NO_AUTH", "allow development mode (no signature verification) on non-loopback addresses")
	s.str(&cfg.Region, "region", "CAIRN_REGION", "region of requests without a SigV4 credential scope")
	list(s, &cfg.Regions, "regions", "CAIRN_REGIONS", "region names requests may act in, comma-separated; default: the regions of AWS's aws, aws-cn and aws-us-gov partitions",
		"a comma-separated list of region names such as edge-1,edge-2", parseRegion)
	s.str(&cfg.AccountID, "account-id", "CAIRN_ACCOUNT_ID", "12-digit account of every request")
}

// registryFlags adds the flags of what the registry and its health
// checks do: operations, limits, throttling, faults, the start state and
// the probes.
func (s *settings) registryFlags(cfg *server.Config, raw *serveText) {
	s.duration(&cfg.OperationDelay, "operation-delay", "CAIRN_OPERATION_DELAY", "time asynchronous operations take from SUBMITTED to SUCCESS, as on AWS; 0 completes them before the call returns")
	s.duration(&cfg.OperationRetention, "operation-retention", "CAIRN_OPERATION_RETENTION", "how long finished operations are kept")
	s.integer(&cfg.ListOperationsConcurrency, "list-operations-concurrency", "CAIRN_LIST_OPERATIONS_CONCURRENCY", "ListOperations requests served at once; more wait for their turn, in order, so that clients paging without pause leave CPU to other callers (default: half of GOMAXPROCS, at least 1); 0 for no limit")
	s.integer(&cfg.MaxOperationsPerAccount, "max-operations-per-account", "CAIRN_MAX_OPERATIONS_PER_ACCOUNT", "most operations an account keeps; past it, its oldest finished ones are deleted before their retention ends; 0 for no limit")
	s.duration(&cfg.HealthInterval, "health-interval", "CAIRN_HEALTH_INTERVAL", "how often each instance with a Route 53-style health check is probed")
	s.integer(&cfg.HealthConcurrency, "health-concurrency", "CAIRN_HEALTH_CONCURRENCY", "how many health probes may run at once")
	s.duration(&cfg.CustomHealthDelay, "custom-health-delay", "CAIRN_CUSTOM_HEALTH_DELAY", "delay before a custom health status change takes effect (AWS: about 30s); 0 applies it at once")
	s.integer(&cfg.Limits.NamespacesPerRegion, "limit-namespaces", "CAIRN_LIMIT_NAMESPACES", "namespaces per account and region; 0 for no limit")
	s.integer(&cfg.Limits.InstancesPerNamespace, "limit-instances-per-namespace", "CAIRN_LIMIT_INSTANCES_PER_NAMESPACE", "instances per namespace; 0 for no limit")
	s.integer(&cfg.Limits.InstancesPerService, "limit-instances-per-service", "CAIRN_LIMIT_INSTANCES_PER_SERVICE", "instances per service; 0 for no limit")
	s.str(&raw.throttle, "throttle", "CAIRN_THROTTLE", "off, aws (DiscoverInstances 2,000 burst refilling 1,000/s per account and region, other operations 200 refilling 100/s per account), or buckets such as discover=20:10,other=5:1 (burst:per-second)")
	s.str(&cfg.FaultsFile, "faults", "CAIRN_FAULTS", "file of faults (JSON or YAML: a Faults list of what cairn fault add takes) injected from the start")
	s.str(&cfg.InitFile, "init", "CAIRN_INIT", "state file (JSON or YAML, the format of cairn export) whose namespaces, services and instances are created at start unless they exist")
	list(s, &cfg.HealthProbeAllow, "health-probe-allow", "CAIRN_HEALTH_PROBE_ALLOW", "CIDR prefixes (or addresses) health checks may probe, comma-separated, over the defaults that --credentials denies (loopback, link-local, unspecified, multicast, cairn's own listeners and etcd)",
		"a comma-separated list of CIDR prefixes such as 10.0.0.0/8", parsePrefix)
	list(s, &cfg.HealthProbeDeny, "health-probe-deny", "CAIRN_HEALTH_PROBE_DENY", "CIDR prefixes (or addresses) health checks must not probe, comma-separated; the most specific rule of both lists wins",
		"a comma-separated list of CIDR prefixes such as 10.0.0.0/8", parsePrefix)
}

// logFlags adds the flags of the logs.
func (s *settings) logFlags(cfg *server.Config, raw *serveText) {
	s.str(&raw.logLevel, "log-level", "CAIRN_LOG_LEVEL", "log level: debug, info, warn or error")
	s.str(&raw.logFormat, "log-format", "CAIRN_LOG_FORMAT", "log format: text (key=value) or json (one JSON object a line)")
	s.boolean(&cfg.AccessLog, "access-log", "CAIRN_ACCESS_LOG", "log one line per API request: request ID, account, region, operation, status, error type, latency")
	s.boolean(&cfg.DNSQueryLog, "dns-query-log", "CAIRN_DNS_QUERY_LOG", "log one line per DNS query: client, name, type, rcode, answers, latency")
}

// storeFlags adds the flags of the store: bolt's folder, or etcd's
// endpoints and connection.
func (s *settings) storeFlags(cfg *server.Config, raw *serveText) {
	s.str(&cfg.DataDir, "data-dir", "CAIRN_DATA_DIR", "folder of the embedded store; created if absent, locked while in use")
	s.str(&cfg.StoreKind, "store", "CAIRN_STORE", "where the state is kept: bolt (the embedded store in --data-dir) or etcd (--etcd-endpoints; any number of servers can share it)")
	s.str(&raw.endpoints, "etcd-endpoints", "CAIRN_ETCD_ENDPOINTS", "etcd's client URLs, comma-separated, such as http://10.0.0.1:2379,http://10.0.0.2:2379 (with --store etcd)")
	s.etcdConnection(&cfg.Etcd)
	s.integer(&cfg.Etcd.MaxTxnOps, "etcd-max-txn-ops", "CAIRN_ETCD_MAX_TXN_OPS", "etcd's --max-txn-ops: the most operations cairn puts in one etcd transaction (default 128, etcd's default)")
}

// etcdConnection adds the flags (and their twins) of how to reach etcd,
// which serve and migrate share: TLS, authentication and the key prefix.
func (s *settings) etcdConnection(o *server.EtcdConfig) {
	s.str(&o.CAFile, "etcd-ca", "CAIRN_ETCD_CA", "CA certificate file that verifies etcd's server certificate (https:// endpoints)")
	s.str(&o.CertFile, "etcd-cert", "CAIRN_ETCD_CERT", "client certificate file for etcd's --client-cert-auth")
	s.str(&o.KeyFile, "etcd-key", "CAIRN_ETCD_KEY", "key file of --etcd-cert")
	s.str(&o.Username, "etcd-username", "CAIRN_ETCD_USERNAME", "etcd user, when etcd's authentication is on")
	s.str(&o.Password, "etcd-password", "CAIRN_ETCD_PASSWORD", "password of --etcd-username (prefer the environment variable: flags show in ps)")
	s.str(&o.Prefix, "etcd-prefix", "CAIRN_ETCD_PREFIX", "etcd key prefix of cairn's state; servers that share it share the state (default /cairn/)")
}

// parseArgs parses a command's flags; ok is false when the command should
// end at once with code: 0 after -h, 2 after a flag it could not parse
// (the flag package has said why).
func parseArgs(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}
