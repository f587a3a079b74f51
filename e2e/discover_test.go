package e2e_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

func discover(ns, svc string) *sd.DiscoverInstancesInput {
	return &sd.DiscoverInstancesInput{NamespaceName: aws.String(ns), ServiceName: aws.String(svc)}
}

func TestDiscover_Parameters(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := aws.ToString(httpService(t, c, h, "web").Id)
	mustRegister(t, c, svc, "i1", map[string]string{"stage": "prod", "zone": "a"})
	mustRegister(t, c, svc, "i2", map[string]string{"stage": "prod", "zone": "b"})
	mustRegister(t, c, svc, "i3", map[string]string{"stage": "dev", "zone": "a"})
	mustRegister(t, c, svc, "i4", map[string]string{"other": "x"})

	type params = map[string]string
	cases := []struct {
		name            string
		query, optional params
		want            []string
	}{
		{"no filter", nil, nil, []string{"i1", "i2", "i3", "i4"}},
		{"one query parameter", params{"stage": "prod"}, nil, []string{"i1", "i2"}},
		{"all query parameters must match", params{"stage": "prod", "zone": "a"}, nil, []string{"i1"}},
		{"query parameter matching none", params{"stage": "test"}, nil, nil},
		{"query on a missing attribute", params{"color": "red"}, nil, nil},
		{"query is case-sensitive", params{"stage": "PROD"}, nil, nil},
		{"optional narrows when it matches", params{"stage": "prod"}, params{"zone": "b"}, []string{"i2"}},
		{"optional ignored when it matches none", params{"stage": "prod"}, params{"zone": "c"}, []string{"i1", "i2"}},
		{"optional without query", nil, params{"zone": "a"}, []string{"i1", "i3"}},
		{"optional needs all its pairs", nil, params{"zone": "a", "stage": "dev"}, []string{"i3"}},
		{"optional all pairs, none match", nil, params{"zone": "b", "stage": "dev"}, []string{"i1", "i2", "i3", "i4"}},
		{"optional does not widen the query", params{"stage": "dev"}, params{"zone": "b"}, []string{"i3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := discover("shop", "web")
			in.QueryParameters, in.OptionalParameters = tc.query, tc.optional
			if got := discoverIDs(t, c, in); !sameSet(got, set(tc.want...)) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	out, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web"),
		QueryParameters: map[string]string{"zone": "b"}})
	must(t, err)
	if len(out.Instances) != 1 {
		t.Fatalf("got %d instances", len(out.Instances))
	}
	i := out.Instances[0]
	if aws.ToString(i.InstanceId) != "i2" || aws.ToString(i.NamespaceName) != "shop" || aws.ToString(i.ServiceName) != "web" ||
		i.HealthStatus != types.HealthStatusUnknown || !sameMap(i.Attributes, map[string]string{"stage": "prod", "zone": "b"}) {
		t.Errorf("HttpInstanceSummary = %+v", i)
	}
	if out.InstancesRevision == nil || *out.InstancesRevision != revision(t, c, "shop", "web") {
		t.Errorf("InstancesRevision = %v, want DiscoverInstancesRevision's %d", out.InstancesRevision, revision(t, c, "shop", "web"))
	}
}

func TestDiscover_Health(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	custom := customHealthService(t, c, h, "custom")
	plain := httpService(t, c, h, "plain")
	mustRegister(t, c, aws.ToString(custom.Id), "up1", map[string]string{"AWS_INIT_HEALTH_STATUS": "HEALTHY", "zone": "a"})
	mustRegister(t, c, aws.ToString(custom.Id), "up2", map[string]string{"zone": "b"}) // HEALTHY by default
	mustRegister(t, c, aws.ToString(custom.Id), "down", map[string]string{"AWS_INIT_HEALTH_STATUS": "UNHEALTHY", "zone": "b"})
	mustRegister(t, c, aws.ToString(plain.Id), "p1", nil)
	mustRegister(t, c, aws.ToString(plain.Id), "p2", nil)

	health := map[string]string{"down": "UNHEALTHY"} // the custom health expected per instance
	check := func(name string, svc string, filter types.HealthStatusFilter, query map[string]string, want ...string) {
		t.Helper()
		in := discover("shop", svc)
		in.HealthStatus, in.QueryParameters = filter, query
		out, err := c.DiscoverInstances(ctx, in)
		must(t, err)
		got := map[string]bool{}
		for _, i := range out.Instances {
			got[aws.ToString(i.InstanceId)] = true
			wantStatus := types.HealthStatusUnknown
			if svc == "custom" {
				wantStatus = types.HealthStatusHealthy
				if health[aws.ToString(i.InstanceId)] == "UNHEALTHY" {
					wantStatus = types.HealthStatusUnhealthy
				}
			}
			if i.HealthStatus != wantStatus {
				t.Errorf("%s: %s HealthStatus = %s, want %s", name, aws.ToString(i.InstanceId), i.HealthStatus, wantStatus)
			}
		}
		if !sameSet(got, set(want...)) {
			t.Errorf("%s: %s with %q = %v, want %v", name, svc, filter, got, want)
		}
	}
	check("initial", "custom", "", nil, "up1", "up2") // healthy by default
	check("initial", "custom", types.HealthStatusFilterHealthy, nil, "up1", "up2")
	check("initial", "custom", types.HealthStatusFilterUnhealthy, nil, "down")
	check("initial", "custom", types.HealthStatusFilterAll, nil, "up1", "up2", "down")
	check("initial", "custom", types.HealthStatusFilterHealthyOrElseAll, nil, "up1", "up2")
	check("initial, zone b", "custom", types.HealthStatusFilterHealthyOrElseAll, map[string]string{"zone": "b"}, "up2")

	setHealth := func(inst string, st types.CustomHealthStatus) {
		t.Helper()
		_, err := c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: custom.Id, InstanceId: aws.String(inst), Status: st})
		must(t, err)
		health[inst] = string(st)
	}
	setHealth("up2", types.CustomHealthStatusUnhealthy)
	check("up2 down", "custom", types.HealthStatusFilterHealthy, nil, "up1")
	// Among the zone-b instances none is healthy: fail open to all of them.
	check("up2 down, zone b", "custom", types.HealthStatusFilterHealthyOrElseAll, map[string]string{"zone": "b"}, "up2", "down")
	setHealth("up1", types.CustomHealthStatusUnhealthy)
	check("all down", "custom", types.HealthStatusFilterHealthy, nil)
	check("all down", "custom", "", nil)
	check("all down", "custom", types.HealthStatusFilterUnhealthy, nil, "up1", "up2", "down")
	check("all down", "custom", types.HealthStatusFilterHealthyOrElseAll, nil, "up1", "up2", "down")
	setHealth("down", types.CustomHealthStatusHealthy)
	check("down up", "custom", types.HealthStatusFilterHealthyOrElseAll, nil, "down")

	// Without a health check the filter is ignored and health is UNKNOWN.
	for _, f := range []types.HealthStatusFilter{"", types.HealthStatusFilterHealthy, types.HealthStatusFilterUnhealthy,
		types.HealthStatusFilterAll, types.HealthStatusFilterHealthyOrElseAll} {
		check("no health check", "plain", f, nil, "p1", "p2")
	}
}

