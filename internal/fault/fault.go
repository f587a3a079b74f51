// Package fault keeps the faults a test injects into a running cairn:
// errors and added latency on Cloud Map operations, and DNS failures per
// name. Each fault belongs to the account that added it; a fault matches
// a request by operation (and optionally service and namespace ID),
// fires with a probability, and may fire a limited number of times.
//
// The API edge and the DNS server ask the Set on every request; with no
// fault the answer costs one atomic load.
package fault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// Fault is one injected fault.
type Fault struct {
	// Id names the fault (set by Add).
	Id string `json:"Id,omitempty" yaml:"Id"`
	// Account is the account whose requests it affects (set by Add).
	Account string `json:"Account,omitempty" yaml:"Account"`
	// Operation is a Cloud Map operation name (DiscoverInstances…), or
	// empty for a DNS fault.
	Operation string `json:"Operation,omitempty" yaml:"Operation"`
	// Error is the error the operation answers: one of its modeled errors,
	// or ThrottlingException, ServiceUnavailable or InternalFailure. Empty
	// adds only Latency.
	Error string `json:"Error,omitempty" yaml:"Error"`
	// Latency is added before the answer (Go duration: 250ms, 2s).
	Latency string `json:"Latency,omitempty" yaml:"Latency"`
	// Probability is the chance the fault fires on a matching request,
	// 0 < p ≤ 1; 0 means 1.
	Probability float64 `json:"Probability,omitempty" yaml:"Probability"`
	// Count is how many times it fires before it is removed; 0 is
	// without end.
	Count int `json:"Count,omitempty" yaml:"Count"`
	// ServiceId and NamespaceId limit it to requests naming that service
	// or namespace (ServiceId, NamespaceId, or Id of the Get, Update and
	// Delete operations).
	ServiceId   string `json:"ServiceId,omitempty" yaml:"ServiceId"`
	NamespaceId string `json:"NamespaceId,omitempty" yaml:"NamespaceId"`
	// DNSName and DNS make a DNS fault: queries for the name (and names
	// under it) get SERVFAIL, no answer at all (NOANSWER, the client times
	// out), or their answer after Latency (DELAY).
	DNSName string `json:"DNSName,omitempty" yaml:"DNSName"`
	DNS     string `json:"DNS,omitempty" yaml:"DNS"`
}

// active is a fault in a Set.
type active struct {
	Fault
	latency time.Duration
	left    atomic.Int64 // fires left when Count > 0
}

// DNS actions.
const (
	DNSServFail = "SERVFAIL"
	DNSNoAnswer = "NOANSWER"
	DNSDelay    = "DELAY"
)

// Error statuses of the errors that are not modeled per operation.
var commonErrors = map[string]int{"ThrottlingException": 400, "ServiceUnavailable": 503, "InternalFailure": 500}

// Set holds the faults of a server.
type Set struct {
	modeled map[string][]string // operation → its modeled errors
	mu      sync.Mutex
	faults  atomic.Pointer[[]*active] // replaced whole on each change
	next    int
}

// NewSet returns an empty Set.
func NewSet() *Set {
	s := &Set{modeled: cloudmap.OperationErrors()}
	s.faults.Store(&[]*active{})
	return s
}

// Add checks f and adds it for account; it returns the fault's ID.
func (s *Set) Add(account string, f Fault) (string, error) {
	f.Account = account
	nf := &active{Fault: f}
	if err := s.check(nf); err != nil {
		return "", err
	}
	nf.left.Store(int64(f.Count))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	nf.Id = "fault-" + strconv.Itoa(s.next)
	list := append(slices.Clone(*s.faults.Load()), nf)
	s.faults.Store(&list)
	return nf.Id, nil
}

