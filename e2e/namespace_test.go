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

func TestNamespace_CreateGet(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	cases := []struct {
		kind    nsKind
		name    string
		typ     types.NamespaceType
		zone    bool
		request func(crid string) (*string, error)
	}{
		{httpNS, "shop", types.NamespaceTypeHttp, false, func(crid string) (*string, error) {
			out, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop"),
				Description: aws.String("the shop"), CreatorRequestId: aws.String(crid)})
			if err != nil {
				return nil, err
			}
			return out.OperationId, nil
		}},
		{privateNS, "internal.example", types.NamespaceTypeDnsPrivate, true, func(crid string) (*string, error) {
			out, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("internal.example"),
				Vpc: aws.String("vpc-1"), Description: aws.String("the shop"), CreatorRequestId: aws.String(crid),
				Properties: &types.PrivateDnsNamespaceProperties{DnsProperties: &types.PrivateDnsPropertiesMutable{
					SOA: &types.SOA{TTL: aws.Int64(15)}}}})
			if err != nil {
				return nil, err
			}
			return out.OperationId, nil
		}},
		{publicNS, "example.com", types.NamespaceTypeDnsPublic, true, func(crid string) (*string, error) {
			out, err := c.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("example.com"),
				Description: aws.String("the shop"), CreatorRequestId: aws.String(crid),
				Properties: &types.PublicDnsNamespaceProperties{DnsProperties: &types.PublicDnsPropertiesMutable{
					SOA: &types.SOA{TTL: aws.Int64(15)}}}})
			if err != nil {
				return nil, err
			}
			return out.OperationId, nil
		}},
	}
	for _, tc := range cases {
		t.Run(string(tc.typ), func(t *testing.T) {
			crid := "crid-" + string(tc.typ)
			opID, err := tc.request(crid)
			must(t, err)
			if !operationIDRe.MatchString(aws.ToString(opID)) {
				t.Errorf("OperationId %q does not match %s", aws.ToString(opID), operationIDRe)
			}
			// With OperationDelay 0 the operation is done before the call returns.
			got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: opID})
			must(t, err)
			op := got.Operation
			if op.Status != types.OperationStatusSuccess || op.Type != types.OperationTypeCreateNamespace {
				t.Fatalf("operation = %s %s, want SUCCESS CREATE_NAMESPACE", op.Status, op.Type)
			}
			if len(op.Targets) != 1 {
				t.Errorf("CREATE_NAMESPACE targets = %v, want only NAMESPACE", op.Targets)
			}
			id := op.Targets["NAMESPACE"]
			if !namespaceIDRe.MatchString(id) {
				t.Fatalf("namespace ID %q does not match %s", id, namespaceIDRe)
			}
			if aws.ToString(op.OwnerAccount) != account || op.CreateDate == nil || op.UpdateDate == nil || op.UpdateDate.Before(*op.CreateDate) {
				t.Errorf("operation owner/dates = %v %v %v", aws.ToString(op.OwnerAccount), op.CreateDate, op.UpdateDate)
			}
			wantARN := "arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + id
			for _, ref := range []string{id, wantARN} {
				out, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(ref)})
				must(t, err)
				ns := out.Namespace
				if aws.ToString(ns.Id) != id || aws.ToString(ns.Arn) != wantARN || aws.ToString(ns.Name) != tc.name ||
					ns.Type != tc.typ || aws.ToString(ns.Description) != "the shop" || aws.ToString(ns.ResourceOwner) != account ||
					aws.ToString(ns.CreatorRequestId) != crid || aws.ToInt32(ns.ServiceCount) != 0 || ns.CreateDate == nil {
					t.Errorf("GetNamespace(%s) = %+v", ref, ns)
				}
				if ns.Properties == nil || ns.Properties.HttpProperties == nil || aws.ToString(ns.Properties.HttpProperties.HttpName) != tc.name {
					t.Fatalf("Properties.HttpProperties = %+v, want HttpName %s", ns.Properties, tc.name)
				}
				dns := ns.Properties.DnsProperties
				if tc.zone {
					if dns == nil || !strings.HasPrefix(aws.ToString(dns.HostedZoneId), "Z") || dns.SOA == nil || aws.ToInt64(dns.SOA.TTL) != 15 {
						t.Errorf("DnsProperties = %+v, want a Z… hosted zone and SOA TTL 15", dns)
					}
				} else if dns != nil && dns.HostedZoneId != nil {
					t.Errorf("HTTP namespace has a hosted zone %s", aws.ToString(dns.HostedZoneId))
				}
			}
		})
	}
}

func TestNamespace_GetErrors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	id := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, id, "cart")
	for _, ref := range []string{
		"ns-aaaaaaaaaaaaaaaa",
		"arn:aws:servicediscovery:us-east-1:" + account + ":namespace/ns-aaaaaaaaaaaaaaaa",
		"arn:aws:servicediscovery:eu-west-1:" + account + ":namespace/" + id, // another region
		"arn:aws:servicediscovery:us-east-1:111111111111:namespace/" + id,    // another account
		aws.ToString(svc.Arn), // a service's ARN
		aws.ToString(svc.Id),  // a service's ID
	} {
		_, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(ref)})
		checkErr[*types.NamespaceNotFound](t, err)
	}
	_, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(long(256))})
	checkErr[*types.InvalidInput](t, err)
}

