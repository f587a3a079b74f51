package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

func records(typesAndTTL ...any) []types.DnsRecord {
	var out []types.DnsRecord
	for i := 0; i < len(typesAndTTL); i += 2 {
		out = append(out, types.DnsRecord{Type: types.RecordType(typesAndTTL[i].(string)), TTL: aws.Int64(int64(typesAndTTL[i+1].(int)))})
	}
	return out
}

func TestService_CreateGet(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h, priv, pub := threeNamespaces(t, c)
	nsARN := func(id string) string { return "arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + id }

	cases := []struct {
		name     string
		in       sd.CreateServiceInput
		nsID     string
		typ      types.ServiceType
		policy   types.RoutingPolicy
		hc, cust bool
	}{
		{"http", sd.CreateServiceInput{NamespaceId: aws.String(h)}, h, types.ServiceTypeHttp, "", false, false},
		{"http by namespace ARN", sd.CreateServiceInput{NamespaceId: aws.String(nsARN(h))}, h, types.ServiceTypeHttp, "", false, false},
		{"http with health check", sd.CreateServiceInput{NamespaceId: aws.String(h),
			HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, ResourcePath: aws.String("/health")}}, h, types.ServiceTypeHttp, "", true, false},
		{"private A", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: &types.DnsConfig{DnsRecords: records("A", 60)}},
			priv, types.ServiceTypeDnsHttp, types.RoutingPolicyMultivalue, false, false},
		{"private A+AAAA weighted, custom health", sd.CreateServiceInput{NamespaceId: aws.String(priv),
			DnsConfig:               &types.DnsConfig{RoutingPolicy: types.RoutingPolicyWeighted, DnsRecords: records("AAAA", 60, "A", 30)},
			HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}},
			priv, types.ServiceTypeDnsHttp, types.RoutingPolicyWeighted, false, true},
		{"private SRV", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: &types.DnsConfig{DnsRecords: records("SRV", 10)}},
			priv, types.ServiceTypeDnsHttp, types.RoutingPolicyMultivalue, false, false},
		{"private A+SRV", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: &types.DnsConfig{DnsRecords: records("SRV", 10, "A", 60)}},
			priv, types.ServiceTypeDnsHttp, types.RoutingPolicyMultivalue, false, false},
		{"public A+AAAA+SRV with health check", sd.CreateServiceInput{NamespaceId: aws.String(pub), DnsConfig: &types.DnsConfig{DnsRecords: records("A", 10, "AAAA", 10, "SRV", 10)},
			HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}},
			pub, types.ServiceTypeDnsHttp, types.RoutingPolicyMultivalue, true, false},
		{"private CNAME", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyWeighted, DnsRecords: records("CNAME", 10)}},
			priv, types.ServiceTypeDnsHttp, types.RoutingPolicyWeighted, false, false},
		{"private API-only (Type HTTP)", sd.CreateServiceInput{NamespaceId: aws.String(priv), Type: types.ServiceTypeOptionHttp},
			priv, types.ServiceTypeHttp, "", false, false},
		{"public AAAA with health check", sd.CreateServiceInput{NamespaceId: aws.String(pub), DnsConfig: &types.DnsConfig{DnsRecords: records("AAAA", 300)},
			HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, FailureThreshold: aws.Int32(3)}},
			pub, types.ServiceTypeDnsHttp, types.RoutingPolicyMultivalue, true, false},
		{"deprecated DnsConfig.NamespaceId only", sd.CreateServiceInput{DnsConfig: &types.DnsConfig{NamespaceId: aws.String(pub), DnsRecords: records("A", 5)}},
			pub, types.ServiceTypeDnsHttp, types.RoutingPolicyMultivalue, false, false},
		{"deprecated DnsConfig.NamespaceId agreeing with NamespaceId", sd.CreateServiceInput{NamespaceId: aws.String(nsARN(pub)),
			DnsConfig: &types.DnsConfig{NamespaceId: aws.String(pub), DnsRecords: records("A", 5)}},
			pub, types.ServiceTypeDnsHttp, types.RoutingPolicyMultivalue, false, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Name = aws.String(fmt.Sprintf("svc%d", i))
			in.Description = aws.String(tc.name)
			in.CreatorRequestId = aws.String(fmt.Sprintf("crid-%d", i))
			out, err := c.CreateService(ctx, &in)
			must(t, err)
			s := out.Service
			id := aws.ToString(s.Id)
			if !serviceIDRe.MatchString(id) {
				t.Errorf("service ID %q does not match %s", id, serviceIDRe)
			}
			wantARN := "arn:aws:servicediscovery:us-east-1:" + account + ":service/" + id
			for _, ref := range []string{id, wantARN} {
				got, err := c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(ref)})
				must(t, err)
				g := got.Service
				if aws.ToString(g.Id) != id || aws.ToString(g.Arn) != wantARN || aws.ToString(g.Name) != aws.ToString(in.Name) ||
					aws.ToString(g.NamespaceId) != tc.nsID || g.Type != tc.typ || aws.ToString(g.Description) != tc.name ||
					aws.ToString(g.CreatorRequestId) != aws.ToString(in.CreatorRequestId) || aws.ToInt32(g.InstanceCount) != 0 ||
					aws.ToString(g.ResourceOwner) != account || aws.ToString(g.CreatedByAccount) != account || g.CreateDate == nil {
					t.Errorf("GetService(%s) = %+v", ref, g)
				}
				if tc.policy == "" {
					if g.DnsConfig != nil {
						t.Errorf("DnsConfig = %+v, want none", g.DnsConfig)
					}
				} else if g.DnsConfig == nil || g.DnsConfig.RoutingPolicy != tc.policy || aws.ToString(g.DnsConfig.NamespaceId) != tc.nsID ||
					len(g.DnsConfig.DnsRecords) != len(in.DnsConfig.DnsRecords) {
					t.Errorf("DnsConfig = %+v, want policy %s and namespace %s", g.DnsConfig, tc.policy, tc.nsID)
				}
				if (g.HealthCheckConfig != nil) != tc.hc {
					t.Errorf("HealthCheckConfig = %+v, want present=%v", g.HealthCheckConfig, tc.hc)
				}
				if (g.HealthCheckCustomConfig != nil) != tc.cust {
					t.Errorf("HealthCheckCustomConfig = %+v, want present=%v", g.HealthCheckCustomConfig, tc.cust)
				}
			}
		})
	}
	got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(priv)})
	must(t, err)
	if n := aws.ToInt32(got.Namespace.ServiceCount); n != 6 {
		t.Errorf("private namespace ServiceCount = %d, want 6", n)
	}
	// Special names the pattern allows.
	for _, name := range []string{"_http._tcp", ".", "a", "a-b_c.d"} {
		_, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(priv), DnsConfig: &types.DnsConfig{DnsRecords: records("SRV", 1)}})
		if err != nil {
			t.Errorf("CreateService %q: %v", name, err)
		}
	}
}

