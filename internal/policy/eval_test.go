package policy

import (
	"strings"
	"testing"
	"time"
)

const (
	acct  = "111111111111"
	nsARN = "arn:aws:servicediscovery:us-east-1:111111111111:namespace/ns-abcdefghijklmnop"
	svARN = "arn:aws:servicediscovery:us-east-1:111111111111:service/srv-abcdefghijklmnop"
)

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc), "test.json")
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, doc)
	}
	return p
}

func action(t testing.TB, name string) Action {
	t.Helper()
	a, ok := LookupAction(name)
	if !ok {
		t.Fatalf("no action %q", name)
	}
	return a
}

// ctxOf builds a context from key=value pairs; a key given twice gets
// both values.
func ctxOf(kv ...string) *Context {
	c := &Context{}
	for i := 0; i+1 < len(kv); i += 2 {
		old, _ := c.Get(kv[i])
		c.Set(kv[i], append(append([]string(nil), old...), kv[i+1])...)
	}
	return c
}

// TestPolicy_Evaluate_Logic follows the IAM User Guide's "Policy
// evaluation logic" for identity-based policies: default deny, an Allow
// grants, an explicit Deny wins over any Allow, and the statement that
// decided.
func TestPolicy_Evaluate_Logic(t *testing.T) {
	cases := []struct {
		name     string
		policy   string
		action   string
		resource string
		ctx      *Context
		want     Effect
		sid      string
	}{
		{"no statement matches: default deny",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:GetNamespace","Resource":"*"}}`,
			"DeleteNamespace", nsARN, nil, ImplicitDeny, ""},
		{"allow grants",
			`{"Version":"2012-10-17","Statement":{"Sid":"Read","Effect":"Allow","Action":"servicediscovery:GetNamespace","Resource":"*"}}`,
			"GetNamespace", nsARN, nil, Allow, "Read"},
		{"explicit deny wins over allow",
			`{"Version":"2012-10-17","Statement":[
			  {"Sid":"All","Effect":"Allow","Action":"servicediscovery:*","Resource":"*"},
			  {"Sid":"NoDelete","Effect":"Deny","Action":"servicediscovery:Delete*","Resource":"*"}]}`,
			"DeleteNamespace", nsARN, nil, ExplicitDeny, "NoDelete"},
		{"deny before allow in the file: deny still wins",
			`{"Version":"2012-10-17","Statement":[
			  {"Sid":"NoDelete","Effect":"Deny","Action":"servicediscovery:DeleteService","Resource":"*"},
			  {"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]}`,
			"DeleteService", svARN, nil, ExplicitDeny, "NoDelete"},
		{"deny in a second document of the list wins",
			`[{"Version":"2012-10-17","Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}},
			  {"Version":"2012-10-17","Statement":{"Sid":"Stop","Effect":"Deny","Action":"servicediscovery:RegisterInstance","Resource":"*"}}]`,
			"RegisterInstance", svARN, nil, ExplicitDeny, "Stop"},
		{"a deny that doesn't match leaves the allow",
			`{"Version":"2012-10-17","Statement":[
			  {"Sid":"All","Effect":"Allow","Action":"servicediscovery:*","Resource":"*"},
			  {"Sid":"NoDelete","Effect":"Deny","Action":"servicediscovery:Delete*","Resource":"*"}]}`,
			"GetService", svARN, nil, Allow, "All"},
		{"action wildcard Get*",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:Get*","Resource":"*"}}`,
			"GetInstancesHealthStatus", svARN, nil, Allow, ""},
		{"action wildcard ? and any case",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"SERVICEDISCOVERY:getname?pace","Resource":"*"}}`,
			"GetNamespace", nsARN, nil, Allow, ""},
		{"action of another service never matches",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["route53:*","ec2:DescribeInstances"],"Resource":"*"}}`,
			"GetNamespace", nsARN, nil, ImplicitDeny, ""},
		{"NotAction allows everything else",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"servicediscovery:Delete*","Resource":"*"}}`,
			"UpdateService", svARN, nil, Allow, ""},
		{"NotAction does not allow what it names",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"servicediscovery:Delete*","Resource":"*"}}`,
			"DeleteService", svARN, nil, ImplicitDeny, ""},
		{"resource ARN wildcard on the service",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:RegisterInstance","Resource":"arn:aws:servicediscovery:us-east-1:111111111111:service/*"}}`,
			"RegisterInstance", svARN, nil, Allow, ""},
		{"resource ARN of a namespace doesn't match a service",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:RegisterInstance","Resource":"arn:aws:servicediscovery:us-east-1:111111111111:namespace/*"}}`,
			"RegisterInstance", svARN, nil, ImplicitDeny, ""},
		{"resource pattern of another account",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:servicediscovery:*:222222222222:*"}}`,
			"GetService", svARN, nil, ImplicitDeny, ""},
		{"resource region and account wildcards",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:servicediscovery:*:*:service/srv-abc*"}}`,
			"GetService", svARN, nil, Allow, ""},
		{"action without a resource type needs Resource *",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:ListNamespaces","Resource":"arn:aws:servicediscovery:*:*:*"}}`,
			"ListNamespaces", "*", nil, ImplicitDeny, ""},
		{"action without a resource type, Resource *",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:List*","Resource":"*"}}`,
			"ListNamespaces", "*", nil, Allow, ""},
		{"NotResource allows the other resources",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:servicediscovery:*:*:namespace/*"}}`,
			"GetService", svARN, nil, Allow, ""},
		{"NotResource does not allow what it names",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:servicediscovery:*:*:namespace/*"}}`,
			"GetNamespace", nsARN, nil, ImplicitDeny, ""},
		{"deny with NotResource: everything but one namespace",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
			  {"Sid":"OnlyOne","Effect":"Deny","Action":"*","NotResource":"` + nsARN + `"}]}`,
			"GetNamespace", "arn:aws:servicediscovery:us-east-1:111111111111:namespace/ns-other", nil, ExplicitDeny, "OnlyOne"},
		{"policy variable in Resource",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:servicediscovery:us-east-1:${aws:PrincipalAccount}:*"}}`,
			"GetService", svARN, ctxOf("aws:PrincipalAccount", acct), Allow, ""},
		{"policy variable without a value: the resource doesn't match",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:servicediscovery:us-east-1:${aws:PrincipalAccount}:*"}}`,
			"GetService", svARN, nil, ImplicitDeny, ""},
		{"policy variable with a default",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:servicediscovery:us-east-1:${aws:PrincipalAccount, '111111111111'}:*"}}`,
			"GetService", svARN, nil, Allow, ""},
		{"Version 2008-10-17 doesn't expand variables",
			`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:servicediscovery:us-east-1:${aws:PrincipalAccount}:*"}}`,
			"GetService", svARN, ctxOf("aws:PrincipalAccount", acct), ImplicitDeny, ""},
		{"condition in the allow must hold",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"servicediscovery:NamespaceName":"team-a"}}}}`,
			"DiscoverInstances", nsARN, ctxOf("servicediscovery:NamespaceName", "team-b"), ImplicitDeny, ""},
		{"condition on a deny that doesn't hold leaves the allow",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
			  {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			"GetService", svARN, ctxOf("aws:SecureTransport", "true"), Allow, ""},
		{"condition on a deny that holds",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
			  {"Sid":"TLS","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			"GetService", svARN, ctxOf("aws:SecureTransport", "false"), ExplicitDeny, "TLS"},
		{"all conditions of a statement must hold (AND)",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
			  "StringEquals":{"servicediscovery:NamespaceName":"a","servicediscovery:ServiceName":"web"}}}}`,
			"DiscoverInstances", nsARN, ctxOf("servicediscovery:NamespaceName", "a", "servicediscovery:ServiceName", "api"), ImplicitDeny, ""},
		{"any value of a condition key may match (OR)",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
			  "StringEquals":{"servicediscovery:ServiceName":["web","api"]}}}}`,
			"DiscoverInstances", nsARN, ctxOf("servicediscovery:ServiceName", "api"), Allow, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.policy)
			d := p.Evaluate(&Request{Action: action(t, tc.action), Resource: tc.resource, Context: tc.ctx})
			if d.Effect != tc.want {
				t.Fatalf("got %v, want %v", d.Effect, tc.want)
			}
			if tc.want == ImplicitDeny {
				if d.Statement != nil {
					t.Fatalf("an implicit deny names statement %v", d.Statement)
				}
				return
			}
			if d.Statement == nil || d.Statement.Sid != tc.sid {
				t.Fatalf("deciding statement %+v, want Sid %q", d.Statement, tc.sid)
			}
		})
	}
}

func TestPolicy_Evaluate_NoAction(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	if d := p.Evaluate(&Request{Resource: "*"}); d.Effect != ImplicitDeny {
		t.Fatalf("a request of no action: %v", d.Effect)
	}
}

func TestPolicy_Evaluate_NilPolicyAllows(t *testing.T) {
	var p *Policy
	if d := p.Evaluate(&Request{Action: action(t, "DeleteNamespace"), Resource: nsARN}); !d.Allowed() {
		t.Fatalf("a nil policy (no policy file) must allow: %v", d.Effect)
	}
}

// TestCondition_Operators covers each operator family, IfExists, the set
// qualifiers and the absent-key rules of the IAM User Guide's condition
// operator reference.
func TestCondition_Operators(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		cond string
		ctx  *Context
		want bool
	}{
		{"StringEquals", `{"StringEquals":{"aws:username":"alice"}}`, ctxOf("aws:username", "alice"), true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"aws:username":"Alice"}}`, ctxOf("aws:username", "alice"), false},
		{"condition key names are case-insensitive", `{"StringEquals":{"AWS:UserName":"alice"}}`, ctxOf("aws:username", "alice"), true},
		{"StringNotEquals", `{"StringNotEquals":{"aws:username":"bob"}}`, ctxOf("aws:username", "alice"), true},
		{"StringNotEquals, one of the values", `{"StringNotEquals":{"aws:username":["bob","alice"]}}`, ctxOf("aws:username", "alice"), false},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctxOf("aws:username", "alice"), true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctxOf("aws:username", "alice"), false},
		{"StringLike", `{"StringLike":{"servicediscovery:NamespaceName":"team-a-*"}}`, ctxOf("servicediscovery:NamespaceName", "team-a-prod"), true},
		{"StringLike ?", `{"StringLike":{"servicediscovery:NamespaceName":"team-?"}}`, ctxOf("servicediscovery:NamespaceName", "team-ab"), false},
		{"StringNotLike", `{"StringNotLike":{"servicediscovery:NamespaceName":"prod*"}}`, ctxOf("servicediscovery:NamespaceName", "dev"), true},
		{"policy variable in a condition value", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, ctxOf("aws:ResourceTag/owner", "alice", "aws:username", "alice"), true},
		{"policy variable, other user", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, ctxOf("aws:ResourceTag/owner", "bob", "aws:username", "alice"), false},
		{"tag key keeps its case", `{"StringEquals":{"aws:ResourceTag/Team":"a"}}`, ctxOf("aws:ResourceTag/team", "a"), false},
		{"NumericLessThan", `{"NumericLessThan":{"test:n":"10"}}`, ctxOf("test:n", "9.5"), true},
		{"NumericLessThan, equal", `{"NumericLessThan":{"test:n":10}}`, ctxOf("test:n", "10"), false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"test:n":10}}`, ctxOf("test:n", "10"), true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"test:n":10}}`, ctxOf("test:n", "11"), true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"test:n":10}}`, ctxOf("test:n", "9"), false},
		{"NumericEquals", `{"NumericEquals":{"test:n":"1"}}`, ctxOf("test:n", "1.0"), true},
		{"NumericNotEquals", `{"NumericNotEquals":{"test:n":"1"}}`, ctxOf("test:n", "2"), true},
		{"Numeric on a non-number value", `{"NumericEquals":{"test:n":"1"}}`, ctxOf("test:n", "one"), false},
		{"DateLessThan aws:CurrentTime", `{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}`, &Context{Now: now}, true},
		{"DateGreaterThan aws:CurrentTime", `{"DateGreaterThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}`, &Context{Now: now}, false},
		{"DateGreaterThanEquals epoch seconds", `{"DateGreaterThanEquals":{"aws:CurrentTime":"1796000000"}}`, &Context{Now: now}, true},
		{"DateEquals", `{"DateEquals":{"aws:CurrentTime":"2026-12-03T12:00:00Z"}}`, &Context{Now: now}, true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2026-12-03T12:00:00Z"}}`, &Context{Now: now}, false},
		{"DateLessThanEquals aws:EpochTime", `{"DateLessThanEquals":{"aws:EpochTime":"2026-12-03T12:00:00Z"}}`, &Context{Now: now}, true},
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, ctxOf("aws:SecureTransport", "true"), true},
		{"Bool JSON true", `{"Bool":{"aws:SecureTransport":true}}`, ctxOf("aws:SecureTransport", "false"), false},
		{"Bool absent key", `{"Bool":{"aws:SecureTransport":"false"}}`, ctxOf(), false},
		{"BoolIfExists absent key", `{"BoolIfExists":{"aws:SecureTransport":"false"}}`, ctxOf(), true},
		{"BinaryEquals", `{"BinaryEquals":{"test:b":"QmluYXJ5"}}`, ctxOf("test:b", "QmluYXJ5"), true},
		{"IpAddress in CIDR", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctxOf("aws:SourceIp", "10.1.2.3"), true},
		{"IpAddress outside", `{"IpAddress":{"aws:SourceIp":["192.168.0.0/16","127.0.0.1"]}}`, ctxOf("aws:SourceIp", "10.1.2.3"), false},
		{"IpAddress a single address", `{"IpAddress":{"aws:SourceIp":"127.0.0.1"}}`, ctxOf("aws:SourceIp", "127.0.0.1"), true},
		{"IpAddress IPv6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctxOf("aws:SourceIp", "2001:db8::1"), true},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctxOf("aws:SourceIp", "127.0.0.1"), true},
		{"ArnEquals", `{"ArnEquals":{"servicediscovery:NamespaceArn":"` + nsARN + `"}}`, ctxOf("servicediscovery:NamespaceArn", nsARN), true},
		{"ArnLike with wildcards", `{"ArnLike":{"servicediscovery:NamespaceArn":"arn:aws:servicediscovery:*:111111111111:namespace/*"}}`, ctxOf("servicediscovery:NamespaceArn", nsARN), true},
		{"ArnLike another resource type", `{"ArnLike":{"servicediscovery:NamespaceArn":"arn:aws:servicediscovery:*:*:service/*"}}`, ctxOf("servicediscovery:NamespaceArn", nsARN), false},
		{"ArnLike with a policy variable", `{"ArnLike":{"servicediscovery:NamespaceArn":"arn:aws:servicediscovery:*:${aws:PrincipalAccount}:*"}}`, ctxOf("servicediscovery:NamespaceArn", nsARN, "aws:PrincipalAccount", acct), true},
		{"ArnNotLike", `{"ArnNotLike":{"servicediscovery:NamespaceArn":"arn:aws:servicediscovery:*:222222222222:*"}}`, ctxOf("servicediscovery:NamespaceArn", nsARN), true},
		{"Null true: key absent", `{"Null":{"aws:RequestTag/team":"true"}}`, ctxOf(), true},
		{"Null true: key present", `{"Null":{"aws:RequestTag/team":"true"}}`, ctxOf("aws:RequestTag/team", "a"), false},
		{"Null false: key present", `{"Null":{"aws:RequestTag/team":"false"}}`, ctxOf("aws:RequestTag/team", "a"), true},
		{"absent key: positive operator false", `{"StringEquals":{"aws:ResourceTag/team":"a"}}`, ctxOf(), false},
		{"absent key: negated operator true", `{"StringNotEquals":{"aws:ResourceTag/team":"a"}}`, ctxOf(), true},
		{"absent key: IfExists true", `{"StringEqualsIfExists":{"aws:ResourceTag/team":"a"}}`, ctxOf(), true},
		{"present key: IfExists compares", `{"StringEqualsIfExists":{"aws:ResourceTag/team":"a"}}`, ctxOf("aws:ResourceTag/team", "b"), false},
		{"ForAllValues: every tag key allowed", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}`, ctxOf("aws:TagKeys", "team", "aws:TagKeys", "env"), true},
		{"ForAllValues: one tag key not allowed", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}`, ctxOf("aws:TagKeys", "team", "aws:TagKeys", "owner"), false},
		{"ForAllValues: no tag keys", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`, ctxOf(), true},
		{"ForAnyValue: one matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}`, ctxOf("aws:TagKeys", "env", "aws:TagKeys", "team"), true},
		{"ForAnyValue: none match", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}`, ctxOf("aws:TagKeys", "env"), false},
		{"ForAnyValue: no values", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}`, ctxOf(), false},
		{"ForAllValues:StringNotLike", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}`, ctxOf("aws:TagKeys", "team"), true},
		{"ForAnyValue:StringLike", `{"ForAnyValue:StringLike":{"aws:TagKeys":["sec*"]}}`, ctxOf("aws:TagKeys", "a", "aws:TagKeys", "secret"), true},
		{"ForAllValues:StringLikeIfExists absent", `{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["a"]}}`, ctxOf(), true},
		{"two operators: both must hold", `{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}`, ctxOf("aws:username", "alice", "aws:SecureTransport", "false"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":`+tc.cond+`}}`)
			d := p.Evaluate(&Request{Action: action(t, "GetService"), Resource: svARN, Context: tc.ctx})
			if d.Allowed() != tc.want {
				t.Fatalf("condition %s: allowed %v, want %v", tc.cond, d.Allowed(), tc.want)
			}
		})
	}
}

// TestParse_Errors: a bad policy file is refused with the file, the line
// at fault and what is wrong.
func TestParse_Errors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		line int
		want string
	}{
		{"unknown action", "{\"Version\":\"2012-10-17\",\"Statement\":[\n{\"Effect\":\"Allow\",\n\"Action\":\"servicediscovery:DiscoverInstance\",\"Resource\":\"*\"}]}",
			3, `unknown action "servicediscovery:DiscoverInstance"`},
		{"pattern that matches no action", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"servicediscovery:Frob*\",\"Resource\":\"*\"}}",
			1, "matches no AWS Cloud Map action"},
		{"action without a prefix", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"GetService\",\"Resource\":\"*\"}}",
			1, "not of the form service:Action"},
		{"malformed ARN pattern", "{\n\"Statement\": {\n  \"Effect\": \"Allow\",\n  \"Action\": \"*\",\n  \"Resource\": \"arn:aws:servicediscovery:*\"\n}}",
			5, `resource "arn:aws:servicediscovery:*" is not "*" or an ARN`},
		{"ARN of no Cloud Map resource", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:aws:servicediscovery:*:*:instance/i-1\"}}",
			1, "namespace/ID and service/ID"},
		{"unknown condition operator", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\n\"Condition\":{\n\"StringMatches\":{\"aws:username\":\"a\"}}}}",
			3, `unknown condition operator "StringMatches"`},
		{"Null with IfExists", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"NullIfExists\":{\"a:b\":\"true\"}}}}",
			1, "Null takes neither"},
		{"bad number", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"NumericLessThan\":{\"a:b\":\"ten\"}}}}",
			1, "needs numbers"},
		{"bad date", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"tomorrow\"}}}}",
			1, "needs dates"},
		{"bad CIDR", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\"}}}}",
			1, "IP addresses or CIDR blocks"},
		{"bad Bool", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}}}",
			1, "true or false"},
		{"bad condition key", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"username\":\"a\"}}}}",
			1, "prefix:name"},
		{"bad Effect", "{\"Statement\":{\"Effect\":\"allow\",\"Action\":\"*\",\"Resource\":\"*\"}}", 1, `Effect must be "Allow" or "Deny"`},
		{"no Effect", "{\"Statement\":{\"Action\":\"*\",\"Resource\":\"*\"}}", 1, "no Effect"},
		{"Action and NotAction", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"NotAction\":\"*\",\"Resource\":\"*\"}}", 1, "not both"},
		{"no Resource", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}", 1, "neither Resource nor NotResource"},
		{"Principal", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}}", 1, "not allowed in an identity-based policy"},
		{"unknown element", "{\"Statement\":{\"Effect\":\"Allow\",\"Actions\":\"*\",\"Resource\":\"*\"}}", 1, `unknown statement element "Actions"`},
		{"bad Version", "{\"Version\":\"2012-10-18\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}", 1, "not a policy language version"},
		{"no Statement", "{\"Version\":\"2012-10-17\"}", 1, "no Statement"},
		{"empty list", "[]", 1, "no policy document"},
		{"not JSON", "{\"Version\":\"2012-10-17\",\n\"Statement\":[\n{\"Effect\":\"Allow\",}]}", 3, "not valid JSON"},
		{"truncated", "{\"Version\":\"2012-10-17\",\n\"Statement\":[", 2, "not valid JSON"},
		{"duplicate member", "{\"Statement\":{\"Effect\":\"Allow\",\n\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}}", 2, "appears twice"},
		{"unclosed variable", "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:aws:servicediscovery:*:${aws:PrincipalAccount:*\"}}", 1, "no closing }"},
		{"a number", "42", 1, "not a number"},
		{"malformed ARN in ArnLike", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam:*\"}}}}", 1, "needs ARNs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "team.json")
			if err == nil {
				t.Fatalf("parsed:\n%s", tc.doc)
			}
			pe, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T %v is not a *policy.Error", err, err)
			}
			if pe.File != "team.json" || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.want) {
				t.Fatalf("got %q (file %s, line %d), want line %d and %q", err, pe.File, pe.Line, tc.line, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "policy: team.json line ") {
				t.Fatalf("the message %q doesn't start with the file and line", err)
			}
		})
	}
}
