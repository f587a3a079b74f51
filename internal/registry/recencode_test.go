package registry

import (
	"encoding/json"
	"github.com/cairn-dev/cairn/internal/cloudmap"
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
	insts := []*instRecord{
		{ServiceID: "srv-1", ID: "i-1", CreatorRequestID: "tok", CreatedBy: "111122223333",
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "8080", "stage": odd}},
		{ServiceID: odd, ID: odd, CreatedBy: odd, Attributes: map[string]string{}, Custom: "HEALTHY", CustomPending: "UNHEALTHY",
			CustomAt: 1796339435068, Probe: "UNHEALTHY", Forced: "HEALTHY", ForcedUntil: -5, ProbeGen: 3},
		{}, // no attributes: null
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
	for i, r := range insts {
		check("instance "+string(rune('0'+i)), encode(r), r, new(instRecord))
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

// registerFingerprintCases are requests whose fingerprint must not change.
var registerFingerprintCases = []cloudmap.RegisterInstanceRequest{
	{ServiceId: "srv-1", InstanceId: "i-1", CreatorRequestId: "tok", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "b": "2", "a": "1"}},
	{ServiceId: "srv-1", InstanceId: "i-1", Attributes: map[string]string{}},
	{ServiceId: "srv-1"},
	{InstanceId: "i"},
	{Attributes: map[string]string{"k": "v"}},
	{},
	{ServiceId: "q\"uo\\te\n\x01é", InstanceId: string([]byte{0xff, 'x'}), Attributes: map[string]string{"\t": "\u00e9"}},
	{ServiceId: "s", InstanceId: "<i>", Attributes: map[string]string{"a": "&"}},
	{ServiceId: "s", InstanceId: "i", Attributes: map[string]string{"a\u2028": "x"}},
	{ServiceId: "s", InstanceId: "i\f\b", Attributes: map[string]string{"a": "\x7f"}},
}

// A registration's fingerprint is the one earlier versions stored, from
// encoding/json, whatever the request holds.
func TestRegisterFingerprint(t *testing.T) {
	for _, in := range registerFingerprintCases {
		fp := in
		fp.CreatorRequestId = ""
		if got, want := registerFingerprint(&in), fingerprint(fp); got != want {
			t.Errorf("%+v: %s, encoding/json's %s", in, got, want)
		}
	}
}

func FuzzRegisterFingerprint(f *testing.F) {
	for _, in := range registerFingerprintCases {
		for k, v := range in.Attributes {
			f.Add(in.ServiceId, in.InstanceId, k, v)
		}
		f.Add(in.ServiceId, in.InstanceId, "", "")
	}
	f.Fuzz(func(t *testing.T, svc, inst, k, v string) {
		in := cloudmap.RegisterInstanceRequest{ServiceId: svc, InstanceId: inst, CreatorRequestId: "t"}
		if k != "" || v != "" {
			in.Attributes = map[string]string{k: v, "z": v + k}
		}
		fp := in
		fp.CreatorRequestId = ""
		if got, want := registerFingerprint(&in), fingerprint(fp); got != want {
			t.Fatalf("%+v: %s, encoding/json's %s", in, got, want)
		}
	})
}