func TestService_CreateInvalid(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h, priv, pub := threeNamespaces(t, c)
	hc := &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}
	dns := func(policy types.RoutingPolicy, recs ...any) *types.DnsConfig {
		return &types.DnsConfig{RoutingPolicy: policy, DnsRecords: records(recs...)}
	}
	cases := []struct {
		name string
		in   sd.CreateServiceInput
	}{
		{"DnsConfig in an HTTP namespace", sd.CreateServiceInput{NamespaceId: aws.String(h), DnsConfig: dns("", "A", 60)}},
		{"both health checks", sd.CreateServiceInput{NamespaceId: aws.String(pub), HealthCheckConfig: hc, HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}}},
		{"HealthCheckConfig in a private namespace", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns("", "A", 60), HealthCheckConfig: hc}},
		{"ResourcePath with TCP", sd.CreateServiceInput{NamespaceId: aws.String(pub), DnsConfig: dns("", "A", 60),
			HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, ResourcePath: aws.String("/")}}},
		{"FailureThreshold 11", sd.CreateServiceInput{NamespaceId: aws.String(pub), DnsConfig: dns("", "A", 60),
			HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, FailureThreshold: aws.Int32(11)}}},
		{"unknown health check type", sd.CreateServiceInput{NamespaceId: aws.String(pub), HealthCheckConfig: &types.HealthCheckConfig{Type: "UDP"}}},
		{"A and CNAME", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns(types.RoutingPolicyWeighted, "A", 60, "CNAME", 60)}},
		{"CNAME and SRV", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns(types.RoutingPolicyWeighted, "SRV", 60, "CNAME", 60)}},
		{"AAAA and CNAME", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns(types.RoutingPolicyWeighted, "AAAA", 60, "CNAME", 60)}},
		{"A twice", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns("", "A", 60, "A", 30)}},
		{"no records", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{}}}},
		{"unknown record type", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns("", "MX", 60)}},
		{"negative TTL", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns("", "A", -1)}},
		{"unknown routing policy", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns("RANDOM", "A", 60)}},
		{"CNAME with MULTIVALUE", sd.CreateServiceInput{NamespaceId: aws.String(priv), DnsConfig: dns(types.RoutingPolicyMultivalue, "CNAME", 60)}},
		{"CNAME with HealthCheckConfig", sd.CreateServiceInput{NamespaceId: aws.String(pub), DnsConfig: dns(types.RoutingPolicyWeighted, "CNAME", 60), HealthCheckConfig: hc}},
		{"Type HTTP with DnsConfig", sd.CreateServiceInput{NamespaceId: aws.String(priv), Type: types.ServiceTypeOptionHttp, DnsConfig: dns("", "A", 60)}},
		{"unknown Type", sd.CreateServiceInput{NamespaceId: aws.String(priv), Type: "DNS"}},
		{"NamespaceId and DnsConfig.NamespaceId differ", sd.CreateServiceInput{NamespaceId: aws.String(pub),
			DnsConfig: &types.DnsConfig{NamespaceId: aws.String(priv), DnsRecords: records("A", 60)}}},
		{"no namespace at all", sd.CreateServiceInput{}},
		{"NamespaceId too long", sd.CreateServiceInput{NamespaceId: aws.String(long(256))}},
		{"description too long", sd.CreateServiceInput{NamespaceId: aws.String(h), Description: aws.String(long(1025))}},
		{"creator request id too long", sd.CreateServiceInput{NamespaceId: aws.String(h), CreatorRequestId: aws.String(long(65))}},
		{"reserved tag", sd.CreateServiceInput{NamespaceId: aws.String(h), Tags: []types.Tag{{Key: aws.String("AWS:x"), Value: aws.String("")}}}},
		{"name with a space", sd.CreateServiceInput{Name: aws.String("my service"), NamespaceId: aws.String(h)}},
		{"name starting with a hyphen", sd.CreateServiceInput{Name: aws.String("-cart"), NamespaceId: aws.String(h)}},
		{"name too long", sd.CreateServiceInput{Name: aws.String(long(60) + "." + long(60) + "." + long(6)), NamespaceId: aws.String(h)}},
		{"label too long", sd.CreateServiceInput{Name: aws.String(long(64)), NamespaceId: aws.String(h)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Name == nil {
				in.Name = aws.String("svc")
			}
			_, err := c.CreateService(ctx, &in)
			checkErr[*types.InvalidInput](t, err)
		})
	}
	if list := serviceSummaries(t, c, &sd.ListServicesInput{}); len(list) != 0 {
		t.Errorf("refused creates left %d services", len(list))
	}
}

