package policy

import "strings"

// Service is the IAM service prefix of AWS Cloud Map.
const Service = "servicediscovery"

// ResourceType is what an action is authorized against, as the Service
// Authorization Reference's "Resource types" column names it.
type ResourceType uint8

// The resource types of Cloud Map actions.
const (
	// ResourceAll: the action has no resource type; the reference says
	// to name "*" in Resource.
	ResourceAll ResourceType = iota
	// ResourceNamespace: arn:${Partition}:servicediscovery:${Region}:${Account}:namespace/${NamespaceId}.
	ResourceNamespace
	// ResourceService: arn:${Partition}:servicediscovery:${Region}:${Account}:service/${ServiceId}.
	ResourceService
	// ResourceNamespaceAndService: both the namespace and the service
	// are required resources; the request must be allowed on each.
	ResourceNamespaceAndService
	// ResourceNamed: the namespace or service the request's ResourceARN
	// names (the tagging actions).
	ResourceNamed
)

func (t ResourceType) String() string {
	switch t {
	case ResourceNamespace:
		return "namespace"
	case ResourceService:
		return "service"
	case ResourceNamespaceAndService:
		return "namespace, service"
	case ResourceNamed:
		return "namespace or service"
	}
	return "*"
}

// ActionInfo is one row of the Service Authorization Reference's actions
// table for Cloud Map, as cairn applies it.
type ActionInfo struct {
	// Name is the action without its prefix, e.g. "RegisterInstance".
	Name string
	// Resource is what the action is authorized against.
	Resource ResourceType
	// Keys are the service-specific and tag condition keys the reference
	// lists for the action. cairn also sets the servicediscovery: keys of
	// the namespace and service a request names on every action that
	// names them (see the README).
	Keys []string
	// PermissionOnly marks the actions that are no API operation: AWS
	// RAM checks them when a namespace is shared; cairn checks them for
	// its own sharing operations.
	PermissionOnly bool
}

// Condition keys cairn sets.
const (
	KeyNamespaceArn            = "servicediscovery:NamespaceArn"
	KeyNamespaceName           = "servicediscovery:NamespaceName"
	KeyServiceArn              = "servicediscovery:ServiceArn"
	KeyServiceName             = "servicediscovery:ServiceName"
	KeyServiceCreatedByAccount = "servicediscovery:ServiceCreatedByAccount"
	KeyRequestTagPrefix        = "aws:RequestTag/"
	KeyResourceTagPrefix       = "aws:ResourceTag/"
	KeyTagKeys                 = "aws:TagKeys"
	KeySourceIP                = "aws:SourceIp"
	KeySecureTransport         = "aws:SecureTransport"
	KeyCurrentTime             = "aws:CurrentTime"
	KeyEpochTime               = "aws:EpochTime"
	KeyPrincipalAccount        = "aws:PrincipalAccount"
	KeyPrincipalArn            = "aws:PrincipalArn"
	KeyPrincipalType           = "aws:PrincipalType"
	KeyUsername                = "aws:username"
	KeyUserid                  = "aws:userid"
	KeyRequestedRegion         = "aws:RequestedRegion"
)

var (
	createTagKeys = []string{"aws:RequestTag/${TagKey}", KeyTagKeys}
	serviceKeys   = []string{KeyServiceArn, KeyServiceCreatedByAccount}
)

