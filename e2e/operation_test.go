package e2e_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

// observeAll polls operations in turn until all have ended and returns,
// per operation ID, the distinct statuses seen in order and the final
// operation.
func observeAll(t *testing.T, c *sd.Client, opIDs ...*string) (map[string][]types.OperationStatus, map[string]*types.Operation) {
	t.Helper()
	seen := map[string][]types.OperationStatus{}
	first := map[string]*types.Operation{}
	final := map[string]*types.Operation{}
	deadline := time.Now().Add(20 * time.Second)
	for len(final) < len(opIDs) {
		for _, opID := range opIDs {
			id := aws.ToString(opID)
			if final[id] != nil {
				continue
			}
			out, err := c.GetOperation(t.Context(), &sd.GetOperationInput{OperationId: opID})
			must(t, err)
			op := out.Operation
			if first[id] == nil {
				first[id] = op
			}
			if !op.CreateDate.Equal(*first[id].CreateDate) || op.Type != first[id].Type || aws.ToString(op.Id) != id {
				t.Fatalf("the operation changed identity: %+v then %+v", first[id], op)
			}
			if op.UpdateDate.Before(*op.CreateDate) {
				t.Errorf("%s: UpdateDate %v before CreateDate %v", id, op.UpdateDate, op.CreateDate)
			}
			if s := seen[id]; len(s) == 0 || s[len(s)-1] != op.Status {
				seen[id] = append(s, op.Status)
			}
			if op.Status == types.OperationStatusSuccess || op.Status == types.OperationStatusFail {
				final[id] = op
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("operations still in flight after 20s: %v", seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return seen, final
}

// checkOperationID checks an operation ID's form: 32 base32 characters,
// "-", and its CreateDate in epoch milliseconds in base 36.
func checkOperationID(t *testing.T, op *types.Operation) {
	t.Helper()
	id := aws.ToString(op.Id)
	if !operationIDRe.MatchString(id) {
		t.Errorf("operation ID %q does not match %s", id, operationIDRe)
		return
	}
	ms, err := strconv.ParseInt(id[33:], 36, 64)
	if err != nil || ms != op.CreateDate.UnixMilli() {
		t.Errorf("operation ID %q: suffix is %d, want CreateDate %d in base 36", id, ms, op.CreateDate.UnixMilli())
	}
}

// statusRank orders operation statuses.
var statusRank = map[types.OperationStatus]int{
	types.OperationStatusSubmitted: 1, types.OperationStatusPending: 2, types.OperationStatusSuccess: 3, types.OperationStatusFail: 3,
}

// effectAtSuccess checks that an operation's effect is visible exactly
// when the operation has ended SUCCESS: probe reports whether the effect
// is visible now. It reads the status before and after the probe, so that
// it holds whatever the timing: statuses only move forward.
func effectAtSuccess(t *testing.T, c *sd.Client, what string, opID *string, probe func() bool) {
	t.Helper()
	before := getStatus(t, c, opID)
	visible := probe()
	after := getStatus(t, c, opID)
	if before == types.OperationStatusSuccess && !visible {
		t.Errorf("%s: the operation has ended SUCCESS but its effect is not visible", what)
	}
	if visible && after != types.OperationStatusSuccess {
		t.Errorf("%s: the effect is visible while the operation is %s", what, after)
	}
}

// TestOperation_Lifecycle follows every operation type through SUBMITTED,
// PENDING and SUCCESS on a server whose operations take time, and checks
// that their effects appear only at SUCCESS. Independent operations run
// side by side, in four rounds.
func TestOperation_Lifecycle(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, withDelay(time.Second))
	ctx := t.Context()
	type expect struct {
		what    string
		typ     types.OperationType
		targets map[string]string // a subset of the operation's targets
		only    bool              // the targets are exactly these
	}
	firstSeen := map[string]types.OperationStatus{}
	// started records an operation's status right after the call.
	started := func(opID *string, err error) *string {
		t.Helper()
		must(t, err)
		firstSeen[aws.ToString(opID)] = getStatus(t, c, opID)
		return opID
	}
	full := 0 // operations seen SUBMITTED, then PENDING, then SUCCESS
	sawSubmitted, sawPending := false, false
	// round follows operations just started until they end, and checks
	// them.
	round := func(ops map[*string]expect) map[string]*types.Operation {
		t.Helper()
		var ids []*string
		for id := range ops {
			ids = append(ids, id)
		}
		// Operations in flight are listed with their status.
		list, err := c.ListOperations(ctx, &sd.ListOperationsInput{Filters: []types.OperationFilter{
			{Name: types.OperationFilterNameStatus, Condition: types.FilterConditionIn, Values: []string{"SUBMITTED", "PENDING"}}}})
		must(t, err)
		for _, id := range ids {
			listed := slices.ContainsFunc(list.Operations, func(s types.OperationSummary) bool { return aws.ToString(s.Id) == aws.ToString(id) })
			if st := getStatus(t, c, id); !listed && statusRank[st] < 3 {
				t.Errorf("%s: operation %s is %s but not listed as SUBMITTED or PENDING", ops[id].what, aws.ToString(id), st)
			}
		}
		seen, final := observeAll(t, c, ids...)
		for _, id := range ids {
			e, op := ops[id], final[aws.ToString(id)]
			statuses := append([]types.OperationStatus{firstSeen[aws.ToString(id)]}, seen[aws.ToString(id)]...)
			statuses = slices.Compact(statuses)
			for i := 1; i < len(statuses); i++ {
				if statusRank[statuses[i]] <= statusRank[statuses[i-1]] {
					t.Errorf("%s: statuses went %v", e.what, statuses)
				}
			}
			if statuses[len(statuses)-1] != types.OperationStatusSuccess {
				t.Errorf("%s: statuses %v, want to end SUCCESS", e.what, statuses)
			}
			sawSubmitted = sawSubmitted || slices.Contains(statuses, types.OperationStatusSubmitted)
			sawPending = sawPending || slices.Contains(statuses, types.OperationStatusPending)
			if len(statuses) == 3 {
				full++
			}
			if op.Type != e.typ {
				t.Errorf("%s: Type %s, want %s", e.what, op.Type, e.typ)
			}
			for k, v := range e.targets {
				if op.Targets[k] != v {
					t.Errorf("%s: target %s = %q, want %q (targets %v)", e.what, k, op.Targets[k], v, op.Targets)
				}
			}
			if e.only && len(op.Targets) != len(e.targets) {
				t.Errorf("%s: targets %v, want only %v", e.what, op.Targets, e.targets)
			}
			checkOperationID(t, op)
		}
		return final
	}
	target := func(opID *string) string {
		t.Helper()
		got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: opID})
		must(t, err)
		return got.Operation.Targets["NAMESPACE"]
	}
	namespaceExists := func(id string) func() bool {
		return func() bool {
			_, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id)})
			if err != nil {
				checkErr[*types.NamespaceNotFound](t, err)
			}
			return err == nil
		}
	}
	namespaceGone := func(id string) func() bool {
		exists := namespaceExists(id)
		return func() bool { return !exists() }
	}
	instanceExists := func(svcID string) func() bool {
		return func() bool {
			_, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("i-1")})
			if err != nil {
				checkErr[*types.InstanceNotFound](t, err)
			}
			return err == nil
		}
	}

	// Round 1: the three namespace types are created.
	hOp := started(createNamespace(ctx, c, httpNS, "shop"))
	pOp := started(createNamespace(ctx, c, privateNS, "corp.internal"))
	bOp := started(createNamespace(ctx, c, publicNS, "example.com"))
	h, priv, pub := target(hOp), target(pOp), target(bOp)
	// The target is known at once; the namespace exists only at SUCCESS.
	for _, id := range []string{h, priv, pub} {
		if !namespaceIDRe.MatchString(id) {
			t.Fatalf("NAMESPACE target %q", id)
		}
	}
	effectAtSuccess(t, c, "create HTTP namespace", hOp, namespaceExists(h))
	round(map[*string]expect{
		hOp: {"create HTTP namespace", types.OperationTypeCreateNamespace, map[string]string{"NAMESPACE": h}, true},
		pOp: {"create private namespace", types.OperationTypeCreateNamespace, map[string]string{"NAMESPACE": priv}, true},
		bOp: {"create public namespace", types.OperationTypeCreateNamespace, map[string]string{"NAMESPACE": pub}, true},
	})
	for _, id := range []string{h, priv, pub} {
		if !namespaceExists(id)() {
			t.Fatalf("namespace %s missing after SUCCESS", id)
		}
	}

	// Round 2: namespace and service updates and a registration.
	svc := aService(t, c, priv, "db")
	svcID := aws.ToString(svc.Id)
	hu, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(h), Namespace: &types.HttpNamespaceChange{Description: aws.String("d")}})
	must(t, err)
	started(hu.OperationId, nil)
	bu, err := c.UpdatePublicDnsNamespace(ctx, &sd.UpdatePublicDnsNamespaceInput{Id: aws.String(pub), Namespace: &types.PublicDnsNamespaceChange{Description: aws.String("d")}})
	must(t, err)
	started(bu.OperationId, nil)
	us, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: svc.Id, Service: &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: records("A", 1)}}})
	must(t, err)
	started(us.OperationId, nil)
	reg := started(register(ctx, c, svcID, "i-1", ipv4(1)))
	effectAtSuccess(t, c, "register", reg, instanceExists(svcID))
	effectAtSuccess(t, c, "update service", us.OperationId, func() bool {
		got, err := c.GetService(ctx, &sd.GetServiceInput{Id: svc.Id})
		must(t, err)
		return aws.ToInt64(got.Service.DnsConfig.DnsRecords[0].TTL) == 1
	})
	ended := round(map[*string]expect{
		hu.OperationId: {"update HTTP namespace", types.OperationTypeUpdateNamespace, map[string]string{"NAMESPACE": h}, true},
		bu.OperationId: {"update public namespace", types.OperationTypeUpdateNamespace, map[string]string{"NAMESPACE": pub}, true},
		us.OperationId: {"update service", types.OperationTypeUpdateService, map[string]string{"SERVICE": svcID}, false},
		reg:            {"register", types.OperationTypeRegisterInstance, map[string]string{"SERVICE": svcID, "INSTANCE": "i-1"}, false},
	})
	regOp := ended[aws.ToString(reg)]
	effectAtSuccess(t, c, "register", reg, instanceExists(svcID))

	// Round 3: a deregistration and a namespace deletion.
	de, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	must(t, err)
	started(de.OperationId, nil)
	dp, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(pub)})
	must(t, err)
	started(dp.OperationId, nil)
	effectAtSuccess(t, c, "deregister", de.OperationId, func() bool { return !instanceExists(svcID)() })
	effectAtSuccess(t, c, "delete public namespace", dp.OperationId, namespaceGone(pub))
	round(map[*string]expect{
		de.OperationId: {"deregister", types.OperationTypeDeregisterInstance, map[string]string{"SERVICE": svcID, "INSTANCE": "i-1"}, false},
		dp.OperationId: {"delete public namespace", types.OperationTypeDeleteNamespace, map[string]string{"NAMESPACE": pub}, true},
	})
	effectAtSuccess(t, c, "deregister", de.OperationId, func() bool { return !instanceExists(svcID)() })
	effectAtSuccess(t, c, "delete public namespace", dp.OperationId, namespaceGone(pub))
	// The ID's first part is stable per target, as in AWS's examples.
	if deID := aws.ToString(de.OperationId); aws.ToString(regOp.Id)[:32] != deID[:32] {
		t.Errorf("register %s and deregister %s of one instance have different prefixes", aws.ToString(regOp.Id), deID)
	}
	if aws.ToString(dp.OperationId)[:32] != aws.ToString(bOp)[:32] {
		t.Errorf("create %s and delete %s of one namespace have different prefixes", aws.ToString(bOp), aws.ToString(dp.OperationId))
	}

	// Round 4: the private namespace, once its service is gone.
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
	must(t, err)
	del, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(priv)})
	must(t, err)
	started(del.OperationId, nil)
	effectAtSuccess(t, c, "delete private namespace", del.OperationId, namespaceGone(priv))
	round(map[*string]expect{
		del.OperationId: {"delete private namespace", types.OperationTypeDeleteNamespace, map[string]string{"NAMESPACE": priv}, true},
	})
	effectAtSuccess(t, c, "delete private namespace", del.OperationId, namespaceGone(priv))

	// Each operation was seen in order; the polling is fast enough that,
	// unless the machine is starved, every one is seen in all three states.
	if !sawSubmitted || !sawPending || full == 0 {
		t.Errorf("no operation was seen SUBMITTED, then PENDING, then SUCCESS (SUBMITTED seen %v, PENDING seen %v)", sawSubmitted, sawPending)
	}
	t.Logf("%d of 10 operations seen in all three states", full)
}