func TestService_CreateErrors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	priv := mustNamespace(t, c, privateNS, "corp.internal")

	for _, ref := range []string{"ns-aaaaaaaaaaaaaaaa", "arn:aws:servicediscovery:eu-west-1:" + account + ":namespace/" + h} {
		_, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(ref)})
		checkErr[*types.NamespaceNotFound](t, err)
	}
	_, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), DnsConfig: &types.DnsConfig{NamespaceId: aws.String("ns-aaaaaaaaaaaaaaaa"), DnsRecords: records("A", 1)}})
	checkErr[*types.NamespaceNotFound](t, err)

	tags := make([]types.Tag, 51)
	for i := range tags {
		tags[i] = types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")}
	}
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(h), Tags: tags})
	checkErr[*types.TooManyTagsException](t, err)

	first, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("Cart"), NamespaceId: aws.String(priv),
		CreatorRequestId: aws.String("c1"), DnsConfig: &types.DnsConfig{DnsRecords: records("A", 60)}})
	must(t, err)
	// In a DNS namespace, names that differ only by case clash.
	for _, name := range []string{"Cart", "cart", "CART"} {
		_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(priv),
			DnsConfig: &types.DnsConfig{DnsRecords: records("A", 60)}})
		e := wantErr[*types.ServiceAlreadyExists](t, err)
		if aws.ToString(e.ServiceId) != aws.ToString(first.Service.Id) || aws.ToString(e.ServiceArn) != aws.ToString(first.Service.Arn) ||
			aws.ToString(e.CreatorRequestId) != "c1" {
			t.Errorf("%s: ServiceAlreadyExists{%q %q %q}, want %s %s c1", name, aws.ToString(e.ServiceId), aws.ToString(e.ServiceArn),
				aws.ToString(e.CreatorRequestId), aws.ToString(first.Service.Id), aws.ToString(first.Service.Arn))
		}
	}
	// In an HTTP namespace they don't; the exact name still does.
	up := httpService(t, c, h, "Cart")
	low := httpService(t, c, h, "cart")
	if aws.ToString(up.Id) == aws.ToString(low.Id) {
		t.Error("Cart and cart are the same service")
	}
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(h)})
	e := wantErr[*types.ServiceAlreadyExists](t, err)
	if aws.ToString(e.ServiceId) != aws.ToString(low.Id) {
		t.Errorf("ServiceAlreadyExists.ServiceId = %q, want %s", aws.ToString(e.ServiceId), aws.ToString(low.Id))
	}
	// The same name in another namespace is fine.
	mustService(t, c, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(mustNamespace(t, c, httpNS, "other"))})
}