func TestDiscover_MaxResults(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withNoSyncStore(t))
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := aws.ToString(httpService(t, c, h, "web").Id)
	registerMany(t, c, svc, 150)

	count := func(max *int32) int {
		t.Helper()
		in := discover("shop", "web")
		in.MaxResults = max
		return len(discoverIDs(t, c, in))
	}
	if n := count(nil); n != 100 {
		t.Errorf("default MaxResults returned %d instances, want 100", n)
	}
	if n := count(aws.Int32(1000)); n != 150 {
		t.Errorf("MaxResults 1000 returned %d instances, want all 150", n)
	}
	if n := count(aws.Int32(7)); n != 7 {
		t.Errorf("MaxResults 7 returned %d instances", n)
	}
	// The selection is random: a few small samples are not all the same.
	first := discoverIDs(t, c, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web"), MaxResults: aws.Int32(5)})
	varied := false
	for range 20 {
		if !sameSet(first, discoverIDs(t, c, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web"), MaxResults: aws.Int32(5)})) {
			varied = true
			break
		}
	}
	if !varied {
		t.Error("21 samples of 5 of 150 instances were all the same set: DiscoverInstances is not randomized")
	}
	for _, n := range []int32{0, 1001, -1} {
		_, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web"), MaxResults: aws.Int32(n)})
		checkErr[*types.InvalidInput](t, err)
	}
}

// TestDiscover_MaxResultsCap registers more instances than the 1,000 a
// DiscoverInstances call may return (the per-service quota raised).
func TestDiscover_MaxResultsCap(t *testing.T) {
	if testing.Short() {
		t.Skip("registers 1,001 instances")
	}
	t.Parallel()
	c, _ := newClient(t, withNoSyncStore(t), cairntest.WithConfig(func(cfg *server.Config) {
		cfg.Limits.InstancesPerService = 2000
	}))
	h := mustNamespace(t, c, httpNS, "shop")
	svc := aws.ToString(httpService(t, c, h, "web").Id)
	registerMany(t, c, svc, 1001)
	in := discover("shop", "web")
	in.MaxResults = aws.Int32(1000)
	if n := len(discoverIDs(t, c, in)); n != 1000 {
		t.Errorf("MaxResults 1000 of 1001 instances returned %d", n)
	}
	if n := len(discoverIDs(t, c, discover("shop", "web"))); n != 100 {
		t.Errorf("default MaxResults returned %d", n)
	}
}

// registerMany registers instances i-0 … i-(n-1) with a few concurrent
// callers.
func registerMany(t *testing.T, c *sd.Client, svcID string, n int) {
	t.Helper()
	ctx := t.Context()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if _, err := register(ctx, c, svcID, fmt.Sprint("i-", i), ipv4(i)); err != nil {
					t.Errorf("register i-%d: %v", i, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func TestDiscover_Revision(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := aws.ToString(customHealthService(t, c, h, "web").Id)
	other := aws.ToString(httpService(t, c, h, "other").Id)

	rev := revision(t, c, "shop", "web")
	step := func(what string, grows bool) {
		t.Helper()
		now := revision(t, c, "shop", "web")
		out, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web"),
			HealthStatus: types.HealthStatusFilterAll})
		must(t, err)
		if aws.ToInt64(out.InstancesRevision) != now {
			t.Errorf("after %s: DiscoverInstances InstancesRevision %d != DiscoverInstancesRevision %d", what, aws.ToInt64(out.InstancesRevision), now)
		}
		switch {
		case grows && now <= rev:
			t.Errorf("after %s: InstancesRevision %d, want more than %d", what, now, rev)
		case !grows && now != rev:
			t.Errorf("after %s: InstancesRevision changed from %d to %d", what, rev, now)
		}
		rev = now
	}
	step("nothing", false)
	mustRegister(t, c, svc, "i-1", nil)
	step("register", true)
	mustRegister(t, c, svc, "i-2", nil)
	step("register another", true)
	mustRegister(t, c, svc, "i-1", map[string]string{"v": "2"})
	step("re-register", true)
	_, err := c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: aws.String(svc), InstanceId: aws.String("i-1"), Status: types.CustomHealthStatusUnhealthy})
	must(t, err)
	step("health change", false)
	_, err = c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: aws.String(svc), InstanceId: aws.String("i-1"), Status: types.CustomHealthStatusHealthy})
	must(t, err)
	step("health change back", false)
	_, err = register(ctx, c, svc, "bad id", nil)
	checkErr[*types.InvalidInput](t, err)
	step("a refused register", false)
	mustRegister(t, c, other, "o-1", nil)
	step("a register in another service", false)
	_, err = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: aws.String(svc), Attributes: map[string]string{"a": "b"}})
	must(t, err)
	step("service attributes", false)
	mustDeregister(t, c, svc, "i-2")
	step("deregister", true)
	mustDeregister(t, c, svc, "i-1")
	step("deregister the last", true)
	mustRegister(t, c, svc, "i-1", nil)
	step("register again", true)
}

