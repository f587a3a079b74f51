package loadgen

import (
	"errors"
	"fmt"
	"io"
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
	res := Result{Server: w.Server, Workload: w.Name, Clients: w.Clients}
	ops := make([]func() error, w.Clients)
	for i := range ops {
		op, err := w.NewClient(i)
		if err != nil {
			return res, fmt.Errorf("%s %s: client %d: %w", w.Server, w.Name, i, err)
		}
		ops[i] = op
	}
	stats := make([]clientStats, w.Clients)
	var phase atomic.Int32
	var wg sync.WaitGroup
	var running atomic.Int32
	allDone := make(chan struct{})
	running.Store(int32(w.Clients))
	for i := range ops {
		wg.Add(1)
		go func(op func() error, st *clientStats) {
			defer wg.Done()
			defer func() {
				if running.Add(-1) == 0 {
					close(allDone)
				}
			}()
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
				if p == phaseMeasure && phase.Load() == phaseMeasure {
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
		}(ops[i], &stats[i])
	}
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
	if !finished {
		select {
		case <-time.After(w.Duration):
		case <-allDone:
		}
	}
	elapsed := time.Since(began)
	phase.Store(phaseStop)
	wg.Wait()
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
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	res.P50ms, res.P99ms, res.P999ms = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Quantile(0.999))
	res.MeanMs, res.MaxMs = ms(h.Mean()), ms(h.Max())
	res.Load1 = LoadAvg()[0]
	return res, nil
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
