package registry

import (
	"context"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// The attributes the view keeps encoded with each instance are what the
// answer would encode from the attributes themselves, after a
// registration and after a re-registration that changes them, with
// keys and values that need escaping.
func TestDiscoverPreEncodedAttributes(t *testing.T) {
	s := scope{Account: "000000000000", Region: "us-east-1"}
	v := newView()
	changes := []store.Change{
		{Key: nsKey("ns-1"), Value: encode(&nsRecord{scope: s, ID: "ns-1", Name: "n", HTTPName: "n", Type: "HTTP"})},
		{Key: svcKey("srv-1"), Value: encode(&svcRecord{scope: s, ID: "srv-1", NamespaceID: "ns-1", Name: "svc", Type: "HTTP"})},
	}
	put := func(rev int64, attrs map[string]string) {
		t.Helper()
		rec := &instRecord{ServiceID: "srv-1", ID: "i-1", CreatedBy: s.Account, Attributes: attrs}
		if err := v.apply(rev, append(changes, store.Change{Key: instKey("srv-1", "i-1"), Value: encode(rec)})); err != nil {
			t.Fatal(err)
		}
	}
	r := &Registry{cfg: Config{}}
	r.view.Store(v)
	for rev, attrs := range []map[string]string{
		{"AWS_INSTANCE_IPV4": "10.0.0.1", "stage": "canary"},
		{"q\"uote": "back\\slash\ttab", "é": "日本", "ctl": "a\x01b"},
		{},
	} {
		put(int64(rev+1), attrs)
		out, err := r.DiscoverInstances(context.Background(), Caller{Account: s.Account, Region: s.Region},
			&cloudmap.DiscoverInstancesRequest{NamespaceName: "n", ServiceName: "svc"})
		if err != nil || len(out.Instances) != 1 {
			t.Fatalf("%v, %d instances", err, len(out.Instances))
		}
		got := string(out.AppendJSON(nil))
		if out.Instances[0].AttributesJSON == "" {
			t.Fatalf("no pre-encoded attributes in %+v", out.Instances[0])
		}
		out.Instances[0].AttributesJSON = ""
		if want := string(out.AppendJSON(nil)); got != want {
			t.Errorf("answer %s\nwant   %s", got, want)
		}
		if len(out.Instances[0].Attributes) != len(attrs) {
			t.Errorf("attributes %v, registered %v", out.Instances[0].Attributes, attrs)
		}
		for _, a := range out.Instances[0].Attributes {
			if attrs[a.Key] != a.Value {
				t.Errorf("attribute %q = %q, registered %q", a.Key, a.Value, attrs[a.Key])
			}
		}
	}
}
