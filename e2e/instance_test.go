package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

func TestInstance_RegisterGet(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	priv := mustNamespace(t, c, privateNS, "corp.internal")
	svc := aService(t, c, priv, "web")
	svcID := aws.ToString(svc.Id)

	out, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Arn, InstanceId: aws.String("web-1"),
		CreatorRequestId: aws.String("reg-1"), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "stage": "prod"}})
	must(t, err)
	if !operationIDRe.MatchString(aws.ToString(out.OperationId)) {
		t.Errorf("OperationId %q does not match %s", aws.ToString(out.OperationId), operationIDRe)
	}
	op := waitSuccess(t, c, out.OperationId)
	if op.Type != types.OperationTypeRegisterInstance || op.Targets["INSTANCE"] != "web-1" || op.Targets["SERVICE"] != svcID {
		t.Errorf("operation = %s %v, want REGISTER_INSTANCE with INSTANCE web-1 and SERVICE %s", op.Type, op.Targets, svcID)
	}
	for _, ref := range []*string{svc.Id, svc.Arn} {
		got, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: ref, InstanceId: aws.String("web-1")})
		must(t, err)
		i := got.Instance
		if aws.ToString(i.Id) != "web-1" || aws.ToString(i.CreatorRequestId) != "reg-1" || aws.ToString(i.CreatedByAccount) != account ||
			aws.ToString(got.ResourceOwner) != account || !sameMap(i.Attributes, map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "stage": "prod"}) {
			t.Errorf("GetInstance = %+v (owner %s)", i, aws.ToString(got.ResourceOwner))
		}
	}
	if s, _ := c.GetService(ctx, &sd.GetServiceInput{Id: svc.Id}); aws.ToInt32(s.Service.InstanceCount) != 1 {
		t.Errorf("InstanceCount = %d, want 1", aws.ToInt32(s.Service.InstanceCount))
	}

	// Re-registering replaces every attribute; nothing is merged.
	mustRegister(t, c, svcID, "web-1", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.2", "zone": "b"})
	got, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("web-1")})
	must(t, err)
	if !sameMap(got.Instance.Attributes, map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.2", "zone": "b"}) {
		t.Errorf("attributes after re-registering = %v", got.Instance.Attributes)
	}
	list, err := c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: svc.Arn})
	must(t, err)
	if len(list.Instances) != 1 || aws.ToString(list.Instances[0].Id) != "web-1" || list.Instances[0].Attributes["zone"] != "b" ||
		aws.ToString(list.Instances[0].CreatedByAccount) != account || aws.ToString(list.ResourceOwner) != account {
		t.Errorf("ListInstances = %+v", list)
	}
	if s, _ := c.GetService(ctx, &sd.GetServiceInput{Id: svc.Id}); aws.ToInt32(s.Service.InstanceCount) != 1 {
		t.Errorf("InstanceCount after re-registering = %d, want 1", aws.ToInt32(s.Service.InstanceCount))
	}
	// InstanceId may use the pattern's punctuation.
	mustRegister(t, c, svcID, "a_b/c:d.e@f-1", ipv4(1))
}

