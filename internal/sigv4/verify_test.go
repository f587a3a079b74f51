package sigv4

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerifySDKSigned(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      signOpts
		now    time.Time // zero: testNow
		region string
		want   Identity
	}{
		{"team a in us-east-1", signOpts{id: idA}, time.Time{}, "us-east-1", idA},
		{"team a in another region", signOpts{id: idA, region: "ap-southeast-2"}, time.Time{}, "ap-southeast-2", idA},
		{"team b with its session token", signOpts{id: idB, region: "eu-west-1"}, time.Time{}, "eu-west-1", idB},
		{"signed 15 minutes ago", signOpts{id: idA, at: testNow.Add(-MaxSkew)}, time.Time{}, "us-east-1", idA},
		{"signed 15 minutes ahead", signOpts{id: idA, at: testNow.Add(MaxSkew)}, time.Time{}, "us-east-1", idA},
		{"signed yesterday, verified after midnight", signOpts{id: idA, at: time.Date(2026, 3, 13, 23, 59, 0, 0, time.UTC)},
			time.Date(2026, 3, 14, 0, 5, 0, 0, time.UTC), "us-east-1", idA},
		{"signed in another time zone", signOpts{id: idA, at: testNow.In(time.FixedZone("UTC+9", 9*3600))}, time.Time{}, "us-east-1", idA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier()
			if !tc.now.IsZero() {
				v.Now = func() time.Time { return tc.now }
			}
			id, region, err := v.Verify(signed(t, tc.o), []byte(discoverBody))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id != tc.want || region != tc.region {
				t.Errorf("Verify = %+v, %q; want %+v, %q", id, region, tc.want, tc.region)
			}
		})
	}
}