// TestNamespace_Region checks that the region comes from the request's
// signature, shows in ARNs, and separates resources.
func TestNamespace_Region(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t)
	ctx := t.Context()
	eu := regionClient(srv, "eu-west-1")
	euID := mustNamespace(t, eu, httpNS, "shop")
	got, err := eu.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(euID)})
	must(t, err)
	euARN := "arn:aws:servicediscovery:eu-west-1:" + account + ":namespace/" + euID
	if aws.ToString(got.Namespace.Arn) != euARN {
		t.Errorf("Arn = %s, want %s", aws.ToString(got.Namespace.Arn), euARN)
	}
	euSvc := httpService(t, eu, euID, "cart")
	if want := "arn:aws:servicediscovery:eu-west-1:" + account + ":service/" + aws.ToString(euSvc.Id); aws.ToString(euSvc.Arn) != want {
		t.Errorf("service Arn = %s, want %s", aws.ToString(euSvc.Arn), want)
	}
	mustRegister(t, eu, aws.ToString(euSvc.Id), "i-1", nil)

	// us-east-1 sees none of it, by ID or by ARN.
	for _, ref := range []string{euID, euARN} {
		_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(ref)})
		checkErr[*types.NamespaceNotFound](t, err)
	}
	for _, ref := range []string{aws.ToString(euSvc.Id), aws.ToString(euSvc.Arn)} {
		_, err = c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(ref)})
		checkErr[*types.ServiceNotFound](t, err)
		_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: aws.String(ref), InstanceId: aws.String("i-1")})
		checkErr[*types.ServiceNotFound](t, err)
	}
	_, err = c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")})
	checkErr[*types.NamespaceNotFound](t, err)
	_, err = c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(euARN)})
	checkErr[*types.ResourceNotFoundException](t, err)
	if list := namespaceSummaries(t, c, &sd.ListNamespacesInput{}); len(list) != 0 {
		t.Errorf("us-east-1 ListNamespaces = %d namespaces, want 0", len(list))
	}
	if svcs := serviceSummaries(t, c, &sd.ListServicesInput{}); len(svcs) != 0 {
		t.Errorf("us-east-1 ListServices = %d services, want 0", len(svcs))
	}
	ops, err := c.ListOperations(ctx, &sd.ListOperationsInput{})
	must(t, err)
	if len(ops.Operations) != 0 {
		t.Errorf("us-east-1 ListOperations = %d operations, want 0", len(ops.Operations))
	}
	for _, o := range ops.Operations {
		_, err = c.GetOperation(ctx, &sd.GetOperationInput{OperationId: o.Id})
		checkErr[*types.OperationNotFound](t, err)
	}

	// The same name is free in us-east-1, with its own ARN.
	usID := mustNamespace(t, c, httpNS, "shop")
	got, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(usID)})
	must(t, err)
	if want := "arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + usID; aws.ToString(got.Namespace.Arn) != want {
		t.Errorf("Arn = %s, want %s", aws.ToString(got.Namespace.Arn), want)
	}
	euOps, err := eu.ListOperations(ctx, &sd.ListOperationsInput{})
	must(t, err)
	for _, o := range euOps.Operations {
		_, err = c.GetOperation(ctx, &sd.GetOperationInput{OperationId: o.Id})
		checkErr[*types.OperationNotFound](t, err)
	}
}

