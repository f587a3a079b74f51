package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/registry"
)

// fakeSource is a registry with a fixed list of targets.
type fakeSource struct {
	mu      sync.Mutex
	targets []registry.HealthTarget
	changed chan struct{}
	reports []report
	refuse  int // refuse the next reports
}

type report struct {
	key     string
	healthy bool
}

func newFakeSource(targets ...registry.HealthTarget) *fakeSource {
	return &fakeSource{targets: targets, changed: make(chan struct{})}
}

func (f *fakeSource) HealthTargets() []registry.HealthTarget {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.targets)
}

func (f *fakeSource) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeSource) ReportHealth(_ context.Context, t registry.HealthTarget, healthy bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse > 0 {
		f.refuse--
		return errors.New("store unavailable")
	}
	f.reports = append(f.reports, report{t.Key(), healthy})
	for i := range f.targets {
		if f.targets[i].Key() == t.Key() {
			f.targets[i].Healthy = healthy
		}
	}
	return nil
}

// set replaces the targets and signals the change.
func (f *fakeSource) set(targets ...registry.HealthTarget) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.targets = targets
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeSource) reported() []report {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reports)
}

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("srv-%016d/instance-%d", i%7, i)
	}
	return out
}

func TestPhaseWithinInterval(t *testing.T) {
	for _, iv := range []time.Duration{time.Millisecond, 100 * time.Millisecond, time.Second, 7 * time.Second, 30 * time.Second, time.Hour} {
		c := New(nil, Config{Interval: iv})
		base := time.Now()
		for _, key := range keys(200) {
			var offset time.Duration = -1
			for _, step := range []time.Duration{0, 1, iv / 3, iv - 1, iv, 5*iv + iv/2, 1000*iv + 3} {
				now := base.Add(step)
				p := c.phase(key, now)
				if p.Before(now) || !p.Before(now.Add(iv)) {
					t.Fatalf("interval %v: phase(%s, %v) = %v, not within [now, now+interval)", iv, key, now, p)
				}
				// The offset within the interval is the key's, whenever it is asked.
				o := time.Duration(p.UnixNano() % int64(iv))
				if offset >= 0 && o != offset {
					t.Fatalf("interval %v: %s has offset %v at one time and %v at another", iv, key, offset, o)
				}
				offset = o
			}
		}
	}
}

// TestPhaseKeepsMonotonicClock: due times carry the monotonic clock, so a
// wall clock set back doesn't stall the schedule.
func TestPhaseKeepsMonotonicClock(t *testing.T) {
	c := New(nil, Config{Interval: time.Second})
	if p := c.phase("srv-x/i-1", time.Now()); !strings.Contains(p.String(), " m=") {
		t.Errorf("phase = %v, without a monotonic clock reading", p)
	}
}

// TestPhaseSpread: 1,000 keys' phases cover the interval roughly evenly.
func TestPhaseSpread(t *testing.T) {
	const n, buckets = 1000, 10
	for _, iv := range []time.Duration{time.Second, 30 * time.Second} {
		c := New(nil, Config{Interval: iv})
		now := time.Now()
		var count [buckets]int
		var offsets []time.Duration
		for _, key := range keys(n) {
			o := c.phase(key, now).Sub(now)
			count[int(o*buckets/iv)]++
			offsets = append(offsets, o)
		}
		for i, got := range count {
			if got < n/buckets*6/10 || got > n/buckets*14/10 {
				t.Errorf("interval %v: tenth %d of the interval has %d of %d phases: %v", iv, i, got, n, count)
			}
		}
		slices.Sort(offsets)
		gap := offsets[0] + iv - offsets[n-1]
		for i := 1; i < n; i++ {
			gap = max(gap, offsets[i]-offsets[i-1])
		}
		if gap > iv/50 { // about 7/1000 expected
			t.Errorf("interval %v: a gap of %v without a due probe", iv, gap)
		}
	}
}

func tcpTarget(svc, inst string, addr netip.AddrPort, threshold int) registry.HealthTarget {
	return registry.HealthTarget{ServiceID: svc, InstanceID: inst, Type: "TCP", Threshold: threshold, Addr: addr, Healthy: true}
}

