package registry

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"
	"time"
)

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomID returns n characters of lowercase base32 (5 random bits each).
func randomID(n int) string {
	b := make([]byte, (n*5+7)/8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return lowerBase32.EncodeToString(b)[:n]
}

// newNamespaceID returns "ns-" and 16 base32 characters, AWS's format.
func newNamespaceID() string { return "ns-" + randomID(16) }

// newServiceID returns "srv-" and 16 base32 characters, AWS's format.
func newServiceID() string { return "srv-" + randomID(16) }

// operationID builds an ID in AWS's shape: 32 base32 characters stable for
// the target resource, "-", and the creation time in epoch milliseconds in
// base 36 (8 characters), as the IDs in AWS's examples are made.
func operationID(account, target string, at time.Time) string {
	sum := sha256.Sum256([]byte(account + "/" + target))
	prefix := lowerBase32.EncodeToString(sum[:])[:32]
	suffix := strconv.FormatInt(at.UnixMilli(), 36)
	if len(suffix) < 8 {
		suffix = strings.Repeat("0", 8-len(suffix)) + suffix
	}
	return prefix + "-" + suffix
}

// hostedZoneID derives a stable Route 53-style zone ID ("Z" and 20
// upper-case characters) from a namespace ID.
func hostedZoneID(nsID string) string {
	sum := sha256.Sum256([]byte("zone/" + nsID))
	return "Z" + strings.ToUpper(lowerBase32.EncodeToString(sum[:]))[:20]
}

// partition returns the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// NamespaceARN is the ARN of a namespace.
func NamespaceARN(region, account, id string) string {
	return "arn:" + partition(region) + ":servicediscovery:" + region + ":" + account + ":namespace/" + id
}

// ServiceARN is the ARN of a service.
func ServiceARN(region, account, id string) string {
	return "arn:" + partition(region) + ":servicediscovery:" + region + ":" + account + ":service/" + id
}

// arnParts is a parsed Cloud Map ARN.
type arnParts struct {
	region, account, kind, id string
}

// parseARN parses "arn:<partition>:servicediscovery:<region>:<account>:<kind>/<id>".
func parseARN(s string) (arnParts, bool) {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "servicediscovery" {
		return arnParts{}, false
	}
	kind, id, ok := strings.Cut(f[5], "/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return arnParts{}, false
	}
	return arnParts{region: f[3], account: f[4], kind: kind, id: id}, true
}