// TestOperation_Immediate: without a delay, every operation has ended
// SUCCESS when the call returns.
func TestOperation_Immediate(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	var ops []*string
	add := func(id *string, err error) {
		t.Helper()
		must(t, err)
		ops = append(ops, id)
	}
	out, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.internal"), Vpc: aws.String("vpc-1")})
	must(t, err)
	add(out.OperationId, nil)
	got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: out.OperationId})
	must(t, err)
	nsID := got.Operation.Targets["NAMESPACE"]
	svc := aService(t, c, nsID, "db")
	up, err := c.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: aws.String(nsID), Namespace: &types.PrivateDnsNamespaceChange{Description: aws.String("x")}})
	must(t, err)
	add(up.OperationId, nil)
	us, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: svc.Id, Service: &types.ServiceChange{Description: aws.String("x")}})
	must(t, err)
	add(us.OperationId, nil)
	add(register(ctx, c, aws.ToString(svc.Id), "i-1", ipv4(1)))
	de, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	must(t, err)
	add(de.OperationId, nil)
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
	must(t, err)
	del, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(nsID)})
	must(t, err)
	add(del.OperationId, nil)
	for _, id := range ops {
		got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: id})
		must(t, err)
		op := got.Operation
		if op.Status != types.OperationStatusSuccess || op.ErrorCode != nil || op.ErrorMessage != nil {
			t.Errorf("%s (%s) = %s %q, want SUCCESS at once", aws.ToString(id), op.Type, op.Status, aws.ToString(op.ErrorCode))
		}
		checkOperationID(t, op)
		if aws.ToString(op.OwnerAccount) != account {
			t.Errorf("OwnerAccount = %q", aws.ToString(op.OwnerAccount))
		}
	}
}

