package e2e_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
)

// lister fetches one page of a list: the IDs on it and the next token.
type lister func(ctx context.Context, token *string, max int32) ([]string, *string, error)

func listNamespaces(c *sd.Client, filters ...types.NamespaceFilter) lister {
	return func(ctx context.Context, token *string, max int32) ([]string, *string, error) {
		out, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{NextToken: token, MaxResults: aws.Int32(max), Filters: filters})
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for _, n := range out.Namespaces {
			ids = append(ids, aws.ToString(n.Id))
		}
		return ids, out.NextToken, nil
	}
}

func listServices(c *sd.Client, filters ...types.ServiceFilter) lister {
	return func(ctx context.Context, token *string, max int32) ([]string, *string, error) {
		out, err := c.ListServices(ctx, &sd.ListServicesInput{NextToken: token, MaxResults: aws.Int32(max), Filters: filters})
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for _, s := range out.Services {
			ids = append(ids, aws.ToString(s.Id))
		}
		return ids, out.NextToken, nil
	}
}

func listInstances(c *sd.Client, svcID string) lister {
	return func(ctx context.Context, token *string, max int32) ([]string, *string, error) {
		out, err := c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(svcID), NextToken: token, MaxResults: aws.Int32(max)})
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for _, i := range out.Instances {
			ids = append(ids, aws.ToString(i.Id))
		}
		return ids, out.NextToken, nil
	}
}

func listOperations(c *sd.Client, filters ...types.OperationFilter) lister {
	return func(ctx context.Context, token *string, max int32) ([]string, *string, error) {
		out, err := c.ListOperations(ctx, &sd.ListOperationsInput{NextToken: token, MaxResults: aws.Int32(max), Filters: filters})
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for _, o := range out.Operations {
			ids = append(ids, aws.ToString(o.Id))
		}
		return ids, out.NextToken, nil
	}
}

func listHealth(c *sd.Client, svcID string, instances ...string) lister {
	return func(ctx context.Context, token *string, max int32) ([]string, *string, error) {
		in := &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(svcID), NextToken: token, MaxResults: aws.Int32(max)}
		if instances != nil {
			in.Instances = instances
		}
		out, err := c.GetInstancesHealthStatus(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for id := range out.Status {
			ids = append(ids, id)
		}
		return ids, out.NextToken, nil
	}
}

// walk follows NextToken to the end with pages of max items, calling
// between (if set) after each page, and returns how often each ID was
// seen. It fails the test on a page larger than max or an empty page
// with a NextToken.
func walk(t *testing.T, list lister, max int32, between func(page int)) map[string]int {
	t.Helper()
	seen := map[string]int{}
	var token *string
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("more than 1000 pages")
		}
		ids, next, err := list(t.Context(), token, max)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(ids) > int(max) {
			t.Errorf("page %d has %d items, more than MaxResults %d", page, len(ids), max)
		}
		for _, id := range ids {
			seen[id]++
		}
		if next == nil || *next == "" {
			return seen
		}
		if len(ids) == 0 {
			t.Errorf("page %d is empty but has a NextToken", page)
		}
		token = next
		if between != nil {
			between(page)
		}
	}
}

// checkOnce fails unless every ID in want was seen exactly once and
// nothing was seen twice; others lists IDs that may or may not be seen.
func checkOnce(t *testing.T, what string, seen map[string]int, want []string, others ...string) {
	t.Helper()
	maybe := set(others...)
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("%s: %s seen %d times, want once", what, id, seen[id])
		}
	}
	wanted := set(want...)
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s: %s seen %d times", what, id, n)
		}
		if !wanted[id] && !maybe[id] {
			t.Errorf("%s: unexpected %s", what, id)
		}
	}
}

// fixture is a server with several of everything.
type fixture struct {
	c          *sd.Client
	srv        *cairntest.Server
	namespaces []string
	nsID       string // has the services
	services   []string
	svcID      string // has the instances
	instances  []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c, srv := newClient(t)
	f := &fixture{c: c, srv: srv}
	for i := range 7 {
		f.namespaces = append(f.namespaces, mustNamespace(t, c, httpNS, fmt.Sprint("ns", i)))
	}
	f.nsID = f.namespaces[0]
	for i := range 7 {
		f.services = append(f.services, aws.ToString(httpService(t, c, f.nsID, fmt.Sprint("svc", i)).Id))
	}
	f.svcID = f.services[0]
	for i := range 11 {
		id := fmt.Sprintf("i-%02d", i)
		mustRegister(t, c, f.svcID, id, nil)
		f.instances = append(f.instances, id)
	}
	return f
}

