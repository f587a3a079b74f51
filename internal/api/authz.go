package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/policy"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
)

// principal is an identity with a policy, as one request presents it:
// what authorization needs beyond the operation's input. It travels in
// the request's context; requests of identities without a policy carry
// none and are not checked (full access within their account).
type principal struct {
	reg    *registry.Registry
	id     sigv4.Identity
	arn    string
	caller policy.Caller
	op     string // the operation, as X-Amz-Target names it
}

// adminActions are the Cloud Map permission-only actions that AWS RAM
// checks when a namespace is shared, for cairn's sharing operations.
var adminActions = map[string]string{
	"ShareNamespace":      "PutResourcePolicy",
	"UnshareNamespace":    "DeleteResourcePolicy",
	"ListNamespaceShares": "GetResourcePolicy",
}

type principalKey struct{}

func newPrincipal(reg *registry.Registry, id sigv4.Identity, region string, req *http.Request) *principal {
	return &principal{reg: reg, id: id, arn: id.PrincipalARN(), caller: id.Caller(region, req)}
}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// Access is what one request asks for, for policy evaluation: the action
// and what names its resources, read from the operation's input.
type Access struct {
	Action policy.Action
	// NamespaceRef and ServiceRef are the namespace or service ID or ARN
	// the request names; ResourceARN the tagging calls' ARN.
	NamespaceRef, ServiceRef, ResourceARN string
	// Discover* name DiscoverInstances' namespace (HttpName) and service.
	DiscoverNamespace, DiscoverService, DiscoverOwner string
	// CreateName is the name of a namespace being created.
	CreateName string
	// RequestTags are the tags the request sets; TagKeys the keys it
	// sets or removes.
	RequestTags []cloudmap.Tag
	TagKeys     []string
	tagKeysSet  bool
}

// accessOf describes the request an operation's input makes; ok is false
// for an input of no Cloud Map action.
func accessOf(in any) (Access, bool) {
	var a Access
	name, ok := a.ofNamespaceOp(in)
	if !ok {
		name, ok = a.ofServiceOp(in)
	}
	if !ok {
		name, ok = a.ofOtherOp(in)
	}
	if !ok {
		return Access{}, false
	}
	if len(a.RequestTags) > 0 && !a.tagKeysSet {
		a.TagKeys = make([]string, len(a.RequestTags))
		for i, t := range a.RequestTags {
			a.TagKeys[i] = t.Key
		}
	}
	act, ok := policy.LookupAction(name)
	a.Action = act
	return a, ok
}

// ofNamespaceOp reads the input of an operation on a namespace: one that
// creates it (its name) or names it (its ID or ARN), CreateService (in the
// namespace it names) and cairn's sharing operations. It returns the
// action's name; ok is false for an input of none of them.
func (a *Access) ofNamespaceOp(in any) (name string, ok bool) {
	switch in := in.(type) {
	case *cloudmap.CreateHttpNamespaceRequest:
		name, a.CreateName, a.RequestTags = "CreateHttpNamespace", in.Name, in.Tags
	case *cloudmap.CreatePrivateDnsNamespaceRequest:
		name, a.CreateName, a.RequestTags = "CreatePrivateDnsNamespace", in.Name, in.Tags
	case *cloudmap.CreatePublicDnsNamespaceRequest:
		name, a.CreateName, a.RequestTags = "CreatePublicDnsNamespace", in.Name, in.Tags
	case *cloudmap.CreateServiceRequest:
		name, a.NamespaceRef, a.RequestTags = "CreateService", in.NamespaceId, in.Tags
		if a.NamespaceRef == "" && in.DnsConfig != nil {
			a.NamespaceRef = in.DnsConfig.NamespaceId
		}
	case *cloudmap.DeleteNamespaceRequest:
		name, a.NamespaceRef = "DeleteNamespace", in.Id
	case *cloudmap.GetNamespaceRequest:
		name, a.NamespaceRef = "GetNamespace", in.Id
	case *cloudmap.UpdateHttpNamespaceRequest:
		name, a.NamespaceRef = "UpdateHttpNamespace", in.Id
	case *cloudmap.UpdatePrivateDnsNamespaceRequest:
		name, a.NamespaceRef = "UpdatePrivateDnsNamespace", in.Id
	case *cloudmap.UpdatePublicDnsNamespaceRequest:
		name, a.NamespaceRef = "UpdatePublicDnsNamespace", in.Id
	// cairn's sharing operations stand in for AWS RAM, which checks
	// Cloud Map's permission-only actions when a namespace is shared.
	case *ShareRequest:
		// ShareNamespace and UnshareNamespace share an input; the
		// operation sets the action (see adminActions).
		name, a.NamespaceRef = "PutResourcePolicy", in.NamespaceId
	case *SharesRequest:
		name, a.NamespaceRef = "GetResourcePolicy", in.NamespaceId
	default:
		return "", false
	}
	return name, true
}