// Every refusal of Verify, with its AWS error code.
func TestVerifyRefusals(t *testing.T) {
	body := []byte(discoverBody)
	cases := []struct {
		name string
		req  func(t *testing.T) *http.Request
		body []byte // nil: discoverBody
		code string
		msg  string // a part of the message
	}{
		{"no Authorization header", func(t *testing.T) *http.Request {
			return onWire(t, clientRequest(t, "servicediscovery.us-east-1.amazonaws.com", "DiscoverInstances", discoverBody))
		}, nil, CodeMissingToken, "Missing Authentication Token"},
		{"malformed Authorization header", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "Signedheaders=", 1))
			return r
		}, nil, CodeIncomplete, "requires 'SignedHeaders'"},
		{"wrong secret", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, secret: "not-the-secret"})
		}, nil, CodeInvalidSignature, "does not match"},
		{"secret off by one character", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, secret: idA.SecretAccessKey[:len(idA.SecretAccessKey)-1] + "X"})
		}, nil, CodeInvalidSignature, "does not match"},
		{"another identity's secret", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, secret: idB.SecretAccessKey})
		}, nil, CodeInvalidSignature, "does not match"},
		{"unknown access key", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: Identity{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: idA.SecretAccessKey}})
		}, nil, CodeUnrecognizedClient, "security token included in the request is invalid"},
		{"access key of another case", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: Identity{AccessKeyID: strings.ToLower(idA.AccessKeyID), SecretAccessKey: idA.SecretAccessKey}})
		}, nil, CodeUnrecognizedClient, "invalid"},
		{"expired: signed 15 minutes and 1 second ago", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, at: testNow.Add(-MaxSkew - time.Second)})
		}, nil, CodeInvalidSignature, "Signature expired: 20260314T145425Z is now earlier than 20260314T145426Z (20260314T150926Z - 15 min.)"},
		{"expired: signed a day ago", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, at: testNow.Add(-24 * time.Hour)})
		}, nil, CodeInvalidSignature, "Signature expired"},
		{"future: signed 16 minutes ahead", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, at: testNow.Add(16 * time.Minute)})
		}, nil, CodeInvalidSignature, "Signature not yet current: 20260314T152526Z is still later than 20260314T152426Z (20260314T150926Z + 15 min.)"},
		{"expired and with a wrong secret: expiry is reported", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, secret: "wrong", at: testNow.Add(-time.Hour)})
		}, nil, CodeInvalidSignature, "Signature expired"},
		{"tampered body", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA})
		}, []byte(strings.Replace(discoverBody, "prod", "dev", 1)), CodeInvalidSignature, "does not match"},
		{"body with a byte appended", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA})
		}, []byte(discoverBody + " "), CodeInvalidSignature, "does not match"},
		{"empty body", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA})
		}, []byte{}, CodeInvalidSignature, "does not match"},
		{"X-Amz-Target changed after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("X-Amz-Target", "Route53AutoNaming_v20170314.DeleteNamespace")
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"Content-Type changed after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("Content-Type", "application/x-amz-json-1.0")
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"Host changed after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Host = "servicediscovery.us-east-1.amazonaws.com"
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"X-Amz-Date moved within the skew after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("X-Amz-Date", "20260314T150927Z")
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"signed header removed after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Del("Amz-Sdk-Invocation-Id")
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"signed header repeated after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Add("X-Amz-Target", "Route53AutoNaming_v20170314.DiscoverInstances")
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"query string added after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.URL.RawQuery = "x=1"
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"method changed after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Method = http.MethodPut
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"signature of another request", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			other := clientRequest(t, "data-servicediscovery.us-east-1.amazonaws.com", "ListNamespaces", "{}")
			sdkSign(t, other, "{}", signOpts{id: idA})
			r.Header.Set("Authorization", other.Header.Get("Authorization"))
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"signed for another service", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, service: "route53"})
		}, nil, CodeInvalidSignature, "Credential should be scoped to correct service: 'servicediscovery'"},
		{"signed for the data-plane name", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, service: "data-servicediscovery"})
		}, nil, CodeInvalidSignature, "scoped to correct service"},
		{"service name in another case", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, service: "ServiceDiscovery"})
		}, nil, CodeInvalidSignature, "scoped to correct service"},
		{"region with a colon", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, region: "us-east-1:x"})
		}, nil, CodeInvalidSignature, "Credential should be scoped to a valid region, not 'us-east-1:x'"},
		{"region in upper case", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, region: "US-EAST-1"})
		}, nil, CodeInvalidSignature, "valid region"},
		{"region with a space", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, region: "us east"})
		}, nil, CodeInvalidSignature, "valid region"},
		{"region too long", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idA, region: strings.Repeat("a", 33)})
		}, nil, CodeInvalidSignature, "valid region"},
		{"region changed in the scope after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/us-west-2/", 1))
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"scope date is not the X-Amz-Date day", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20260314/", "/20260313/", 1))
			return r
		}, nil, CodeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260313' != '20260314'"},
		{"host not among the signed headers", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
			return r
		}, nil, CodeIncomplete, "'Host' or ':authority' must be a 'SignedHeader'"},
		{"no X-Amz-Date nor Date", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Del("X-Amz-Date")
			return r
		}, nil, CodeIncomplete, "requires existence of either a 'X-Amz-Date' or a 'Date' header"},
		{"X-Amz-Date not in ISO 8601 basic format", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("X-Amz-Date", "2026-03-14T15:09:26Z")
			return r
		}, nil, CodeIncomplete, "ISO 8601 basic format"},
		{"Date header unparseable", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Del("X-Amz-Date")
			r.Header.Set("Date", "yesterday")
			return r
		}, nil, CodeIncomplete, "ISO 8601 basic format"},
		{"session token missing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idB})
			r.Header.Del("X-Amz-Security-Token")
			return r
		}, nil, CodeUnrecognizedClient, "security token included in the request is invalid"},
		{"session token not sent by the signer", func(t *testing.T) *http.Request {
			id := idB
			id.SessionToken = ""
			return signed(t, signOpts{id: id})
		}, nil, CodeUnrecognizedClient, "invalid"},
		{"wrong session token, correctly signed", func(t *testing.T) *http.Request {
			return signed(t, signOpts{id: idB, token: idB.SessionToken + "x"})
		}, nil, CodeUnrecognizedClient, "invalid"},
		{"session token replaced after signing", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idB, token: "stolen-token"})
			r.Header.Set("X-Amz-Security-Token", idB.SessionToken)
			return r
		}, nil, CodeInvalidSignature, "does not match"},
		{"X-Amz-Content-Sha256 of another body", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("X-Amz-Content-Sha256", payloadHash("{}"))
			return r
		}, nil, CodeInvalidSignature, "x-amz-content-sha256"},
		{"UNSIGNED-PAYLOAD is not accepted", func(t *testing.T) *http.Request {
			r := signed(t, signOpts{id: idA})
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			return r
		}, nil, CodeInvalidSignature, "x-amz-content-sha256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := body
			if tc.body != nil {
				b = tc.body
			}
			id, region, err := newVerifier().Verify(tc.req(t), b)
			if id != (Identity{}) || region != "" {
				t.Errorf("a refusal returned %+v, %q", id, region)
			}
			e := wantCode(t, err, tc.code)
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not say %q", e.Message, tc.msg)
			}
		})
	}
}

