package registry

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseARN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want arnParts
		ok   bool
	}{
		{"arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-ylexjili4cdxy3xm",
			arnParts{"us-east-1", "123456789012", "namespace", "ns-ylexjili4cdxy3xm"}, true},
		{"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678",
			arnParts{"us-west-2", "123456789012", "service", "srv-abcd1234xmpl5678"}, true},
		{"arn:aws-cn:servicediscovery:cn-north-1:123456789012:service/srv-1",
			arnParts{"cn-north-1", "123456789012", "service", "srv-1"}, true},
		{"arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns:1",
			arnParts{"us-east-1", "123456789012", "namespace", "ns:1"}, true},
		{"arn:aws:route53:us-east-1:123456789012:namespace/ns-1", arnParts{}, false},
		{"arn:aws:servicediscovery:us-east-1:123456789012:namespace", arnParts{}, false},
		{"arn:aws:servicediscovery:us-east-1:123456789012:namespace/", arnParts{}, false},
		{"arn:aws:servicediscovery:us-east-1:123456789012:namespace/a/b", arnParts{}, false},
		{"arn:aws:servicediscovery:us-east-1:123456789012", arnParts{}, false},
		{"arn:aws:servicediscovery", arnParts{}, false},
		{"urn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1", arnParts{}, false},
		{"ns-ylexjili4cdxy3xm", arnParts{}, false},
		{"", arnParts{}, false},
	} {
		got, ok := parseARN(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseARN(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestARNs(t *testing.T) {
	for _, tc := range []struct{ region, ns, svc string }{
		{"us-east-1", "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1", "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"},
		{"cn-north-1", "arn:aws-cn:servicediscovery:cn-north-1:123456789012:namespace/ns-1", "arn:aws-cn:servicediscovery:cn-north-1:123456789012:service/srv-1"},
		{"us-gov-west-1", "arn:aws-us-gov:servicediscovery:us-gov-west-1:123456789012:namespace/ns-1", "arn:aws-us-gov:servicediscovery:us-gov-west-1:123456789012:service/srv-1"},
	} {
		if got := NamespaceARN(tc.region, "123456789012", "ns-1"); got != tc.ns {
			t.Errorf("NamespaceARN(%s) = %s", tc.region, got)
		}
		if got := ServiceARN(tc.region, "123456789012", "srv-1"); got != tc.svc {
			t.Errorf("ServiceARN(%s) = %s", tc.region, got)
		}
		a, ok := parseARN(tc.svc)
		if !ok || a != (arnParts{tc.region, "123456789012", "service", "srv-1"}) {
			t.Errorf("parseARN(ServiceARN) = %+v, %v", a, ok)
		}
	}
}

func TestResolveID(t *testing.T) {
	c := Caller{Account: "123456789012", Region: "us-east-1"}
	for _, tc := range []struct {
		kind  string
		res   Resource
		in    string
		want  string
		found bool
	}{
		{"namespace", ResNamespace, "ns-1", "ns-1", true},
		{"service", ResService, "srv-1", "srv-1", true},
		{"service", ResService, "anything at all", "anything at all", true}, // an ID is looked up as it is
		{"namespace", ResNamespace, NamespaceARN("us-east-1", "123456789012", "ns-1"), "ns-1", true},
		{"service", ResService, ServiceARN("us-east-1", "123456789012", "srv-1"), "srv-1", true},
		{"service", ResService, NamespaceARN("us-east-1", "123456789012", "ns-1"), "", false},    // other kind
		{"namespace", ResNamespace, ServiceARN("us-east-1", "123456789012", "srv-1"), "", false}, // other kind
		{"service", ResService, ServiceARN("us-west-2", "123456789012", "srv-1"), "", false},     // other region
		{"service", ResService, ServiceARN("us-east-1", "210987654321", "srv-1"), "srv-1", true}, // other account: access is checked against sharing
		{"service", ResService, "arn:not-an-arn", "", false},
		{"namespace", ResNamespace, "arn:", "", false},
	} {
		got, err := resolveID(c, tc.kind, tc.res, tc.in)
		if tc.found {
			if err != nil || got != tc.want {
				t.Errorf("resolveID(%s, %q) = %q, %v; want %q", tc.kind, tc.in, got, err, tc.want)
			}
			continue
		}
		e, ok := AsError(err)
		if !ok || e.Kind != KindNotFound || e.Resource != tc.res || !strings.Contains(e.Message, tc.in) {
			t.Errorf("resolveID(%s, %q) = %q, %#v; want %s NotFound", tc.kind, tc.in, got, err, tc.res)
		}
	}
}

var operationIDForm = regexp.MustCompile(`^[a-z2-7]{32}-[0-9a-z]{8}$`)

func TestOperationID(t *testing.T) {
	// The example of GetOperation: created at 1587055860.121.
	at := time.UnixMilli(1587055860121)
	id := operationID("123456789012", "ns-ylexjili4cdxy3xm", at)
	if !operationIDForm.MatchString(id) {
		t.Fatalf("operation ID %q is not 32 base32 characters, '-', 8 base36", id)
	}
	if !strings.HasSuffix(id, "-k9302yzd") {
		t.Errorf("operation ID %q: suffix is not base36 of 1587055860121 (k9302yzd)", id)
	}
	ms, err := strconv.ParseInt(id[33:], 36, 64)
	if err != nil || ms != at.UnixMilli() {
		t.Errorf("suffix %s = %d ms, want %d", id[33:], ms, at.UnixMilli())
	}

	// The prefix is stable for a target and differs between targets and
	// accounts; the suffix follows the clock.
	later := operationID("123456789012", "ns-ylexjili4cdxy3xm", at.Add(40348*time.Millisecond))
	if later[:32] != id[:32] || later == id {
		t.Errorf("same target: %s then %s", id, later)
	}
	if other := operationID("123456789012", "ns-other", at); other[:32] == id[:32] {
		t.Errorf("two targets share the prefix %s", id[:32])
	}
	if other := operationID("210987654321", "ns-ylexjili4cdxy3xm", at); other[:32] == id[:32] {
		t.Errorf("two accounts share the prefix %s", id[:32])
	}

	// Early times are padded to 8 characters.
	for _, ms := range []int64{0, 1, 35, 36, 1e9} {
		id := operationID("a", "t", time.UnixMilli(ms))
		if !operationIDForm.MatchString(id) {
			t.Errorf("operation ID at %d ms = %q", ms, id)
		}
		if got, _ := strconv.ParseInt(id[33:], 36, 64); got != ms {
			t.Errorf("operation ID at %d ms has suffix %s", ms, id[33:])
		}
	}
}

func TestResourceIDs(t *testing.T) {
	nsForm := regexp.MustCompile(`^ns-[a-z2-7]{16}$`)
	srvForm := regexp.MustCompile(`^srv-[a-z2-7]{16}$`)
	seen := map[string]bool{}
	for range 200 {
		ns, srv := newNamespaceID(), newServiceID()
		if !nsForm.MatchString(ns) || !srvForm.MatchString(srv) {
			t.Fatalf("IDs %q, %q", ns, srv)
		}
		if seen[ns] || seen[srv] {
			t.Fatalf("repeated ID")
		}
		seen[ns], seen[srv] = true, true
	}
	z := hostedZoneID("ns-ylexjili4cdxy3xm")
	if !regexp.MustCompile(`^Z[A-Z2-7]{20}$`).MatchString(z) || z != hostedZoneID("ns-ylexjili4cdxy3xm") || z == hostedZoneID("ns-other") {
		t.Errorf("hostedZoneID = %q", z)
	}
}