// Actions is the Cloud Map action list: the operation names of the API
// model (servicediscovery 2017-03-14) and the permission-only actions of
// the Service Authorization Reference, with the resource type and
// condition keys the reference gives each (see the README for where cairn
// reads the reference's table more widely).
var actions = [...]ActionInfo{
	{Name: "CreateHttpNamespace", Keys: createTagKeys},
	{Name: "CreatePrivateDnsNamespace", Keys: createTagKeys},
	{Name: "CreatePublicDnsNamespace", Keys: createTagKeys},
	{Name: "CreateService", Resource: ResourceNamespace, Keys: []string{KeyNamespaceArn, "aws:RequestTag/${TagKey}", KeyTagKeys}},
	{Name: "DeleteNamespace", Resource: ResourceNamespace},
	{Name: "DeleteResourcePolicy", Resource: ResourceNamespace, PermissionOnly: true},
	{Name: "DeleteService", Resource: ResourceService, Keys: []string{KeyServiceCreatedByAccount}},
	{Name: "DeleteServiceAttributes", Resource: ResourceService, Keys: []string{KeyServiceCreatedByAccount}},
	{Name: "DeregisterInstance", Resource: ResourceService, Keys: serviceKeys},
	{Name: "DiscoverInstances", Resource: ResourceNamespaceAndService, Keys: []string{KeyNamespaceName, KeyServiceName}},
	{Name: "DiscoverInstancesRevision", Resource: ResourceNamespaceAndService, Keys: []string{KeyNamespaceName, KeyServiceName}},
	{Name: "GetInstance", Resource: ResourceService, Keys: []string{KeyServiceArn}},
	{Name: "GetInstancesHealthStatus", Resource: ResourceService, Keys: []string{KeyServiceArn}},
	{Name: "GetNamespace", Resource: ResourceNamespace},
	{Name: "GetOperation"},
	{Name: "GetResourcePolicy", Resource: ResourceNamespace, PermissionOnly: true},
	{Name: "GetService", Resource: ResourceService},
	{Name: "GetServiceAttributes", Resource: ResourceService},
	{Name: "ListInstances", Resource: ResourceService, Keys: []string{KeyServiceArn}},
	{Name: "ListNamespaces"},
	{Name: "ListOperations"},
	{Name: "ListServices"},
	{Name: "ListTagsForResource", Resource: ResourceNamed},
	{Name: "PutResourcePolicy", Resource: ResourceNamespace, PermissionOnly: true},
	{Name: "RegisterInstance", Resource: ResourceService, Keys: serviceKeys},
	{Name: "TagResource", Resource: ResourceNamed, Keys: createTagKeys},
	{Name: "UntagResource", Resource: ResourceNamed, Keys: []string{KeyTagKeys}},
	{Name: "UpdateHttpNamespace", Resource: ResourceNamespace},
	{Name: "UpdateInstanceCustomHealthStatus", Resource: ResourceService, Keys: serviceKeys},
	{Name: "UpdatePrivateDnsNamespace", Resource: ResourceNamespace},
	{Name: "UpdatePublicDnsNamespace", Resource: ResourceNamespace},
	{Name: "UpdateService", Resource: ResourceService, Keys: []string{KeyServiceCreatedByAccount}},
	{Name: "UpdateServiceAttributes", Resource: ResourceService, Keys: []string{KeyServiceCreatedByAccount}},
}

// actionSet is a set of Cloud Map actions, one bit per entry of actions.
type actionSet uint64

const allActions actionSet = 1<<len(actions) - 1

// Action identifies a Cloud Map action; the zero value is no action.
type Action struct{ i int8 }

// LookupAction finds a Cloud Map action by name, with or without the
// "servicediscovery:" prefix, in any case (IAM's action names are
// case-insensitive).
func LookupAction(name string) (Action, bool) {
	if p, rest, ok := strings.Cut(name, ":"); ok {
		if !strings.EqualFold(p, Service) {
			return Action{}, false
		}
		name = rest
	}
	for i := range actions {
		if strings.EqualFold(actions[i].Name, name) {
			return Action{i: int8(i + 1)}, true
		}
	}
	return Action{}, false
}

// Valid reports whether a is an action (not the zero value).
func (a Action) Valid() bool { return a.i > 0 }

// Info returns the action's row of the reference table.
func (a Action) Info() ActionInfo { return actions[a.i-1] }

// String is the action as policies name it: "servicediscovery:Name".
func (a Action) String() string {
	if !a.Valid() {
		return ""
	}
	return Service + ":" + actions[a.i-1].Name
}

func (a Action) bit() actionSet { return 1 << (a.i - 1) }

// AllActions lists every Cloud Map action, in the reference's order.
func AllActions() []Action {
	out := make([]Action, len(actions))
	for i := range actions {
		out[i] = Action{i: int8(i + 1)}
	}
	return out
}
