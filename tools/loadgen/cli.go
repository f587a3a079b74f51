package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

const usage = `cairn-bench: load harness for AWS Cloud Map endpoints (cairn, moto, AWS)

Usage:
  cairn-bench run [flags]     seed, then drive discover, register and dns against a
                              server: --endpoint URL, or one it starts (--target
                              cairn|moto|trivial); --compare moto also measures moto
                              in the same run and prints the ratios; --rate N sends
                              N requests/s on a fixed schedule (open loop)
  cairn-bench scale [flags]   DiscoverInstances latency and cairn's memory at 1k, 100k
                              and 1M instances, and restart time with each
  cairn-bench load --data-dir DIR [--cpuprofile F]
                              load a cairn data folder in-process as cairn does when
                              it starts, and report the time and the heap it takes
  cairn-bench ops [flags]     ListOperations at scale: paging through --ops retained
                              operations, and other callers' ListNamespaces latency
                              while --pagers clients page
  cairn-bench report --in FILE [--markdown]
                              print a JSON report (--out of another command) again,
                              as a table or as BENCHMARKS.md's Markdown tables
  cairn-bench writes [flags]  durable RegisterInstance (64 writers) over cairn on bolt
                              and on etcd with 1, 2 and 3 servers, beside raw bbolt
                              DB.Batch and raw etcd transactions of the same shape,
                              all in one run, with the ratios (needs the etcd binary);
                              --only raw-bolt,bolt runs only those parts, --profile-dir
                              DIR keeps CPU profiles of each part's measured phase
                              and each cairn's allocation profile
  cairn-bench all [flags]     run --target cairn --compare moto,trivial, then scale:
                              every figure of BENCHMARKS.md in one command
                              (cairn-bench all --out BENCHMARKS.json)

"cairn-bench run -h" lists the flags. Run it from the cairn repository: it builds
./cmd/cairn to start cairn (or give --cairn-bin).
`

// DefaultCredentials sign requests when none are given. A cairn the tool
// starts is given a credentials file holding them.
var DefaultCredentials = Credentials{AccessKeyID: "AKIACAIRNBENCH000001", SecretAccessKey: "cairn-bench/secret/key/0000000000000000000"}

type options struct {
	endpoint, target, compare, name      string
	region, accessKey, secretKey, token  string
	dnsAddr                              string
	clients, registerClients, dnsClients int
	duration, warmup                     time.Duration
	workloads                            string
	namespaces, services, instances      int
	noSeed                               bool
	prefix                               string
	seedConc                             int
	query                                string
	maxResults                           int
	jsonOut                              bool
	markdown                             string
	out                                  string
	cairnBin, motoBin, account           string
	dataDir                              string
	inProcess                            bool
	quiet                                bool
	cpuProfile                           string

	sizes                string
	scaleClients         int
	scaleDuration        time.Duration
	scaleDir, profileDir string
	keepOps              bool
	etcdBin              string
	rate                 float64
	only                 string
}

