package api

import (
	"context"

	"github.com/cairn-dev/cairn/internal/registry"
)

// operations maps each operation name to its handler.
func operations(r *registry.Registry) map[string]operation {
	return map[string]operation{
		"CreateHttpNamespace":              handle(r.CreateHttpNamespace),
		"CreatePrivateDnsNamespace":        handle(r.CreatePrivateDnsNamespace),
		"CreatePublicDnsNamespace":         handle(r.CreatePublicDnsNamespace),
		"CreateService":                    handle(r.CreateService),
		"DeleteNamespace":                  handle(r.DeleteNamespace),
		"DeleteService":                    handle(r.DeleteService),
		"DeleteServiceAttributes":          handle(r.DeleteServiceAttributes),
		"DeregisterInstance":               handle(r.DeregisterInstance),
		"DiscoverInstances":                handle(r.DiscoverInstances),
		"DiscoverInstancesRevision":        handle(r.DiscoverInstancesRevision),
		"GetInstance":                      handle(r.GetInstance),
		"GetInstancesHealthStatus":         handle(r.GetInstancesHealthStatus),
		"GetNamespace":                     handle(r.GetNamespace),
		"GetOperation":                     handle(r.GetOperation),
		"GetService":                       handle(r.GetService),
		"GetServiceAttributes":             handle(r.GetServiceAttributes),
		"ListInstances":                    handle(r.ListInstances),
		"ListNamespaces":                   handle(r.ListNamespaces),
		"ListOperations":                   handle(r.ListOperations),
		"ListServices":                     handle(r.ListServices),
		"ListTagsForResource":              handle(r.ListTagsForResource),
		"RegisterInstance":                 handle(r.RegisterInstance),
		"TagResource":                      handle(r.TagResource),
		"UntagResource":                    handle(r.UntagResource),
		"UpdateHttpNamespace":              handle(r.UpdateHttpNamespace),
		"UpdateInstanceCustomHealthStatus": handle(noOutput(r.UpdateInstanceCustomHealthStatus)),
		"UpdatePrivateDnsNamespace":        handle(r.UpdatePrivateDnsNamespace),
		"UpdatePublicDnsNamespace":         handle(r.UpdatePublicDnsNamespace),
		"UpdateService":                    handle(r.UpdateService),
		"UpdateServiceAttributes":          handle(r.UpdateServiceAttributes),
	}
}

// empty is the body of an operation without output: "{}".
type empty struct{}

func noOutput[In any](fn func(context.Context, registry.Caller, *In) error) func(context.Context, registry.Caller, *In) (*empty, error) {
	return func(ctx context.Context, c registry.Caller, in *In) (*empty, error) {
		return &empty{}, fn(ctx, c, in)
	}
}
