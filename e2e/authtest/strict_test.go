package authtest_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// The headers that say what a request does must be signed: a request
// signed without X-Amz-Target could otherwise be replayed, within the 15
// minutes of its date, as any other operation (issue 12: a captured
// GetNamespace resent as DeleteNamespace deleted the namespace).
func TestUnsignedHeadersRefused(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA, teamB)
	a := client(srv, teamA, "us-east-1")
	out, err := a.CreateHttpNamespace(t.Context(), &sd.CreateHttpNamespaceInput{Name: aws.String("kept")})
	if err != nil {
		t.Fatal(err)
	}
	nsID := waitOp(t, a, out.OperationId).Targets["NAMESPACE"]
	now := time.Now()
	get := `{"Id":"` + nsID + `"}`
	// signedThen signs the request as p, then sets the headers in after,
	// which the signature does not cover.
	signedThen := func(p profile, body string, after map[string]string) func(*http.Request) {
		return func(r *http.Request) {
			target := r.Header.Get("X-Amz-Target")
			if _, ok := after["X-Amz-Target"]; ok {
				r.Header.Del("X-Amz-Target")
			}
			q := p
			if _, ok := after["X-Amz-Security-Token"]; ok {
				q.token = ""
			}
			signer(t, q, body, "servicediscovery", "us-east-1", now)(r)
			for k, v := range after {
				if v == "" {
					v = target
				}
				r.Header.Set(k, v)
			}
		}
	}
	for _, tc := range []struct {
		name, op, body string
		sign           func(*http.Request)
		code, message  string
	}{
		{"X-Amz-Target not signed", "GetNamespace", get, signedThen(teamA, get, map[string]string{"X-Amz-Target": ""}),
			"IncompleteSignatureException", "'X-Amz-Target' must be a 'SignedHeader'"},
		{"a captured GetNamespace turned into DeleteNamespace", "DeleteNamespace", get,
			signedThen(teamA, get, map[string]string{"X-Amz-Target": "Route53AutoNaming_v20170314.DeleteNamespace"}),
			"IncompleteSignatureException", "'X-Amz-Target' must be a 'SignedHeader'"},
		{"X-Amz-Security-Token not signed", "ListNamespaces", `{}`,
			signedThen(teamB, `{}`, map[string]string{"X-Amz-Security-Token": teamB.token}),
			"IncompleteSignatureException", "'X-Amz-Security-Token' must be a 'SignedHeader'"},
		{"X-Amz-Date not signed", "ListNamespaces", `{}`, func(r *http.Request) {
			signer(t, teamA, `{}`, "servicediscovery", "us-east-1", now)(r)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-date", "", 1))
		}, "IncompleteSignatureException", "'X-Amz-Date' must be a 'SignedHeader'"},
		{"a region AWS does not have", "ListNamespaces", `{}`, signer(t, teamA, `{}`, "servicediscovery", "zz-fake-99", now),
			"InvalidSignatureException", "Credential should be scoped to a valid region, not 'zz-fake-99'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, srv.Endpoint, tc.op, tc.body, tc.sign)
			if r.status != http.StatusBadRequest || r.body["__type"] != tc.code {
				t.Fatalf("%d %v; want 400 %s", r.status, r.body, tc.code)
			}
			if msg, _ := r.body["message"].(string); !strings.Contains(msg, tc.message) {
				t.Errorf("message %q does not say %q", msg, tc.message)
			}
		})
	}
	// The namespace is still there.
	if _, err := a.GetNamespace(t.Context(), &sd.GetNamespaceInput{Id: aws.String(nsID)}); err != nil {
		t.Fatalf("GetNamespace after the replays: %v", err)
	}
	// The SDK signs every header that matters: its calls go through, with
	// and without a session token, in any AWS region.
	for _, region := range []string{"us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"} {
		for _, p := range []profile{teamA, teamB} {
			if _, err := client(srv, p, region).ListNamespaces(t.Context(), &sd.ListNamespacesInput{}); err != nil {
				t.Errorf("ListNamespaces as %s in %s: %v", p.name, region, err)
			}
		}
	}
}

// Invented regions multiplied the per-region quotas: only AWS's regions,
// or those of --regions, are served.
func TestRegionsFlag(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/credentials"
	writeCreds(t, path, teamA)
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.Credentials, c.DNSAddr = path, ""
		c.Regions, c.Region = []string{"edge-1", "edge-2"}, "edge-1"
	}))
	for _, region := range []string{"edge-1", "edge-2"} {
		if _, err := client(srv, teamA, region).ListNamespaces(t.Context(), &sd.ListNamespacesInput{}); err != nil {
			t.Errorf("ListNamespaces in %s: %v", region, err)
		}
	}
	for _, region := range []string{"us-east-1", "zz-fake-99"} {
		_, err := client(srv, teamA, region).ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
		wantCode(t, region, err, "InvalidSignatureException")
	}
	// A default region outside the list can't work.
	cfg := baseConfig(t)
	cfg.Regions, cfg.Region = []string{"edge-1"}, "us-east-1"
	if _, err := server.Start(cfg); err == nil || !strings.Contains(err.Error(), "not among --regions") {
		t.Errorf("Start with --region outside --regions: %v", err)
	}
	cfg.Regions, cfg.Region = nil, "zz-fake-99"
	if _, err := server.Start(cfg); err == nil || !strings.Contains(err.Error(), "not an AWS region") {
		t.Errorf("Start with --region zz-fake-99: %v", err)
	}
}

// A request refused on its headers is answered without waiting for its
// body: a client that announces a body and sends none gets its refusal.
func TestRefusedBeforeTheBody(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA)
	host := strings.TrimPrefix(srv.Endpoint, "http://")
	for _, auth := range []string{
		"", // no signature
		"AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNKEY000000/" + time.Now().UTC().Format("20060102") +
			"/us-east-1/servicediscovery/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64),
	} {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := "POST / HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/x-amz-json-1.1\r\n" +
			"X-Amz-Target: Route53AutoNaming_v20170314.ListNamespaces\r\nX-Amz-Date: " + time.Now().UTC().Format("20060102T150405Z") + "\r\n" +
			"Content-Length: 1000000\r\n"
		if auth != "" {
			req += "Authorization: " + auth + "\r\n"
		}
		if _, err := fmt.Fprint(conn, req+"\r\n{"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer before the body (Authorization %q): %v", auth, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-Errortype") == "" {
			t.Errorf("status %d, error type %q; want a 400 refusal", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
		}
	}
}