// TestDue: each target is due once per interval; one still running when
// it is due again is skipped; one that fell behind doesn't catch up with
// a burst.
func TestDue(t *testing.T) {
	const n = 100
	iv := time.Second
	var targets []registry.HealthTarget
	for i := range n {
		targets = append(targets, tcpTarget("srv-1", fmt.Sprint("i-", i), netip.MustParseAddrPort("127.0.0.1:1"), 1))
	}
	c := New(newFakeSource(targets...), Config{Interval: iv})
	now := time.Now()
	c.sync(now)
	if got := c.Stats().Targets; got != n {
		t.Fatalf("%d targets, want %d", got, n)
	}
	// Over the first interval, in small steps, every target once, in order.
	var due []*target
	var last time.Time
	for step := time.Duration(0); step <= iv; step += iv / 20 {
		for _, tg := range c.due(now.Add(step)) {
			if tg.due.Before(last) {
				t.Fatalf("due out of order: %v after %v", tg.due, last)
			}
			last = tg.due
			due = append(due, tg)
		}
	}
	if len(due) != n {
		t.Fatalf("%d probes due in the first interval, want %d", len(due), n)
	}
	if more := c.due(now.Add(iv)); len(more) != 0 {
		t.Fatalf("%d probes due again within the interval", len(more))
	}
	// Still running an interval later: skipped.
	if again := c.due(now.Add(2 * iv)); len(again) != 0 {
		t.Fatalf("%d running targets were due again", len(again))
	}
	if s := c.Stats().Skipped; s != n {
		t.Fatalf("skipped %d, want %d", s, n)
	}
	// Finished, and five intervals late: due once each, next within one
	// interval.
	c.mu.Lock()
	for _, tg := range c.targets {
		tg.running = false
	}
	c.mu.Unlock()
	late := now.Add(7 * iv)
	if got := c.due(late); len(got) != n {
		t.Fatalf("%d probes due after falling behind, want %d", len(got), n)
	}
	c.mu.Lock()
	for _, tg := range c.targets {
		if !tg.due.After(late) || tg.due.After(late.Add(iv)) {
			t.Errorf("next due %v, want within the interval after %v", tg.due, late)
		}
	}
	c.mu.Unlock()
}

// TestSync: targets follow the registry: new ones are added, removed ones
// dropped, changed ones replaced (starting from the registry's status),
// unchanged ones kept, and a status the registry changed is adopted.
func TestSync(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:1")
	a, b := tcpTarget("srv-1", "a", addr, 3), tcpTarget("srv-1", "b", addr, 3)
	src := newFakeSource(a, b)
	c := New(src, Config{Interval: time.Second, Owns: func(key string) bool { return !strings.HasSuffix(key, "/mine-not") }})
	now := time.Now()
	c.sync(now)
	c.mu.Lock()
	ta := c.targets[a.Key()]
	ta.healthy, ta.streak = false, 2
	tb := c.targets[b.Key()]
	tb.streak = 2
	c.mu.Unlock()

	moved := b
	moved.Addr = netip.MustParseAddrPort("127.0.0.1:2")
	moved.Healthy = false
	src.set(a, moved, tcpTarget("srv-1", "c", addr, 1), tcpTarget("srv-1", "mine-not", addr, 1))
	c.sync(now)
	c.mu.Lock()
	if len(c.targets) != 3 || len(c.queue) != 3 {
		t.Fatalf("%d targets, %d queued; want a, b and c", len(c.targets), len(c.queue))
	}
	if got := c.targets[a.Key()]; got != ta || !got.healthy || got.streak != 0 {
		t.Errorf("a: %+v; want the same target, following the registry's HEALTHY", got)
	}
	if got := c.targets[b.Key()]; got == tb || got.t.Addr != moved.Addr || got.healthy || got.streak != 0 {
		t.Errorf("b: %+v; want a new target at the new address, UNHEALTHY as the registry says", got)
	}
	c.mu.Unlock()

	src.set(a)
	c.sync(now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.targets) != 1 || len(c.queue) != 1 || c.queue[0] != ta {
		t.Errorf("after removals: %d targets, %d queued", len(c.targets), len(c.queue))
	}
}

