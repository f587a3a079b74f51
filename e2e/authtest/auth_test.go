package authtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
)

// With a credentials file, each identity's correctly signed requests go
// through the whole basic flow, in its own account.
func TestSignedFlow(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA, teamB)
	for _, tc := range []struct {
		p      profile
		region string
	}{{teamA, "us-east-1"}, {teamB, "eu-west-1"}} {
		t.Run(tc.p.name, func(t *testing.T) {
			c := client(srv, tc.p, tc.region)
			w := build(t, c, "shop")
			wantNS := "arn:aws:servicediscovery:" + tc.region + ":" + tc.p.account + ":namespace/" + w.nsID
			if w.nsARN != wantNS {
				t.Errorf("namespace ARN %s, want %s", w.nsARN, wantNS)
			}
			wantSvc := "arn:aws:servicediscovery:" + tc.region + ":" + tc.p.account + ":service/" + w.svcID
			if w.svcARN != wantSvc {
				t.Errorf("service ARN %s, want %s", w.svcARN, wantSvc)
			}
			ns, err := c.GetNamespace(t.Context(), &sd.GetNamespaceInput{Id: aws.String(w.nsARN)})
			if err != nil || aws.ToString(ns.Namespace.ResourceOwner) != tc.p.account {
				t.Errorf("GetNamespace by ARN: %+v, %v; want ResourceOwner %s", ns, err, tc.p.account)
			}
			list, err := c.ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
			if err != nil || len(list.Namespaces) != 1 {
				t.Errorf("ListNamespaces = %+v, %v; want one namespace", list, err)
			}
			tags, err := c.ListTagsForResource(t.Context(), &sd.ListTagsForResourceInput{ResourceARN: aws.String(w.nsARN)})
			if err != nil || len(tags.Tags) != 1 {
				t.Errorf("ListTagsForResource = %+v, %v", tags, err)
			}
			if _, err := c.UpdateInstanceCustomHealthStatus(t.Context(), &sd.UpdateInstanceCustomHealthStatusInput{
				ServiceId: aws.String(w.svcID), InstanceId: aws.String("i-1"), Status: types.CustomHealthStatusUnhealthy}); err != nil {
				t.Errorf("UpdateInstanceCustomHealthStatus: %v", err)
			}
		})
	}
}

// DiscoverInstances as the SDK sends it by default: to the host "data-" +
// the endpoint's host, signed over that Host. A transport that dials the
// server whatever the host lets the prefixed request arrive; the
// signature over the prefixed Host verifies.
func TestDataHostPrefix(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA, teamB)
	build(t, client(srv, teamA, "us-east-1"), "shop")
	for _, p := range []profile{teamA, teamB} {
		rec := &recorder{next: dialAlways(srv.APIAddr())}
		cfg := aws.Config{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(srv.Endpoint),
			Credentials:  credentials.NewStaticCredentialsProvider(p.key, p.secret, p.token),
			HTTPClient:   cairntest.HTTPClient(&http.Client{Transport: rec, Timeout: time.Minute}),
			// No cairntest.DisableHostPrefix.
		}
		c := sd.NewFromConfig(cfg)
		out, err := c.DiscoverInstances(t.Context(), &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web")})
		if p == teamA {
			if err != nil || len(out.Instances) != 1 {
				t.Fatalf("DiscoverInstances through the data- host: %+v, %v", out, err)
			}
		} else {
			// Team b is another account: verified, and then not found.
			wantCode(t, "team b's DiscoverInstances through the data- host", err, "NamespaceNotFound")
		}
		if _, err := c.DiscoverInstancesRevision(t.Context(), &sd.DiscoverInstancesRevisionInput{
			NamespaceName: aws.String("shop"), ServiceName: aws.String("web")}); (err == nil) != (p == teamA) {
			t.Errorf("%s: DiscoverInstancesRevision through the data- host: %v", p.name, err)
		}
		if _, err := c.ListNamespaces(t.Context(), &sd.ListNamespacesInput{}); err != nil {
			t.Fatalf("ListNamespaces: %v", err)
		}
		hosts, targets := rec.sent()
		want := []string{"data-" + srv.APIAddr(), "data-" + srv.APIAddr(), srv.APIAddr()}
		if strings.Join(hosts, " ") != strings.Join(want, " ") {
			t.Errorf("%s: sent to hosts %v (%v), want %v", p.name, hosts, targets, want)
		}
	}

	// The Host is signed: the same request with the prefix removed after
	// signing is refused.
	rec := &recorder{next: dialAlways(srv.APIAddr()), rewrite: func(r *http.Request) { r.Host = strings.TrimPrefix(r.URL.Host, "data-") }}
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(teamA.key, teamA.secret, ""),
		HTTPClient:       cairntest.HTTPClient(&http.Client{Transport: rec, Timeout: time.Minute}),
		RetryMaxAttempts: 1}
	_, err := sd.NewFromConfig(cfg).DiscoverInstances(t.Context(), &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web")})
	wantCode(t, "DiscoverInstances with the data- prefix removed after signing", err, "InvalidSignatureException")
}

