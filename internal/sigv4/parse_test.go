package sigv4

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	goodSig  = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	goodCred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
	goodHdrs = "SignedHeaders=host;x-amz-date"
)

// sdkHeader is an Authorization header exactly as the AWS SDK for Go v2
// writes it.
const sdkHeader = "AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig

func TestParseAuthorization(t *testing.T) {
	want := &Authorization{AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "service",
		Terminal: "aws4_request", SignedHeaders: []string{"host", "x-amz-date"}, Signature: goodSig}
	good := []struct {
		name, h string
		want    *Authorization
	}{
		{"as the SDK writes it", sdkHeader, want},
		{"no spaces after commas", "AWS4-HMAC-SHA256 " + goodCred + "," + goodHdrs + ",Signature=" + goodSig, want},
		{"parameters in another order", "AWS4-HMAC-SHA256 Signature=" + goodSig + ", " + goodHdrs + ", " + goodCred, want},
		{"surrounding white space", "  " + sdkHeader + " \t", want},
		{"upper-case signature is lower-cased", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + strings.ToUpper(goodSig), want},
		{"unknown parameters are ignored", sdkHeader + ", Extra=1, junk", want},
		{"many signed headers", "AWS4-HMAC-SHA256 Credential=AKIA/20260314/eu-west-3/servicediscovery/aws4_request, " +
			"SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=" + goodSig,
			&Authorization{AccessKeyID: "AKIA", Date: "20260314", Region: "eu-west-3", Service: "servicediscovery", Terminal: "aws4_request",
				SignedHeaders: []string{"amz-sdk-invocation-id", "amz-sdk-request", "content-length", "content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"},
				Signature:     goodSig}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthorization(tc.h)
			if err != nil {
				t.Fatalf("ParseAuthorization: %v", err)
			}
			// SignedHeaders may be kept in the parsed value's own array:
			// compared as a list.
			g := *got
			g.SignedHeaders, g.signed = slices.Clone(g.SignedHeaders), [8]string{}
			if !reflect.DeepEqual(&g, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
			if s := got.Scope(); s != got.Date+"/"+got.Region+"/"+got.Service+"/aws4_request" {
				t.Errorf("Scope() = %q", s)
			}
		})
	}

	bad := []struct {
		name, h, msg string // msg: a part of the message
	}{
		{"empty", "", "requires 'Credential'"},
		{"no parameters", "AWS4-HMAC-SHA256", "requires 'Credential'"},
		{"not SigV4 at all", "Bearer abc.def", "requires 'Credential'"},
		{"SigV2", "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "unsupported algorithm"},
		{"SigV4a", "AWS4-ECDSA-P256-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig, "unsupported algorithm"},
		{"algorithm in lower case", "aws4-hmac-sha256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig, "requires 'Credential'"},
		{"missing Credential", "AWS4-HMAC-SHA256 " + goodHdrs + ", Signature=" + goodSig, "requires 'Credential' parameter"},
		{"missing Signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs, "requires 'Signature' parameter"},
		{"missing SignedHeaders", "AWS4-HMAC-SHA256 " + goodCred + ", Signature=" + goodSig, "requires 'SignedHeaders' parameter"},
		{"parameter names are case-sensitive", "AWS4-HMAC-SHA256 credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " + goodHdrs + ", Signature=" + goodSig, "requires 'Credential'"},
		{"empty SignedHeaders", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=, Signature=" + goodSig, "empty SignedHeaders"},
		{"credential of four parts", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, " + goodHdrs + ", Signature=" + goodSig, "malformed Credential"},
		{"credential of six parts", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request/x, " + goodHdrs + ", Signature=" + goodSig, "malformed Credential"},
		{"credential without access key", "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, " + goodHdrs + ", Signature=" + goodSig, "malformed Credential"},
		{"empty credential", "AWS4-HMAC-SHA256 Credential=, " + goodHdrs + ", Signature=" + goodSig, "malformed Credential"},
		{"date with dashes", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015-08-30/us-east-1/service/aws4_request, " + goodHdrs + ", Signature=" + goodSig, "not YYYYMMDD"},
		{"date too short", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/service/aws4_request, " + goodHdrs + ", Signature=" + goodSig, "not YYYYMMDD"},
		{"date and time", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830T123600Z/us-east-1/service/aws4_request, " + goodHdrs + ", Signature=" + goodSig, "not YYYYMMDD"},
		{"wrong terminator", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_requestx, " + goodHdrs + ", Signature=" + goodSig, "terminator"},
		{"SigV4a terminator", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4a_request, " + goodHdrs + ", Signature=" + goodSig, "terminator"},
		{"empty region", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830//service/aws4_request, " + goodHdrs + ", Signature=" + goodSig, "empty region or service"},
		{"empty service", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1//aws4_request, " + goodHdrs + ", Signature=" + goodSig, "empty region or service"},
		{"short signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig[:63], "malformed Signature"},
		{"long signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig + "0", "malformed Signature"},
		{"non-hex signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=" + goodSig[:63] + "g", "malformed Signature"},
		{"empty signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=", "malformed Signature"},
		{"base64 signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodHdrs + ", Signature=X6AP+hVTtz6/GUJnbobCkeg3L/oqIglW2bmq4ddj+/MxAAAAAAAAAAAAAAAAAAAA", "malformed Signature"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseAuthorization(tc.h)
			if a != nil {
				t.Errorf("got %+v with the error", a)
			}
			e := wantCode(t, err, CodeIncomplete)
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not say %q", e.Message, tc.msg)
			}
		})
	}
}

// A long header is quoted in messages only in part.
func TestParseAuthorizationClipsMessages(t *testing.T) {
	long := strings.Repeat("x", 10000)
	for _, h := range []string{
		"Bearer " + long,
		"AWS4-HMAC-SHA256 Credential=" + long + ", " + goodHdrs + ", Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/" + long + ", " + goodHdrs + ", Signature=" + goodSig,
	} {
		_, err := ParseAuthorization(h)
		e := wantCode(t, err, CodeIncomplete)
		if len(e.Message) > 400 {
			t.Errorf("message of %d bytes for a header of %d: %.100s…", len(e.Message), len(h), e.Message)
		}
	}
}

// parseAmzDate answers what time.Parse answers with amzDateFormat.
func TestParseAmzDate(t *testing.T) {
	for _, s := range amzDateSeeds {
		checkAmzDate(t, s)
	}
}

var amzDateSeeds = []string{"20150830T123600Z", "20240229T235959Z", "20230229T000000Z", "20231301T000000Z", "20230001T000000Z",
	"20230100T000000Z", "20230131T240000Z", "20230131T236000Z", "20230131T235960Z", "00000101T000000Z", "99991231T235959Z",
	"20150830T123600.5Z", "20150830t123600Z", "20150830T123600z", "2015083OT123600Z", "+0150830T123600Z", "", "20150830T12360Z",
	"20150830T1236000", "20230431T000000Z", "2015-08-30T12:36:00Z"}

func checkAmzDate(t *testing.T, s string) {
	t.Helper()
	got, gotErr := parseAmzDate(s)
	want, wantErr := time.Parse(amzDateFormat, s)
	if (gotErr == nil) != (wantErr == nil) || !got.Equal(want) || got.Location() != want.Location() {
		t.Errorf("parseAmzDate(%q) = %v, %v; time.Parse: %v, %v", s, got, gotErr, want, wantErr)
	}
	if gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Errorf("parseAmzDate(%q) error %q, time.Parse's %q", s, gotErr, wantErr)
	}
}

func FuzzParseAmzDate(f *testing.F) {
	for _, s := range amzDateSeeds {
		f.Add(s)
	}
	f.Fuzz(checkAmzDate)
}
