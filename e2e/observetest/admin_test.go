package observetest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/internal/logging"
	"github.com/cairn-dev/cairn/server"
)

// TestAdminServesMetricsProfilesConsole: the three parts answer on the
// admin listener, and not on the API's.
func TestAdminServesMetricsProfilesConsole(t *testing.T) {
	srv, _ := newServer(t)
	base := "http://" + srv.AdminAddr()
	for path, want := range map[string]string{
		"/metrics":                       "# TYPE cairn_api_requests_total counter",
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile",
		"/":                              "Nothing is registered yet",
		"/static/console.css":            "--accent",
	} {
		code, body := get(t, base+path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d, body without %q:\n%.300s", path, code, want, body)
		}
	}
	if code, _ := get(t, srv.Endpoint+"/metrics"); code == http.StatusOK {
		t.Errorf("the API listener serves /metrics")
	}
}

// TestAdminToken: with a token file, every admin request must carry the
// token, as a bearer token or as the cookie ?token= sets.
func TestAdminToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, func(c *server.Config) { c.AdminTokenFile = file })
	base := "http://" + srv.AdminAddr()
	for _, path := range []string{"/metrics", "/debug/pprof/", "/"} {
		if code, _ := get(t, base+path); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token = %d; want 401", path, code)
		}
		if code, _ := get(t, base+path, "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token = %d; want 401", path, code)
		}
		if code, _ := get(t, base+path, "Authorization", "Bearer s3cret-token"); code != http.StatusOK {
			t.Errorf("GET %s with the token = %d; want 200", path, code)
		}
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(base + "/operations?token=s3cret-token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/operations" || !strings.Contains(cookie, "HttpOnly") {
		t.Fatalf("GET ?token= = %d, Location %q, Set-Cookie %q; want 303 to /operations with an HttpOnly cookie", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
	if code, _ := get(t, base+"/operations", "Cookie", strings.SplitN(cookie, ";", 2)[0]); code != http.StatusOK {
		t.Errorf("GET with the cookie = %d; want 200", code)
	}
}

// TestAdminRefusesNetworkWithoutToken: beyond loopback the admin listener
// needs a token; the check happens before anything listens.
func TestAdminRefusesNetworkWithoutToken(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.APIAddr, cfg.DNSAddr, cfg.DataDir = "127.0.0.1:0", "", t.TempDir()
	cfg.AdminAddr = "0.0.0.0:0"
	if _, err := server.Start(cfg); err == nil || !strings.Contains(err.Error(), "--admin-token-file") {
		t.Fatalf("Start with a non-loopback admin address and no token = %v; want an error naming --admin-token-file", err)
	}
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.AdminTokenFile = filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(cfg.AdminTokenFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Start(cfg); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("Start with an empty token file = %v; want an error saying it is empty", err)
	}
}

// lockedBuffer is a log destination shared by the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines decodes the JSON log lines.
func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestAccessLog: one JSON line per API request with its request ID (the
// one the response carries), account, region, operation, status, error
// type and latency; one line per DNS query.
func TestAccessLog(t *testing.T) {
	var buf lockedBuffer
	log, err := logging.New(&buf, logging.FormatJSON, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, c := newServer(t, func(cfg *server.Config) { cfg.Logger, cfg.AccessLog, cfg.DNSQueryLog = log, true, true })
	var ids []string
	capture := func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("requestID",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
					ids = append(ids, resp.Header.Get("x-amzn-RequestId"))
				}
				return out, md, err
			}), middleware.After)
	}
	ctx := context.Background()
	if _, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{}, sd.WithAPIOptions(capture)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String("ns-aaaaaaaaaaaaaaaa")}, sd.WithAPIOptions(capture)); err == nil {
		t.Fatal("GetNamespace of an absent namespace succeeded")
	}
	m := new(dns.Msg)
	m.SetQuestion("nothing.example.", dns.TypeA)
	if _, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, srv.DNSAddr()); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 {
		t.Fatalf("captured request IDs %v", ids)
	}
	want := []map[string]any{
		{"msg": "request", "request_id": ids[0], "account": "000000000000", "region": "us-east-1", "operation": "ListNamespaces", "status": 200.0, "error_type": ""},
		{"msg": "request", "request_id": ids[1], "account": "000000000000", "region": "us-east-1", "operation": "GetNamespace", "status": 400.0, "error_type": "NamespaceNotFound"},
		{"msg": "dns query", "name": "nothing.example.", "type": "A", "rcode": "REFUSED", "proto": "udp"},
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, w := range want {
		for {
			found := false
			for _, line := range buf.lines(t) {
				match := true
				for k, v := range w {
					if line[k] != v {
						match = false
					}
				}
				if match {
					if _, ok := line["latency_ms"].(float64); !ok {
						t.Errorf("line %v has no latency_ms", line)
					}
					found = true
				}
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no log line with %v in:\n%s", w, buf.b.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