func (o *options) flags(fs *flag.FlagSet, cmd string) {
	fs.StringVar(&o.endpoint, "endpoint", "", "URL of a running Cloud Map endpoint to measure (then --target is ignored)")
	fs.StringVar(&o.name, "name", "endpoint", "label of --endpoint in the results")
	def := "cairn"
	fs.StringVar(&o.target, "target", def, "server to start and measure: cairn, moto or trivial (the tool's own ceiling)")
	fs.StringVar(&o.compare, "compare", "", "servers to measure too, in the same run: moto, trivial, or both (moto,trivial)")
	fs.StringVar(&o.region, "region", "us-east-1", "region to sign for (env AWS_REGION with --endpoint)")
	fs.StringVar(&o.accessKey, "access-key", "", "access key ID (env AWS_ACCESS_KEY_ID with --endpoint; a built-in key otherwise)")
	fs.StringVar(&o.secretKey, "secret-key", "", "secret access key (env AWS_SECRET_ACCESS_KEY with --endpoint)")
	fs.StringVar(&o.token, "session-token", "", "session token (env AWS_SESSION_TOKEN with --endpoint)")
	fs.StringVar(&o.dnsAddr, "dns-addr", "", "DNS address of --endpoint (host:port), for the dns workload")
	fs.IntVar(&o.clients, "c", 32, "concurrent clients (connections) for discover")
	fs.IntVar(&o.registerClients, "register-c", 64, "concurrent clients for register and deregister")
	fs.IntVar(&o.dnsClients, "dns-c", 32, "concurrent clients (UDP sockets) for dns")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured duration of each workload")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each workload")
	fs.StringVar(&o.workloads, "w", "discover,register,dns", "workloads to run, in order")
	p := DefaultPlan()
	fs.IntVar(&o.namespaces, "namespaces", p.Namespaces, "HTTP namespaces to seed")
	fs.IntVar(&o.services, "services", p.Services, "services per namespace to seed")
	fs.IntVar(&o.instances, "instances", p.Instances, "instances per service to seed")
	fs.BoolVar(&o.noSeed, "no-seed", false, "reuse what an earlier run seeded (same --prefix and sizes) instead of seeding")
	fs.StringVar(&o.prefix, "prefix", p.Prefix, "prefix of the seeded namespaces' names")
	fs.IntVar(&o.seedConc, "seed-c", 32, "concurrent registrations while seeding")
	fs.StringVar(&o.query, "query", "stage=canary", "DiscoverInstances QueryParameters, k=v[,k=v]; empty for none")
	fs.IntVar(&o.maxResults, "max-results", p.MaxResults, "DiscoverInstances MaxResults; 0 to omit")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON on stdout instead of a table")
	fs.StringVar(&o.out, "out", "", "also write the results as JSON to this file")
	fs.StringVar(&o.markdown, "markdown", "", "also write the results as Markdown tables (BENCHMARKS.md's) to this file")
	fs.StringVar(&o.cairnBin, "cairn-bin", "", "cairn binary to start (default: go build ./cmd/cairn)")
	fs.StringVar(&o.dataDir, "data-dir", "", "data folder of the cairn the tool starts (default: a new temporary one); with --no-seed, reuse one seeded before")
	fs.BoolVar(&o.inProcess, "cairn-in-process", false, "run cairn inside the tool (server.Start) instead of as a process")
	fs.StringVar(&o.motoBin, "moto-bin", "", "moto_server command: a path, or a name on PATH (default: moto_server on PATH)")
	fs.StringVar(&o.account, "account-id", "111122223333", "account of the credentials a started cairn is given")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the tool (and of cairn, with --cairn-in-process) to this file")
	if cmd == "run" || cmd == "all" {
		fs.Float64Var(&o.rate, "rate", 0, "open loop: send this many requests a second in all, on a fixed schedule, to discover, register and dns, "+
			"latency counted from each request's scheduled time (queueing shows in p99); 0: closed loop, each client sends when answered")
	}
	if cmd == "writes" {
		fs.StringVar(&o.etcdBin, "etcd-bin", "", "etcd binary (default: etcd on PATH, then /usr/bin/etcd)")
		fs.StringVar(&o.only, "only", "", "run only these parts, a comma list of "+strings.Join(WriteParts, ",")+
			" (default: all; etcd is started only for the etcd parts)")
		fs.StringVar(&o.profileDir, "profile-dir", "", "write CPU profiles of each part's measured phase here: "+
			"<part>.pprof (<part>-<i>.pprof with several servers) from each cairn's admin /debug/pprof/profile, "+
			"<part>.allocs.pprof from its /debug/pprof/allocs at the phase's end, "+
			"and <part>-tool.pprof of this tool (not with --cpuprofile)")
	}
	if cmd == "scale" || cmd == "all" {
		fs.StringVar(&o.sizes, "sizes", "1000,100000,1000000", "instance counts of the scale curve")
		fs.IntVar(&o.scaleClients, "scale-c", 32, "concurrent clients for the scale curve's discover runs")
		fs.DurationVar(&o.scaleDuration, "scale-d", 10*time.Second, "measured duration of each scale point's discover run")
		fs.StringVar(&o.scaleDir, "scale-dir", "", "folder for the scale curve's data folders (kept); default a temporary one, removed")
		fs.StringVar(&o.profileDir, "profile-dir", "", "write a CPU profile of loading the largest store here")
		fs.BoolVar(&o.keepOps, "keep-operations", false, "keep the seeding's operation records in the scale stores")
	}
}

