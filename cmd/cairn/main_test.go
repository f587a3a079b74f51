package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/logging"
	"github.com/cairn-dev/cairn/server"
)

// env is a fake getenv over a map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runCairn(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, env(vars), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		code, stdout, stderr := runCairn(t, nil, arg)
		if code != 0 || stdout != "cairn "+version+"\n" || stderr != "" {
			t.Errorf("cairn %s = %d, stdout %q, stderr %q; want 0, %q, nothing", arg, code, stdout, stderr, "cairn "+version+"\n")
		}
	}
}

func TestUsage(t *testing.T) {
	code, _, stderr := runCairn(t, nil)
	if code != 2 || !strings.Contains(stderr, "cairn serve") {
		t.Errorf("cairn with no command = %d, stderr %q; want 2 and the usage", code, stderr)
	}
	code, stdout, _ := runCairn(t, nil, "help")
	if code != 0 || !strings.Contains(stdout, "cairn version") {
		t.Errorf("cairn help = %d, stdout %q; want 0 and the usage", code, stdout)
	}
	code, _, stderr = runCairn(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("cairn frobnicate = %d, stderr %q; want 2 and unknown command", code, stderr)
	}
}

// serveFlags are every flag of cairn serve with its environment twin.
var serveFlags = map[string]string{
	"api-addr":                      "CAIRN_API_ADDR",
	"dns-addr":                      "CAIRN_DNS_ADDR",
	"dns-nameserver":                "CAIRN_DNS_NAMESERVER",
	"api-max-conns-per-client":      "CAIRN_API_MAX_CONNS_PER_CLIENT",
	"dns-max-conns-per-client":      "CAIRN_DNS_MAX_CONNS_PER_CLIENT",
	"dns-rrl":                       "CAIRN_DNS_RRL",
	"dns-rrl-slip":                  "CAIRN_DNS_RRL_SLIP",
	"dns-rrl-window":                "CAIRN_DNS_RRL_WINDOW",
	"dns-vpc":                       "CAIRN_DNS_VPC",
	"credentials":                   "CAIRN_CREDENTIALS",
	"tls-cert":                      "CAIRN_TLS_CERT",
	"tls-key":                       "CAIRN_TLS_KEY",
	"insecure-no-auth":              "CAIRN_INSECURE_NO_AUTH",
	"health-interval":               "CAIRN_HEALTH_INTERVAL",
	"health-probe-allow":            "CAIRN_HEALTH_PROBE_ALLOW",
	"health-probe-deny":             "CAIRN_HEALTH_PROBE_DENY",
	"health-concurrency":            "CAIRN_HEALTH_CONCURRENCY",
	"custom-health-delay":           "CAIRN_CUSTOM_HEALTH_DELAY",
	"data-dir":                      "CAIRN_DATA_DIR",
	"region":                        "CAIRN_REGION",
	"regions":                       "CAIRN_REGIONS",
	"account-id":                    "CAIRN_ACCOUNT_ID",
	"operation-delay":               "CAIRN_OPERATION_DELAY",
	"operation-retention":           "CAIRN_OPERATION_RETENTION",
	"max-operations-per-account":    "CAIRN_MAX_OPERATIONS_PER_ACCOUNT",
	"list-operations-concurrency":   "CAIRN_LIST_OPERATIONS_CONCURRENCY",
	"limit-namespaces":              "CAIRN_LIMIT_NAMESPACES",
	"limit-instances-per-namespace": "CAIRN_LIMIT_INSTANCES_PER_NAMESPACE",
	"limit-instances-per-service":   "CAIRN_LIMIT_INSTANCES_PER_SERVICE",
	"log-level":                     "CAIRN_LOG_LEVEL",
	"init":                          "CAIRN_INIT",
	"throttle":                      "CAIRN_THROTTLE",
	"faults":                        "CAIRN_FAULTS",
	"store":                         "CAIRN_STORE",
	"etcd-endpoints":                "CAIRN_ETCD_ENDPOINTS",
	"etcd-ca":                       "CAIRN_ETCD_CA",
	"etcd-cert":                     "CAIRN_ETCD_CERT",
	"etcd-key":                      "CAIRN_ETCD_KEY",
	"etcd-username":                 "CAIRN_ETCD_USERNAME",
	"etcd-password":                 "CAIRN_ETCD_PASSWORD",
	"etcd-prefix":                   "CAIRN_ETCD_PREFIX",
	"etcd-max-txn-ops":              "CAIRN_ETCD_MAX_TXN_OPS",
	"log-format":                    "CAIRN_LOG_FORMAT",
	"access-log":                    "CAIRN_ACCESS_LOG",
	"dns-query-log":                 "CAIRN_DNS_QUERY_LOG",
	"admin-addr":                    "CAIRN_ADMIN_ADDR",
	"admin-token-file":              "CAIRN_ADMIN_TOKEN_FILE",
}

