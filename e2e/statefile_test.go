package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/server"
)

const seedYAML = `Namespaces:
  - Id: ns-aaaaaaaaaaaaaaaa
    Name: shop
    Type: HTTP
    Tags: [{Key: team, Value: web}]
    Services:
      - Id: srv-cccccccccccccccc
        Name: cart
        HealthCheckCustomConfig: {}
        Attributes: {tier: gold}
        Instances:
          - Id: cart-1
            Attributes: {AWS_INSTANCE_IPV4: 10.0.0.1, AWS_INSTANCE_PORT: 8080}
            HealthStatus: UNHEALTHY
          - Id: cart-2
            Attributes: {AWS_INSTANCE_IPV4: 10.0.0.2}
  - Name: corp.test
    Type: DNS_PRIVATE
    Vpc: vpc-1
    Services:
      - Id: srv-bbbbbbbbbbbbbbbb
        Name: web
        DnsConfig: {DnsRecords: [{Type: A, TTL: 10}]}
        Instances:
          - {Id: web-1, Attributes: {AWS_INSTANCE_IPV4: 192.0.2.1}}
`

func writeSeed(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// --init creates what the file describes, with the IDs it gives, and a
// restart with the same file changes nothing.
func TestInitFile(t *testing.T) {
	seed := writeSeed(t, seedYAML)
	dir := t.TempDir()
	start := func() *server.Server {
		cfg := server.DefaultConfig()
		cfg.APIAddr, cfg.DNSAddr, cfg.DataDir, cfg.InitFile = "127.0.0.1:0", "127.0.0.1:0", dir, seed
		srv, err := server.Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start()
	c := sd.NewFromConfig(cairntest.AWSConfig(srv.Endpoint(), "us-east-1"))
	ctx := t.Context()
	found, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart"),
		HealthStatus: types.HealthStatusFilterUnhealthy})
	if err != nil || len(found.Instances) != 1 || aws.ToString(found.Instances[0].InstanceId) != "cart-1" {
		t.Fatalf("the seeded unhealthy instance: %+v, %v", found, err)
	}
	svc, err := c.GetService(ctx, &sd.GetServiceInput{Id: aws.String("srv-cccccccccccccccc")})
	if err != nil || aws.ToString(svc.Service.NamespaceId) != "ns-aaaaaaaaaaaaaaaa" {
		t.Fatalf("the service by its seeded ID: %+v, %v", svc, err)
	}
	attrs, err := c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: aws.String("srv-cccccccccccccccc")})
	if err != nil || attrs.ServiceAttributes.Attributes["tier"] != "gold" {
		t.Fatalf("service attributes: %+v, %v", attrs, err)
	}
	tags, err := c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-aaaaaaaaaaaaaaaa")})
	if err != nil || len(tags.Tags) != 1 {
		t.Fatalf("namespace tags: %+v, %v", tags, err)
	}
	if got := e2etest.Query(t, srv.DNSAddr(), "web.corp.test.", dns.TypeA); len(got.Answer) != 1 {
		t.Fatalf("DNS of the seeded instance: %v", got)
	}
	before := exportState(t, srv)
	ops, _ := c.ListOperations(ctx, &sd.ListOperationsInput{})
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	srv = start()
	defer srv.Close(context.Background())
	c = sd.NewFromConfig(cairntest.AWSConfig(srv.Endpoint(), "us-east-1"))
	again, _ := c.ListOperations(ctx, &sd.ListOperationsInput{})
	if len(again.Operations) != len(ops.Operations) {
		t.Fatalf("the restart with the same file ran %d more operations", len(again.Operations)-len(ops.Operations))
	}
	if after := exportState(t, srv); !reflect.DeepEqual(before, after) {
		t.Fatalf("the restart with the same file changed the state:\n%s\n%s", before, after)
	}
}

func exportState(t *testing.T, srv *server.Server) string {
	t.Helper()
	b, err := json.Marshal(srv.Registry().Export("000000000000"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A bad file stops the server with the file's path, the position and what
// is wrong, whether the file is malformed or asks for what the API refuses.
func TestInitFileRefused(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"unknown member", "Namespaces:\n  - Name: shop\n    Typo: HTTP\n", `:3:5: unknown member "Typo"`},
		{"bad type", "Namespaces:\n  - Name: shop\n    Type: GRPC\n", `:2:5: namespace "shop": The namespace type "GRPC"`},
		{"bad id", "Namespaces:\n  - Id: ns-1\n    Name: shop\n    Type: HTTP\n", `:2:5: namespace "shop": The namespace ID "ns-1"`},
		{"bad instance", "Namespaces:\n  - Name: shop\n    Type: HTTP\n    Services:\n      - Name: cart\n        Instances:\n          - Id: ''\n",
			`:7:13: instance "" of service "cart"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := writeSeed(t, tc.file)
			cfg := server.DefaultConfig()
			cfg.APIAddr, cfg.DNSAddr, cfg.DataDir, cfg.InitFile = "127.0.0.1:0", "", t.TempDir(), seed
			srv, err := server.Start(cfg)
			if err == nil {
				srv.Close(context.Background())
				t.Fatal("the server started with a bad init file")
			}
			if !strings.Contains(err.Error(), seed+tc.want) {
				t.Fatalf("error %q; want it to contain %q", err, seed+tc.want)
			}
		})
	}
}

// What one server exports, another imports whole: the same IDs, tags,
// attributes and custom health.
func TestExportImportRoundTrip(t *testing.T) {
	seed := writeSeed(t, seedYAML)
	a := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) { c.InitFile = seed }))
	b := cairntest.NewServer(t)
	state := a.Registry().Export("000000000000")
	if err := b.Registry().Import(t.Context(), "000000000000", "us-east-1", state); err != nil {
		t.Fatal(err)
	}
	if x, y := exportState(t, a.Server), exportState(t, b.Server); x != y {
		t.Fatalf("exported:\n%s\nimported and exported again:\n%s", x, y)
	}
}
