package registry

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// State is what `cairn export` writes and `cairn import` and `cairn serve
// --init` read: an account's namespaces, services and instances, with
// their tags, attributes and custom health statuses. Member names are the
// API's.
type State struct {
	Namespaces []NamespaceState `json:"Namespaces"`
}

// NamespaceState is one namespace of a State.
type NamespaceState struct {
	// Id, when given, is the namespace's ID ("ns-" and 16 characters of
	// a-z and 2-7, as AWS makes them), so that tests can hard-code it.
	Id string `json:"Id,omitempty"`
	// Region defaults to the caller's region (the server's --region at
	// start).
	Region      string `json:"Region,omitempty"`
	Name        string `json:"Name"`
	Type        string `json:"Type"` // HTTP, DNS_PRIVATE or DNS_PUBLIC
	Description string `json:"Description,omitempty"`
	// Vpc is the VPC of a DNS_PRIVATE namespace.
	Vpc      string         `json:"Vpc,omitempty"`
	SOATTL   *int64         `json:"SOATTL,omitempty"`
	Tags     []cloudmap.Tag `json:"Tags,omitempty"`
	Services []ServiceState `json:"Services,omitempty"`
	Pos      string         `json:"-"` // where it is in its file, for errors
}

// ServiceState is one service of a NamespaceState.
type ServiceState struct {
	Id          string `json:"Id,omitempty"` // "srv-" and 16 characters of a-z and 2-7
	Name        string `json:"Name"`
	Description string `json:"Description,omitempty"`
	// Type "HTTP" makes a service of a DNS namespace discoverable by API
	// calls only.
	Type                    string                            `json:"Type,omitempty"`
	DnsConfig               *cloudmap.DnsConfig               `json:"DnsConfig,omitempty"`
	HealthCheckConfig       *cloudmap.HealthCheckConfig       `json:"HealthCheckConfig,omitempty"`
	HealthCheckCustomConfig *cloudmap.HealthCheckCustomConfig `json:"HealthCheckCustomConfig,omitempty"`
	Attributes              map[string]string                 `json:"Attributes,omitempty"`
	Tags                    []cloudmap.Tag                    `json:"Tags,omitempty"`
	Instances               []InstanceState                   `json:"Instances,omitempty"`
	Pos                     string                            `json:"-"`
}

// InstanceState is one instance of a ServiceState.
type InstanceState struct {
	Id         string            `json:"Id"`
	Attributes map[string]string `json:"Attributes"`
	// HealthStatus is the custom health status (HEALTHY or UNHEALTHY) of
	// an instance of a service with HealthCheckCustomConfig.
	HealthStatus string `json:"HealthStatus,omitempty"`
	Pos          string `json:"-"`
}

// Export returns everything of account, in every region, as a State:
// namespaces by region and name, services by name, instances by ID.
func (r *Registry) Export(account string) *State {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	nowMS := time.Now().UnixMilli()
	st := &State{Namespaces: []NamespaceState{}}
	for _, ns := range v.namespaces {
		if ns.rec.Account != account {
			continue
		}
		n := NamespaceState{Id: ns.rec.ID, Region: ns.rec.Region, Name: ns.rec.Name, Type: ns.rec.Type, Description: ns.rec.Description,
			Vpc: ns.rec.Vpc, SOATTL: ns.rec.SOATTL, Tags: ns.rec.Tags}
		for _, svc := range ns.byName {
			s := ServiceState{Id: svc.rec.ID, Name: svc.rec.Name, Description: svc.rec.Description, HealthCheckConfig: svc.rec.HealthCheckConfig,
				HealthCheckCustomConfig: svc.rec.HealthCheckCustomConfig, Attributes: svc.rec.Attributes, Tags: svc.rec.Tags}
			if dc := svc.rec.DNSConfig; dc != nil {
				c := *dc
				c.NamespaceId = ""
				s.DnsConfig = &c
			} else if ns.rec.isDNS() {
				s.Type = cloudmap.ServiceTypeHttp
			}
			for _, inst := range svc.list {
				i := InstanceState{Id: inst.id, Attributes: inst.attrMap()}
				if svc.rec.HealthCheckCustomConfig != nil {
					i.HealthStatus = inst.customStatus(nowMS)
				}
				s.Instances = append(s.Instances, i)
			}
			slices.SortFunc(s.Instances, func(a, b InstanceState) int { return strings.Compare(a.Id, b.Id) })
			n.Services = append(n.Services, s)
		}
		slices.SortFunc(n.Services, func(a, b ServiceState) int { return strings.Compare(a.Name, b.Name) })
		st.Namespaces = append(st.Namespaces, n)
	}
	slices.SortFunc(st.Namespaces, func(a, b NamespaceState) int {
		return strings.Compare(a.Region+"/"+a.Name+"/"+a.Id, b.Region+"/"+b.Name+"/"+b.Id)
	})
	return st
}