func TestNamespace_CreateInvalid(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	tooManyTags := make([]types.Tag, 51)
	for i := range tooManyTags {
		tooManyTags[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	reserved := []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("me")}}
	longKey := []types.Tag{{Key: aws.String(long(129)), Value: aws.String("v")}}
	type req struct {
		name string
		call func() error
	}
	httpNS := func(in sd.CreateHttpNamespaceInput) func() error {
		return func() error { _, err := c.CreateHttpNamespace(ctx, &in); return err }
	}
	privNS := func(in sd.CreatePrivateDnsNamespaceInput) func() error {
		if in.Vpc == nil {
			in.Vpc = aws.String("vpc-1")
		}
		return func() error { _, err := c.CreatePrivateDnsNamespace(ctx, &in); return err }
	}
	pubNS := func(in sd.CreatePublicDnsNamespaceInput) func() error {
		return func() error { _, err := c.CreatePublicDnsNamespace(ctx, &in); return err }
	}
	invalid := []req{
		{"http name arn:", httpNS(sd.CreateHttpNamespaceInput{Name: aws.String("arn:aws:x")})},
		{"http name with space", httpNS(sd.CreateHttpNamespaceInput{Name: aws.String("my shop")})},
		{"http name too long", httpNS(sd.CreateHttpNamespaceInput{Name: aws.String(long(1025))})},
		{"http description too long", httpNS(sd.CreateHttpNamespaceInput{Name: aws.String("a"), Description: aws.String(long(1025))})},
		{"http creator request id too long", httpNS(sd.CreateHttpNamespaceInput{Name: aws.String("a"), CreatorRequestId: aws.String(long(65))})},
		{"http reserved tag", httpNS(sd.CreateHttpNamespaceInput{Name: aws.String("a"), Tags: reserved})},
		{"http tag key too long", httpNS(sd.CreateHttpNamespaceInput{Name: aws.String("a"), Tags: longKey})},
		{"private name too long", privNS(sd.CreatePrivateDnsNamespaceInput{Name: aws.String(long(254))})},
		{"private label too long", privNS(sd.CreatePrivateDnsNamespaceInput{Name: aws.String(long(64) + ".example")})},
		{"private empty label", privNS(sd.CreatePrivateDnsNamespaceInput{Name: aws.String("a..example")})},
		{"private vpc too long", privNS(sd.CreatePrivateDnsNamespaceInput{Name: aws.String("a.example"), Vpc: aws.String(long(65))})},
		{"private negative SOA TTL", privNS(sd.CreatePrivateDnsNamespaceInput{Name: aws.String("a.example"),
			Properties: &types.PrivateDnsNamespaceProperties{DnsProperties: &types.PrivateDnsPropertiesMutable{SOA: &types.SOA{TTL: aws.Int64(-1)}}}})},
		{"private reserved tag", privNS(sd.CreatePrivateDnsNamespaceInput{Name: aws.String("a.example"), Tags: reserved})},
		{"public name without a dot", pubNS(sd.CreatePublicDnsNamespaceInput{Name: aws.String("localhost")})},
		{"public name with underscore", pubNS(sd.CreatePublicDnsNamespaceInput{Name: aws.String("my_shop.com")})},
		{"public name with space", pubNS(sd.CreatePublicDnsNamespaceInput{Name: aws.String("my shop.com")})},
		{"public SOA TTL too big", pubNS(sd.CreatePublicDnsNamespaceInput{Name: aws.String("a.com"),
			Properties: &types.PublicDnsNamespaceProperties{DnsProperties: &types.PublicDnsPropertiesMutable{SOA: &types.SOA{TTL: aws.Int64(1 << 31)}}}})},
		{"public reserved tag", pubNS(sd.CreatePublicDnsNamespaceInput{Name: aws.String("a.com"), Tags: reserved})},
	}
	for _, r := range invalid {
		t.Run(r.name, func(t *testing.T) { checkErr[*types.InvalidInput](t, r.call()) })
	}
	tooMany := []req{
		{"http", httpNS(sd.CreateHttpNamespaceInput{Name: aws.String("a"), Tags: tooManyTags})},
		{"private", privNS(sd.CreatePrivateDnsNamespaceInput{Name: aws.String("a.example"), Tags: tooManyTags})},
		{"public", pubNS(sd.CreatePublicDnsNamespaceInput{Name: aws.String("a.com"), Tags: tooManyTags})},
	}
	for _, r := range tooMany {
		t.Run("too many tags "+r.name, func(t *testing.T) { checkErr[*types.TooManyTagsException](t, r.call()) })
	}
	// Nothing was created by the refused requests.
	if list := namespaceSummaries(t, c, &sd.ListNamespacesInput{}); len(list) != 0 {
		t.Errorf("refused creates left %d namespaces", len(list))
	}
	// 50 tags, and a repeated key counting once, are fine.
	fifty := append(append([]types.Tag{}, tooManyTags[:50]...), types.Tag{Key: aws.String("k0"), Value: aws.String("again")})
	_, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("fifty"), Tags: fifty})
	must(t, err)
}

func TestNamespace_AlreadyExists(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	out, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop"), CreatorRequestId: aws.String("first")})
	must(t, err)
	shop := waitSuccess(t, c, out.OperationId).Targets["NAMESPACE"]
	_, err = c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})
	e := wantErr[*types.NamespaceAlreadyExists](t, err)
	if aws.ToString(e.NamespaceId) != shop || aws.ToString(e.CreatorRequestId) != "first" {
		t.Errorf("NamespaceAlreadyExists{NamespaceId %q, CreatorRequestId %q}, want %s, first",
			aws.ToString(e.NamespaceId), aws.ToString(e.CreatorRequestId), shop)
	}

	pub := mustNamespace(t, c, publicNS, "example.com")
	_, err = c.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("example.com")})
	e = wantErr[*types.NamespaceAlreadyExists](t, err)
	if aws.ToString(e.NamespaceId) != pub {
		t.Errorf("NamespaceAlreadyExists.NamespaceId = %q, want %s", aws.ToString(e.NamespaceId), pub)
	}
	// Public DNS names are compared regardless of case.
	_, err = c.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("EXAMPLE.com")})
	checkErr[*types.NamespaceAlreadyExists](t, err)

	// A private namespace may reuse the name of another namespace (in
	// another VPC): its HttpName gets a suffix so that it stays unique.
	priv := mustNamespace(t, c, privateNS, "shop")
	got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(priv)})
	must(t, err)
	httpName := aws.ToString(got.Namespace.Properties.HttpProperties.HttpName)
	if aws.ToString(got.Namespace.Name) != "shop" || httpName == "shop" || !strings.HasPrefix(httpName, "shop") {
		t.Errorf("reused name: Name %q HttpName %q, want shop and a distinct shop… HttpName", aws.ToString(got.Namespace.Name), httpName)
	}
}