func TestOperation_GetErrors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	out, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})
	must(t, err)
	_, err = c.GetOperation(ctx, &sd.GetOperationInput{OperationId: out.OperationId, OwnerAccount: aws.String(account)})
	must(t, err)

	for name, in := range map[string]*sd.GetOperationInput{
		"unknown":       {OperationId: aws.String("gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd")},
		"garbage":       {OperationId: aws.String("nope")},
		"other account": {OperationId: out.OperationId, OwnerAccount: aws.String("111111111111")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.GetOperation(ctx, in)
			checkErr[*types.OperationNotFound](t, err)
		})
	}
	for name, in := range map[string]*sd.GetOperationInput{
		"ID too long":            {OperationId: aws.String(long(256))},
		"OwnerAccount too short": {OperationId: out.OperationId, OwnerAccount: aws.String("123")},
		"OwnerAccount too long":  {OperationId: out.OperationId, OwnerAccount: aws.String("0000000000000")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.GetOperation(ctx, in)
			checkErr[*types.InvalidInput](t, err)
		})
	}
}

func TestOperation_ListFilters(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	var all []*string
	add := func(id *string, err error) *string {
		t.Helper()
		must(t, err)
		all = append(all, id)
		return id
	}
	h := add(createNamespace(ctx, c, httpNS, "shop"))
	hID := waitSuccess(t, c, h).Targets["NAMESPACE"]
	p := add(createNamespace(ctx, c, privateNS, "corp.internal"))
	pID := waitSuccess(t, c, p).Targets["NAMESPACE"]
	failed := add(createNamespace(ctx, c, privateNS, "corp.internal")) // same name and VPC: FAIL
	if waitOp(t, c, failed).Status != types.OperationStatusFail {
		t.Fatal("the conflicting namespace did not fail")
	}
	up, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(hID), Namespace: &types.HttpNamespaceChange{Description: aws.String("x")}})
	add(up.OperationId, err)
	svc := aService(t, c, pID, "db")
	svcID := aws.ToString(svc.Id)
	us, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: svc.Id, Service: &types.ServiceChange{Description: aws.String("x")}})
	add(us.OperationId, err)
	add(register(ctx, c, svcID, "i-1", ipv4(1)))
	add(register(ctx, c, svcID, "i-2", ipv4(2)))
	de, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	add(de.OperationId, err)
	other := httpService(t, c, hID, "web")
	add(register(ctx, c, aws.ToString(other.Id), "w-1", nil))
	tmp := add(createNamespace(ctx, c, publicNS, "example.com"))
	tmpID := waitSuccess(t, c, tmp).Targets["NAMESPACE"]
	del, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(tmpID)})
	add(del.OperationId, err)

	ops := map[string]*types.Operation{}
	for _, id := range all {
		ops[aws.ToString(id)] = waitOp(t, c, id)
	}
	where := func(pred func(*types.Operation) bool) []string {
		var ids []string
		for id, op := range ops {
			if pred(op) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	mid := ops[aws.ToString(us.OperationId)].UpdateDate
	epoch := func(tm time.Time) string { return fmt.Sprintf("%.3f", float64(tm.UnixMilli())/1000) }
	f := func(name types.OperationFilterName, cond types.FilterCondition, values ...string) types.OperationFilter {
		return types.OperationFilter{Name: name, Condition: cond, Values: values}
	}
	cases := []struct {
		name    string
		filters []types.OperationFilter
		want    []string
	}{
		{"none", nil, where(func(*types.Operation) bool { return true })},
		{"NAMESPACE_ID", []types.OperationFilter{f("NAMESPACE_ID", "EQ", hID)},
			where(func(o *types.Operation) bool { return o.Targets["NAMESPACE"] == hID })},
		{"NAMESPACE_ID, default condition", []types.OperationFilter{f("NAMESPACE_ID", "", tmpID)},
			[]string{aws.ToString(tmp), aws.ToString(del.OperationId)}},
		{"SERVICE_ID", []types.OperationFilter{f("SERVICE_ID", "EQ", svcID)},
			[]string{aws.ToString(us.OperationId), aws.ToString(all[5]), aws.ToString(all[6]), aws.ToString(de.OperationId)}},
		{"STATUS EQ FAIL", []types.OperationFilter{f("STATUS", "EQ", "FAIL")}, []string{aws.ToString(failed)}},
		{"STATUS EQ SUCCESS", []types.OperationFilter{f("STATUS", "EQ", "SUCCESS")},
			where(func(o *types.Operation) bool { return o.Status == types.OperationStatusSuccess })},
		{"STATUS SUCCEED (the filter doc's spelling)", []types.OperationFilter{f("STATUS", "EQ", "SUCCEED")},
			where(func(o *types.Operation) bool { return o.Status == types.OperationStatusSuccess })},
		{"STATUS IN", []types.OperationFilter{f("STATUS", "IN", "FAIL", "SUBMITTED", "PENDING")}, []string{aws.ToString(failed)}},
		{"STATUS EQ SUBMITTED", []types.OperationFilter{f("STATUS", "EQ", "SUBMITTED")}, nil},
		{"TYPE EQ", []types.OperationFilter{f("TYPE", "EQ", "REGISTER_INSTANCE")},
			where(func(o *types.Operation) bool { return o.Type == types.OperationTypeRegisterInstance })},
		{"TYPE IN", []types.OperationFilter{f("TYPE", "IN", "DELETE_NAMESPACE", "UPDATE_NAMESPACE", "UPDATE_SERVICE")},
			[]string{aws.ToString(del.OperationId), aws.ToString(up.OperationId), aws.ToString(us.OperationId)}},
		{"UPDATE_DATE BETWEEN all time", []types.OperationFilter{f("UPDATE_DATE", "BETWEEN", "0", epoch(time.Now().Add(time.Hour)))},
			where(func(*types.Operation) bool { return true })},
		{"UPDATE_DATE BETWEEN in the future", []types.OperationFilter{f("UPDATE_DATE", "BETWEEN", epoch(time.Now().Add(time.Hour)), epoch(time.Now().Add(2*time.Hour)))}, nil},
		{"UPDATE_DATE BETWEEN one instant", []types.OperationFilter{f("UPDATE_DATE", "BETWEEN", epoch(*mid), epoch(*mid))},
			where(func(o *types.Operation) bool { return o.UpdateDate.UnixMilli() == mid.UnixMilli() })},
		{"UPDATE_DATE BETWEEN up to an instant", []types.OperationFilter{f("UPDATE_DATE", "BETWEEN", "0", epoch(*mid))},
			where(func(o *types.Operation) bool { return o.UpdateDate.UnixMilli() <= mid.UnixMilli() })},
		{"NAMESPACE_ID and TYPE", []types.OperationFilter{f("NAMESPACE_ID", "EQ", pID), f("TYPE", "EQ", "CREATE_NAMESPACE")}, []string{aws.ToString(p)}},
		{"SERVICE_ID and STATUS and TYPE", []types.OperationFilter{f("SERVICE_ID", "EQ", svcID), f("STATUS", "EQ", "SUCCESS"), f("TYPE", "IN", "DEREGISTER_INSTANCE")},
			[]string{aws.ToString(de.OperationId)}},
		{"unknown namespace", []types.OperationFilter{f("NAMESPACE_ID", "EQ", "ns-aaaaaaaaaaaaaaaa")}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			p := sd.NewListOperationsPaginator(c, &sd.ListOperationsInput{Filters: tc.filters}, func(o *sd.ListOperationsPaginatorOptions) { o.Limit = 3 })
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				must(t, err)
				for _, s := range page.Operations {
					if got[aws.ToString(s.Id)] {
						t.Errorf("operation %s listed twice", aws.ToString(s.Id))
					}
					got[aws.ToString(s.Id)] = true
					if op := ops[aws.ToString(s.Id)]; op == nil || op.Status != s.Status {
						t.Errorf("summary %s %s does not match GetOperation", aws.ToString(s.Id), s.Status)
					}
				}
			}
			if !sameSet(got, set(tc.want...)) {
				t.Errorf("got %v, want %v", keys(got), tc.want)
			}
		})
	}

	invalid := map[string][]types.OperationFilter{
		"NAMESPACE_ID IN":              {f("NAMESPACE_ID", "IN", hID, pID)},
		"NAMESPACE_ID two values":      {f("NAMESPACE_ID", "EQ", hID, pID)},
		"SERVICE_ID BEGINS_WITH":       {f("SERVICE_ID", "BEGINS_WITH", "srv-")},
		"STATUS BETWEEN":               {f("STATUS", "BETWEEN", "SUBMITTED", "SUCCESS")},
		"STATUS EQ two values":         {f("STATUS", "EQ", "SUBMITTED", "SUCCESS")},
		"STATUS unknown value":         {f("STATUS", "EQ", "DONE")},
		"TYPE unknown value":           {f("TYPE", "IN", "CREATE_NAMESPACE", "CREATE_SERVICE")},
		"TYPE BEGINS_WITH":             {f("TYPE", "BEGINS_WITH", "CREATE")},
		"UPDATE_DATE EQ":               {f("UPDATE_DATE", "EQ", "0")},
		"UPDATE_DATE BETWEEN 1 value":  {f("UPDATE_DATE", "BETWEEN", "0")},
		"UPDATE_DATE BETWEEN 3 values": {f("UPDATE_DATE", "BETWEEN", "0", "1", "2")},
		"UPDATE_DATE not a number":     {f("UPDATE_DATE", "BETWEEN", "yesterday", "today")},
		"UPDATE_DATE start after end":  {f("UPDATE_DATE", "BETWEEN", "2000", "1000")},
		"no values":                    {{Name: "STATUS", Values: []string{}}},
		"unknown filter":               {f("INSTANCE_ID", "EQ", "i-1")},
		"unknown condition":            {f("STATUS", "NE", "FAIL")},
	}
	wantListRefusals(t, invalid, func(filters []types.OperationFilter, maxResults *int32) error {
		_, err := c.ListOperations(ctx, &sd.ListOperationsInput{Filters: filters, MaxResults: maxResults})
		return err
	})
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return "[" + strings.Join(ks, " ") + "]"
}
