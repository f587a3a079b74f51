package e2e_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// startAt starts a cairn over the store in dir and returns a client and a
// stop function (also called when the test ends; calling it twice is
// fine).
func startAt(t *testing.T, dir string, delay time.Duration) (*sd.Client, func()) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.APIAddr = "127.0.0.1:0"
	cfg.DNSAddr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.OperationDelay = delay
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatalf("start cairn on %s: %v", dir, err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Close(ctx); err != nil {
				t.Errorf("stop cairn: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return sd.NewFromConfig(cairntest.AWSConfig(srv.Endpoint(), cfg.Region)), stop
}

// snapshot is everything the API shows of a server's state.
type snapshot struct {
	Namespaces map[string]*types.Namespace
	Services   map[string]*types.Service
	Instances  map[string]map[string]map[string]string // service → instance → attributes
	Health     map[string]map[string]types.HealthStatus
	Attributes map[string]map[string]string
	Tags       map[string][]types.Tag
	Operations map[string]types.Operation
	Revisions  map[string]int64 // "ns/svc" → InstancesRevision
}

func takeSnapshot(t *testing.T, c *sd.Client) *snapshot {
	t.Helper()
	ctx := t.Context()
	s := &snapshot{Namespaces: map[string]*types.Namespace{}, Services: map[string]*types.Service{},
		Instances: map[string]map[string]map[string]string{}, Health: map[string]map[string]types.HealthStatus{},
		Attributes: map[string]map[string]string{}, Tags: map[string][]types.Tag{}, Operations: map[string]types.Operation{},
		Revisions: map[string]int64{}}
	np := sd.NewListNamespacesPaginator(c, &sd.ListNamespacesInput{})
	for np.HasMorePages() {
		page, err := np.NextPage(ctx)
		must(t, err)
		for _, n := range page.Namespaces {
			got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: n.Id})
			must(t, err)
			s.Namespaces[aws.ToString(n.Id)] = got.Namespace
			tags, err := c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: n.Arn})
			must(t, err)
			s.Tags[aws.ToString(n.Arn)] = tags.Tags
		}
	}
	sp := sd.NewListServicesPaginator(c, &sd.ListServicesInput{})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		must(t, err)
		for _, sv := range page.Services {
			id := aws.ToString(sv.Id)
			got, err := c.GetService(ctx, &sd.GetServiceInput{Id: sv.Id})
			must(t, err)
			s.Services[id] = got.Service
			tags, err := c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: sv.Arn})
			must(t, err)
			s.Tags[aws.ToString(sv.Arn)] = tags.Tags
			attrs, err := c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: sv.Id})
			must(t, err)
			s.Attributes[id] = attrs.ServiceAttributes.Attributes
			s.Instances[id] = map[string]map[string]string{}
			for _, i := range allInstances(t, c, id) {
				got, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: sv.Id, InstanceId: aws.String(i)})
				must(t, err)
				s.Instances[id][i] = got.Instance.Attributes
			}
			h, err := c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: sv.Id})
			must(t, err)
			s.Health[id] = h.Status
			ns := s.Namespaces[aws.ToString(got.Service.NamespaceId)]
			httpName := aws.ToString(ns.Properties.HttpProperties.HttpName)
			s.Revisions[httpName+"/"+aws.ToString(sv.Name)] = revision(t, c, httpName, aws.ToString(sv.Name))
		}
	}
	for _, id := range allOperations(t, c) {
		got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: aws.String(id)})
		must(t, err)
		s.Operations[id] = *got.Operation
	}
	return s
}

