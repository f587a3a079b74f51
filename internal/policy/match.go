package policy

import "strings"

// glob reports whether s matches pattern, where * matches any run of
// characters (also none) and ? exactly one: the wildcards of IAM's
// Action, Resource, StringLike and ArnLike. It does not allocate.
func glob(pattern, s string) bool {
	// The classic linear-time wildcard match with one backtrack point:
	// a later * makes any earlier choice irrelevant.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// hasWildcard reports whether s holds * or ?.
func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// arnPattern is an ARN pattern split into IAM's six components (arn,
// partition, service, region, account, resource); each is matched on its
// own, so a wildcard never spans a colon between components. The
// resource component may itself hold colons.
type arnPattern [6]string

// parseARNPattern splits an ARN pattern; ok is false when it has fewer
// than six components or does not start with "arn".
func parseARNPattern(s string) (arnPattern, bool) {
	var a arnPattern
	for i := 0; i < 5; i++ {
		j := colon(s)
		if j < 0 {
			return a, false
		}
		a[i], s = s[:j], s[j+1:]
	}
	a[5] = s
	if a[0] != "arn" && !glob(a[0], "arn") {
		return a, false
	}
	return a, true
}

// colon returns the index of the first ':' of s outside a policy
// variable (${aws:username} holds one), or -1.
func colon(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
		case s[i] == '}' && depth > 0:
			depth--
		case s[i] == ':' && depth == 0:
			return i
		}
	}
	return -1
}

// match reports whether arn matches the pattern, component by component.
// It does not allocate.
func (p *arnPattern) match(arn string) bool {
	s := arn
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return false
		}
		if !glob(p[i], s[:j]) {
			return false
		}
		s = s[j+1:]
	}
	return glob(p[5], s)
}
