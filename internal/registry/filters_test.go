package registry

import (
	"reflect"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

func nsFilter(name, cond string, values ...string) cloudmap.NamespaceFilter {
	return cloudmap.NamespaceFilter{Name: name, Condition: cond, Values: values}
}

func TestNamespaceFilters(t *testing.T) {
	own := scope{Account: "000000000000", Region: "us-east-1"}
	all := []*nsRecord{
		{scope: own, ID: "ns-a", Name: "alpha.example", HTTPName: "alpha.example", Type: cloudmap.NamespaceTypeHttp},
		{scope: own, ID: "ns-b", Name: "beta.local", HTTPName: "beta.local-abcdefgh", Type: cloudmap.NamespaceTypeDnsPrivate},
		{scope: scope{Account: "111111111111", Region: "us-east-1"}, ID: "ns-c", Name: "gamma.com", HTTPName: "gamma.com", Type: cloudmap.NamespaceTypeDnsPublic, SharedWith: []string{"000000000000"}},
	}
	const fails = "!" // the filters are refused
	for _, tc := range []struct {
		name    string
		filters []cloudmap.NamespaceFilter
		want    []string // IDs matched, or fails
	}{
		{"none", nil, []string{"ns-a", "ns-b", "ns-c"}},
		{"TYPE EQ", []cloudmap.NamespaceFilter{nsFilter("TYPE", "EQ", "HTTP")}, []string{"ns-a"}},
		{"TYPE default EQ", []cloudmap.NamespaceFilter{nsFilter("TYPE", "", "DNS_PRIVATE")}, []string{"ns-b"}},
		{"TYPE IN", []cloudmap.NamespaceFilter{nsFilter("TYPE", "IN", "HTTP", "DNS_PUBLIC")}, []string{"ns-a", "ns-c"}},
		{"TYPE BEGINS_WITH", []cloudmap.NamespaceFilter{nsFilter("TYPE", "BEGINS_WITH", "DNS")}, []string{"ns-b", "ns-c"}},
		{"TYPE EQ unknown type", []cloudmap.NamespaceFilter{nsFilter("TYPE", "EQ", "DNS")}, []string{fails}},
		{"TYPE IN unknown type", []cloudmap.NamespaceFilter{nsFilter("TYPE", "IN", "HTTP", "SOAP")}, []string{fails}},
		{"TYPE BETWEEN", []cloudmap.NamespaceFilter{nsFilter("TYPE", "BETWEEN", "A", "Z")}, []string{fails}},
		{"TYPE EQ two values", []cloudmap.NamespaceFilter{nsFilter("TYPE", "EQ", "HTTP", "DNS_PUBLIC")}, []string{fails}},
		{"TYPE BEGINS_WITH two values", []cloudmap.NamespaceFilter{nsFilter("TYPE", "BEGINS_WITH", "H", "D")}, []string{fails}},
		{"NAME EQ", []cloudmap.NamespaceFilter{nsFilter("NAME", "EQ", "beta.local")}, []string{"ns-b"}},
		{"NAME EQ is exact", []cloudmap.NamespaceFilter{nsFilter("NAME", "", "BETA.LOCAL")}, nil},
		{"NAME BEGINS_WITH", []cloudmap.NamespaceFilter{nsFilter("NAME", "BEGINS_WITH", "g")}, []string{"ns-c"}},
		{"NAME IN", []cloudmap.NamespaceFilter{nsFilter("NAME", "IN", "beta.local")}, []string{fails}},
		{"NAME two values", []cloudmap.NamespaceFilter{nsFilter("NAME", "EQ", "a", "b")}, []string{fails}},
		{"HTTP_NAME EQ", []cloudmap.NamespaceFilter{nsFilter("HTTP_NAME", "EQ", "beta.local-abcdefgh")}, []string{"ns-b"}},
		{"HTTP_NAME is not NAME", []cloudmap.NamespaceFilter{nsFilter("HTTP_NAME", "EQ", "beta.local")}, nil},
		{"HTTP_NAME BEGINS_WITH", []cloudmap.NamespaceFilter{nsFilter("HTTP_NAME", "BEGINS_WITH", "beta.local")}, []string{"ns-b"}},
		{"RESOURCE_OWNER SELF", []cloudmap.NamespaceFilter{nsFilter("RESOURCE_OWNER", "", "SELF")}, []string{"ns-a", "ns-b"}},
		{"RESOURCE_OWNER OTHER_ACCOUNTS", []cloudmap.NamespaceFilter{nsFilter("RESOURCE_OWNER", "EQ", "OTHER_ACCOUNTS")}, []string{"ns-c"}},
		{"RESOURCE_OWNER unknown", []cloudmap.NamespaceFilter{nsFilter("RESOURCE_OWNER", "EQ", "ME")}, []string{fails}},
		{"RESOURCE_OWNER BEGINS_WITH", []cloudmap.NamespaceFilter{nsFilter("RESOURCE_OWNER", "BEGINS_WITH", "SELF")}, []string{fails}},
		{"RESOURCE_OWNER two values", []cloudmap.NamespaceFilter{nsFilter("RESOURCE_OWNER", "EQ", "SELF", "OTHER_ACCOUNTS")}, []string{fails}},
		{"no values", []cloudmap.NamespaceFilter{nsFilter("NAME", "EQ")}, []string{fails}},
		{"AND", []cloudmap.NamespaceFilter{nsFilter("TYPE", "BEGINS_WITH", "DNS"), nsFilter("NAME", "BEGINS_WITH", "b")}, []string{"ns-b"}},
		{"AND, nothing", []cloudmap.NamespaceFilter{nsFilter("TYPE", "EQ", "HTTP"), nsFilter("NAME", "EQ", "gamma.com")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			match, err := namespaceFilters(Caller{Account: "000000000000", Region: "us-east-1"}, tc.filters)
			if len(tc.want) == 1 && tc.want[0] == fails {
				if e, ok := AsError(err); !ok || e.Kind != KindInvalid {
					t.Errorf("error %v, want InvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			var got []string
			for _, ns := range all {
				if match(ns) {
					got = append(got, ns.ID)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

func opFilter(name, cond string, values ...string) cloudmap.OperationFilter {
	return cloudmap.OperationFilter{Name: name, Condition: cond, Values: values}
}

func TestOperationFilters(t *testing.T) {
	all := []*opRecord{
		{ID: "op-1", Type: cloudmap.OperationTypeCreateNamespace, Status: cloudmap.OperationStatusSuccess, UpdateDate: 1_000_000,
			Targets: map[string]string{"NAMESPACE": "ns-1"}},
		{ID: "op-2", Type: cloudmap.OperationTypeUpdateService, Status: cloudmap.OperationStatusFail, UpdateDate: 2_000_000,
			Targets: map[string]string{"NAMESPACE": "ns-1", "SERVICE": "srv-1"}},
		{ID: "op-3", Type: cloudmap.OperationTypeRegisterInstance, Status: cloudmap.OperationStatusPending, UpdateDate: 3_000_000,
			Targets: map[string]string{"NAMESPACE": "ns-2", "SERVICE": "srv-2", "INSTANCE": "i-1"}},
	}
	const fails = "!"
	for _, tc := range []struct {
		name    string
		filters []cloudmap.OperationFilter
		want    []string
	}{
		{"none", nil, []string{"op-1", "op-2", "op-3"}},
		{"NAMESPACE_ID", []cloudmap.OperationFilter{opFilter("NAMESPACE_ID", "", "ns-1")}, []string{"op-1", "op-2"}},
		{"NAMESPACE_ID EQ", []cloudmap.OperationFilter{opFilter("NAMESPACE_ID", "EQ", "ns-2")}, []string{"op-3"}},
		{"NAMESPACE_ID IN", []cloudmap.OperationFilter{opFilter("NAMESPACE_ID", "IN", "ns-1")}, []string{fails}},
		{"NAMESPACE_ID two values", []cloudmap.OperationFilter{opFilter("NAMESPACE_ID", "EQ", "ns-1", "ns-2")}, []string{fails}},
		{"SERVICE_ID", []cloudmap.OperationFilter{opFilter("SERVICE_ID", "EQ", "srv-1")}, []string{"op-2"}},
		{"SERVICE_ID BEGINS_WITH", []cloudmap.OperationFilter{opFilter("SERVICE_ID", "BEGINS_WITH", "srv")}, []string{fails}},
		{"STATUS EQ", []cloudmap.OperationFilter{opFilter("STATUS", "EQ", "SUCCESS")}, []string{"op-1"}},
		{"STATUS SUCCEED", []cloudmap.OperationFilter{opFilter("STATUS", "", "SUCCEED")}, []string{"op-1"}},
		{"STATUS IN", []cloudmap.OperationFilter{opFilter("STATUS", "IN", "FAIL", "PENDING")}, []string{"op-2", "op-3"}},
		{"STATUS IN one", []cloudmap.OperationFilter{opFilter("STATUS", "IN", "SUBMITTED")}, nil},
		{"STATUS EQ two", []cloudmap.OperationFilter{opFilter("STATUS", "EQ", "FAIL", "PENDING")}, []string{fails}},
		{"STATUS BETWEEN", []cloudmap.OperationFilter{opFilter("STATUS", "BETWEEN", "FAIL", "PENDING")}, []string{fails}},
		{"STATUS BEGINS_WITH", []cloudmap.OperationFilter{opFilter("STATUS", "BEGINS_WITH", "S")}, []string{fails}},
		{"STATUS unknown", []cloudmap.OperationFilter{opFilter("STATUS", "EQ", "DONE")}, []string{fails}},
		{"TYPE IN", []cloudmap.OperationFilter{opFilter("TYPE", "IN", "CREATE_NAMESPACE", "REGISTER_INSTANCE")}, []string{"op-1", "op-3"}},
		{"TYPE EQ", []cloudmap.OperationFilter{opFilter("TYPE", "EQ", "UPDATE_SERVICE")}, []string{"op-2"}},
		{"TYPE SUCCEED", []cloudmap.OperationFilter{opFilter("TYPE", "EQ", "SUCCEED")}, []string{fails}},
		{"TYPE unknown", []cloudmap.OperationFilter{opFilter("TYPE", "IN", "CREATE_SERVICE")}, []string{fails}},
		{"UPDATE_DATE", []cloudmap.OperationFilter{opFilter("UPDATE_DATE", "BETWEEN", "1000", "2000")}, []string{"op-1", "op-2"}},
		{"UPDATE_DATE fractions", []cloudmap.OperationFilter{opFilter("UPDATE_DATE", "BETWEEN", "1000.001", "2999.999")}, []string{"op-2"}},
		{"UPDATE_DATE one instant", []cloudmap.OperationFilter{opFilter("UPDATE_DATE", "BETWEEN", "3000", "3000")}, []string{"op-3"}},
		{"UPDATE_DATE EQ", []cloudmap.OperationFilter{opFilter("UPDATE_DATE", "EQ", "1000")}, []string{fails}},
		{"UPDATE_DATE one value", []cloudmap.OperationFilter{opFilter("UPDATE_DATE", "BETWEEN", "1000")}, []string{fails}},
		{"UPDATE_DATE three values", []cloudmap.OperationFilter{opFilter("UPDATE_DATE", "BETWEEN", "1", "2", "3")}, []string{fails}},
		{"UPDATE_DATE not a time", []cloudmap.OperationFilter{opFilter("UPDATE_DATE", "BETWEEN", "yesterday", "2000")}, []string{fails}},
		{"UPDATE_DATE backwards", []cloudmap.OperationFilter{opFilter("UPDATE_DATE", "BETWEEN", "2000", "1000")}, []string{fails}},
		{"no values", []cloudmap.OperationFilter{opFilter("STATUS", "IN")}, []string{fails}},
		{"unknown name", []cloudmap.OperationFilter{opFilter("OWNER", "EQ", "x")}, []string{fails}},
		{"AND", []cloudmap.OperationFilter{opFilter("NAMESPACE_ID", "EQ", "ns-1"), opFilter("STATUS", "IN", "FAIL", "SUCCESS"),
			opFilter("UPDATE_DATE", "BETWEEN", "1500", "2500")}, []string{"op-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			match, _, err := operationFilters(tc.filters)
			if len(tc.want) == 1 && tc.want[0] == fails {
				if e, ok := AsError(err); !ok || e.Kind != KindInvalid {
					t.Errorf("error %v, want InvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			var got []string
			for _, op := range all {
				if match(newOpView(op)) {
					got = append(got, op.ID)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEpochMillis(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1587055860.121", 1587055860121, true},
		{"1587055860", 1587055860000, true},
		{"1083267246.850", 1083267246850, true},
		{"0", 0, true},
		{"0.0005", 1, true},
		{"1e9", 1_000_000_000_000, true},
		{"10000000000000", 10_000_000_000_000_000, true},
		{"10000000000001", 0, false},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"-Inf", 0, false},
		{"", 0, false},
		{"2020-04-16", 0, false},
		{"0x10", 0, false},
	} {
		got, err := epochMillis(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("epochMillis(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
