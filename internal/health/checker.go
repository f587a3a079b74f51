// Package health runs Cloud Map's Route 53-style health checks: it probes
// every instance of every service that has a HealthCheckConfig (HTTP, HTTPS
// or TCP), counts consecutive results, and reports a status change to the
// registry once FailureThreshold results in a row disagree with the
// current status, so discovery and DNS follow.
//
// # Basics
//
// A Checker lists its targets from the registry whenever the registry
// changes, and probes each target once per interval at a fixed phase
// within the interval (derived from the target's key), so probes spread
// evenly instead of arriving in bursts. A target whose previous probe is
// still running when it is due again is skipped for that round, so an
// instance is never probed twice at once. At most Concurrency probes run at
// once.
//
// # Caveats
//
// A new check is healthy until it has results, as on Route 53. Statuses
// are durable in the registry, so after a restart a check resumes from the
// status it had. With several servers over one store, Owns selects the
// instances this server probes.
package health

import (
	"container/heap"
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn/internal/registry"
)

// Source is what a Checker needs of the registry.
type Source interface {
	HealthTargets() []registry.HealthTarget
	Changed() <-chan struct{}
	ReportHealth(ctx context.Context, t registry.HealthTarget, healthy bool) error
}

// Config configures a Checker.
type Config struct {
	// Interval is how often each target is probed; Route 53's is 30 s.
	Interval time.Duration
	// Concurrency is how many probes may run at once.
	Concurrency int
	// Timeouts are the probes' deadlines.
	Timeouts Timeouts
	// Owns reports whether this server probes the instance with the given
	// key ("<service-id>/<instance-id>"); nil means every instance.
	Owns func(key string) bool
	// Logger receives status changes; nil discards them.
	Logger *slog.Logger
	// Observer, when set, is told about every probe (see package
	// metrics).
	Observer Observer
	// Policy decides which addresses may be probed; a target it denies is
	// never contacted and counts as failing. Nil allows all.
	Policy *Policy
}

// Observer is told about a Checker's work. Its methods are called from
// the probes' goroutines and must be quick.
type Observer interface {
	// Probed is called after each probe of type kind (HTTP, HTTPS or
	// TCP) that ran to its end, with its result and how long it took.
	Probed(kind string, healthy bool, took time.Duration)
	// Flipped is called when a check's status changes.
	Flipped(healthy bool)
	// Lagged is called as each probe starts, with how late it starts
	// after its due time.
	Lagged(lag time.Duration)
}

// Probe is the last result of one instance's health check.
type Probe struct {
	// At is when the probe ended.
	At time.Time
	// Healthy is the probe's result; Err says why it failed.
	Healthy bool
	Err     string
	// Took is how long the probe took.
	Took time.Duration
}

// DefaultConfig returns Route 53's interval and timeouts.
func DefaultConfig() Config {
	return Config{Interval: 30 * time.Second, Concurrency: 256, Timeouts: DefaultTimeouts()}
}

// Checker runs the health checks.
type Checker struct {
	src Source
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	targets map[string]*target
	queue   schedule
	last    map[string]Probe // by target key

	sem   chan struct{}
	stats counters
}

type target struct {
	t       registry.HealthTarget
	healthy bool
	streak  int // consecutive results that disagree with healthy
	due     time.Time
	running bool
	index   int // in the schedule heap
}

// New returns a Checker over src; Run starts it.
func New(src Source, cfg Config) *Checker {
	d := DefaultConfig()
	if cfg.Interval <= 0 {
		cfg.Interval = d.Interval
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = d.Concurrency
	}
	if cfg.Timeouts == (Timeouts{}) {
		cfg.Timeouts = d.Timeouts
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Checker{src: src, cfg: cfg, log: log, targets: map[string]*target{}, last: map[string]Probe{},
		sem: make(chan struct{}, cfg.Concurrency)}
}

// Run probes until ctx ends, then waits for probes in flight.
func (c *Checker) Run(ctx context.Context) {
	changed := c.sync(time.Now())
	var inflight sync.WaitGroup
	defer inflight.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		for _, tg := range c.due(now) {
			select {
			case c.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			lag := time.Since(tg.due)
			c.stats.lag(lag)
			if c.cfg.Observer != nil {
				c.cfg.Observer.Lagged(lag)
			}
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				defer func() { <-c.sem }()
				c.check(ctx, tg)
			}()
		}
		wait := c.nextWait(time.Now())
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-changed:
			time.Sleep(10 * time.Millisecond) // let a burst of changes settle
			changed = c.sync(time.Now())
		case <-timer.C:
		}
	}
}

