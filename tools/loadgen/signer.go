package loadgen

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"time"
)

// Credentials are what the tool signs with.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // optional; sent as X-Amz-Security-Token and signed
}

// ContentType is the content type of every Cloud Map request.
const ContentType = "application/x-amz-json-1.1"

// SigningName is the SigV4 service name of Cloud Map.
const SigningName = "servicediscovery"

const amzDateFormat = "20060102T150405Z"

// Signer signs Cloud Map requests (POST / with a JSON body) with SigV4,
// the way the AWS SDKs sign them: headers content-type, host, x-amz-date,
// x-amz-security-token (with a session token) and x-amz-target.
//
// It does the least work per request: the canonical request's constant
// parts are built once, the signing key is derived once per day, the
// date is formatted once per second, and the canonical request, the
// string to sign and the signature are built in buffers it reuses. One
// request costs two SHA-256 over a few hundred bytes (the canonical
// request; the payload hash is the caller's, often precomputed), one
// HMAC, and the one allocation of the Authorization string.
//
// A Signer is not safe for concurrent use: give each client goroutine its
// own.
type Signer struct {
	creds  Credentials
	region string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	crHead   []byte // "POST\n/\n\ncontent-type:…\nhost:…\nx-amz-date:"
	crMid    []byte // "\n" [+ "x-amz-security-token:…\n"] + "x-amz-target:"
	crTail   []byte // "\n\n" + signed headers + "\n"
	scopeEnd string // "/region/servicediscovery/aws4_request"
	authHead string // "AWS4-HMAC-SHA256 Credential=AKID/"
	authMid  string // scopeEnd + ", SignedHeaders=…, Signature="

	sec     int64 // unix second amzDate was formatted for
	amzDate string
	day     string    // YYYYMMDD the key was derived for
	mac     hash.Hash // HMAC-SHA256 keyed with the day's signing key
	cr      []byte
	sts     []byte
	sig     [32]byte
	auth    []byte
}

// NewSigner returns a Signer for requests to host (the Host header, as in
// the URL: "127.0.0.1:9080") in region.
func NewSigner(creds Credentials, region, host string) *Signer {
	s := &Signer{creds: creds, region: region}
	signed := "content-type;host;x-amz-date;x-amz-target"
	mid := "\n"
	if creds.SessionToken != "" {
		signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
		mid = "\nx-amz-security-token:" + trimAll(creds.SessionToken) + "\n"
	}
	s.crHead = []byte("POST\n/\n\ncontent-type:" + ContentType + "\nhost:" + trimAll(host) + "\nx-amz-date:")
	s.crMid = []byte(mid + "x-amz-target:")
	s.crTail = []byte("\n\n" + signed + "\n")
	s.scopeEnd = "/" + region + "/" + SigningName + "/aws4_request"
	s.authHead = "AWS4-HMAC-SHA256 Credential=" + creds.AccessKeyID + "/"
	s.authMid = s.scopeEnd + ", SignedHeaders=" + signed + ", Signature="
	return s
}

// PayloadHash is the hex SHA-256 of a body, as the canonical request
// carries it. Compute it once for a body sent many times.
func PayloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Sign returns the X-Amz-Date and Authorization header values of a
// request with X-Amz-Target target whose body hashes to payloadHash (see
// PayloadHash). The date string is shared between calls in the same
// second.
func (s *Signer) Sign(target, payloadHash string) (amzDate, authorization string) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()
	if sec := t.Unix(); sec != s.sec || s.amzDate == "" {
		s.sec = sec
		s.amzDate = t.Format(amzDateFormat)
	}
	date := s.amzDate
	day := date[:8]
	if day != s.day || s.mac == nil {
		s.day = day
		s.mac = hmac.New(sha256.New, DeriveKey(s.creds.SecretAccessKey, day, s.region, SigningName))
	}

	cr := append(s.cr[:0], s.crHead...)
	cr = append(cr, date...)
	cr = append(cr, s.crMid...)
	cr = append(cr, target...)
	cr = append(cr, s.crTail...)
	cr = append(cr, payloadHash...)
	s.cr = cr
	crSum := sha256.Sum256(cr)

	sts := append(s.sts[:0], "AWS4-HMAC-SHA256\n"...)
	sts = append(sts, date...)
	sts = append(sts, '\n')
	sts = append(sts, day...)
	sts = append(sts, s.scopeEnd...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crSum[:])
	s.sts = sts

	s.mac.Reset()
	s.mac.Write(sts)
	sig := s.mac.Sum(s.sig[:0])

	auth := append(s.auth[:0], s.authHead...)
	auth = append(auth, day...)
	auth = append(auth, s.authMid...)
	auth = hex.AppendEncode(auth, sig)
	s.auth = auth
	return date, string(auth)
}

// SessionToken is the token to send as X-Amz-Security-Token, if any.
func (s *Signer) SessionToken() string { return s.creds.SessionToken }

// DeriveKey computes SigV4's signing key for a secret, day (YYYYMMDD),
// region and service.
func DeriveKey(secret, day, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// trimAll is SigV4's Trimall for a header value: outer spaces removed and
// inner runs of spaces made one.
func trimAll(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && (len(b) == 0 || b[len(b)-1] == ' ') {
			continue
		}
		b = append(b, v[i])
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b)
}