// TestNamespace_PrivateConflict: a private DNS namespace with the name and
// VPC of an existing one fails asynchronously, as AWS does.
func TestNamespace_PrivateConflict(t *testing.T) {
	t.Parallel()
	withAndWithoutDelay(t, 200*time.Millisecond, func(t *testing.T, c *sd.Client) {
		ctx := t.Context()
		first := mustNamespace(t, c, privateNS, "corp.internal")
		out, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.internal"), Vpc: aws.String("vpc-0a1b2c3d")})
		must(t, err) // accepted: the failure is the operation's
		op := waitOp(t, c, out.OperationId)
		if op.Status != types.OperationStatusFail || aws.ToString(op.ErrorCode) != "CANNOT_CREATE_HOSTED_ZONE" || aws.ToString(op.ErrorMessage) == "" {
			t.Fatalf("operation = %s %q %q, want FAIL CANNOT_CREATE_HOSTED_ZONE with a message", op.Status, aws.ToString(op.ErrorCode), aws.ToString(op.ErrorMessage))
		}
		failed := op.Targets["NAMESPACE"]
		if failed == "" || failed == first {
			t.Errorf("failed operation's NAMESPACE target = %q", failed)
		}
		_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(failed)})
		checkErr[*types.NamespaceNotFound](t, err)
		if list := namespaceSummaries(t, c, &sd.ListNamespacesInput{}); len(list) != 1 || aws.ToString(list[0].Id) != first {
			t.Errorf("ListNamespaces after the failure = %d namespaces, want only %s", len(list), first)
		}
		// Another VPC is no conflict.
		out, err = c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.internal"), Vpc: aws.String("vpc-other")})
		must(t, err)
		waitSuccess(t, c, out.OperationId)
	})
}

func TestNamespace_Limit(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t, cairntest.WithConfig(func(cfg *server.Config) { cfg.Limits.NamespacesPerRegion = 2 }))
	ctx := t.Context()
	a := mustNamespace(t, c, httpNS, "a")
	mustNamespace(t, c, privateNS, "b.internal")
	for _, kind := range []nsKind{httpNS, privateNS, publicNS} {
		_, err := createNamespace(ctx, c, kind, "c.example.com")
		checkErr[*types.ResourceLimitExceeded](t, err)
	}
	// The quota is per region.
	mustNamespace(t, regionClient(srv, "eu-west-1"), httpNS, "c")
	// Deleting one makes room.
	del, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(a)})
	must(t, err)
	waitSuccess(t, c, del.OperationId)
	mustNamespace(t, c, publicNS, "c.example.com")
}

func TestNamespace_Idempotency(t *testing.T) {
	t.Parallel()
	withAndWithoutDelay(t, 300*time.Millisecond, func(t *testing.T, c *sd.Client) {
		ctx := t.Context()
		type creator func(name, desc string) (*string, error)
		kinds := map[string]creator{
			"http": func(name, desc string) (*string, error) {
				out, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String(name), Description: aws.String(desc), CreatorRequestId: aws.String("tok-http")})
				if err != nil {
					return nil, err
				}
				return out.OperationId, nil
			},
			"private": func(name, desc string) (*string, error) {
				out, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name + ".internal"), Vpc: aws.String("vpc-1"),
					Description: aws.String(desc), CreatorRequestId: aws.String("tok-private")})
				if err != nil {
					return nil, err
				}
				return out.OperationId, nil
			},
			"public": func(name, desc string) (*string, error) {
				out, err := c.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String(name + ".example.com"),
					Description: aws.String(desc), CreatorRequestId: aws.String("tok-public")})
				if err != nil {
					return nil, err
				}
				return out.OperationId, nil
			},
		}
		for kind, create := range kinds {
			first, err := create(kind, "one")
			must(t, err)
			// A retry, while in flight (when delayed) and after: the same operation.
			again, err := create(kind, "one")
			must(t, err)
			if aws.ToString(again) != aws.ToString(first) {
				t.Errorf("%s: retry with the same CreatorRequestId got operation %s, want %s", kind, aws.ToString(again), aws.ToString(first))
			}
			nsID := waitSuccess(t, c, first).Targets["NAMESPACE"]
			again, err = create(kind, "one")
			must(t, err)
			if aws.ToString(again) != aws.ToString(first) {
				t.Errorf("%s: retry after SUCCESS got operation %s, want %s", kind, aws.ToString(again), aws.ToString(first))
			}
			// The same token with other parameters.
			for _, change := range [][2]string{{kind, "two"}, {kind + "x", "one"}} {
				_, err = create(change[0], change[1])
				e := wantErr[*types.NamespaceAlreadyExists](t, err)
				if aws.ToString(e.CreatorRequestId) != "tok-"+kind || aws.ToString(e.NamespaceId) != nsID {
					t.Errorf("%s: NamespaceAlreadyExists{CreatorRequestId %q, NamespaceId %q}, want tok-%s, %s",
						kind, aws.ToString(e.CreatorRequestId), aws.ToString(e.NamespaceId), kind, nsID)
				}
			}
		}
		if list := namespaceSummaries(t, c, &sd.ListNamespacesInput{}); len(list) != 3 {
			t.Errorf("ListNamespaces = %d namespaces, want 3", len(list))
		}
	})
}