// Refusals through the SDK carry AWS's error codes.
func TestRefusalsThroughSDK(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA, teamB)
	wrongToken := teamB
	wrongToken.token = teamB.token + "x"
	noToken := teamB
	noToken.token = ""
	wrongSecret := teamA
	wrongSecret.secret = "not-the-secret"
	unknown := profile{key: "AKIAUNKNOWNUNKNOWN00", secret: teamA.secret}
	for _, tc := range []struct {
		name string
		c    *sd.Client
		code string
	}{
		{"wrong secret", client(srv, wrongSecret, "us-east-1"), "InvalidSignatureException"},
		{"another identity's secret", client(srv, profile{key: teamA.key, secret: teamB.secret}, "us-east-1"), "InvalidSignatureException"},
		{"unknown access key", client(srv, unknown, "us-east-1"), "UnrecognizedClientException"},
		{"no credentials", anonymous(srv), "MissingAuthenticationTokenException"},
		{"session token missing", client(srv, noToken, "us-east-1"), "UnrecognizedClientException"},
		{"session token wrong", client(srv, wrongToken, "us-east-1"), "UnrecognizedClientException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
			wantCode(t, "ListNamespaces", err, tc.code)
			_, err = tc.c.CreateHttpNamespace(t.Context(), &sd.CreateHttpNamespaceInput{Name: aws.String("intruder")})
			wantCode(t, "CreateHttpNamespace", err, tc.code)
			_, err = tc.c.DiscoverInstances(t.Context(), &sd.DiscoverInstancesInput{NamespaceName: aws.String("x"), ServiceName: aws.String("y")})
			wantCode(t, "DiscoverInstances", err, tc.code)
		})
	}
	// Nothing the refused callers sent was created, in either account.
	for _, p := range []profile{teamA, teamB} {
		list, err := client(srv, p, "us-east-1").ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Namespaces) != 0 {
			t.Errorf("%s has namespaces %+v", p.name, list.Namespaces)
		}
	}
}

