package authtest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// testCA is a private certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a server certificate for 127.0.0.1 signed by ca, and its
// key, to certFile and keyFile.
func (ca testCA) issue(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "cairn"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
}

// tlsClient is an SDK client of endpoint that trusts only ca.
func tlsClient(endpoint string, p profile, ca testCA) *sd.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	cfg := cairntest.AWSConfig(endpoint, "us-east-1")
	cfg.Credentials = client(&cairntest.Server{}, p, "us-east-1").Options().Credentials
	cfg.HTTPClient = cairntest.HTTPClient(&http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}})
	cfg.RetryMaxAttempts = 1
	return sd.NewFromConfig(cfg)
}

// The API over TLS with a private CA: SDK calls go through with the CA
// trusted, not without it; plain HTTP gets nothing; a new certificate is
// taken on reload (SIGHUP), and a bad one leaves the old in use.
func TestTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	creds, certFile, keyFile := filepath.Join(dir, "credentials"), filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls.key")
	writeCreds(t, creds, teamA)
	ca1, ca2 := newCA(t, "cairn test CA 1"), newCA(t, "cairn test CA 2")
	ca1.issue(t, certFile, keyFile)
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.Credentials, c.TLSCert, c.TLSKey, c.DNSAddr = creds, certFile, keyFile, ""
	}))
	endpoint := srv.Server.Endpoint()
	if !strings.HasPrefix(endpoint, "https://127.0.0.1:") {
		t.Fatalf("Endpoint() = %s, want https://", endpoint)
	}
	ctx := t.Context()
	if _, err := tlsClient(endpoint, teamA, ca1).ListNamespaces(ctx, &sd.ListNamespacesInput{}); err != nil {
		t.Fatalf("ListNamespaces over TLS, trusting the CA: %v", err)
	}
	if _, err := tlsClient(endpoint, teamA, ca2).ListNamespaces(ctx, &sd.ListNamespacesInput{}); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("ListNamespaces trusting another CA: %v; want a certificate error", err)
	}
	// Plain HTTP to the TLS port: Go's TLS server answers 400, nothing else.
	resp, err := http.Get("http://" + srv.APIAddr() + "/healthz")
	if err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP: %d, want 400", resp.StatusCode)
		}
	}

	// A broken file on reload: refused, the certificate in use stays.
	writeFile(t, keyFile, "not a key")
	if err := srv.ReloadTLS(); err == nil {
		t.Error("ReloadTLS accepted a broken key")
	}
	if _, err := tlsClient(endpoint, teamA, ca1).ListNamespaces(ctx, &sd.ListNamespacesInput{}); err != nil {
		t.Fatalf("after a failed reload: %v", err)
	}
	// A new certificate from another CA: new connections get it.
	ca2.issue(t, certFile, keyFile)
	if err := srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsClient(endpoint, teamA, ca2).ListNamespaces(ctx, &sd.ListNamespacesInput{}); err != nil {
		t.Fatalf("after the reload, trusting the new CA: %v", err)
	}
	if _, err := tlsClient(endpoint, teamA, ca1).ListNamespaces(ctx, &sd.ListNamespacesInput{}); err == nil {
		t.Error("after the reload, the old CA still verifies the server")
	}
	// Half a configuration does not start.
	cfg := baseConfig(t)
	cfg.TLSCert = certFile
	if _, err := server.Start(cfg); err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Errorf("Start with --tls-cert alone: %v", err)
	}
	_ = os.Remove(keyFile)
}