func allOperations(t *testing.T, c *sd.Client) []string {
	t.Helper()
	var ids []string
	p := sd.NewListOperationsPaginator(c, &sd.ListOperationsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		must(t, err)
		for _, o := range page.Operations {
			ids = append(ids, aws.ToString(o.Id))
		}
	}
	return ids
}

func TestPagination_Walk(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.c
	ops := allOperations(t, c)
	if len(ops) != 7+11 {
		t.Fatalf("got %d operations, want 18", len(ops))
	}
	var registrations []string
	for _, id := range ops {
		op, err := c.GetOperation(t.Context(), &sd.GetOperationInput{OperationId: aws.String(id)})
		must(t, err)
		if op.Operation.Type == types.OperationTypeRegisterInstance {
			registrations = append(registrations, id)
		}
	}
	cases := []struct {
		name string
		list lister
		want []string
	}{
		{"ListNamespaces", listNamespaces(c), f.namespaces},
		{"ListServices", listServices(c), f.services},
		{"ListServices NAMESPACE_ID", listServices(c, types.ServiceFilter{Name: "NAMESPACE_ID", Values: []string{f.nsID}}), f.services},
		{"ListInstances", listInstances(c, f.svcID), f.instances},
		{"ListOperations", listOperations(c), ops},
		{"ListOperations TYPE", listOperations(c, types.OperationFilter{Name: "TYPE", Values: []string{"REGISTER_INSTANCE"}}), registrations},
		{"GetInstancesHealthStatus", listHealth(c, f.svcID), f.instances},
		{"GetInstancesHealthStatus of some", listHealth(c, f.svcID, f.instances[2:9]...), f.instances[2:9]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, max := range []int32{1, 2, 3, 100} {
				checkOnce(t, fmt.Sprintf("MaxResults %d", max), walk(t, tc.list, max, nil), tc.want)
			}
		})
	}
}

func TestPagination_SDKPaginators(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.c
	ctx := t.Context()
	count := func(what string, want []string, next func() ([]string, bool)) {
		t.Helper()
		seen := map[string]int{}
		pages := 0
		for {
			ids, more := next()
			if !more {
				break
			}
			pages++
			for _, id := range ids {
				seen[id]++
			}
		}
		checkOnce(t, what, seen, want)
		if min := (len(want) + 1) / 2; pages < min {
			t.Errorf("%s: %d pages for %d items with Limit 2", what, pages, len(want))
		}
	}
	np := sd.NewListNamespacesPaginator(c, &sd.ListNamespacesInput{}, func(o *sd.ListNamespacesPaginatorOptions) { o.Limit = 2 })
	count("ListNamespacesPaginator", f.namespaces, func() ([]string, bool) {
		if !np.HasMorePages() {
			return nil, false
		}
		page, err := np.NextPage(ctx)
		must(t, err)
		var ids []string
		for _, n := range page.Namespaces {
			ids = append(ids, aws.ToString(n.Id))
		}
		return ids, true
	})
	sp := sd.NewListServicesPaginator(c, &sd.ListServicesInput{}, func(o *sd.ListServicesPaginatorOptions) { o.Limit = 2 })
	count("ListServicesPaginator", f.services, func() ([]string, bool) {
		if !sp.HasMorePages() {
			return nil, false
		}
		page, err := sp.NextPage(ctx)
		must(t, err)
		var ids []string
		for _, s := range page.Services {
			ids = append(ids, aws.ToString(s.Id))
		}
		return ids, true
	})
	ip := sd.NewListInstancesPaginator(c, &sd.ListInstancesInput{ServiceId: aws.String(f.svcID)}, func(o *sd.ListInstancesPaginatorOptions) { o.Limit = 2 })
	count("ListInstancesPaginator", f.instances, func() ([]string, bool) {
		if !ip.HasMorePages() {
			return nil, false
		}
		page, err := ip.NextPage(ctx)
		must(t, err)
		if aws.ToString(page.ResourceOwner) != account {
			t.Errorf("ListInstances ResourceOwner = %q", aws.ToString(page.ResourceOwner))
		}
		var ids []string
		for _, i := range page.Instances {
			ids = append(ids, aws.ToString(i.Id))
		}
		return ids, true
	})
	op := sd.NewListOperationsPaginator(c, &sd.ListOperationsInput{}, func(o *sd.ListOperationsPaginatorOptions) { o.Limit = 2 })
	count("ListOperationsPaginator", allOperations(t, c), func() ([]string, bool) {
		if !op.HasMorePages() {
			return nil, false
		}
		page, err := op.NextPage(ctx)
		must(t, err)
		var ids []string
		for _, o := range page.Operations {
			ids = append(ids, aws.ToString(o.Id))
		}
		return ids, true
	})
	hp := sd.NewGetInstancesHealthStatusPaginator(c, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(f.svcID)},
		func(o *sd.GetInstancesHealthStatusPaginatorOptions) { o.Limit = 2 })
	count("GetInstancesHealthStatusPaginator", f.instances, func() ([]string, bool) {
		if !hp.HasMorePages() {
			return nil, false
		}
		page, err := hp.NextPage(ctx)
		must(t, err)
		var ids []string
		for id, st := range page.Status {
			if st != types.HealthStatusUnknown {
				t.Errorf("%s health %s, want UNKNOWN (no health check)", id, st)
			}
			ids = append(ids, id)
		}
		return ids, true
	})
}