// TestNamespace_CreateInFlight: while a create is in flight, another
// create of the same name (with another CreatorRequestId) is refused with
// NamespaceAlreadyExists naming the namespace being created; cairn never
// answers a create with DuplicateRequest (a retry with the same token gets
// the same operation, see TestNamespace_Idempotency).
func TestNamespace_CreateInFlight(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withDelay(500*time.Millisecond))
	ctx := t.Context()
	for _, kind := range []nsKind{httpNS, publicNS} {
		first, err := createNamespace(ctx, c, kind, "example.com")
		must(t, err)
		got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: first})
		must(t, err)
		_, err = createNamespace(ctx, c, kind, "example.com")
		e := wantErr[*types.NamespaceAlreadyExists](t, err)
		if want := got.Operation.Targets["NAMESPACE"]; aws.ToString(e.NamespaceId) != want {
			t.Errorf("NamespaceAlreadyExists.NamespaceId = %q, want the namespace in creation %s", aws.ToString(e.NamespaceId), want)
		}
		waitSuccess(t, c, first)
	}
}

func TestNamespace_Update(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h, priv, pub := threeNamespaces(t, c)
	hARN := "arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + h

	checkOp := func(opID *string, nsID string) {
		t.Helper()
		op := waitSuccess(t, c, opID)
		if op.Type != types.OperationTypeUpdateNamespace || len(op.Targets) != 1 || op.Targets["NAMESPACE"] != nsID {
			t.Errorf("update operation = %s %v, want UPDATE_NAMESPACE {NAMESPACE: %s}", op.Type, op.Targets, nsID)
		}
	}
	get := func(id string) *types.Namespace {
		t.Helper()
		out, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id)})
		must(t, err)
		return out.Namespace
	}

	hu, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(hARN),
		Namespace: &types.HttpNamespaceChange{Description: aws.String("new")}})
	must(t, err)
	checkOp(hu.OperationId, h)
	if d := aws.ToString(get(h).Description); d != "new" {
		t.Errorf("HTTP namespace description = %q, want new", d)
	}

	pu, err := c.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: aws.String(priv),
		Namespace: &types.PrivateDnsNamespaceChange{Description: aws.String("corp"), Properties: &types.PrivateDnsNamespacePropertiesChange{
			DnsProperties: &types.PrivateDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(42)}}}}})
	must(t, err)
	checkOp(pu.OperationId, priv)
	if ns := get(priv); aws.ToString(ns.Description) != "corp" || aws.ToInt64(ns.Properties.DnsProperties.SOA.TTL) != 42 {
		t.Errorf("private namespace = %q SOA %v, want corp and TTL 42", aws.ToString(ns.Description), ns.Properties.DnsProperties.SOA)
	}
	// Only the SOA TTL: the description stays.
	pu, err = c.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: aws.String(priv),
		Namespace: &types.PrivateDnsNamespaceChange{Properties: &types.PrivateDnsNamespacePropertiesChange{
			DnsProperties: &types.PrivateDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(7)}}}}})
	must(t, err)
	checkOp(pu.OperationId, priv)
	if ns := get(priv); aws.ToString(ns.Description) != "corp" || aws.ToInt64(ns.Properties.DnsProperties.SOA.TTL) != 7 {
		t.Errorf("private namespace = %q SOA %v, want corp and TTL 7", aws.ToString(ns.Description), ns.Properties.DnsProperties.SOA)
	}

	bu, err := c.UpdatePublicDnsNamespace(ctx, &sd.UpdatePublicDnsNamespaceInput{Id: aws.String(pub),
		Namespace: &types.PublicDnsNamespaceChange{Properties: &types.PublicDnsNamespacePropertiesChange{
			DnsProperties: &types.PublicDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(99)}}}}})
	must(t, err)
	checkOp(bu.OperationId, pub)
	if ns := get(pub); aws.ToInt64(ns.Properties.DnsProperties.SOA.TTL) != 99 {
		t.Errorf("public namespace SOA = %v, want TTL 99", ns.Properties.DnsProperties.SOA)
	}

	// UpdaterRequestId: a retry gets the same operation; another change
	// with the same token is refused.
	tok := aws.String("upd-1")
	first, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(h), UpdaterRequestId: tok,
		Namespace: &types.HttpNamespaceChange{Description: aws.String("v2")}})
	must(t, err)
	again, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(h), UpdaterRequestId: tok,
		Namespace: &types.HttpNamespaceChange{Description: aws.String("v2")}})
	must(t, err)
	if aws.ToString(again.OperationId) != aws.ToString(first.OperationId) {
		t.Errorf("retried update got operation %s, want %s", aws.ToString(again.OperationId), aws.ToString(first.OperationId))
	}
	_, err = c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(h), UpdaterRequestId: tok,
		Namespace: &types.HttpNamespaceChange{Description: aws.String("v3")}})
	checkErr[*types.InvalidInput](t, err)
}

