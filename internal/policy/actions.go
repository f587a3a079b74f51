package policy

import "strings"

// Service is the IAM service prefix of AWS Cloud Map.
const Service = "servicediscovery"

// Route53Service is the IAM service prefix of Amazon Route 53, whose read
// side cairn serves for the zones and health checks Cloud Map creates.
const Route53Service = "route53"

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
	// ResourceHostedZone: arn:${Partition}:route53:::hostedzone/${Id}.
	ResourceHostedZone
	// ResourceHealthCheck: arn:${Partition}:route53:::healthcheck/${Id}.
	ResourceHealthCheck
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
	case ResourceHostedZone:
		return "hostedzone"
	case ResourceHealthCheck:
		return "healthcheck"
	}
	return "*"
}

// ActionInfo is one row of the Service Authorization Reference's actions
// table for Cloud Map (or for Route 53's reads), as cairn applies it.
type ActionInfo struct {
	// Prefix is the action's service prefix: Service or Route53Service.
	Prefix string
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
// reads the reference's table more widely); then the Route 53 read
// actions cairn serves (the operations of internal/route53), with the
// resource types of the reference's Route 53 table. Route 53's other
// actions are none of cairn's: a policy may name them, and they never
// match a request.
var actions = [...]ActionInfo{
	{Prefix: Service, Name: "CreateHttpNamespace", Keys: createTagKeys},
	{Prefix: Service, Name: "CreatePrivateDnsNamespace", Keys: createTagKeys},
	{Prefix: Service, Name: "CreatePublicDnsNamespace", Keys: createTagKeys},
	{Prefix: Service, Name: "CreateService", Resource: ResourceNamespace, Keys: []string{KeyNamespaceArn, "aws:RequestTag/${TagKey}", KeyTagKeys}},
	{Prefix: Service, Name: "DeleteNamespace", Resource: ResourceNamespace},
	{Prefix: Service, Name: "DeleteResourcePolicy", Resource: ResourceNamespace, PermissionOnly: true},
	{Prefix: Service, Name: "DeleteService", Resource: ResourceService, Keys: []string{KeyServiceCreatedByAccount}},
	{Prefix: Service, Name: "DeleteServiceAttributes", Resource: ResourceService, Keys: []string{KeyServiceCreatedByAccount}},
	{Prefix: Service, Name: "DeregisterInstance", Resource: ResourceService, Keys: serviceKeys},
	{Prefix: Service, Name: "DiscoverInstances", Resource: ResourceNamespaceAndService, Keys: []string{KeyNamespaceName, KeyServiceName}},
	{Prefix: Service, Name: "DiscoverInstancesRevision", Resource: ResourceNamespaceAndService, Keys: []string{KeyNamespaceName, KeyServiceName}},
	{Prefix: Service, Name: "GetInstance", Resource: ResourceService, Keys: []string{KeyServiceArn}},
	{Prefix: Service, Name: "GetInstancesHealthStatus", Resource: ResourceService, Keys: []string{KeyServiceArn}},
	{Prefix: Service, Name: "GetNamespace", Resource: ResourceNamespace},
	{Prefix: Service, Name: "GetOperation"},
	{Prefix: Service, Name: "GetResourcePolicy", Resource: ResourceNamespace, PermissionOnly: true},
	{Prefix: Service, Name: "GetService", Resource: ResourceService},
	{Prefix: Service, Name: "GetServiceAttributes", Resource: ResourceService},
	{Prefix: Service, Name: "ListInstances", Resource: ResourceService, Keys: []string{KeyServiceArn}},
	{Prefix: Service, Name: "ListNamespaces"},
	{Prefix: Service, Name: "ListOperations"},
	{Prefix: Service, Name: "ListServices"},
	{Prefix: Service, Name: "ListTagsForResource", Resource: ResourceNamed},
	{Prefix: Service, Name: "PutResourcePolicy", Resource: ResourceNamespace, PermissionOnly: true},
	{Prefix: Service, Name: "RegisterInstance", Resource: ResourceService, Keys: serviceKeys},
	{Prefix: Service, Name: "TagResource", Resource: ResourceNamed, Keys: createTagKeys},
	{Prefix: Service, Name: "UntagResource", Resource: ResourceNamed, Keys: []string{KeyTagKeys}},
	{Prefix: Service, Name: "UpdateHttpNamespace", Resource: ResourceNamespace},
	{Prefix: Service, Name: "UpdateInstanceCustomHealthStatus", Resource: ResourceService, Keys: serviceKeys},
	{Prefix: Service, Name: "UpdatePrivateDnsNamespace", Resource: ResourceNamespace},
	{Prefix: Service, Name: "UpdatePublicDnsNamespace", Resource: ResourceNamespace},
	{Prefix: Service, Name: "UpdateService", Resource: ResourceService, Keys: []string{KeyServiceCreatedByAccount}},
	{Prefix: Service, Name: "UpdateServiceAttributes", Resource: ResourceService, Keys: []string{KeyServiceCreatedByAccount}},

	{Prefix: Route53Service, Name: "GetHealthCheck", Resource: ResourceHealthCheck},
	{Prefix: Route53Service, Name: "GetHealthCheckCount"},
	{Prefix: Route53Service, Name: "GetHealthCheckStatus", Resource: ResourceHealthCheck},
	{Prefix: Route53Service, Name: "GetHostedZone", Resource: ResourceHostedZone},
	{Prefix: Route53Service, Name: "GetHostedZoneCount"},
	{Prefix: Route53Service, Name: "ListHealthChecks"},
	{Prefix: Route53Service, Name: "ListHostedZones"},
	{Prefix: Route53Service, Name: "ListHostedZonesByName"},
	{Prefix: Route53Service, Name: "ListResourceRecordSets", Resource: ResourceHostedZone},
}

// actionSet is a set of actions, one bit per entry of actions.
type actionSet uint64

const allActions actionSet = 1<<len(actions) - 1

// Action identifies a Cloud Map action or a Route 53 read; the zero value
// is no action.
type Action struct{ i int8 }

// LookupAction finds an action by name, in any case (IAM's action names
// are case-insensitive): a Cloud Map action with or without the
// "servicediscovery:" prefix, or a Route 53 read with "route53:".
func LookupAction(name string) (Action, bool) {
	prefix := Service
	if p, rest, ok := strings.Cut(name, ":"); ok {
		prefix, name = p, rest
	}
	for i := range actions {
		if strings.EqualFold(actions[i].Prefix, prefix) && strings.EqualFold(actions[i].Name, name) {
			return Action{i: int8(i + 1)}, true
		}
	}
	return Action{}, false
}

// Valid reports whether a is an action (not the zero value).
func (a Action) Valid() bool { return a.i > 0 }

// Info returns the action's row of the reference table.
func (a Action) Info() ActionInfo { return actions[a.i-1] }

// String is the action as policies name it: "servicediscovery:Name" or
// "route53:Name".
func (a Action) String() string {
	if !a.Valid() {
		return ""
	}
	return actions[a.i-1].Prefix + ":" + actions[a.i-1].Name
}

func (a Action) bit() actionSet { return 1 << (a.i - 1) }

// AllActions lists every Cloud Map action, in the reference's order.
func AllActions() []Action { return actionsOf(Service) }

// Route53Actions lists the Route 53 reads cairn serves, in the
// reference's order.
func Route53Actions() []Action { return actionsOf(Route53Service) }

func actionsOf(prefix string) []Action {
	var out []Action
	for i := range actions {
		if actions[i].Prefix == prefix {
			out = append(out, Action{i: int8(i + 1)})
		}
	}
	return out
}