// ImportError is why an import stopped: the element of the State at
// fault (its Pos, when it came from a file) and the error.
type ImportError struct {
	Pos  string // "line 3, column 5", or ""
	What string // `namespace "shop"`, `service "cart" of namespace "shop"`, …
	// Path is the element's place in the State, as member names and
	// indexes (`Namespaces[0].Services[1]`): a client that sent the State
	// finds in it where the element was in its own file.
	Path string
	Err  error
}

func (e *ImportError) Error() string {
	if e.Pos != "" {
		return e.Pos + ": " + e.What + ": " + e.Err.Error()
	}
	return e.What + ": " + e.Err.Error()
}

func (e *ImportError) Unwrap() error { return e.Err }

// Import creates what st describes in account, idempotently: a namespace,
// service or instance that exists already (by ID when the State gives one,
// otherwise by name, or by instance ID) is left as it is, so importing the
// same State twice changes nothing. Everything goes through the same
// rules as API calls. Region is the region of namespaces that name none.
// It stops at the first error, an *ImportError; what was created before
// it stays.
func (r *Registry) Import(ctx context.Context, account, region string, st *State) error {
	for i := range st.Namespaces {
		n := &st.Namespaces[i]
		c := Caller{Account: account, Region: region}
		if n.Region != "" {
			c.Region = n.Region
		}
		what := fmt.Sprintf("namespace %q", n.Name)
		nsID, err := r.importNamespace(ctx, c, n)
		if err != nil {
			return &ImportError{Pos: n.Pos, What: what, Path: fmt.Sprintf("Namespaces[%d]", i), Err: err}
		}
		for j := range n.Services {
			s := &n.Services[j]
			what := fmt.Sprintf("service %q of namespace %q", s.Name, n.Name)
			svcID, err := r.importService(ctx, c, nsID, s)
			if err != nil {
				return &ImportError{Pos: s.Pos, What: what, Path: fmt.Sprintf("Namespaces[%d].Services[%d]", i, j), Err: err}
			}
			for k := range s.Instances {
				in := &s.Instances[k]
				if err := r.importInstance(ctx, c, svcID, in); err != nil {
					return &ImportError{Pos: in.Pos, What: fmt.Sprintf("instance %q of service %q", in.Id, s.Name),
						Path: fmt.Sprintf("Namespaces[%d].Services[%d].Instances[%d]", i, j, k), Err: err}
				}
			}
		}
	}
	return nil
}

var (
	namespaceIDRe = regexp.MustCompile(`^ns-[a-z2-7]{16}$`)
	serviceIDRe   = regexp.MustCompile(`^srv-[a-z2-7]{16}$`)
)

func (r *Registry) importNamespace(ctx context.Context, c Caller, n *NamespaceState) (string, error) {
	if n.Id != "" && !namespaceIDRe.MatchString(n.Id) {
		return "", invalid("The namespace ID %q is not \"ns-\" and 16 characters of a-z and 2-7, as AWS makes them", n.Id)
	}
	if id, err := r.existingNamespace(c, n); id != "" || err != nil {
		return id, err
	}
	ctx = withChosenID(ctx, n.Id)
	var opID string
	var err error
	var soa *cloudmap.SOA
	if n.SOATTL != nil {
		soa = &cloudmap.SOA{TTL: n.SOATTL}
	}
	switch n.Type {
	case cloudmap.NamespaceTypeHttp:
		var out *cloudmap.CreateHttpNamespaceResponse
		out, err = r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: n.Name, Description: n.Description, Tags: n.Tags})
		if out != nil {
			opID = out.OperationId
		}
	case cloudmap.NamespaceTypeDnsPrivate:
		in := &cloudmap.CreatePrivateDnsNamespaceRequest{Name: n.Name, Description: n.Description, Vpc: n.Vpc, Tags: n.Tags}
		if soa != nil {
			in.Properties = &cloudmap.PrivateDnsNamespaceProperties{DnsProperties: &cloudmap.PrivateDnsPropertiesMutable{SOA: soa}}
		}
		var out *cloudmap.CreatePrivateDnsNamespaceResponse
		out, err = r.CreatePrivateDnsNamespace(ctx, c, in)
		if out != nil {
			opID = out.OperationId
		}
	case cloudmap.NamespaceTypeDnsPublic:
		in := &cloudmap.CreatePublicDnsNamespaceRequest{Name: n.Name, Description: n.Description, Tags: n.Tags}
		if soa != nil {
			in.Properties = &cloudmap.PublicDnsNamespaceProperties{DnsProperties: &cloudmap.PublicDnsPropertiesMutable{SOA: soa}}
		}
		var out *cloudmap.CreatePublicDnsNamespaceResponse
		out, err = r.CreatePublicDnsNamespace(ctx, c, in)
		if out != nil {
			opID = out.OperationId
		}
	default:
		return "", invalid("The namespace type %q is not HTTP, DNS_PRIVATE or DNS_PUBLIC", n.Type)
	}
	if err != nil {
		return "", err
	}
	op, err := r.awaitOperation(ctx, c, opID)
	if err != nil {
		return "", err
	}
	return op.Targets[cloudmap.OperationTargetTypeNamespace], nil
}

