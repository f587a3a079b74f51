package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The writes comparison (`cairn-bench writes`) measures cairn's durable
// RegisterInstance beside the storage engines themselves writing the same
// shape, in one run on the same machine, so that the ratios hold however
// loaded the machine is:
//
//   - raw bbolt: DB.Batch (MaxBatchDelay 1 ms, fsync per commit) from the
//     writers, each writing an instance record (~600 B) and an operation
//     record (~200 B) under new keys;
//   - cairn over bolt, over HTTP, SigV4 verified: RegisterInstance of new
//     instances with a fresh CreatorRequestId into 4 services of one
//     namespace, operations done before the call returns;
//   - raw etcd: a transaction of one comparison (the instance key is
//     absent) and the two puts, from the writers over one client;
//   - cairn over that etcd with 1, 2 and 3 servers, the writers spread
//     over the servers, each set of servers on a key prefix of its own.
//
// The load generator runs on the same cores as the servers.

// rawShape returns an instance record of about 600 bytes and an
// operation record of about 200, keyed as cairn keys them.
func rawShape(i, n int) (instKey, inst, opKey, op []byte) {
	id := "w" + strconv.Itoa(i) + "-" + strconv.Itoa(n)
	instKey = []byte("inst/srv-bench0000000000/" + id)
	inst = fmt.Appendf(nil, `{"svc":"srv-bench0000000000","id":%q,"crid":%q,"by":"111122223333","attrs":{"AWS_INSTANCE_IPV4":"10.%d.%d.%d","AWS_INSTANCE_PORT":"8080","stage":"prod"}}`,
		id, id, i%256, n/256%256, n%256)
	for len(inst) < 600 {
		inst = append(inst, ' ')
	}
	// Time first, as cairn keys operations (registry.opKey): a commit's
	// new operations share the last page of the tree.
	t := strconv.FormatInt(time.Now().UnixMilli(), 36)
	opKey = []byte("op/" + strings.Repeat("0", max(8-len(t), 0)) + t + "/" + id)
	op = fmt.Appendf(nil, `{"a":"111122223333","r":"us-east-1","id":%q,"type":"REGISTER_INSTANCE","status":"SUCCESS","created":1,"updated":1}`, id)
	for len(op) < 200 {
		op = append(op, ' ')
	}
	return instKey, inst, opKey, op
}

// RawBoltWorkload is writers writing rawShape with bbolt's DB.Batch into
// a new file in dir, fsync on; the caller closes db once it has run.
func RawBoltWorkload(dir string, writers int, dur, warmup time.Duration, prog *Progress) (w *Workload, db *bbolt.DB, err error) {
	db, err = bbolt.Open(filepath.Join(dir, "raw.db"), 0o600, nil)
	if err != nil {
		return nil, nil, err
	}
	db.MaxBatchDelay = time.Millisecond
	bucket := []byte("kv")
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucketIfNotExists(bucket); return err }); err != nil {
		db.Close()
		return nil, nil, err
	}
	w = &Workload{Name: "write", Server: writeLabels["raw-bolt"], Clients: writers, Duration: dur, Warmup: warmup, Progress: prog,
		NewClient: func(i int) (func() error, error) {
			n := 0
			return func() error {
				n++
				ik, iv, ok, ov := rawShape(i, n)
				return db.Batch(func(tx *bbolt.Tx) error {
					b := tx.Bucket(bucket)
					if err := b.Put(ik, iv); err != nil {
						return err
					}
					return b.Put(ok, ov)
				})
			}, nil
		}}
	return w, db, nil
}

// boltTxID is the ID of db's last committed read-write transaction: its
// commits so far.
func boltTxID(db *bbolt.DB) int {
	id := 0
	_ = db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil })
	return id
}