func TestService_Idempotency(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	in := sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(h), CreatorRequestId: aws.String("tok"), Description: aws.String("d")}
	first, err := c.CreateService(ctx, &in)
	must(t, err)
	again, err := c.CreateService(ctx, &in)
	must(t, err)
	if aws.ToString(again.Service.Id) != aws.ToString(first.Service.Id) {
		t.Errorf("retry created %s, want the first service %s", aws.ToString(again.Service.Id), aws.ToString(first.Service.Id))
	}
	changed := in
	changed.Description = aws.String("other")
	_, err = c.CreateService(ctx, &changed)
	e := wantErr[*types.ServiceAlreadyExists](t, err)
	if aws.ToString(e.CreatorRequestId) != "tok" || aws.ToString(e.ServiceId) != aws.ToString(first.Service.Id) ||
		aws.ToString(e.ServiceArn) != aws.ToString(first.Service.Arn) {
		t.Errorf("ServiceAlreadyExists{%q %q %q}", aws.ToString(e.CreatorRequestId), aws.ToString(e.ServiceId), aws.ToString(e.ServiceArn))
	}
	// The same token for another name is a different request too.
	changed = in
	changed.Name = aws.String("payments")
	_, err = c.CreateService(ctx, &changed)
	checkErr[*types.ServiceAlreadyExists](t, err)
	if list := serviceSummaries(t, c, &sd.ListServicesInput{}); len(list) != 1 {
		t.Errorf("ListServices = %d services, want 1", len(list))
	}
}

func TestService_GetErrors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, h, "cart")
	for _, ref := range []string{
		"srv-aaaaaaaaaaaaaaaa",
		h, // a namespace's ID
		"arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + h,
		"arn:aws:servicediscovery:eu-west-1:" + account + ":service/" + aws.ToString(svc.Id),
	} {
		_, err := c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(ref)})
		checkErr[*types.ServiceNotFound](t, err)
	}
	_, err := c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(long(256))})
	checkErr[*types.InvalidInput](t, err)
}

