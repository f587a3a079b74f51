package loadgen

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// ScaleOptions configures the scale curve.
type ScaleOptions struct {
	Sizes    []int // instance counts, such as 1000, 100000, 1000000
	Clients  int
	Duration time.Duration
	Warmup   time.Duration
	// Dir holds the data folders (one per size); empty is a temporary
	// folder, removed at the end.
	Dir string
	// KeepOperations keeps the seeding's operation records in the store
	// (as right after registering everything); by default they are
	// expired, as in a deployment whose instances are older than the
	// operation retention.
	KeepOperations bool
	// ProfileDir, when set, receives a CPU profile of loading the largest
	// store in-process (what cairn does when it starts).
	ProfileDir string
	Query      map[string]string
	MaxResults int
	SeedConc   int
	Cairn      CairnOptions
	Log        io.Writer
	Progress   *Progress
}

// ScaleReport is the scale curve.
type ScaleReport struct {
	// Baseline is the memory of a cairn with an empty store.
	Baseline Mem          `json:"baseline"`
	Points   []ScalePoint `json:"points"`
	// Profile is the CPU profile of loading the largest store.
	Profile string `json:"load_profile,omitempty"`
}

// ScalePoint is one size of the curve.
type ScalePoint struct {
	Instances  int             `json:"instances"`
	Namespaces int             `json:"namespaces"`
	Services   int             `json:"services_per_namespace"`
	PerService int             `json:"instances_per_service"`
	Seed       StoreSeedResult `json:"seed"`
	// ReadySec is the first start on the seeded store, RestartSec the
	// second (after a clean stop): process start to GET /healthz 200.
	ReadySec   float64 `json:"ready_seconds"`
	RestartSec float64 `json:"restart_seconds"`
	// LoadTook is what cairn logged as its state load time at restart.
	LoadTook string `json:"restart_load_took"`
	// Memory of the cairn process once started, and after the discover
	// run.
	MemIdle  Mem `json:"mem_idle"`
	MemAfter Mem `json:"mem_after"`
	// AnonPerInstance is the growth of resident anonymous memory (the Go
	// heap with the GC's headroom, not the store's memory map) over an
	// empty cairn's, per instance, once started.
	AnonPerInstance float64 `json:"rss_anon_per_instance_bytes"`
	Discover        Result  `json:"discover"`
}