// TestPagination_DefaultPageSize: without MaxResults a page holds 100.
func TestPagination_DefaultPageSize(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withNoSyncStore(t))
	ctx := t.Context()
	ns := mustNamespace(t, c, httpNS, "shop")
	svc := aws.ToString(httpService(t, c, ns, "web").Id)
	registerMany(t, c, svc, 130)
	first, err := c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(svc)})
	must(t, err)
	if len(first.Instances) != 100 || first.NextToken == nil {
		t.Fatalf("first page: %d instances, NextToken %v; want 100 and a token", len(first.Instances), first.NextToken)
	}
	second, err := c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(svc), NextToken: first.NextToken})
	must(t, err)
	if len(second.Instances) != 30 || second.NextToken != nil {
		t.Errorf("second page: %d instances, NextToken %v; want 30 and none", len(second.Instances), second.NextToken)
	}
	h, err := c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(svc)})
	must(t, err)
	if len(h.Status) != 100 || h.NextToken == nil {
		t.Errorf("GetInstancesHealthStatus first page: %d, NextToken %v", len(h.Status), h.NextToken)
	}
	ops, err := c.ListOperations(ctx, &sd.ListOperationsInput{})
	must(t, err)
	if len(ops.Operations) != 100 || ops.NextToken == nil {
		t.Errorf("ListOperations first page: %d, NextToken %v", len(ops.Operations), ops.NextToken)
	}
	// A token may be used again, and the page size may change between pages.
	again, err := c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(svc), NextToken: first.NextToken, MaxResults: aws.Int32(100)})
	must(t, err)
	if len(again.Instances) != 30 || aws.ToString(again.Instances[0].Id) != aws.ToString(second.Instances[0].Id) {
		t.Errorf("reused token gave %d instances starting at %s", len(again.Instances), aws.ToString(again.Instances[0].Id))
	}
	small, err := c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(svc), NextToken: first.NextToken, MaxResults: aws.Int32(10)})
	must(t, err)
	if len(small.Instances) != 10 || small.NextToken == nil {
		t.Errorf("smaller page: %d instances", len(small.Instances))
	}
}

