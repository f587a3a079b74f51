package sigv4

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseAuthorization: ParseAuthorization never panics, refuses only
// with an *Error of IncompleteSignatureException, and what it accepts
// round-trips: the header written back from the parsed fields parses to
// the same fields.
//
//	go test -run '^$' -fuzz '^FuzzParseAuthorization$' -fuzztime 120s ./internal/sigv4/
func FuzzParseAuthorization(f *testing.F) {
	// Headers of the real SDK signer.
	for _, o := range []signOpts{{id: idA}, {id: idB, region: "eu-west-1"}} {
		f.Add(signed(f, o).Header.Get("Authorization"))
	}
	f.Add(sdkHeader)
	// The malformed cases of TestParseAuthorization.
	for _, h := range []string{
		"", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "Bearer abc", "AWS AKID:sig",
		"AWS4-ECDSA-P256-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 " + goodHdrs + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs,
		"AWS4-HMAC-SHA256 " + goodCred + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=, Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, " + goodHdrs + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015-08-30/us-east-1/service/aws4_request, " + goodHdrs + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_requestx, " + goodHdrs + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830//service/aws4_request, " + goodHdrs + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig[:63] + "g",
		"AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig[:40],
		"AWS4-HMAC-SHA256 Credential=A=B/20150830/r/s/aws4_request, SignedHeaders=;;, Signature=" + goodSig + ", Signature=" + strings.ToUpper(goodSig),
		"AWS4-HMAC-SHA256\tCredential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " + goodHdrs + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Credential= A /20150830/ r /s/aws4_request, SignedHeaders= host ; x , Signature=" + goodSig,
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if a != nil {
				t.Fatalf("%q: an Authorization with the error %v", h, err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeIncomplete {
				t.Fatalf("%q: error %v (%T), want an *Error %s", h, err, err, CodeIncomplete)
			}
			if e.Message == "" {
				t.Fatalf("%q: empty message", h)
			}
			return
		}
		// What was accepted is well-formed.
		if len(a.Date) != 8 || !digits(a.Date) || a.Terminal != "aws4_request" || a.AccessKeyID == "" ||
			a.Region == "" || a.Service == "" || len(a.SignedHeaders) == 0 || len(a.Signature) != 64 || a.Signature != strings.ToLower(a.Signature) {
			t.Fatalf("%q: accepted %+v", h, a)
		}
		again := Algorithm + " Credential=" + a.AccessKeyID + "/" + a.Scope() + ", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
		b, err := ParseAuthorization(again)
		if err != nil {
			t.Fatalf("%q parsed to %+v, written back as %q, which does not parse: %v", h, a, again, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%q parsed to %+v, written back as %q, which parses to %+v", h, a, again, b)
		}
	})
}

// FuzzVerify: whatever Authorization, X-Amz-Date and Date headers arrive,
// Verify and CheckForm never panic and refuse only with an *Error of the
// four AWS codes.
func FuzzVerify(f *testing.F) {
	good := signed(f, signOpts{id: idA})
	f.Add(good.Header.Get("Authorization"), good.Header.Get("X-Amz-Date"), "")
	f.Add(sdkHeader, "20150830T123600Z", "")
	f.Add(strings.Replace(good.Header.Get("Authorization"), "host;", "", 1), "", "Sat, 14 Mar 2026 15:09:26 GMT")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA/20260314/us-east-1/servicediscovery/aws4_request, SignedHeaders=host;content-length;;X, Signature="+goodSig, "20260314T150926Z", "")
	v := newVerifier()
	codes := map[string]bool{CodeMissingToken: true, CodeIncomplete: true, CodeInvalidSignature: true, CodeUnrecognizedClient: true}
	f.Fuzz(func(t *testing.T, auth, amzDate, date string) {
		req := good.Clone(t.Context())
		for k, val := range map[string]string{"Authorization": auth, "X-Amz-Date": amzDate, "Date": date} {
			if val == "" {
				req.Header.Del(k)
			} else {
				req.Header.Set(k, val)
			}
		}
		id, _, err := v.Verify(req, []byte(discoverBody))
		if err == nil {
			if id != idA {
				t.Fatalf("verified as %+v", id)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || !codes[e.Code] {
			t.Fatalf("Verify: %v (%T)", err, err)
		}
		if _, err := v.CheckForm(req); err != nil && (!errors.As(err, &e) || !codes[e.Code]) {
			t.Fatalf("CheckForm: %v (%T)", err, err)
		}
	})
}
