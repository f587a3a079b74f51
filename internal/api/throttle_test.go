package api_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// --throttle aws: DiscoverInstances gets a bucket of 2,000 refilling at
// 1,000/s per account and region, and RequestLimitExceeded (400, modeled
// shape) past it; other operations 200 refilling at 100/s per account, and
// ThrottlingException (400, common shape) past it.
func TestThrottleAWS(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	srv := newProtoServer(t, func(c *api.Config) { c.Throttle = &api.AWSThrottle; c.Now = clock.now })
	discover := `{"NamespaceName":"none","ServiceName":"none"}`
	for i := range 2000 {
		if r := callOp(t, srv, "DiscoverInstances", discover); r.StatusCode != 400 || !strings.Contains(string(r.body), "NamespaceNotFound") {
			t.Fatalf("request %d of the burst: %d %s", i+1, r.StatusCode, r.body)
		}
	}
	r := callOp(t, srv, "DiscoverInstancesRevision", discover)
	if msg := expectError(t, r, 400, "RequestLimitExceeded"); !strings.Contains(msg, "quota for the number of requests") {
		t.Fatalf("message %q", msg)
	}
	clock.add(time.Millisecond) // one token back
	if r := callOp(t, srv, "DiscoverInstances", discover); strings.Contains(string(r.body), "RequestLimitExceeded") {
		t.Fatalf("a millisecond later: %s", r.body)
	}
	expectError(t, callOp(t, srv, "DiscoverInstances", discover), 400, "RequestLimitExceeded")

	// Other operations have their own bucket.
	for i := range 200 {
		if r := callOp(t, srv, "ListNamespaces", `{}`); r.StatusCode != 200 {
			t.Fatalf("request %d of the burst: %d %s", i+1, r.StatusCode, r.body)
		}
	}
	r = callOp(t, srv, "GetNamespace", `{"Id":"ns-x"}`)
	checkAPIHeaders(t, r)
	if r.StatusCode != 400 || r.Header.Get("x-amzn-ErrorType") != "ThrottlingException" ||
		string(r.body) != `{"__type":"ThrottlingException","message":"Rate exceeded"}` {
		t.Fatalf("ThrottlingException body %s; want the common errors' lower-case message", r.body)
	}
	clock.add(10 * time.Millisecond)
	if r := callOp(t, srv, "ListNamespaces", `{}`); r.StatusCode != 200 {
		t.Fatalf("10 ms later: %d %s", r.StatusCode, r.body)
	}
	// Admin operations and /healthz are never throttled.
	if r := send(t, srv, protoReq{method: "GET", path: "/healthz"}); r.StatusCode != 200 {
		t.Fatalf("/healthz: %d", r.StatusCode)
	}
	if r := send(t, srv, protoReq{target: api.AdminTargetPrefix + "Export", contentType: amzJSON, body: []byte(`{}`)}); r.StatusCode != 200 {
		t.Fatalf("Export while throttled: %d %s", r.StatusCode, r.body)
	}
}

func TestParseThrottle(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *api.ThrottleConfig
		err  string
	}{
		{in: "", want: nil},
		{in: "off", want: nil},
		{in: "aws", want: &api.AWSThrottle},
		{in: "discover=20:10", want: &api.ThrottleConfig{Discover: api.Rate{Burst: 20, PerSecond: 10}, Other: api.AWSThrottle.Other}},
		{in: "discover=2:0.5, other=1:1", want: &api.ThrottleConfig{Discover: api.Rate{Burst: 2, PerSecond: 0.5}, Other: api.Rate{Burst: 1, PerSecond: 1}}},
		{in: "on", err: "want off, aws"},
		{in: "discover=0:1", err: "burst at least 1"},
		{in: "discover=1:0", err: "burst:per-second"},
		{in: "list=1:1", err: `"list" is neither discover nor other`},
	} {
		got, err := api.ParseThrottle(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseThrottle(%q) = %v; want an error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("ParseThrottle(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}