// ofServiceOp reads the input of an operation on a service or its
// instances, which names the service by ID or ARN.
func (a *Access) ofServiceOp(in any) (name string, ok bool) {
	switch in := in.(type) {
	case *cloudmap.DeleteServiceRequest:
		name, a.ServiceRef = "DeleteService", in.Id
	case *cloudmap.GetServiceRequest:
		name, a.ServiceRef = "GetService", in.Id
	case *cloudmap.UpdateServiceRequest:
		name, a.ServiceRef = "UpdateService", in.Id
	case *cloudmap.GetServiceAttributesRequest:
		name, a.ServiceRef = "GetServiceAttributes", in.ServiceId
	case *cloudmap.UpdateServiceAttributesRequest:
		name, a.ServiceRef = "UpdateServiceAttributes", in.ServiceId
	case *cloudmap.DeleteServiceAttributesRequest:
		name, a.ServiceRef = "DeleteServiceAttributes", in.ServiceId
	case *cloudmap.RegisterInstanceRequest:
		name, a.ServiceRef = "RegisterInstance", in.ServiceId
	case *cloudmap.DeregisterInstanceRequest:
		name, a.ServiceRef = "DeregisterInstance", in.ServiceId
	case *cloudmap.GetInstanceRequest:
		name, a.ServiceRef = "GetInstance", in.ServiceId
	case *cloudmap.GetInstancesHealthStatusRequest:
		name, a.ServiceRef = "GetInstancesHealthStatus", in.ServiceId
	case *cloudmap.ListInstancesRequest:
		name, a.ServiceRef = "ListInstances", in.ServiceId
	case *cloudmap.UpdateInstanceCustomHealthStatusRequest:
		name, a.ServiceRef = "UpdateInstanceCustomHealthStatus", in.ServiceId
	default:
		return "", false
	}
	return name, true
}

// ofOtherOp reads the input of the other operations: discovery (by
// namespace and service name), tagging (by ARN), and those of no resource.
func (a *Access) ofOtherOp(in any) (name string, ok bool) {
	switch in := in.(type) {
	case *cloudmap.DiscoverInstancesRequest:
		name, a.DiscoverNamespace, a.DiscoverService, a.DiscoverOwner = "DiscoverInstances", in.NamespaceName, in.ServiceName, in.OwnerAccount
	case *cloudmap.DiscoverInstancesRevisionRequest:
		name, a.DiscoverNamespace, a.DiscoverService, a.DiscoverOwner = "DiscoverInstancesRevision", in.NamespaceName, in.ServiceName, in.OwnerAccount
	case *cloudmap.ListTagsForResourceRequest:
		name, a.ResourceARN = "ListTagsForResource", in.ResourceARN
	case *cloudmap.TagResourceRequest:
		name, a.ResourceARN, a.RequestTags = "TagResource", in.ResourceARN, in.Tags
	case *cloudmap.UntagResourceRequest:
		name, a.ResourceARN, a.TagKeys, a.tagKeysSet = "UntagResource", in.ResourceARN, in.TagKeys, true
	case *cloudmap.GetOperationRequest:
		name = "GetOperation"
	case *cloudmap.ListNamespacesRequest:
		name = "ListNamespaces"
	case *cloudmap.ListServicesRequest:
		name = "ListServices"
	case *cloudmap.ListOperationsRequest:
		name = "ListOperations"
	default:
		return "", false
	}
	return name, true
}

// authorize evaluates the request against the principal's policy: nil
// when it is allowed on every resource its action names, else
// AccessDeniedException with AWS's wording.
func (p *principal) authorize(c registry.Caller, in any) *wireError {
	a, ok := accessOf(in)
	if !ok {
		return &wireError{status: statusClientError, Type: "AccessDeniedException",
			Message: fmt.Sprintf("User: %s is not authorized to perform: %s because it is none of AWS Cloud Map's actions, and only an identity without a policy_file may call it", p.arn, p.op)}
	}
	if name, ok := adminActions[p.op]; ok {
		a.Action, _ = policy.LookupAction(name)
	}
	for _, ev := range p.evaluations(c, &a) {
		d := p.id.Policy.Evaluate(&policy.Request{Action: a.Action, Resource: ev.resource, Context: ev.ctx})
		if !d.Allowed() {
			return accessDenied(p.arn, a.Action, ev.resource, d.Effect)
		}
	}
	return nil
}

func accessDenied(user string, action policy.Action, resource string, e policy.Effect) *wireError {
	return &wireError{status: statusClientError, Type: "AccessDeniedException", Message: policy.Refusal(user, action, resource, e)}
}

// evaluation is one resource a request must be allowed on, with the
// request context for it.
type evaluation struct {
	resource string
	ctx      *policy.Context
}

