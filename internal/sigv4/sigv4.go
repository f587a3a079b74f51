// Package sigv4 verifies AWS Signature Version 4 on incoming requests, as
// AWS's JSON services do, and reads the identities allowed to sign. Its
// Signer is the client side, for cairn's own tools and tests.
//
// # Basics
//
// A Verifier checks a request's Authorization header (AWS4-HMAC-SHA256),
// its date (X-Amz-Date, or Date) against the clock with at most 15 minutes
// of skew, its credential scope (date, region, service "servicediscovery",
// "aws4_request"; the region one of AWS's, or of a list given), that the
// signed headers include host, the date header, X-Amz-Target and, when
// sent, X-Amz-Security-Token (as AWS's SDKs sign them), the payload hash,
// the session token where the identity has one, and finally the signature,
// compared in constant time. Derived signing keys are cached per key, day,
// region and service.
//
// Every refusal is an *Error whose Code is the AWS error shape:
// MissingAuthenticationTokenException, IncompleteSignatureException,
// InvalidSignatureException or UnrecognizedClientException. Messages never
// say how close a wrong signature was.
//
// CheckHeaders checks all of that but the payload and the signature, so that
// a server can refuse a request before reading its body.
//
// A Signer signs AWS JSON 1.1 requests as the AWS SDKs do, with the least
// work a request (the signing key derived once a day, buffers reused):
// the load harness (tools/loadgen) signs every request it sends with one.
//
// The region names come from botocore's endpoints data (regions_gen.go,
// written by tools/regionsgen).
//
// # Caveats
//
// Only header-signed requests are accepted (AWS SDKs sign Cloud Map calls
// so); presigned query strings are not.
package sigv4

//go:generate sh -c "go run ../../tools/regionsgen -out regions_gen.go -endpoints $(python3 -c 'import botocore,os;print(os.path.dirname(botocore.__file__))')/data/endpoints.json"

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/policy"

	"github.com/cairn-dev/cairn/internal/awsid"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far a request's date may be from the server's clock.
const MaxSkew = 15 * time.Minute

const amzDateFormat = "20060102T150405Z"

// Error is a refusal, with the AWS error shape that names it.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The AWS error shapes of refusals.
const (
	CodeMissingToken       = "MissingAuthenticationTokenException"
	CodeIncomplete         = "IncompleteSignatureException"
	CodeInvalidSignature   = "InvalidSignatureException"
	CodeUnrecognizedClient = "UnrecognizedClientException"
)

func incomplete(format string, args ...any) *Error {
	return &Error{Code: CodeIncomplete, Message: fmt.Sprintf(format, args...)}
}

// Identity is one key allowed to sign.
type Identity struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must be sent as X-Amz-Security-Token.
	SessionToken string
	// AccountID is the 12-digit account the identity acts as.
	AccountID string
	// Profile is the credentials-file section it came from.
	Profile string
	// PolicyFile is the profile's policy_file as written (relative to
	// the credentials file), or empty: then the identity may do
	// everything in its account.
	PolicyFile string
	// Policy is the compiled policy file; nil means full access.
	Policy *policy.Policy
}

// Verifier checks request signatures.
type Verifier struct {
	// Service is the signing name requests must be scoped to.
	Service string
	// Lookup finds the identity of an access key.
	Lookup func(accessKeyID string) (Identity, bool)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Regions are the region names a credential scope may name; nil
	// means the regions of the AWS partitions cairn serves (AWSRegions).
	Regions []string

	keys sync.Map // cacheKey → []byte
	size int64
	mu   sync.Mutex
}

type cacheKey struct{ secret, date, region, service string }

// Verify checks req (whose body is body) and returns the identity and the
// region of its credential scope.
func (v *Verifier) Verify(req *http.Request, body []byte) (Identity, string, error) {
	h := req.Header.Get("Authorization")
	if h == "" {
		return Identity{}, "", &Error{Code: CodeMissingToken, Message: "Missing Authentication Token"}
	}
	a, id, err := v.checkHeaders(req, h)
	if err != nil {
		return Identity{}, "", err
	}
	return v.verifySignature(req, a, id, body)
}

