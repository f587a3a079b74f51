package policy

import (
	"fmt"
	"strings"
)

// template is a string with policy variables (${aws:username}), as
// Resource and String/ARN condition values may hold in a policy of
// Version 2012-10-17.
type template struct {
	parts []tmplPart
}

type tmplPart struct {
	lit    string
	key    string // canonical key; "" for a literal
	def    string // default value, when hasDef
	hasDef bool
}

// parseTemplate reads the variables of s; it returns nil when s has none.
func parseTemplate(s string) (*template, error) {
	if !strings.Contains(s, "${") {
		return nil, nil
	}
	t := &template{}
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			if s != "" {
				t.parts = append(t.parts, tmplPart{lit: s})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("the policy variable at %q has no closing }", s[i:])
		}
		body := strings.TrimSpace(s[i+2 : i+j])
		s = s[i+j+1:]
		switch body {
		case "*", "?", "$":
			t.parts = append(t.parts, tmplPart{lit: body})
			continue
		}
		p := tmplPart{}
		if k, d, ok := strings.Cut(body, ","); ok {
			d = strings.TrimSpace(d)
			if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
				return nil, fmt.Errorf("the default of policy variable ${%s} must be in single quotes", body)
			}
			body, p.def, p.hasDef = strings.TrimSpace(k), d[1:len(d)-1], true
		}
		if !strings.Contains(body, ":") {
			return nil, fmt.Errorf("policy variable ${%s} is not a condition key (prefix:name)", body)
		}
		p.key = canonKey(body)
		t.parts = append(t.parts, p)
	}
}

// expand substitutes the variables from ctx; ok is false when one has no
// single value and no default, in which case the element does not match.
func (t *template) expand(ctx *Context) (string, bool) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.key == "" {
			b.WriteString(p.lit)
			continue
		}
		v, ok := ctx.single(p.key)
		if !ok {
			if !p.hasDef {
				return "", false
			}
			v = p.def
		}
		b.WriteString(v)
	}
	return b.String(), true
}

// equal reports whether the template, its variables substituted, is s,
// without building the substituted string.
func (t *template) equal(ctx *Context, s string) bool {
	for _, p := range t.parts {
		v := p.lit
		if p.key != "" {
			var ok bool
			if v, ok = ctx.single(p.key); !ok {
				if !p.hasDef {
					return false
				}
				v = p.def
			}
		}
		if !strings.HasPrefix(s, v) {
			return false
		}
		s = s[len(v):]
	}
	return s == ""
}
