package server

import (
	"runtime"
	"strings"
	"testing"
)

func TestClearOnNetwork(t *testing.T) {
	for _, tc := range []struct {
		creds, cert, addr string
		want              bool
	}{
		{"creds", "", "0.0.0.0:9080", true},
		{"creds", "", "10.0.0.5:9080", true},
		{"creds", "", "[::]:9080", true},
		{"creds", "cert.pem", "0.0.0.0:9080", false},
		{"creds", "", "127.0.0.1:9080", false},
		{"creds", "", "localhost:9080", false},
		{"", "", "0.0.0.0:9080", false}, // development mode refuses to start there
	} {
		c := Config{Credentials: tc.creds, TLSCert: tc.cert, APIAddr: tc.addr}
		if got := c.clearOnNetwork(); got != tc.want {
			t.Errorf("credentials %q, cert %q, %s: %v", tc.creds, tc.cert, tc.addr, got)
		}
	}
}

// TestValidate: every rule of Validate refuses what it should, with a
// message naming what to change, and the first failing rule is the one
// reported (listeners, exposure, store, identity, then numbers).
func TestValidate(t *testing.T) {
	base := func() Config {
		c := DefaultConfig()
		c.DataDir = t.TempDir()
		return c
	}
	for _, tt := range []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no API address", func(c *Config) { c.APIAddr = "" }, "API address is empty"},
		{"API address", func(c *Config) { c.APIAddr = "localhost" }, `API address "localhost" is not host:port`},
		{"DNS address", func(c *Config) { c.DNSAddr = "x" }, `DNS address "x" is not host:port`},
		{"DNS off", func(c *Config) { c.DNSAddr = "" }, ""},
		{"admin address", func(c *Config) { c.AdminAddr = "x" }, `admin address "x" is not host:port`},
		{"admin beyond loopback", func(c *Config) { c.AdminAddr = "0.0.0.0:9090" }, "--admin-token-file"},
		{"admin beyond loopback with a token", func(c *Config) { c.AdminAddr, c.AdminTokenFile = "0.0.0.0:9090", "token" }, ""},
		{"VPC twice", func(c *Config) {
			c.DNSVPCs = []DNSVPC{{VPC: "vpc-1", Addr: "127.0.0.1:0"}, {VPC: "vpc-1", Addr: "127.0.0.2:0"}}
		}, "has two DNS listeners"},
		{"development mode on the network", func(c *Config) { c.APIAddr = "0.0.0.0:9080" }, "--insecure-no-auth"},
		{"development mode, VPC listener on the network", func(c *Config) {
			c.DNSVPCs = []DNSVPC{{VPC: "vpc-1", Addr: "10.0.0.2:53"}}
		}, "10.0.0.2:53 is not a loopback address"},
		{"insecure asked for", func(c *Config) { c.APIAddr, c.InsecureNoAuth = "0.0.0.0:9080", true }, ""},
		{"credentials on the network", func(c *Config) { c.APIAddr, c.Credentials = "0.0.0.0:9080", "creds" }, ""},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data directory is empty"},
		{"etcd without endpoints", func(c *Config) { c.StoreKind = StoreEtcd }, "--etcd-endpoints"},
		{"unknown store", func(c *Config) { c.StoreKind = "mem" }, "neither bolt nor etcd"},
		{"region", func(c *Config) { c.Region = "Mars" }, `region "Mars" is not a region name`},
		{"regions", func(c *Config) { c.Regions = []string{"edge_1"} }, `"edge_1" in --regions`},
		{"region not among regions", func(c *Config) { c.Regions = []string{"edge-1"} }, "not among --regions edge-1"},
		{"region of no partition", func(c *Config) { c.Region = "edge-1" }, "give --regions"},
		{"own region", func(c *Config) { c.Region, c.Regions = "edge-1", []string{"edge-1"} }, ""},
		{"account", func(c *Config) { c.AccountID = "123" }, "must be 12 digits"},
		{"operations", func(c *Config) { c.MaxOperationsPerAccount = -1 }, "must not be negative (0 for no limit)"},
		{"list concurrency", func(c *Config) { c.ListOperationsConcurrency = -1 }, "ListOperations concurrency -1 must not be negative"},
		{"delay", func(c *Config) { c.OperationDelay = -1 }, "must not be negative"},
		{"health interval", func(c *Config) { c.HealthInterval = 0 }, "interval 0s must be positive"},
		{"caps", func(c *Config) { c.DNSMaxConnsPerClient = -1 }, "connection caps"},
		{"rate limit", func(c *Config) { c.DNSRateLimit.Rate = -1 }, "response rate limit -1"},
		{"health concurrency", func(c *Config) { c.HealthConcurrency = 0 }, "concurrency 0 must be positive"},
		{"limits", func(c *Config) { c.Limits.InstancesPerService = -1 }, "limits must not be negative"},
		{"etcd transactions", func(c *Config) { c.Etcd.MaxTxnOps = 7 }, "--etcd-max-txn-ops 7 is too small"},
		{"first rule first", func(c *Config) { c.APIAddr, c.AccountID, c.Etcd.MaxTxnOps = "x", "1", 1 }, `API address "x"`},
		{"identity before numbers", func(c *Config) { c.AccountID, c.Etcd.MaxTxnOps = "1", 1 }, "must be 12 digits"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v; want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v; want an error saying %q", err, tt.want)
			}
		})
	}
}

// ListOperations is served on half the cores at most by default, and on
// one at least.
func TestDefaultConfig_ListOperationsConcurrency(t *testing.T) {
	if got, want := DefaultConfig().ListOperationsConcurrency, max(1, runtime.GOMAXPROCS(0)/2); got != want {
		t.Fatalf("ListOperationsConcurrency = %d; want %d (GOMAXPROCS %d)", got, want, runtime.GOMAXPROCS(0))
	}
}
