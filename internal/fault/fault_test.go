package fault

import (
	"strings"
	"testing"
	"time"
)

func TestAddChecks(t *testing.T) {
	for _, tc := range []struct {
		f    Fault
		want string
	}{
		{Fault{Operation: "DiscoverInstances", Error: "RequestLimitExceeded"}, ""},
		{Fault{Operation: "DiscoverInstances", Error: "ThrottlingException", Latency: "10ms", Probability: 0.5, Count: 3}, ""},
		{Fault{Operation: "GetService", Latency: "1s"}, ""},
		{Fault{DNSName: "web.corp.test.", DNS: "servfail"}, ""},
		{Fault{Operation: "Discover", Error: "InvalidInput"}, `"Discover" is not a Cloud Map operation`},
		{Fault{Operation: "ListNamespaces", Error: "NamespaceNotFound"}, "ListNamespaces can't answer"},
		{Fault{Operation: "ListNamespaces"}, "needs an error, a latency"},
		{Fault{Operation: "ListNamespaces", Latency: "soon"}, "is not a duration"},
		{Fault{Operation: "ListNamespaces", Error: "InternalFailure", Probability: 2}, "probability"},
		{Fault{Operation: "ListNamespaces", Error: "InternalFailure", Count: -1}, "count"},
		{Fault{DNSName: "x", DNS: "DELAY"}, "needs a latency"},
		{Fault{DNSName: "x", DNS: "REFUSE"}, "not SERVFAIL"},
		{Fault{DNS: "SERVFAIL"}, "needs the DNS name"},
		{Fault{DNSName: "x", DNS: "SERVFAIL", Operation: "GetService"}, "not an operation"},
	} {
		_, err := NewSet().Add("111111111111", tc.f)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Add(%+v) = %v; want %q", tc.f, err, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	s := NewSet()
	if _, ok := s.Match(Request{Account: "a", Operation: "GetService"}); ok {
		t.Fatal("an empty set matched")
	}
	s.Add("a", Fault{Operation: "GetService", Latency: "10ms"})
	s.Add("a", Fault{Operation: "GetService", Error: "ServiceNotFound", Latency: "5ms", ServiceId: "srv-1"})
	s.Add("b", Fault{Operation: "GetService", Error: "InternalFailure"})
	if h, ok := s.Match(Request{Account: "a", Operation: "GetService", ServiceID: "srv-1"}); !ok || h.Latency != 15*time.Millisecond || h.Error != "ServiceNotFound" || h.Status != 400 {
		t.Fatalf("match %+v %v", h, ok)
	}
	if h, ok := s.Match(Request{Account: "a", Operation: "GetService", ServiceID: "srv-2"}); !ok || h.Error != "" {
		t.Fatalf("other service: %+v %v", h, ok)
	}
	if h, _ := s.Match(Request{Account: "b", Operation: "GetService"}); h.Status != 500 {
		t.Fatalf("account b: %+v", h)
	}
	if n := s.Clear("a", ""); n != 2 || len(s.List("b")) != 1 {
		t.Fatalf("cleared %d, b keeps %d", n, len(s.List("b")))
	}
}

func BenchmarkMatchNone(b *testing.B) {
	s := NewSet()
	b.ReportAllocs()
	for b.Loop() {
		if s.Active() {
			b.Fatal("active")
		}
	}
}