func TestService_Update(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	priv := mustNamespace(t, c, privateNS, "corp.internal")
	pub := mustNamespace(t, c, publicNS, "example.com")
	h := mustNamespace(t, c, httpNS, "shop")
	get := func(id *string) *types.Service {
		t.Helper()
		out, err := c.GetService(ctx, &sd.GetServiceInput{Id: id})
		must(t, err)
		return out.Service
	}
	update := func(id *string, ch *types.ServiceChange) (*types.Operation, error) {
		t.Helper()
		out, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: id, Service: ch})
		if err != nil {
			return nil, err
		}
		return waitSuccess(t, c, out.OperationId), nil
	}

	// TTL change, by ARN.
	a := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("a"), NamespaceId: aws.String(priv), Description: aws.String("keep"),
		DnsConfig: &types.DnsConfig{DnsRecords: records("A", 60, "AAAA", 60)}})
	op, err := update(a.Arn, &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: records("A", 300, "AAAA", 10)}})
	must(t, err)
	if op.Type != types.OperationTypeUpdateService || op.Targets["SERVICE"] != aws.ToString(a.Id) {
		t.Errorf("operation = %s %v, want UPDATE_SERVICE with SERVICE %s", op.Type, op.Targets, aws.ToString(a.Id))
	}
	g := get(a.Id)
	ttl := map[types.RecordType]int64{}
	for _, r := range g.DnsConfig.DnsRecords {
		ttl[r.Type] = aws.ToInt64(r.TTL)
	}
	if ttl["A"] != 300 || ttl["AAAA"] != 10 || aws.ToString(g.Description) != "keep" || g.DnsConfig.RoutingPolicy != types.RoutingPolicyMultivalue {
		t.Errorf("after the TTL change: %+v %q", g.DnsConfig, aws.ToString(g.Description))
	}
	// Description alone.
	_, err = update(a.Id, &types.ServiceChange{Description: aws.String("new")})
	must(t, err)
	if g = get(a.Id); aws.ToString(g.Description) != "new" || len(g.DnsConfig.DnsRecords) != 2 {
		t.Errorf("after the description change: %q %+v", aws.ToString(g.Description), g.DnsConfig)
	}

	// HealthCheckConfig: changed, then removed by omitting it.
	p := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("p"), NamespaceId: aws.String(pub),
		DnsConfig:         &types.DnsConfig{DnsRecords: records("A", 60)},
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, ResourcePath: aws.String("/a"), FailureThreshold: aws.Int32(2)}})
	_, err = update(p.Id, &types.ServiceChange{HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, ResourcePath: aws.String("/b"), FailureThreshold: aws.Int32(5)}})
	must(t, err)
	if hc := get(p.Id).HealthCheckConfig; hc == nil || aws.ToString(hc.ResourcePath) != "/b" || aws.ToInt32(hc.FailureThreshold) != 5 {
		t.Errorf("HealthCheckConfig after the change = %+v", hc)
	}
	_, err = update(p.Id, &types.ServiceChange{Description: aws.String("no more checks")})
	must(t, err)
	if g = get(p.Id); g.HealthCheckConfig != nil || len(g.DnsConfig.DnsRecords) != 1 {
		t.Errorf("after an update without HealthCheckConfig: %+v, DnsConfig %+v; want no health check, records kept", g.HealthCheckConfig, g.DnsConfig)
	}
	// And added back.
	_, err = update(p.Id, &types.ServiceChange{HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttps}})
	must(t, err)
	if hc := get(p.Id).HealthCheckConfig; hc == nil || hc.Type != types.HealthCheckTypeHttps {
		t.Errorf("HealthCheckConfig after adding = %+v", hc)
	}

	custom := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("custom"), NamespaceId: aws.String(priv),
		DnsConfig: &types.DnsConfig{DnsRecords: records("A", 60)}, HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
	hs := httpService(t, c, h, "api")
	apiOnly := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("apionly"), NamespaceId: aws.String(priv), Type: types.ServiceTypeOptionHttp})
	invalid := map[string]struct {
		id *string
		ch *types.ServiceChange
	}{
		"record type change":            {a.Id, &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: records("A", 60)}}},
		"record type change to SRV":     {p.Id, &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: records("SRV", 60)}}},
		"records for a service without": {apiOnly.Id, &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: records("A", 60)}}},
		"service in an HTTP namespace":  {hs.Id, &types.ServiceChange{Description: aws.String("x")}},
		"health check in private DNS":   {a.Id, &types.ServiceChange{HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp}}},
		"health check on custom":        {custom.Id, &types.ServiceChange{HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp}}},
		"health check type change":      {p.Id, &types.ServiceChange{HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp}}},
		"ResourcePath with TCP":         {p.Id, &types.ServiceChange{HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, ResourcePath: aws.String("/")}}},
		"negative TTL":                  {a.Id, &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: records("A", -1, "AAAA", 1)}}},
		"id too long":                   {aws.String(long(256)), &types.ServiceChange{Description: aws.String("x")}},
		"description too long":          {a.Id, &types.ServiceChange{Description: aws.String(long(1025))}},
	}
	for name, tc := range invalid {
		t.Run(name, func(t *testing.T) {
			_, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: tc.id, Service: tc.ch})
			checkErr[*types.InvalidInput](t, err)
		})
	}
	for _, ref := range []string{"srv-aaaaaaaaaaaaaaaa", "arn:aws:servicediscovery:eu-west-1:" + account + ":service/" + aws.ToString(a.Id)} {
		_, err = c.UpdateService(ctx, &sd.UpdateServiceInput{Id: aws.String(ref), Service: &types.ServiceChange{Description: aws.String("x")}})
		checkErr[*types.ServiceNotFound](t, err)
	}
}

