package health_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/server"
)

func (e *env) setCustom(svcID, instID string, s types.CustomHealthStatus) {
	e.t.Helper()
	_, err := e.client.UpdateInstanceCustomHealthStatus(e.ctx, &sd.UpdateInstanceCustomHealthStatusInput{
		ServiceId: aws.String(svcID), InstanceId: aws.String(instID), Status: s})
	e.must(err)
}

// customService creates a MULTIVALUE A service with a custom health check
// in a new public DNS namespace.
func (e *env) customService(nsName string) string {
	e.t.Helper()
	ns := e.publicNamespace(nsName)
	return e.service(ns, "web", &sd.CreateServiceInput{DnsConfig: multivalueA(), HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
}

// TestCustomHealth: UpdateInstanceCustomHealthStatus applies at once by
// default, and discovery, DNS and GetInstancesHealthStatus follow;
// AWS_INIT_HEALTH_STATUS sets the first status; nothing is probed.
func TestCustomHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.customService("custom.example")
	e.register(svc, "a", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"})
	e.register(svc, "b", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.2", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"})
	e.register(svc, "c", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.3", "AWS_INIT_HEALTH_STATUS": "HEALTHY"})
	rev := e.revision("custom.example", "web")
	ipOf := map[string]string{"a": "192.0.2.1", "b": "192.0.2.2", "c": "192.0.2.3"}

	expect := func(state string, want map[string]types.HealthStatus) {
		t.Helper()
		if got := e.statuses(svc); !mapsEqual(got, want) {
			t.Errorf("%s: GetInstancesHealthStatus %v, want %v", state, got, want)
		}
		if got := e.statusesPaged(svc, 1); !mapsEqual(got, want) {
			t.Errorf("%s: GetInstancesHealthStatus a page of one at a time: %v, want %v", state, got, want)
		}
		var healthy, ips []string
		for id, s := range want {
			if s == types.HealthStatusHealthy {
				healthy = append(healthy, id)
				ips = append(ips, ipOf[id])
			}
		}
		if len(ips) == 0 {
			ips = []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} // DNS fails open
		}
		if got, _ := e.discover("custom.example", "web", ""); !slices.Equal(got, sorted(healthy...)) {
			t.Errorf("%s: DiscoverInstances %v, want %v", state, got, sorted(healthy...))
		}
		if got := e.lookupA("web.custom.example"); !slices.Equal(got, sorted(ips...)) {
			t.Errorf("%s: DNS %v, want %v", state, got, sorted(ips...))
		}
		if got := e.revision("custom.example", "web"); got != rev {
			t.Errorf("%s: InstancesRevision %d, want %d", state, got, rev)
		}
	}
	H, U := types.HealthStatusHealthy, types.HealthStatusUnhealthy
	expect("registered", map[string]types.HealthStatus{"a": H, "b": U, "c": H})
	e.setCustom(svc, "a", types.CustomHealthStatusUnhealthy)
	expect("a set UNHEALTHY", map[string]types.HealthStatus{"a": U, "b": U, "c": H})
	e.setCustom(svc, "a", types.CustomHealthStatusUnhealthy) // a repeat changes nothing
	e.setCustom(svc, "b", types.CustomHealthStatusHealthy)
	expect("b set HEALTHY", map[string]types.HealthStatus{"a": U, "b": H, "c": H})
	e.setCustom(svc, "b", types.CustomHealthStatusUnhealthy)
	e.setCustom(svc, "c", types.CustomHealthStatusUnhealthy)
	expect("all UNHEALTHY", map[string]types.HealthStatus{"a": U, "b": U, "c": U})
	if ids, _ := e.discover("custom.example", "web", types.HealthStatusFilterHealthyOrElseAll); len(ids) != 3 {
		t.Errorf("HEALTHY_OR_ELSE_ALL with none healthy returned %v, want all", ids)
	}
	e.setCustom(svc, "a", types.CustomHealthStatusHealthy)
	expect("a back", map[string]types.HealthStatus{"a": H, "b": U, "c": U})

	// Re-registering keeps nothing of the old status but
	// AWS_INIT_HEALTH_STATUS.
	e.register(svc, "b", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.2"})
	if s := e.status(svc, "b"); s != H {
		t.Errorf("re-registered without AWS_INIT_HEALTH_STATUS, b is %s, want HEALTHY", s)
	}
	if st := e.srv.HealthStats(); st.Targets != 0 || st.Probes != 0 {
		t.Errorf("custom health checks were probed: %+v", st)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCustomHealthErrors: custom status updates are for custom health
// checks only.
func TestCustomHealthErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newHTTPTarget(t, "", false)
	ns := e.httpNamespace("errors.test")
	route53 := e.service(ns, "route53", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeHttp, "", 1)})
	none := e.service(ns, "none", nil)
	custom := e.service(ns, "custom", &sd.CreateServiceInput{HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
	e.register(route53, "i-1", h.attrs())
	e.register(none, "i-1", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"})
	e.register(custom, "i-1", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"})
	set := func(svc, inst string) error {
		_, err := e.client.UpdateInstanceCustomHealthStatus(e.ctx, &sd.UpdateInstanceCustomHealthStatusInput{
			ServiceId: aws.String(svc), InstanceId: aws.String(inst), Status: types.CustomHealthStatusUnhealthy})
		return err
	}
	var notCustom *types.CustomHealthNotFound
	if err := set(route53, "i-1"); !errors.As(err, &notCustom) {
		t.Errorf("on a service with a Route 53 check: %v, want CustomHealthNotFound", err)
	}
	if err := set(none, "i-1"); !errors.As(err, &notCustom) {
		t.Errorf("on a service without a health check: %v, want CustomHealthNotFound", err)
	}
	var noInstance *types.InstanceNotFound
	if err := set(custom, "i-404"); !errors.As(err, &noInstance) {
		t.Errorf("for a missing instance: %v, want InstanceNotFound", err)
	}
	var noService *types.ServiceNotFound
	if err := set("srv-aaaaaaaaaaaaaaaa", "i-1"); !errors.As(err, &noService) {
		t.Errorf("for a missing service: %v, want ServiceNotFound", err)
	}
	if s := e.status(route53, "i-1"); s != types.HealthStatusHealthy {
		t.Errorf("the Route 53-checked instance is %s after the refused request, want HEALTHY", s)
	}
	if s := e.status(none, "i-1"); s != types.HealthStatusUnknown {
		t.Errorf("an instance without a health check is %s, want UNKNOWN", s)
	}
	_, err := e.client.RegisterInstance(e.ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(none), InstanceId: aws.String("i-2"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"}})
	var invalid *types.InvalidInput
	if !errors.As(err, &invalid) {
		t.Errorf("AWS_INIT_HEALTH_STATUS without a custom health check: %v, want InvalidInput", err)
	}
}

// TestCustomHealthDelay: with CustomHealthDelay a change applies only
// after the delay; repeating it doesn't restart the clock; asking for the
// status in effect cancels it.
func TestCustomHealthDelay(t *testing.T) {
	t.Parallel()
	const delay = 400 * time.Millisecond
	e := newEnv(t, func(c *server.Config) { c.CustomHealthDelay = delay })
	svc := e.customService("delay.example")
	for _, id := range []string{"apply", "cancel", "init"} {
		attrs := map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"}
		if id == "init" {
			attrs["AWS_INIT_HEALTH_STATUS"] = "UNHEALTHY"
		}
		e.register(svc, id, attrs)
	}
	if s := e.status(svc, "init"); s != types.HealthStatusUnhealthy {
		t.Errorf("AWS_INIT_HEALTH_STATUS applies at once even with a delay; init is %s", s)
	}

	// A change applies after the delay, and not before.
	start := time.Now()
	e.setCustom(svc, "apply", types.CustomHealthStatusUnhealthy)
	if s := e.status(svc, "apply"); s != types.HealthStatusHealthy && time.Since(start) < delay {
		t.Errorf("UNHEALTHY applied at once despite the delay")
	}
	e.waitStatus(svc, "apply", types.HealthStatusUnhealthy)
	if took := time.Since(start); took < delay-10*time.Millisecond {
		t.Errorf("UNHEALTHY applied after %v, before the %v delay", took, delay)
	}
	// Back to HEALTHY takes the delay too.
	start = time.Now()
	e.setCustom(svc, "apply", types.CustomHealthStatusHealthy)
	e.waitStatus(svc, "apply", types.HealthStatusHealthy)
	if took := time.Since(start); took < delay-10*time.Millisecond {
		t.Errorf("HEALTHY applied after %v, before the %v delay", took, delay)
	}

	// Asking for the status in effect cancels a pending change.
	start = time.Now()
	e.setCustom(svc, "cancel", types.CustomHealthStatusUnhealthy)
	e.setCustom(svc, "cancel", types.CustomHealthStatusHealthy)
	time.Sleep(delay + 200*time.Millisecond - time.Since(start))
	if s := e.status(svc, "cancel"); s != types.HealthStatusHealthy {
		t.Errorf("a cancelled change applied: cancel is %s", s)
	}
}

// TestCustomHealthDelayRepeat: repeating a pending change doesn't restart
// the clock. The delay is longer than TestCustomHealthDelay's so that the
// two possible outcomes are far apart: with the clock kept, the change
// shows about 0.5 s after the repeat; restarted, 1.5 s after it.
func TestCustomHealthDelayRepeat(t *testing.T) {
	t.Parallel()
	const delay = 1500 * time.Millisecond
	e := newEnv(t, func(c *server.Config) { c.CustomHealthDelay = delay })
	svc := e.customService("repeat.example")
	e.register(svc, "i-1", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"})
	start := time.Now()
	e.setCustom(svc, "i-1", types.CustomHealthStatusUnhealthy)
	time.Sleep(time.Second)
	repeated := time.Now()
	e.setCustom(svc, "i-1", types.CustomHealthStatusUnhealthy)
	e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
	seen := time.Now()
	if seen.Sub(repeated) >= delay {
		t.Errorf("UNHEALTHY showed %v after the repeat (%v after the first request): the repeat restarted the clock",
			seen.Sub(repeated), seen.Sub(start))
	}
	if seen.Sub(start) < delay-10*time.Millisecond {
		t.Errorf("UNHEALTHY showed %v after the first request, before the delay", seen.Sub(start))
	}
}
