package loadgen

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one cairn-bench invocation measured.
type Report struct {
	Tool    string       `json:"tool"`
	Command string       `json:"command"`
	Started time.Time    `json:"started"`
	Machine Machine      `json:"machine"`
	Plan    *PlanInfo    `json:"plan,omitempty"`
	Servers []ServerInfo `json:"servers,omitempty"`
	Results []Result     `json:"results,omitempty"`
	Ratios  []Ratio      `json:"ratios,omitempty"`
	Scale   *ScaleReport `json:"scale,omitempty"`
	Targets []Target     `json:"targets,omitempty"`
}

// PlanInfo describes the seed of a run.
type PlanInfo struct {
	Namespaces int               `json:"namespaces"`
	Services   int               `json:"services_per_namespace"`
	Instances  int               `json:"instances_per_service"`
	Query      map[string]string `json:"discover_query,omitempty"`
	MaxResults int               `json:"discover_max_results,omitempty"`
	Warmup     float64           `json:"warmup_seconds"`
	Duration   float64           `json:"duration_seconds"`
}

// ServerInfo is a server a run measured.
type ServerInfo struct {
	Name     string  `json:"name"`
	Endpoint string  `json:"endpoint"`
	ReadyMs  float64 `json:"ready_ms,omitempty"`
	// RSS after the workloads, and its peak, of a server process.
	RSSBytes  int64 `json:"rss_bytes,omitempty"`
	PeakBytes int64 `json:"peak_rss_bytes,omitempty"`
}

// Machine is where the figures were taken.
type Machine struct {
	CPUs      int        `json:"cpus"`
	CPUModel  string     `json:"cpu_model"`
	MemBytes  int64      `json:"mem_bytes"`
	GoVersion string     `json:"go_version"`
	OS        string     `json:"os"`
	LoadStart [3]float64 `json:"loadavg_start"`
	LoadEnd   [3]float64 `json:"loadavg_end"`
}

// Ratio compares cairn with another server on one workload, from the
// same run: Throughput is cairn's ops/s over the other's; Latency is the
// other's p50 over cairn's (above 1: cairn answers faster).
type Ratio struct {
	Workload   string  `json:"workload"`
	Versus     string  `json:"versus"`
	Throughput float64 `json:"throughput_ratio"`
	LatencyP50 float64 `json:"p50_latency_ratio"`
	LatencyP99 float64 `json:"p99_latency_ratio"`
	NA         bool    `json:"na,omitempty"`
}

// Target is one of the speed targets and whether this run met it.
type Target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
	// Measured is false when the run did not measure it.
	Measured bool `json:"measured"`
}

// verdict is the target's "met" column: yes, no or not measured.
func (t Target) verdict() string {
	switch {
	case !t.Measured:
		return "not measured"
	case t.Met:
		return "yes"
	}
	return "no"
}

// MachineInfo describes this machine.
func MachineInfo() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				m.MemBytes = n << 10
			}
		}
	}
	m.LoadStart = LoadAvg()
	return m
}

