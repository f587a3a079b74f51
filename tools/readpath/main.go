// Command readpath measures cairn's read path against a bare net/http
// server, side by side in one run (issue 17, item 4).
//
// It starts each cairn given (its own process, with --credentials, so
// every request's SigV4 signature is verified, and a service of 100
// instances seeded with --init) and a bare net/http server in this
// process that answers the bytes cairn answered: the same status,
// headers and body. It then drives each in turn with wrk, the same signed
// DiscoverInstances request (the query returns 10 instances) on the same
// connections for the same time, alternating the order round after
// round, and prints each round's requests per second, the ratio of each
// cairn to the bare server in that round, the load average, and the
// median ratio.
//
//	go run ./tools/readpath                                   # the working tree
//	go run ./tools/readpath -cairn git:HEAD~1 -cairn .        # before/after in one run
//	go run ./tools/readpath -rounds 7 -d 10s -c 32 -t 2
//	go run ./tools/readpath -rounds 1 -cpuprofile cairn.pprof # a profile of cairn under load
//
// Each -cairn is "." (build the working tree), "git:REV" (build a
// revision from git archive), or the path of a cairn binary. wrk must be
// on PATH (Debian: apt-get install wrk). SigV4 allows a signed request to
// be replayed for 15 minutes; the request is signed again for each round.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	accessKey = "AKIAREADPATHBENCH001"
	secretKey = "readpath/benchmark/secret/key/0000000000"
	accountID = "111122223333"
	region    = "us-east-1"
	target    = "Route53AutoNaming_v20170314.DiscoverInstances"
	// The request: 10 of the service's 100 instances carry stage=canary.
	body = `{"NamespaceName":"bench","ServiceName":"svc","QueryParameters":{"stage":"canary"},"MaxResults":10}`
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	cairns      stringList
	rounds      int
	dur         time.Duration
	conns       int
	threads     int
	cpuprofile  string
	keep        bool
	instances   int
	showHeaders bool
}

func main() {
	var o options
	flag.Var(&o.cairns, "cairn", `a cairn to measure: "." (build the working tree), "git:REV" (build a revision), or a binary's path; repeat to compare (default ".")`)
	flag.IntVar(&o.rounds, "rounds", 5, "rounds; each runs every server once, in an order that alternates")
	flag.DurationVar(&o.dur, "d", 10*time.Second, "wrk's duration per server and round")
	flag.IntVar(&o.conns, "c", 32, "wrk's connections")
	flag.IntVar(&o.threads, "t", 2, "wrk's threads")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the first cairn, taken from its admin listener during its first round, to this file")
	flag.IntVar(&o.instances, "instances", 100, "instances in the seeded service (one in ten is a canary)")
	flag.BoolVar(&o.showHeaders, "show", false, "print the response cairn answers (headers and body) before measuring")
	flag.Parse()
	if len(o.cairns) == 0 {
		o.cairns = stringList{"."}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "readpath:", err)
		os.Exit(1)
	}
}

// server is one measured server.
type server struct {
	name string
	addr string // host:port of its API
	// For a cairn: its process and admin listener.
	cmd   *exec.Cmd
	admin string
	rps   []float64
	// CPU per request, in each round: the server's, and wrk's driving it.
	cpu, wrkCPU []time.Duration
}

// pid is the process whose CPU time is the server's: the cairn's, or
// this one's for the bare server.
func (s *server) pid() string {
	if s.cmd == nil {
		return "self"
	}
	return strconv.Itoa(s.cmd.Process.Pid)
}

// costRatio is the ratio of requests per second the CPU spent in a round
// predicts for s against bare: their wrk and server CPU time per request,
// bare's over s's. It is what the two would reach alone on the machine,
// whatever else ran during the round.
func costRatio(s, bare *server, r int) float64 {
	return float64(bare.cpu[r]+bare.wrkCPU[r]) / float64(s.cpu[r]+s.wrkCPU[r])
}

