package authtest_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// listOK fails unless p can list namespaces.
func listOK(t *testing.T, srv *cairntest.Server, p profile, what string) {
	t.Helper()
	if _, err := client(srv, p, "us-east-1").ListNamespaces(t.Context(), &sd.ListNamespacesInput{}); err != nil {
		t.Errorf("%s: %s: %v", what, p.name, err)
	}
}

// listRefused fails unless p is refused with code.
func listRefused(t *testing.T, srv *cairntest.Server, p profile, code, what string) {
	t.Helper()
	_, err := client(srv, p, "us-east-1").ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
	wantCode(t, what+": "+p.name, err, code)
}

// The credentials file is read again on reload (what SIGHUP does): added
// keys work, removed keys are refused at once, and a bad file changes
// nothing.
func TestReloadCredentials(t *testing.T) {
	t.Parallel()
	srv, path := withCreds(t, teamA)
	listOK(t, srv, teamA, "at start")
	listRefused(t, srv, teamB, "UnrecognizedClientException", "before b is added")
	// A namespace of team a survives reloads.
	w := build(t, client(srv, teamA, "us-east-1"), "shop")

	writeCreds(t, path, teamA, teamB)
	if err := srv.ReloadCredentials(); err != nil {
		t.Fatalf("reload with b added: %v", err)
	}
	listOK(t, srv, teamA, "after adding b")
	listOK(t, srv, teamB, "after adding b")

	writeCreds(t, path, teamB)
	if err := srv.ReloadCredentials(); err != nil {
		t.Fatalf("reload with a removed: %v", err)
	}
	listRefused(t, srv, teamA, "UnrecognizedClientException", "after removing a")
	listOK(t, srv, teamB, "after removing a")

	// A malformed file: an error naming the line, and the identities in
	// use stay.
	writeFile(t, path, credsFile(teamB)+"\n[team-c]\naws_access_key_id = "+teamC.key+"\naws_secret_access_key = s\naws_account_id = 12345\n")
	err := srv.ReloadCredentials()
	if err == nil || !strings.Contains(err.Error(), path+" line 9:") || !strings.Contains(err.Error(), "aws_account_id") {
		t.Fatalf("reload of a malformed file: %v; want an error naming %s line 9", err, path)
	}
	listOK(t, srv, teamB, "after a failed reload")
	listRefused(t, srv, teamA, "UnrecognizedClientException", "after a failed reload")
	listRefused(t, srv, teamC, "UnrecognizedClientException", "after a failed reload")
	for _, bad := range []string{"", "[team-b]\n", "aws_access_key_id = x\n", credsFile(teamB, teamB)} {
		writeFile(t, path, bad)
		if err := srv.ReloadCredentials(); err == nil {
			t.Errorf("reload of %q: no error", bad)
		}
	}
	listOK(t, srv, teamB, "after failed reloads")

	// A rotated secret: the old one is refused, the new one works; the
	// account, and so its namespace, stays.
	rotated := teamA
	rotated.secret = "rotated-secret"
	writeCreds(t, path, rotated, teamB)
	if err := srv.ReloadCredentials(); err != nil {
		t.Fatal(err)
	}
	listRefused(t, srv, teamA, "InvalidSignatureException", "after rotating a's secret")
	got, err := client(srv, rotated, "us-east-1").GetNamespace(t.Context(), &sd.GetNamespaceInput{Id: aws.String(w.nsID)})
	if err != nil || aws.ToString(got.Namespace.Arn) != w.nsARN {
		t.Errorf("a's namespace after reloads: %+v, %v", got, err)
	}

	// A missing file is an error too, and changes nothing.
	srvMissing, pathMissing := withCreds(t, teamA)
	if err := removeFile(pathMissing); err != nil {
		t.Fatal(err)
	}
	if err := srvMissing.ReloadCredentials(); err == nil {
		t.Error("reload of a missing file: no error")
	}
	listOK(t, srvMissing, teamA, "after reloading a missing file")
}

// Reloading while requests are in flight is safe (run with -race).
func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	srv, path := withCreds(t, teamA, teamB)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	done := make(chan error, 2)
	for _, p := range []profile{teamA, teamB} {
		go func() {
			c := client(srv, p, "us-east-1")
			for i := 0; i < 100; i++ {
				if _, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for i := 0; i < 50; i++ {
		if i%2 == 0 {
			writeCreds(t, path, teamA, teamB, teamC)
		} else {
			writeCreds(t, path, teamB, teamA)
		}
		if err := srv.ReloadCredentials(); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("a request during reloads: %v", err)
		}
	}
}

// baseConfig is a server configuration for server.Start in a test.
func baseConfig(t *testing.T) server.Config {
	cfg := server.DefaultConfig()
	cfg.APIAddr = "127.0.0.1:0"
	cfg.DNSAddr = ""
	cfg.DataDir = t.TempDir()
	return cfg
}

func startAndClose(t *testing.T, cfg server.Config) {
	t.Helper()
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatalf("Start(%s, %s): %v", cfg.APIAddr, cfg.DNSAddr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Error(err)
	}
}

// A malformed credentials file stops the server from starting, with the
// line at fault.
func TestMalformedCredentialsAtStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, msg string
	}{
		{"bad account id", credsFile(teamA) + "\n[b]\naws_access_key_id = AKIAB\naws_secret_access_key = s\naws_account_id = 2222\n", "line 8:"},
		{"key before any profile", "aws_access_key_id = AKIA\n", "line 1:"},
		{"not key = value", credsFile(teamA) + "oops\n", "line 7:"},
		{"duplicate profile", credsFile(teamA, teamA), "line 8:"},
		{"empty file", "", "has no profiles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.Credentials = filepath.Join(t.TempDir(), "credentials")
			writeFile(t, cfg.Credentials, tc.file)
			srv, err := server.Start(cfg)
			if err == nil {
				_ = srv.Close(context.Background())
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), cfg.Credentials) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not name %s and %q", err, cfg.Credentials, tc.msg)
			}
		})
	}
	cfg := baseConfig(t)
	cfg.Credentials = filepath.Join(t.TempDir(), "missing")
	if srv, err := server.Start(cfg); err == nil {
		_ = srv.Close(context.Background())
		t.Error("started with a missing credentials file")
	} else if !strings.Contains(err.Error(), "missing") {
		t.Errorf("error %q does not name the file", err)
	}
}