func TestServeHelp(t *testing.T) {
	code, stdout, stderr := runCairn(t, nil, "serve", "-h")
	if code != 0 {
		t.Errorf("cairn serve -h = %d; want 0", code)
	}
	if stdout != "" {
		t.Errorf("cairn serve -h wrote to stdout: %q", stdout)
	}
	for flag, envName := range serveFlags {
		if !strings.Contains(stderr, "-"+flag+" ") && !strings.Contains(stderr, "-"+flag+"\n") {
			t.Errorf("cairn serve -h does not list -%s:\n%s", flag, stderr)
		}
		if !strings.Contains(stderr, "(env "+envName+")") {
			t.Errorf("cairn serve -h does not name %s:\n%s", envName, stderr)
		}
	}
	// Every flag listed is known to this test.
	for _, line := range strings.Split(stderr, "\n") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "-"); ok {
			name, _, _ := strings.Cut(f, " ")
			if _, known := serveFlags[name]; !known {
				t.Errorf("cairn serve -h lists -%s, which this test does not know", name)
			}
		}
	}
	// The environment sets the defaults that -h shows.
	_, _, stderr = runCairn(t, map[string]string{"CAIRN_REGION": "eu-west-3", "CAIRN_OPERATION_DELAY": "2s"}, "serve", "-h")
	if !strings.Contains(stderr, `(default "eu-west-3")`) || !strings.Contains(stderr, "(default 2s)") {
		t.Errorf("cairn serve -h with CAIRN_REGION and CAIRN_OPERATION_DELAY set does not show them as defaults:\n%s", stderr)
	}
}