// sync brings the targets in line with the registry and returns the
// channel that signals the next change.
func (c *Checker) sync(now time.Time) <-chan struct{} {
	changed := c.src.Changed()
	list := c.src.HealthTargets()
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := make(map[string]bool, len(list))
	for _, t := range list {
		key := t.Key()
		if c.cfg.Owns != nil && !c.cfg.Owns(key) {
			continue
		}
		seen[key] = true
		old := c.targets[key]
		if old != nil && sameTarget(old.t, t) {
			if old.healthy != t.Healthy {
				// The registry's status changed under the check (a
				// re-registration resets it): count from it.
				old.healthy, old.streak = t.Healthy, 0
			}
			continue
		}
		if old != nil {
			heap.Remove(&c.queue, old.index)
		}
		tg := &target{t: t, healthy: t.Healthy, due: c.phase(key, now)}
		c.targets[key] = tg
		heap.Push(&c.queue, tg)
	}
	for key, tg := range c.targets {
		if !seen[key] {
			heap.Remove(&c.queue, tg.index)
			delete(c.targets, key)
			delete(c.last, key)
		}
	}
	c.stats.targets.Store(int64(len(c.targets)))
	return changed
}

func sameTarget(a, b registry.HealthTarget) bool {
	return a.Type == b.Type && a.Path == b.Path && a.Host == b.Host && a.Threshold == b.Threshold && a.Addr == b.Addr
}

// phase is a target's first due time: a fixed offset within the interval,
// from its key, so that probes spread across the interval.
func (c *Checker) phase(key string, now time.Time) time.Time {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	iv := int64(c.cfg.Interval)
	offset := time.Duration(h.Sum64() % uint64(iv))
	// Align to the wall clock by subtracting rather than with Truncate,
	// which would drop now's monotonic reading: due times compared on the
	// wall clock stall every probe for as long as the clock is set back.
	start := now.Add(-time.Duration((now.UnixNano()%iv + iv) % iv)).Add(offset)
	if start.Before(now) {
		start = start.Add(c.cfg.Interval)
	}
	return start
}

// due pops the targets due at now, and schedules their next probe.
func (c *Checker) due(now time.Time) []*target {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*target
	for len(c.queue) > 0 && !c.queue[0].due.After(now) {
		tg := c.queue[0]
		if tg.running {
			c.stats.skipped.Add(1)
		} else {
			tg.running = true
			out = append(out, &target{t: tg.t, due: tg.due, index: -1})
			out[len(out)-1].healthy = tg.healthy
		}
		tg.due = tg.due.Add(c.cfg.Interval)
		if tg.due.Before(now) { // fell more than an interval behind: skip ahead
			tg.due = c.phase(tg.t.Key(), now)
		}
		heap.Fix(&c.queue, 0)
	}
	return out
}

func (c *Checker) nextWait(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return c.cfg.Interval
	}
	return max(c.queue[0].due.Sub(now), 0)
}