// Development mode (no credentials file): unsigned requests and any
// well-formed signature are let in, every caller is the configured
// account, and the region is the signature's (or the default).
func TestDevelopmentMode(t *testing.T) {
	t.Parallel()
	const account = "123456789012"
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.AccountID = account
		c.Region = "us-west-2"
		c.DNSAddr = ""
	}))
	anyone := profile{key: "AKIDANYONE", secret: "any secret"}
	other := profile{key: "AKIDSOMEONEELSE", secret: "another secret", token: "and a token"}
	w := build(t, client(srv, anyone, "us-east-1"), "dev")
	if want := "arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + w.nsID; w.nsARN != want {
		t.Errorf("ARN %s, want %s", w.nsARN, want)
	}
	// Another key is the same account.
	got, err := client(srv, other, "us-east-1").GetNamespace(t.Context(), &sd.GetNamespaceInput{Id: aws.String(w.nsID)})
	if err != nil || aws.ToString(got.Namespace.ResourceOwner) != account {
		t.Errorf("another key's GetNamespace: %+v, %v", got, err)
	}
	// The region is still the signature's.
	probe(t, client(srv, anyone, "eu-west-1"), w, "dev")
	// Unsigned requests: the development account in the default region.
	r := post(t, srv.Endpoint, "ListNamespaces", "{}", nil)
	if r.status != http.StatusOK {
		t.Fatalf("unsigned request: %d %v", r.status, r.body)
	}
	r = post(t, srv.Endpoint, "CreateHttpNamespace", `{"Name":"unsigned"}`, nil)
	if r.status != http.StatusOK {
		t.Fatalf("unsigned CreateHttpNamespace: %d %v", r.status, r.body)
	}
	west := client(srv, anyone, "us-west-2")
	waitOp(t, west, aws.String(r.body["OperationId"].(string)))
	nss, err := west.ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
	if err != nil || len(nss.Namespaces) != 1 || !strings.HasPrefix(aws.ToString(nss.Namespaces[0].Arn), "arn:aws:servicediscovery:us-west-2:"+account+":") {
		t.Errorf("us-west-2 namespaces = %+v, %v; want the unsigned one", nss, err)
	}
	// The anonymous SDK client works too.
	cfg := cairntest.AWSConfig(srv.Endpoint, "us-east-1")
	cfg.Credentials = aws.AnonymousCredentials{}
	if _, err := sd.NewFromConfig(cfg).ListNamespaces(t.Context(), &sd.ListNamespacesInput{}); err != nil {
		t.Errorf("anonymous: %v", err)
	}
	// There is no file to reload.
	if err := srv.ReloadCredentials(); err == nil || !strings.Contains(err.Error(), "development mode") {
		t.Errorf("ReloadCredentials in development mode: %v", err)
	}
	// Still refused: malformed, expired, or for another service.
	for _, tc := range []struct {
		name string
		sign func(*http.Request)
		code string
	}{
		{"malformed", func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x") }, "IncompleteSignatureException"},
		{"expired", signer(t, anyone, "{}", "servicediscovery", "us-east-1", time.Now().Add(-time.Hour)), "InvalidSignatureException"},
		{"another service", signer(t, anyone, "{}", "lambda", "us-east-1", time.Now()), "InvalidSignatureException"},
		{"not a region", signer(t, anyone, "{}", "servicediscovery", "us-east-1:x", time.Now()), "InvalidSignatureException"},
	} {
		r := post(t, srv.Endpoint, "ListNamespaces", "{}", tc.sign)
		if r.status != http.StatusBadRequest || r.body["__type"] != tc.code {
			t.Errorf("%s: %d %v, want 400 %s", tc.name, r.status, r.body, tc.code)
		}
	}
}

// Without credentials cairn listens on loopback addresses only, unless
// told --insecure-no-auth.
func TestNonLoopbackRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ api, dns string }{
		{"0.0.0.0:0", ""},
		{"127.0.0.1:0", "0.0.0.0:0"},
		{":0", ""},
	} {
		cfg := baseConfig(t)
		cfg.APIAddr, cfg.DNSAddr = tc.api, tc.dns
		srv, err := server.Start(cfg)
		if err == nil {
			_ = srv.Close(context.Background())
			t.Errorf("started on %s / %q without credentials", tc.api, tc.dns)
			continue
		}
		bad := tc.api
		if tc.dns != "" {
			bad = tc.dns
		}
		for _, want := range []string{bad, "not a loopback address", "--credentials", "--insecure-no-auth"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}

		cfg.InsecureNoAuth = true
		startAndClose(t, cfg)
		cfg.InsecureNoAuth = false
		cfg.Credentials = filepath.Join(t.TempDir(), "credentials")
		writeCreds(t, cfg.Credentials, teamA)
		startAndClose(t, cfg)
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "127.0.0.2:0"} {
		cfg := baseConfig(t)
		cfg.APIAddr = addr
		startAndClose(t, cfg)
	}
}
