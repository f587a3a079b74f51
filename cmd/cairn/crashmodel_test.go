//go:build unix

package main

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

// The crash test's model of what the server holds.

const (
	crashServices = 2  // services in the namespace
	crashShards   = 16 // values of the "shard" attribute, to discover in slices of < 1000
	registrars    = 32 // goroutines registering
	deregistrars  = 4  // goroutines deregistering
)

type instState int

const (
	stPresent       instState = iota // acknowledged registered
	stAbsent                         // acknowledged deregistered
	stRegistering                    // RegisterInstance sent, not acknowledged
	stDeregistering                  // DeregisterInstance sent, not acknowledged
)

type instRec struct {
	svc   int
	state instState
	// attrs are the attributes of the last acknowledged registration;
	// next those of an unacknowledged one.
	attrs, next map[string]string
	wasPresent  bool // stRegistering: the instance was present before
}

type opInfo struct {
	typ  types.OperationType
	inst string
}

type model struct {
	mu    sync.Mutex
	insts map[string]*instRec
	ops   map[string]opInfo // operations known to the test: acknowledged or seen listed
}

func (m *model) count(st instState) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.insts {
		if r.state == st {
			n++
		}
	}
	return n
}

// crashEnv is the test's fixture: the namespace and services.
type crashEnv struct {
	nsID, nsName string
	svcIDs       []string
	svcNames     []string
}

func instAttrs(id string, cycle, gen int) map[string]string {
	h := 0
	for _, c := range id {
		h = h*31 + int(c)
	}
	h &= 0x7fffffff
	return map[string]string{
		"AWS_INSTANCE_IPV4": fmt.Sprintf("10.%d.%d.%d", h%256, h/256%256, h/65536%254+1),
		"AWS_INSTANCE_PORT": strconv.Itoa(1024 + h%50000),
		"shard":             strconv.Itoa(h % crashShards),
		"cycle":             strconv.Itoa(cycle),
		"gen":               strconv.Itoa(gen),
		"id":                id,
	}
}