func TestInstance_RegisterAttributes(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h, priv, pub := threeNamespaces(t, c)
	svc := func(name, nsID string, policy types.RoutingPolicy, hc *types.HealthCheckConfig, custom bool, recs ...any) string {
		in := &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID), HealthCheckConfig: hc}
		if len(recs) > 0 {
			in.DnsConfig = &types.DnsConfig{RoutingPolicy: policy, DnsRecords: records(recs...)}
		}
		if custom {
			in.HealthCheckCustomConfig = &types.HealthCheckCustomConfig{}
		}
		return aws.ToString(mustService(t, c, in).Id)
	}
	a := svc("a", priv, "", nil, false, "A", 60)
	aaaa := svc("aaaa", priv, "", nil, false, "AAAA", 60)
	both := svc("both", priv, "", nil, false, "A", 60, "AAAA", 60)
	srv := svc("srv", priv, "", nil, false, "SRV", 60)
	cname := svc("cname", priv, types.RoutingPolicyWeighted, nil, false, "CNAME", 60)
	weighted := svc("weighted", pub, types.RoutingPolicyWeighted, nil, false, "A", 60)
	checked := svc("checked", pub, "", &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}, false, "A", 60)
	custom := svc("custom", h, "", nil, true)
	plain := svc("plain", h, "", nil, false)
	privCustom := svc("privcustom", priv, "", nil, true, "A", 60)

	manyAttrs := map[string]string{}
	for i := range 31 {
		manyAttrs[fmt.Sprint("k", i)] = "v"
	}
	thirty := map[string]string{}
	for i := range 30 {
		thirty[fmt.Sprint("k", i)] = "v"
	}
	big := map[string]string{}
	for i := range 5 {
		big[fmt.Sprint("k", i)] = strings.Repeat("v", 999) // 5 × (2+999) = 5005 characters
	}
	fits := map[string]string{}
	for i := range 5 {
		fits[fmt.Sprint("k", i)] = strings.Repeat("v", 998) // 5 × (2+998) = 5000 characters
	}
	type attrs = map[string]string
	cases := []struct {
		name  string
		svc   string
		id    string
		attrs attrs
		ok    bool
	}{
		{"A: IPv4", a, "", attrs{"AWS_INSTANCE_IPV4": "192.0.2.1"}, true},
		{"A: no IPv4", a, "", attrs{"AWS_INSTANCE_IPV6": "2001:db8::1"}, false},
		{"A: malformed IPv4", a, "", attrs{"AWS_INSTANCE_IPV4": "300.1.2.3"}, false},
		{"A: short IPv4", a, "", attrs{"AWS_INSTANCE_IPV4": "10.0.0"}, false},
		{"A: IPv6 as IPv4", a, "", attrs{"AWS_INSTANCE_IPV4": "2001:db8::1"}, false},
		{"AAAA: IPv6", aaaa, "", attrs{"AWS_INSTANCE_IPV6": "2001:db8::1"}, true},
		{"AAAA: no IPv6", aaaa, "", attrs{"AWS_INSTANCE_IPV4": "192.0.2.1"}, false},
		{"AAAA: malformed IPv6", aaaa, "", attrs{"AWS_INSTANCE_IPV6": "2001:db8::g"}, false},
		{"AAAA: IPv4 as IPv6", aaaa, "", attrs{"AWS_INSTANCE_IPV6": "192.0.2.1"}, false},
		{"A+AAAA: IPv6 only", both, "", attrs{"AWS_INSTANCE_IPV6": "2001:db8::1"}, true},
		{"A+AAAA: IPv4 only", both, "", attrs{"AWS_INSTANCE_IPV4": "192.0.2.1"}, true},
		{"A+AAAA: neither", both, "", attrs{"x": "y"}, false},
		{"SRV: port and IPv4", srv, "", attrs{"AWS_INSTANCE_PORT": "8080", "AWS_INSTANCE_IPV4": "192.0.2.1"}, true},
		{"SRV: port and IPv6", srv, "", attrs{"AWS_INSTANCE_PORT": "0", "AWS_INSTANCE_IPV6": "::1"}, true},
		{"SRV: no port", srv, "", attrs{"AWS_INSTANCE_IPV4": "192.0.2.1"}, false},
		{"SRV: no address", srv, "", attrs{"AWS_INSTANCE_PORT": "8080"}, false},
		{"SRV: port too big", srv, "", attrs{"AWS_INSTANCE_PORT": "65536", "AWS_INSTANCE_IPV4": "192.0.2.1"}, false},
		{"SRV: port not a number", srv, "", attrs{"AWS_INSTANCE_PORT": "http", "AWS_INSTANCE_IPV4": "192.0.2.1"}, false},
		{"SRV: negative port", srv, "", attrs{"AWS_INSTANCE_PORT": "-1", "AWS_INSTANCE_IPV4": "192.0.2.1"}, false},
		{"CNAME: name", cname, "", attrs{"AWS_INSTANCE_CNAME": "www.example.com"}, true},
		{"CNAME: missing", cname, "", attrs{"AWS_INSTANCE_IPV4": "192.0.2.1"}, false},
		{"CNAME: not a domain", cname, "", attrs{"AWS_INSTANCE_CNAME": "not!a.domain"}, false},
		{"alias on a WEIGHTED A service", weighted, "", attrs{"AWS_ALIAS_DNS_NAME": "my-lb-123.us-east-1.elb.amazonaws.com"}, true},
		{"alias on a MULTIVALUE service", a, "", attrs{"AWS_ALIAS_DNS_NAME": "my-lb-123.us-east-1.elb.amazonaws.com"}, false},
		{"alias with AWS_INSTANCE_IPV4", weighted, "", attrs{"AWS_ALIAS_DNS_NAME": "lb.example.com", "AWS_INSTANCE_IPV4": "192.0.2.1"}, false},
		{"health check: port", checked, "", attrs{"AWS_INSTANCE_IPV4": "192.0.2.1", "AWS_INSTANCE_PORT": "80"}, true},
		{"health check: no port", checked, "", attrs{"AWS_INSTANCE_IPV4": "192.0.2.1"}, false},
		{"init health on custom", custom, "", attrs{"AWS_INIT_HEALTH_STATUS": "UNHEALTHY"}, true},
		{"init health not HEALTHY/UNHEALTHY", custom, "", attrs{"AWS_INIT_HEALTH_STATUS": "UNKNOWN"}, false},
		{"init health without custom config", plain, "", attrs{"AWS_INIT_HEALTH_STATUS": "HEALTHY"}, false},
		{"init health on a Route 53 checked service", checked, "", attrs{"AWS_INSTANCE_IPV4": "192.0.2.1", "AWS_INSTANCE_PORT": "80", "AWS_INIT_HEALTH_STATUS": "HEALTHY"}, false},
		{"EC2 instance in an HTTP namespace", custom, "", attrs{"AWS_EC2_INSTANCE_ID": "i-0abcdef1234567890", "AWS_INIT_HEALTH_STATUS": "HEALTHY"}, true},
		{"EC2 instance with another attribute", plain, "", attrs{"AWS_EC2_INSTANCE_ID": "i-0abcdef1234567890", "stage": "prod"}, false},
		{"EC2 instance in a DNS namespace", privCustom, "", attrs{"AWS_EC2_INSTANCE_ID": "i-0abcdef1234567890"}, false},
		{"30 attributes", plain, "", thirty, true},
		{"31 attributes", plain, "", manyAttrs, false},
		{"5000 characters", plain, "", fits, true},
		{"5005 characters", plain, "", big, false},
		{"key with a space", plain, "", attrs{"my key": "v"}, false},
		{"key too long", plain, "", attrs{long(256): "v"}, false},
		{"value too long", plain, "", attrs{"k": long(1025)}, false},
		{"value with a newline", plain, "", attrs{"k": "a\nb"}, false},
		{"InstanceId with a space", plain, "i 1", attrs{}, false},
		{"InstanceId too long", plain, long(65), attrs{}, false},
		{"no attributes on a plain service", plain, "", attrs{}, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.id
			if id == "" {
				id = fmt.Sprintf("i-%d", i)
			}
			opID, err := register(ctx, c, tc.svc, id, tc.attrs)
			if tc.ok {
				must(t, err)
				waitSuccess(t, c, opID)
				return
			}
			checkErr[*types.InvalidInput](t, err)
			if _, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: aws.String(tc.svc), InstanceId: aws.String(id)}); err == nil && len(id) <= 64 {
				t.Errorf("the refused instance %s exists", id)
			}
		})
	}
	_, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(plain), InstanceId: aws.String("x"),
		CreatorRequestId: aws.String(long(65)), Attributes: map[string]string{}})
	checkErr[*types.InvalidInput](t, err)
	_, err = c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(long(256)), InstanceId: aws.String("x"), Attributes: map[string]string{}})
	checkErr[*types.InvalidInput](t, err)
}