func run(ctx context.Context, o options) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not on PATH (Debian: apt-get install wrk)")
	}
	dir, err := os.MkdirTemp("", "readpath-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writeInputs(dir, o.instances); err != nil {
		return err
	}
	var servers []*server
	defer func() {
		for _, s := range servers {
			if s.cmd != nil && s.cmd.Process != nil {
				_ = s.cmd.Process.Signal(os.Interrupt)
				done := make(chan struct{})
				go func() { _ = s.cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					_ = s.cmd.Process.Kill()
					<-done
				}
			}
		}
	}()
	for i, spec := range o.cairns {
		bin, err := cairnBinary(ctx, dir, i, spec)
		if err != nil {
			return err
		}
		s, err := startCairn(ctx, dir, i, bin)
		if err != nil {
			return err
		}
		s.name = spec
		servers = append(servers, s)
	}
	// The bare server answers what the first cairn answers.
	status, hdr, want, err := fetch(ctx, servers[0].addr)
	if err != nil {
		return err
	}
	if o.showHeaders {
		fmt.Printf("cairn answers %d, %d bytes\n", status, len(want))
		for _, k := range slices.Sorted(maps.Keys(hdr)) {
			fmt.Printf("  %s: %s\n", k, strings.Join(hdr[k], ", "))
		}
		fmt.Printf("  %s\n", want)
	}
	for _, s := range servers[1:] {
		st, _, b, err := fetch(ctx, s.addr)
		if err != nil {
			return err
		}
		// Cairn shuffles the instances it returns, as AWS does: the
		// answers have the same length, not the same order.
		if st != status || len(b) != len(want) {
			return fmt.Errorf("%s answers %d %q, %s answers %d %q: not the same answer", s.name, st, b, servers[0].name, status, want)
		}
	}
	bare, err := startBare(status, hdr, want)
	if err != nil {
		return err
	}
	defer bare.close()
	servers = append(servers, &server{name: "bare net/http", addr: bare.addr})
	if st, _, b, err := fetch(ctx, bare.addr); err != nil || st != status || !bytes.Equal(b, want) {
		return fmt.Errorf("the bare server does not answer cairn's bytes (%d, %v)", st, err)
	}

	fmt.Printf("readpath: DiscoverInstances (10 of %d instances, %d-byte answer), SigV4 verified by cairn; wrk -t%d -c%d -d%s, %d rounds; %d CPUs\n",
		o.instances, len(want), o.threads, o.conns, o.dur, o.rounds, runtime.NumCPU())
	var loads []string
	for r := 0; r < o.rounds; r++ {
		order := slices.Clone(servers)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		load := loadavg()
		loads = append(loads, load)
		for _, s := range order {
			var prof chan error
			if o.cpuprofile != "" && r == 0 && s == servers[0] {
				prof = make(chan error, 1)
				go func() { prof <- profile(ctx, s.admin, o.dur-2*time.Second, o.cpuprofile) }()
			}
			before, err := cpuTime(s.pid())
			if err != nil {
				return err
			}
			res, err := runWrk(ctx, dir, s.addr, o)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			after, err := cpuTime(s.pid())
			if err != nil {
				return err
			}
			if prof != nil {
				if err := <-prof; err != nil {
					return fmt.Errorf("cpu profile: %w", err)
				}
			}
			s.rps = append(s.rps, res.rps)
			s.cpu = append(s.cpu, (after-before)/time.Duration(res.requests))
			s.wrkCPU = append(s.wrkCPU, res.cpu/time.Duration(res.requests))
		}
		bare := servers[len(servers)-1]
		b := bare.rps[r]
		fmt.Printf("round %d (load %s):", r+1, load)
		for _, s := range servers[:len(servers)-1] {
			fmt.Printf("  %s %.0f/s (%.1f%%; by CPU %.1f%%)", s.name, s.rps[r], 100*s.rps[r]/b, 100*costRatio(s, bare, r))
		}
		fmt.Printf("  bare %.0f/s\n", b)
	}
	b := servers[len(servers)-1]
	fmt.Printf("median over %d rounds (load averages at each round's start: %s):\n", o.rounds, strings.Join(loads, "; "))
	for _, s := range servers[:len(servers)-1] {
		var ratios, costs []float64
		for r := range s.rps {
			ratios = append(ratios, s.rps[r]/b.rps[r])
			costs = append(costs, costRatio(s, b, r))
		}
		fmt.Printf("  %-20s %8.0f/s  %5.1f%% of bare; by CPU per request %5.1f%% (server %s, wrk %s)\n", s.name, median(s.rps), 100*median(ratios),
			100*median(costs), medianDuration(s.cpu), medianDuration(s.wrkCPU))
	}
	fmt.Printf("  %-20s %8.0f/s                   (server %s, wrk %s)\n", b.name, median(b.rps), medianDuration(b.cpu), medianDuration(b.wrkCPU))
	if o.cpuprofile != "" {
		fmt.Printf("CPU profile of %s: %s (go tool pprof -top %s)\n", servers[0].name, o.cpuprofile, o.cpuprofile)
	}
	return nil
}

