package registry

import (
	"reflect"
	"slices"
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
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecodeInstance(t, b)
		checkDecodeInstView(t, b)
	})
}

// decodeInstView gives what newInstView makes of encoding/json's record,
// and keeps nothing of the bytes it decoded (a start reuses them).
func TestDecodeInstViewMatchesJSON(t *testing.T) {
	seeds := append([]string{
		`{"id":"i","attrs":{"b":"2","a":"1","b":"3"},"attrs":{"a":"4","c":""}}`,
		`{"id":"i","custom":"HEALTHY","customPending":"UNHEALTHY","probe":"OTHER","forced":"UNHEALTHY","forcedUntil":7,"probeGen":3}`,
		`{"id":"i","attrs":{"AWS_INSTANCE_IPV6":"2001:db8::1","AWS_INSTANCE_PORT":"53","":"empty key"}}`,
		"{\"id\":\"i\",\"attrs\":{\"k\":\"\u2028<&>\u00e9\x7f\"}}",
	}, instDecodeSeeds...)
	for _, s := range seeds {
		checkDecodeInstView(t, []byte(s))
	}
	for _, s := range seeds[:3] {
		if _, _, ok := parseInstView([]byte(s)); !ok {
			t.Errorf("the fast path refused %s", s)
		}
	}
}

func checkDecodeInstView(t *testing.T, b []byte) {
	t.Helper()
	rec, wantErr := decode[instRecord](b)
	own := slices.Clone(b)
	got, probeGen, err := decodeInstView(own)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json's %v", b, err, wantErr)
	}
	if err != nil {
		return
	}
	for i := range own {
		own[i] = 'X' // nothing decoded may still point here
	}
	if want := newInstView(rec); !reflect.DeepEqual(got, want) || probeGen != rec.ProbeGen {
		t.Fatalf("%q:\n got %+v (probeGen %d)\nwant %+v (probeGen %d)", b, got, probeGen, want, rec.ProbeGen)
	}
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
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodeInstView(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("record+newInstView", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec, err := decodeInstance(rec)
			if err != nil {
				b.Fatal(err)
			}
			newInstView(rec)
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