func TestNamespace_UpdateErrors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h, priv, pub := threeNamespaces(t, c)
	soa := func(ttl int64) *types.PrivateDnsNamespacePropertiesChange {
		return &types.PrivateDnsNamespacePropertiesChange{DnsProperties: &types.PrivateDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(ttl)}}}
	}
	pubSOA := func(ttl int64) *types.PublicDnsNamespacePropertiesChange {
		return &types.PublicDnsNamespacePropertiesChange{DnsProperties: &types.PublicDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(ttl)}}}
	}
	updHTTP := func(id, desc string) error {
		_, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(id), Namespace: &types.HttpNamespaceChange{Description: aws.String(desc)}})
		return err
	}
	updPriv := func(id string, ch *types.PrivateDnsNamespaceChange) error {
		_, err := c.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: aws.String(id), Namespace: ch})
		return err
	}
	updPub := func(id string, ch *types.PublicDnsNamespaceChange) error {
		_, err := c.UpdatePublicDnsNamespace(ctx, &sd.UpdatePublicDnsNamespaceInput{Id: aws.String(id), Namespace: ch})
		return err
	}
	invalid := map[string]error{
		"http: on a private namespace":   updHTTP(priv, "x"),
		"http: on a public namespace":    updHTTP(pub, "x"),
		"http: id too long":              updHTTP(long(256), "x"),
		"http: description too long":     updHTTP(h, long(1025)),
		"private: on an HTTP namespace":  updPriv(h, &types.PrivateDnsNamespaceChange{Description: aws.String("x")}),
		"private: on a public namespace": updPriv(pub, &types.PrivateDnsNamespaceChange{Description: aws.String("x")}),
		"private: empty change":          updPriv(priv, &types.PrivateDnsNamespaceChange{}),
		"private: negative SOA TTL":      updPriv(priv, &types.PrivateDnsNamespaceChange{Properties: soa(-5)}),
		"private: id too long":           updPriv(long(256), &types.PrivateDnsNamespaceChange{Description: aws.String("x")}),
		"public: on a private namespace": updPub(priv, &types.PublicDnsNamespaceChange{Properties: pubSOA(5)}),
		"public: on an HTTP namespace":   updPub(h, &types.PublicDnsNamespaceChange{Description: aws.String("x")}),
		"public: empty change":           updPub(pub, &types.PublicDnsNamespaceChange{}),
		"public: SOA TTL too big":        updPub(pub, &types.PublicDnsNamespaceChange{Properties: pubSOA(1 << 31)}),
		"public: description too long":   updPub(pub, &types.PublicDnsNamespaceChange{Description: aws.String(long(1025))}),
		"public: updater request too long": func() error {
			_, err := c.UpdatePublicDnsNamespace(ctx, &sd.UpdatePublicDnsNamespaceInput{Id: aws.String(pub), UpdaterRequestId: aws.String(long(65)), Namespace: &types.PublicDnsNamespaceChange{Description: aws.String("x")}})
			return err
		}(),
	}
	for name, err := range invalid {
		t.Run(name, func(t *testing.T) { checkErr[*types.InvalidInput](t, err) })
	}
	missing := "ns-aaaaaaaaaaaaaaaa"
	notFound := map[string]error{
		"http":                     updHTTP(missing, "x"),
		"private":                  updPriv(missing, &types.PrivateDnsNamespaceChange{Description: aws.String("x")}),
		"public":                   updPub(missing, &types.PublicDnsNamespaceChange{Description: aws.String("x")}),
		"http: other region's ARN": updHTTP("arn:aws:servicediscovery:eu-west-1:"+account+":namespace/"+h, "x"),
	}
	for name, err := range notFound {
		t.Run("not found "+name, func(t *testing.T) { checkErr[*types.NamespaceNotFound](t, err) })
	}
}

