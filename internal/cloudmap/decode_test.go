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

func TestDecodeFast(t *testing.T) {
	for _, tc := range decodeFastCases {
		var fast DiscoverInstancesRequest
		got := fast.DecodeFast([]byte(tc.body))
		if got != tc.fast {
			t.Errorf("DecodeFast(%s) = %v, want %v", tc.body, got, tc.fast)
		}
		if !got {
			if !reflect.DeepEqual(fast, DiscoverInstancesRequest{}) {
				t.Errorf("DecodeFast(%s) refused but changed the request: %+v", tc.body, fast)
			}
			continue
		}
		var std DiscoverInstancesRequest
		if err := json.Unmarshal([]byte(tc.body), &std); err != nil || !reflect.DeepEqual(fast, std) {
			t.Errorf("DecodeFast(%s) = %+v; encoding/json: %+v, %v", tc.body, fast, std, err)
		}
	}
}

// FuzzDecodeFast: whatever DecodeFast accepts, encoding/json accepts and
// decodes to the same request.
func FuzzDecodeFast(f *testing.F) {
	for _, tc := range decodeFastCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast DiscoverInstancesRequest
		if !fast.DecodeFast(b) {
			if !reflect.DeepEqual(fast, DiscoverInstancesRequest{}) {
				t.Fatalf("refused but changed the request: %+v", fast)
			}
			return
		}
		var std DiscoverInstancesRequest
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("DecodeFast accepted %q, encoding/json refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q: DecodeFast %+v, encoding/json %+v", b, fast, std)
		}
	})
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
