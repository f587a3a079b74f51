package sigv4

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// newAuth is an Auth whose verifier runs at testNow.
func newAuth(creds Credentials) *Auth {
	a := NewAuth("servicediscovery", "us-west-2", "000000000000", creds)
	a.verifier.Now = func() time.Time { return testNow }
	return a
}

func TestAuthVerifies(t *testing.T) {
	a := newAuth(testCreds())
	if a.DevelopmentMode() {
		t.Fatal("development mode with credentials")
	}
	for _, tc := range []struct {
		o               signOpts
		account, region string
	}{
		{signOpts{id: idA}, "111111111111", "us-east-1"},
		{signOpts{id: idA, region: "eu-north-1"}, "111111111111", "eu-north-1"},
		{signOpts{id: idB, region: "sa-east-1"}, "222222222222", "sa-east-1"},
	} {
		account, region, err := a.Authenticate(signed(t, tc.o), []byte(discoverBody))
		if err != nil || account != tc.account || region != tc.region {
			t.Errorf("%s: Authenticate = %q, %q, %v; want %q, %q", tc.o.id.Profile, account, region, err, tc.account, tc.region)
		}
	}
	unsigned := onWire(t, clientRequest(t, "h", "ListNamespaces", "{}"))
	_, _, err := a.Authenticate(unsigned, []byte("{}"))
	wantCode(t, err, CodeMissingToken)
	_, _, err = a.Authenticate(signed(t, signOpts{id: idA, secret: "wrong"}), []byte(discoverBody))
	wantCode(t, err, CodeInvalidSignature)
}

// SetCredentials takes effect at once: a key added works, a key removed
// is refused.
func TestAuthSetCredentials(t *testing.T) {
	a := newAuth(Credentials{idA.AccessKeyID: idA})
	reqB := signed(t, signOpts{id: idB})
	_, _, err := a.Authenticate(reqB, []byte(discoverBody))
	wantCode(t, err, CodeUnrecognizedClient)

	a.SetCredentials(Credentials{idB.AccessKeyID: idB})
	if account, _, err := a.Authenticate(reqB, []byte(discoverBody)); err != nil || account != idB.AccountID {
		t.Errorf("after adding b: %q, %v", account, err)
	}
	_, _, err = a.Authenticate(signed(t, signOpts{id: idA}), []byte(discoverBody))
	wantCode(t, err, CodeUnrecognizedClient)

	// A changed secret: the old one is refused although its key was
	// derived and cached.
	changed := idB
	changed.SecretAccessKey = "rotated"
	a.SetCredentials(Credentials{changed.AccessKeyID: changed})
	_, _, err = a.Authenticate(reqB, []byte(discoverBody))
	wantCode(t, err, CodeInvalidSignature)
	if account, _, err := a.Authenticate(signed(t, signOpts{id: changed}), []byte(discoverBody)); err != nil || account != idB.AccountID {
		t.Errorf("rotated secret: %q, %v", account, err)
	}
	// A changed account: the same key now acts in the new account.
	moved := changed
	moved.AccountID = "999999999999"
	a.SetCredentials(Credentials{moved.AccessKeyID: moved})
	if account, _, err := a.Authenticate(signed(t, signOpts{id: moved}), []byte(discoverBody)); err != nil || account != "999999999999" {
		t.Errorf("moved account: %q, %v", account, err)
	}
}

