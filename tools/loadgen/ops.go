package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// OpsResult is what "cairn-bench ops" measures: paging through every
// retained operation, and what paging costs other callers.
type OpsResult struct {
	Command string `json:"command"`
	// Operations is how many operations the account keeps.
	Operations int `json:"operations"`
	PageSize   int `json:"page_size"`
	// PageAll is how long one client took to page through every
	// operation, each pass (seconds).
	PageAll []float64 `json:"page_all_s"`
	// MemBefore and MemAfter are cairn's memory before seeding and after
	// (zero in-process): RssAnon holds the Go heap, with what the
	// collector has not yet reclaimed.
	MemBefore Mem `json:"mem_before"`
	MemAfter  Mem `json:"mem_after"`
	Pages     int `json:"pages"`
	// Alone is ListNamespaces by other clients with nothing else running;
	// Paged the same while Pagers clients page ListOperations; Busy the
	// same while as many clients call GetOperation (a read whose cost
	// does not grow with the operations kept) without pause: what any
	// Pagers clients in a loop cost the others on the same cores.
	Alone  Result `json:"list_namespaces_alone"`
	Paged  Result `json:"list_namespaces_while_paging"`
	Busy   Result `json:"list_namespaces_while_get_operation"`
	Pagers int    `json:"pagers"`
	// PagerCalls is how many ListOperations pages the pagers fetched per
	// second while Paged ran; BusyCalls how many GetOperation calls
	// while Busy ran.
	PagerCalls float64 `json:"pager_pages_per_s"`
	BusyCalls  float64 `json:"busy_calls_per_s"`
	// CPU is the CPU seconds cairn (when a process) and this tool used in
	// each measured phase: alone, paged and busy.
	CPU map[string]PhaseCPU `json:"cpu,omitempty"`
	// Ratio is Paged's p50 over Alone's (the target: at most 2);
	// BusyRatio Paged's over Busy's.
	Ratio     float64 `json:"p50_ratio"`
	BusyRatio float64 `json:"p50_ratio_to_busy"`
	Machine   Machine `json:"machine"`
}

const opsUsage = `cairn-bench ops: ListOperations at scale

Starts cairn (signature verification on, over HTTP on loopback), has one
account keep --ops operations (registrations and deregistrations of one
service), then measures: one client paging through all of them, --page a
page (--passes times); and other clients' ListNamespaces latency alone and
while --pagers clients page ListOperations without pause.

`

// opsCommand runs "cairn-bench ops".
func opsCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cairn-bench ops", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, opsUsage); fs.PrintDefaults() }
	n := fs.Int("ops", 20000, "operations the account keeps")
	page := fs.Int("page", 100, "ListOperations MaxResults")
	passes := fs.Int("passes", 3, "times one client pages through every operation")
	pagers := fs.Int("pagers", 8, "clients paging ListOperations while ListNamespaces is measured")
	clients := fs.Int("c", 4, "clients calling ListNamespaces")
	dur := fs.Duration("d", 10*time.Second, "measured duration of each ListNamespaces run")
	seedC := fs.Int("seed-c", 32, "concurrent writers while seeding")
	bin := fs.String("cairn-bin", "", "cairn binary to start (default: go build ./cmd/cairn)")
	inProcess := fs.Bool("cairn-in-process", false, "run cairn inside the tool instead of as a process")
	out := fs.String("out", "", "also write the results as JSON to this file")
	profDir := fs.String("profile-dir", "", "write CPU profiles of cairn (from its admin listener) and of this tool for each measured phase (alone, paged, busy) to this folder")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *n < 1 || *page < 1 || *page > 100 || *pagers < 0 || *clients < 1 {
		fmt.Fprintln(stderr, "cairn-bench ops: --ops, --c at least 1, --page 1 to 100, no arguments")
		return 2
	}
	log := io.Discard
	if !*quiet {
		log = stderr
	}
	res := OpsResult{Command: "cairn-bench ops " + strings.Join(args, " "), Operations: *n, PageSize: *page, Pagers: *pagers, Machine: MachineInfo()}
	if *profDir != "" {
		if err := os.MkdirAll(*profDir, 0o755); err != nil {
			fmt.Fprintf(stderr, "cairn-bench ops: %v\n", err)
			return 1
		}
	}
	if err := runOps(&res, *bin, *inProcess, *passes, *clients, *seedC, *dur, *profDir, log); err != nil {
		fmt.Fprintf(stderr, "cairn-bench ops: %v\n", err)
		return 1
	}
	res.Machine.LoadEnd = LoadAvg()
	fmt.Fprintf(stdout, "operations kept: %d; paging all at %d a page: %d pages in", res.Operations, res.PageSize, res.Pages)
	for _, s := range res.PageAll {
		fmt.Fprintf(stdout, " %.2fs", s)
	}
	if res.MemAfter.Anon > 0 {
		fmt.Fprintf(stdout, "\ncairn's anonymous resident memory grew by %.1f MB while seeding (%.0f bytes per operation; garbage included)",
			float64(res.MemAfter.Anon-res.MemBefore.Anon)/1e6, float64(res.MemAfter.Anon-res.MemBefore.Anon)/float64(res.Operations))
	}
	fmt.Fprintf(stdout, "\nListNamespaces, %d clients, alone:              p50 %.2f ms  p99 %.2f ms  %.0f/s\n", res.Alone.Clients, res.Alone.P50ms, res.Alone.P99ms, res.Alone.PerSecond)
	fmt.Fprintf(stdout, "ListNamespaces, %d clients, %d paging beside: p50 %.2f ms  p99 %.2f ms  %.0f/s (pagers: %.0f pages/s)\n",
		res.Paged.Clients, res.Pagers, res.Paged.P50ms, res.Paged.P99ms, res.Paged.PerSecond, res.PagerCalls)
	fmt.Fprintf(stdout, "ListNamespaces, %d clients, %d calling GetOperation beside: p50 %.2f ms  p99 %.2f ms  %.0f/s (GetOperation: %.0f/s)\n",
		res.Busy.Clients, res.Pagers, res.Busy.P50ms, res.Busy.P99ms, res.Busy.PerSecond, res.BusyCalls)
	fmt.Fprintf(stdout, "p50 while paging / alone: %.2f; while paging / while calling GetOperation: %.2f\n", res.Ratio, res.BusyRatio)
	for _, phase := range []string{"alone", "paged", "busy"} {
		if c, ok := res.CPU[phase]; ok {
			fmt.Fprintf(stdout, "CPU while %s: cairn %.2f s, tool %.2f s\n", phase, c.Server, c.Tool)
		}
	}
	if *profDir != "" {
		fmt.Fprintf(stdout, "CPU profiles: %s/{alone,paged,busy}{,-tool}.pprof\n", *profDir)
	}
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "cairn-bench ops: %v\n", err)
			return 1
		}
	}
	return 0
}