// TestServeSettings checks the errors cairn serve reports about its
// settings, before it opens the store.
func TestServeSettings(t *testing.T) {
	// A data directory that can't be created: should a case get past the
	// checks, it fails to open the store instead of serving until killed.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "data")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string // in stderr
	}{
		{"bad CAIRN_OPERATION_DELAY", map[string]string{"CAIRN_OPERATION_DELAY": "soon"}, nil, 2,
			[]string{`CAIRN_OPERATION_DELAY="soon" is not a duration`}},
		{"bad CAIRN_OPERATION_RETENTION", map[string]string{"CAIRN_OPERATION_RETENTION": "3 days"}, nil, 2,
			[]string{`CAIRN_OPERATION_RETENTION="3 days" is not a duration`}},
		{"bad CAIRN_LIMIT_NAMESPACES", map[string]string{"CAIRN_LIMIT_NAMESPACES": "many"}, nil, 2,
			[]string{`CAIRN_LIMIT_NAMESPACES="many" is not a whole number`}},
		{"two bad variables", map[string]string{"CAIRN_OPERATION_DELAY": "x", "CAIRN_LIMIT_INSTANCES_PER_SERVICE": "y"}, nil, 2,
			[]string{"CAIRN_OPERATION_DELAY", "CAIRN_LIMIT_INSTANCES_PER_SERVICE"}},
		{"bad flag value", nil, []string{"--operation-delay", "soon"}, 2,
			[]string{"-operation-delay"}},
		{"unknown flag", nil, []string{"--frobnicate"}, 2,
			[]string{"-frobnicate"}},
		{"argument", nil, []string{"extra"}, 2,
			[]string{`unexpected argument "extra"`}},
		{"bad log level", map[string]string{"CAIRN_LOG_LEVEL": "loud"}, nil, 2,
			[]string{`log level "loud"`}},
		{"bad region from the environment", map[string]string{"CAIRN_REGION": "Mars_1"}, nil, 1,
			[]string{`region "Mars_1"`}},
		// The flag wins over the environment: the region is fixed, so the
		// account is the first thing reported.
		{"flag over environment", map[string]string{"CAIRN_REGION": "Mars_1", "CAIRN_ACCOUNT_ID": "42"}, []string{"--region", "eu-west-1"}, 1,
			[]string{`account ID "42"`}},
		{"negative operations per account", map[string]string{"CAIRN_MAX_OPERATIONS_PER_ACCOUNT": "-5"}, nil, 1,
			[]string{"operations per account -5 must not be negative"}},
		{"negative limit", nil, []string{"--limit-namespaces", "-1"}, 1,
			[]string{"limits must not be negative"}},
		{"empty data dir", nil, []string{"--data-dir", ""}, 1,
			[]string{"data directory is empty"}},
		{"bad api addr", map[string]string{"CAIRN_API_ADDR": "localhost"}, nil, 1,
			[]string{`API address "localhost"`}},
		{"unknown store", nil, []string{"--store", "redis"}, 1,
			[]string{`store "redis" is neither bolt nor etcd`}},
		{"etcd without endpoints", map[string]string{"CAIRN_STORE": "etcd"}, nil, 1,
			[]string{"--etcd-endpoints"}},
		{"etcd endpoints of only commas", nil, []string{"--store", "etcd", "--etcd-endpoints", " , "}, 1,
			[]string{"--etcd-endpoints"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"CAIRN_DATA_DIR": dir, "CAIRN_API_ADDR": "127.0.0.1:0", "CAIRN_ADMIN_ADDR": "127.0.0.1:0"}
			for k, v := range tt.env {
				vars[k] = v
			}
			code, stdout, stderr := runCairn(t, vars, append([]string{"serve"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code %d; want %d (stderr %q)", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q; want nothing", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
		})
	}
}

// TestFlagBeatsMalformedTwin checks, for every flag of cairn serve, that
// the flag wins over its environment twin even when the twin can't be
// used: the twin is reported and ignored. Without the flag, the malformed
// twin stops cairn with a message naming it.
func joinPrefixes(ps []netip.Prefix) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, ",")
}