// Development mode: unsigned requests and any well-formed signature are
// let in, as the development account; the signature's region counts.
func TestAuthDevelopmentMode(t *testing.T) {
	a := newAuth(nil)
	if !a.DevelopmentMode() {
		t.Fatal("not in development mode without credentials")
	}
	unsigned := onWire(t, clientRequest(t, "h", "ListNamespaces", "{}"))
	if account, region, err := a.Authenticate(unsigned, []byte("{}")); err != nil || account != "000000000000" || region != "us-west-2" {
		t.Errorf("unsigned: %q, %q, %v", account, region, err)
	}
	for _, o := range []signOpts{
		{id: idA},
		{id: idA, secret: "any secret at all"},
		{id: Identity{AccessKeyID: "AKIDANYTHING", SecretAccessKey: "x"}, region: "eu-west-1"},
		{id: idB, token: "any token"},
	} {
		account, region, err := a.Authenticate(signed(t, o), []byte("a body the signature does not cover"))
		want := o.region
		if want == "" {
			want = "us-east-1"
		}
		if err != nil || account != "000000000000" || region != want {
			t.Errorf("%+v: %q, %q, %v", o, account, region, err)
		}
	}
	// Still refused: what is not well-formed, expired, or for another
	// service.
	bad := signed(t, signOpts{id: idA})
	bad.Header.Set("Authorization", strings.Replace(bad.Header.Get("Authorization"), "Signature=", "Sig=", 1))
	_, _, err := a.Authenticate(bad, nil)
	wantCode(t, err, CodeIncomplete)
	_, _, err = a.Authenticate(signed(t, signOpts{id: idA, at: testNow.Add(-time.Hour)}), nil)
	wantCode(t, err, CodeInvalidSignature)
	_, _, err = a.Authenticate(signed(t, signOpts{id: idA, service: "sts"}), nil)
	wantCode(t, err, CodeInvalidSignature)
	noHost := signed(t, signOpts{id: idA})
	noHost.Header.Set("Authorization", strings.Replace(noHost.Header.Get("Authorization"), "host;", "", 1))
	_, _, err = a.Authenticate(noHost, nil)
	wantCode(t, err, CodeIncomplete)

	// Credentials end development mode.
	a.SetCredentials(testCreds())
	if a.DevelopmentMode() {
		t.Error("still in development mode after SetCredentials")
	}
	_, _, err = a.Authenticate(unsigned, []byte("{}"))
	wantCode(t, err, CodeMissingToken)
}

// Check then Checked.Identify decides as the rules say, in both modes:
// the headers parsed once give the expected identity, region or refusal
// (fixed per case, not compared with Identify, which is built on them).
func TestCheckThenIdentify(t *testing.T) {
	unsigned := func() *http.Request { return onWire(t, clientRequest(t, "h", "ListNamespaces", "{}")) }
	type want struct{ account, region, code string }
	for _, tc := range []struct {
		name       string
		req        func() *http.Request
		body       string
		creds, dev want
	}{
		{"signed", func() *http.Request { return signed(t, signOpts{id: idA, region: "eu-north-1"}) }, discoverBody,
			want{"111111111111", "eu-north-1", ""}, want{"000000000000", "eu-north-1", ""}},
		{"wrong secret", func() *http.Request { return signed(t, signOpts{id: idA, secret: "wrong"}) }, discoverBody,
			want{code: CodeInvalidSignature}, want{"000000000000", "us-east-1", ""}},
		{"other body", func() *http.Request { return signed(t, signOpts{id: idB}) }, "{}",
			want{code: CodeInvalidSignature}, want{"000000000000", "us-east-1", ""}},
		{"unsigned", unsigned, "{}",
			want{code: CodeMissingToken}, want{"000000000000", "us-west-2", ""}},
		{"malformed", func() *http.Request {
			r := unsigned()
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			return r
		}, "{}", want{code: CodeIncomplete}, want{code: CodeIncomplete}},
	} {
		for _, mode := range []struct {
			name string
			auth *Auth
			want want
		}{{"credentials", newAuth(testCreds()), tc.creds}, {"development", newAuth(nil), tc.dev}} {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				req := tc.req()
				c, err := mode.auth.Check(req)
				var id Identity
				var region string
				if err == nil {
					id, region, err = c.Identify(req, []byte(tc.body))
				}
				code := ""
				if err != nil {
					var e *Error
					if !errors.As(err, &e) {
						t.Fatalf("error %v is not an *Error", err)
					}
					code = e.Code
				}
				if got := (want{id.AccountID, region, code}); got != mode.want {
					t.Errorf("Check+Identify = %+v (%v); want %+v", got, err, mode.want)
				}
			})
		}
	}
	var zero Checked
	_, _, err := zero.Identify(unsigned(), nil)
	wantCode(t, err, CodeMissingToken)
}
