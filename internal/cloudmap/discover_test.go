package cloudmap

import (
	"encoding/json"
	"reflect"
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