// evaluations lists the resources the action is authorized against, as
// the Service Authorization Reference names them (see policy.ActionInfo),
// each with its context.
func (p *principal) evaluations(c registry.Caller, a *Access) []evaluation {
	switch a.Action.Info().Resource {
	case policy.ResourceNamespace:
		t, arn := p.namespace(c, a.NamespaceRef)
		return []evaluation{{arn, p.context(a, t, t.NamespaceTags)}}
	case policy.ResourceService:
		t, arn := p.service(c, a.ServiceRef)
		return []evaluation{{arn, p.context(a, t, t.ServiceTags)}}
	case policy.ResourceNamespaceAndService:
		t, found := p.reg.DiscoverTarget(c, a.DiscoverOwner, a.DiscoverNamespace, a.DiscoverService)
		t.NamespaceName, t.ServiceName = a.DiscoverNamespace, a.DiscoverService
		if !found {
			// Nothing to name: the request is judged on "*", so a
			// policy scoped to resources refuses it (as it would the
			// namespace) and one on names alone lets NotFound through.
			return []evaluation{{"*", p.context(a, t, nil)}}
		}
		evs := []evaluation{{t.NamespaceARN, p.context(a, t, t.NamespaceTags)}}
		if t.ServiceARN != "" {
			evs = append(evs, evaluation{t.ServiceARN, p.context(a, t, t.ServiceTags)})
		}
		return evs
	case policy.ResourceNamed:
		kind, _, _, _, ok := registry.ParseResourceARN(a.ResourceARN)
		switch {
		case ok && kind == "namespace":
			t, arn := p.namespace(c, a.ResourceARN)
			return []evaluation{{arn, p.context(a, t, t.NamespaceTags)}}
		case ok && kind == "service":
			t, arn := p.service(c, a.ResourceARN)
			return []evaluation{{arn, p.context(a, t, t.ServiceTags)}}
		}
		res := a.ResourceARN
		if res == "" {
			res = "*"
		}
		return []evaluation{{res, p.context(a, registry.Target{}, nil)}}
	}
	t := registry.Target{NamespaceName: a.CreateName}
	return []evaluation{{"*", p.context(a, t, nil)}}
}

// namespace resolves a namespace reference; the ARN is the namespace's,
// or the one the reference would name when there is no such namespace.
func (p *principal) namespace(c registry.Caller, ref string) (registry.Target, string) {
	t, ok := p.reg.NamespaceTarget(c, ref)
	return t, resourceARN(c, ref, ok, t.NamespaceARN, registry.NamespaceARN)
}

// service resolves a service reference as namespace does a namespace's.
func (p *principal) service(c registry.Caller, ref string) (registry.Target, string) {
	t, ok := p.reg.ServiceTarget(c, ref)
	return t, resourceARN(c, ref, ok, t.ServiceARN, registry.ServiceARN)
}

// resourceARN is the ARN a request is judged on: the resource's when it
// was found, the reference itself when it is an ARN, else the ARN an ID
// would have in the caller's account and region ("*" for no reference).
func resourceARN(c registry.Caller, ref string, found bool, arn string, arnOf func(region, account, id string) string) string {
	switch {
	case found:
		return arn
	case ref == "":
		return "*"
	case strings.HasPrefix(ref, "arn:"):
		return ref
	}
	return arnOf(c.Region, c.Account, ref)
}

// context builds the request context of one evaluation: the principal's
// and the connection's global keys, the request's tags, the Cloud Map
// keys of the namespace and service the request names, and the tags of
// the resource evaluated (aws:ResourceTag/…).
func (p *principal) context(a *Access, t registry.Target, resourceTags []cloudmap.Tag) *policy.Context {
	ctx := p.caller.NewContext(5 + len(a.RequestTags) + len(resourceTags))
	for _, tag := range a.RequestTags {
		ctx.SetOne(policy.KeyRequestTagPrefix+tag.Key, deref(tag.Value))
	}
	if a.TagKeys != nil {
		ctx.Set(policy.KeyTagKeys, a.TagKeys...)
	}
	setIf(ctx, policy.KeyNamespaceArn, t.NamespaceARN)
	setIf(ctx, policy.KeyNamespaceName, t.NamespaceName)
	setIf(ctx, policy.KeyServiceArn, t.ServiceARN)
	setIf(ctx, policy.KeyServiceName, t.ServiceName)
	setIf(ctx, policy.KeyServiceCreatedByAccount, t.ServiceCreatedBy)
	for _, tag := range resourceTags {
		ctx.SetOne(policy.KeyResourceTagPrefix+tag.Key, deref(tag.Value))
	}
	return ctx
}

func setIf(ctx *policy.Context, key, val string) {
	if val != "" {
		ctx.SetOne(key, val)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