func (s *Set) check(f *active) error {
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil || d < 0 || d > 5*time.Minute {
			return fmt.Errorf("the latency %q is not a duration between 0 and 5m, such as 250ms", f.Latency)
		}
		f.latency = d
	}
	if f.Probability < 0 || f.Probability > 1 {
		return fmt.Errorf("the probability %v is not between 0 and 1", f.Probability)
	}
	if f.Count < 0 {
		return fmt.Errorf("the count %d is negative", f.Count)
	}
	if f.DNSName != "" || f.DNS != "" {
		if f.Operation != "" || f.Error != "" || f.ServiceId != "" || f.NamespaceId != "" {
			return errors.New("a DNS fault names a DNS name and action, not an operation, error, service or namespace")
		}
		f.DNS = strings.ToUpper(f.DNS)
		if f.DNSName == "" {
			return errors.New("a DNS fault needs the DNS name it affects")
		}
		switch f.DNS {
		case DNSServFail, DNSNoAnswer:
		case DNSDelay:
			if f.latency == 0 {
				return errors.New("a DELAY DNS fault needs a latency")
			}
		default:
			return fmt.Errorf("the DNS fault %q is not SERVFAIL, NOANSWER or DELAY", f.DNS)
		}
		f.DNSName = strings.ToLower(strings.TrimSuffix(f.DNSName, "."))
		return nil
	}
	errs, ok := s.modeled[f.Operation]
	if !ok {
		return fmt.Errorf("%q is not a Cloud Map operation", f.Operation)
	}
	if f.Error == "" && f.latency == 0 {
		return errors.New("a fault needs an error, a latency, or both")
	}
	if f.Error != "" && !slices.Contains(errs, f.Error) && commonErrors[f.Error] == 0 {
		return fmt.Errorf("%s can't answer %q: its errors are %s, and ThrottlingException, ServiceUnavailable and InternalFailure",
			f.Operation, f.Error, strings.Join(errs, ", "))
	}
	return nil
}

// Active reports whether the Set holds any fault.
func (s *Set) Active() bool { return len(*s.faults.Load()) > 0 }

// List returns the faults of account that are still active.
func (s *Set) List(account string) []Fault {
	var out []Fault
	for _, f := range *s.faults.Load() {
		if f.Account == account {
			c := f.Fault
			if f.Count > 0 {
				c.Count = int(f.left.Load())
			}
			out = append(out, c)
		}
	}
	return out
}

// Clear removes the faults of account (every account when empty); with
// id, only that one. It returns how many it removed.
func (s *Set) Clear(account, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.faults.Load()
	list := slices.DeleteFunc(slices.Clone(old), func(f *active) bool {
		return (account == "" || f.Account == account) && (id == "" || f.Id == id)
	})
	s.faults.Store(&list)
	return len(old) - len(list)
}

// Hit is what a fault does to a request.
type Hit struct {
	Latency time.Duration
	Error   string // "" for latency alone
	Status  int    // the HTTP status of Error
}

// Request names what a request concerns, for matching.
type Request struct {
	Account, Operation, ServiceID, NamespaceID string
}

// Match returns what the faults of the request's account do to it; ok is
// false when none fires. Latencies of several firing faults add up; the
// first error wins.
func (s *Set) Match(r Request) (h Hit, ok bool) {
	list := *s.faults.Load()
	if len(list) == 0 {
		return h, false
	}
	for _, f := range list {
		if f.DNSName != "" || f.Account != r.Account || f.Operation != r.Operation ||
			f.ServiceId != "" && f.ServiceId != r.ServiceID || f.NamespaceId != "" && f.NamespaceId != r.NamespaceID {
			continue
		}
		if !s.fire(f) {
			continue
		}
		ok = true
		h.Latency += f.latency
		if h.Error == "" && f.Error != "" {
			h.Error, h.Status = f.Error, 400
			if st := commonErrors[f.Error]; st != 0 {
				h.Status = st
			}
		}
	}
	return h, ok
}

// DNS returns the DNS fault that fires for a query of name (lower-case,
// without the final dot), or ok false.
func (s *Set) DNS(name string) (action string, delay time.Duration, ok bool) {
	list := *s.faults.Load()
	if len(list) == 0 {
		return "", 0, false
	}
	for _, f := range list {
		if f.DNSName == "" || !(name == f.DNSName || strings.HasSuffix(name, "."+f.DNSName)) || !s.fire(f) {
			continue
		}
		return f.DNS, f.latency, true
	}
	return "", 0, false
}

// fire decides whether f fires now, counting it down and removing it
// once its count is spent.
func (s *Set) fire(f *active) bool {
	if f.Probability > 0 && f.Probability < 1 && rand.Float64() >= f.Probability {
		return false
	}
	if f.Count == 0 {
		return true
	}
	left := f.left.Add(-1)
	if left < 0 {
		return false
	}
	if left == 0 {
		s.Clear(f.Account, f.Id)
	}
	return true
}