// PhaseCPU is the CPU seconds cairn's process and this tool used in one
// measured phase.
type PhaseCPU struct {
	Server float64 `json:"cairn_s"`
	Tool   float64 `json:"tool_s"`
}

func runOps(res *OpsResult, bin string, inProcess bool, passes, clients, seedC int, dur time.Duration, profDir string, log io.Writer) error {
	ctx := context.Background()
	creds := DefaultCredentials
	srv, err := StartCairn(CairnOptions{Bin: bin, InProcess: inProcess, Creds: creds, Region: "us-east-1", Account: "111122223333", NoLimits: true, Log: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	e, err := NewEndpoint(srv.Endpoint, "us-east-1", creds, max(seedC, clients+res.Pagers))
	if err != nil {
		return err
	}
	// Seed: a namespace, a service, then registrations and
	// deregistrations until the account keeps res.Operations operations.
	var ns struct{ OperationId string }
	if err := e.Call(ctx, "CreateHttpNamespace", map[string]any{"Name": "ops-bench"}, &ns); err != nil {
		return err
	}
	if err := waitOperation(ctx, e, ns.OperationId); err != nil {
		return err
	}
	ids, err := listNamespaces(ctx, e)
	if err != nil {
		return err
	}
	var svc struct{ Service struct{ Id string } }
	if err := e.Call(ctx, "CreateService", map[string]any{"Name": "s", "NamespaceId": ids["ops-bench"]}, &svc); err != nil {
		return err
	}
	fmt.Fprintf(log, "seeding %d operations…\n", res.Operations)
	res.MemBefore = srv.Mem()
	began := time.Now()
	todo := int64(res.Operations - 1) // CreateHttpNamespace made one
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, seedC)
	for w := range seedC {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(2) - 2
				if k >= todo {
					return
				}
				id := fmt.Sprintf("i-%d-%d", w, k)
				in := map[string]any{"ServiceId": svc.Service.Id, "InstanceId": id, "Attributes": map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}}
				if err := e.Call(ctx, "RegisterInstance", in, nil); err != nil {
					errs <- err
					return
				}
				if k+1 < todo {
					if err := e.Call(ctx, "DeregisterInstance", map[string]any{"ServiceId": svc.Service.Id, "InstanceId": id}, nil); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	fmt.Fprintf(log, "seeded in %v\n", time.Since(began).Round(time.Millisecond))
	res.MemAfter = srv.Mem()

	pageAll := func(c *Conn, stop *atomic.Bool) (int, int, error) {
		pages, seen, token := 0, 0, ""
		var body []byte
		for {
			if stop != nil && stop.Load() {
				return pages, seen, nil
			}
			body = fmt.Appendf(body[:0], `{"MaxResults":%d`, res.PageSize)
			if token != "" {
				body = fmt.Appendf(body, `,"NextToken":%q`, token)
			}
			body = append(body, '}')
			resp, err := c.Do(ctx, TargetPrefix+"ListOperations", body, PayloadHash(body))
			if err != nil {
				return pages, seen, err
			}
			// Scanned, not decoded: the tool's CPU is the server's too.
			pages++
			seen += bytes.Count(resp, []byte(`"Id":`))
			_, tok, ok := bytes.Cut(resp, []byte(`"NextToken":"`))
			if !ok {
				return pages, seen, nil
			}
			end := bytes.IndexByte(tok, '"')
			if end < 0 {
				return pages, seen, fmt.Errorf("ListOperations answered %.200q", resp)
			}
			token = string(tok[:end])
		}
	}
	for range passes {
		t0 := time.Now()
		pages, seen, err := pageAll(e.NewConn(), nil)
		if err != nil {
			return err
		}
		if seen < res.Operations {
			return fmt.Errorf("paging listed %d operations; the account keeps %d", seen, res.Operations)
		}
		res.PageAll = append(res.PageAll, time.Since(t0).Seconds())
		res.Pages = pages
	}

	listNS := func(i int) (func() error, error) {
		c := e.NewConn()
		body := []byte(`{}`)
		hash := PayloadHash(body)
		return func() error {
			_, err := c.Do(ctx, TargetPrefix+"ListNamespaces", body, hash)
			return err
		}, nil
	}
	w := Workload{Name: "list-namespaces", Server: "cairn", Clients: clients, Duration: dur, Warmup: time.Second, NewClient: listNS}
	res.CPU = map[string]PhaseCPU{}
	// watch has the next run take the CPU time (and, with a folder, the
	// profiles) of its measured phase, named phase.
	watch := func(phase string) {
		servers := []*Server{srv}
		if srv.PID == 0 && profDir == "" {
			servers = nil
		}
		pw := &partWatch{part: phase, servers: servers, dir: profDir, toolCPU: true, log: log}
		w.Watch = func(d time.Duration) func() {
			end := pw.begin(d)
			return func() {
				end()
				res.CPU[phase] = PhaseCPU{Server: pw.serverCPU, Tool: pw.tool}
			}
		}
	}
	watch("alone")
	if res.Alone, err = w.Run(); err != nil {
		return err
	}
	// beside runs w while res.Pagers clients run loop without pause, and
	// returns w's result and the loops' calls per second.
	beside := func(loop func(c *Conn, stop *atomic.Bool) (int, error)) (Result, float64, error) {
		var stop atomic.Bool
		var calls atomic.Int64
		loopErrs := make(chan error, res.Pagers)
		for range res.Pagers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := e.NewConn()
				for !stop.Load() {
					n, err := loop(c, &stop)
					calls.Add(int64(n))
					if err != nil {
						loopErrs <- err
						return
					}
				}
			}()
		}
		time.Sleep(time.Second) // the loops are under way
		c0, t0 := calls.Load(), time.Now()
		r, err := w.Run()
		rate := float64(calls.Load()-c0) / time.Since(t0).Seconds()
		stop.Store(true)
		wg.Wait()
		close(loopErrs)
		if err == nil {
			err = <-loopErrs
		}
		return r, rate, err
	}
	watch("paged")
	res.Paged, res.PagerCalls, err = beside(func(c *Conn, stop *atomic.Bool) (int, error) {
		n, _, err := pageAll(c, stop)
		return n, err
	})
	if err != nil {
		return fmt.Errorf("paging: %w", err)
	}
	getBody := []byte(fmt.Sprintf(`{"OperationId":%q}`, ns.OperationId))
	getHash := PayloadHash(getBody)
	watch("busy")
	res.Busy, res.BusyCalls, err = beside(func(c *Conn, stop *atomic.Bool) (int, error) {
		_, err := c.Do(ctx, TargetPrefix+"GetOperation", getBody, getHash)
		return 1, err
	})
	if err != nil {
		return fmt.Errorf("GetOperation: %w", err)
	}
	if res.Alone.Errors+res.Paged.Errors+res.Busy.Errors > 0 {
		return fmt.Errorf("ListNamespaces failed: %s%s%s", res.Alone.FirstError, res.Paged.FirstError, res.Busy.FirstError)
	}
	if res.Alone.P50ms > 0 && res.Busy.P50ms > 0 {
		res.Ratio = res.Paged.P50ms / res.Alone.P50ms
		res.BusyRatio = res.Paged.P50ms / res.Busy.P50ms
	}
	return nil
}