func TestInstance_RegisterErrors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, cairntest.WithConfig(func(cfg *server.Config) {
		cfg.Limits.InstancesPerService = 2
		cfg.Limits.InstancesPerNamespace = 3
	}))
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	s1 := aws.ToString(httpService(t, c, h, "one").Id)
	s2 := aws.ToString(httpService(t, c, h, "two").Id)

	for _, ref := range []string{"srv-aaaaaaaaaaaaaaaa", h,
		"arn:aws:servicediscovery:eu-west-1:" + account + ":service/" + s1,
		"arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + h} {
		_, err := register(ctx, c, ref, "i-1", nil)
		checkErr[*types.ServiceNotFound](t, err)
	}

	mustRegister(t, c, s1, "a", nil)
	mustRegister(t, c, s1, "b", nil)
	_, err := register(ctx, c, s1, "c", nil)
	checkErr[*types.ResourceLimitExceeded](t, err)                 // 2 per service
	mustRegister(t, c, s1, "b", map[string]string{"again": "yes"}) // re-registering adds none
	mustRegister(t, c, s2, "c", nil)
	_, err = register(ctx, c, s2, "d", nil)
	checkErr[*types.ResourceLimitExceeded](t, err) // 3 per namespace
	mustDeregister(t, c, s1, "a")
	mustRegister(t, c, s2, "d", nil)
}

