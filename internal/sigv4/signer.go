package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"time"
)

// JSONContentType is the content type of AWS JSON 1.1 protocol requests,
// the only requests a Signer signs.
const JSONContentType = "application/x-amz-json-1.1"

// AccessKey is what a Signer signs with.
type AccessKey struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, is sent as X-Amz-Security-Token and signed.
	SessionToken string
}

// Signer signs AWS JSON 1.1 requests (POST / with a JSON body) with SigV4,
// the way the AWS SDKs sign them: headers content-type, host, x-amz-date,
// x-amz-security-token (with a session token) and x-amz-target. It is the
// client side of Verifier; cairn's load harness and tests sign with it.
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
	key     AccessKey
	region  string
	service string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	crHead   []byte // "POST\n/\n\ncontent-type:…\nhost:…\nx-amz-date:"
	crMid    []byte // "\n" [+ "x-amz-security-token:…\n"] + "x-amz-target:"
	crTail   []byte // "\n\n" + signed headers + "\n"
	scopeEnd string // "/region/service/aws4_request"
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

// NewSigner returns a Signer for requests to service (its signing name,
// such as "servicediscovery") in region, sent to host (the Host header,
// as in the URL: "127.0.0.1:9080").
func NewSigner(key AccessKey, service, region, host string) *Signer {
	s := &Signer{key: key, region: region, service: service}
	signed := "content-type;host;x-amz-date;x-amz-target"
	mid := "\n"
	if key.SessionToken != "" {
		signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
		mid = "\nx-amz-security-token:" + trimAll(key.SessionToken) + "\n"
	}
	s.crHead = []byte("POST\n/\n\ncontent-type:" + JSONContentType + "\nhost:" + trimAll(host) + "\nx-amz-date:")
	s.crMid = []byte(mid + "x-amz-target:")
	s.crTail = []byte("\n\n" + signed + "\n")
	s.scopeEnd = "/" + region + "/" + service + "/aws4_request"
	s.authHead = Algorithm + " Credential=" + key.AccessKeyID + "/"
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
		s.mac = hmac.New(sha256.New, DeriveKey(s.key.SecretAccessKey, day, s.region, s.service))
	}

	cr := append(s.cr[:0], s.crHead...)
	cr = append(cr, date...)
	cr = append(cr, s.crMid...)
	cr = append(cr, target...)
	cr = append(cr, s.crTail...)
	cr = append(cr, payloadHash...)
	s.cr = cr
	crSum := sha256.Sum256(cr)

	sts := append(s.sts[:0], Algorithm+"\n"...)
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
func (s *Signer) SessionToken() string { return s.key.SessionToken }