// RawEtcdWorkload is writers writing rawShape to etcd, each write one
// transaction: if the instance key is absent, put both records;
// closeClient closes its etcd client once it has run.
func RawEtcdWorkload(endpoint string, writers int, dur, warmup time.Duration, prog *Progress) (w *Workload, closeClient func(), err error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, nil, err
	}
	w = &Workload{Name: "write", Server: writeLabels["raw-etcd"], Clients: writers, Duration: dur, Warmup: warmup, Progress: prog,
		NewClient: func(i int) (func() error, error) {
			n := 0
			return func() error {
				n++
				ik, iv, ok, ov := rawShape(i, n)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision("/raw/"+string(ik)), "=", 0)).
					Then(clientv3.OpPut("/raw/"+string(ik), string(iv)), clientv3.OpPut("/raw/"+string(ok), string(ov))).Commit()
				if err == nil && !resp.Succeeded {
					err = errors.New("raw etcd: the key exists")
				}
				return err
			}, nil
		}}
	return w, func() { cli.Close() }, nil
}

// Etcd is an etcd the tool started: one member on free loopback ports,
// with a data folder that Close removes.
type Etcd struct {
	Endpoint string
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// StartEtcd starts the etcd binary bin (default: etcd on PATH, then
// /usr/bin/etcd) with its default limits.
func StartEtcd(bin string, log io.Writer) (*Etcd, error) {
	if bin == "" {
		if p, err := exec.LookPath("etcd"); err == nil {
			bin = p
		} else {
			bin = "/usr/bin/etcd"
		}
	}
	dir, err := os.MkdirTemp("", "cairn-bench-etcd-*")
	if err != nil {
		return nil, err
	}
	cp, err := freePort()
	if err != nil {
		return nil, err
	}
	pp, err := freePort()
	if err != nil {
		return nil, err
	}
	client, peer := fmt.Sprintf("http://127.0.0.1:%d", cp), fmt.Sprintf("http://127.0.0.1:%d", pp)
	cmd := exec.Command(bin, "--name", "bench", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "bench="+peer,
		"--initial-cluster-state", "new", "--logger", "zap", "--log-level", "error", "--log-outputs", "stderr")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start etcd (%s): %w", bin, err)
	}
	e := &Etcd{Endpoint: client, dir: dir, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(e.exited) }()
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := hc.Get(client + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		select {
		case <-e.exited:
			e.Close()
			return nil, errors.New("etcd exited while starting")
		default:
		}
		if time.Now().After(deadline) {
			e.Close()
			return nil, errors.New("etcd did not become healthy within 20 s")
		}
	}
}

// Close stops etcd and removes its data.
func (e *Etcd) Close() {
	_ = e.cmd.Process.Kill()
	<-e.exited
	os.RemoveAll(e.dir)
}

// WriteParts are the parts of the writes comparison, in the order they
// run: each engine's raw reference just before cairn over it.
var WriteParts = []string{"raw-bolt", "bolt", "raw-etcd", "etcd1", "etcd2", "etcd3"}

// writeLabels are the parts' labels in the results.
var writeLabels = map[string]string{
	"raw-bolt": "raw bbolt DB.Batch", "bolt": "cairn bolt",
	"raw-etcd": "raw etcd txn", "etcd1": "cairn etcd ×1", "etcd2": "cairn etcd ×2", "etcd3": "cairn etcd ×3",
}

// parseParts reads --only: a comma list of WriteParts; empty is all.
func parseParts(only string) (map[string]bool, error) {
	want := map[string]bool{}
	if strings.TrimSpace(only) == "" {
		for _, p := range WriteParts {
			want[p] = true
		}
		return want, nil
	}
	for _, p := range strings.Split(only, ",") {
		p = strings.TrimSpace(p)
		if _, ok := writeLabels[p]; !ok {
			return nil, fmt.Errorf("--only: unknown part %q (parts: %s)", p, strings.Join(WriteParts, ","))
		}
		want[p] = true
	}
	return want, nil
}