// A wrong secret gets the same message however close it was, and the
// message carries nothing computed from the secret.
func TestVerifyRevealsNothingOfTheSecret(t *testing.T) {
	v := newVerifier()
	var msgs []string
	for _, secret := range []string{"x", idA.SecretAccessKey + "x", idA.SecretAccessKey[:len(idA.SecretAccessKey)-1], strings.ToUpper(idA.SecretAccessKey)} {
		req := signed(t, signOpts{id: idA, secret: secret})
		_, _, err := v.Verify(req, []byte(discoverBody))
		e := wantCode(t, err, CodeInvalidSignature)
		msgs = append(msgs, e.Message)
		sent, _ := ParseAuthorization(req.Header.Get("Authorization"))
		// The signature the right secret gives.
		good := signed(t, signOpts{id: idA})
		want, _ := ParseAuthorization(good.Header.Get("Authorization"))
		for _, leak := range []string{idA.SecretAccessKey, secret, want.Signature, want.Signature[:8], sent.Signature[:8], "canonical", "StringToSign", payloadHash(discoverBody)[:8]} {
			if strings.Contains(strings.ToLower(e.Message), strings.ToLower(leak)) {
				t.Errorf("message %q contains %q", e.Message, leak)
			}
		}
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Errorf("messages differ with the secret: %q and %q", msgs[0], m)
		}
	}
	// An unknown key and a known key with a session token missing get the
	// same answer, so a caller can't tell which keys need a token.
	_, _, e1 := v.Verify(signed(t, signOpts{id: Identity{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "s"}}), []byte(discoverBody))
	r := signed(t, signOpts{id: idB})
	r.Header.Del("X-Amz-Security-Token")
	_, _, e2 := v.Verify(r, []byte(discoverBody))
	if e1.Error() != e2.Error() {
		t.Errorf("unknown key: %v; missing token: %v", e1, e2)
	}
}

// The data-plane host prefix: the SDK sends DiscoverInstances to
// "data-servicediscovery…" (or "data-" + a custom endpoint's host) and
// signs that Host; the signature covers whatever Host was sent.
func TestVerifyHostAsSent(t *testing.T) {
	v := newVerifier()
	for _, host := range []string{
		"data-servicediscovery.us-east-1.amazonaws.com",
		"servicediscovery.us-east-1.amazonaws.com",
		"data-127.0.0.1:9080",
		"127.0.0.1:9080",
		"[::1]:9080",
		"data-cairn.internal:443",
		"cairn.internal",
	} {
		t.Run(host, func(t *testing.T) {
			req := clientRequest(t, host, "DiscoverInstances", discoverBody)
			sdkSign(t, req, discoverBody, signOpts{id: idA})
			sreq := onWire(t, req)
			if _, _, err := v.Verify(sreq, []byte(discoverBody)); err != nil {
				t.Fatalf("Host %q: %v", sreq.Host, err)
			}
			// The same signature with the prefix added or removed fails.
			other := strings.TrimPrefix(sreq.Host, "data-")
			if other == sreq.Host {
				other = "data-" + other
			}
			sreq.Host = other
			_, _, err := v.Verify(sreq, []byte(discoverBody))
			wantCode(t, err, CodeInvalidSignature)
		})
	}
}