func TestDiscover_Errors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	priv := mustNamespace(t, c, privateNS, "corp.internal")
	httpService(t, c, h, "web")
	aService(t, c, priv, "db")
	reused := mustNamespace(t, c, privateNS, "shop") // Name shop, HttpName shop-<hash>
	aService(t, c, reused, "api")

	type call func(ns, svc string, mod func(*sd.DiscoverInstancesInput)) error
	calls := map[string]call{
		"DiscoverInstances": func(ns, svc string, mod func(*sd.DiscoverInstancesInput)) error {
			in := discover(ns, svc)
			if mod != nil {
				mod(in)
			}
			_, err := c.DiscoverInstances(ctx, in)
			return err
		},
		"DiscoverInstancesRevision": func(ns, svc string, mod func(*sd.DiscoverInstancesInput)) error {
			in := discover(ns, svc)
			if mod != nil {
				mod(in)
			}
			_, err := c.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: in.NamespaceName, ServiceName: in.ServiceName, OwnerAccount: in.OwnerAccount})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			must(t, call("shop", "web", nil))
			must(t, call("corp.internal", "db", nil))
			// DNS namespaces: service names match regardless of case.
			must(t, call("corp.internal", "DB", nil))
			must(t, call("shop", "web", func(in *sd.DiscoverInstancesInput) { in.OwnerAccount = aws.String(account) }))

			checkErr[*types.NamespaceNotFound](t, call("nowhere", "web", nil))
			checkErr[*types.NamespaceNotFound](t, call(h, "web", nil)) // an ID is not a name
			checkErr[*types.NamespaceNotFound](t, call("shop", "web", func(in *sd.DiscoverInstancesInput) { in.OwnerAccount = aws.String("111111111111") }))
			checkErr[*types.ServiceNotFound](t, call("shop", "nothing", nil))
			checkErr[*types.ServiceNotFound](t, call("shop", "WEB", nil)) // HTTP namespaces are case-sensitive
			checkErr[*types.ServiceNotFound](t, call("shop", "api", nil)) // api is in the namespace whose HttpName is shop-…
			checkErr[*types.ServiceNotFound](t, call("corp.internal", "web", nil))
			// The caller gave names: AWS's messages say "not found", not
			// "No service exists with the specified ID".
			if e := wantErr[*types.ServiceNotFound](t, call("shop", "nothing", nil)); e.ErrorMessage() != "Service not found" {
				t.Errorf("ServiceNotFound message %q, want %q", e.ErrorMessage(), "Service not found")
			}
			if e := wantErr[*types.NamespaceNotFound](t, call("nowhere", "web", nil)); e.ErrorMessage() != "Namespace not found" {
				t.Errorf("NamespaceNotFound message %q, want %q", e.ErrorMessage(), "Namespace not found")
			}

			checkErr[*types.InvalidInput](t, call("my shop", "web", nil))
			checkErr[*types.InvalidInput](t, call(long(1025), "web", nil))
			checkErr[*types.InvalidInput](t, call("shop", "my web", nil))
			checkErr[*types.InvalidInput](t, call("shop", long(128), nil))
			checkErr[*types.InvalidInput](t, call("shop", "web", func(in *sd.DiscoverInstancesInput) { in.OwnerAccount = aws.String("123") }))
		})
	}
	got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(reused)})
	must(t, err)
	must(t, calls["DiscoverInstances"](aws.ToString(got.Namespace.Properties.HttpProperties.HttpName), "api", nil))

	for name, mod := range map[string]func(*sd.DiscoverInstancesInput){
		"unknown HealthStatus":          func(in *sd.DiscoverInstancesInput) { in.HealthStatus = "SICK" },
		"query key with a space":        func(in *sd.DiscoverInstancesInput) { in.QueryParameters = map[string]string{"a b": "c"} },
		"optional value too long":       func(in *sd.DiscoverInstancesInput) { in.OptionalParameters = map[string]string{"a": long(1025)} },
		"query value with a line break": func(in *sd.DiscoverInstancesInput) { in.QueryParameters = map[string]string{"a": "b\nc"} },
	} {
		t.Run(name, func(t *testing.T) { checkErr[*types.InvalidInput](t, calls["DiscoverInstances"]("shop", "web", mod)) })
	}
}