// TestNamespace_DuplicateRequest: an update or delete of a namespace while
// another operation on it is in flight is refused with the ID of that
// operation. The three namespace types go through it side by side.
func TestNamespace_DuplicateRequest(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withDelay(time.Second))
	ctx := t.Context()
	kinds := []nsKind{httpNS, privateNS, publicNS}
	names := map[nsKind]string{httpNS: "shop", privateNS: "corp.internal", publicNS: "example.com"}
	creates := map[nsKind]*string{}
	for _, kind := range kinds {
		opID, err := createNamespace(ctx, c, kind, names[kind])
		must(t, err)
		creates[kind] = opID
	}
	ids := map[nsKind]string{}
	for _, kind := range kinds {
		ids[kind] = waitSuccess(t, c, creates[kind]).Targets["NAMESPACE"]
	}
	update := func(kind nsKind, desc string) (*string, error) {
		id := aws.String(ids[kind])
		switch kind {
		case privateNS:
			out, err := c.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: id, Namespace: &types.PrivateDnsNamespaceChange{Description: aws.String(desc)}})
			if err != nil {
				return nil, err
			}
			return out.OperationId, nil
		case publicNS:
			out, err := c.UpdatePublicDnsNamespace(ctx, &sd.UpdatePublicDnsNamespaceInput{Id: id, Namespace: &types.PublicDnsNamespaceChange{Description: aws.String(desc)}})
			if err != nil {
				return nil, err
			}
			return out.OperationId, nil
		}
		out, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: id, Namespace: &types.HttpNamespaceChange{Description: aws.String(desc)}})
		if err != nil {
			return nil, err
		}
		return out.OperationId, nil
	}
	dup := func(what string, err error, want *string) {
		t.Helper()
		e := wantErr[*types.DuplicateRequest](t, err)
		if aws.ToString(e.DuplicateOperationId) != aws.ToString(want) {
			t.Errorf("%s: DuplicateOperationId = %q, want the in-flight %s", what, aws.ToString(e.DuplicateOperationId), aws.ToString(want))
		}
	}

	first := map[nsKind]*string{}
	for _, kind := range kinds {
		opID, err := update(kind, "one")
		must(t, err)
		first[kind] = opID
	}
	for _, kind := range kinds {
		_, err := update(kind, "two")
		dup(names[kind]+" update", err, first[kind])
		_, err = c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(ids[kind])})
		dup(names[kind]+" delete", err, first[kind])
	}
	for _, kind := range kinds {
		waitSuccess(t, c, first[kind])
		got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(ids[kind])})
		must(t, err)
		if d := aws.ToString(got.Namespace.Description); d != "one" {
			t.Errorf("%s description = %q, want the first update's", names[kind], d)
		}
	}

	// Once they are done the namespaces are free again: a delete in
	// flight blocks a second delete and an update.
	dels := map[nsKind]*string{}
	for _, kind := range kinds {
		out, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(ids[kind])})
		must(t, err)
		dels[kind] = out.OperationId
	}
	for _, kind := range kinds {
		_, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(ids[kind])})
		dup(names[kind]+" second delete", err, dels[kind])
		_, err = update(kind, "late")
		dup(names[kind]+" update while deleting", err, dels[kind])
	}
	for _, kind := range kinds {
		waitSuccess(t, c, dels[kind])
		_, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(ids[kind])})
		checkErr[*types.NamespaceNotFound](t, err)
	}
}

func TestNamespace_Delete(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	id := mustNamespace(t, c, httpNS, "shop")
	svc := httpService(t, c, id, "cart")

	_, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(id)})
	wantErr[*types.ResourceInUse](t, err)
	got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id)})
	must(t, err)
	if aws.ToInt32(got.Namespace.ServiceCount) != 1 {
		t.Errorf("ServiceCount = %d, want 1", aws.ToInt32(got.Namespace.ServiceCount))
	}
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
	must(t, err)

	// By ARN.
	out, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String("arn:aws:servicediscovery:us-east-1:" + account + ":namespace/" + id)})
	must(t, err)
	op := waitSuccess(t, c, out.OperationId)
	if op.Type != types.OperationTypeDeleteNamespace || len(op.Targets) != 1 || op.Targets["NAMESPACE"] != id {
		t.Errorf("delete operation = %s %v, want DELETE_NAMESPACE {NAMESPACE: %s}", op.Type, op.Targets, id)
	}
	_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id)})
	checkErr[*types.NamespaceNotFound](t, err)
	_, err = c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(id)})
	checkErr[*types.NamespaceNotFound](t, err)
	_, err = c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(long(256))})
	checkErr[*types.InvalidInput](t, err)
	_, err = c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")})
	checkErr[*types.NamespaceNotFound](t, err)
	// The name is free again.
	again := mustNamespace(t, c, httpNS, "shop")
	if again == id {
		t.Errorf("the new namespace reused the ID %s", id)
	}
}

