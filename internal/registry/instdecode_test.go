package registry

import (
	"reflect"
	"testing"
)

// instDecodeSeeds are instance records as encode writes them, and
// variations the fast path must hand to encoding/json.
var instDecodeSeeds = []string{
	string(encode(&instRecord{ServiceID: "srv-0123456789abcdef", ID: "i-000001", CreatedBy: "111122223333",
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "8080", "stage": "prod"}})),
	string(encode(&instRecord{ServiceID: "s", ID: "i", CreatorRequestID: "crid-1", CreatedBy: "a", Attributes: map[string]string{},
		Custom: "HEALTHY", CustomPending: "UNHEALTHY", CustomAt: 1764100000123, Probe: "UNHEALTHY"})),
	string(encode(&instRecord{ID: "été", Attributes: map[string]string{"k": "<&>", "ünï": "\"quoted\"\n"}})), // escapes
	string(encode(&instRecord{ID: "x", CustomAt: -5})),
	`{}`,
	`{"id":"a","id":"b"}`,
	`{"attrs":{"a":"1"},"attrs":{"b":"2"}}`,
	`{"ID":"upper case matches too"}`,
	`{"id":"a","unknown":1}`,
	`{"attrs":null}`,
	`{"customAt":1.5}`,
	`{"customAt":01}`,
	`{"customAt":12345678901234567890}`,
	`{"customAt":-}`,
	`{ "id" : "spaces" }`,
	`{"id":"a",}`,
	`{"id":"a"} `,
	`{"id":"a"}x`,
	`{"id":"\u00e9"}`,
	"{\"id\":\"\xff\"}",
	"{\"id\":\"a\tb\"}",
	`{"attrs":{"a":1}}`,
	`{"attrs":{"a":"1",}}`,
	`{"id":"a"`,
	`[]`,
	``,
	`null`,
}

// decodeInstance gives exactly what encoding/json gives, whether its
// fast path takes the record or not.
func TestDecodeInstanceMatchesJSON(t *testing.T) {
	for _, s := range instDecodeSeeds {
		checkDecodeInstance(t, []byte(s))
	}
	if _, ok := parseInstance([]byte(instDecodeSeeds[0])); !ok {
		t.Error("the fast path refused a record encode wrote")
	}
	if _, ok := parseInstance([]byte(instDecodeSeeds[1])); !ok {
		t.Error("the fast path refused a record with every field")
	}
}

func checkDecodeInstance(t *testing.T, b []byte) { checkDecode(t, b, decodeInstance) }

// checkDecode checks that fast decodes b as encoding/json does.
func checkDecode[T any](t *testing.T, b []byte, fast func([]byte) (*T, error)) {
	t.Helper()
	want, wantErr := decode[T](b)
	got, err := fast(b)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json's %v", b, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", b, got, want)
	}
}

func FuzzDecodeInstance(f *testing.F) {
	for _, s := range instDecodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeInstance(t, b) })
}

func BenchmarkDecodeInstance(b *testing.B) {
	rec := []byte(instDecodeSeeds[0])
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeInstance(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decode[instRecord](rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
