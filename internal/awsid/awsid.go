// Package awsid checks the forms of the AWS identifiers that cairn takes
// from its configuration, its credentials file and its callers: account
// IDs and region names. Both go into ARNs and into the keys resources are
// stored under, so every place that accepts one checks it the same way.
package awsid

// IsAccountID reports whether s has the form of an AWS account ID: 12
// ASCII digits, such as 000000000000.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsRegion reports whether s has the form of a region name, such as
// us-east-1: 1 to 32 lower-case ASCII letters, digits and hyphens. It does
// not ask whether AWS has such a region: the regions served are
// sigv4.AWSRegions, or those of --regions.
func IsRegion(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
