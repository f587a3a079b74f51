package route53

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// FuzzCanonical: any name a client sends becomes a name in Route 53's
// form (lower case, final dot, only a–z 0–9 - _ . and \ooo escapes), and
// that form is its own canonical form.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"", ".", "Example.COM", "node\\1001._api._tcp.corp.test.", "a b", "\\", "\\7", "\\777x", "é.test", "x..y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c := canonical(name)
		if !strings.HasSuffix(c, ".") {
			t.Fatalf("canonical(%q) = %q: no final dot", name, c)
		}
		for i := 0; i < len(c); i++ {
			ch := c[i]
			switch {
			case 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9', ch == '-', ch == '_', ch == '.':
			case ch == '\\' && i+3 < len(c) && isOctal(c[i+1]) && isOctal(c[i+2]) && isOctal(c[i+3]):
				i += 3
			default:
				t.Fatalf("canonical(%q) = %q holds %q", name, c, ch)
			}
		}
		if again := canonical(c); again != c {
			t.Fatalf("canonical(%q) = %q, but canonical of that is %q", name, c, again)
		}
	})
}

// FuzzListResourceRecordSets sends arbitrary paging parameters: the
// handler answers 200 or a 4xx Route 53 error, never 5xx, and a page never
// holds more than MaxItems.
func FuzzListResourceRecordSets(f *testing.F) {
	st, err := bolt.Open(f.TempDir(), bolt.DefaultOptions())
	if err != nil {
		f.Fatal(err)
	}
	reg, err := registry.New(context.Background(), st, registry.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { reg.Close(); _ = st.Close() })
	c := registry.Caller{Account: "000000000000", Region: "us-east-1"}
	ctx := context.Background()
	op, err := reg.CreatePrivateDnsNamespace(ctx, c, &cloudmap.CreatePrivateDnsNamespaceRequest{Name: "corp.test", Vpc: "vpc-1"})
	if err != nil {
		f.Fatal(err)
	}
	got, err := reg.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: op.OperationId})
	if err != nil {
		f.Fatal(err)
	}
	ns, err := reg.GetNamespace(ctx, c, &cloudmap.GetNamespaceRequest{Id: got.Operation.Targets["NAMESPACE"]})
	if err != nil {
		f.Fatal(err)
	}
	zone := ns.Namespace.Properties.DnsProperties.HostedZoneId
	ttl := int64(60)
	svc, err := reg.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: "web", NamespaceId: ns.Namespace.Id,
		DnsConfig: &cloudmap.DnsConfig{DnsRecords: []cloudmap.DnsRecord{{Type: "A", TTL: &ttl}, {Type: "SRV", TTL: &ttl}}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, id := range []string{"a", "b", "Node@1"} {
		if _, err := reg.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: id,
			Attributes: map[string]string{registry.AttrIPv4: "10.0.0.1", registry.AttrPort: "80"}}); err != nil {
			f.Fatal(err)
		}
	}
	h := New(Config{Registry: reg, Auth: sigv4.NewAuth(SigningName, SigningRegion, c.Account, nil), Nameserver: "ns1.cairn.internal."})
	f.Add("web.corp.test.", "A", "b", "2")
	f.Add("", "", "", "")
	f.Add("x", "SRV", "", "0")
	f.Add("\\", "MX", "z", "-1")
	f.Fuzz(func(t *testing.T, name, typ, ident, maxItems string) {
		q := url.Values{}
		for k, v := range map[string]string{"name": name, "type": typ, "identifier": ident, "maxitems": maxItems} {
			if v != "" {
				q.Set(k, v)
			}
		}
		req := httptest.NewRequest(http.MethodGet, PathPrefix+"hostedzone/"+zone+"/rrset?"+q.Encode(), nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 || w.Code != 200 && !strings.Contains(w.Body.String(), "<ErrorResponse") {
			t.Fatalf("%v: %d %s", q, w.Code, w.Body)
		}
		if w.Code == 200 {
			n := strings.Count(w.Body.String(), "<ResourceRecordSet>")
			if m, err := maxItemsOf(maxItems); err == nil && n > m {
				t.Fatalf("%v: %d record sets, MaxItems %s", q, n, maxItems)
			}
		}
	})
}

func maxItemsOf(s string) (int, error) {
	if s == "" {
		return 300, nil
	}
	return maxItems(map[string][]string{"maxitems": {s}}, 300)
}