// TestService_UpdateDuplicate: a second UpdateService while one is in
// flight is refused, and the service can't be deleted while an operation
// on it or on one of its instances is in flight.
func TestService_UpdateDuplicate(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withDelay(time.Second))
	ctx := t.Context()
	priv := mustNamespace(t, c, privateNS, "corp.internal")
	a := aService(t, c, priv, "a")
	first, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: a.Id, Service: &types.ServiceChange{Description: aws.String("one")}})
	must(t, err)
	_, err = c.UpdateService(ctx, &sd.UpdateServiceInput{Id: a.Id, Service: &types.ServiceChange{Description: aws.String("two")}})
	e := wantErr[*types.DuplicateRequest](t, err)
	if aws.ToString(e.DuplicateOperationId) != aws.ToString(first.OperationId) {
		t.Errorf("DuplicateOperationId = %q, want %s", aws.ToString(e.DuplicateOperationId), aws.ToString(first.OperationId))
	}
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: a.Id})
	checkErr[*types.ResourceInUse](t, err)
	waitSuccess(t, c, first.OperationId)
	got, err := c.GetService(ctx, &sd.GetServiceInput{Id: a.Id})
	must(t, err)
	if aws.ToString(got.Service.Description) != "one" {
		t.Errorf("Description = %q, want one", aws.ToString(got.Service.Description))
	}

	// Nor while an instance is being registered into it: the registration
	// would be left to fail.
	reg, err := register(ctx, c, aws.ToString(a.Id), "i-1", ipv4(1))
	must(t, err)
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: a.Id})
	checkErr[*types.ResourceInUse](t, err)
	waitSuccess(t, c, reg)
	de, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: a.Id, InstanceId: aws.String("i-1")})
	must(t, err)
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: a.Id})
	checkErr[*types.ResourceInUse](t, err)
	waitSuccess(t, c, de.OperationId)
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: a.Id})
	must(t, err)
}

// TestService_CreateWhileNamespaceChanges: a service can be created in a
// namespace whose update is in flight, but not in one whose deletion is:
// the deletion would otherwise end FAIL with a namespace that is not
// empty.
func TestService_CreateWhileNamespaceChanges(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withDelay(500*time.Millisecond))
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	up, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(h), Namespace: &types.HttpNamespaceChange{Description: aws.String("x")}})
	must(t, err)
	svc := httpService(t, c, h, "web")
	waitSuccess(t, c, up.OperationId)
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
	must(t, err)

	del, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(h)})
	must(t, err)
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("late"), NamespaceId: aws.String(h)})
	checkErr[*types.NamespaceNotFound](t, err)
	waitSuccess(t, c, del.OperationId)
	_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(h)})
	checkErr[*types.NamespaceNotFound](t, err)
}

func TestService_Delete(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, h, "cart")
	_, err := c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: map[string]string{"a": "1"}})
	must(t, err)
	mustRegister(t, c, aws.ToString(svc.Id), "i-1", nil)

	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
	wantErr[*types.ResourceInUse](t, err)
	if got, err := c.GetService(ctx, &sd.GetServiceInput{Id: svc.Id}); err != nil || aws.ToInt32(got.Service.InstanceCount) != 1 {
		t.Fatalf("service after the refused delete: %v", err)
	}
	mustDeregister(t, c, aws.ToString(svc.Id), "i-1")
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Arn})
	must(t, err)

	_, err = c.GetService(ctx, &sd.GetServiceInput{Id: svc.Id})
	checkErr[*types.ServiceNotFound](t, err)
	_, err = c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: svc.Id})
	checkErr[*types.ServiceNotFound](t, err)
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
	checkErr[*types.ServiceNotFound](t, err)
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(long(256))})
	checkErr[*types.InvalidInput](t, err)
	ns, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(h)})
	must(t, err)
	if n := aws.ToInt32(ns.Namespace.ServiceCount); n != 0 {
		t.Errorf("ServiceCount = %d after the delete, want 0", n)
	}
	// The name is free again, and the new service starts without attributes.
	again := httpService(t, c, h, "cart")
	attrs, err := c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: again.Id})
	must(t, err)
	if len(attrs.ServiceAttributes.Attributes) != 0 {
		t.Errorf("new service has attributes %v", attrs.ServiceAttributes.Attributes)
	}
}