// TestInstance_QuotaInFlight: registrations still in flight count against
// the instance quotas, so that delayed operations can't exceed them.
func TestInstance_QuotaInFlight(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withDelay(500*time.Millisecond), cairntest.WithConfig(func(cfg *server.Config) {
		cfg.Limits.InstancesPerService = 2
		cfg.Limits.InstancesPerNamespace = 3
	}))
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	s1 := aws.ToString(httpService(t, c, h, "one").Id)
	s2 := aws.ToString(httpService(t, c, h, "two").Id)
	var ops []*string
	for _, id := range []string{"a", "b"} {
		op, err := register(ctx, c, s1, id, nil)
		must(t, err)
		ops = append(ops, op)
	}
	_, err := register(ctx, c, s1, "c", nil)
	checkErr[*types.ResourceLimitExceeded](t, err) // 2 per service, both in flight
	op, err := register(ctx, c, s2, "c", nil)
	must(t, err)
	ops = append(ops, op)
	_, err = register(ctx, c, s2, "d", nil)
	checkErr[*types.ResourceLimitExceeded](t, err) // 3 per namespace, all in flight
	for _, op := range ops {
		waitSuccess(t, c, op)
	}
	for svc, want := range map[string]int{s1: 2, s2: 1} {
		if got := len(allInstances(t, c, svc)); got != want {
			t.Errorf("service %s has %d instances, want %d", svc, got, want)
		}
	}
}

func TestInstance_RegisterIdempotency(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, h, "cart")
	in := sd.RegisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1"), CreatorRequestId: aws.String("tok"),
		Attributes: map[string]string{"v": "1"}}
	first, err := c.RegisterInstance(ctx, &in)
	must(t, err)
	again, err := c.RegisterInstance(ctx, &in)
	must(t, err)
	if aws.ToString(again.OperationId) != aws.ToString(first.OperationId) {
		t.Errorf("retry got operation %s, want %s", aws.ToString(again.OperationId), aws.ToString(first.OperationId))
	}
	changed := in
	changed.Attributes = map[string]string{"v": "2"}
	_, err = c.RegisterInstance(ctx, &changed)
	checkErr[*types.InvalidInput](t, err)
	changed = in
	changed.InstanceId = aws.String("i-2")
	_, err = c.RegisterInstance(ctx, &changed)
	checkErr[*types.InvalidInput](t, err)
	// A new token is a new registration.
	changed = in
	changed.CreatorRequestId = aws.String("tok-2")
	changed.Attributes = map[string]string{"v": "2"}
	next, err := c.RegisterInstance(ctx, &changed)
	must(t, err)
	if aws.ToString(next.OperationId) == aws.ToString(first.OperationId) {
		t.Error("a new token got the old operation")
	}
	got, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	must(t, err)
	if got.Instance.Attributes["v"] != "2" || aws.ToString(got.Instance.CreatorRequestId) != "tok-2" {
		t.Errorf("instance = %+v", got.Instance)
	}
}

