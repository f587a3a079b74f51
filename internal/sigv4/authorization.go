package sigv4

import "strings"

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKeyID   string
	Date          string // YYYYMMDD of the credential scope
	Region        string
	Service       string
	Terminal      string // "aws4_request"
	SignedHeaders []string
	Signature     string
	// signed holds SignedHeaders when they are few (SDKs sign 4 to 6), so
	// that parsing allocates the Authorization alone.
	signed [8]string
}

// Scope is the credential scope, date/region/service/aws4_request.
func (a *Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + a.Terminal
}

// ParseAuthorization parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…". It checks form only, not the signature.
func ParseAuthorization(h string) (*Authorization, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm {
		if strings.HasPrefix(h, "AWS4-") || strings.HasPrefix(h, "AWS ") {
			return nil, incomplete("Authorization header uses an unsupported algorithm; use %s", Algorithm)
		}
		return nil, incomplete("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=%.40s", h)
	}
	a := &Authorization{}
	var haveCred, haveSigned, haveSig bool
	// The parts, separated by commas, are cut in place rather than split
	// into slices: this runs on every request.
	for more := true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			if strings.Count(v, "/") != 4 || strings.HasPrefix(v, "/") {
				return nil, incomplete("Authorization header has a malformed Credential %q; it must be <access-key>/<date>/<region>/<service>/aws4_request", clip(v))
			}
			f := v
			a.AccessKeyID, f, _ = strings.Cut(f, "/")
			a.Date, f, _ = strings.Cut(f, "/")
			a.Region, f, _ = strings.Cut(f, "/")
			a.Service, a.Terminal, _ = strings.Cut(f, "/")
			haveCred = true
		case "SignedHeaders":
			if v == "" {
				return nil, incomplete("Authorization header has an empty SignedHeaders parameter")
			}
			a.SignedHeaders = a.signed[:0]
			for h := range strings.SplitSeq(v, ";") {
				a.SignedHeaders = append(a.SignedHeaders, h)
			}
			haveSigned = true
		case "Signature":
			if len(v) != 64 || !isHex(v) {
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

// isHex reports whether s is made of hexadecimal digits.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexValue(s[i]) < 0 {
			return false
		}
	}
	return true
}

func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
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
