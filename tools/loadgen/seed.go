package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Plan is what a run seeds and what its workloads ask for. Names are
// derived from Prefix, so a second run with NoSeed finds the first run's
// data.
type Plan struct {
	Prefix     string
	Namespaces int // HTTP namespaces for discovery
	Services   int // per namespace
	Instances  int // per service
	// WriteServices is how many services of the namespace <prefix>-writes
	// the register workload spreads its instances over.
	WriteServices int
	// DNSInstances is how many instances answer the DNS workload's name
	// web.<prefix>-dns.test (0: no DNS namespace).
	DNSInstances int
	// Query is DiscoverInstances' QueryParameters; MaxResults its
	// MaxResults (0: omitted).
	Query      map[string]string
	MaxResults int
}

// DefaultPlan is the plan of `cairn-bench run` without seed flags:
// 10 namespaces × 5 services × 100 instances; discovery asks for the
// canary instances of a service (one in ten), at most 10.
func DefaultPlan() Plan {
	return Plan{Prefix: "bench", Namespaces: 10, Services: 5, Instances: 100, WriteServices: 8, DNSInstances: 8,
		Query: map[string]string{"stage": "canary"}, MaxResults: 10}
}

func (p Plan) nsName(i int) string  { return fmt.Sprintf("%s-ns-%03d", p.Prefix, i) }
func (p Plan) svcName(j int) string { return fmt.Sprintf("svc-%03d", j) }
func (p Plan) writeNS() string      { return p.Prefix + "-writes" }
func (p Plan) dnsNS() string        { return p.Prefix + "-dns.test" }

// DNSName is the name the DNS workload asks for.
func (p Plan) DNSName() string { return "web." + p.dnsNS() + "." }

// TotalInstances is how many instances the plan registers for discovery.
func (p Plan) TotalInstances() int { return p.Namespaces * p.Services * p.Instances }

func instanceID(k int) string { return fmt.Sprintf("i-%06d", k) }

// InstanceAttributes are the attributes of instance k of service j of
// namespace i: an address and port, and three labels (one instance in ten
// is a canary).
func InstanceAttributes(i, j, k int) map[string]string {
	stage := "prod"
	if k%10 == 0 {
		stage = "canary"
	}
	return map[string]string{
		"AWS_INSTANCE_IPV4": fmt.Sprintf("10.%d.%d.%d", i%256, (j*8+k/256)%256, k%256),
		"AWS_INSTANCE_PORT": "8080",
		"stage":             stage,
		"zone":              "us-east-1" + string(rune('a'+k%3)),
		"version":           "1.4.2",
	}
}

// AttributeBytes is the sum of the key and value lengths of an
// instance's attributes.
func AttributeBytes(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	return n
}

// Seeded is what the workloads need from a seeded endpoint.
type Seeded struct {
	// DiscoverBodies are one DiscoverInstances body per seeded service,
	// with their payload hashes.
	DiscoverBodies [][]byte
	DiscoverHashes []string
	// WriteServiceIDs are the services the register workload uses.
	WriteServiceIDs []string
	// DNSName is the name the DNS workload asks for ("" without DNS).
	DNSName string
}

// Bodies builds the DiscoverInstances bodies of every seeded service.
func (p Plan) Bodies() ([][]byte, []string) {
	var bodies [][]byte
	var hashes []string
	for i := range p.Namespaces {
		for j := range p.Services {
			in := map[string]any{"NamespaceName": p.nsName(i), "ServiceName": p.svcName(j)}
			if len(p.Query) > 0 {
				in["QueryParameters"] = p.Query
			}
			if p.MaxResults > 0 {
				in["MaxResults"] = p.MaxResults
			}
			b, _ := json.Marshal(in)
			bodies = append(bodies, b)
			hashes = append(hashes, PayloadHash(b))
		}
	}
	return bodies, hashes
}