// TestPagination_Churn adds and removes items between pages: the items
// present throughout are listed exactly once, and nothing twice.
func TestPagination_Churn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.c
	ctx := t.Context()

	t.Run("ListNamespaces", func(t *testing.T) {
		stable, doomed := []string{}, []string{}
		for i, id := range f.namespaces[1:] { // namespaces[0] has services
			if i%2 == 0 {
				doomed = append(doomed, id)
			} else {
				stable = append(stable, id)
			}
		}
		stable = append(stable, f.nsID)
		var added []string
		seen := walk(t, listNamespaces(c), 2, func(page int) {
			if page < len(doomed) {
				del, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(doomed[page])})
				must(t, err)
				waitSuccess(t, c, del.OperationId)
			}
			added = append(added, mustNamespace(t, c, httpNS, fmt.Sprint("added", page)))
		})
		checkOnce(t, "namespaces", seen, stable, append(added, doomed...)...)
	})

	t.Run("ListServices", func(t *testing.T) {
		stable, doomed := f.services[:4], f.services[4:]
		var added []string
		seen := walk(t, listServices(c, types.ServiceFilter{Name: "NAMESPACE_ID", Values: []string{f.nsID}}), 2, func(page int) {
			if page < len(doomed) {
				_, err := c.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(doomed[page])})
				must(t, err)
			}
			added = append(added, aws.ToString(httpService(t, c, f.nsID, fmt.Sprint("added", page)).Id))
		})
		checkOnce(t, "services", seen, stable, append(added, doomed...)...)
	})

	t.Run("ListInstances and GetInstancesHealthStatus", func(t *testing.T) {
		for _, name := range []string{"list", "health"} {
			var stable, doomed []string
			for i, id := range f.instances {
				if i%3 == 1 {
					doomed = append(doomed, id)
				} else {
					stable = append(stable, id)
				}
			}
			var added []string
			churn := func(page int) {
				if page < len(doomed) {
					mustDeregister(t, c, f.svcID, doomed[page])
				}
				// Instances sort by ID: add some before and after the cursor.
				for _, id := range []string{fmt.Sprintf("i-%02d-%s%d", page*2, name, page), fmt.Sprintf("z-%s%d", name, page)} {
					mustRegister(t, c, f.svcID, id, nil)
					added = append(added, id)
				}
			}
			list := listInstances(c, f.svcID)
			if name == "health" {
				list = listHealth(c, f.svcID)
			}
			seen := walk(t, list, 3, churn)
			checkOnce(t, name, seen, stable, append(append(added, doomed...), allInstances(t, c, f.svcID)...)...)
			// Put the doomed ones back for the next round.
			for _, id := range doomed {
				mustRegister(t, c, f.svcID, id, nil)
			}
			f.instances = stable
			f.instances = append(f.instances, doomed...)
		}
	})

	t.Run("ListOperations", func(t *testing.T) {
		before := allOperations(t, c)
		var added []string
		seen := walk(t, listOperations(c), 5, func(page int) {
			added = append(added, aws.ToString(mustRegister(t, c, f.services[1], fmt.Sprint("op", page), nil).Id))
		})
		checkOnce(t, "operations", seen, before, added...)
	})
}