func TestRestart_Durability(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, stop := startAt(t, dir, 0)
	ctx := t.Context()

	out, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop"), CreatorRequestId: aws.String("ns-token"),
		Description: aws.String("d"), Tags: tagList("team", "a")})
	must(t, err)
	shopOp := out.OperationId
	shop := waitSuccess(t, c, shopOp).Targets["NAMESPACE"]
	priv := mustNamespace(t, c, privateNS, "corp.internal")
	failed, err := createNamespace(ctx, c, privateNS, "corp.internal") // FAIL: same name and VPC
	must(t, err)
	waitOp(t, c, failed)
	pub := mustNamespace(t, c, publicNS, "example.com")
	up, err := c.UpdatePublicDnsNamespace(ctx, &sd.UpdatePublicDnsNamespaceInput{Id: aws.String(pub), Namespace: &types.PublicDnsNamespaceChange{
		Properties: &types.PublicDnsNamespacePropertiesChange{DnsProperties: &types.PublicDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(33)}}}}})
	must(t, err)
	waitSuccess(t, c, up.OperationId)

	cart := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(shop), CreatorRequestId: aws.String("svc-token"),
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}, Tags: tagList("tier", "web")})
	db := aService(t, c, priv, "db")
	// (No Route 53 health check here: its status may move with probes.)
	www := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("www"), NamespaceId: aws.String(pub),
		DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyWeighted, DnsRecords: records("A", 60, "AAAA", 60)}})
	us, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: db.Id, Service: &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: records("A", 120)}}})
	must(t, err)
	waitSuccess(t, c, us.OperationId)
	_, err = c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: cart.Id, Attributes: map[string]string{"owner": "team-a"}})
	must(t, err)
	for i := range 6 {
		mustRegister(t, c, aws.ToString(cart.Id), fmt.Sprintf("c-%d", i), map[string]string{"n": fmt.Sprint(i)})
		mustRegister(t, c, aws.ToString(db.Id), fmt.Sprintf("d-%d", i), ipv4(i))
	}
	mustRegister(t, c, aws.ToString(www.Id), "w-1", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "AWS_INSTANCE_IPV6": "2001:db8::1"})
	mustDeregister(t, c, aws.ToString(db.Id), "d-5")
	_, err = c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: cart.Id, InstanceId: aws.String("c-2"), Status: types.CustomHealthStatusUnhealthy})
	must(t, err)

	before := takeSnapshot(t, c)
	// Tokens issued before the restart, and the pages they lead to.
	_, instTok, err := listInstances(c, aws.ToString(db.Id))(ctx, nil, 2)
	must(t, err)
	instRest := walkFrom(t, listInstances(c, aws.ToString(db.Id)), instTok)
	_, opTok, err := listOperations(c)(ctx, nil, 3)
	must(t, err)
	opRest := walkFrom(t, listOperations(c), opTok)
	_, nsTok, err := listNamespaces(c)(ctx, nil, 1)
	must(t, err)
	nsRest := walkFrom(t, listNamespaces(c), nsTok)

	stop()
	c, _ = startAt(t, dir, 0)
	after := takeSnapshot(t, c)
	if len(after.Operations) != len(before.Operations) || len(after.Namespaces) != 3 || len(after.Services) != 3 {
		t.Errorf("after the restart: %d operations (before %d), %d namespaces, %d services",
			len(after.Operations), len(before.Operations), len(after.Namespaces), len(after.Services))
	}
	for _, field := range []string{"Namespaces", "Services", "Instances", "Health", "Attributes", "Tags", "Operations", "Revisions"} {
		b := reflect.ValueOf(before).Elem().FieldByName(field).Interface()
		a := reflect.ValueOf(after).Elem().FieldByName(field).Interface()
		if !reflect.DeepEqual(normalize(a), normalize(b)) {
			t.Errorf("%s changed across the restart:\nbefore %+v\nafter  %+v", field, b, a)
		}
	}
	if op := after.Operations[aws.ToString(failed)]; op.Status != types.OperationStatusFail || aws.ToString(op.ErrorCode) != "CANNOT_CREATE_HOSTED_ZONE" {
		t.Errorf("the failed operation after the restart: %s %q", op.Status, aws.ToString(op.ErrorCode))
	}
	if got := walkFrom(t, listInstances(c, aws.ToString(db.Id)), instTok); !reflect.DeepEqual(got, instRest) {
		t.Errorf("ListInstances with a token from before the restart: %v, want %v", got, instRest)
	}
	if got := walkFrom(t, listOperations(c), opTok); !reflect.DeepEqual(got, opRest) {
		t.Errorf("ListOperations with a token from before the restart: %v, want %v", got, opRest)
	}
	if got := walkFrom(t, listNamespaces(c), nsTok); !reflect.DeepEqual(got, nsRest) {
		t.Errorf("ListNamespaces with a token from before the restart: %v, want %v", got, nsRest)
	}

	// Idempotency tokens survive too.
	again, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop"), CreatorRequestId: aws.String("ns-token"),
		Description: aws.String("d"), Tags: tagList("team", "a")})
	must(t, err)
	if aws.ToString(again.OperationId) != aws.ToString(shopOp) {
		t.Errorf("CreateHttpNamespace retry after the restart: operation %s, want %s", aws.ToString(again.OperationId), aws.ToString(shopOp))
	}
	svcAgain, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(shop), CreatorRequestId: aws.String("svc-token"),
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}, Tags: tagList("tier", "web")})
	must(t, err)
	if aws.ToString(svcAgain.Service.Id) != aws.ToString(cart.Id) {
		t.Errorf("CreateService retry after the restart: %s, want %s", aws.ToString(svcAgain.Service.Id), aws.ToString(cart.Id))
	}
	// Discovery, and new writes, work.
	ids := discoverIDs(t, c, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart"), HealthStatus: types.HealthStatusFilterHealthy})
	if !sameSet(ids, set("c-0", "c-1", "c-3", "c-4", "c-5")) {
		t.Errorf("healthy cart instances after the restart = %v", ids)
	}
	rev := revision(t, c, "corp.internal", "db")
	mustRegister(t, c, aws.ToString(db.Id), "d-new", ipv4(99))
	if r := revision(t, c, "corp.internal", "db"); r <= rev {
		t.Errorf("InstancesRevision after a register following the restart: %d, want more than %d", r, rev)
	}
	mustNamespace(t, c, httpNS, "later")
}

