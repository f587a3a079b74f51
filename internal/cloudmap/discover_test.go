package cloudmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDiscoverInstancesResult_AppendJSON_MatchesModel(t *testing.T) {
	r := &DiscoverInstancesResult{InstancesRevision: 1795637920095060, Instances: []DiscoveredInstance{
		{InstanceId: "i-1", NamespaceName: "ns", ServiceName: "svc", HealthStatus: "HEALTHY",
			Attributes: []Attribute{{"AWS_INSTANCE_IPV4", "10.0.0.1"}, {"q\"uote", "back\\slash\ttab"}, {"ctl", "a\x01b"}, {"utf8", "é日本\xff"}}},
		{InstanceId: "i-2", NamespaceName: "ns", ServiceName: "svc", HealthStatus: "UNKNOWN"},
	}}
	got := r.AppendJSON(nil)
	var decoded DiscoverInstancesResponse
	if err := json.Unmarshal(got, &decoded); err != nil {
		t.Fatalf("invalid JSON %s: %v", got, err)
	}
	want := DiscoverInstancesResponse{Instances: []HttpInstanceSummary{
		{InstanceId: "i-1", NamespaceName: "ns", ServiceName: "svc", HealthStatus: "HEALTHY",
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "q\"uote": "back\\slash\ttab", "ctl": "a\x01b", "utf8": "é日本\ufffd"}},
		{InstanceId: "i-2", NamespaceName: "ns", ServiceName: "svc", HealthStatus: "UNKNOWN", Attributes: map[string]string{}},
	}}
	rev := int64(1795637920095060)
	want.InstancesRevision = &rev
	if !reflect.DeepEqual(decoded, want) {
		t.Fatalf("decoded %+v\nwant    %+v", decoded, want)
	}
	empty := (&DiscoverInstancesResult{}).AppendJSON(nil)
	if string(empty) != `{"Instances":[],"InstancesRevision":0}` {
		t.Fatalf("empty result = %s", empty)
	}
}

func BenchmarkAppendJSONString(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = AppendJSONString(buf[:0], "AWS_INSTANCE_IPV4 10.0.0.1 some value")
	}
}

// BenchmarkEncodeAttributes: what a start pays per instance to pre-encode
// its attributes.
func BenchmarkEncodeAttributes(b *testing.B) {
	b.ReportAllocs()
	attrs := []Attribute{{Key: "AWS_INSTANCE_IPV4", Value: "10.1.2.3"}, {Key: "AWS_INSTANCE_PORT", Value: "8080"},
		{Key: "stage", Value: "canary"}, {Key: "zone", Value: "us-east-1a"}}
	for b.Loop() {
		EncodeAttributes(attrs)
	}
}

// FuzzAppendJSONString: the encoding is valid JSON that decodes to what
// encoding/json's encoding of the same string decodes to (invalid UTF-8
// becomes U+FFFD in both).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"uote back\\slash", "tab\tnl\ncr\r\x01\x1f\x7f", "é日本", "\xff\xfe", "a\xe2\x80", "\u2028<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendJSONString([]byte("x"), s)
		if got[0] != 'x' {
			t.Fatalf("%q: the prefix was overwritten: %q", s, got)
		}
		var ours, std string
		if err := json.Unmarshal(got[1:], &ours); err != nil {
			t.Fatalf("%q encodes to %s, not JSON: %v", s, got[1:], err)
		}
		want, _ := json.Marshal(s)
		if err := json.Unmarshal(want, &std); err != nil || ours != std {
			t.Fatalf("%q: decodes to %q, encoding/json's to %q", s, ours, std)
		}
	})
}