func TestFlagBeatsMalformedTwin(t *testing.T) {
	tests := []struct {
		flag, bad, good string
		// typed: the twin is parsed with the flags, so a malformed one is
		// reported then, naming the variable.
		typed bool
		// got is the setting the flag gives, as text.
		got func(server.Config) string
		// unchecked: no value of the twin is malformed before the server
		// uses it (a file path, a user name); without the flag the twin's
		// value is the setting, and server.Start reports what it finds.
		unchecked bool
		// refused: for the other string settings, what server.Start's
		// check of the twin's value says without the flag.
		refused string
	}{
		{flag: "api-addr", bad: "localhost", good: "127.0.0.1:9081", refused: `API address "localhost"`, got: func(c server.Config) string { return c.APIAddr }},
		{flag: "dns-addr", bad: "53", good: "127.0.0.1:9054", refused: `DNS address "53"`, got: func(c server.Config) string { return c.DNSAddr }},
		{flag: "dns-nameserver", bad: "not a host name", good: "ns.example.", unchecked: true, got: func(c server.Config) string { return c.DNSNameserver }},
		{flag: "data-dir", bad: "./elsewhere", good: "/var/lib/cairn", unchecked: true, got: func(c server.Config) string { return c.DataDir }},
		{flag: "credentials", bad: "/no/such/file", good: "/etc/cairn/credentials", unchecked: true, got: func(c server.Config) string { return c.Credentials }},
		{flag: "insecure-no-auth", bad: "maybe", good: "true", typed: true, got: func(c server.Config) string { return strconv.FormatBool(c.InsecureNoAuth) }},
		{flag: "region", bad: "Mars_1", good: "eu-west-1", refused: `region "Mars_1"`, got: func(c server.Config) string { return c.Region }},
		{flag: "regions", bad: "Edge_1", good: "us-east-1,edge-2", typed: true, got: func(c server.Config) string { return strings.Join(c.Regions, ",") }},
		{flag: "dns-vpc", bad: "vpc-1", good: "vpc-1=127.0.0.1:9055,vpc-2=127.0.0.1:9056", typed: true, got: func(c server.Config) string {
			var out []string
			for _, d := range c.DNSVPCs {
				out = append(out, d.VPC+"="+d.Addr)
			}
			return strings.Join(out, ",")
		}},
		{flag: "health-probe-allow", bad: "10.0.0.0/33", good: "127.0.0.1/32,10.0.0.0/8", typed: true, got: func(c server.Config) string { return joinPrefixes(c.HealthProbeAllow) }},
		{flag: "health-probe-deny", bad: "ten", good: "192.168.0.0/16", typed: true, got: func(c server.Config) string { return joinPrefixes(c.HealthProbeDeny) }},
		{flag: "api-max-conns-per-client", bad: "lots", good: "64", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.APIMaxConnsPerClient) }},
		{flag: "dns-max-conns-per-client", bad: "few", good: "8", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.DNSMaxConnsPerClient) }},
		{flag: "dns-rrl", bad: "fast", good: "20", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.DNSRateLimit.Rate) }},
		{flag: "dns-rrl-slip", bad: "half", good: "3", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.DNSRateLimit.Slip) }},
		{flag: "dns-rrl-window", bad: "15", good: "5s", typed: true, got: func(c server.Config) string { return c.DNSRateLimit.Window.String() }},
		{flag: "tls-cert", bad: "/no/such/cert.pem", good: "/etc/cairn/tls.pem", unchecked: true, got: func(c server.Config) string { return c.TLSCert }},
		{flag: "tls-key", bad: "/no/such/key.pem", good: "/etc/cairn/tls.key", unchecked: true, got: func(c server.Config) string { return c.TLSKey }},
		{flag: "account-id", bad: "42", good: "111111111111", refused: `account ID "42"`, got: func(c server.Config) string { return c.AccountID }},
		{flag: "operation-delay", bad: "soon", good: "2s", typed: true, got: func(c server.Config) string { return c.OperationDelay.String() }},
		{flag: "operation-retention", bad: "3 days", good: "1h0m0s", typed: true, got: func(c server.Config) string { return c.OperationRetention.String() }},
		{flag: "max-operations-per-account", bad: "a million", good: "5000", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.MaxOperationsPerAccount) }},
		{flag: "list-operations-concurrency", bad: "two", good: "3", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.ListOperationsConcurrency) }},
		{flag: "health-interval", bad: "bogus", good: "5s", typed: true, got: func(c server.Config) string { return c.HealthInterval.String() }},
		{flag: "health-concurrency", bad: "lots", good: "16", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.HealthConcurrency) }},
		{flag: "custom-health-delay", bad: "30", good: "30s", typed: true, got: func(c server.Config) string { return c.CustomHealthDelay.String() }},
		{flag: "limit-namespaces", bad: "many", good: "7", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.Limits.NamespacesPerRegion) }},
		{flag: "limit-instances-per-namespace", bad: "1e3", good: "9", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.Limits.InstancesPerNamespace) }},
		{flag: "limit-instances-per-service", bad: "-", good: "8", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.Limits.InstancesPerService) }},
		{flag: "log-level", bad: "loud", good: "debug", got: func(c server.Config) string {
			return strconv.FormatBool(c.Logger.Enabled(context.Background(), slog.LevelDebug))
		}},
		{flag: "faults", bad: "/no/such/faults.yaml", good: "/etc/cairn/faults.yaml", unchecked: true, got: func(c server.Config) string { return c.FaultsFile }},
		{flag: "init", bad: "/no/such/seed.yaml", good: "/etc/cairn/seed.yaml", unchecked: true, got: func(c server.Config) string { return c.InitFile }},
		{flag: "throttle", bad: "on", good: "aws", got: func(c server.Config) string {
			if c.Throttle != nil && *c.Throttle == api.AWSThrottle {
				return "aws"
			}
			return fmt.Sprint(c.Throttle)
		}},
		{flag: "log-format", bad: "xml", good: "json", got: func(c server.Config) string { return logging.FormatOf(c.Logger) }},
		{flag: "access-log", bad: "sometimes", good: "true", typed: true, got: func(c server.Config) string { return strconv.FormatBool(c.AccessLog) }},
		{flag: "dns-query-log", bad: "often", good: "true", typed: true, got: func(c server.Config) string { return strconv.FormatBool(c.DNSQueryLog) }},
		{flag: "admin-addr", bad: "9081", good: "127.0.0.1:9091", refused: `admin address "9081"`, got: func(c server.Config) string { return c.AdminAddr }},
		{flag: "admin-token-file", bad: "/no/such/token", good: "/etc/cairn/admin-token", unchecked: true, got: func(c server.Config) string { return c.AdminTokenFile }},
		{flag: "store", bad: "redis", good: "bolt", refused: `store "redis"`, got: func(c server.Config) string { return c.StoreKind }},
		{flag: "etcd-endpoints", bad: " , ", good: "http://127.0.0.1:2379", refused: "set --etcd-endpoints", got: func(c server.Config) string { return strings.Join(c.Etcd.Endpoints, ",") }},
		{flag: "etcd-ca", bad: "/no/such/ca.pem", good: "/etc/cairn/ca.pem", unchecked: true, got: func(c server.Config) string { return c.Etcd.CAFile }},
		{flag: "etcd-cert", bad: "/no/such/cert.pem", good: "/etc/cairn/cert.pem", unchecked: true, got: func(c server.Config) string { return c.Etcd.CertFile }},
		{flag: "etcd-key", bad: "/no/such/key.pem", good: "/etc/cairn/key.pem", unchecked: true, got: func(c server.Config) string { return c.Etcd.KeyFile }},
		{flag: "etcd-username", bad: "nobody", good: "cairn", unchecked: true, got: func(c server.Config) string { return c.Etcd.Username }},
		{flag: "etcd-password", bad: "wrong", good: "secret", unchecked: true, got: func(c server.Config) string { return c.Etcd.Password }},
		{flag: "etcd-prefix", bad: "/other/", good: "/cairn-b/", unchecked: true, got: func(c server.Config) string { return c.Etcd.Prefix }},
		{flag: "etcd-max-txn-ops", bad: "many", good: "1024", typed: true, got: func(c server.Config) string { return strconv.Itoa(c.Etcd.MaxTxnOps) }},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.flag] = true
	}
	for flag := range serveFlags {
		if !covered[flag] {
			t.Errorf("--%s has no case here", flag)
		}
	}
	base := map[string]string{"CAIRN_DATA_DIR": t.TempDir()}
	for _, tt := range tests {
		envName := serveFlags[tt.flag]
		t.Run(tt.flag, func(t *testing.T) {
			vars := map[string]string{envName: tt.bad}
			for k, v := range base {
				if k != envName {
					vars[k] = v
				}
			}
			// With the flag: the flag's value, whatever the twin.
			var errOut bytes.Buffer
			cfg, code, ok := serveConfig([]string{"--" + tt.flag + "=" + tt.good}, env(vars), &errOut)
			if !ok {
				t.Fatalf("%s=%q --%s %s: exit %d (stderr %q); want the flag's value", envName, tt.bad, tt.flag, tt.good, code, errOut.String())
			}
			want := tt.good
			if tt.flag == "log-level" {
				want = "true"
			}
			if got := tt.got(cfg); got != want {
				t.Errorf("%s=%q --%s %s: the setting is %q; want the flag's %q", envName, tt.bad, tt.flag, tt.good, got, want)
			}
			if tt.typed && (!strings.Contains(errOut.String(), "level=WARN") || !strings.Contains(errOut.String(), envName) || !strings.Contains(errOut.String(), "ignored")) {
				t.Errorf("%s=%q --%s %s: stderr %q; want a warning naming %s", envName, tt.bad, tt.flag, tt.good, errOut.String(), envName)
			}
			if !tt.typed && errOut.Len() > 0 {
				t.Errorf("%s=%q --%s %s: stderr %q; want nothing", envName, tt.bad, tt.flag, tt.good, errOut.String())
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("%s=%q --%s %s: %v", envName, tt.bad, tt.flag, tt.good, err)
			}

			// Without the flag: the twin is used, and a malformed one stops cairn.
			errOut.Reset()
			cfg, code, ok = serveConfig(nil, env(vars), &errOut)
			switch {
			case tt.typed:
				if ok || code != 2 || !strings.Contains(errOut.String(), envName+"=") || !strings.Contains(errOut.String(), "--"+tt.flag) {
					t.Errorf("%s=%q alone: exit %d, stderr %q; want 2 and a message naming %s and --%s", envName, tt.bad, code, errOut.String(), envName, tt.flag)
				}
			case tt.flag == "log-level" || tt.flag == "throttle" || tt.flag == "log-format":
				if ok || code != 2 || !strings.Contains(errOut.String(), tt.bad) {
					t.Errorf("%s=%q alone: exit %d, stderr %q; want 2 and a message naming %q", envName, tt.bad, code, errOut.String(), tt.bad)
				}
			case tt.unchecked:
				if !ok || tt.got(cfg) != tt.bad {
					t.Errorf("%s=%q alone: exit %d, setting %q; want the variable's value", envName, tt.bad, code, tt.got(cfg))
				}
			default:
				if !ok {
					t.Fatalf("%s=%q alone: exit %d, stderr %q; want a configuration that server.Start refuses", envName, tt.bad, code, errOut.String())
				}
				if tt.flag == "etcd-endpoints" {
					cfg.StoreKind = server.StoreEtcd // where the endpoints count
				}
				if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.refused) {
					t.Errorf("%s=%q alone: Validate = %v; want an error saying %q", envName, tt.bad, err, tt.refused)
				}
			}
		})
	}
}