// check probes one target and applies the result.
func (c *Checker) check(ctx context.Context, snap *target) {
	// The registry refuses registrations the policy denies; this catches
	// instances registered before it, or under a service that gained its
	// health check later.
	start := time.Now()
	err := c.cfg.Policy.Check(snap.t.Addr)
	if err == nil {
		err = probe(ctx, snap.t, c.cfg.Timeouts)
	}
	end := time.Now()
	if ctx.Err() != nil {
		// Stopping: the probe was cut short, so its result says nothing
		// about the target and must not be recorded as a failure.
		return
	}
	if c.cfg.Observer != nil {
		c.cfg.Observer.Probed(snap.t.Type, err == nil, end.Sub(start))
	}
	c.stats.probes.Add(1)
	if err != nil {
		c.stats.failures.Add(1)
	}
	key := snap.t.Key()
	c.mu.Lock()
	tg := c.targets[key]
	if tg == nil || !sameTarget(tg.t, snap.t) {
		c.mu.Unlock()
		return // the instance changed or left while the probe ran
	}
	tg.running = false
	ok := err == nil
	c.last[key] = Probe{At: end, Healthy: ok, Err: errString(err), Took: end.Sub(start)}
	if ok == tg.healthy {
		tg.streak = 0
		c.mu.Unlock()
		return
	}
	tg.streak++
	if tg.streak < tg.t.Threshold {
		c.mu.Unlock()
		return
	}
	tg.healthy, tg.streak = ok, 0
	t := tg.t
	c.mu.Unlock()
	c.stats.flips.Add(1)
	if c.cfg.Observer != nil {
		c.cfg.Observer.Flipped(ok)
	}
	c.log.Info("health status changed", "service", t.ServiceID, "instance", t.InstanceID, "addr", t.Addr.String(), "healthy", ok, "reason", errString(err))
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rerr := c.src.ReportHealth(rctx, t, ok); rerr != nil {
		c.log.Warn("health status not recorded; it is retried at the next probe", "instance", t.InstanceID, "err", rerr)
		c.mu.Lock()
		if cur := c.targets[key]; cur == tg {
			// Back to the recorded status, one result short of the
			// flip, so that the next result like this one reports again.
			tg.healthy, tg.streak = !ok, max(tg.t.Threshold-1, 0)
		}
		c.mu.Unlock()
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// schedule is a min-heap of targets by due time.
type schedule []*target

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].due.Before(s[j].due) }
func (s schedule) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].index, s[j].index = i, j
}
func (s *schedule) Push(x any) {
	tg := x.(*target)
	tg.index = len(*s)
	*s = append(*s, tg)
}
func (s *schedule) Pop() any {
	old := *s
	tg := old[len(old)-1]
	*s = old[:len(old)-1]
	tg.index = -1
	return tg
}

// LastProbe returns the last result of the health check of the instance
// with key ("<service-id>/<instance-id>"), if this Checker has probed it.
func (c *Checker) LastProbe(key string) (Probe, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.last[key]
	return p, ok
}

// Stats are a Checker's counters since it started.
type Stats struct {
	Targets  int64
	Probes   uint64
	Failures uint64
	// Flips counts status changes.
	Flips uint64
	// Skipped counts rounds a target missed because its previous probe was
	// still running.
	Skipped uint64
	// LagP50, LagP99 and LagMax describe how late probes started after
	// their due time.
	LagP50, LagP99, LagMax time.Duration
}

// Stats returns the counters.
func (c *Checker) Stats() Stats {
	p50, p99, mx := c.stats.lagQuantiles()
	return Stats{Targets: c.stats.targets.Load(), Probes: c.stats.probes.Load(), Failures: c.stats.failures.Load(),
		Flips: c.stats.flips.Load(), Skipped: c.stats.skipped.Load(), LagP50: p50, LagP99: p99, LagMax: mx}
}

type counters struct {
	targets                          atomic.Int64
	probes, failures, flips, skipped atomic.Uint64
	lagBuckets                       [40]atomic.Uint64 // bucket i: lag < 2^i µs
	lagMax                           atomic.Int64
}

func (s *counters) lag(d time.Duration) {
	us := max(d.Microseconds(), 0)
	i := 0
	for i < len(s.lagBuckets)-1 && us >= 1<<i {
		i++
	}
	s.lagBuckets[i].Add(1)
	for {
		cur := s.lagMax.Load()
		if int64(d) <= cur || s.lagMax.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

func (s *counters) lagQuantiles() (p50, p99, mx time.Duration) {
	var total uint64
	var counts [40]uint64
	for i := range s.lagBuckets {
		counts[i] = s.lagBuckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0, 0, 0
	}
	quantile := func(q float64) time.Duration {
		want := uint64(q * float64(total))
		var seen uint64
		for i, n := range counts {
			seen += n
			if seen > want {
				return time.Duration(1<<i) * time.Microsecond // upper bound of the bucket
			}
		}
		return time.Duration(1<<(len(counts)-1)) * time.Microsecond
	}
	mx = time.Duration(s.lagMax.Load())
	// A bucket's upper bound can exceed the largest lag seen.
	return min(quantile(0.5), mx), min(quantile(0.99), mx), mx
}