func TestService_Attributes(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, h, "cart")
	get := func() map[string]string {
		t.Helper()
		out, err := c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: svc.Arn})
		must(t, err)
		sa := out.ServiceAttributes
		if aws.ToString(sa.ServiceArn) != aws.ToString(svc.Arn) || aws.ToString(sa.ResourceOwner) != account {
			t.Errorf("ServiceAttributes = %+v", sa)
		}
		return sa.Attributes
	}
	if a := get(); len(a) != 0 {
		t.Errorf("new service attributes = %v", a)
	}
	_, err := c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: map[string]string{"a": "1", "b": "2"}})
	must(t, err)
	_, err = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Arn, Attributes: map[string]string{"b": "two", "c": "3"}})
	must(t, err)
	if a := get(); !sameMap(a, map[string]string{"a": "1", "b": "two", "c": "3"}) {
		t.Errorf("after two updates: %v", a)
	}
	_, err = c.DeleteServiceAttributes(ctx, &sd.DeleteServiceAttributesInput{ServiceId: svc.Id, Attributes: []string{"a", "absent"}})
	must(t, err)
	if a := get(); !sameMap(a, map[string]string{"b": "two", "c": "3"}) {
		t.Errorf("after the delete: %v", a)
	}

	// 30 in all is the quota.
	many := map[string]string{}
	for i := range 28 {
		many[fmt.Sprint("k", i)] = "v"
	}
	_, err = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: many})
	must(t, err)
	_, err = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: map[string]string{"one-too-many": "v"}})
	wantErr[*types.ServiceAttributesLimitExceededException](t, err)
	// Replacing an existing key is no new attribute.
	_, err = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: map[string]string{"k0": "new"}})
	must(t, err)
	if a := get(); len(a) != 30 || a["k0"] != "new" {
		t.Errorf("got %d attributes, k0=%q; want 30, new", len(a), a["k0"])
	}

	thirtyOne := map[string]string{}
	keys := []string{}
	for i := range 31 {
		thirtyOne[fmt.Sprint("x", i)] = "v"
		keys = append(keys, fmt.Sprint("x", i))
	}
	invalid := map[string]error{}
	_, invalid["update: 31 in one request"] = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: thirtyOne})
	_, invalid["update: empty map"] = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: map[string]string{}})
	_, invalid["update: key too long"] = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: map[string]string{long(256): "v"}})
	_, invalid["update: value too long"] = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: map[string]string{"k": long(1025)}})
	_, invalid["update: id too long"] = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: aws.String(long(256)), Attributes: map[string]string{"k": "v"}})
	_, invalid["delete: 31 keys"] = c.DeleteServiceAttributes(ctx, &sd.DeleteServiceAttributesInput{ServiceId: svc.Id, Attributes: keys})
	_, invalid["delete: no keys"] = c.DeleteServiceAttributes(ctx, &sd.DeleteServiceAttributesInput{ServiceId: svc.Id, Attributes: []string{}})
	_, invalid["delete: key too long"] = c.DeleteServiceAttributes(ctx, &sd.DeleteServiceAttributesInput{ServiceId: svc.Id, Attributes: []string{long(256)}})
	_, invalid["delete: id too long"] = c.DeleteServiceAttributes(ctx, &sd.DeleteServiceAttributesInput{ServiceId: aws.String(long(256)), Attributes: []string{"k"}})
	_, invalid["get: id too long"] = c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: aws.String(long(256))})
	for name, err := range invalid {
		t.Run(name, func(t *testing.T) { checkErr[*types.InvalidInput](t, err) })
	}
	if a := get(); len(a) != 30 {
		t.Errorf("refused requests changed the attributes: %d", len(a))
	}

	notFound := map[string]error{}
	for _, ref := range []string{"srv-aaaaaaaaaaaaaaaa", "arn:aws:servicediscovery:eu-west-1:" + account + ":service/" + aws.ToString(svc.Id)} {
		_, notFound["update "+ref] = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: aws.String(ref), Attributes: map[string]string{"k": "v"}})
		_, notFound["delete "+ref] = c.DeleteServiceAttributes(ctx, &sd.DeleteServiceAttributesInput{ServiceId: aws.String(ref), Attributes: []string{"k"}})
		_, notFound["get "+ref] = c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: aws.String(ref)})
	}
	for name, err := range notFound {
		t.Run(name, func(t *testing.T) { checkErr[*types.ServiceNotFound](t, err) })
	}
}