// Seed creates (or, with create false, only finds) the plan's namespaces,
// services and instances on e, with conc concurrent registrations. It
// reports progress on log.
func Seed(ctx context.Context, e *Endpoint, p Plan, create bool, conc int, log io.Writer) (*Seeded, error) {
	s := &Seeded{}
	s.DiscoverBodies, s.DiscoverHashes = p.Bodies()
	started := time.Now()
	names := []string{p.writeNS()}
	for i := range p.Namespaces {
		names = append(names, p.nsName(i))
	}
	nsIDs, err := listNamespaces(ctx, e)
	if err != nil {
		return nil, err
	}
	if create {
		for _, n := range names {
			if _, ok := nsIDs[n]; ok {
				continue
			}
			var out struct{ OperationId string }
			if err := e.Call(ctx, "CreateHttpNamespace", map[string]any{"Name": n}, &out); err != nil {
				return nil, err
			}
			if err := waitOperation(ctx, e, out.OperationId); err != nil {
				return nil, fmt.Errorf("create namespace %s: %w", n, err)
			}
		}
		if p.DNSInstances > 0 {
			if _, ok := nsIDs[p.dnsNS()]; !ok {
				var out struct{ OperationId string }
				if err := e.Call(ctx, "CreatePrivateDnsNamespace", map[string]any{"Name": p.dnsNS(), "Vpc": "vpc-0cabe11be0c0ffee0"}, &out); err != nil {
					return nil, err
				}
				if err := waitOperation(ctx, e, out.OperationId); err != nil {
					return nil, fmt.Errorf("create namespace %s: %w", p.dnsNS(), err)
				}
			}
		}
		if nsIDs, err = listNamespaces(ctx, e); err != nil {
			return nil, err
		}
	}
	if p.DNSInstances > 0 {
		names = append(names, p.dnsNS())
	}
	for _, n := range names {
		if nsIDs[n] != "" {
			continue
		}
		// Reusing data (--no-seed), only the discovery namespaces are
		// needed: without the others, register and dns have nothing to
		// use and say so.
		if !create && (n == p.writeNS() || n == p.dnsNS()) {
			if n == p.writeNS() {
				p.WriteServices = 0
			} else {
				p.DNSInstances = 0
			}
			continue
		}
		return nil, fmt.Errorf("the namespace %s does not exist; run without --no-seed to create it", n)
	}
	type job struct {
		svcID string
		id    string
		attrs map[string]string
	}
	var jobs []job
	service := func(ns, name string, dns bool) (string, error) {
		ids, err := listServices(ctx, e, nsIDs[ns])
		if err != nil {
			return "", err
		}
		if id := ids[name]; id != "" || !create {
			if id == "" {
				return "", fmt.Errorf("the service %s of namespace %s does not exist; run without --no-seed to create it", name, ns)
			}
			return id, nil
		}
		in := map[string]any{"Name": name, "NamespaceId": nsIDs[ns]}
		if dns {
			in["DnsConfig"] = map[string]any{"RoutingPolicy": "MULTIVALUE", "DnsRecords": []map[string]any{{"Type": "A", "TTL": 60}}}
		}
		var out struct{ Service struct{ Id string } }
		if err := e.Call(ctx, "CreateService", in, &out); err != nil {
			return "", err
		}
		return out.Service.Id, nil
	}
	for i := range p.Namespaces {
		for j := range p.Services {
			id, err := service(p.nsName(i), p.svcName(j), false)
			if err != nil {
				return nil, err
			}
			for k := range p.Instances {
				jobs = append(jobs, job{svcID: id, id: instanceID(k), attrs: InstanceAttributes(i, j, k)})
			}
		}
	}
	for j := range p.WriteServices {
		id, err := service(p.writeNS(), p.svcName(j), false)
		if err != nil {
			return nil, err
		}
		s.WriteServiceIDs = append(s.WriteServiceIDs, id)
	}
	if p.DNSInstances > 0 {
		id, err := service(p.dnsNS(), "web", true)
		if err != nil {
			return nil, err
		}
		for k := range p.DNSInstances {
			jobs = append(jobs, job{svcID: id, id: instanceID(k), attrs: map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.53.0.%d", k+1)}})
		}
		s.DNSName = p.DNSName()
	}
	if !create {
		return s, nil
	}
	err = parallel(len(jobs), conc, time.Second, func(done, total int) {
		fmt.Fprintf(log, "seeding: %d/%d instances registered\n", done, total)
	}, func() func(n int) error {
		c := e.NewConn()
		return func(n int) error {
			j := jobs[n]
			body, _ := json.Marshal(map[string]any{"ServiceId": j.svcID, "InstanceId": j.id, "Attributes": j.attrs})
			var err error
			for try := 0; try < 5; try++ { // moto's server drops connections under load
				if _, err = c.Do(ctx, TargetPrefix+"RegisterInstance", body, PayloadHash(body)); err == nil || isAPIErr(err) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				return fmt.Errorf("register %s in %s: %w", j.id, j.svcID, err)
			}
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "seeding: %d instances in %d namespaces registered in %.1fs\n", len(jobs), len(names), time.Since(started).Seconds())
	return s, nil
}

// waitOperation polls an asynchronous operation until it succeeds.
func waitOperation(ctx context.Context, e *Endpoint, id string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var out struct {
			Operation struct{ Status, ErrorMessage string }
		}
		if err := e.Call(ctx, "GetOperation", map[string]any{"OperationId": id}, &out); err != nil {
			return err
		}
		switch out.Operation.Status {
		case "SUCCESS":
			return nil
		case "FAIL":
			return fmt.Errorf("operation %s failed: %s", id, out.Operation.ErrorMessage)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("operation %s still %s after 2 minutes", id, out.Operation.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func listNamespaces(ctx context.Context, e *Endpoint) (map[string]string, error) {
	ids := map[string]string{}
	token := ""
	for {
		in := map[string]any{}
		if token != "" {
			in["NextToken"] = token
		}
		var out struct {
			Namespaces []struct{ Id, Name string }
			NextToken  string
		}
		if err := e.Call(ctx, "ListNamespaces", in, &out); err != nil {
			return nil, err
		}
		for _, n := range out.Namespaces {
			ids[n.Name] = n.Id
		}
		if out.NextToken == "" {
			return ids, nil
		}
		token = out.NextToken
	}
}

// listServices lists the services of a namespace by name. (moto ignores
// the filter but sends NamespaceId, which is checked.)
func listServices(ctx context.Context, e *Endpoint, nsID string) (map[string]string, error) {
	ids := map[string]string{}
	token := ""
	for {
		in := map[string]any{"Filters": []map[string]any{{"Name": "NAMESPACE_ID", "Values": []string{nsID}, "Condition": "EQ"}}}
		if token != "" {
			in["NextToken"] = token
		}
		var out struct {
			Services  []struct{ Id, Name, NamespaceId string }
			NextToken string
		}
		if err := e.Call(ctx, "ListServices", in, &out); err != nil {
			return nil, err
		}
		for _, s := range out.Services {
			if s.NamespaceId == "" || s.NamespaceId == nsID {
				ids[s.Name] = s.Id
			}
		}
		if out.NextToken == "" {
			return ids, nil
		}
		token = out.NextToken
	}
}

// parallel runs job n for every n in [0, total) on conc workers, each
// worker's job func made by newWorker, and calls progress with how many
// are done every tick while they run (never after it returns: progress
// and the caller may share a writer). It stops at the first error and
// returns it.
func parallel(total, conc int, tick time.Duration, progress func(done, total int), newWorker func() func(n int) error) error {
	var next, done atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				progress(int(done.Load()), total)
			}
		}
	}()
	for range max(conc, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job := newWorker()
			for {
				n := int(next.Add(1) - 1)
				if n >= total {
					return
				}
				if err := job(n); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					next.Store(int64(total))
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-progressDone
	return firstErr
}
