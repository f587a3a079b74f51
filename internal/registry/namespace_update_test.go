package registry

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// TestPrivateUpdate_SameJSON checks that a public namespace's update,
// taken as the private one's type, encodes as it came: the fingerprint of
// an update (and so what a retried UpdaterRequestId matches) must not
// depend on the conversion, nor must the model's checks.
func TestPrivateUpdate_SameJSON(t *testing.T) {
	ttl := int64(60)
	tests := []struct {
		name string
		in   cloudmap.UpdatePublicDnsNamespaceRequest
	}{
		{"empty", cloudmap.UpdatePublicDnsNamespaceRequest{}},
		{"description", cloudmap.UpdatePublicDnsNamespaceRequest{Id: "ns-1", UpdaterRequestId: "t",
			Namespace: &cloudmap.PublicDnsNamespaceChange{Description: "d"}}},
		{"empty properties", cloudmap.UpdatePublicDnsNamespaceRequest{Id: "ns-1",
			Namespace: &cloudmap.PublicDnsNamespaceChange{Properties: &cloudmap.PublicDnsNamespacePropertiesChange{}}}},
		{"no SOA", cloudmap.UpdatePublicDnsNamespaceRequest{Id: "ns-1",
			Namespace: &cloudmap.PublicDnsNamespaceChange{Properties: &cloudmap.PublicDnsNamespacePropertiesChange{
				DnsProperties: &cloudmap.PublicDnsPropertiesMutableChange{}}}}},
		{"SOA TTL", cloudmap.UpdatePublicDnsNamespaceRequest{Id: "ns-1", UpdaterRequestId: "t",
			Namespace: &cloudmap.PublicDnsNamespaceChange{Description: "d", Properties: &cloudmap.PublicDnsNamespacePropertiesChange{
				DnsProperties: &cloudmap.PublicDnsPropertiesMutableChange{SOA: &cloudmap.SOAChange{TTL: &ttl}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(&tt.in)
			if err != nil {
				t.Fatal(err)
			}
			conv := privateUpdate(&tt.in)
			got, err := json.Marshal(conv)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("JSON = %s, want %s", got, want)
			}
			if a, b := errString(check(&tt.in)), errString(check(conv)); a != b {
				t.Errorf("check = %q, want %q", b, a)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
