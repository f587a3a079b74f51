package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/sigv4"
)

func TestPolicySimulate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("deployer.json", `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "TeamA", "Effect": "Allow", "Action": "servicediscovery:*Instance", "Resource": "*",
     "Condition": {"StringEquals": {"servicediscovery:NamespaceName": "team-a"}}},
    {"Sid": "Office", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
  ]
}`)
	write("credentials", `[deployer]
aws_access_key_id = AKIADEPLOYER
aws_secret_access_key = s
aws_account_id = 111111111111
policy_file = deployer.json

[admin]
aws_access_key_id = AKIAADMIN
aws_secret_access_key = s
aws_account_id = 111111111111
`)
	creds := filepath.Join(dir, "credentials")
	svc := "arn:aws:servicediscovery:us-east-1:111111111111:service/srv-abcdefghijklmnop"
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"allowed", []string{"--profile", "deployer", "--action", "servicediscovery:RegisterInstance", "--resource", svc,
			"--context", "servicediscovery:NamespaceName=team-a", "--context", "aws:SourceIp=10.1.2.3"},
			0, []string{"principal: arn:aws:iam::111111111111:user/deployer", "decision:  allowed", `deployer.json line 4, statement 1 (Sid "TeamA")`}},
		{"implicit deny", []string{"--profile", "deployer", "--action", "RegisterInstance", "--resource", svc,
			"--context", "servicediscovery:NamespaceName=team-b", "--context", "aws:SourceIp=10.1.2.3"},
			1, []string{"decision:  implicitly denied", "no statement of deployer.json allows it"}},
		{"explicit deny", []string{"--profile", "deployer", "--action", "servicediscovery:DeregisterInstance", "--resource", svc,
			"--context", "servicediscovery:NamespaceName=team-a", "--context", "aws:SourceIp=192.0.2.1"},
			1, []string{"decision:  explicitly denied", `statement 2 (Sid "Office")`}},
		{"no policy file", []string{"--profile", "admin", "--action", "servicediscovery:DeleteNamespace",
			"--resource", "arn:aws:servicediscovery:us-east-1:111111111111:namespace/ns-x"},
			0, []string{"decision:  allowed", `profile "admin" has no policy_file`}},
		{"resource of the wrong type", []string{"--profile", "deployer", "--action", "servicediscovery:ListNamespaces", "--resource", svc},
			1, []string{"note:      this action has no resource type"}},
		{"a Route 53 read under a Cloud Map policy", []string{"--profile", "deployer", "--action", "route53:GetHostedZone",
			"--resource", "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ", "--context", "aws:SourceIp=10.1.2.3"},
			1, []string{"action:    route53:GetHostedZone (resource type: hostedzone)", "decision:  implicitly denied"}},
		{"a Route 53 read on a Cloud Map ARN", []string{"--profile", "admin", "--action", "route53:ListResourceRecordSets", "--resource", svc},
			0, []string{"note:      this action is authorized on a hosted zone ARN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCairn(t, nil, append([]string{"policy", "simulate", "--credentials", creds}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
		})
	}

	for _, bad := range [][]string{
		{"policy"},
		{"policy", "simulate", "--credentials", creds, "--profile", "deployer"},
		{"policy", "simulate", "--credentials", creds, "--profile", "nobody", "--action", "servicediscovery:GetService"},
		{"policy", "simulate", "--credentials", creds, "--profile", "deployer", "--action", "servicediscovery:Frob"},
		{"policy", "simulate", "--credentials", creds, "--profile", "deployer", "--action", "servicediscovery:GetService", "--context", "novalue"},
	} {
		if code, _, _ := runCairn(t, nil, bad...); code != 2 {
			t.Errorf("cairn %v: exit %d, want 2", bad, code)
		}
	}
	write("deployer.json", `{"Statement":{"Effect":"Allow","Action":"servicediscovery:Frob","Resource":"*"}}`)
	code, _, stderr := runCairn(t, nil, "policy", "simulate", "--credentials", creds, "--profile", "admin", "--action", "servicediscovery:GetService")
	if code != 2 || !strings.Contains(stderr, `deployer.json line 1: unknown action "servicediscovery:Frob"`) {
		t.Errorf("a bad policy file: exit %d, stderr %q", code, stderr)
	}
}

// TestSimulationContext: the context "cairn policy simulate" builds has
// the identity's global keys, every value of a key given twice, and the
// time aws:CurrentTime names.
func TestSimulationContext(t *testing.T) {
	id := &sigv4.Identity{Profile: "deployer", AccountID: "111111111111"}
	principal := "arn:aws:iam::111111111111:user/deployer"
	for _, tt := range []struct {
		name    string
		given   contextList
		key     string
		want    []string
		wantNow string
		wantErr string
	}{
		{name: "global key", key: "aws:username", want: []string{"deployer"}},
		{name: "principal", key: "aws:PrincipalArn", want: []string{principal}},
		{name: "one value", given: contextList{{"aws:SourceIp", "10.0.0.1"}}, key: "aws:sourceip", want: []string{"10.0.0.1"}},
		{name: "two values", given: contextList{{"aws:TagKeys", "a"}, {"aws:SourceIp", "10.0.0.1"}, {"aws:TagKeys", "b"}},
			key: "aws:TagKeys", want: []string{"a", "b"}},
		{name: "a given key wins", given: contextList{{"aws:username", "other"}}, key: "aws:username", want: []string{"other"}},
		{name: "current time", given: contextList{{"aws:CurrentTime", "2026-12-31T23:59:59Z"}}, wantNow: "2026-12-31T23:59:59Z"},
		{name: "bad time", given: contextList{{"aws:currenttime", "tomorrow"}}, wantErr: `aws:CurrentTime="tomorrow" is not a time`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, err := simulationContext(id, principal, tt.given)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want one saying %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.key != "" {
				if got, _ := ctx.Get(tt.key); !slices.Equal(got, tt.want) {
					t.Errorf("%s = %q; want %q", tt.key, got, tt.want)
				}
			}
			if tt.wantNow != "" {
				if got := ctx.Now.Format(time.RFC3339); got != tt.wantNow {
					t.Errorf("Now = %s; want %s", got, tt.wantNow)
				}
			}
		})
	}
}
