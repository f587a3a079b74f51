package observetest

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/server"
)

// newServer starts a cairn with its admin listener on a free loopback
// port.
func newServer(t *testing.T, opts ...func(*server.Config)) (*cairntest.Server, *sd.Client) {
	t.Helper()
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.AdminAddr = "127.0.0.1:0"
		for _, o := range opts {
			o(c)
		}
	}))
	if srv.AdminAddr() == "" {
		t.Fatal("the admin listener is off")
	}
	return srv, sd.NewFromConfig(srv.AWSConfig)
}

// get fetches an admin URL and returns its status and body.
func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape reads the server's /metrics as Prometheus would and returns each
// sample by its series ("name{label="value",…}", labels as exposed).
func scrape(t *testing.T, srv *cairntest.Server) map[string]float64 {
	t.Helper()
	code, body := get(t, "http://"+srv.AdminAddr()+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", code, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("malformed sample line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("malformed sample line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// waitMetric scrapes until the series reaches at least want.
func waitMetric(t *testing.T, srv *cairntest.Server, series string, want float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := scrape(t, srv)
		if m[series] >= want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after 20s; want at least %v", series, m[series], want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpNamespace creates an HTTP namespace and returns its ID.
func httpNamespace(t *testing.T, c *sd.Client, name string) string {
	t.Helper()
	return e2etest.Namespace(t, c, name, "")
}

// dnsNamespace creates a private DNS namespace and returns its ID.
func dnsNamespace(t *testing.T, c *sd.Client, name string) string {
	t.Helper()
	return e2etest.Namespace(t, c, name, "vpc-1")
}

// register registers an instance with attributes.
func register(t *testing.T, c *sd.Client, serviceID, id string, attrs map[string]string) {
	t.Helper()
	if _, err := c.RegisterInstance(context.Background(), &sd.RegisterInstanceInput{
		ServiceId: aws.String(serviceID), InstanceId: aws.String(id), Attributes: attrs,
	}); err != nil {
		t.Fatalf("RegisterInstance %s: %v", id, err)
	}
}

// etcdRun reports whether cairntest runs servers over etcd (CI's second
// pass), where the store cannot time its fsyncs.
func etcdRun() bool { return os.Getenv(cairntest.EtcdEnv) != "" }