func TestNamespace_ListFilters(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	h1 := mustNamespace(t, c, httpNS, "shop")
	h2 := mustNamespace(t, c, httpNS, "shipping")
	priv := mustNamespace(t, c, privateNS, "shop.internal")
	pub := mustNamespace(t, c, publicNS, "example.com")
	priv2 := mustNamespace(t, c, privateNS, "shop") // HttpName shop-<hash>

	f := func(name types.NamespaceFilterName, cond types.FilterCondition, values ...string) types.NamespaceFilter {
		return types.NamespaceFilter{Name: name, Condition: cond, Values: values}
	}
	cases := []struct {
		name    string
		filters []types.NamespaceFilter
		want    []string
	}{
		{"none", nil, []string{h1, h2, priv, pub, priv2}},
		{"TYPE EQ (default condition)", []types.NamespaceFilter{f("TYPE", "", "HTTP")}, []string{h1, h2}},
		{"TYPE EQ", []types.NamespaceFilter{f("TYPE", "EQ", "DNS_PUBLIC")}, []string{pub}},
		{"TYPE IN", []types.NamespaceFilter{f("TYPE", "IN", "DNS_PUBLIC", "HTTP")}, []string{h1, h2, pub}},
		{"TYPE BEGINS_WITH", []types.NamespaceFilter{f("TYPE", "BEGINS_WITH", "DNS")}, []string{priv, pub, priv2}},
		{"NAME EQ", []types.NamespaceFilter{f("NAME", "EQ", "shop")}, []string{h1, priv2}},
		{"NAME BEGINS_WITH", []types.NamespaceFilter{f("NAME", "BEGINS_WITH", "sh")}, []string{h1, h2, priv, priv2}},
		{"HTTP_NAME EQ", []types.NamespaceFilter{f("HTTP_NAME", "EQ", "shop")}, []string{h1}},
		{"HTTP_NAME BEGINS_WITH", []types.NamespaceFilter{f("HTTP_NAME", "BEGINS_WITH", "shop")}, []string{h1, priv, priv2}},
		{"RESOURCE_OWNER SELF", []types.NamespaceFilter{f("RESOURCE_OWNER", "EQ", "SELF")}, []string{h1, h2, priv, pub, priv2}},
		{"RESOURCE_OWNER OTHER_ACCOUNTS", []types.NamespaceFilter{f("RESOURCE_OWNER", "", "OTHER_ACCOUNTS")}, nil},
		{"AND of filters", []types.NamespaceFilter{f("TYPE", "EQ", "DNS_PRIVATE"), f("NAME", "BEGINS_WITH", "shop")}, []string{priv, priv2}},
		{"AND with no match", []types.NamespaceFilter{f("TYPE", "EQ", "HTTP"), f("NAME", "EQ", "example.com")}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			p := sd.NewListNamespacesPaginator(c, &sd.ListNamespacesInput{Filters: tc.filters, MaxResults: aws.Int32(2)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				must(t, err)
				for _, ns := range page.Namespaces {
					got[aws.ToString(ns.Id)] = true
				}
			}
			if !sameSet(got, set(tc.want...)) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// The summaries carry what the namespace has.
	out, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{Filters: []types.NamespaceFilter{f("NAME", "EQ", "example.com")}})
	must(t, err)
	if len(out.Namespaces) != 1 {
		t.Fatalf("got %d namespaces", len(out.Namespaces))
	}
	s := out.Namespaces[0]
	if aws.ToString(s.Arn) != "arn:aws:servicediscovery:us-east-1:"+account+":namespace/"+pub || s.Type != types.NamespaceTypeDnsPublic ||
		aws.ToString(s.ResourceOwner) != account || s.CreateDate == nil || s.Properties == nil || s.Properties.DnsProperties == nil ||
		aws.ToString(s.Properties.HttpProperties.HttpName) != "example.com" || aws.ToInt32(s.ServiceCount) != 0 {
		t.Errorf("NamespaceSummary = %+v", s)
	}

	invalid := map[string][]types.NamespaceFilter{
		"TYPE with an unknown type":            {f("TYPE", "EQ", "DNS")},
		"TYPE EQ with two values":              {f("TYPE", "EQ", "HTTP", "DNS_PUBLIC")},
		"TYPE BETWEEN":                         {f("TYPE", "BETWEEN", "HTTP", "DNS_PUBLIC")},
		"NAME IN":                              {f("NAME", "IN", "a", "b")},
		"NAME EQ with two values":              {f("NAME", "EQ", "a", "b")},
		"HTTP_NAME BETWEEN":                    {f("HTTP_NAME", "BETWEEN", "a", "b")},
		"RESOURCE_OWNER BEGINS_WITH":           {f("RESOURCE_OWNER", "BEGINS_WITH", "SELF")},
		"RESOURCE_OWNER with an unknown value": {f("RESOURCE_OWNER", "EQ", "ME")},
		"unknown filter name":                  {f("COLOR", "EQ", "red")},
		"unknown condition":                    {f("NAME", "LIKE", "a")},
		"no values":                            {{Name: "NAME", Values: []string{}}},
		"empty value":                          {f("NAME", "EQ", "")},
	}
	wantListRefusals(t, invalid, func(filters []types.NamespaceFilter, maxResults *int32) error {
		_, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{Filters: filters, MaxResults: maxResults})
		return err
	})
}

// TestNamespace_HTTPDnsProperties: an HTTP namespace shows an empty
// DnsProperties in GetNamespace, and DnsProperties with an empty SOA in
// ListNamespaces, as the AWS CLI's current examples of each show.
func TestNamespace_HTTPDnsProperties(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	id := mustNamespace(t, c, httpNS, "shop")
	got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id)})
	must(t, err)
	if dns := got.Namespace.Properties.DnsProperties; dns == nil || dns.SOA != nil || dns.HostedZoneId != nil {
		t.Errorf("GetNamespace DnsProperties = %+v, want {}", dns)
	}
	list, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{})
	must(t, err)
	if len(list.Namespaces) != 1 {
		t.Fatalf("ListNamespaces = %d namespaces, want 1", len(list.Namespaces))
	}
	if dns := list.Namespaces[0].Properties.DnsProperties; dns == nil || dns.SOA == nil || dns.SOA.TTL != nil || dns.HostedZoneId != nil {
		t.Errorf("ListNamespaces DnsProperties = %+v, want {SOA: {}}", dns)
	}
}