// LoadAvg is the 1, 5 and 15 minute load averages.
func LoadAvg() [3]float64 {
	var l [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}

// ComputeRatios compares cairn's results with every other server's
// (except the trivial server, which is the tool's ceiling).
func ComputeRatios(results []Result) []Ratio {
	cairn := map[string]Result{}
	for _, r := range results {
		if r.Server == "cairn" {
			cairn[r.Workload] = r
		}
	}
	var out []Ratio
	for _, r := range results {
		if r.Server == "cairn" || r.Server == "trivial" {
			continue
		}
		c, ok := cairn[r.Workload]
		if !ok {
			continue
		}
		ra := Ratio{Workload: r.Workload, Versus: r.Server}
		if r.NA || r.PerSecond == 0 || c.PerSecond == 0 {
			ra.NA = true
		} else {
			ra.Throughput = c.PerSecond / r.PerSecond
			if c.P50ms > 0 {
				ra.LatencyP50 = r.P50ms / c.P50ms
			}
			if c.P99ms > 0 {
				ra.LatencyP99 = r.P99ms / c.P99ms
			}
		}
		out = append(out, ra)
	}
	return out
}

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s; load average %.2f %.2f %.2f at start, %.2f %.2f %.2f at end\n",
		m.CPUs, m.CPUModel, m.GoVersion, m.LoadStart[0], m.LoadStart[1], m.LoadStart[2], m.LoadEnd[0], m.LoadEnd[1], m.LoadEnd[2])
	if p := r.Plan; p != nil {
		fmt.Fprintf(w, "seed: %d namespaces × %d services × %d instances; discover query %s, max %d; %.0fs warm-up, %.0fs measured\n",
			p.Namespaces, p.Services, p.Instances, queryString(p.Query), p.MaxResults, p.Warmup, p.Duration)
	}
	if len(r.Results) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "server\tworkload\tclients\tops/s\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\tops\terrors\tload1\t")
		for _, x := range r.Results {
			if x.NA {
				fmt.Fprintf(tw, "%s\t%s\t%d\tn/a\t\t\t\t\t\t\t\t\n", x.Server, x.Workload, x.Clients)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.1f\t%d\t%d\t%.1f\t\n", x.Server, x.Workload, x.Clients,
				x.PerSecond, x.P50ms, x.P99ms, x.P999ms, x.MaxMs, x.Ops, x.Errors, x.Load1)
		}
		tw.Flush()
		for _, x := range r.Results {
			if x.Rate > 0 {
				fmt.Fprintf(w, "  %s %s: %s\n", x.Server, x.Workload, x.openLoopNote())
			}
			if x.FirstError != "" {
				fmt.Fprintf(w, "  %s %s: first error: %s\n", x.Server, x.Workload, x.FirstError)
			}
			if x.Sync != nil {
				fmt.Fprintf(w, "  %s %s: the disk's fdatasync (4 KiB) just before: mean %.2f ms, p50 %.2f ms, p99 %.2f ms\n",
					x.Server, x.Workload, x.Sync.MeanMs, x.Sync.P50Ms, x.Sync.P99Ms)
			}
		}
	}
	if len(r.Ratios) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "workload\tcairn/other\tthroughput ×\tp50 latency ×\tp99 latency ×\t")
		for _, x := range r.Ratios {
			if x.NA {
				fmt.Fprintf(tw, "%s\tcairn/%s\tn/a\tn/a\tn/a\t\n", x.Workload, x.Versus)
				continue
			}
			fmt.Fprintf(tw, "%s\tcairn/%s\t%.1f\t%.1f\t%.1f\t\n", x.Workload, x.Versus, x.Throughput, x.LatencyP50, x.LatencyP99)
		}
		tw.Flush()
	}
	if len(r.Servers) > 0 {
		fmt.Fprintln(w)
		for _, s := range r.Servers {
			fmt.Fprintf(w, "%s at %s: ready in %.0f ms", s.Name, s.Endpoint, s.ReadyMs)
			if s.RSSBytes > 0 {
				fmt.Fprintf(w, ", RSS %.1f MiB (peak %.1f MiB)", mib(s.RSSBytes), mib(s.PeakBytes))
			}
			fmt.Fprintln(w)
		}
	}
	if s := r.Scale; s != nil {
		fmt.Fprintln(w)
		s.WriteTable(w)
	}
	measured := false
	for _, t := range r.Targets {
		measured = measured || t.Measured
	}
	if measured {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "target\twant\tgot\tmet\t")
		for _, t := range r.Targets {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", t.Name, t.Want, t.Got, t.verdict())
		}
		tw.Flush()
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// openLoopNote says how an open-loop result was measured.
func (x Result) openLoopNote() string {
	n := fmt.Sprintf("open loop at %.0f requests/s (latency from each request's scheduled time)", x.Rate)
	if x.Unsent > 0 {
		n += fmt.Sprintf("; %d requests never sent, the clients still behind when the drain ended", x.Unsent)
	}
	return n
}

// queryString is a query as --query takes it: k=v,k=v.
func queryString(q map[string]string) string {
	var parts []string
	for k, v := range q {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ",")
}