// Refusals on the wire, hand-built: HTTP 400, __type and x-amzn-ErrorType
// naming the code, a lower-case "message", a request ID and a Date
// header (for the SDKs' clock-skew correction).
func TestRefusalsOnTheWire(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA, teamB)
	const body = `{}`
	now := time.Now()
	for _, tc := range []struct {
		name    string
		sign    func(*http.Request)
		code    string
		message string // a part of it
	}{
		{"no Authorization", nil, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"malformed Authorization", func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+teamA.key+"/20260314/us-east-1/servicediscovery/aws4_request")
		}, "IncompleteSignatureException", "requires 'Signature' parameter"},
		{"not SigV4", func(r *http.Request) { r.Header.Set("Authorization", "Bearer eyJhbGciOi") }, "IncompleteSignatureException", "requires 'Credential'"},
		{"wrong secret", signer(t, profile{key: teamA.key, secret: "wrong"}, body, "servicediscovery", "us-east-1", now),
			"InvalidSignatureException", "The request signature we calculated does not match the signature you provided."},
		{"unknown key", signer(t, profile{key: "AKIAUNKNOWN", secret: "s"}, body, "servicediscovery", "us-east-1", now),
			"UnrecognizedClientException", "The security token included in the request is invalid."},
		{"expired", signer(t, teamA, body, "servicediscovery", "us-east-1", now.Add(-20*time.Minute)),
			"InvalidSignatureException", "Signature expired: "},
		{"in the future", signer(t, teamA, body, "servicediscovery", "us-east-1", now.Add(20*time.Minute)),
			"InvalidSignatureException", "Signature not yet current: "},
		{"tampered body", func(r *http.Request) {
			signer(t, teamA, `{"MaxResults":1}`, "servicediscovery", "us-east-1", now)(r)
		}, "InvalidSignatureException", "does not match"},
		{"tampered X-Amz-Target", func(r *http.Request) {
			signer(t, teamA, body, "servicediscovery", "us-east-1", now)(r)
			r.Header.Set("X-Amz-Target", "Route53AutoNaming_v20170314.ListServices")
		}, "InvalidSignatureException", "does not match"},
		{"wrong service", signer(t, teamA, body, "route53", "us-east-1", now),
			"InvalidSignatureException", "Credential should be scoped to correct service: 'servicediscovery'"},
		{"region that would break ARNs", signer(t, teamA, body, "servicediscovery", "us-east-1:evil", now),
			"InvalidSignatureException", "Credential should be scoped to a valid region"},
		{"host not signed", func(r *http.Request) {
			signer(t, teamA, body, "servicediscovery", "us-east-1", now)(r)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
		}, "IncompleteSignatureException", "'Host' or ':authority' must be a 'SignedHeader'"},
		{"session token missing", func(r *http.Request) {
			signer(t, teamB, body, "servicediscovery", "us-east-1", now)(r)
			r.Header.Del("X-Amz-Security-Token")
		}, "UnrecognizedClientException", "The security token included in the request is invalid."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, srv.Endpoint, "ListNamespaces", body, tc.sign)
			if r.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.status)
			}
			if r.body["__type"] != tc.code || r.header.Get("X-Amzn-Errortype") != tc.code {
				t.Errorf("__type %v, x-amzn-ErrorType %q; want %s", r.body["__type"], r.header.Get("X-Amzn-Errortype"), tc.code)
			}
			msg, _ := r.body["message"].(string)
			if !strings.Contains(msg, tc.message) {
				t.Errorf("message %q does not say %q (body %v)", msg, tc.message, r.body)
			}
			if _, upper := r.body["Message"]; upper {
				t.Errorf("body %v has Message; the common errors say message", r.body)
			}
			if strings.Contains(msg, teamA.secret) || strings.Contains(msg, teamB.token) {
				t.Errorf("message %q reveals a secret", msg)
			}
			if r.header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId")
			}
			d, err := http.ParseTime(r.header.Get("Date"))
			if err != nil || time.Since(d).Abs() > time.Minute {
				t.Errorf("Date header %q: %v", r.header.Get("Date"), err)
			}
		})
	}
	// And a correctly signed hand-built request goes through.
	r := post(t, srv.Endpoint, "ListNamespaces", body, signer(t, teamB, body, "servicediscovery", "ap-northeast-1", now))
	if r.status != http.StatusOK {
		t.Errorf("signed request: %d %v", r.status, r.body)
	}
}

// skewedSigner is the SDK's signer on a machine whose clock is off by
// skew.
type skewedSigner struct {
	skew  time.Duration
	inner *v4.Signer
}

func (s skewedSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, at time.Time, opts ...func(*v4.SignerOptions)) error {
	return s.inner.SignHTTP(ctx, creds, r, payloadHash, service, region, at.Add(s.skew), opts...)
}

// shiftDate moves the Date header of every response by d, as a client
// whose clock is off by -d sees it.
type shiftDate struct {
	next http.RoundTripper
	d    time.Duration
}

func (s shiftDate) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			resp.Header.Set("Date", t.Add(s.d).UTC().Format(http.TimeFormat))
		}
	}
	return resp, err
}

// The Date header of an error lets an SDK on a machine whose clock is 20
// minutes slow correct for it: the first attempt is refused as expired,
// the second, signed with the corrected clock, goes through.
func TestClockSkewCorrection(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA)
	const skew = -20 * time.Minute
	for _, tc := range []struct {
		name     string
		dateSeen time.Duration // how the client sees the server's Date
		attempts int
		code     string
	}{
		{"Date seen with the client's skew", -skew, 2, ""},
		{"Date seen as sent (no skew to correct)", 0, 1, "InvalidSignatureException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{next: shiftDate{http.DefaultTransport, tc.dateSeen}}
			cfg := cairntest.AWSConfig(srv.Endpoint, "us-east-1")
			cfg.Credentials = credentials.NewStaticCredentialsProvider(teamA.key, teamA.secret, "")
			cfg.HTTPClient = cairntest.HTTPClient(&http.Client{Transport: rec, Timeout: time.Minute})
			c := sd.NewFromConfig(cfg, func(o *sd.Options) { o.HTTPSignerV4 = skewedSigner{skew, v4.NewSigner()} })
			_, err := c.ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
			if tc.code == "" && err != nil {
				t.Fatalf("ListNamespaces: %v", err)
			}
			if tc.code != "" {
				wantCode(t, "ListNamespaces", err, tc.code)
				if !strings.Contains(err.Error(), "Signature expired") {
					t.Errorf("error %v does not say Signature expired", err)
				}
			}
			if hosts, _ := rec.sent(); len(hosts) != tc.attempts {
				t.Errorf("%d attempts, want %d", len(hosts), tc.attempts)
			}
		})
	}
}
