package policy

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Context holds the request context keys a request is evaluated with:
// the values of the condition keys and policy variables. Key names are
// case-insensitive, as IAM's are; a tag key after "aws:RequestTag/" or
// "aws:ResourceTag/" keeps its case.
type Context struct {
	// Now is the request's time: aws:CurrentTime and aws:EpochTime.
	// Zero leaves both keys absent.
	Now     time.Time
	entries []entry
	// one holds the values of keys set to a single value, so that a
	// request's context takes a few allocations rather than one a key.
	one []string
}

// knownKeys maps the keys cairn sets to their canonical form, so that
// setting them needs no lower-casing.
var knownKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{KeyNamespaceArn, KeyNamespaceName, KeyServiceArn, KeyServiceName, KeyServiceCreatedByAccount,
		KeyTagKeys, KeySourceIP, KeySecureTransport, KeyCurrentTime, KeyEpochTime, KeyPrincipalAccount, KeyPrincipalArn,
		KeyPrincipalType, KeyUsername, KeyUserid, KeyRequestedRegion, KeyRequestTagPrefix, KeyResourceTagPrefix} {
		m[k] = strings.ToLower(k)
	}
	return m
}()

type entry struct {
	key  string // canonical: see canonKey
	vals []string
}

// canonKey lower-cases a key's name up to its first '/': the part IAM
// compares without regard to case.
func canonKey(k string) string {
	if c, ok := knownKeys[k]; ok {
		return c
	}
	for _, p := range [...]string{KeyRequestTagPrefix, KeyResourceTagPrefix} {
		if len(k) > len(p) && k[:len(p)] == p {
			return knownKeys[p] + k[len(p):]
		}
	}
	i := strings.IndexByte(k, '/')
	if i < 0 {
		return lowerASCII(k)
	}
	return lowerASCII(k[:i]) + k[i:]
}

// lowerASCII lower-cases s, without allocating when it already is.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// Set gives key its values, replacing any it had. A key with no values is
// present with an empty set (what ForAllValues treats as vacuously true).
func (c *Context) Set(key string, vals ...string) { c.set(canonKey(key), vals) }

// SetOne gives key one value; it is Set without the allocation of a
// variadic call, for the request path.
func (c *Context) SetOne(key, val string) {
	if c.one == nil {
		c.one = make([]string, 0, 16)
	}
	n := len(c.one)
	c.one = append(c.one, val)
	// Earlier values keep the backing array they were appended to.
	c.set(canonKey(key), c.one[n:n+1:n+1])
}

// Grow makes room for n keys.
func (c *Context) Grow(n int) { c.entries = slices.Grow(c.entries, n) }

func (c *Context) set(k string, vals []string) {
	for i := range c.entries {
		if c.entries[i].key == k {
			c.entries[i].vals = vals
			return
		}
	}
	c.entries = append(c.entries, entry{key: k, vals: vals})
}

// Get returns key's values and whether it is present.
func (c *Context) Get(key string) ([]string, bool) { return c.get(canonKey(key)) }

const (
	canonCurrentTime = "aws:currenttime"
	canonEpochTime   = "aws:epochtime"
)

// get looks a canonical key up.
func (c *Context) get(k string) ([]string, bool) {
	for i := range c.entries {
		if c.entries[i].key == k {
			return c.entries[i].vals, true
		}
	}
	if !c.Now.IsZero() {
		switch k {
		case canonCurrentTime:
			return []string{c.Now.UTC().Format(time.RFC3339)}, true
		case canonEpochTime:
			return []string{strconv.FormatInt(c.Now.Unix(), 10)}, true
		}
	}
	return nil, false
}

// single returns a key's value when it has exactly one: what a policy
// variable needs.
func (c *Context) single(k string) (string, bool) {
	v, ok := c.get(k)
	if !ok || len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// Caller is who makes a request and how: what the global condition keys
// of every evaluation say.
type Caller struct {
	// Profile is the credentials-file profile (aws:username), Account its
	// account (aws:PrincipalAccount), ARN the IAM user ARN cairn gives it
	// (aws:PrincipalArn).
	Profile, Account, ARN string
	// Region is the region the request is signed for (aws:RequestedRegion).
	Region string
	// SourceIP is the client's address (aws:SourceIp), or empty.
	SourceIP string
	// Secure is whether the request came over TLS (aws:SecureTransport).
	Secure bool
	// Now is the request's time (aws:CurrentTime, aws:EpochTime).
	Now time.Time
}

// NewContext returns a context with the caller's global keys set, and
// room for extra more keys.
func (c *Caller) NewContext(extra int) *Context {
	ctx := &Context{Now: c.Now}
	ctx.Grow(7 + extra)
	ctx.SetOne(KeyUsername, c.Profile)
	ctx.SetOne(KeyPrincipalAccount, c.Account)
	ctx.SetOne(KeyPrincipalArn, c.ARN)
	ctx.SetOne(KeyPrincipalType, "User")
	ctx.SetOne(KeyRequestedRegion, c.Region)
	if c.SourceIP != "" {
		ctx.SetOne(KeySourceIP, c.SourceIP)
	}
	ctx.SetOne(KeySecureTransport, strconv.FormatBool(c.Secure))
	return ctx
}