func (o *options) creds(getenv func(string) string) Credentials {
	c := Credentials{AccessKeyID: o.accessKey, SecretAccessKey: o.secretKey, SessionToken: o.token}
	if o.endpoint != "" {
		if c.AccessKeyID == "" {
			c.AccessKeyID = getenv("AWS_ACCESS_KEY_ID")
		}
		if c.SecretAccessKey == "" {
			c.SecretAccessKey = getenv("AWS_SECRET_ACCESS_KEY")
		}
		if c.SessionToken == "" {
			c.SessionToken = getenv("AWS_SESSION_TOKEN")
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		c.AccessKeyID, c.SecretAccessKey = DefaultCredentials.AccessKeyID, DefaultCredentials.SecretAccessKey
	}
	return c
}

func (o *options) plan() (Plan, error) {
	p := DefaultPlan()
	p.Prefix, p.Namespaces, p.Services, p.Instances, p.MaxResults = o.prefix, o.namespaces, o.services, o.instances, o.maxResults
	q, err := parseQuery(o.query)
	if err != nil {
		return p, err
	}
	p.Query = q
	if p.Namespaces < 1 || p.Services < 1 || p.Instances < 1 {
		return p, errors.New("--namespaces, --services and --instances must be at least 1")
	}
	return p, nil
}

func parseQuery(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	q := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--query %q: each part must be key=value", s)
		}
		q[k] = v
	}
	return q, nil
}