// TestCheck: FailureThreshold consecutive failures report UNHEALTHY once;
// a report the registry refuses is made again at the next probe; a result
// for a target that changed meanwhile is dropped.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := netip.MustParseAddrPort(ln.Addr().String())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	closed := closedPort(t)

	tg := tcpTarget("srv-1", "i-1", closed, 3)
	src := newFakeSource(tg)
	c := New(src, Config{Interval: time.Second, Timeouts: fastTimeouts})
	now := time.Now()
	c.sync(now)
	round := func(i int) {
		t.Helper()
		due := c.due(now.Add(time.Duration(i) * time.Second))
		if len(due) != 1 {
			t.Fatalf("round %d: %d due", i, len(due))
		}
		c.check(ctx, due[0])
	}
	for i := 1; i <= 2; i++ {
		round(i)
		if r := src.reported(); len(r) != 0 {
			t.Fatalf("reported %v after %d failures with a threshold of 3", r, i)
		}
	}
	round(3)
	if r := src.reported(); !slices.Equal(r, []report{{tg.Key(), false}}) {
		t.Fatalf("reported %v after 3 failures, want UNHEALTHY", r)
	}
	round(4)
	if r := src.reported(); len(r) != 1 {
		t.Fatalf("reported %v: a status is reported once", r)
	}

	// Recovery, with the first report refused.
	src.mu.Lock()
	src.refuse = 1
	src.mu.Unlock()
	c.mu.Lock()
	c.targets[tg.Key()].t.Addr = open // the same instance, now reachable
	c.mu.Unlock()
	for i := 5; i <= 7; i++ {
		round(i)
	}
	if r := src.reported(); len(r) != 1 {
		t.Fatalf("reported %v; the first HEALTHY report was refused", r)
	}
	round(8)
	if r := src.reported(); len(r) != 2 || r[1] != (report{tg.Key(), true}) {
		t.Fatalf("reported %v; want HEALTHY retried at the next probe", r)
	}
	if s := c.Stats(); s.Probes != 8 || s.Failures != 4 || s.Flips != 3 {
		t.Errorf("stats %+v; want 8 probes, 4 failures, 3 flips (one refused)", s)
	}

	// A result about an address the instance no longer has is dropped,
	// though it disagrees with the new target's status.
	due := c.due(now.Add(9 * time.Second))
	moved := tg
	moved.Addr, moved.Threshold, moved.Healthy = closed, 1, false
	src.set(moved)
	c.sync(now.Add(9 * time.Second))
	c.check(ctx, due[0]) // probes the old, open address: healthy
	if r := src.reported(); len(r) != 2 {
		t.Errorf("reported %v for a target that changed", r)
	}
}

// TestCheckWhenStopping: a probe cut short because the checker stops is
// not a failure: stopping cairn must not mark instances UNHEALTHY.
func TestCheckWhenStopping(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	tg := tcpTarget("srv-1", "i-1", netip.MustParseAddrPort(ln.Addr().String()), 1)
	src := newFakeSource(tg)
	c := New(src, Config{Interval: time.Second, Timeouts: fastTimeouts})
	now := time.Now()
	c.sync(now)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.check(ctx, c.due(now.Add(time.Second))[0])
	if r := src.reported(); len(r) != 0 {
		t.Errorf("reported %v for a probe cut short by shutdown", r)
	}
	if s := c.Stats(); s.Failures != 0 {
		t.Errorf("stats %+v: a probe cut short counted as a failure", s)
	}
}

// TestRun: the checker probes what the registry lists, follows changes,
// and stops when its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := newFakeSource(tcpTarget("srv-1", "i-1", closedPort(t), 1))
	c := New(src, Config{Interval: 20 * time.Millisecond, Timeouts: fastTimeouts})
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("i-1 is reported UNHEALTHY", func() bool { return len(src.reported()) == 1 })
	src.set(tcpTarget("srv-1", "i-2", closedPort(t), 1))
	wait("i-2 is reported UNHEALTHY", func() bool { return len(src.reported()) == 2 })
	if s := c.Stats(); s.Targets != 1 || s.Probes < 2 || s.LagP50 <= 0 || s.LagP99 < s.LagP50 || s.LagMax < 0 {
		t.Errorf("stats %+v", s)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run didn't return after its context ended")
	}
}

func TestLagQuantiles(t *testing.T) {
	var s counters
	if p50, p99, mx := s.lagQuantiles(); p50 != 0 || p99 != 0 || mx != 0 {
		t.Errorf("no samples: %v %v %v", p50, p99, mx)
	}
	for range 980 {
		s.lag(300 * time.Microsecond)
	}
	for range 15 {
		s.lag(5 * time.Millisecond)
	}
	for range 5 {
		s.lag(time.Second)
	}
	s.lag(-time.Millisecond) // a probe started early counts as no lag
	p50, p99, mx := s.lagQuantiles()
	// Quantiles are the upper bounds of power-of-two buckets.
	if p50 < 300*time.Microsecond || p50 > 600*time.Microsecond {
		t.Errorf("p50 = %v, want about 300µs", p50)
	}
	if p99 < 5*time.Millisecond || p99 > 10*time.Millisecond {
		t.Errorf("p99 = %v, want about 5ms", p99)
	}
	if mx != time.Second {
		t.Errorf("max = %v, want 1s", mx)
	}

	// Quantiles never exceed the maximum, though their bucket's bound does.
	var one counters
	one.lag(3 * time.Millisecond)
	if p50, p99, mx := one.lagQuantiles(); p50 != mx || p99 != mx || mx != 3*time.Millisecond {
		t.Errorf("one lag of 3ms: p50 %v, p99 %v, max %v", p50, p99, mx)
	}
}