// A request with no X-Amz-Date can carry its time in the Date header.
func TestVerifyDateHeader(t *testing.T) {
	v := newVerifier()
	req := onWire(t, clientRequest(t, "servicediscovery.us-east-1.amazonaws.com", "ListNamespaces", "{}"))
	at := testNow.Add(-time.Minute)
	req.Header.Set("Date", at.Format(http.TimeFormat))
	signedHeaders := []string{"content-type", "date", "host", "x-amz-target"}
	cr := CanonicalRequest(req, signedHeaders, payloadHash("{}"))
	if !strings.Contains(cr, "\ndate:"+at.Format(http.TimeFormat)+"\n") {
		t.Fatalf("canonical request lacks the Date header:\n%s", cr)
	}
	scope := "20260314/us-east-1/servicediscovery/aws4_request"
	sts := "AWS4-HMAC-SHA256\n20260314T150826Z\n" + scope + "\n" + hashHex(cr)
	sig := hmacSHA256(DeriveKey(idA.SecretAccessKey, "20260314", "us-east-1", "servicediscovery"), sts)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+idA.AccessKeyID+"/"+scope+", SignedHeaders="+strings.Join(signedHeaders, ";")+", Signature="+hexString(sig))
	if _, _, err := v.Verify(req, []byte("{}")); err != nil {
		t.Fatalf("Verify with a Date header: %v", err)
	}
	// X-Amz-Date, when present, is the date that counts, so it must be
	// signed: an unsigned one added later is refused, even when it holds
	// the signed time.
	for _, d := range []string{"20260314T150826Z", "20260314T150827Z"} {
		req.Header.Set("X-Amz-Date", d)
		_, _, err := v.Verify(req, []byte("{}"))
		wantCode(t, err, CodeIncomplete)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// Verification is safe from many goroutines, and the key cache serves
// them all.
func TestVerifyConcurrent(t *testing.T) {
	v := newVerifier()
	reqs := map[string]*http.Request{}
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		for _, id := range []Identity{idA, idB} {
			reqs[region+id.AccessKeyID] = signed(t, signOpts{id: id, region: region})
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		for _, req := range reqs {
			wg.Go(func() {
				r := req.Clone(t.Context())
				for range 50 {
					if _, _, err := v.Verify(r, []byte(discoverBody)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	n := 0
	v.keys.Range(func(any, any) bool { n++; return true })
	if n != len(reqs) {
		t.Errorf("%d cached keys, want %d", n, len(reqs))
	}
}

// The key cache stays bounded when the regions or days keep changing.
func TestSigningKeyCacheBounded(t *testing.T) {
	v := newVerifier()
	for i := range 5000 {
		region := "r" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + itoa(i)
		k := v.signingKey(idA.SecretAccessKey, "20260314", region, "servicediscovery")
		if !bytes.Equal(k, DeriveKey(idA.SecretAccessKey, "20260314", region, "servicediscovery")) {
			t.Fatalf("cached key for %s differs from the derived one", region)
		}
	}
	n := 0
	v.keys.Range(func(any, any) bool { n++; return true })
	if n > 4097 {
		t.Errorf("%d keys cached", n)
	}
	// A cached key is the same as a fresh one.
	k1 := v.signingKey("s", "20260314", "us-east-1", "servicediscovery")
	k2 := v.signingKey("s", "20260314", "us-east-1", "servicediscovery")
	if !bytes.Equal(k1, k2) {
		t.Error("cached key differs")
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// A Verifier without a clock uses time.Now.
func TestVerifyRealClock(t *testing.T) {
	v := newVerifier()
	v.Now = nil
	if _, _, err := v.Verify(signed(t, signOpts{id: idA, at: time.Now()}), []byte(discoverBody)); err != nil {
		t.Fatal(err)
	}
	_, _, err := v.Verify(signed(t, signOpts{id: idA}), []byte(discoverBody)) // signed at testNow
	if time.Since(testNow).Abs() > MaxSkew {
		wantCode(t, err, CodeInvalidSignature)
	}
}

func TestCheckForm(t *testing.T) {
	v := newVerifier()
	// Any secret, any key: CheckForm does not verify the signature.
	a, err := v.CheckForm(signed(t, signOpts{id: Identity{AccessKeyID: "anything", SecretAccessKey: "whatever"}, region: "eu-central-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKeyID != "anything" || a.Region != "eu-central-1" || a.Service != "servicediscovery" {
		t.Errorf("CheckForm = %+v", a)
	}
	_, err = v.CheckForm(onWire(t, clientRequest(t, "h", "ListNamespaces", "{}")))
	wantCode(t, err, CodeIncomplete)
	_, err = v.CheckForm(signed(t, signOpts{id: idA, at: testNow.Add(-time.Hour)}))
	wantCode(t, err, CodeInvalidSignature)
	_, err = v.CheckForm(signed(t, signOpts{id: idA, service: "s3"}))
	wantCode(t, err, CodeInvalidSignature)
}

// Verify leaves the request as it was: the canonical form of the header
// values is computed, not written back.
func TestVerifyDoesNotChangeTheRequest(t *testing.T) {
	req := clientRequest(t, "cairn.test", "DiscoverInstances", discoverBody)
	req.Header.Add("X-Custom", "a   b")
	req.Header.Add("X-Custom", "  c  ")
	sdkSign(t, req, discoverBody, signOpts{id: idA})
	sreq := onWire(t, req)
	before := sreq.Header.Clone()
	if _, _, err := newVerifier().Verify(sreq, []byte(discoverBody)); err != nil {
		t.Fatal(err)
	}
	for k, vs := range before {
		if got := sreq.Header[k]; strings.Join(got, "\x00") != strings.Join(vs, "\x00") {
			t.Errorf("Verify changed %s from %q to %q", k, vs, got)
		}
	}
	// And two goroutines may verify one request (go test -race).
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, _, err := newVerifier().Verify(sreq, []byte(discoverBody)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
