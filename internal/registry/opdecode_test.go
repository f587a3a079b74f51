package registry

import (
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// opDecodeSeeds are operation records as encode writes them, and
// variations the fast path must hand to encoding/json.
var opDecodeSeeds = []string{
	string(encode(&opRecord{scope: scope{Account: "111122223333", Region: "us-east-1"}, ID: "op-0123", Type: cloudmap.OperationTypeRegisterInstance,
		Status: cloudmap.OperationStatusSuccess, CreateDate: 1764100000123, UpdateDate: 1764100000124,
		Targets: map[string]string{"NAMESPACE": "ns-1", "SERVICE": "srv-1", "INSTANCE": "i-1"}, Lock: "lock/srv-1/i-1", IdemKey: "idem/x"})),
	string(encode(&opRecord{scope: scope{Account: "a", Region: "r"}, ID: "op-1", Type: "DEREGISTER_INSTANCE", Status: "FAIL",
		ErrorCode: "INSTANCE_NOT_FOUND", ErrorMessage: "gone", Requester: "444455556666", Targets: map[string]string{}})),
	string(encode(&opRecord{ID: "op-2", Status: "SUBMITTED", Work: &opWork{ServiceID: "srv-1", InstanceID: "i-1"}})), // work: encoding/json
	string(encode(&opRecord{ID: "été", ErrorMessage: "<&> \"quoted\"\n"})),                                           // escapes
	`{}`,
	`{"id":"a","id":"b"}`,
	`{"targets":{"a":"1"},"targets":{"b":"2"}}`,
	`{"ID":"upper case matches too"}`,
	`{"A":"111122223333"}`,
	`{"id":"a","unknown":1}`,
	`{"targets":null}`,
	`{"work":null}`,
	`{"created":1.5}`,
	`{"updated":-7}`,
	`{"created":12345678901234567890}`,
	`{ "id" : "spaces" }`,
	`{"id":"a",}`,
	`{"id":"a"} `,
	`{"id":"a"}x`,
	"{\"id\":\"\xff\"}",
	`{"targets":{"a":1}}`,
	`{"id":"a"`,
	`[]`,
	``,
	`null`,
}

// decodeOperation gives exactly what encoding/json gives, whether its
// fast path takes the record or not.
func TestDecodeOperationMatchesJSON(t *testing.T) {
	for _, s := range opDecodeSeeds {
		checkDecodeOperation(t, []byte(s))
	}
	for _, s := range opDecodeSeeds[:2] {
		if _, ok := parseOperation([]byte(s)); !ok {
			t.Errorf("the fast path refused a finished operation's record: %s", s)
		}
	}
}

func checkDecodeOperation(t *testing.T, b []byte) { checkDecode(t, b, decodeOperation) }

func FuzzDecodeOperation(f *testing.F) {
	for _, s := range opDecodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeOperation(t, b) })
}

func BenchmarkDecodeOperation(b *testing.B) {
	rec := []byte(opDecodeSeeds[0])
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeOperation(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decode[opRecord](rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
