package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/policy"
	"github.com/cairn-dev/cairn/internal/sigv4"
)

// contextList is the repeatable --context key=value flag; a key given
// twice gets both values.
type contextList [][2]string

func (c *contextList) String() string { return "" }

func (c *contextList) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("%q is not key=value (aws:SourceIp=10.0.0.1)", v)
	}
	*c = append(*c, [2]string{strings.TrimSpace(k), val})
	return nil
}

// simulation is one request "cairn policy simulate" decides, as its flags
// give it.
type simulation struct {
	credsPath, profile, action, resource string
	context                              contextList
}

// policyCommand runs "cairn policy simulate": it evaluates one request
// against a profile's policy, offline, as the server would, and prints
// the decision and the statement that decided it. Exit status 0 means
// allowed, 1 denied, 2 a usage or file error.
func policyCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "simulate" {
		fmt.Fprint(stderr, "Usage: cairn policy simulate --credentials FILE --profile NAME --action servicediscovery:OP|route53:OP [--resource ARN] [--context key=value …]\n")
		return 2
	}
	sim, code, ok := simulationFlags(args[1:], getenv, stderr)
	if !ok {
		return code
	}
	act, ok := policy.LookupAction(sim.action)
	if !ok {
		fmt.Fprintf(stderr, "cairn policy simulate: %q is not an AWS Cloud Map action (servicediscovery:RegisterInstance, …) or a Route 53 read cairn serves (route53:GetHostedZone, …)\n", sim.action)
		return 2
	}
	id, err := loadProfile(sim.credsPath, sim.profile)
	if err != nil {
		fmt.Fprintf(stderr, "cairn policy simulate: %v\n", err)
		return 2
	}
	principal := id.PrincipalARN()
	ctx, err := simulationContext(id, principal, sim.context)
	if err != nil {
		fmt.Fprintf(stderr, "cairn policy simulate: %v\n", err)
		return 2
	}
	info := act.Info()
	fmt.Fprintf(stdout, "principal: %s\n", principal)
	fmt.Fprintf(stdout, "action:    %s (resource type: %s)\n", act, info.Resource)
	fmt.Fprintf(stdout, "resource:  %s\n", sim.resource)
	if note := resourceNote(info.Resource, sim.resource); note != "" {
		fmt.Fprintf(stdout, "note:      %s\n", note)
	}
	return decide(stdout, id, &policy.Request{Action: act, Resource: sim.resource, Context: ctx})
}