func allInstances(t *testing.T, c *sd.Client, svcID string) []string {
	t.Helper()
	var ids []string
	p := sd.NewListInstancesPaginator(c, &sd.ListInstancesInput{ServiceId: aws.String(svcID)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		must(t, err)
		for _, i := range page.Instances {
			ids = append(ids, aws.ToString(i.Id))
		}
	}
	return ids
}

// TestPagination_BadTokens: a NextToken works only for the request it was
// issued for.
func TestPagination_BadTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.c
	ctx := t.Context()
	other := aws.ToString(httpService(t, c, f.namespaces[1], "other").Id)
	mustRegister(t, c, other, "o-1", nil)
	mustRegister(t, c, other, "o-2", nil)

	token := func(list lister) *string {
		t.Helper()
		_, next, err := list(ctx, nil, 1)
		must(t, err)
		if next == nil {
			t.Fatal("no NextToken")
		}
		return next
	}
	nsTok := token(listNamespaces(c))
	nsHTTPTok := token(listNamespaces(c, types.NamespaceFilter{Name: "TYPE", Values: []string{"HTTP"}}))
	svcTok := token(listServices(c))
	instTok := token(listInstances(c, f.svcID))
	opTok := token(listOperations(c))
	healthTok := token(listHealth(c, f.svcID))
	tampered := []byte(aws.ToString(nsTok))
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '-' || tampered[len(tampered)/2] == '_' {
		tampered[len(tampered)/2] = 'A'
	}
	forged := map[string]*string{
		"garbage":        aws.String("garbage"),
		"tampered":       aws.String(string(tampered)),
		"truncated":      aws.String(aws.ToString(nsTok)[:len(aws.ToString(nsTok))-3]),
		"too long":       aws.String(long(4097)),
		"base64 of JSON": aws.String("eyJvIjoiTGlzdE5hbWVzcGFjZXMiLCJxIjoiIiwiYSI6IiJ9"),
	}
	eu := regionClient(f.srv, "eu-west-1")
	cases := []struct {
		name string
		call func() error
	}{
		{"ListNamespaces with a ListServices token", func() error { _, _, err := listNamespaces(c)(ctx, svcTok, 2); return err }},
		{"ListNamespaces with another filter's token", func() error {
			_, _, err := listNamespaces(c, types.NamespaceFilter{Name: "TYPE", Values: []string{"DNS_PRIVATE"}})(ctx, nsHTTPTok, 2)
			return err
		}},
		{"ListNamespaces filtered with an unfiltered token", func() error {
			_, _, err := listNamespaces(c, types.NamespaceFilter{Name: "TYPE", Values: []string{"HTTP"}})(ctx, nsTok, 2)
			return err
		}},
		{"ListNamespaces from another region", func() error { _, _, err := listNamespaces(eu)(ctx, nsTok, 2); return err }},
		{"ListServices with a ListNamespaces token", func() error { _, _, err := listServices(c)(ctx, nsTok, 2); return err }},
		{"ListServices with another filter", func() error {
			_, _, err := listServices(c, types.ServiceFilter{Name: "NAMESPACE_ID", Values: []string{f.nsID}})(ctx, svcTok, 2)
			return err
		}},
		{"ListInstances with another service's token", func() error { _, _, err := listInstances(c, other)(ctx, instTok, 2); return err }},
		{"ListInstances with a health token", func() error { _, _, err := listInstances(c, f.svcID)(ctx, healthTok, 2); return err }},
		{"ListOperations with a ListInstances token", func() error { _, _, err := listOperations(c)(ctx, instTok, 2); return err }},
		{"ListOperations with another filter", func() error {
			_, _, err := listOperations(c, types.OperationFilter{Name: "STATUS", Values: []string{"SUCCESS"}})(ctx, opTok, 2)
			return err
		}},
		{"GetInstancesHealthStatus with a ListInstances token", func() error { _, _, err := listHealth(c, f.svcID)(ctx, instTok, 2); return err }},
		{"GetInstancesHealthStatus for other instances", func() error { _, _, err := listHealth(c, f.svcID, f.instances[:5]...)(ctx, healthTok, 2); return err }},
		{"GetInstancesHealthStatus of another service", func() error { _, _, err := listHealth(c, other)(ctx, healthTok, 2); return err }},
	}
	for name, tok := range forged {
		cases = append(cases,
			struct {
				name string
				call func() error
			}{"ListNamespaces " + name, func() error { _, _, err := listNamespaces(c)(ctx, tok, 2); return err }},
			struct {
				name string
				call func() error
			}{"ListServices " + name, func() error { _, _, err := listServices(c)(ctx, tok, 2); return err }},
			struct {
				name string
				call func() error
			}{"ListInstances " + name, func() error { _, _, err := listInstances(c, f.svcID)(ctx, tok, 2); return err }},
			struct {
				name string
				call func() error
			}{"ListOperations " + name, func() error { _, _, err := listOperations(c)(ctx, tok, 2); return err }},
			struct {
				name string
				call func() error
			}{"GetInstancesHealthStatus " + name, func() error { _, _, err := listHealth(c, f.svcID)(ctx, tok, 2); return err }},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkErr[*types.InvalidInput](t, tc.call()) })
	}
	// The genuine tokens still work.
	for name, list := range map[string]func() error{
		"namespaces": func() error { _, _, err := listNamespaces(c)(ctx, nsTok, 2); return err },
		"services":   func() error { _, _, err := listServices(c)(ctx, svcTok, 2); return err },
		"instances":  func() error { _, _, err := listInstances(c, f.svcID)(ctx, instTok, 2); return err },
		"operations": func() error { _, _, err := listOperations(c)(ctx, opTok, 2); return err },
		"health":     func() error { _, _, err := listHealth(c, f.svcID)(ctx, healthTok, 2); return err },
	} {
		if err := list(); err != nil {
			t.Errorf("%s with its own token: %v", name, err)
		}
	}
}
