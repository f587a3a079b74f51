// Package sigv4 verifies AWS Signature Version 4 on incoming requests, as
// AWS's JSON services do, and reads the identities allowed to sign.
//
// # Basics
//
// A Verifier checks a request's Authorization header (AWS4-HMAC-SHA256),
// its date (X-Amz-Date, or Date) against the clock with at most 15 minutes
// of skew, its credential scope (date, region, service "servicediscovery",
// "aws4_request"), that the signed headers include host, the payload hash,
// the session token where the identity has one, and finally the signature,
// compared in constant time. Derived signing keys are cached per key, day,
// region and service.
//
// Every refusal is an *Error whose Code is the AWS error shape:
// MissingAuthenticationTokenException, IncompleteSignatureException,
// InvalidSignatureException or UnrecognizedClientException. Messages never
// say how close a wrong signature was.
//
// # Caveats
//
// Only header-signed requests are accepted (AWS SDKs sign Cloud Map calls
// so); presigned query strings are not.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
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

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKeyID   string
	Date          string // YYYYMMDD of the credential scope
	Region        string
	Service       string
	Terminal      string // "aws4_request"
	SignedHeaders []string
	Signature     string
}

// Scope is the credential scope, date/region/service/aws4_request.
func (a *Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + a.Terminal
}

// ParseAuthorization parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…". It checks form only, not the signature.
func ParseAuthorization(h string) (*Authorization, error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != Algorithm {
		if strings.HasPrefix(h, "AWS4-") || strings.HasPrefix(h, "AWS ") {
			return nil, incomplete("Authorization header uses an unsupported algorithm; use %s", Algorithm)
		}
		return nil, incomplete("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=%.40s", h)
	}
	a := &Authorization{}
	var haveCred, haveSigned, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[0] == "" {
				return nil, incomplete("Authorization header has a malformed Credential %q; it must be <access-key>/<date>/<region>/<service>/aws4_request", clip(v))
			}
			a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminal = f[0], f[1], f[2], f[3], f[4]
			haveCred = true
		case "SignedHeaders":
			if v == "" {
				return nil, incomplete("Authorization header has an empty SignedHeaders parameter")
			}
			a.SignedHeaders = strings.Split(v, ";")
			haveSigned = true
		case "Signature":
			if len(v) != 64 {
				return nil, incomplete("Authorization header has a malformed Signature; it must be 64 hexadecimal characters")
			}
			if _, err := hex.DecodeString(v); err != nil {
				return nil, incomplete("Authorization header has a malformed Signature; it must be 64 hexadecimal characters")
			}
			a.Signature = strings.ToLower(v)
			haveSig = true
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return nil, incomplete("%s", strings.Join(missing, " "))
	}
	if len(a.Date) != 8 || !digits(a.Date) {
		return nil, incomplete("Credential date %q is not YYYYMMDD", clip(a.Date))
	}
	if a.Terminal != "aws4_request" {
		return nil, incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not %q", clip(a.Terminal))
	}
	if a.Region == "" || a.Service == "" {
		return nil, incomplete("Credential has an empty region or service")
	}
	return a, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
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
}

// Verifier checks request signatures.
type Verifier struct {
	// Service is the signing name requests must be scoped to.
	Service string
	// Lookup finds the identity of an access key.
	Lookup func(accessKeyID string) (Identity, bool)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

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
	a, err := ParseAuthorization(h)
	if err != nil {
		return Identity{}, "", err
	}
	if err := v.checkRequest(req, a); err != nil {
		return Identity{}, "", err
	}
	id, ok := v.Lookup(a.AccessKeyID)
	if !ok {
		return Identity{}, "", &Error{Code: CodeUnrecognizedClient, Message: "The security token included in the request is invalid."}
	}
	if id.SessionToken != "" && subtle.ConstantTimeCompare([]byte(id.SessionToken), []byte(req.Header.Get("X-Amz-Security-Token"))) != 1 {
		return Identity{}, "", &Error{Code: CodeUnrecognizedClient, Message: "The security token included in the request is invalid."}
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if claimed := req.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != payloadHash {
		return Identity{}, "", &Error{Code: CodeInvalidSignature, Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	amzDate := requestDate(req)
	sts := Algorithm + "\n" + amzDate + "\n" + a.Scope() + "\n" + hashHex(CanonicalRequest(req, a.SignedHeaders, payloadHash))
	mac := hmac.New(sha256.New, v.signingKey(id.SecretAccessKey, a.Date, a.Region, a.Service))
	mac.Write([]byte(sts))
	want := hex.EncodeToString(mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.Signature)) != 1 {
		return Identity{}, "", &Error{Code: CodeInvalidSignature, Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return id, a.Region, nil
}

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
	signed := map[string]bool{}
	for _, h := range a.SignedHeaders {
		signed[h] = true
	}
	if !signed["host"] {
		return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	amzDate := requestDate(req)
	if amzDate == "" {
		return incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%.40s", req.Header.Get("Authorization"))
	}
	t, err := time.Parse(amzDateFormat, amzDate)
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

// signingKey derives (or takes from the cache) the key for one secret,
// day, region and service.
func (v *Verifier) signingKey(secret, date, region, service string) []byte {
	ck := cacheKey{secret, date, region, service}
	if k, ok := v.keys.Load(ck); ok {
		return k.([]byte)
	}
	k := DeriveKey(secret, date, region, service)
	v.mu.Lock()
	if v.size > 4096 { // bound the cache: days and regions come and go
		v.keys.Clear()
		v.size = 0
	}
	v.size++
	v.mu.Unlock()
	v.keys.Store(ck, k)
	return k
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

// CanonicalRequest builds SigV4's canonical request of req over the named
// signed headers.
func CanonicalRequest(req *http.Request, signedHeaders []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(req.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(req.URL))
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(req, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func headerValue(req *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{req.Host}
	case "content-length":
		if req.ContentLength >= 0 && req.Header.Get("Content-Length") == "" {
			values = []string{fmt.Sprint(req.ContentLength)}
		} else {
			values = req.Header.Values(name)
		}
	default:
		values = req.Header.Values(name)
	}
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
}

func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		un, err := url.PathUnescape(s)
		if err != nil {
			un = s
		}
		segs[i] = escape(un)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(u *url.URL) string {
	q := u.Query()
	if len(q) == 0 {
		return ""
	}
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// escape is SigV4's URI encoding: every byte but A–Z a–z 0–9 - _ . ~ is
// percent-encoded in upper-case hex.
func escape(s string) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&0xf])
	}
	return b.String()
}