func TestInstance_Deregister(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, h, "cart")
	svcID := aws.ToString(svc.Id)
	mustRegister(t, c, svcID, "i-1", map[string]string{"k": "v"})
	mustRegister(t, c, svcID, "i-2", map[string]string{"k": "v"})

	out, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	must(t, err)
	if !operationIDRe.MatchString(aws.ToString(out.OperationId)) {
		t.Errorf("OperationId %q does not match %s", aws.ToString(out.OperationId), operationIDRe)
	}
	got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: out.OperationId})
	must(t, err)
	op := got.Operation
	if op.Status != types.OperationStatusSuccess || op.Type != types.OperationTypeDeregisterInstance ||
		op.Targets["INSTANCE"] != "i-1" || op.Targets["SERVICE"] != svcID {
		t.Errorf("operation = %s %s %v, want SUCCESS DEREGISTER_INSTANCE with INSTANCE i-1 and SERVICE %s", op.Status, op.Type, op.Targets, svcID)
	}
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	checkErr[*types.InstanceNotFound](t, err)
	list, err := c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: svc.Id})
	must(t, err)
	if len(list.Instances) != 1 || aws.ToString(list.Instances[0].Id) != "i-2" {
		t.Errorf("ListInstances after deregistering = %+v", list.Instances)
	}
	if ids := discoverIDs(t, c, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")}); !sameSet(ids, set("i-2")) {
		t.Errorf("DiscoverInstances after deregistering = %v", ids)
	}
	if s, _ := c.GetService(ctx, &sd.GetServiceInput{Id: svc.Id}); aws.ToInt32(s.Service.InstanceCount) != 1 {
		t.Errorf("InstanceCount = %d, want 1", aws.ToInt32(s.Service.InstanceCount))
	}

	// By the service's ARN.
	out, err = c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Arn, InstanceId: aws.String("i-2")})
	must(t, err)
	waitSuccess(t, c, out.OperationId)
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-2")})
	checkErr[*types.InstanceNotFound](t, err)

	cases := []struct {
		name      string
		svc, inst string
		check     func(*testing.T, error) bool
	}{
		{"deregistered instance", svcID, "i-1", checkErr[*types.InstanceNotFound]},
		{"unknown instance", svcID, "never", checkErr[*types.InstanceNotFound]},
		{"unknown service", "srv-aaaaaaaaaaaaaaaa", "i-1", checkErr[*types.ServiceNotFound]},
		{"other region's ARN", "arn:aws:servicediscovery:eu-west-1:" + account + ":service/" + svcID, "i-1", checkErr[*types.ServiceNotFound]},
		{"instance ID too long", svcID, long(65), checkErr[*types.InvalidInput]},
		{"service ID too long", long(256), "i-1", checkErr[*types.InvalidInput]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(tc.svc), InstanceId: aws.String(tc.inst)})
			tc.check(t, err)
		})
	}
}

// TestInstance_DuplicateRequest: while an operation on an instance is in
// flight, registering or deregistering the same instance is refused with
// the in-flight operation's ID.
func TestInstance_DuplicateRequest(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withDelay(time.Second))
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, h, "cart")
	svcID := aws.ToString(svc.Id)
	dup := func(err error, want *string) {
		t.Helper()
		e := wantErr[*types.DuplicateRequest](t, err)
		if aws.ToString(e.DuplicateOperationId) != aws.ToString(want) {
			t.Errorf("DuplicateOperationId = %q, want the in-flight %s", aws.ToString(e.DuplicateOperationId), aws.ToString(want))
		}
	}

	reg, err := register(ctx, c, svcID, "i-1", map[string]string{"v": "1"})
	must(t, err)
	exists := func() bool {
		_, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
		if err != nil {
			checkErr[*types.InstanceNotFound](t, err)
		}
		return err == nil
	}
	// Visible only once registered; busy until then.
	effectAtSuccess(t, c, "register", reg, exists)
	_, err = c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	dup(err, reg)
	_, err = register(ctx, c, svcID, "i-1", map[string]string{"v": "2"})
	dup(err, reg)
	// Another instance of the service is not blocked.
	other, err := register(ctx, c, svcID, "i-2", nil)
	must(t, err)
	if st := getStatus(t, c, reg); st == types.OperationStatusSuccess || st == types.OperationStatusFail {
		t.Fatalf("the first registration already ended (%s): the duplicate checks above were not in flight", st)
	}
	waitSuccess(t, c, reg)
	waitSuccess(t, c, other)
	got, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	must(t, err)
	if got.Instance.Attributes["v"] != "1" {
		t.Errorf("attributes = %v, want the first registration's", got.Instance.Attributes)
	}

	dereg, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Arn, InstanceId: aws.String("i-1")})
	must(t, err)
	_, err = c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	dup(err, dereg.OperationId)
	_, err = register(ctx, c, svcID, "i-1", nil)
	dup(err, dereg.OperationId)
	// Still there until the operation is done.
	effectAtSuccess(t, c, "deregister", dereg.OperationId, func() bool { return !exists() })
	op := waitSuccess(t, c, dereg.OperationId)
	if op.Type != types.OperationTypeDeregisterInstance {
		t.Errorf("operation type %s", op.Type)
	}
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	checkErr[*types.InstanceNotFound](t, err)
	// Free again.
	again, err := register(ctx, c, svcID, "i-1", nil)
	must(t, err)
	waitSuccess(t, c, again)
}