// verifySignature checks the payload hash and the signature of a request
// whose headers checkHeaders accepted as a and id.
func (v *Verifier) verifySignature(req *http.Request, a *Authorization, id Identity, body []byte) (Identity, string, error) {
	var payloadHash [64]byte
	sum := sha256.Sum256(body)
	hex.Encode(payloadHash[:], sum[:])
	if claimed := req.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != string(payloadHash[:]) {
		return Identity{}, "", &Error{Code: CodeInvalidSignature, Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := appendCanonical((*bp)[:0], req, a.SignedHeaders, payloadHash[:])
	crHash := sha256.Sum256(buf)
	// The string to sign, in the same buffer.
	buf = append(buf[:0], Algorithm...)
	buf = append(buf, '\n')
	buf = append(buf, requestDate(req)...)
	buf = append(buf, '\n')
	buf = append(buf, a.Date...)
	buf = append(buf, '/')
	buf = append(buf, a.Region...)
	buf = append(buf, '/')
	buf = append(buf, a.Service...)
	buf = append(buf, '/')
	buf = append(buf, a.Terminal...)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, crHash[:])
	want := v.sign(id.SecretAccessKey, a, buf)
	*bp = buf
	var got [sha256.Size]byte
	for i := range got {
		// a.Signature is 64 hexadecimal digits (ParseAuthorization).
		got[i] = byte(hexValue(a.Signature[2*i])<<4 | hexValue(a.Signature[2*i+1]))
	}
	if !hmac.Equal(want, got[:]) {
		return Identity{}, "", &Error{Code: CodeInvalidSignature, Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return id, a.Region, nil
}

// CheckHeaders checks everything about a request that its headers decide,
// before its body is read: the Authorization header's form, the date and
// its skew, the scope, the signed headers, the access key and the session
// token. Verify checks all of it again, and then the signature.
func (v *Verifier) CheckHeaders(req *http.Request) error {
	h := req.Header.Get("Authorization")
	if h == "" {
		return &Error{Code: CodeMissingToken, Message: "Missing Authentication Token"}
	}
	_, _, err := v.checkHeaders(req, h)
	return err
}

func (v *Verifier) checkHeaders(req *http.Request, h string) (*Authorization, Identity, error) {
	a, err := ParseAuthorization(h)
	if err != nil {
		return nil, Identity{}, err
	}
	if err := v.checkRequest(req, a); err != nil {
		return nil, Identity{}, err
	}
	if err := checkSigned(req, a); err != nil {
		return nil, Identity{}, err
	}
	id, ok := v.Lookup(a.AccessKeyID)
	if !ok {
		return nil, Identity{}, &Error{Code: CodeUnrecognizedClient, Message: "The security token included in the request is invalid."}
	}
	if id.SessionToken != "" && subtle.ConstantTimeCompare([]byte(id.SessionToken), []byte(req.Header.Get("X-Amz-Security-Token"))) != 1 {
		return nil, Identity{}, &Error{Code: CodeUnrecognizedClient, Message: "The security token included in the request is invalid."}
	}
	return a, id, nil
}

// checkSigned requires the headers that decide what a request does and
// when it was made to be covered by its signature, as AWS's SDKs sign
// them: the date (X-Amz-Date, or Date when it comes from there), the
// operation (X-Amz-Target) and, when sent, the session token. Otherwise a
// captured request could be replayed as another operation.
func checkSigned(req *http.Request, a *Authorization) error {
	need := func(canonical, lower string) error {
		if !slices.Contains(a.SignedHeaders, lower) {
			return incomplete("'%s' must be a 'SignedHeader' in the AWS Authorization.", canonical)
		}
		return nil
	}
	if req.Header.Get("X-Amz-Date") != "" {
		if err := need("X-Amz-Date", "x-amz-date"); err != nil {
			return err
		}
	} else if err := need("Date", "date"); err != nil {
		return err
	}
	if _, ok := req.Header["X-Amz-Target"]; ok {
		if err := need("X-Amz-Target", "x-amz-target"); err != nil {
			return err
		}
	}
	if _, ok := req.Header["X-Amz-Security-Token"]; ok {
		if err := need("X-Amz-Security-Token", "x-amz-security-token"); err != nil {
			return err
		}
	}
	return nil
}

// AWSRegions returns the region names of the AWS partitions cairn serves
// (aws, aws-cn and aws-us-gov), as botocore's endpoints data lists them.
func AWSRegions() []string { return awsRegions() }

// regionAllowed reports whether a credential scope may name region.
func (v *Verifier) regionAllowed(region string) bool {
	if v.Regions == nil {
		return awsPartition(region) != ""
	}
	return slices.Contains(v.Regions, region)
}

// bufPool holds the buffers canonical requests are built in.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// CheckForm checks everything about a signed request that does not need
// the secret: the header's form, the date and its skew, the scope and the
// signed headers. It is what development mode checks.
func (v *Verifier) CheckForm(req *http.Request) (*Authorization, error) {
	a, err := ParseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	return a, v.checkRequest(req, a)
}

func (v *Verifier) checkRequest(req *http.Request, a *Authorization) error {
	if a.Service != v.Service {
		return &Error{Code: CodeInvalidSignature, Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", v.Service)}
	}
	if !awsid.IsRegion(a.Region) || !v.regionAllowed(a.Region) {
		return &Error{Code: CodeInvalidSignature, Message: fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", clip(a.Region))}
	}
	if !slices.Contains(a.SignedHeaders, "host") {
		return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	amzDate := requestDate(req)
	if amzDate == "" {
		return incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%.40s", req.Header.Get("Authorization"))
	}
	t, err := parseAmzDate(amzDate)
	if err != nil {
		return incomplete("Date %q must be in ISO 8601 basic format, such as 20150830T123600Z", clip(amzDate))
	}
	if amzDate[:8] != a.Date {
		return &Error{Code: CodeInvalidSignature, Message: fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'", a.Date, amzDate[:8])}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC()
	if t.Before(n.Add(-MaxSkew)) {
		return &Error{Code: CodeInvalidSignature, Message: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, n.Add(-MaxSkew).Format(amzDateFormat), n.Format(amzDateFormat))}
	}
	if t.After(n.Add(MaxSkew)) {
		return &Error{Code: CodeInvalidSignature, Message: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, n.Add(MaxSkew).Format(amzDateFormat), n.Format(amzDateFormat))}
	}
	return nil
}

// parseAmzDate is time.Parse(amzDateFormat, s), without the general
// layout interpreter for the 16 digits and letters SDKs send: every
// request's date is parsed. Anything else (fractional seconds, which
// time.Parse accepts, and every error) is left to time.Parse.
func parseAmzDate(s string) (time.Time, error) {
	if len(s) != len(amzDateFormat) || s[8] != 'T' || s[15] != 'Z' {
		return time.Parse(amzDateFormat, s)
	}
	num := func(i, j int) int {
		n := 0
		for ; i < j; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(4, 6), num(6, 8)
	hour, minute, sec := num(9, 11), num(11, 13), num(13, 15)
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if year < 0 || month < 1 || month > 12 || day < 1 || t.Day() != day || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Parse(amzDateFormat, s) // its error
	}
	return t, nil
}

// requestDate is X-Amz-Date, or the Date header converted to its format.
func requestDate(req *http.Request) string {
	if d := req.Header.Get("X-Amz-Date"); d != "" {
		return d
	}
	if d := req.Header.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			return t.UTC().Format(amzDateFormat)
		}
		return d
	}
	return ""
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// signingKey is a derived key and a pool of HMACs keyed with it.
type signingKey struct {
	key  []byte
	macs sync.Pool
}

// sign returns the HMAC of the string to sign sts with the signing key
// for the secret and the request's scope, derived once per key, day,
// region and service. The HMAC is appended to sts, in its spare
// capacity when it has some (an array would escape into the hash's Sum).
func (v *Verifier) sign(secret string, a *Authorization, sts []byte) []byte {
	sk := v.keyFor(secret, a.Date, a.Region, a.Service)
	mac := sk.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(sts)
	out := mac.Sum(sts)[len(sts):]
	sk.macs.Put(mac)
	return out
}

// signingKey returns the signing key for one secret, day, region and
// service.
func (v *Verifier) signingKey(secret, date, region, service string) []byte {
	return v.keyFor(secret, date, region, service).key
}

func (v *Verifier) keyFor(secret, date, region, service string) *signingKey {
	ck := cacheKey{secret, date, region, service}
	if k, ok := v.keys.Load(ck); ok {
		return k.(*signingKey)
	}
	sk := &signingKey{key: DeriveKey(secret, date, region, service)}
	key := sk.key
	sk.macs.New = func() any { return hmac.New(sha256.New, key) }
	v.mu.Lock()
	if v.size > 4096 { // bound the cache: days and regions come and go
		v.keys.Clear()
		v.size = 0
	}
	v.size++
	v.mu.Unlock()
	v.keys.Store(ck, sk)
	return sk
}

// DeriveKey computes SigV4's signing key.
func DeriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// PrincipalARN is the ARN cairn gives a credentials-file profile: an IAM
// user named after the profile, in the profile's account.
func (id *Identity) PrincipalARN() string {
	return "arn:aws:iam::" + id.AccountID + ":user/" + id.Profile
}

// Caller is who makes req as id, for the global condition keys of its
// policy evaluations: the profile, account and principal ARN, the region
// the request is signed for, the client's address and whether it came
// over TLS.
func (id *Identity) Caller(region string, req *http.Request) policy.Caller {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	return policy.Caller{Profile: id.Profile, Account: id.AccountID, ARN: id.PrincipalARN(), Region: region,
		SourceIP: host, Secure: req.TLS != nil, Now: time.Now()}
}
