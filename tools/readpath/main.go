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
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
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
	servers, answer, stop, err := startServers(ctx, dir, o)
	defer stop()
	if err != nil {
		return err
	}
	fmt.Printf("readpath: DiscoverInstances (10 of %d instances, %d-byte answer), SigV4 verified by cairn; wrk -t%d -c%d -d%s, %d rounds; %d CPUs\n",
		o.instances, answer, o.threads, o.conns, o.dur, o.rounds, runtime.NumCPU())
	var loads []string
	for r := 0; r < o.rounds; r++ {
		load := loadavg()
		loads = append(loads, load)
		if err := runRound(ctx, dir, o, servers, r); err != nil {
			return err
		}
		printRound(servers, r, load)
	}
	printMedians(servers, o, loads)
	return nil
}

// startServers starts each cairn of o, then the bare server answering
// what the first cairn answers (the last of servers), and returns the
// answer's length and stop, which stops them all (whatever the error).
func startServers(ctx context.Context, dir string, o options) (servers []*server, answer int, stop func(), err error) {
	var bare *bareServer
	stop = func() {
		if bare != nil {
			bare.close()
		}
		for _, s := range servers {
			s.stop()
		}
	}
	for i, spec := range o.cairns {
		bin, err := cairnBinary(ctx, dir, i, spec)
		if err != nil {
			return servers, 0, stop, err
		}
		s, err := startCairn(ctx, dir, i, bin)
		if err != nil {
			return servers, 0, stop, err
		}
		s.name = spec
		servers = append(servers, s)
	}
	status, hdr, want, err := sameAnswers(ctx, servers, o.showHeaders)
	if err != nil {
		return servers, 0, stop, err
	}
	if bare, err = startBare(status, hdr, want); err != nil {
		return servers, 0, stop, err
	}
	if st, _, b, err := fetch(ctx, bare.addr); err != nil || st != status || !bytes.Equal(b, want) {
		return servers, 0, stop, fmt.Errorf("the bare server does not answer cairn's bytes (%d, %v)", st, err)
	}
	return append(servers, &server{name: "bare net/http", addr: bare.addr}), len(want), stop, nil
}

// stop interrupts a cairn and waits for it to exit, killing it after 10 s.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
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

// sameAnswers returns the first cairn's answer, checking that every other
// cairn answers the same status and length (cairn shuffles the instances
// it returns, as AWS does: the answers have the same length, not the same
// order).
func sameAnswers(ctx context.Context, servers []*server, show bool) (int, http.Header, []byte, error) {
	status, hdr, want, err := fetch(ctx, servers[0].addr)
	if err != nil {
		return 0, nil, nil, err
	}
	if show {
		fmt.Printf("cairn answers %d, %d bytes\n", status, len(want))
		for _, k := range slices.Sorted(maps.Keys(hdr)) {
			fmt.Printf("  %s: %s\n", k, strings.Join(hdr[k], ", "))
		}
		fmt.Printf("  %s\n", want)
	}
	for _, s := range servers[1:] {
		st, _, b, err := fetch(ctx, s.addr)
		if err != nil {
			return 0, nil, nil, err
		}
		if st != status || len(b) != len(want) {
			return 0, nil, nil, fmt.Errorf("%s answers %d %q, %s answers %d %q: not the same answer", s.name, st, b, servers[0].name, status, want)
		}
	}
	return status, hdr, want, nil
}

// runRound runs wrk against every server once, in an order that reverses
// from one round to the next, and records each one's requests per second
// and CPU time per request (its own and wrk's). In round 0 it also takes
// the first cairn's CPU profile when asked.
func runRound(ctx context.Context, dir string, o options, servers []*server, r int) error {
	order := slices.Clone(servers)
	if r%2 == 1 {
		slices.Reverse(order)
	}
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
	return nil
}

// printRound prints round r: each cairn's rate and its ratios to the bare
// server's (the last of servers).
func printRound(servers []*server, r int, load string) {
	bare := servers[len(servers)-1]
	b := bare.rps[r]
	fmt.Printf("round %d (load %s):", r+1, load)
	for _, s := range servers[:len(servers)-1] {
		fmt.Printf("  %s %.0f/s (%.1f%%; by CPU %.1f%%)", s.name, s.rps[r], 100*s.rps[r]/b, 100*costRatio(s, bare, r))
	}
	fmt.Printf("  bare %.0f/s\n", b)
}

// printMedians prints each server's medians over the rounds.
func printMedians(servers []*server, o options, loads []string) {
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
}