// EvaluateTargets checks the targets against what the report
// holds.
func (r *Report) EvaluateTargets() {
	find := func(server, workload string) (Result, bool) {
		for _, x := range r.Results {
			if x.Server == server && x.Workload == workload && !x.NA {
				return x, true
			}
		}
		return Result{}, false
	}
	var ts []Target
	if x, ok := find("cairn", "discover"); ok {
		ts = append(ts, Target{Name: "DiscoverInstances, SigV4 verified", Want: "≥ 20,000/s and p99 ≤ 5 ms at 32 connections",
			Got: fmt.Sprintf("%.0f/s, p99 %.2f ms at %d", x.PerSecond, x.P99ms, x.Clients),
			Met: x.PerSecond >= 20000 && x.P99ms <= 5 && x.Clients >= 32 && x.Errors == 0, Measured: true})
	} else {
		ts = append(ts, Target{Name: "DiscoverInstances, SigV4 verified", Want: "≥ 20,000/s and p99 ≤ 5 ms at 32 connections"})
	}
	if x, ok := find("cairn", "register"); ok {
		ts = append(ts, Target{Name: "durable RegisterInstance", Want: "≥ 5,000/s with 64 clients",
			Got: fmt.Sprintf("%.0f/s with %d", x.PerSecond, x.Clients), Met: x.PerSecond >= 5000 && x.Clients >= 64 && x.Errors == 0, Measured: true})
	} else {
		ts = append(ts, Target{Name: "durable RegisterInstance", Want: "≥ 5,000/s with 64 clients"})
	}
	if x, ok := find("cairn", "dns"); ok {
		ts = append(ts, Target{Name: "DNS", Want: "≥ 40,000 queries/s", Got: fmt.Sprintf("%.0f/s with %d clients", x.PerSecond, x.Clients),
			Met: x.PerSecond >= 40000 && x.Errors == 0, Measured: true})
	} else {
		ts = append(ts, Target{Name: "DNS", Want: "≥ 40,000 queries/s"})
	}
	mem := Target{Name: "memory per instance beyond its attribute bytes", Want: "≤ 1 KiB"}
	restart := Target{Name: "restart with 1 million instances", Want: "< 5 s"}
	flat := Target{Name: "DiscoverInstances latency 1 thousand → 1 million instances", Want: "flat (p50 and p99 at 1M ≤ 1.5× those at 1k)"}
	if s := r.Scale; s != nil && len(s.Points) > 0 {
		worst := 0.0
		for _, p := range s.Points {
			worst = max(worst, p.Seed.ViewBytes-p.Seed.AttrBytes)
		}
		mem.Got, mem.Met, mem.Measured = fmt.Sprintf("%.0f B (view heap per instance minus attribute bytes, worst size)", worst), worst <= 1024, true
		var first, last *ScalePoint
		for i := range s.Points {
			p := &s.Points[i]
			if first == nil || p.Instances < first.Instances {
				first = p
			}
			if last == nil || p.Instances > last.Instances {
				last = p
			}
		}
		if last.Instances >= 1000000 {
			restart.Got, restart.Met, restart.Measured = fmt.Sprintf("%.2f s", last.RestartSec), last.RestartSec < 5, true
		}
		if first != last && first.Instances <= 1000 && last.Instances >= 1000000 {
			flat.Got = fmt.Sprintf("p50 %.3f → %.3f ms, p99 %.3f → %.3f ms", first.Discover.P50ms, last.Discover.P50ms, first.Discover.P99ms, last.Discover.P99ms)
			flat.Met = last.Discover.P50ms <= 1.5*first.Discover.P50ms && last.Discover.P99ms <= 1.5*first.Discover.P99ms
			flat.Measured = true
		}
	}
	r.Targets = append(ts, mem, restart, flat)
}