func getStatus(t *testing.T, c *sd.Client, opID *string) types.OperationStatus {
	t.Helper()
	out, err := c.GetOperation(t.Context(), &sd.GetOperationInput{OperationId: opID})
	must(t, err)
	return out.Operation.Status
}

func TestInstance_GetListErrors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, h, "cart")
	mustRegister(t, c, aws.ToString(svc.Id), "i-1", nil)
	otherRegion := aws.String("arn:aws:servicediscovery:eu-west-1:" + account + ":service/" + aws.ToString(svc.Id))
	unknown := aws.String("srv-aaaaaaaaaaaaaaaa")

	errs := map[string]struct {
		err   error
		check func(*testing.T, error) bool
	}{}
	add := func(name string, check func(*testing.T, error) bool, err error) {
		errs[name] = struct {
			err   error
			check func(*testing.T, error) bool
		}{err, check}
	}
	_, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-2")})
	add("GetInstance unknown instance", checkErr[*types.InstanceNotFound], err)
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: unknown, InstanceId: aws.String("i-1")})
	add("GetInstance unknown service", checkErr[*types.ServiceNotFound], err)
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: otherRegion, InstanceId: aws.String("i-1")})
	add("GetInstance other region", checkErr[*types.ServiceNotFound], err)
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String(long(65))})
	add("GetInstance instance ID too long", checkErr[*types.InvalidInput], err)
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: aws.String(long(256)), InstanceId: aws.String("i-1")})
	add("GetInstance service ID too long", checkErr[*types.InvalidInput], err)

	_, err = c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: unknown})
	add("ListInstances unknown service", checkErr[*types.ServiceNotFound], err)
	_, err = c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: otherRegion})
	add("ListInstances other region", checkErr[*types.ServiceNotFound], err)
	_, err = c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: svc.Id, MaxResults: aws.Int32(0)})
	add("ListInstances MaxResults 0", checkErr[*types.InvalidInput], err)
	_, err = c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: svc.Id, MaxResults: aws.Int32(101)})
	add("ListInstances MaxResults 101", checkErr[*types.InvalidInput], err)
	_, err = c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(long(256))})
	add("ListInstances service ID too long", checkErr[*types.InvalidInput], err)

	_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Id, Instances: []string{"i-1", "i-2"}})
	add("GetInstancesHealthStatus unknown instance", checkErr[*types.InstanceNotFound], err)
	_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: unknown})
	add("GetInstancesHealthStatus unknown service", checkErr[*types.ServiceNotFound], err)
	_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: otherRegion})
	add("GetInstancesHealthStatus other region", checkErr[*types.ServiceNotFound], err)
	_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Id, Instances: []string{}})
	add("GetInstancesHealthStatus empty Instances", checkErr[*types.InvalidInput], err)
	_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Id, Instances: []string{long(65)}})
	add("GetInstancesHealthStatus instance ID too long", checkErr[*types.InvalidInput], err)
	_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Id, MaxResults: aws.Int32(101)})
	add("GetInstancesHealthStatus MaxResults 101", checkErr[*types.InvalidInput], err)
	_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(long(256))})
	add("GetInstancesHealthStatus service ID too long", checkErr[*types.InvalidInput], err)
	for name, e := range errs {
		t.Run(name, func(t *testing.T) { e.check(t, e.err) })
	}
}

