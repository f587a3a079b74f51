package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/console"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// newConsole serves a console over a registry holding one HTTP namespace
// "shop" with a service "cart" and one instance whose attribute values
// try to inject markup.
func newConsole(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	st, err := bolt.Open(t.TempDir(), bolt.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(context.Background(), st, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(); _ = st.Close() })
	ctx, c := context.Background(), registry.Caller{Account: "111122223333", Region: "eu-west-1"}
	op, err := reg.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := reg.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := reg.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: "cart", NamespaceId: got.Operation.Targets["NAMESPACE"]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: "cart-1",
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "note": `<script>alert(1)</script>`}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(console.New(console.Config{Registry: reg, DNS: dns.NewHandler(reg, "")}))
	t.Cleanup(srv.Close)
	return srv, svc.Service.Id
}

func fetch(t *testing.T, url string, fragment bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if fragment {
		req.Header.Set(console.FragmentHeader, "1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPages(t *testing.T) {
	srv, svcID := newConsole(t)
	tests := []struct {
		path     string
		fragment bool
		code     int
		want     []string
		not      []string
	}{
		{"/", false, 200, []string{"<!doctype html>", "111122223333", "eu-west-1", `data-namespace="shop"`, "1 instance"}, []string{"Nothing is registered"}},
		{"/", true, 200, []string{`data-namespace="shop"`}, []string{"<!doctype html>", "<header"}},
		{"/services/" + svcID, false, 200, []string{`data-instance="cart-1"`, "&lt;script&gt;alert(1)&lt;/script&gt;", "AWS_INSTANCE_IPV4"}, []string{"<script>alert"}},
		{"/operations", false, 200, []string{"CREATE_NAMESPACE", "REGISTER_INSTANCE", "SUCCESS"}, nil},
		{"/search?q=alert", false, 200, []string{`data-result="instance"`, "cart-1"}, []string{"<script>alert"}},
		{"/search?q=CART", false, 200, []string{`data-result="service"`, `data-result="instance"`}, nil},
		{"/search?q=nothing-matches", false, 200, []string{"Nothing matches"}, nil},
		{"/services/srv-aaaaaaaaaaaaaaaa", false, 404, []string{"There is no service"}, nil},
		{"/namespaces/ns-aaaaaaaaaaaaaaaa", false, 404, []string{"There is no namespace"}, nil},
		{"/elsewhere", false, 404, []string{"Not found"}, nil},
		{"/static/console.js", false, 200, []string{"X-Cairn-Fragment"}, nil},
	}
	for _, tt := range tests {
		code, body := fetch(t, srv.URL+tt.path, tt.fragment)
		if code != tt.code {
			t.Errorf("GET %s = %d; want %d", tt.path, code, tt.code)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tt.path, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(body, n) {
				t.Errorf("GET %s holds %q", tt.path, n)
			}
		}
	}
}

func TestReadOnly(t *testing.T) {
	srv, _ := newConsole(t)
	resp, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d; want 405", resp.StatusCode)
	}
}
