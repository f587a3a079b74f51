package sigv4

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// CanonicalRequest builds SigV4's canonical request of req over the named
// signed headers.
func CanonicalRequest(req *http.Request, signedHeaders []string, payloadHash string) string {
	return string(appendCanonical(nil, req, signedHeaders, []byte(payloadHash)))
}

func appendCanonical(b []byte, req *http.Request, signedHeaders []string, payloadHash []byte) []byte {
	b = append(b, req.Method...)
	b = append(b, '\n')
	b = append(b, canonicalURI(req.URL)...)
	b = append(b, '\n')
	if req.URL.RawQuery != "" {
		b = append(b, canonicalQuery(req.URL)...)
	}
	b = append(b, '\n')
	for _, name := range signedHeaders {
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValue(b, req, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range signedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	return append(b, payloadHash...)
}

// appendHeaderValue appends the canonical value of the header name: its
// values trimmed and joined with commas. It must not change the request's
// own values.
func appendHeaderValue(b []byte, req *http.Request, name string) []byte {
	switch name {
	case "host":
		return append(b, trimAll(req.Host)...)
	case "content-length":
		if req.ContentLength >= 0 && req.Header.Get("Content-Length") == "" {
			return strconv.AppendInt(b, req.ContentLength, 10)
		}
	}
	for i, v := range headerValues(req.Header, name) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, trimAll(v)...)
	}
	return b
}

// headerValues finds a header by its lower-case name without building the
// canonical key, which would allocate: the headers SDKs sign are looked up
// by their canonical keys, others (or ones stored under another key) by a
// scan of the header.
func headerValues(h http.Header, lower string) []string {
	var canonical string
	switch lower {
	case "x-amz-date":
		canonical = "X-Amz-Date"
	case "x-amz-target":
		canonical = "X-Amz-Target"
	case "content-type":
		canonical = "Content-Type"
	case "x-amz-security-token":
		canonical = "X-Amz-Security-Token"
	case "x-amz-content-sha256":
		canonical = "X-Amz-Content-Sha256"
	case "amz-sdk-invocation-id":
		canonical = "Amz-Sdk-Invocation-Id"
	case "amz-sdk-request":
		canonical = "Amz-Sdk-Request"
	}
	if vs, ok := h[canonical]; ok && canonical != "" {
		return vs
	}
	for k, vs := range h {
		if len(k) == len(lower) && strings.EqualFold(k, lower) {
			return vs
		}
	}
	return nil
}

// trimAll is SigV4's Trimall as the AWS signers apply it: leading and
// trailing white space removed, sequential spaces made one. Only spaces
// are collapsed inside a value (not tabs or other white space), as the AWS
// SDK for Go v2 signs.
func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return string(b)
}

// canonicalURI is the path as sent, URI-encoded once more (every service
// but S3 double-encodes it), segment by segment.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" || p == "/" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	return strings.Join(segs, "/")
}

// canonicalQuery is the query's parameters, names and values URI-encoded
// and sorted by encoded name, then by encoded value.
func canonicalQuery(u *url.URL) string {
	q := u.Query()
	if len(q) == 0 {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		ek := escape(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, escape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
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
