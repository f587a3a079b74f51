package cloudmap

import (
	"encoding/json"
	"reflect"
	"testing"
)

var decodeFastCases = []struct {
	body string
	fast bool // whether DecodeFast takes it, rather than leaving it to encoding/json
}{
	{`{"NamespaceName":"bench","ServiceName":"svc","QueryParameters":{"stage":"canary"},"MaxResults":10}`, true},
	{` { "NamespaceName" : "ns" ,	"ServiceName":"s", "HealthStatus":"ALL", "OwnerAccount":"111122223333",
	   "OptionalParameters":{}, "QueryParameters":{"a":"1","b":"é","a":"2"}, "MaxResults":0 } `, true},
	{`{}`, true},
	{`{"MaxResults":2147483647}`, true},
	{`{"MaxResults":2147483648}`, false}, // overflows int32: encoding/json's error
	{`{"MaxResults":-1}`, false},         // negative
	{`{"MaxResults":1.0}`, false},        // a fraction
	{`{"MaxResults":1e1}`, false},        // an exponent
	{`{"MaxResults":01}`, false},         // not JSON
	{`{"MaxResults":null}`, false},       // null
	{`{"namespacename":"ns"}`, false},    // encoding/json matches names case-insensitively
	{`{"NamespaceName":"a","NamespaceName":"b"}`, false},
	{`{"NamespaceName":"a\"b"}`, false},       // an escape
	{`{"NamespaceName":"\u00e9"}`, false},     // an escape
	{"{\"NamespaceName\":\"a\xffb\"}", false}, // invalid UTF-8, which encoding/json replaces
	{`{"NamespaceName":1}`, false},            // a type error
	{`{"Unknown":"x"}`, false},                // ignored by encoding/json
	{`{"NamespaceName":"a"} x`, false},        // trailing data
	{`{"NamespaceName":"a",}`, false},
	{`[]`, false},
	{``, false},
}

// registerFastCases are RegisterInstance and DeregisterInstance bodies.
var registerFastCases = []struct {
	body            string
	register, dereg bool // whether each DecodeFast takes it
}{
	{`{"ServiceId":"srv-1","InstanceId":"i-1","CreatorRequestId":"t","Attributes":{"AWS_INSTANCE_IPV4":"10.0.0.1","k":"é"}}`, true, false},
	{` {"Attributes":{}, "InstanceId":"i", "ServiceId":"s"} `, true, false},
	{`{"ServiceId":"s","InstanceId":"i"}`, true, true},
	{`{}`, true, true},
	{`{"Attributes":{"a":"1","a":"2"}}`, true, false}, // the last one, as encoding/json
	{`{"Attributes":null}`, false, false},
	{`{"Attributes":{"a":1}}`, false, false},
	{`{"Attributes":{"a":"\u00e9"}}`, false, false},
	{`{"InstanceId":"a","InstanceId":"b"}`, false, false},
	{`{"instanceid":"a"}`, false, false},
	{`{"InstanceId":"a","Extra":"b"}`, false, false},
	{`{"InstanceId":"a"`, false, false},
	{``, false, false},
}

func TestDecodeFast(t *testing.T) {
	for _, tc := range decodeFastCases {
		checkDecodeFast(t, []byte(tc.body), tc.fast, new(DiscoverInstancesRequest), new(DiscoverInstancesRequest))
	}
	for _, tc := range registerFastCases {
		checkDecodeFast(t, []byte(tc.body), tc.register, new(RegisterInstanceRequest), new(RegisterInstanceRequest))
		checkDecodeFast(t, []byte(tc.body), tc.dereg, new(DeregisterInstanceRequest), new(DeregisterInstanceRequest))
	}
}

// checkDecodeFast checks that fast (a zero request) decodes body when
// want says so, to what encoding/json decodes into std (another zero
// request), and otherwise refuses it and leaves it unchanged.
func checkDecodeFast[R any, P interface {
	*R
	DecodeFast([]byte) bool
}](t *testing.T, body []byte, want bool, fast, std P) {
	t.Helper()
	got := fast.DecodeFast(body)
	if got != want {
		t.Errorf("%T.DecodeFast(%s) = %v, want %v", fast, body, got, want)
	}
	if !got {
		if !reflect.DeepEqual(*fast, *new(R)) {
			t.Errorf("%T.DecodeFast(%s) refused but changed the request: %+v", fast, body, *fast)
		}
		return
	}
	if err := json.Unmarshal(body, std); err != nil || !reflect.DeepEqual(*fast, *std) {
		t.Errorf("%T.DecodeFast(%s) = %+v; encoding/json: %+v, %v", fast, body, *fast, *std, err)
	}
}

// FuzzDecodeFast: whatever a DecodeFast accepts, encoding/json accepts
// and decodes to the same request.
func FuzzDecodeFast(f *testing.F) {
	for _, tc := range decodeFastCases {
		f.Add([]byte(tc.body))
	}
	for _, tc := range registerFastCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d DiscoverInstancesRequest
		checkDecodeFast(t, b, d.DecodeFast(b), new(DiscoverInstancesRequest), new(DiscoverInstancesRequest))
		var r RegisterInstanceRequest
		checkDecodeFast(t, b, r.DecodeFast(b), new(RegisterInstanceRequest), new(RegisterInstanceRequest))
		var dr DeregisterInstanceRequest
		checkDecodeFast(t, b, dr.DecodeFast(b), new(DeregisterInstanceRequest), new(DeregisterInstanceRequest))
	})
}

// The operation answers encode as encoding/json encodes them.
func TestOperationIDAppendJSON(t *testing.T) {
	for _, id := range []string{"", "abcdefghijklmnopqrstuvwxyz234567-0000abcd", "a\"b\u00e9\x01"} {
		for _, out := range []interface{ AppendJSON([]byte) []byte }{&RegisterInstanceResponse{OperationId: id}, &DeregisterInstanceResponse{OperationId: id}} {
			want, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := out.AppendJSON(nil); string(got) != string(want) {
				t.Errorf("%T %q: AppendJSON %s, encoding/json %s", out, id, got, want)
			}
		}
	}
}

func BenchmarkDecodeFast(b *testing.B) {
	body := []byte(decodeFastCases[0].body)
	b.ReportAllocs()
	for b.Loop() {
		var r DiscoverInstancesRequest
		if !r.DecodeFast(body) {
			b.Fatal("refused")
		}
	}
}