// writeInputs writes the credentials file and the state file cairn is
// seeded from: namespace bench, service svc, instances with five
// attributes, one in ten stage=canary.
func writeInputs(dir string, n int) error {
	creds := fmt.Sprintf("[bench]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\n", accessKey, secretKey, accountID)
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		return err
	}
	type inst struct {
		ID         string            `json:"Id"`
		Attributes map[string]string `json:"Attributes"`
	}
	var insts []inst
	for i := range n {
		stage := "prod"
		if i%10 == 0 {
			stage = "canary"
		}
		insts = append(insts, inst{ID: fmt.Sprintf("i-%04d", i), Attributes: map[string]string{
			"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.%d.%d", i/250, i%250+1),
			"AWS_INSTANCE_PORT": "8080",
			"stage":             stage,
			"zone":              fmt.Sprintf("us-east-1%c", 'a'+i%3),
			"version":           "1.4.2",
		}})
	}
	state := map[string]any{"Namespaces": []any{map[string]any{
		"Name": "bench", "Type": "HTTP",
		"Services": []any{map[string]any{"Name": "svc", "Instances": insts}},
	}}}
	b, err := json.MarshalIndent(state, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "state.json"), b, 0o600)
}

// cairnBinary builds or finds the cairn binary a -cairn value names.
func cairnBinary(ctx context.Context, dir string, i int, spec string) (string, error) {
	out := filepath.Join(dir, fmt.Sprintf("cairn-%d", i))
	switch {
	case spec == ".":
		return out, gobuild(ctx, ".", out)
	case strings.HasPrefix(spec, "git:"):
		src := filepath.Join(dir, fmt.Sprintf("src-%d", i))
		if err := os.Mkdir(src, 0o700); err != nil {
			return "", err
		}
		sh := fmt.Sprintf("git archive %q | tar -x -C %q", strings.TrimPrefix(spec, "git:"), src)
		if b, err := exec.CommandContext(ctx, "sh", "-c", sh).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v: %s", sh, err, b)
		}
		return out, gobuild(ctx, src, out)
	default:
		return spec, nil
	}
}

func gobuild(ctx context.Context, src, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/cairn")
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %v: %s", src, err, b)
	}
	return nil
}