// existingNamespace finds the namespace n names in c's scope: by ID when
// it gives one, otherwise by name and type.
func (r *Registry) existingNamespace(c Caller, n *NamespaceState) (string, error) {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	if n.Id != "" {
		ns := v.namespaces[n.Id]
		if ns == nil {
			return "", nil
		}
		if ns.rec.scope != c.scope() {
			return "", invalid("The namespace ID %s is taken by a namespace of another account or region", n.Id)
		}
		return ns.rec.ID, nil
	}
	for _, ns := range v.namespaces {
		if ns.rec.scope == c.scope() && ns.rec.Name == strings.TrimSuffix(n.Name, ".") && ns.rec.Type == n.Type {
			return ns.rec.ID, nil
		}
	}
	return "", nil
}

func (r *Registry) importService(ctx context.Context, c Caller, nsID string, s *ServiceState) (string, error) {
	if s.Id != "" && !serviceIDRe.MatchString(s.Id) {
		return "", invalid("The service ID %q is not \"srv-\" and 16 characters of a-z and 2-7, as AWS makes them", s.Id)
	}
	v := r.currentView()
	v.mu.RLock()
	existing := ""
	if s.Id != "" {
		if svc := v.services[s.Id]; svc != nil {
			if svc.rec.NamespaceID != nsID {
				v.mu.RUnlock()
				return "", invalid("The service ID %s is taken by a service of another namespace", s.Id)
			}
			existing = s.Id
		}
	} else if ns := v.namespaces[nsID]; ns != nil {
		if svc := ns.byName[s.Name]; svc != nil {
			existing = svc.rec.ID
		}
	}
	v.mu.RUnlock()
	if existing != "" {
		return existing, nil
	}
	out, err := r.CreateService(withChosenID(ctx, s.Id), c, &cloudmap.CreateServiceRequest{Name: s.Name, NamespaceId: nsID, Description: s.Description,
		Type: s.Type, DnsConfig: s.DnsConfig, HealthCheckConfig: s.HealthCheckConfig, HealthCheckCustomConfig: s.HealthCheckCustomConfig, Tags: s.Tags})
	if err != nil {
		return "", err
	}
	if len(s.Attributes) > 0 {
		if _, err := r.UpdateServiceAttributes(ctx, c, &cloudmap.UpdateServiceAttributesRequest{ServiceId: out.Service.Id, Attributes: s.Attributes}); err != nil {
			return "", err
		}
	}
	return out.Service.Id, nil
}

func (r *Registry) importInstance(ctx context.Context, c Caller, svcID string, in *InstanceState) error {
	v := r.currentView()
	v.mu.RLock()
	exists := false
	if svc := v.services[svcID]; svc != nil {
		_, exists = svc.instances[in.Id]
	}
	v.mu.RUnlock()
	if exists {
		return nil
	}
	attrs := in.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	out, err := r.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svcID, InstanceId: in.Id, Attributes: attrs})
	if err != nil {
		return err
	}
	if _, err := r.awaitOperation(ctx, c, out.OperationId); err != nil {
		return err
	}
	if in.HealthStatus != "" {
		if err := r.UpdateInstanceCustomHealthStatus(ctx, c, &cloudmap.UpdateInstanceCustomHealthStatusRequest{
			ServiceId: svcID, InstanceId: in.Id, Status: in.HealthStatus}); err != nil {
			return err
		}
	}
	return nil
}

// awaitOperation waits until an operation ends and returns it; an
// operation that ends FAIL is an error with its message.
func (r *Registry) awaitOperation(ctx context.Context, c Caller, id string) (*cloudmap.Operation, error) {
	for {
		changed := r.Changed()
		out, err := r.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: id})
		if err != nil {
			return nil, err
		}
		switch out.Operation.Status {
		case cloudmap.OperationStatusSuccess:
			return out.Operation, nil
		case cloudmap.OperationStatusFail:
			return nil, invalid("%s: %s", out.Operation.ErrorCode, out.Operation.ErrorMessage)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

type chosenIDKey struct{}

// withChosenID makes the namespace or service that a create called with
// ctx makes take id rather than a random one ("" keeps the random one).
func withChosenID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, chosenIDKey{}, id)
}

// chosenID returns the ID ctx chose (see withChosenID) if it is free, or
// a new one from gen.
func chosenID(ctx context.Context, tx store.Tx, key func(string) string, gen func() string) (string, error) {
	id, _ := ctx.Value(chosenIDKey{}).(string)
	if id == "" {
		return gen(), nil
	}
	if _, taken, err := tx.Get(key(id)); err != nil {
		return "", err
	} else if taken {
		return "", invalid("The ID %s is taken", id)
	}
	return id, nil
}
