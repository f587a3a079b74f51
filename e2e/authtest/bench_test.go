package authtest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/policy"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/server"
)

// discardWriter is the cheapest http.ResponseWriter.
type discardWriter struct {
	h      http.Header
	status int
	body   []byte
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) {
	w.body = append(w.body[:0], p...)
	return len(p), nil
}

// benchRequest is a Cloud Map request to the handler, signed as p (if
// not nil) at the time of the call.
func benchRequest(b *testing.B, op string, body []byte, p *profile) *http.Request {
	req, err := http.NewRequest(http.MethodPost, "http://data-127.0.0.1:9080/", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", api.TargetPrefix+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Amz-Sdk-Invocation-Id", "8d6d8b1b-3a43-4a5e-9f43-4e1f9a2b7c10")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	if p != nil {
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: p.key, SecretAccessKey: p.secret, SessionToken: p.token},
			req, hex.EncodeToString(sum[:]), "servicediscovery", "us-east-1", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	// As a server receives it: the Host header, not the URL, names the
	// host.
	req.Host = req.URL.Host
	return req
}

func benchCall(b *testing.B, h http.Handler, op string, in any, out any, p *profile) {
	b.Helper()
	body, _ := json.Marshal(in)
	w := &discardWriter{h: http.Header{}, status: 200}
	h.ServeHTTP(w, benchRequest(b, op, body, p))
	if w.status != 200 {
		b.Fatalf("%s: status %d: %s", op, w.status, w.body)
	}
	if out != nil {
		if err := json.Unmarshal(w.body, out); err != nil {
			b.Fatalf("%s: %v", op, err)
		}
	}
}

// setup creates, through h, an HTTP namespace "bench" with a service
// "svc" of 100 instances (5 attributes each), 10 of them stage=canary,
// and returns the DiscoverInstances body that finds those 10.
func setup(b *testing.B, h http.Handler, p *profile) []byte {
	b.Helper()
	var op struct{ OperationId string }
	benchCall(b, h, "CreateHttpNamespace", map[string]any{"Name": "bench"}, &op, p)
	var got struct {
		Operation struct{ Targets map[string]string }
	}
	benchCall(b, h, "GetOperation", map[string]any{"OperationId": op.OperationId}, &got, p)
	var svc struct{ Service struct{ Id string } }
	benchCall(b, h, "CreateService", map[string]any{"Name": "svc", "NamespaceId": got.Operation.Targets["NAMESPACE"]}, &svc, p)
	for i := range 100 {
		stage := "prod"
		if i%10 == 0 {
			stage = "canary"
		}
		benchCall(b, h, "RegisterInstance", map[string]any{"ServiceId": svc.Service.Id, "InstanceId": fmt.Sprintf("i-%03d", i),
			"Attributes": map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.0.%d", i), "AWS_INSTANCE_PORT": "8080",
				"stage": stage, "zone": "us-east-1a", "version": "1.2.3"}}, nil, p)
	}
	body := []byte(`{"NamespaceName":"bench","ServiceName":"svc","QueryParameters":{"stage":"canary"}}`)
	var check struct{ Instances []struct{ InstanceId string } }
	benchCall(b, h, "DiscoverInstances", json.RawMessage(body), &check, p)
	if len(check.Instances) != 10 {
		b.Fatalf("query matched %d instances, want 10", len(check.Instances))
	}
	return body
}

// fixedAuth lets every request in as one account, in us-east-1.
type fixedAuth struct{ account string }

func (f fixedAuth) Authenticate(*http.Request, []byte) (string, string, error) {
	return f.account, "us-east-1", nil
}