// TestDiscover_DataHostPrefix calls the data-plane operations the way an
// SDK does by default, with the "data-" host prefix, through a plain HTTP
// client that dials cairn whatever host it is asked for: cairn routes by
// X-Amz-Target and ignores the Host.
func TestDiscover_DataHostPrefix(t *testing.T) {
	t.Parallel()
	admin, srv := newClient(t)
	h := mustNamespace(t, admin, httpNS, "shop")
	svc := aws.ToString(httpService(t, admin, h, "web").Id)
	mustRegister(t, admin, svc, "i-1", map[string]string{"k": "v"})

	var mu sync.Mutex
	hosts := map[string]bool{}
	dialer := &net.Dialer{}
	transport := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, srv.APIAddr())
	}}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		hosts[req.URL.Host] = true
		mu.Unlock()
		return transport.RoundTrip(req)
	})}
	_, port, _ := net.SplitHostPort(srv.APIAddr())
	c := sd.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://cairn.example:" + port),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDPLAIN", "secret", ""),
		HTTPClient:   client,
	})
	ids := discoverIDs(t, c, discover("shop", "web"))
	if !sameSet(ids, set("i-1")) {
		t.Errorf("DiscoverInstances = %v", ids)
	}
	if r := revision(t, c, "shop", "web"); r != revision(t, admin, "shop", "web") {
		t.Errorf("DiscoverInstancesRevision through data- = %d", r)
	}
	_, err := c.DiscoverInstances(t.Context(), discover("shop", "nothing"))
	checkErr[*types.ServiceNotFound](t, err)
	// A control-plane call goes to the host without the prefix.
	_, err = c.ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
	must(t, err)
	mu.Lock()
	defer mu.Unlock()
	if !hosts["data-cairn.example:"+port] || !hosts["cairn.example:"+port] || len(hosts) != 2 {
		t.Errorf("hosts used = %v, want data-cairn.example:%s and cairn.example:%s", hosts, port, port)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