// RunScale measures the scale curve: for each size it seeds a store
// directly (SeedStore), starts cairn on it, measures its memory and
// DiscoverInstances across every service, then stops it and measures a
// restart.
func RunScale(ctx context.Context, o ScaleOptions) (*ScaleReport, error) {
	rep := &ScaleReport{}
	parent := o.Dir
	if parent == "" {
		d, err := os.MkdirTemp("", "cairn-bench-scale-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		parent = d
	}
	copts := o.Cairn
	copts.NoLimits, copts.DNS = true, false
	if copts.Bin == "" && !copts.InProcess {
		bin, err := BuildCairn(parent)
		if err != nil {
			return nil, err
		}
		copts.Bin = bin
	}
	// An empty cairn, for the baseline RSS.
	copts.DataDir = filepath.Join(parent, "empty")
	srv, err := StartCairn(copts)
	if err != nil {
		return nil, err
	}
	time.Sleep(500 * time.Millisecond)
	rep.Baseline = srv.Mem()
	srv.Close()
	os.RemoveAll(copts.DataDir)

	caller := registry.Caller{Account: o.Cairn.Account, Region: o.Cairn.Region}
	for idx, n := range o.Sizes {
		sh := ShapeFor(n)
		p := Plan{Prefix: "scale", Namespaces: sh.Namespaces, Services: sh.Services, Instances: sh.Instances, Query: o.Query, MaxResults: o.MaxResults}
		pt := ScalePoint{Instances: sh.Total(), Namespaces: sh.Namespaces, Services: sh.Services, PerService: sh.Instances}
		dir := filepath.Join(parent, fmt.Sprintf("n%d", n))
		os.RemoveAll(dir)
		fmt.Fprintf(o.Log, "scale: %d instances (%s): seeding %s\n", sh.Total(), sh, dir)
		seed, err := SeedStore(ctx, dir, p, caller, !o.KeepOperations, o.SeedConc, o.Log)
		if err != nil {
			return nil, fmt.Errorf("seed %d instances: %w", n, err)
		}
		pt.Seed = *seed
		if o.ProfileDir != "" && idx == len(o.Sizes)-1 {
			path, err := profileLoad(ctx, dir, o.ProfileDir, n)
			if err != nil {
				return nil, err
			}
			rep.Profile = path
		}
		copts.DataDir = dir
		srv, err := StartCairn(copts)
		if err != nil {
			return nil, err
		}
		pt.ReadySec = srv.Ready.Seconds()
		time.Sleep(time.Second) // let the start's garbage be collected
		pt.MemIdle = srv.Mem()
		pt.AnonPerInstance = float64(pt.MemIdle.Anon-rep.Baseline.Anon) / float64(sh.Total())
		ep, err := NewEndpoint(srv.Endpoint, copts.Region, copts.Creds, o.Clients)
		if err != nil {
			srv.Close()
			return nil, err
		}
		s := &Seeded{}
		s.DiscoverBodies, s.DiscoverHashes = p.Bodies()
		w := &Workload{Name: "discover", Server: fmt.Sprintf("cairn@%d", sh.Total()), Clients: o.Clients, Duration: o.Duration, Warmup: o.Warmup,
			NewClient: DiscoverClient(ep, s), Progress: o.Progress}
		res, err := w.Run()
		ep.CloseIdle()
		if err != nil {
			srv.Close()
			return nil, err
		}
		pt.Discover = res
		pt.MemAfter = srv.Mem()
		if err := srv.Close(); err != nil {
			return nil, err
		}
		srv, err = StartCairn(copts)
		if err != nil {
			return nil, fmt.Errorf("restart with %d instances: %w", n, err)
		}
		pt.RestartSec, pt.LoadTook = srv.Ready.Seconds(), srv.LoadTook
		srv.Close()
		fmt.Fprintf(o.Log, "scale: %d instances: ready %.2fs, restart %.2fs (state load %s), RSS %.0f MiB (anonymous %.0f MiB), discover %.0f/s p50 %.3f ms p99 %.3f ms\n",
			sh.Total(), pt.ReadySec, pt.RestartSec, pt.LoadTook, mib(pt.MemIdle.RSS), mib(pt.MemIdle.Anon), res.PerSecond, res.P50ms, res.P99ms)
		rep.Points = append(rep.Points, pt)
		if o.Dir == "" {
			os.RemoveAll(dir)
		}
	}
	return rep, nil
}

// profileLoad writes a CPU profile of opening the store in dir and
// loading a registry over it, as cairn does when it starts.
func profileLoad(ctx context.Context, dir, profDir string, n int) (string, error) {
	if err := os.MkdirAll(profDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(profDir, fmt.Sprintf("load-%d.pprof", n))
	_, err := LoadStore(ctx, dir, path)
	return path, err
}

// LoadTimes is what loading a data folder took.
type LoadTimes struct {
	Open, Registry, Total time.Duration
	Heap                  uint64 // heap in use after the load, after GC
}

// LoadStore opens the store in dir and loads a registry over it, as
// cairn does when it starts, under the CPU profiler when profile is set.
func LoadStore(ctx context.Context, dir, profile string) (LoadTimes, error) {
	var t LoadTimes
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return t, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return t, err
		}
		defer pprof.StopCPUProfile()
	}
	began := time.Now()
	st, err := bolt.Open(dir, bolt.DefaultOptions())
	if err != nil {
		return t, err
	}
	defer st.Close()
	t.Open = time.Since(began)
	reg, err := registry.New(ctx, st, registry.Config{Limits: registry.Limits{}})
	if err != nil {
		return t, err
	}
	t.Total = time.Since(began)
	t.Registry = t.Total - t.Open
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Heap = ms.HeapAlloc
	runtime.KeepAlive(reg)
	reg.Close()
	return t, nil
}

// WriteTable prints the curve.
func (s *ScaleReport) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "scale curve (an empty cairn: RSS %.1f MiB, anonymous %.1f MiB)\n", mib(s.Baseline.RSS), mib(s.Baseline.Anon))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "instances\tshape\tseed s\tstore MiB\tready s\trestart s\tstate load\tRSS MiB\tanon MiB\tanon B/inst\tview B/inst\tattr B/inst\tdiscover/s\tp50 ms\tp99 ms\tp99.9 ms\tload1\t")
	for _, p := range s.Points {
		fmt.Fprintf(tw, "%d\t%d×%d×%d\t%.1f\t%.0f\t%.2f\t%.2f\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f\t%.1f\t\n",
			p.Instances, p.Namespaces, p.Services, p.PerService, p.Seed.Seconds, mib(p.Seed.StoreBytes), p.ReadySec, p.RestartSec, p.LoadTook,
			mib(p.MemIdle.RSS), mib(p.MemIdle.Anon), p.AnonPerInstance, p.Seed.ViewBytes, p.Seed.AttrBytes, p.Discover.PerSecond,
			p.Discover.P50ms, p.Discover.P99ms, p.Discover.P999ms, p.Discover.Load1)
	}
	tw.Flush()
	if s.Profile != "" {
		fmt.Fprintf(w, "CPU profile of loading the largest store: %s (go tool pprof -top %s)\n", s.Profile, s.Profile)
	}
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