// Main runs cairn-bench with args (without the program name) and
// returns the exit code.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd := args[0]
	switch cmd {
	case "run", "scale", "all", "writes":
	case "load":
		return loadCommand(args[1:], stdout, stderr)
	case "report":
		return reportCommand(args[1:], stdout, stderr)
	case "ops":
		return opsCommand(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "cairn-bench: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	o := &options{}
	fs := flag.NewFlagSet("cairn-bench "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.flags(fs, cmd)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cairn-bench %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	if o.endpoint != "" && o.region == "us-east-1" {
		if r := getenv("AWS_REGION"); r != "" {
			o.region = r
		} else if r := getenv("AWS_DEFAULT_REGION"); r != "" {
			o.region = r
		}
	}
	if cmd == "all" && o.compare == "" {
		o.compare = "moto,trivial"
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "cairn-bench: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "cairn-bench: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	rep := &Report{Tool: "cairn-bench", Command: "cairn-bench " + strings.Join(args, " "), Started: time.Now().UTC(), Machine: MachineInfo()}
	var prog *Progress
	if !o.quiet {
		prog = &Progress{W: stderr, Terminal: isTerminal(stderr)}
	}
	var err error
	if cmd == "run" || cmd == "all" {
		err = o.run(rep, getenv, prog, stderr)
	}
	if err == nil && (cmd == "scale" || cmd == "all") {
		err = o.scale(rep, prog, stderr)
	}
	if cmd == "writes" {
		err = o.writes(rep, prog, stderr)
		md := writesMarkdown(rep.Results)
		fmt.Fprint(stdout, md)
		if o.markdown != "" {
			if werr := os.WriteFile(o.markdown, []byte(md), 0o644); werr != nil && err == nil {
				err = werr
			}
		}
		if o.out != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if werr := os.WriteFile(o.out, append(b, '\n'), 0o644); werr != nil && err == nil {
				err = werr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "cairn-bench writes: %v\n", err)
			return 1
		}
		return 0
	}
	rep.Machine.LoadEnd = LoadAvg()
	if len(rep.Results) > 0 || rep.Scale != nil {
		rep.Ratios = ComputeRatios(rep.Results)
		if o.endpoint == "" {
			rep.EvaluateTargets()
		}
		if o.jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		} else {
			rep.WriteTable(stdout)
		}
		if o.out != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if werr := os.WriteFile(o.out, append(b, '\n'), 0o644); werr != nil && err == nil {
				err = werr
			}
		}
		if o.markdown != "" {
			var buf strings.Builder
			rep.WriteMarkdown(&buf)
			if werr := os.WriteFile(o.markdown, []byte(buf.String()), 0o644); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "cairn-bench %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run measures the servers of a run, one after the other.
func (o *options) run(rep *Report, getenv func(string) string, prog *Progress, log io.Writer) error {
	plan, err := o.plan()
	if err != nil {
		return err
	}
	if o.rate < 0 {
		return fmt.Errorf("--rate %v: give requests a second above 0, or 0 for a closed loop", o.rate)
	}
	workloads := strings.Split(o.workloads, ",")
	for _, w := range workloads {
		switch w {
		case "discover", "register", "dns":
		default:
			return fmt.Errorf("-w: unknown workload %q (discover, register, dns)", w)
		}
	}
	rep.Plan = &PlanInfo{Namespaces: plan.Namespaces, Services: plan.Services, Instances: plan.Instances, Query: plan.Query,
		MaxResults: plan.MaxResults, Warmup: o.warmup.Seconds(), Duration: o.duration.Seconds()}
	creds := o.creds(getenv)
	servers := []string{o.target}
	if o.endpoint != "" {
		servers = []string{"endpoint"}
	}
	for _, c := range strings.Split(o.compare, ",") {
		if c = strings.TrimSpace(c); c != "" && c != servers[0] {
			servers = append(servers, c)
		}
	}
	for _, name := range servers {
		if name == "moto" { // before anything is measured, not after
			if _, err := MotoBin(o.motoBin); err != nil {
				return err
			}
		}
	}
	var cairnBin string
	for _, name := range servers {
		var srv *Server
		switch name {
		case "endpoint":
			srv = &Server{Name: o.name, Endpoint: o.endpoint, DNSAddr: o.dnsAddr}
		case "cairn":
			if cairnBin == "" && o.cairnBin == "" && !o.inProcess {
				dir, err := os.MkdirTemp("", "cairn-bench-bin-*")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				if cairnBin, err = BuildCairn(dir); err != nil {
					return err
				}
			}
			bin := o.cairnBin
			if bin == "" {
				bin = cairnBin
			}
			srv, err = StartCairn(CairnOptions{Bin: bin, InProcess: o.inProcess, DataDir: o.dataDir, Creds: creds, Region: o.region,
				Account: o.account, DNS: true, NoLimits: true, Log: log})
		case "moto":
			srv, err = StartMoto(MotoOptions{Bin: o.motoBin, Log: log})
		case "trivial":
			srv, err = StartTrivialServer(plan.DNSName())
		default:
			return fmt.Errorf("unknown server %q: cairn, moto or trivial", name)
		}
		if err != nil {
			return err
		}
		err = o.measure(rep, srv, plan, workloads, creds, prog, log)
		info := ServerInfo{Name: srv.Name, Endpoint: srv.Endpoint, ReadyMs: float64(srv.Ready) / 1e6}
		m := srv.Mem()
		info.RSSBytes, info.PeakBytes = m.RSS, m.Peak
		if srv.Name != "trivial" && srv.Name != o.name {
			rep.Servers = append(rep.Servers, info)
		}
		if cerr := srv.Close(); cerr != nil && err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// measure seeds one server and runs the workloads against it.
func (o *options) measure(rep *Report, srv *Server, plan Plan, workloads []string, creds Credentials, prog *Progress, log io.Writer) error {
	conns := max(o.clients, o.registerClients, o.seedConc)
	ep, err := NewEndpoint(srv.Endpoint, o.region, creds, conns)
	if err != nil {
		return err
	}
	defer ep.CloseIdle()
	ctx := context.Background()
	dnsAddr := srv.DNSAddr
	if srv.Name == "moto" {
		plan.DNSInstances = 0 // moto serves no DNS
	}
	var seeded *Seeded
	if srv.Name == "trivial" {
		seeded = &Seeded{WriteServiceIDs: []string{"srv-trivial"}, DNSName: plan.DNSName()}
		seeded.DiscoverBodies, seeded.DiscoverHashes = plan.Bodies()
	} else {
		fmt.Fprintf(log, "%s: %s at %s\n", srv.Name, map[bool]string{true: "finding the seeded data", false: "seeding"}[o.noSeed], srv.Endpoint)
		if seeded, err = Seed(ctx, ep, plan, !o.noSeed, o.seedConc, log); err != nil {
			return fmt.Errorf("%s: seed: %w", srv.Name, err)
		}
	}
	runID := fmt.Sprintf("r%x", time.Now().UnixNano()%0xffffffff)
	for _, wl := range workloads {
		switch wl {
		case "discover":
			w := &Workload{Name: "discover", Server: srv.Name, Clients: o.clients, Duration: o.duration, Warmup: o.warmup, Rate: o.rate,
				NewClient: DiscoverClient(ep, seeded), Progress: prog}
			res, err := w.Run()
			if err != nil {
				return err
			}
			rep.Results = append(rep.Results, res)
		case "register":
			var sync *SyncLatency
			if srv.Name == "cairn" {
				if sl, err := ProbeSync(os.TempDir(), 100); err == nil {
					sync = &sl
				}
			}
			reg := NewRegistered(o.registerClients)
			w := &Workload{Name: "register", Server: srv.Name, Clients: o.registerClients, Duration: o.duration, Warmup: o.warmup, Rate: o.rate,
				NewClient: RegisterClient(ep, seeded, runID, reg), Progress: prog}
			res, err := w.Run()
			if err != nil {
				return err
			}
			res.Sync = sync
			rep.Results = append(rep.Results, res)
			// Deregister what was registered (warm-up included), for
			// four times as long at most.
			w = &Workload{Name: "deregister", Server: srv.Name, Clients: o.registerClients, Duration: 4 * o.duration,
				NewClient: DeregisterClient(ep, reg), Progress: prog}
			res, err = w.Run()
			if err != nil {
				return err
			}
			if left := reg.Count(); left > 0 {
				res.FirstError = strings.TrimSpace(res.FirstError + " (" + strconv.Itoa(left) + " instances left registered)")
			}
			rep.Results = append(rep.Results, res)
		case "dns":
			if dnsAddr == "" || seeded.DNSName == "" {
				rep.Results = append(rep.Results, Result{Server: srv.Name, Workload: "dns", Clients: o.dnsClients, NA: true})
				continue
			}
			w := &Workload{Name: "dns", Server: srv.Name, Clients: o.dnsClients, Duration: o.duration, Warmup: o.warmup, Rate: o.rate,
				NewClient: DNSClient(dnsAddr, seeded.DNSName), Progress: prog}
			res, err := w.Run()
			if err != nil {
				return err
			}
			rep.Results = append(rep.Results, res)
		}
	}
	return nil
}

// scale runs the scale curve.
func (o *options) scale(rep *Report, prog *Progress, log io.Writer) error {
	var sizes []int
	for _, s := range strings.Split(o.sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("--sizes %q: each size must be a positive whole number", o.sizes)
		}
		sizes = append(sizes, n)
	}
	q, err := parseQuery(o.query)
	if err != nil {
		return err
	}
	creds := o.creds(func(string) string { return "" })
	sr, err := RunScale(context.Background(), ScaleOptions{Sizes: sizes, Clients: o.scaleClients, Duration: o.scaleDuration, Warmup: o.warmup,
		Dir: o.scaleDir, KeepOperations: o.keepOps, ProfileDir: o.profileDir, Query: q, MaxResults: o.maxResults, SeedConc: 512,
		Cairn: CairnOptions{Bin: o.cairnBin, InProcess: o.inProcess, Creds: creds, Region: o.region, Account: o.account, Log: log},
		Log:   log, Progress: prog})
	if err != nil {
		return err
	}
	rep.Scale = sr
	return nil
}

// loadCommand times loading a data folder in-process, as cairn's start
// does, optionally under the CPU profiler.
func loadCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cairn-bench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data-dir", "", "cairn data folder to load (not in use by a server)")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the load to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "cairn-bench load: give --data-dir")
		return 2
	}
	res, err := LoadStore(context.Background(), *dir, *prof)
	if err != nil {
		fmt.Fprintf(stderr, "cairn-bench load: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "loaded %s in %.2fs (store open %.2fs, registry %.2fs); heap after GC %.0f MiB; load average %.2f\n",
		*dir, res.Total.Seconds(), res.Open.Seconds(), res.Registry.Seconds(), mib(int64(res.Heap)), LoadAvg()[0])
	return 0
}

// reportCommand prints a saved JSON report again.
func reportCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cairn-bench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "JSON report to print (written by --out)")
	md := fs.Bool("markdown", false, "print Markdown tables instead of the plain table")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	b, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintf(stderr, "cairn-bench report: %v\n", err)
		return 1
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		fmt.Fprintf(stderr, "cairn-bench report: %s: %v\n", *in, err)
		return 1
	}
	if *md {
		rep.WriteMarkdown(stdout)
	} else {
		rep.WriteTable(stdout)
	}
	return 0
}
