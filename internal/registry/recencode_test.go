package registry

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The hand-written encoders give encoding/json's bytes, and records that
// decode to the same values, including for strings JSON must escape.
func TestRecordEncoders(t *testing.T) {
	odd := "q\"uo\\te\n\x01é\u2028<b>&" + string([]byte{0xff})
	ops := []*opRecord{
		{scope: scope{Account: "111122223333", Region: "us-east-1"}, ID: "abc-mx864aws", Type: "REGISTER_INSTANCE", Status: "SUCCESS",
			CreateDate: 1796339435068, UpdateDate: 1796339435069,
			Targets: map[string]string{"SERVICE": "srv-1", "NAMESPACE": "ns-1", "INSTANCE": "i-1"}, Lock: "lock/inst/srv-1/i-1",
			IdemKey: "idem/111122223333/us-east-1/register/srv-1/tok"},
		{ID: "x", Type: "DELETE_NAMESPACE", Status: "FAIL", ErrorCode: "RESOURCE_IN_USE", ErrorMessage: odd, Requester: "210987654321",
			Targets: map[string]string{}},
		{ID: odd, Status: "SUCCESS", CreateDate: -1}, // no targets: null
	}
	idems := []*idemRecord{
		{Fingerprint: "24fa7e6ca48d5d1c5086e29b9ea6fee0", OperationID: "op-1", ResourceID: "srv-1/i-1"},
		{Fingerprint: odd},
		{},
	}
	check := func(name string, got []byte, v, fresh any) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		plain := !strings.ContainsAny(string(want), `\`)
		if plain && string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		if err := json.Unmarshal(got, fresh); err != nil {
			t.Fatalf("%s: %s does not decode: %v", name, got, err)
		}
		again := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		_ = json.Unmarshal(want, again)
		if !reflect.DeepEqual(fresh, again) {
			t.Errorf("%s: decodes as %+v, encoding/json's as %+v", name, fresh, again)
		}
	}
	for i, o := range ops {
		check("op "+string(rune('0'+i)), encode(o), o, new(opRecord))
	}
	for i, r := range idems {
		check("idem "+string(rune('0'+i)), encode(r), r, new(idemRecord))
	}
	// An operation with work left still goes through encoding/json.
	w := &opRecord{ID: "w", Work: &opWork{ServiceID: "srv-1"}}
	if want, _ := json.Marshal(w); string(encode(w)) != string(want) {
		t.Errorf("with work: %s, want %s", encode(w), want)
	}
}

// BenchmarkEncodeOpRecord: a registration's operation record, at its end.
func BenchmarkEncodeOpRecord(b *testing.B) {
	o := &opRecord{scope: scope{Account: "111122223333", Region: "us-east-1"}, ID: "224rizhnftwxjojwpeuo26v5xlzlc373-mx864aws",
		Type: "REGISTER_INSTANCE", Status: "SUCCESS", CreateDate: 1796339435068, UpdateDate: 1796339435069,
		Targets: map[string]string{"SERVICE": "srv-wtfme2vc7646d5rd", "NAMESPACE": "ns-zlfnwjpo53atfw2z", "INSTANCE": "rc943f0ac-c51-33"},
		Lock:    "lock/inst/srv-wtfme2vc7646d5rd/rc943f0ac-c51-33", IdemKey: "idem/111122223333/us-east-1/register/srv-wtfme2vc7646d5rd/rc943f0ac-c51-33"}
	b.ReportAllocs()
	for b.Loop() {
		_ = encode(o)
	}
}
