//go:build unix

package health_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/server"
)

// TestHealthScale measures whether the checker keeps up with 10,000
// instances probed every second (issue 4), against real loopback HTTP
// targets. It is a measurement, not a unit test, so it runs only when
// asked:
//
//	CAIRN_HEALTH_SCALE=1 go test -run TestHealthScale -v ./internal/health/
//
// CAIRN_HEALTH_SCALE_N sets the number of instances (10000),
// CAIRN_HEALTH_SCALE_SECONDS the measured window (12),
// CAIRN_HEALTH_SCALE_CONCURRENCY the checker's concurrency (the default),
// and CAIRN_HEALTH_SCALE_CPUPROFILE a file for a CPU profile of the
// window. Run it without -race: the race detector slows everything
// several times over.
//
// It registers the instances (in a few services of an HTTP namespace,
// spread over 16 targets on 127.0.0.10-25), then restarts cairn over the
// same store so that the checker's counters cover the steady state only,
// lets it warm up for 3 s, and reports probes/s over the window and the
// scheduling lag (how late probes started after their due time).
func TestHealthScale(t *testing.T) {
	if os.Getenv("CAIRN_HEALTH_SCALE") == "" {
		t.Skip("a measurement; set CAIRN_HEALTH_SCALE=1 to run it")
	}
	n := envInt(t, "CAIRN_HEALTH_SCALE_N", 10000)
	window := time.Duration(envInt(t, "CAIRN_HEALTH_SCALE_SECONDS", 12)) * time.Second
	const (
		interval = time.Second
		services = 4
		targets  = 16
		warmup   = 3 * time.Second
	)

	var hits atomic.Int64
	addrs := make([]string, targets)
	for i := range addrs {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			_, _ = io.WriteString(w, "ok")
		}))
		srv.Listener.Close()
		srv.Listener = listen(t, fmt.Sprintf("127.0.0.%d:0", 10+i))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Start()
		t.Cleanup(srv.Close)
		addrs[i] = srv.Listener.Addr().String()
	}

	opts := bolt.DefaultOptions()
	opts.NoSync = true // registration speed; the checker doesn't write while all are healthy
	st, err := bolt.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := func() (*server.Server, *sd.Client) {
		cfg := server.DefaultConfig()
		cfg.APIAddr, cfg.DNSAddr, cfg.Store = "127.0.0.1:0", "", st
		cfg.HealthInterval = interval
		cfg.HealthConcurrency = envInt(t, "CAIRN_HEALTH_SCALE_CONCURRENCY", cfg.HealthConcurrency)
		cfg.Limits = registry.Limits{} // no quotas
		srv, err := server.Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		awsCfg := cairntest.AWSConfig(srv.Endpoint(), cfg.Region)
		// A transport that keeps enough idle connections for concurrent
		// registration.
		awsCfg.HTTPClient = cairntest.HTTPClient(&http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}})
		return srv, sd.NewFromConfig(awsCfg)
	}
	stop := func(srv *server.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Error(err)
		}
	}

	// Register.
	srv, client := start()
	e := &env{t: t, ctx: context.Background(), srv: srv, client: client}
	ns := e.httpNamespace("scale.test")
	svcIDs := make([]string, services)
	for i := range svcIDs {
		svcIDs[i] = e.service(ns, fmt.Sprint("svc-", i), &sd.CreateServiceInput{HealthCheckConfig: check("HTTP", "/health", 0)})
	}
	began := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				_, err := client.RegisterInstance(e.ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcIDs[i%services]),
					InstanceId: aws.String(fmt.Sprint("i-", i)), Attributes: addrAttrs(addrs[i%targets])})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	took := time.Since(began)
	eventually(t, "the checker has every target", func() bool { return srv.HealthStats().Targets == int64(n) })
	t.Logf("registered %d instances in %v (%.0f/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	stop(srv)

	// Restart for fresh counters, warm up, measure.
	srv, _ = start()
	defer stop(srv)
	restarted := time.Now()
	eventually(t, "the checker has every target", func() bool { return srv.HealthStats().Targets == int64(n) })
	time.Sleep(warmup - time.Since(restarted))
	if f := os.Getenv("CAIRN_HEALTH_SCALE_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	s0, h0, cpu0, t0 := srv.HealthStats(), hits.Load(), cpuTime(), time.Now()
	time.Sleep(window)
	s1, h1, cpu1, t1 := srv.HealthStats(), hits.Load(), cpuTime(), time.Now()
	elapsed := t1.Sub(t0).Seconds()
	rate := float64(s1.Probes-s0.Probes) / elapsed
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	t.Logf("machine: %d CPUs (GOMAXPROCS %d), %s; load average %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel(), loadAverage())
	t.Logf("%d instances, interval %v, concurrency %d, %d loopback HTTP targets", n, interval,
		envInt(t, "CAIRN_HEALTH_SCALE_CONCURRENCY", server.DefaultConfig().HealthConcurrency), targets)
	t.Logf("window %.1fs after a %v warm-up: %.0f probes/s (want %.0f); targets served %.0f requests/s",
		elapsed, warmup, rate, float64(n)/interval.Seconds(), float64(h1-h0)/elapsed)
	t.Logf("scheduling lag since restart: p50 %v, p99 %v, max %v", s1.LagP50, s1.LagP99, s1.LagMax)
	t.Logf("since restart: %d probes, %d failures, %d skipped rounds, %d flips", s1.Probes, s1.Failures, s1.Skipped, s1.Flips)
	probes := float64(s1.Probes - s0.Probes)
	t.Logf("process CPU over the window: %.2f cores (cairn and the targets together), %.0fµs per probe; %d goroutines; heap in use %d MiB",
		(cpu1-cpu0).Seconds()/elapsed, (cpu1-cpu0).Seconds()/max(probes, 1)*1e6, runtime.NumGoroutine(), ms.HeapInuse>>20)

	if s1.Failures != 0 || s1.Flips != 0 {
		t.Errorf("%d probes failed and %d statuses flipped; all targets were up", s1.Failures, s1.Flips)
	}
	if rate < 0.95*float64(n)/interval.Seconds() {
		t.Errorf("fell behind: %.0f probes/s for %d instances every %v", rate, n, interval)
	}
	if s1.Skipped != 0 {
		t.Errorf("%d rounds skipped", s1.Skipped)
	}
	if s1.LagP99 > 100*time.Millisecond {
		t.Errorf("lag p99 %v over 100ms", s1.LagP99)
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		t.Fatalf("%s=%q is not a positive number", name, s)
	}
	return v
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the 1, 5 and 15 minute load averages: the figures mean
// little on a machine busy with something else.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return "unknown"
	}
	return string(bytes.Join(f[:3], []byte(" ")))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && string(bytes.TrimSpace(k)) == "model name" {
			return string(bytes.TrimSpace(v))
		}
	}
	return "unknown CPU"
}