// simulationFlags reads the flags of "cairn policy simulate"; when they
// don't make a request (or -h was asked) it has said why on stderr, and
// returns false with the exit code.
func simulationFlags(args []string, getenv func(string) string, stderr io.Writer) (simulation, int, bool) {
	var sim simulation
	fs := flag.NewFlagSet("cairn policy simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&sim.credsPath, "credentials", getenv("CAIRN_CREDENTIALS"), "the credentials file, with its profiles' policy_file (env CAIRN_CREDENTIALS)")
	fs.StringVar(&sim.profile, "profile", "", "the profile whose policy decides")
	fs.StringVar(&sim.action, "action", "", "the action, such as servicediscovery:RegisterInstance, or a Route 53 read such as route53:ListResourceRecordSets")
	fs.StringVar(&sim.resource, "resource", "*", "the resource's ARN (a namespace or service; for Route 53, arn:aws:route53:::hostedzone/ID or …:healthcheck/ID), or * for the actions without a resource type")
	fs.Var(&sim.context, "context", "a request context key and its value, such as servicediscovery:NamespaceName=shop or aws:ResourceTag/team=a; repeat for more keys, or a key for more values")
	if code, ok := parseArgs(fs, args); !ok {
		return sim, code, false
	}
	if sim.credsPath == "" || sim.profile == "" || sim.action == "" || fs.NArg() > 0 {
		fs.Usage()
		return sim, 2, false
	}
	return sim, 0, true
}

// loadProfile reads the identity of one profile of a credentials file.
func loadProfile(credsPath, profile string) (*sigv4.Identity, error) {
	creds, err := sigv4.LoadCredentials(credsPath)
	if err != nil {
		return nil, err
	}
	for _, c := range creds {
		if c.Profile == profile {
			return &c, nil
		}
	}
	return nil, fmt.Errorf("%s has no profile %q", credsPath, profile)
}

// simulationContext is the request context the server would build for
// the identity's request (its global keys), with the keys of --context:
// a key given twice gets both values, and aws:CurrentTime sets the time.
func simulationContext(id *sigv4.Identity, principal string, given contextList) (*policy.Context, error) {
	ctx := &policy.Context{Now: time.Now()}
	ctx.Set(policy.KeyUsername, id.Profile)
	ctx.Set(policy.KeyPrincipalAccount, id.AccountID)
	ctx.Set(policy.KeyPrincipalArn, principal)
	ctx.Set(policy.KeyPrincipalType, "User")
	values := map[string][]string{}
	var order []string
	for _, kv := range given {
		if _, seen := values[kv[0]]; !seen {
			order = append(order, kv[0])
		}
		values[kv[0]] = append(values[kv[0]], kv[1])
	}
	for _, k := range order {
		if strings.EqualFold(k, policy.KeyCurrentTime) {
			t, err := time.Parse(time.RFC3339, values[k][0])
			if err != nil {
				return nil, fmt.Errorf("aws:CurrentTime=%q is not a time such as 2026-12-31T23:59:59Z", values[k][0])
			}
			ctx.Now = t
			continue
		}
		ctx.Set(k, values[k]...)
	}
	return ctx, nil
}

// decide prints the identity's policy's decision on req and the
// statement that made it, and returns the exit status: 0 allowed, 1
// denied.
func decide(stdout io.Writer, id *sigv4.Identity, req *policy.Request) int {
	if id.Policy == nil {
		fmt.Fprintf(stdout, "decision:  allowed\nby:        profile %q has no policy_file: it may do everything in account %s\n", id.Profile, id.AccountID)
		return 0
	}
	d := id.Policy.Evaluate(req)
	fmt.Fprintf(stdout, "decision:  %s\n", d.Effect)
	switch d.Effect {
	case policy.Allow:
		fmt.Fprintf(stdout, "by:        %s\n", d.Statement)
		return 0
	case policy.ExplicitDeny:
		fmt.Fprintf(stdout, "by:        %s\n", d.Statement)
	default:
		fmt.Fprintf(stdout, "by:        no statement of %s allows it (default deny)\n", id.PolicyFile)
	}
	return 1
}

// resourceNote warns when the resource is not of the type the action is
// authorized against, where the server would never ask that question.
func resourceNote(t policy.ResourceType, res string) string {
	isNS, isSvc := strings.Contains(res, ":namespace/"), strings.Contains(res, ":service/")
	switch {
	case t == policy.ResourceAll && res != "*":
		return "this action has no resource type: cairn evaluates it on resource *"
	case t == policy.ResourceNamespace && !isNS:
		return "this action is authorized on a namespace ARN"
	case t == policy.ResourceService && !isSvc:
		return "this action is authorized on a service ARN"
	case t == policy.ResourceHostedZone && !strings.Contains(res, ":hostedzone/"):
		return "this action is authorized on a hosted zone ARN (arn:aws:route53:::hostedzone/ID)"
	case t == policy.ResourceHealthCheck && !strings.Contains(res, ":healthcheck/"):
		return "this action is authorized on a health check ARN (arn:aws:route53:::healthcheck/ID)"
	case (t == policy.ResourceNamespaceAndService || t == policy.ResourceNamed) && !isNS && !isSvc && res != "*":
		return "this action is authorized on namespace and service ARNs"
	case t == policy.ResourceNamespaceAndService:
		return "cairn evaluates this action on the namespace and on the service; both must be allowed"
	}
	return ""
}