// walkFrom lists from token to the end, two items a page.
func walkFrom(t *testing.T, list lister, token *string) []string {
	t.Helper()
	var ids []string
	for token != nil {
		page, next, err := list(t.Context(), token, 2)
		if err != nil {
			t.Fatalf("list from a token: %v", err)
		}
		ids = append(ids, page...)
		token = next
	}
	return ids
}

// normalize makes snapshots comparable: tag lists in key order.
func normalize(v any) any {
	if tags, ok := v.(map[string][]types.Tag); ok {
		out := map[string][]types.Tag{}
		for k, list := range tags {
			list = append([]types.Tag{}, list...)
			sort.Slice(list, func(a, b int) bool { return aws.ToString(list[a].Key) < aws.ToString(list[b].Key) })
			out[k] = list
		}
		return out
	}
	return v
}

// TestRestart_InFlight: operations in flight when the server stops finish
// after it starts again.
func TestRestart_InFlight(t *testing.T) {
	t.Parallel()
	for _, delayAfter := range []time.Duration{0, 200 * time.Millisecond} {
		t.Run(fmt.Sprint("delay after restart ", delayAfter), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c, stop := startAt(t, dir, 0)
			ns := mustNamespace(t, c, httpNS, "shop")
			svc := httpService(t, c, ns, "cart")
			mustRegister(t, c, aws.ToString(svc.Id), "old", nil)
			stop()

			c, stop = startAt(t, dir, time.Minute) // nothing will finish before the stop
			ctx := t.Context()
			created, err := createNamespace(ctx, c, httpNS, "pending")
			must(t, err)
			reg, err := register(ctx, c, aws.ToString(svc.Id), "new", nil)
			must(t, err)
			de, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("old")})
			must(t, err)
			for _, id := range []*string{created, reg, de.OperationId} {
				if st := getStatus(t, c, id); st != types.OperationStatusSubmitted {
					t.Fatalf("operation %s is %s, want SUBMITTED", aws.ToString(id), st)
				}
			}
			stop()

			c, _ = startAt(t, dir, delayAfter)
			nsID := waitSuccess(t, c, created).Targets["NAMESPACE"]
			waitSuccess(t, c, reg)
			waitSuccess(t, c, de.OperationId)
			if _, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsID)}); err != nil {
				t.Errorf("the namespace created across the restart: %v", err)
			}
			if got := set(allInstances(t, c, aws.ToString(svc.Id))...); !sameSet(got, set("new")) {
				t.Errorf("instances after the resumed operations = %v, want only new", got)
			}
		})
	}
}
