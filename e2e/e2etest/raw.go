package e2etest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
	"github.com/miekg/dns"
)

// ErrorCode is the AWS error code of err (such as AccessDeniedException),
// or "" when err is no API error.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Response is the answer to a hand-built request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Post sends body to endpoint as an AWS JSON 1.1 request of target (the
// X-Amz-Target, such as Route53AutoNaming_v20170314.ListNamespaces),
// passing the request to sign first when sign is not nil, and returns the
// answer. It fails the test when no answer comes.
func Post(t testing.TB, endpoint, target string, body []byte, sign func(*http.Request)) Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if sign != nil {
		sign(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// Signer signs a hand-built request over body with creds (SigV4, for
// service and region, at time at), for Post.
func Signer(t testing.TB, creds aws.Credentials, body []byte, service, region string, at time.Time) func(*http.Request) {
	return func(req *http.Request) {
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
			t.Fatal(err)
		}
	}
}

// Query asks the DNS server at addr (UDP, without EDNS0) for name's
// records of type qtype, and fails the test when no answer comes within
// 5 seconds.
func Query(t testing.TB, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	in, _, err := (&dns.Client{Net: "udp", Timeout: 5 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("DNS query %s at %s: %v", name, addr, err)
	}
	return in
}

// AddrsA lists the addresses of the A records of an answer, in its
// order.
func AddrsA(m *dns.Msg) []string {
	var ips []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	return ips
}
