package policy

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to the parser: it must refuse with a
// *Error naming a line inside the file, or compile a policy that
// evaluates every action without panicking.
func FuzzParse(f *testing.F) {
	seeds := []string{
		tenStatements,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
		`[{"Statement":{"Effect":"Deny","NotAction":"servicediscovery:Get*","NotResource":"arn:aws:servicediscovery:*:*:namespace/${aws:username}"}}]`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"servicediscovery:List*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*"]},"Null":{"aws:RequestTag/x":true},"NumericLessThan":{"a:n":3}}}]}`,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"::1/128"},"DateLessThan":{"aws:CurrentTime":"2030-01-01"}}}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:servicediscovery:*:${aws:PrincipalAccount, 'x'}:*"}}`,
		`[[[[`, `{"Statement":`, `"x"`, ``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	ctx := &Context{Now: time.Unix(1796000000, 0)}
	ctx.Set(KeyUsername, "alice")
	ctx.Set(KeyTagKeys, "a", "b")
	ctx.Set(KeySourceIP, "127.0.0.1")
	ctx.Set("a:n", "2")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.json")
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T: %v", err, err)
			}
			if pe.Line < 1 || pe.Line > lineOf(data, int64(len(data))) {
				t.Fatalf("line %d outside the file: %v", pe.Line, err)
			}
			return
		}
		for _, a := range AllActions() {
			for _, res := range []string{"*", nsARN, svARN} {
				d := p.Evaluate(&Request{Action: a, Resource: res, Context: ctx})
				if (d.Effect == ImplicitDeny) != (d.Statement == nil) {
					t.Fatalf("decision %v with statement %v", d.Effect, d.Statement)
				}
			}
		}
	})
}