// BenchmarkDiscoverInstancesAuth: DiscoverInstances through the API
// handler (a service of 100 instances, the query matching 10), with
// signature verification off (development mode, unsigned), development
// mode with a signed request (the form is checked), and on (every
// request verified, its signing key cached). The issue asks "on" to stay
// within 10% of "off". "on+policy" adds a ten-statement policy_file to
// the signer (benchPolicy): the cost of authorization on the request
// path.
//
//	go test -run '^$' -bench '^BenchmarkDiscoverInstancesAuth$' -benchmem -count 6 ./e2e/authtest/
func BenchmarkDiscoverInstancesAuth(b *testing.B) {
	for _, mode := range []struct {
		name   string
		creds  sigv4.Credentials
		signer *profile
	}{
		{"off", nil, nil},
		{"dev-signed", nil, &teamB},
		{"on", sigv4.Credentials{
			teamA.key: {AccessKeyID: teamA.key, SecretAccessKey: teamA.secret, AccountID: teamA.account, Profile: teamA.name},
			teamB.key: {AccessKeyID: teamB.key, SecretAccessKey: teamB.secret, SessionToken: teamB.token, AccountID: teamB.account, Profile: teamB.name},
		}, &teamB},
		{"on+policy", sigv4.Credentials{
			teamB.key: {AccessKeyID: teamB.key, SecretAccessKey: teamB.secret, SessionToken: teamB.token, AccountID: teamB.account, Profile: teamB.name,
				Policy: benchPolicy(b)},
		}, &teamB},
	} {
		b.Run(mode.name, func(b *testing.B) {
			opts := bolt.DefaultOptions()
			opts.NoSync = true
			st, err := bolt.Open(b.TempDir(), opts)
			if err != nil {
				b.Fatal(err)
			}
			reg, err := registry.New(context.Background(), st, registry.Config{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { reg.Close(); _ = st.Close() })
			h := api.New(api.Config{Registry: reg, Auth: sigv4.NewAuth(api.SigningName, "us-east-1", "000000000000", mode.creds)})

			body := setup(b, h, mode.signer)
			signed := benchRequest(b, "DiscoverInstances", body, mode.signer)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				rd := bytes.NewReader(body)
				req := signed.Clone(context.Background())
				req.Body = nopCloser{rd}
				for pb.Next() {
					rd.Reset(body)
					clear(w.h)
					w.status = 200
					h.ServeHTTP(w, req)
					if w.status != 200 {
						b.Errorf("status %d: %s", w.status, w.body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// benchPolicy is a ten-statement policy under which the benchmark's
// setup and DiscoverInstances are allowed only after every Deny was
// tried.
func benchPolicy(b *testing.B) *policy.Policy {
	var stmts []string
	for i := range 8 {
		stmts = append(stmts, fmt.Sprintf(`{"Effect":"Deny","Action":"servicediscovery:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/blocked%d":"yes"}}}`, i))
	}
	stmts = append(stmts,
		`{"Effect":"Allow","Action":["servicediscovery:Create*","servicediscovery:Register*","servicediscovery:Get*"],"Resource":"*"}`,
		`{"Effect":"Allow","Action":"servicediscovery:DiscoverInstances","Resource":"*","Condition":{"StringLike":{"servicediscovery:NamespaceName":"bench*"}}}`)
	p, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`), "bench.json")
	if err != nil {
		b.Fatal(err)
	}
	return p
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// BenchmarkDiscoverInstancesHTTP: the same comparison over loopback HTTP
// against a whole cairn (server.Start), the client on the same machine
// sending one pre-signed DiscoverInstances request again and again over
// kept-alive connections.
//
//	go test -run '^$' -bench '^BenchmarkDiscoverInstancesHTTP$' -benchmem -count 6 ./e2e/authtest/
func BenchmarkDiscoverInstancesHTTP(b *testing.B) {
	for _, mode := range []struct {
		name   string
		creds  bool
		signer *profile
	}{{"off", false, nil}, {"dev-signed", false, &teamB}, {"on", true, &teamB}} {
		b.Run(mode.name, func(b *testing.B) {
			cfg := server.DefaultConfig()
			cfg.APIAddr, cfg.DNSAddr, cfg.DataDir = "127.0.0.1:0", "", b.TempDir()
			if mode.creds {
				cfg.Credentials = filepath.Join(b.TempDir(), "credentials")
				writeCreds(b, cfg.Credentials, teamA, teamB)
			}
			srv, err := server.Start(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = srv.Close(context.Background()) })
			// Set up through a handler over the server's registry.
			account := "000000000000"
			if mode.creds {
				account = teamB.account
			}
			body := setup(b, api.New(api.Config{Registry: srv.Registry(), Auth: fixedAuth{account}}), nil)
			signed := benchRequest(b, "DiscoverInstances", body, mode.signer)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			url := srv.Endpoint() + "/"
			send := func() error {
				req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					return err
				}
				req.Header = signed.Header.Clone()
				req.Host = signed.Host
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n == 0 {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
			if err := send(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := send(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
