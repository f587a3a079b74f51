package cloudmap

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// maxMessageBytes bounds a validation message: at most maxProblems
// problems, each a value cut to 64 runes, a path and the longest
// constraint text (the ServiceName pattern).
const maxMessageBytes = 8 << 10

// FuzzValidate decodes arbitrary JSON into an operation's input (or
// output) structure, chosen by pick, and validates it: Validate must not
// panic, and its message must stay bounded and well-formed.
func FuzzValidate(f *testing.F) {
	for i, op := range Operations {
		f.Add(byte(2*i), []byte(`{}`))
		f.Add(byte(2*i+1), []byte(`{}`))
		for _, body := range exampleInputs[op] {
			f.Add(byte(2*i), []byte(body))
		}
	}
	f.Add(byte(6), []byte(`{"Name":"-bad-","DnsConfig":{"DnsRecords":[{"Type":"MX","TTL":-1},{}]},"Tags":[{"Key":""}]}`))
	f.Add(byte(42), []byte(`{"Attributes":{"k":" v","":"\u00e9"},"InstanceId":"a b","ServiceId":""}`))
	f.Add(byte(34), []byte(`{"Filters":[{"Name":"X","Values":[""]},{"Condition":"Y"}],"MaxResults":0}`))

	f.Fuzz(func(t *testing.T, pick byte, body []byte) {
		op := Operations[int(pick/2)%len(Operations)]
		s := shapes[op].in
		if pick%2 == 1 && shapes[op].out != nil {
			s = shapes[op].out
		}
		in := reflect.New(reflect.TypeOf(s).Elem()).Interface().(Validatable)
		// Whatever decoded, even partly, is validated.
		_ = json.Unmarshal(body, in)
		err := Validate(in)
		if err == nil {
			return
		}
		ve, ok := err.(*ValidationError)
		if !ok {
			t.Fatalf("Validate returned %T", err)
		}
		n := len(ve.Problems)
		if n == 0 || n > maxProblems {
			t.Fatalf("%d problems listed", n)
		}
		msg := err.Error()
		if len(msg) > maxMessageBytes {
			t.Fatalf("message of %d bytes: %.200s…", len(msg), msg)
		}
		if !utf8.ValidString(msg) {
			t.Fatalf("message is not valid UTF-8: %q", msg)
		}
		noun := "errors"
		if n == 1 {
			noun = "error"
		}
		if prefix := fmt.Sprintf("%d validation %s detected: ", n, noun); !strings.HasPrefix(msg, prefix) {
			t.Fatalf("message %q does not begin with %q", msg, prefix)
		}
		for _, p := range ve.Problems {
			if !strings.HasPrefix(p, "Value ") || !strings.Contains(p, "' failed to satisfy constraint: Member must ") {
				t.Fatalf("problem not in AWS's form: %q", p)
			}
		}
	})
}