func sameMap(a, b map[string]string) bool {
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

func TestService_ListFilters(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h := mustNamespace(t, c, httpNS, "shop")
	pub := mustNamespace(t, c, publicNS, "example.com")
	s1 := httpService(t, c, h, "cart")
	s2 := httpService(t, c, h, "payments")
	s3 := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("www"), NamespaceId: aws.String(pub),
		DnsConfig: &types.DnsConfig{DnsRecords: records("A", 60)}, HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}})
	nsARN := "arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + h
	f := func(name types.ServiceFilterName, cond types.FilterCondition, values ...string) types.ServiceFilter {
		return types.ServiceFilter{Name: name, Condition: cond, Values: values}
	}
	all := []string{aws.ToString(s1.Id), aws.ToString(s2.Id), aws.ToString(s3.Id)}
	cases := []struct {
		name    string
		filters []types.ServiceFilter
		want    []string
	}{
		{"none", nil, all},
		{"NAMESPACE_ID by ID", []types.ServiceFilter{f("NAMESPACE_ID", "EQ", h)}, all[:2]},
		{"NAMESPACE_ID by ARN, default condition", []types.ServiceFilter{f("NAMESPACE_ID", "", nsARN)}, all[:2]},
		{"NAMESPACE_ID other", []types.ServiceFilter{f("NAMESPACE_ID", "EQ", pub)}, all[2:]},
		{"NAMESPACE_ID unknown", []types.ServiceFilter{f("NAMESPACE_ID", "EQ", "ns-aaaaaaaaaaaaaaaa")}, nil},
		{"NAMESPACE_ID other region's ARN", []types.ServiceFilter{f("NAMESPACE_ID", "EQ", "arn:aws:servicediscovery:eu-west-1:"+account+":namespace/"+h)}, nil},
		{"RESOURCE_OWNER SELF", []types.ServiceFilter{f("RESOURCE_OWNER", "EQ", "SELF")}, all},
		{"RESOURCE_OWNER OTHER_ACCOUNTS", []types.ServiceFilter{f("RESOURCE_OWNER", "EQ", "OTHER_ACCOUNTS")}, nil},
		{"NAMESPACE_ID and RESOURCE_OWNER", []types.ServiceFilter{f("NAMESPACE_ID", "EQ", pub), f("RESOURCE_OWNER", "EQ", "SELF")}, all[2:]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			p := sd.NewListServicesPaginator(c, &sd.ListServicesInput{Filters: tc.filters}, func(o *sd.ListServicesPaginatorOptions) { o.Limit = 1 })
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				must(t, err)
				for _, s := range page.Services {
					got[aws.ToString(s.Id)] = true
				}
			}
			if !sameSet(got, set(tc.want...)) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Summaries carry DnsConfig and the health check (external-dns reads them).
	out, err := c.ListServices(ctx, &sd.ListServicesInput{Filters: []types.ServiceFilter{f("NAMESPACE_ID", "EQ", pub)}})
	must(t, err)
	s := out.Services[0]
	if s.DnsConfig == nil || len(s.DnsConfig.DnsRecords) != 1 || s.HealthCheckConfig == nil || s.Type != types.ServiceTypeDnsHttp ||
		aws.ToString(s.Arn) != aws.ToString(s3.Arn) || aws.ToString(s.Name) != "www" || aws.ToString(s.ResourceOwner) != account ||
		aws.ToString(s.CreatedByAccount) != account || aws.ToInt32(s.InstanceCount) != 0 || s.CreateDate == nil {
		t.Errorf("ServiceSummary = %+v", s)
	}

	invalid := map[string][]types.ServiceFilter{
		"NAMESPACE_ID IN":              {f("NAMESPACE_ID", "IN", h, pub)},
		"NAMESPACE_ID BEGINS_WITH":     {f("NAMESPACE_ID", "BEGINS_WITH", "ns-")},
		"NAMESPACE_ID BETWEEN":         {f("NAMESPACE_ID", "BETWEEN", h, pub)},
		"NAMESPACE_ID two values":      {f("NAMESPACE_ID", "EQ", h, pub)},
		"RESOURCE_OWNER unknown value": {f("RESOURCE_OWNER", "EQ", "ME")},
		"RESOURCE_OWNER IN":            {f("RESOURCE_OWNER", "IN", "SELF", "OTHER_ACCOUNTS")},
		"unknown filter name":          {f("NAME", "EQ", "cart")},
		"no values":                    {{Name: "NAMESPACE_ID", Values: []string{}}},
	}
	wantListRefusals(t, invalid, func(filters []types.ServiceFilter, maxResults *int32) error {
		_, err := c.ListServices(ctx, &sd.ListServicesInput{Filters: filters, MaxResults: maxResults})
		return err
	})
}