// WriteMarkdown prints the report as the Markdown tables of
// BENCHMARKS.md, in its sections: Control plane, DNS, Scale, Targets.
func (r *Report) WriteMarkdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "Measured %s with `%s` on %d CPUs (%s), %s; load average %.2f / %.2f / %.2f at the start, %.2f / %.2f / %.2f at the end.\n\n",
		r.Started.Format("2006-01-02 15:04 UTC"), r.Command, m.CPUs, m.CPUModel, m.GoVersion,
		m.LoadStart[0], m.LoadStart[1], m.LoadStart[2], m.LoadEnd[0], m.LoadEnd[1], m.LoadEnd[2])
	if p := r.Plan; p != nil {
		fmt.Fprintf(w, "Seed: %d namespaces × %d services × %d instances; DiscoverInstances asks for `QueryParameters` `%s` with `MaxResults` %d; "+
			"%.0f s warm-up, %.0f s measured per workload.\n\n",
			p.Namespaces, p.Services, p.Instances, queryString(p.Query), p.MaxResults, p.Warmup, p.Duration)
	}
	table := func(title string, workloads ...string) {
		var rows []Result
		for _, x := range r.Results {
			for _, wl := range workloads {
				if x.Workload == wl {
					rows = append(rows, x)
				}
			}
		}
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(w, "#### %s\n\n", title)
		fmt.Fprintln(w, "| server | workload | clients | ops/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | load1 |")
		fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, x := range rows {
			if x.NA {
				fmt.Fprintf(w, "| %s | %s | %d | n/a | | | | | | |\n", x.Server, x.Workload, x.Clients)
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %d | %.0f | %.3f | %.3f | %.3f | %.1f | %d | %.1f |\n",
				x.Server, x.Workload, x.Clients, x.PerSecond, x.P50ms, x.P99ms, x.P999ms, x.MaxMs, x.Errors, x.Load1)
		}
		fmt.Fprintln(w)
		for _, x := range rows {
			if x.Rate > 0 {
				fmt.Fprintf(w, "%s %s: %s.\n\n", x.Server, x.Workload, x.openLoopNote())
			}
			if x.Sync != nil {
				fmt.Fprintf(w, "The disk's fdatasync of a 4 KiB write, measured just before %s's %s run: mean %.2f ms, p50 %.2f ms, p99 %.2f ms "+
					"(bbolt syncs twice per commit).\n\n", x.Server, x.Workload, x.Sync.MeanMs, x.Sync.P50Ms, x.Sync.P99Ms)
			}
		}
		var ratios []Ratio
		for _, ra := range r.Ratios {
			for _, wl := range workloads {
				if ra.Workload == wl {
					ratios = append(ratios, ra)
				}
			}
		}
		if len(ratios) > 0 {
			fmt.Fprintln(w, "| workload | ratio | throughput × | p50 latency × | p99 latency × |")
			fmt.Fprintln(w, "|---|---|--:|--:|--:|")
			for _, ra := range ratios {
				if ra.NA {
					fmt.Fprintf(w, "| %s | cairn/%s | n/a | n/a | n/a |\n", ra.Workload, ra.Versus)
					continue
				}
				fmt.Fprintf(w, "| %s | cairn/%s | %.1f | %.1f | %.1f |\n", ra.Workload, ra.Versus, ra.Throughput, ra.LatencyP50, ra.LatencyP99)
			}
			fmt.Fprintln(w)
		}
	}
	table("Control plane: DiscoverInstances (SigV4 verified by cairn)", "discover")
	table("Control plane: RegisterInstance and DeregisterInstance (durable)", "register", "deregister")
	table("DNS: A queries over UDP", "dns")
	if len(r.Servers) > 0 {
		for _, s := range r.Servers {
			fmt.Fprintf(w, "- %s: ready %.0f ms after its process started", s.Name, s.ReadyMs)
			if s.RSSBytes > 0 {
				fmt.Fprintf(w, "; RSS %.1f MiB after the workloads (peak %.1f MiB)", mib(s.RSSBytes), mib(s.PeakBytes))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	if s := r.Scale; s != nil {
		fmt.Fprintf(w, "#### Scale: DiscoverInstances and memory by instances registered\n\n")
		fmt.Fprintf(w, "An empty cairn: RSS %.1f MiB (anonymous %.1f MiB).\n\n", mib(s.Baseline.RSS), mib(s.Baseline.Anon))
		fmt.Fprintln(w, "| instances | namespaces × services × instances | store MiB | seed s | ready s | restart s | state load | RSS MiB | anon MiB | anon B/inst | view heap B/inst | attr B/inst | discover/s | p50 ms | p99 ms | p99.9 ms | load1 |")
		fmt.Fprintln(w, "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, p := range s.Points {
			fmt.Fprintf(w, "| %d | %d × %d × %d | %.0f | %.1f | %.2f | %.2f | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f | %.3f | %.3f | %.1f |\n",
				p.Instances, p.Namespaces, p.Services, p.PerService, mib(p.Seed.StoreBytes), p.Seed.Seconds, p.ReadySec, p.RestartSec, p.LoadTook,
				mib(p.MemIdle.RSS), mib(p.MemIdle.Anon), p.AnonPerInstance, p.Seed.ViewBytes, p.Seed.AttrBytes,
				p.Discover.PerSecond, p.Discover.P50ms, p.Discover.P99ms, p.Discover.P999ms, p.Discover.Load1)
		}
		fmt.Fprintln(w)
	}
	if len(r.Targets) > 0 {
		fmt.Fprintf(w, "#### Targets\n\n")
		fmt.Fprintln(w, "| target | want | got | met |")
		fmt.Fprintln(w, "|---|---|---|---|")
		for _, t := range r.Targets {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, t.verdict())
		}
		fmt.Fprintln(w)
	}
}
