package policy_test

import (
	"fmt"

	"github.com/cairn-dev/cairn/internal/policy"
)

func ExamplePolicy_Evaluate() {
	p, err := policy.Parse([]byte(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Discover", "Effect": "Allow",
     "Action": ["servicediscovery:DiscoverInstances", "servicediscovery:DiscoverInstancesRevision"],
     "Resource": "*",
     "Condition": {"StringEquals": {"servicediscovery:NamespaceName": "shop"}}}
  ]
}`), "discover-only.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	discover, _ := policy.LookupAction("servicediscovery:DiscoverInstances")
	register, _ := policy.LookupAction("servicediscovery:RegisterInstance")
	ctx := &policy.Context{}
	ctx.Set(policy.KeyNamespaceName, "shop")
	svc := "arn:aws:servicediscovery:us-east-1:111111111111:service/srv-abcdefghijklmnop"

	d := p.Evaluate(&policy.Request{Action: discover, Resource: svc, Context: ctx})
	fmt.Println(discover, d.Effect, "by", d.Statement)
	d = p.Evaluate(&policy.Request{Action: register, Resource: svc, Context: ctx})
	fmt.Println(register, d.Effect)
	// Output:
	// servicediscovery:DiscoverInstances allowed by discover-only.json line 4, statement 1 (Sid "Discover")
	// servicediscovery:RegisterInstance implicitly denied
}
