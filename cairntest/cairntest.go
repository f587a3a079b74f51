// Package cairntest starts a whole cairn inside a Go test, the way
// net/http/httptest starts an HTTP server: on a free loopback port, over a
// temporary store, stopped when the test ends.
//
//	func TestMyCode(t *testing.T) {
//		srv := cairntest.NewServer(t)
//		client := servicediscovery.NewFromConfig(srv.AWSConfig)
//		…
//	}
//
// AWSConfig carries static credentials, the region, the endpoint, and a
// middleware that stops the SDK from sending DiscoverInstances to a
// "data-" prefixed host name that would not resolve.
package cairntest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cairn-dev/cairn/internal/fault"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/server"
)

// Server is a cairn running for one test.
type Server struct {
	*server.Server
	// Endpoint is the API's base URL, http://127.0.0.1:<port>.
	Endpoint string
	// AWSConfig is ready for servicediscovery.NewFromConfig.
	AWSConfig aws.Config
	// Account is the account of the server's development mode, whose
	// requests the fault helpers affect.
	Account string
}

// EtcdEnv names the environment variable that, set to etcd client URLs
// (comma-separated), makes NewServer run every server over that etcd
// instead of the embedded store, unless the test chose a store itself:
// that is how CI runs the end-to-end suite on both stores.
const EtcdEnv = "CAIRN_TEST_ETCD_ENDPOINTS"

// Option changes the server's configuration before it starts.
type Option func(*server.Config)

// WithConfig lets a test change any server setting.
func WithConfig(fn func(*server.Config)) Option { return Option(fn) }

// NewServer starts cairn on a free loopback port with a store in a
// temporary folder, and stops it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.APIAddr = "127.0.0.1:0"
	cfg.DNSAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	for _, o := range opts {
		o(&cfg)
	}
	if endpoints := os.Getenv(EtcdEnv); endpoints != "" && cfg.Store == nil && cfg.StoreKind != server.StoreEtcd && cfg.DataDir != "" {
		// Run over etcd instead, with a prefix of the data folder's own, so
		// that a test that restarts a server on its folder finds its state.
		sum := sha256.Sum256([]byte(cfg.DataDir))
		cfg.StoreKind = server.StoreEtcd
		cfg.Etcd.Endpoints = strings.Split(endpoints, ",")
		cfg.Etcd.Prefix = "/cairntest/" + hex.EncodeToString(sum[:8]) + "/"
	}
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatalf("cairntest: start cairn: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("cairntest: stop cairn: %v", err)
		}
	})
	return &Server{Server: srv, Endpoint: srv.Endpoint(), AWSConfig: AWSConfig(srv.Endpoint(), cfg.Region), Account: cfg.AccountID}
}

// Reset forgets everything the server holds (every account's namespaces,
// services, instances, operations, idempotency tokens and health
// statuses), as a fresh server would start, and fails the test if it
// can't. When it returns, the API and DNS answer nothing of the old state:
// a suite can share one server and reset it between tests.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Server.Reset(ctx, ""); err != nil { // faults too
		t.Fatalf("cairntest: reset: %v", err)
	}
}

// AWSConfig returns an aws.Config for a cairn at endpoint: static test
// credentials, the region, and no "data-" host prefix.
func AWSConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDCAIRNTEST", "cairn-test-secret", ""),
		HTTPClient:   ownBodyClient{&http.Client{Timeout: time.Minute}},
		APIOptions:   []func(*middleware.Stack) error{DisableHostPrefix},
	}
}

// HTTPClient returns an SDK HTTP client (for aws.Config.HTTPClient) that
// sends through c, for a test that needs a transport of its own, to
// record or rewrite requests. Use it rather than c itself: it gives
// net/http a request body of its own, as AWSConfig's client does (see
// ownBodyClient).
func HTTPClient(c *http.Client) aws.HTTPClient { return ownBodyClient{c} }

// WaitOperation polls GetOperation until the operation ends, SUCCESS or
// FAIL, and returns it: the wait a test needs after a create, register or
// update when the server delays operations (server.Config.OperationDelay).
// It gives up with ctx, or with GetOperation's error.
func WaitOperation(ctx context.Context, c *servicediscovery.Client, opID string) (*types.Operation, error) {
	for {
		out, err := c.GetOperation(ctx, &servicediscovery.GetOperationInput{OperationId: aws.String(opID)})
		if err != nil {
			return nil, err
		}
		switch out.Operation.Status {
		case types.OperationStatusSuccess, types.OperationStatusFail:
			return out.Operation, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("operation %s still %s: %w", opID, out.Operation.Status, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ownBodyClient gives net/http a request body of its own. smithy-go
// (v1.28.9, the newest) closes the request body as soon as the response
// headers arrive, and its body's WriteTo then returns io.EOF; net/http,
// draining a body of known length after writing it, takes that for a
// write error and closes the connection under a response still being
// read ("use of closed network connection"). SDK retries hide it; tests
// that count attempts do not.
type ownBodyClient struct{ c *http.Client }

func (o ownBodyClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return o.c.Do(req)
}

// DisableHostPrefix is an SDK middleware option that keeps the SDK from
// prefixing "data-" to the endpoint's host for DiscoverInstances and
// DiscoverInstancesRevision. Add it to aws.Config.APIOptions.
func DisableHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("cairnDisableHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

// Fault is a fault to inject: an error or latency on an operation, or a
// DNS failure (see `cairn fault add`).
type Fault = fault.Fault

// AddFault injects f for the server's account until ClearFaults (or its
// Count runs out) and returns its ID.
func (s *Server) AddFault(t testing.TB, f Fault) string {
	t.Helper()
	id, err := s.Faults().Add(s.Account, f)
	if err != nil {
		t.Fatalf("cairntest: add fault: %v", err)
	}
	return id
}

// FailOperation makes every call of op answer the error code: one of the
// operation's modeled errors, or ThrottlingException, ServiceUnavailable
// or InternalFailure, with AWS's status and shape.
func (s *Server) FailOperation(t testing.TB, op, code string) string {
	t.Helper()
	return s.AddFault(t, Fault{Operation: op, Error: code})
}

// DelayOperation adds d to every call of op.
func (s *Server) DelayOperation(t testing.TB, op string, d time.Duration) string {
	t.Helper()
	return s.AddFault(t, Fault{Operation: op, Latency: d.String()})
}

// FailDNS makes DNS queries for name (and the names under it) answer
// SERVFAIL ("SERVFAIL") or nothing at all ("NOANSWER").
func (s *Server) FailDNS(t testing.TB, name, action string) string {
	t.Helper()
	return s.AddFault(t, Fault{DNSName: name, DNS: action})
}

// DelayDNS makes DNS answers for name (and the names under it) wait d.
func (s *Server) DelayDNS(t testing.TB, name string, d time.Duration) string {
	t.Helper()
	return s.AddFault(t, Fault{DNSName: name, DNS: fault.DNSDelay, Latency: d.String()})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults(t testing.TB) {
	t.Helper()
	s.Faults().Clear("", "")
}

// ForceHealth makes an instance report status (HEALTHY or UNHEALTHY) in
// discovery, DNS and GetInstancesHealthStatus for d, whatever its health
// checks say.
func (s *Server) ForceHealth(t testing.TB, serviceID, instanceID, status string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := registry.Caller{Account: s.Account, Region: s.AWSConfig.Region}
	if err := s.Registry().ForceHealth(ctx, c, serviceID, instanceID, status, d); err != nil {
		t.Fatalf("cairntest: force health: %v", err)
	}
}