// An answer whose instances carry their attributes pre-encoded
// (AttributesJSON from EncodeAttributes, with the attributes it shares)
// is byte for byte the answer encoded from the attributes alone.
func TestAppendJSONWithEncodedAttributes(t *testing.T) {
	for _, attrs := range [][]Attribute{
		nil,
		{{"AWS_INSTANCE_IPV4", "10.0.0.1"}},
		{{"AWS_INSTANCE_IPV4", "10.0.0.1"}, {"q\"uote", "back\\slash\ttab"}, {"ctl", "a\x01b"}, {"utf8", "é日本\xff"}, {"", ""}},
	} {
		plain := &DiscoverInstancesResult{InstancesRevision: 7, Instances: []DiscoveredInstance{
			{InstanceId: "i-1", NamespaceName: "ns", ServiceName: "svc", HealthStatus: "HEALTHY", Attributes: attrs}}}
		shared := slices.Clone(attrs)
		js := EncodeAttributes(shared)
		if !reflect.DeepEqual(shared, attrs) && len(attrs) > 0 {
			t.Errorf("EncodeAttributes(%q) shares %q", attrs, shared)
		}
		pre := &DiscoverInstancesResult{InstancesRevision: 7, Instances: []DiscoveredInstance{
			{InstanceId: "i-1", NamespaceName: "ns", ServiceName: "svc", HealthStatus: "HEALTHY", Attributes: shared, AttributesJSON: js}}}
		if got, want := string(pre.AppendJSON(nil)), string(plain.AppendJSON(nil)); got != want {
			t.Errorf("pre-encoded %s\nwant        %s", got, want)
		}
	}
}

// FuzzEncodeAttributes: the shared attributes equal the given ones, and
// the object decodes to them as encoding/json decodes it.
func FuzzEncodeAttributes(f *testing.F) {
	f.Add("k", "v", "stage", "canary\t\"x\"")
	f.Add("", "\xff", "é", "\x00")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		attrs := []Attribute{{k1, v1}, {k2, v2}}
		shared := slices.Clone(attrs)
		js := EncodeAttributes(shared)
		if !reflect.DeepEqual(shared, attrs) {
			t.Fatalf("EncodeAttributes(%q) shares %q", attrs, shared)
		}
		if js != string(appendAttributes(nil, attrs)) {
			t.Fatalf("EncodeAttributes(%q) = %s, appendAttributes %s", attrs, js, appendAttributes(nil, attrs))
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatalf("invalid JSON %s: %v", js, err)
		}
	})
}

// A released result comes back from NewDiscoverInstancesResult with the
// length asked for and nothing of its earlier answer.
func TestDiscoverInstancesResultReuse(t *testing.T) {
	for _, n := range []int{3, 1, 0, 5, maxPooledInstances + 1, 2} {
		r := NewDiscoverInstancesResult(n)
		if len(r.Instances) != n || r.InstancesRevision != 0 {
			t.Fatalf("NewDiscoverInstancesResult(%d): %d instances, revision %d", n, len(r.Instances), r.InstancesRevision)
		}
		for i := range r.Instances {
			if !reflect.DeepEqual(r.Instances[i], DiscoveredInstance{}) {
				t.Fatalf("NewDiscoverInstancesResult(%d): instance %d is %+v", n, i, r.Instances[i])
			}
			r.Instances[i] = DiscoveredInstance{InstanceId: "i", Attributes: []Attribute{{"k", "v"}}, AttributesJSON: `{"k":"v"}`}
		}
		r.InstancesRevision = 9
		r.Release()
	}
}

// The ListOperations answer encodes to what encoding/json writes for it,
// byte for byte when no string needs HTML escaping, and to the same value
// whatever the strings hold.
func TestListOperationsResponse_AppendJSON_MatchesEncodingJSON(t *testing.T) {
	for _, r := range []*ListOperationsResponse{
		{},
		{Operations: []OperationSummary{}},
		{Operations: []OperationSummary{{Id: "a", Status: OperationStatusSuccess}, {Id: "b"}, {Status: OperationStatusFail}, {}}},
		{NextToken: "tok/en+==", Operations: []OperationSummary{{Id: "q\"uote\\ \t\x01 é\xff", Status: "<&>"}}},
	} {
		got := r.AppendJSON([]byte("x"))
		if got[0] != 'x' {
			t.Fatalf("the prefix was overwritten: %q", got)
		}
		got = got[1:]
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%+v encodes to %s, not JSON: %v", r, got, err)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%+v:\n got %s\nwant %s", r, got, want)
		}
		if !bytes.ContainsAny(want, `\`) && string(got) != string(want) {
			t.Errorf("%+v: not byte for byte:\n got %s\nwant %s", r, got, want)
		}
	}
}

func BenchmarkListOperationsResponse_AppendJSON(b *testing.B) {
	r := &ListOperationsResponse{NextToken: strings.Repeat("t", 200)}
	for i := range 100 {
		r.Operations = append(r.Operations, OperationSummary{Id: fmt.Sprintf("%032x", i), Status: OperationStatusSuccess})
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 16<<10)
	for b.Loop() {
		buf = r.AppendJSON(buf[:0])
	}
}
