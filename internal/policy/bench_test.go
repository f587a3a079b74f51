package policy

import (
	"strings"
	"testing"
	"time"
)

// tenStatements is a ten-statement policy of the kinds an operator
// writes: action wildcards, resource ARN patterns, name, tag, address and
// transport conditions, a policy variable and an explicit deny.
const tenStatements = `{"Version":"2012-10-17","Statement":[
 {"Sid":"Discover","Effect":"Allow","Action":["servicediscovery:DiscoverInstances","servicediscovery:DiscoverInstancesRevision"],"Resource":"*",
  "Condition":{"StringLike":{"servicediscovery:NamespaceName":["team-a*","shared"]}}},
 {"Sid":"Read","Effect":"Allow","Action":["servicediscovery:Get*","servicediscovery:List*"],"Resource":"*"},
 {"Sid":"CreateInTeam","Effect":"Allow","Action":"servicediscovery:CreateService","Resource":"arn:aws:servicediscovery:us-east-1:111111111111:namespace/*",
  "Condition":{"StringEquals":{"aws:RequestTag/team":"a"}}},
 {"Sid":"TagOwn","Effect":"Allow","Action":["servicediscovery:TagResource","servicediscovery:UntagResource"],"Resource":"*",
  "Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"},"ForAllValues:StringEquals":{"aws:TagKeys":["team","env","owner"]}}},
 {"Sid":"Office","Effect":"Allow","Action":"servicediscovery:Update*","Resource":"arn:aws:servicediscovery:*:111111111111:service/*",
  "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}},
 {"Sid":"NoDeleteNamespaces","Effect":"Deny","Action":"servicediscovery:DeleteNamespace","Resource":"*"},
 {"Sid":"TLSOnly","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
 {"Sid":"NotProd","Effect":"Deny","Action":"servicediscovery:*Instance","Resource":"*",
  "Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}},
 {"Sid":"Until","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:EpochTime":"2100-01-01T00:00:00Z"}}},
 {"Sid":"Deploy","Effect":"Allow","Action":["servicediscovery:RegisterInstance","servicediscovery:DeregisterInstance"],
  "Resource":"arn:aws:servicediscovery:us-east-1:111111111111:service/*",
  "Condition":{"StringEquals":{"servicediscovery:NamespaceName":"team-a","aws:ResourceTag/team":"a"}}}
]}`

func benchRequest(b *testing.B) (*Policy, *Request) {
	p := mustParse(b, tenStatements)
	ctx := &Context{Now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	ctx.Set(KeyNamespaceName, "team-a")
	ctx.Set(KeyNamespaceArn, nsARN)
	ctx.Set(KeyServiceName, "web")
	ctx.Set(KeyServiceArn, svARN)
	ctx.Set(KeySecureTransport, "true")
	ctx.Set(KeySourceIP, "10.1.2.3")
	ctx.Set(KeyUsername, "alice")
	ctx.Set(KeyPrincipalAccount, acct)
	ctx.Set("aws:ResourceTag/team", "a")
	ctx.Set("aws:ResourceTag/env", "dev")
	return p, &Request{Action: action(b, "RegisterInstance"), Resource: svARN, Context: ctx}
}

// BenchmarkEvaluate_TenStatements is the evaluation on the request path:
// a RegisterInstance that the last of ten statements allows, after every
// Deny has been tried. The budget is 2 µs.
func BenchmarkEvaluate_TenStatements(b *testing.B) {
	p, r := benchRequest(b)
	if d := p.Evaluate(r); !d.Allowed() || d.Statement.Sid != "Deploy" {
		b.Fatalf("decision %v %+v", d.Effect, d.Statement)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(r)
	}
}

// BenchmarkEvaluate_Bare is the reference the evaluation is measured
// beside in the same run: ten case-insensitive comparisons of an action
// name, the least a policy check of ten statements can do.
func BenchmarkEvaluate_Bare(b *testing.B) {
	names := make([]string, 10)
	for i := range names {
		names[i] = "servicediscovery:GetInstance" + strings.Repeat("x", i)
	}
	want := "servicediscovery:RegisterInstance"
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, s := range names {
			if strings.EqualFold(s, want) {
				n++
			}
		}
	}
	if n != 0 {
		b.Fatal("matched")
	}
}

// TestEvaluate_Budget keeps the ten-statement evaluation allocation-free
// (a loaded machine can't make a count of allocations flaky, as it can a
// time).
func TestEvaluate_Budget(t *testing.T) {
	b := &testing.B{}
	p, r := benchRequest(b)
	allocs := testing.AllocsPerRun(100, func() { p.Evaluate(r) })
	if allocs > 0 {
		t.Fatalf("evaluation allocates %.0f times per request", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse([]byte(tenStatements), "bench.json"); err != nil {
			b.Fatal(err)
		}
	}
}
