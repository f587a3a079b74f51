package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// testNow is the verifier's fixed clock in these tests.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// The identities the tests sign with.
var (
	idA = Identity{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: "secret-of-team-a/With+Slash", AccountID: "111111111111", Profile: "team-a"}
	idB = Identity{AccessKeyID: "ASIABBBBBBBBBBBBBBBB", SecretAccessKey: "secret-of-team-b", SessionToken: "FwoGZXIvYXdzEJr//////////wEaDM+token+of+b==", AccountID: "222222222222", Profile: "team-b"}
)

// testCreds are idA and idB by access key.
func testCreds() Credentials {
	return Credentials{idA.AccessKeyID: idA, idB.AccessKeyID: idB}
}

// newVerifier is a Verifier for "servicediscovery" over testCreds, at
// testNow.
func newVerifier() *Verifier {
	c := testCreds()
	return &Verifier{
		Service: "servicediscovery",
		Lookup:  func(k string) (Identity, bool) { id, ok := c[k]; return id, ok },
		Now:     func() time.Time { return testNow },
	}
}

// discoverBody is a realistic DiscoverInstances request body.
const discoverBody = `{"NamespaceName":"shop","ServiceName":"web","QueryParameters":{"stage":"prod"},"MaxResults":10}`

// clientRequest is a request as the AWS SDK builds it for a Cloud Map
// operation, before signing.
func clientRequest(t testing.TB, host, target, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://"+host+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Route53AutoNaming_v20170314."+target)
	req.Header.Set("Amz-Sdk-Invocation-Id", "8d6d8b1b-3a43-4a5e-9f43-4e1f9a2b7c10")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0 os/linux lang/go#1.26 md/GOOS#linux api/servicediscovery#1.40.2")
	return req
}

func payloadHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// signOpts says how sdkSign signs.
type signOpts struct {
	id      Identity
	secret  string // overrides id.SecretAccessKey when set
	token   string // overrides id.SessionToken when set
	service string
	region  string
	at      time.Time
	logTo   *bytes.Buffer // receives the signer's canonical request
}

// sdkSign signs req over body with the real AWS SDK signer.
func sdkSign(t testing.TB, req *http.Request, body string, o signOpts) {
	t.Helper()
	if o.service == "" {
		o.service = "servicediscovery"
	}
	if o.region == "" {
		o.region = "us-east-1"
	}
	if o.at.IsZero() {
		o.at = testNow
	}
	creds := aws.Credentials{AccessKeyID: o.id.AccessKeyID, SecretAccessKey: o.id.SecretAccessKey, SessionToken: o.id.SessionToken}
	if o.secret != "" {
		creds.SecretAccessKey = o.secret
	}
	if o.token != "" {
		creds.SessionToken = o.token
	}
	signer := v4.NewSigner(func(so *v4.SignerOptions) {
		if o.logTo != nil {
			so.LogSigning = true
			so.Logger = bufLogger{o.logTo}
		}
	})
	if err := signer.SignHTTP(context.Background(), creds, req, payloadHash(body), o.service, o.region, o.at); err != nil {
		t.Fatal(err)
	}
}

type bufLogger struct{ b *bytes.Buffer }

func (l bufLogger) Logf(_ logging.Classification, format string, v ...any) {
	fmt.Fprintf(l.b, format, v...)
}

// sdkCanonical is the canonical request the SDK signer logged.
func sdkCanonical(t testing.TB, log string) string {
	t.Helper()
	const start = "---[ CANONICAL STRING  ]-----------------------------\n"
	const end = "\n---[ STRING TO SIGN ]"
	i := strings.Index(log, start)
	j := strings.Index(log, end)
	if i < 0 || j < i {
		t.Fatalf("no canonical string in the signer's log:\n%s", log)
	}
	return log[i+len(start) : j]
}

// onWire is req as a server receives it: written to the wire by net/http
// and read back.
func onWire(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("read back %q: %v", buf.String(), err)
	}
	return got
}

// signed is a DiscoverInstances request for host signed with o, as the
// server receives it.
func signed(t testing.TB, o signOpts) *http.Request {
	t.Helper()
	req := clientRequest(t, "data-servicediscovery.us-east-1.amazonaws.com", "DiscoverInstances", discoverBody)
	sdkSign(t, req, discoverBody, o)
	return onWire(t, req)
}

// wantCode fails unless err is an *Error with code, and returns it.
func wantCode(t testing.TB, err error, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got %s: %s, want %s", e.Code, e.Message, code)
	}
	if e.Error() != e.Code+": "+e.Message {
		t.Errorf("Error() = %q", e.Error())
	}
	return e
}