func TestInstance_Health(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	pub := mustNamespace(t, c, publicNS, "example.com")
	custom := customHealthService(t, c, h, "custom")
	plain := httpService(t, c, h, "plain")
	checked := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("checked"), NamespaceId: aws.String(pub),
		DnsConfig: &types.DnsConfig{DnsRecords: records("A", 60)}, HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp}})
	mustRegister(t, c, aws.ToString(custom.Id), "up", nil)
	mustRegister(t, c, aws.ToString(custom.Id), "down", map[string]string{"AWS_INIT_HEALTH_STATUS": "UNHEALTHY"})
	mustRegister(t, c, aws.ToString(plain.Id), "p", nil)
	mustRegister(t, c, aws.ToString(checked.Id), "c", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "AWS_INSTANCE_PORT": "80"})

	status := func(svc *types.Service, ids ...string) map[string]types.HealthStatus {
		t.Helper()
		in := &sd.GetInstancesHealthStatusInput{ServiceId: svc.Id}
		if ids != nil {
			in.Instances = ids
		}
		out, err := c.GetInstancesHealthStatus(ctx, in)
		must(t, err)
		return out.Status
	}
	if s := status(custom); len(s) != 2 || s["up"] != types.HealthStatusHealthy || s["down"] != types.HealthStatusUnhealthy {
		t.Errorf("custom health = %v", s)
	}
	if s := status(custom, "down"); len(s) != 1 || s["down"] != types.HealthStatusUnhealthy {
		t.Errorf("custom health of down = %v", s)
	}
	if s := status(plain); len(s) != 1 || s["p"] != types.HealthStatusUnknown {
		t.Errorf("health without a health check = %v, want UNKNOWN", s)
	}
	if s := status(checked); len(s) != 1 || s["c"] == "" {
		t.Errorf("Route 53 health = %v", s)
	}

	for _, ref := range []*string{custom.Id, custom.Arn} {
		_, err := c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: ref, InstanceId: aws.String("down"), Status: types.CustomHealthStatusHealthy})
		must(t, err)
	}
	_, err := c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: custom.Id, InstanceId: aws.String("up"), Status: types.CustomHealthStatusUnhealthy})
	must(t, err)
	if s := status(custom); s["up"] != types.HealthStatusUnhealthy || s["down"] != types.HealthStatusHealthy {
		t.Errorf("custom health after the updates = %v", s)
	}

	upd := func(svc *string, inst string, st types.CustomHealthStatus) error {
		_, err := c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: svc, InstanceId: aws.String(inst), Status: st})
		return err
	}
	checkErr[*types.CustomHealthNotFound](t, upd(plain.Id, "p", types.CustomHealthStatusUnhealthy))
	checkErr[*types.CustomHealthNotFound](t, upd(checked.Id, "c", types.CustomHealthStatusUnhealthy))
	checkErr[*types.InstanceNotFound](t, upd(custom.Id, "nobody", types.CustomHealthStatusUnhealthy))
	checkErr[*types.ServiceNotFound](t, upd(aws.String("srv-aaaaaaaaaaaaaaaa"), "up", types.CustomHealthStatusUnhealthy))
	checkErr[*types.ServiceNotFound](t, upd(aws.String("arn:aws:servicediscovery:eu-west-1:"+account+":service/"+aws.ToString(custom.Id)), "up", types.CustomHealthStatusUnhealthy))
	checkErr[*types.InvalidInput](t, upd(custom.Id, "up", "UNKNOWN"))
	checkErr[*types.InvalidInput](t, upd(custom.Id, long(65), types.CustomHealthStatusHealthy))
	checkErr[*types.InvalidInput](t, upd(aws.String(long(256)), "up", types.CustomHealthStatusHealthy))
}
