package registry

import (
	"encoding/json"
	"fmt"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// The records below are what the registry keeps in the store, as JSON.
// Times are epoch milliseconds.

// scope is the account and region a resource belongs to.
type scope struct {
	Account string `json:"a"`
	Region  string `json:"r"`
}

func (s scope) String() string { return s.Account + "/" + s.Region }

type nsRecord struct {
	scope
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	HTTPName         string         `json:"httpName"`
	Type             string         `json:"type"`
	Description      string         `json:"desc,omitempty"`
	CreatorRequestID string         `json:"crid,omitempty"`
	Vpc              string         `json:"vpc,omitempty"`
	SOATTL           *int64         `json:"soaTTL,omitempty"`
	HostedZoneID     string         `json:"zone,omitempty"`
	CreateDate       int64          `json:"created"`
	ServiceCount     int            `json:"services"`
	Tags             []cloudmap.Tag `json:"tags,omitempty"`
	// SharedWith lists the accounts the namespace is shared with.
	SharedWith []string `json:"shared,omitempty"`
}

func (n *nsRecord) isDNS() bool { return n.Type != cloudmap.NamespaceTypeHttp }

// sharedWith reports whether the namespace is shared with account.
func (n *nsRecord) sharedWith(account string) bool {
	for _, a := range n.SharedWith {
		if a == account {
			return true
		}
	}
	return false
}

type svcRecord struct {
	scope
	ID                      string                            `json:"id"`
	NamespaceID             string                            `json:"ns"`
	Name                    string                            `json:"name"`
	Type                    string                            `json:"type"`
	Description             string                            `json:"desc,omitempty"`
	CreatorRequestID        string                            `json:"crid,omitempty"`
	DNSConfig               *cloudmap.DnsConfig               `json:"dns,omitempty"`
	HealthCheckConfig       *cloudmap.HealthCheckConfig       `json:"hc,omitempty"`
	HealthCheckCustomConfig *cloudmap.HealthCheckCustomConfig `json:"hcc,omitempty"`
	CreateDate              int64                             `json:"created"`
	// Revision is the floor of the service's InstancesRevision (see
	// view.instancesRevision): set at creation, raised when operations
	// expire and by `cairn migrate`. Instance writes never write it.
	Revision   int64             `json:"rev"`
	Attributes map[string]string `json:"attrs,omitempty"`
	Tags       []cloudmap.Tag    `json:"tags,omitempty"`
	// HealthGen counts the replacements of the HealthCheckConfig: an
	// instance's Probe status counts only if measured under the current
	// one (instRecord.ProbeGen), so that replacing a check need not
	// rewrite every instance (one etcd transaction could not hold them).
	HealthGen int64 `json:"hcGen,omitempty"`
	// CreatedBy is the account that created the service: the namespace's
	// owner, or an account the namespace is shared with. Empty means the
	// owner.
	CreatedBy string `json:"by,omitempty"`
}

func (s *svcRecord) creator() string {
	if s.CreatedBy != "" {
		return s.CreatedBy
	}
	return s.Account
}

type instRecord struct {
	ServiceID        string            `json:"svc"`
	ID               string            `json:"id"`
	CreatorRequestID string            `json:"crid,omitempty"`
	CreatedBy        string            `json:"by"`
	Attributes       map[string]string `json:"attrs"`
	// Custom is the custom health status (HEALTHY or UNHEALTHY) for
	// services with HealthCheckCustomConfig; empty otherwise.
	Custom string `json:"custom,omitempty"`
	// CustomPending is a custom status that takes effect at CustomAt
	// (epoch ms), when custom health changes are delayed as on AWS.
	CustomPending string `json:"customPending,omitempty"`
	CustomAt      int64  `json:"customAt,omitempty"`
	// Probe is the status the Route 53-style health check last settled
	// on (HEALTHY or UNHEALTHY); empty until it has one.
	Probe string `json:"probe,omitempty"`
	// Forced is a health status forced by a fault (cairn fault add
	// --health) until ForcedUntil (epoch ms), whatever the checks say.
	Forced      string `json:"forced,omitempty"`
	ForcedUntil int64  `json:"forcedUntil,omitempty"`
	// ProbeGen is the service's HealthGen when Probe was recorded.
	ProbeGen int64 `json:"probeGen,omitempty"`
}

// opRecord is an asynchronous operation and the work it carries.
type opRecord struct {
	scope
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Status       string            `json:"status"`
	ErrorCode    string            `json:"errCode,omitempty"`
	ErrorMessage string            `json:"errMsg,omitempty"`
	CreateDate   int64             `json:"created"`
	UpdateDate   int64             `json:"updated"`
	Targets      map[string]string `json:"targets"`
	// Lock is the key that marks the target busy while the operation is
	// in flight; IdemKey the idempotency record to drop with the operation.
	Lock string `json:"lock,omitempty"`
	// Requester is the account that started the operation when it is not
	// the resource's owner (an account the namespace is shared with).
	Requester string `json:"req,omitempty"`
	IdemKey   string `json:"idem,omitempty"`
	// Work is what the operation does when it runs.
	Work *opWork `json:"work,omitempty"`
}

func (o *opRecord) done() bool {
	return o.Status == cloudmap.OperationStatusSuccess || o.Status == cloudmap.OperationStatusFail
}

// changesInstances reports whether the operation registered or
// deregistered an instance: one that ended in SUCCESS.
func (o *opRecord) changesInstances() bool {
	return o.Status == cloudmap.OperationStatusSuccess &&
		(o.Type == cloudmap.OperationTypeRegisterInstance || o.Type == cloudmap.OperationTypeDeregisterInstance)
}

// opWork holds the payload of each operation type; one field is set.
type opWork struct {
	Namespace   *nsRecord   `json:"ns,omitempty"`   // CREATE_NAMESPACE
	NamespaceID string      `json:"nsID,omitempty"` // DELETE/UPDATE_NAMESPACE
	Description *string     `json:"desc,omitempty"` // UPDATE_NAMESPACE, UPDATE_SERVICE
	SOATTL      *int64      `json:"soaTTL,omitempty"`
	ServiceID   string      `json:"svcID,omitempty"` // UPDATE_SERVICE, instance ops
	Service     *svcChange  `json:"svc,omitempty"`   // UPDATE_SERVICE
	Instance    *instRecord `json:"inst,omitempty"`  // REGISTER_INSTANCE
	InstanceID  string      `json:"instID,omitempty"`
}

// svcChange is the validated effect of UpdateService.
type svcChange struct {
	Description       *string                     `json:"desc,omitempty"`
	DNSRecords        []cloudmap.DnsRecord        `json:"records,omitempty"`
	HealthCheckConfig *cloudmap.HealthCheckConfig `json:"hc,omitempty"`
}

// idemRecord remembers an idempotency token: the fingerprint of the request
// that first used it and what that request produced.
type idemRecord struct {
	Fingerprint string `json:"fp"`
	OperationID string `json:"op,omitempty"`
	ResourceID  string `json:"res,omitempty"`
}

func encode(v any) []byte {
	switch r := v.(type) {
	case *opRecord:
		if r.Work == nil {
			return appendOpRecord(make([]byte, 0, 512), r)
		}
	case *idemRecord:
		return appendIdemRecord(make([]byte, 0, 160), r)
	case *instRecord:
		return appendInstRecord(make([]byte, 0, 256), r)
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Records hold only strings, numbers, maps and slices.
		panic(fmt.Sprintf("registry: encode %T: %v", v, err))
	}
	return b
}

func decode[T any](b []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("registry: decode %T: %w", v, err)
	}
	return v, nil
}