// startCairn starts a cairn on free loopback ports, with credentials and
// the seeded service, and waits until it answers.
func startCairn(ctx context.Context, dir string, i int, bin string) (*server, error) {
	data := filepath.Join(dir, fmt.Sprintf("data-%d", i))
	cmd := exec.CommandContext(ctx, bin, "serve",
		"--api-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--dns-addr", "",
		"--credentials", filepath.Join(dir, "credentials"), "--account-id", accountID,
		"--init", filepath.Join(dir, "state.json"), "--data-dir", data,
		"--log-format", "json", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var last string
		for sc.Scan() {
			last = sc.Text()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line.Msg {
			case "serving the Cloud Map API":
				s.addr = line.Addr
			case "serving the admin listener":
				s.admin = line.Addr
			}
			if s.addr != "" && s.admin != "" && found != nil {
				found <- nil
				found = nil
			}
		}
		if found != nil {
			found <- fmt.Errorf("%s exited before serving: %s", bin, last)
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case err := <-found:
		if err != nil {
			return nil, err
		}
	case <-time.After(2 * time.Minute):
		return nil, fmt.Errorf("%s did not start within 2 minutes", bin)
	}
	return s, nil
}

// signed returns the DiscoverInstances request to addr, signed now.
func signed(ctx context.Context, addr string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "servicediscovery", region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

// fetch sends the signed request once and returns the answer.
func fetch(ctx context.Context, addr string) (int, http.Header, []byte, error) {
	req, err := signed(ctx, addr)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, nil, nil, fmt.Errorf("%s answers %s: %s", addr, resp.Status, b)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// bareServer answers every request with fixed bytes.
type bareServer struct {
	addr string
	srv  *http.Server
}

func (b *bareServer) close() { _ = b.srv.Close() }

// startBare starts a net/http server that reads each request's body and
// answers the status, headers and body cairn answered. net/http writes
// the Date header itself, as cairn's does; the request ID is cairn's,
// of the same length.
func startBare(status int, hdr http.Header, body []byte) (*bareServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fixed := hdr.Clone()
	fixed.Del("Date")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		h := w.Header()
		for k, v := range fixed {
			h[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	return &bareServer{addr: ln.Addr().String(), srv: srv}, nil
}

var (
	rpsLine    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	countLine  = regexp.MustCompile(`([0-9]+) requests in`)
	errorsLine = regexp.MustCompile(`(Non-2xx or 3xx responses|Socket errors):.*`)
)

// wrkResult is what one wrk run measured.
type wrkResult struct {
	rps      float64
	requests int64
	cpu      time.Duration // wrk's own
}

// runWrk drives addr with wrk and the request signed for it now.
func runWrk(ctx context.Context, dir, addr string, o options) (wrkResult, error) {
	req, err := signed(ctx, addr)
	if err != nil {
		return wrkResult{}, err
	}
	var lua strings.Builder
	fmt.Fprintf(&lua, "wrk.method = \"POST\"\nwrk.body = %q\n", body)
	for _, k := range slices.Sorted(maps.Keys(req.Header)) {
		fmt.Fprintf(&lua, "wrk.headers[%q] = %q\n", k, req.Header.Get(k))
	}
	script := filepath.Join(dir, "request.lua")
	if err := os.WriteFile(script, []byte(lua.String()), 0o600); err != nil {
		return wrkResult{}, err
	}
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.conns),
		"-d", o.dur.String(), "-s", script, "http://"+addr+"/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if m := errorsLine.Find(out); m != nil {
		return wrkResult{}, fmt.Errorf("wrk saw errors (%s):\n%s", m, out)
	}
	m, n := rpsLine.FindSubmatch(out), countLine.FindSubmatch(out)
	if m == nil || n == nil {
		return wrkResult{}, fmt.Errorf("no Requests/sec or request count in wrk's output:\n%s", out)
	}
	res := wrkResult{cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if res.rps, err = strconv.ParseFloat(string(m[1]), 64); err != nil {
		return wrkResult{}, err
	}
	if res.requests, err = strconv.ParseInt(string(n[1]), 10, 64); err != nil || res.requests == 0 {
		return wrkResult{}, fmt.Errorf("wrk's request count %q: %v", n[1], err)
	}
	return res, nil
}

// cpuTime is the user and system CPU time a process has used so far
// (from /proc; Linux counts it in ticks of 10 ms).
func cpuTime(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis (utime and stime are the 14th
	// and 15th fields of the line).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func medianDuration(v []time.Duration) time.Duration {
	f := make([]float64, len(v))
	for i, d := range v {
		f[i] = float64(d)
	}
	return time.Duration(median(f)).Round(100 * time.Nanosecond)
}

// profile writes a CPU profile of seconds taken from a cairn's admin
// listener.
func profile(ctx context.Context, admin string, d time.Duration, path string) error {
	time.Sleep(time.Second) // past wrk's connection start
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, max(1, int(d.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
