package registry

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"unique"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// ListOperations lists the caller's operations, newest first, that match
// every filter. It walks one of the view's ordered lists (the caller's
// operations, or those of the namespace or service a filter names) from
// the page token's position, so a page costs the operations it passes,
// not every operation the caller has.
func (r *Registry) ListOperations(ctx context.Context, c Caller, in *cloudmap.ListOperationsRequest) (*cloudmap.ListOperationsResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	match, key, err := operationFilters(in.Filters)
	if err != nil {
		return nil, err
	}
	const op = "ListOperations"
	query := fingerprint([]any{c, in.Filters})
	after, err := r.decodeToken(in.NextToken, op, query)
	if err != nil {
		return nil, err
	}
	limit := maxResults(in.MaxResults, 100)
	out := &cloudmap.ListOperationsResponse{Operations: []cloudmap.OperationSummary{}}
	key.vis = unique.Make(c.scope())
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	l := v.ops.lists[key]
	if l == nil {
		return out, nil
	}
	out.Operations = make([]cloudmap.OperationSummary, 0, min(limit, l.n))
	var last *opView
	l.after(after, func(o *opView) bool {
		if !match(o) {
			return true
		}
		if len(out.Operations) == limit {
			out.NextToken = r.encodeToken(pageToken{Op: op, Query: query, After: opSortKey(last)})
			return false
		}
		out.Operations = append(out.Operations, cloudmap.OperationSummary{Id: o.id, Status: o.statusName()})
		last = o
		return true
	})
	return out, nil
}

var (
	operationStatuses = []string{cloudmap.OperationStatusSubmitted, cloudmap.OperationStatusPending, cloudmap.OperationStatusSuccess, cloudmap.OperationStatusFail}
	operationTypes    = []string{cloudmap.OperationTypeCreateNamespace, cloudmap.OperationTypeDeleteNamespace, cloudmap.OperationTypeUpdateNamespace,
		cloudmap.OperationTypeUpdateService, cloudmap.OperationTypeRegisterInstance, cloudmap.OperationTypeDeregisterInstance}
)

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// operationFilters turns ListOperations filters into one predicate, with
// the conditions AWS documents for each: NAMESPACE_ID and SERVICE_ID take
// EQ and one value; STATUS and TYPE take EQ with one value or IN with
// several; UPDATE_DATE takes BETWEEN with a start and an end in epoch
// seconds.
//
// It also returns the list to walk (without the caller): the operations
// of the service or the namespace a filter names, else all of them.
func operationFilters(filters []cloudmap.OperationFilter) (func(*opView) bool, opListKey, error) {
	var preds []func(*opView) bool
	key := opListKey{kind: opAll}
	for _, f := range filters {
		cond := f.Condition
		if cond == "" {
			cond = cloudmap.FilterConditionEq
		}
		values := f.Values
		if len(values) == 0 {
			return nil, key, invalid("The filter %s needs at least one value", f.Name)
		}
		switch f.Name {
		case cloudmap.OperationFilterNameNamespaceId, cloudmap.OperationFilterNameServiceId:
			if cond != cloudmap.FilterConditionEq || len(values) != 1 {
				return nil, key, invalid("The filter %s takes the condition EQ and exactly one value", f.Name)
			}
			target := cloudmap.OperationTargetTypeNamespace
			if f.Name == cloudmap.OperationFilterNameServiceId {
				target = cloudmap.OperationTargetTypeService
			}
			want := values[0]
			preds = append(preds, func(o *opView) bool { return o.target(target) == want })
			if target == cloudmap.OperationTargetTypeService {
				key = opListKey{kind: opByService, target: unique.Make(want)}
			} else if key.kind == opAll {
				key = opListKey{kind: opByNamespace, target: unique.Make(want)}
			}
		case cloudmap.OperationFilterNameStatus, cloudmap.OperationFilterNameType:
			if cond != cloudmap.FilterConditionEq && cond != cloudmap.FilterConditionIn {
				return nil, key, invalid("The filter %s takes the condition EQ or IN, not %s", f.Name, cond)
			}
			if cond == cloudmap.FilterConditionEq && len(values) != 1 {
				return nil, key, invalid("The filter %s with condition EQ takes exactly one value", f.Name)
			}
			set := operationTypes
			if f.Name == cloudmap.OperationFilterNameStatus {
				set = operationStatuses
			}
			want := map[string]bool{}
			for _, v := range values {
				if v == "SUCCEED" && f.Name == cloudmap.OperationFilterNameStatus {
					v = cloudmap.OperationStatusSuccess // the filter's documentation spells it so
				}
				if !oneOf(v, set) {
					return nil, key, invalid("The filter %s value %q is not one of %v", f.Name, v, set)
				}
				want[v] = true
			}
			if f.Name == cloudmap.OperationFilterNameStatus {
				preds = append(preds, func(o *opView) bool { return want[o.statusName()] })
			} else {
				preds = append(preds, func(o *opView) bool { return want[o.typeName()] })
			}
		case cloudmap.OperationFilterNameUpdateDate:
			if cond != cloudmap.FilterConditionBetween || len(values) != 2 {
				return nil, key, invalid("The filter UPDATE_DATE takes the condition BETWEEN and two values, a start and an end in epoch seconds")
			}
			from, err1 := epochMillis(values[0])
			to, err2 := epochMillis(values[1])
			if err1 != nil || err2 != nil {
				return nil, key, invalid("The filter UPDATE_DATE values must be times in epoch seconds, such as 1587055860.121")
			}
			if from > to {
				return nil, key, invalid("The filter UPDATE_DATE start %s is after its end %s", values[0], values[1])
			}
			preds = append(preds, func(o *opView) bool { return o.updated >= from && o.updated <= to })
		default:
			return nil, key, invalid("Unknown operation filter %s", f.Name)
		}
	}
	return func(o *opView) bool {
		for _, p := range preds {
			if !p(o) {
				return false
			}
		}
		return true
	}, key, nil
}

func epochMillis(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e13 {
		return 0, fmt.Errorf("not an epoch time: %q", s)
	}
	return int64(math.Round(f * 1000)), nil
}