// writesCommand runs the writes comparison: the parts --only names, or
// all of them.
func (o *options) writes(rep *Report, prog *Progress, log io.Writer) error {
	want, err := parseParts(o.only)
	if err != nil {
		return err
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	creds := o.creds(func(string) string { return "" })
	bin := o.cairnBin
	if bin == "" && (want["bolt"] || want["etcd1"] || want["etcd2"] || want["etcd3"]) {
		dir, err := os.MkdirTemp("", "cairn-bench-bin-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if bin, err = BuildCairn(dir); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "cairn-bench-writes-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	writers := o.registerClients
	plan := Plan{Prefix: "writes", Namespaces: 1, Services: 1, Instances: 1, WriteServices: 4}

	// measure runs w, watched by a partWatch of servers, and keeps its
	// result with the phase's CPU seconds.
	measure := func(part string, servers []*Server, commits func() float64, w *Workload) error {
		fmt.Fprintln(log, "writes:", part)
		pw := &partWatch{part: part, servers: servers, dir: o.profileDir, toolCPU: o.cpuProfile == "", log: log, commits: commits}
		w.Watch = pw.begin
		res, err := w.Run()
		if err != nil {
			return err
		}
		res.ServerCPU, res.ToolCPU, res.Commits, res.ServerAlloc = pw.serverCPU, pw.tool, pw.commitsN, pw.allocBytes
		switch {
		case pw.commitsN > 0 && pw.batched > 0:
			res.PerCommit = pw.batched / pw.commitsN
		case pw.commitsN > 0:
			res.PerCommit = float64(res.Ops) / pw.commitsN
		}
		if pw.commitsN > 0 {
			res.CommitMs, res.SyncMs = 1000*pw.commitSecs/pw.commitsN, 1000*pw.syncSecs/pw.commitsN
		}
		rep.Results = append(rep.Results, res)
		return nil
	}
	// cairnRun starts n cairn servers with args, seeds through the first,
	// and runs the register workload with the writers spread over them.
	cairnRun := func(part string, n int, args func(i int) []string) error {
		label := writeLabels[part]
		var eps []*Endpoint
		var servers []*Server
		for i := range n {
			srv, err := StartCairn(CairnOptions{Bin: bin, Creds: creds, Region: o.region, Account: o.account, NoLimits: true, Log: log,
				DataDir: filepath.Join(tmp, part+"-"+strconv.Itoa(i)), Args: args(i)})
			if err != nil {
				return err
			}
			defer srv.Close()
			servers = append(servers, srv)
			ep, err := NewEndpoint(srv.Endpoint, o.region, creds, writers)
			if err != nil {
				return err
			}
			defer ep.CloseIdle()
			eps = append(eps, ep)
		}
		seeded, err := Seed(context.Background(), eps[0], plan, true, 8, io.Discard)
		if err != nil {
			return fmt.Errorf("%s: seed: %w", label, err)
		}
		for _, ep := range eps[1:] { // the others see the services within moments
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				var out struct{ Service struct{ Id string } }
				if err := ep.Call(context.Background(), "GetService", map[string]any{"Id": seeded.WriteServiceIDs[len(seeded.WriteServiceIDs)-1]}, &out); err == nil {
					break
				} else if time.Now().After(deadline) {
					return fmt.Errorf("%s: a server does not see the services: %w", label, err)
				}
			}
		}
		runID := fmt.Sprintf("r%x", time.Now().UnixNano()%0xffffffff)
		reg := NewRegistered(writers)
		clients := make([]func(int) (func() error, error), n)
		for i, ep := range eps {
			clients[i] = RegisterClient(ep, seeded, runID, reg)
		}
		return measure(part, servers, nil, &Workload{Name: "register", Server: label, Clients: writers, Duration: o.duration, Warmup: o.warmup, Progress: prog,
			NewClient: func(i int) (func() error, error) { return clients[i%n](i) }})
	}

	if want["raw-bolt"] {
		w, db, err := RawBoltWorkload(tmp, writers, o.duration, o.warmup, prog)
		if err != nil {
			return err
		}
		err = measure("raw-bolt", nil, func() float64 { return float64(boltTxID(db)) }, w)
		closeDB := func() { db.Close() }
		closeDB()
		if err != nil {
			return err
		}
	}
	if want["bolt"] {
		if err := cairnRun("bolt", 1, func(int) []string { return nil }); err != nil {
			return err
		}
	}
	if !want["raw-etcd"] && !want["etcd1"] && !want["etcd2"] && !want["etcd3"] {
		return nil
	}
	etcd, err := StartEtcd(o.etcdBin, log)
	if err != nil {
		return err
	}
	defer etcd.Close()
	if want["raw-etcd"] {
		w, closeClient, err := RawEtcdWorkload(etcd.Endpoint, writers, o.duration, o.warmup, prog)
		if err != nil {
			return err
		}
		err = measure("raw-etcd", nil, nil, w)
		closeClient()
		if err != nil {
			return err
		}
	}
	for n := 1; n <= 3; n++ {
		part := "etcd" + strconv.Itoa(n)
		if !want[part] {
			continue
		}
		if err := cairnRun(part, n, func(int) []string {
			return []string{"--store", "etcd", "--etcd-endpoints", etcd.Endpoint, "--etcd-prefix", "/bench" + strconv.Itoa(n) + "/"}
		}); err != nil {
			return err
		}
	}
	return nil
}

// WriteRatios returns the lines comparing each cairn figure with its
// engine's, from the results of one writes run.
func WriteRatios(results []Result) []string {
	by := map[string]Result{}
	for _, r := range results {
		by[r.Server] = r
	}
	var out []string
	ratio := func(a, b string, target float64) {
		x, y := by[a], by[b]
		if x.PerSecond == 0 || y.PerSecond == 0 {
			return
		}
		got := x.PerSecond / y.PerSecond
		verdict := "met"
		if got < target {
			verdict = "MISSED"
		}
		out = append(out, fmt.Sprintf("%s / %s = %.0f%% (target ≥ %.0f%%: %s)", a, b, 100*got, 100*target, verdict))
	}
	ratio("cairn bolt", "raw bbolt DB.Batch", 0.75)
	ratio("cairn etcd ×1", "raw etcd txn", 0.60)
	ratio("cairn etcd ×2", "cairn etcd ×1", 1)
	ratio("cairn etcd ×3", "cairn etcd ×1", 1)
	for _, n := range []string{"cairn etcd ×2", "cairn etcd ×3"} {
		if r, ok := by[n]; ok {
			verdict := "met"
			if r.P99ms > 100 {
				verdict = "MISSED"
			}
			out = append(out, fmt.Sprintf("%s p99 %.1f ms (target ≤ 100 ms: %s)", n, r.P99ms, verdict))
		}
	}
	return out
}

// writesMarkdown is the Markdown table of a writes run. The CPU columns
// are CPU seconds per 1,000 writes in the measured phase: the started
// servers' processes, and this tool's (the load generator's; for an
// engine measured in-process, the engine's and its writers'). The
// servers' allocation is in KB per write.
func writesMarkdown(results []Result) string {
	var b strings.Builder
	b.WriteString("| what | writers | writes/s | p50 ms | p99 ms | errors | writes/commit | commit ms (sync) | server CPU s/1k writes | server KB alloc/write | tool CPU s/1k writes | load |\n" +
		"|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	perK := func(cpu float64, ops uint64) string {
		if cpu == 0 || ops == 0 {
			return "–"
		}
		return fmt.Sprintf("%.3f", 1000*cpu/float64(ops))
	}
	for _, r := range results {
		perCommit := "–"
		if r.PerCommit > 0 {
			perCommit = fmt.Sprintf("%.1f", r.PerCommit)
		}
		commit := "–"
		switch {
		case r.SyncMs > 0:
			commit = fmt.Sprintf("%.1f (%.1f)", r.CommitMs, r.SyncMs)
		case r.CommitMs > 0: // etcd: no local sync
			commit = fmt.Sprintf("%.1f", r.CommitMs)
		}
		alloc := "–"
		if r.ServerAlloc > 0 && r.Ops > 0 {
			alloc = fmt.Sprintf("%.1f", r.ServerAlloc/1024/float64(r.Ops))
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.2f | %.2f | %d | %s | %s | %s | %s | %s | %.1f |\n", r.Server, r.Clients, r.PerSecond, r.P50ms, r.P99ms, r.Errors,
			perCommit, commit, perK(r.ServerCPU, r.Ops), alloc, perK(r.ToolCPU, r.Ops), r.Load1)
	}
	b.WriteString("\n")
	for _, l := range WriteRatios(results) {
		b.WriteString("- " + l + "\n")
	}
	return b.String()
}
