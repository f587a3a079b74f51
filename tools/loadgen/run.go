package loadgen

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// errDone ends one client's loop: it has no work left (a deregister phase
// that removed every instance it registered).
var errDone = errors.New("loadgen: client done")

// Workload is C clients running one operation in a loop.
type Workload struct {
	Name     string // discover, register, deregister, dns
	Server   string // the label of the server under test
	Clients  int
	Duration time.Duration
	Warmup   time.Duration // run but not measured
	// NewClient returns client i's operation, called in a loop; it
	// returns errDone when the client has no work left.
	NewClient func(i int) (op func() error, err error)
	// Progress receives a progress line each second (nil: none).
	Progress *Progress
	// Rate, when above 0, runs the workload open-loop: Rate requests a
	// second in all, on a fixed schedule, each one's latency counted from
	// when it was due (see runOpen). 0 is closed-loop: each client sends
	// its next request when the last one is answered.
	Rate float64
	// Watch, when set, is called as the measured phase begins, with its
	// planned length; the function it returns is called as that phase
	// ends. Run returns only after both (the writes comparison takes the
	// servers' CPU time and profiles with it).
	Watch func(d time.Duration) (end func())
}

// Result is the outcome of one workload against one server.
type Result struct {
	Server     string  `json:"server"`
	Workload   string  `json:"workload"`
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`
	Ops        uint64  `json:"ops"`
	Errors     uint64  `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	PerSecond  float64 `json:"ops_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	P999ms     float64 `json:"p999_ms"`
	MeanMs     float64 `json:"mean_ms"`
	MaxMs      float64 `json:"max_ms"`
	// Load1 is the machine's 1-minute load average when the run ended.
	Load1 float64 `json:"load1"`
	// Sync is the disk's fdatasync latency measured just before a
	// register workload against a local server.
	Sync *SyncLatency `json:"disk_sync,omitempty"`
	// NA marks a workload the server does not serve (moto has no DNS).
	NA   bool   `json:"na,omitempty"`
	Note string `json:"note,omitempty"`
	// Rate is the open-loop schedule's requests per second (0: closed
	// loop); Unsent, the requests that fell due in the measured time
	// but were never sent, as the clients were still behind when the
	// drain after it ended (their wait so far is in the percentiles).
	Rate   float64 `json:"rate_per_s,omitempty"`
	Unsent uint64  `json:"unsent,omitempty"`
	// ServerCPU and ToolCPU are the CPU seconds (user and system) that
	// the started servers' processes and this tool's process spent in
	// the measured phase; set by the writes comparison (0: not taken).
	// For an engine measured in-process, ToolCPU holds the engine's and
	// its writers' time.
	ServerCPU float64 `json:"server_cpu_s,omitempty"`
	ToolCPU   float64 `json:"tool_cpu_s,omitempty"`
	// Commits are the store commits (fsyncs) in the measured phase, set
	// by the writes comparison: bbolt's transactions for raw bbolt, the
	// servers' store_commit_batch_size count for cairn (0: not taken).
	// PerCommit is the writes each held on average: measured writes per
	// commit for raw bbolt, Update calls per commit for cairn.
	Commits   float64 `json:"commits,omitempty"`
	PerCommit float64 `json:"writes_per_commit,omitempty"`
	// CommitMs and SyncMs are a cairn commit's mean time, from its
	// transaction's start to durable, and the part of it bbolt spent
	// writing and fsyncing (bolt only), from the servers' metrics.
	CommitMs float64 `json:"commit_ms,omitempty"`
	SyncMs   float64 `json:"sync_ms,omitempty"`
	// ServerAlloc is the bytes the started servers allocated in the
	// measured phase (their go_memstats_alloc_bytes_total), set by the
	// writes comparison (0: not taken).
	ServerAlloc float64 `json:"server_alloc_bytes,omitempty"`
}

type clientStats struct {
	hist     Histogram
	ops      atomic.Uint64 // every completed op, warm-up included, for progress
	errs     uint64
	firstErr error
	_        [64]byte
}

const (
	phaseWarmup = iota
	phaseMeasure
	phaseStop
)

// Run drives the workload and returns its result.
func (w *Workload) Run() (Result, error) {
	res := Result{Server: w.Server, Workload: w.Name, Clients: w.Clients, Rate: max(w.Rate, 0)}
	ops := make([]func() error, w.Clients)
	for i := range ops {
		op, err := w.NewClient(i)
		if err != nil {
			return res, fmt.Errorf("%s %s: client %d: %w", w.Server, w.Name, i, err)
		}
		ops[i] = op
	}
	stats := make([]clientStats, w.Clients)
	total := func() uint64 {
		var n uint64
		for i := range stats {
			n += stats[i].ops.Load()
		}
		return n
	}
	prog := w.Progress
	if prog != nil {
		prog.start(w.Server+" "+w.Name, w.Warmup, w.Duration, total)
	}
	var elapsed time.Duration
	var late Histogram
	if w.Rate > 0 {
		elapsed = w.runOpen(ops, stats, &late)
	} else {
		elapsed = w.runClosed(ops, stats)
	}
	if prog != nil {
		prog.stop()
	}
	var h Histogram
	for i := range stats {
		h.Merge(&stats[i].hist)
		res.Errors += stats[i].errs
		if res.FirstError == "" && stats[i].firstErr != nil {
			res.FirstError = stats[i].firstErr.Error()
		}
	}
	res.Seconds = elapsed.Seconds()
	res.Ops = h.Count()
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Ops) / res.Seconds
	}
	res.Unsent = late.Count()
	h.Merge(&late)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	res.P50ms, res.P99ms, res.P999ms = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Quantile(0.999))
	res.MeanMs, res.MaxMs = ms(h.Mean()), ms(h.Max())
	res.Load1 = LoadAvg()[0]
	return res, nil
}

// runClosed runs each client in a loop, each request sent when the last
// one is answered, and returns how long the measured phase took. Its
// latencies are those of the requests sent: a server that stalls holds
// back the requests that would have been sent meanwhile, so the stall
// counts once per client however long it lasts (coordinated omission);
// runOpen counts it as users would see it.
func (w *Workload) runClosed(ops []func() error, stats []clientStats) time.Duration {
	var phase atomic.Int32
	wg, allDone := startClients(ops, stats, func(op func() error, st *clientStats) {
		for {
			p := phase.Load()
			if p == phaseStop {
				return
			}
			t0 := time.Now()
			err := op()
			d := time.Since(t0)
			if errors.Is(err, errDone) {
				return
			}
			st.add(err, d, p == phaseMeasure && phase.Load() == phaseMeasure)
		}
	})
	finished := false
	if w.Warmup > 0 {
		select {
		case <-time.After(w.Warmup):
		case <-allDone:
			finished = true
		}
	}
	phase.Store(phaseMeasure)
	began := time.Now()
	end := w.watch()
	if !finished {
		select {
		case <-time.After(w.Duration):
		case <-allDone:
		}
	}
	elapsed := time.Since(began)
	end()
	phase.Store(phaseStop)
	wg.Wait()
	return elapsed
}

// runOpen sends w.Rate requests a second in all on a fixed schedule from
// the start: request k falls due at start + k/Rate, whether or not the
// server has answered the ones before. A free client takes the next
// request, waits for its time if it is early, sends it, and records its
// latency from the moment it fell due, not from when it was sent. When
// the server stalls, the requests that fall due meanwhile queue, and
// their waiting is in the percentiles, as a user arriving at that moment
// would see it (no coordinated omission). Requests due in the warm-up are
// sent but not recorded.
//
// After the measured time, the clients go on sending what fell due
// within it (a server that fell behind answers its backlog), for up to
// another Duration; what is still unsent then is recorded in late, with
// the wait it had so far (a lower bound). It returns the measured time:
// Duration, or longer when the drain took longer.
func (w *Workload) runOpen(ops []func() error, stats []clientStats, late *Histogram) time.Duration {
	start := time.Now()
	measured := start.Add(w.Warmup)
	due := func(k int64) time.Time { return start.Add(time.Duration(float64(k) * float64(time.Second) / w.Rate)) }
	slots := int64(math.Ceil(w.Rate*(w.Warmup+w.Duration).Seconds() - 1e-9)) // due before the end
	var next atomic.Int64
	var stop atomic.Bool
	wg, allDone := startClients(ops, stats, func(op func() error, st *clientStats) {
		for !stop.Load() {
			k := next.Add(1) - 1
			if k >= slots {
				return
			}
			at := due(k)
			if wait := time.Until(at); wait > 0 {
				time.Sleep(wait)
			}
			err := op()
			d := time.Since(at)
			if errors.Is(err, errDone) {
				return
			}
			st.add(err, d, !at.Before(measured))
		}
	})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		time.Sleep(time.Until(measured))
		end := w.watch()
		time.Sleep(time.Until(measured.Add(w.Duration)))
		end()
	}()
	defer func() { <-watched }()
	select {
	case <-allDone:
	case <-time.After(time.Until(measured.Add(2 * w.Duration))):
		stop.Store(true)
	}
	wg.Wait()
	ended := time.Now()
	for k := next.Load(); k < slots; k++ {
		if at := due(k); !at.Before(measured) {
			late.Record(ended.Sub(at))
		}
	}
	return max(w.Duration, ended.Sub(measured))
}

// watch calls w.Watch, if set, and returns what ends it.
func (w *Workload) watch() (end func()) {
	if w.Watch == nil {
		return func() {}
	}
	return w.Watch(w.Duration)
}

// startClients runs loop for each client's operation and stats in a
// goroutine of its own; allDone is closed when every loop has returned.
func startClients(ops []func() error, stats []clientStats, loop func(op func() error, st *clientStats)) (wg *sync.WaitGroup, allDone <-chan struct{}) {
	wg = new(sync.WaitGroup)
	done := make(chan struct{})
	var running atomic.Int32
	running.Store(int32(len(ops)))
	for i := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if running.Add(-1) == 0 {
					close(done)
				}
			}()
			loop(ops[i], &stats[i])
		}()
	}
	return wg, done
}

// add counts one completed request, and records it when measured.
func (st *clientStats) add(err error, d time.Duration, measured bool) {
	if measured {
		if err != nil {
			st.errs++
			if st.firstErr == nil {
				st.firstErr = err
			}
		} else {
			st.hist.Record(d)
		}
	}
	st.ops.Add(1)
	if err != nil && !isAPIErr(err) {
		time.Sleep(10 * time.Millisecond) // a broken connection: don't spin
	}
}

func isAPIErr(err error) bool {
	var ae *APIError
	return errors.As(err, &ae)
}

// Progress prints one line per second on w while a workload runs: on a
// terminal it rewrites the line in place, elsewhere it prints lines.
type Progress struct {
	W        io.Writer
	Terminal bool

	quit chan struct{}
	done chan struct{}
}

func (p *Progress) start(label string, warmup, dur time.Duration, total func() uint64) {
	p.quit, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		began := time.Now()
		last, lastN := began, total()
		for {
			select {
			case <-p.quit:
				if p.Terminal {
					fmt.Fprint(p.W, "\r\x1b[K")
				}
				return
			case now := <-t.C:
				n := total()
				rate := float64(n-lastN) / now.Sub(last).Seconds()
				last, lastN = now, n
				el := now.Sub(began)
				stage := "run"
				if el < warmup {
					stage = "warm-up"
				}
				line := fmt.Sprintf("%-22s %-7s %4.0fs/%.0fs  %10.0f ops/s  %d done", label, stage,
					el.Seconds(), (warmup + dur).Seconds(), rate, n)
				if p.Terminal {
					fmt.Fprintf(p.W, "\r\x1b[K%s", line)
				} else {
					fmt.Fprintln(p.W, line)
				}
			}
		}
	}()
}

func (p *Progress) stop() {
	close(p.quit)
	<-p.done
}

// freePort returns a TCP port free at the moment on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