// TestAdminAddrOff: the admin listener is on by default and "off" turns
// it off (an empty variable counts as unset).
func TestAdminAddrOff(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, server.DefaultAdminAddr},
		{map[string]string{"CAIRN_ADMIN_ADDR": "off"}, nil, ""},
		{nil, []string{"--admin-addr", ""}, ""},
		{nil, []string{"--admin-addr", "off"}, ""},
		{map[string]string{"CAIRN_ADMIN_ADDR": "127.0.0.1:9999"}, nil, "127.0.0.1:9999"},
	} {
		cfg, code, ok := serveConfig(tt.args, env(tt.env), io.Discard)
		if !ok || cfg.AdminAddr != tt.want {
			t.Errorf("env %v args %q: admin address %q (exit %d); want %q", tt.env, tt.args, cfg.AdminAddr, code, tt.want)
		}
	}
}

// TestServeTextApply: the settings read as text are parsed once the
// command line is known, each refused with what a valid value is.
func TestServeTextApply(t *testing.T) {
	ok := serveText{logLevel: "info", logFormat: "text", throttle: "off"}
	for _, tt := range []struct {
		name      string
		text      serveText
		admin     string
		endpoints []string
		wantAdmin string
		wantErr   string
	}{
		{name: "defaults", text: ok, admin: "127.0.0.1:9090", wantAdmin: "127.0.0.1:9090"},
		{name: "admin off", text: ok, admin: "off"},
		{name: "endpoints", text: serveText{logLevel: "info", logFormat: "json", throttle: "aws", endpoints: " http://a:2379, ,http://b:2379 "},
			endpoints: []string{"http://a:2379", "http://b:2379"}},
		{name: "throttle", text: serveText{logLevel: "info", logFormat: "text", throttle: "fast"}, wantErr: `"fast"`},
		{name: "log level", text: serveText{logLevel: "loud", logFormat: "text", throttle: "off"}, wantErr: `log level "loud" is not debug, info, warn or error`},
		{name: "log format", text: serveText{logLevel: "info", logFormat: "xml", throttle: "off"}, wantErr: `log format "xml" is not text or json`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := server.Config{AdminAddr: tt.admin}
			err := tt.text.apply(&cfg, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("apply = %v; want an error saying %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.AdminAddr != tt.wantAdmin || !slices.Equal(cfg.Etcd.Endpoints, tt.endpoints) || cfg.Logger == nil {
				t.Errorf("admin %q, endpoints %q, logger %v; want %q, %q and a logger", cfg.AdminAddr, cfg.Etcd.Endpoints, cfg.Logger, tt.wantAdmin, tt.endpoints)
			}
		})
	}
}
