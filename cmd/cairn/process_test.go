//go:build unix

package main

// These tests run the real cairn binary as a child process: built once
// with `go build`, started with `cairn serve`, killed with SIGKILL under
// load or stopped with SIGTERM, and started again on the same data
// directory.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	bbolt "go.etcd.io/bbolt"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// cairnBinary builds the cairn command once per test binary, into a
// folder TestMain removes (a t.TempDir would vanish with the first test
// that asked for it, while parallel tests still run the binary).
func cairnBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "cairn-bin-")
		if buildErr != nil {
			return
		}
		gotool, err := exec.LookPath("go")
		if err != nil {
			gotool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		binPath = filepath.Join(buildDir, "cairn")
		cmd := exec.Command(gotool, "build", "-o", binPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build cairn: %v", buildErr)
	}
	return binPath
}

// childEnv is the test's environment without CAIRN_* variables, so that a
// developer's settings can't change what the child does.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAIRN_") {
			env = append(env, kv)
		}
	}
	return env
}

// logBuffer collects a child's stderr and reports the address from its
// "serving the Cloud Map API" line.
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string // receives the API address once
	sent bool
}

var servingRE = regexp.MustCompile(`msg="serving the Cloud Map API" addr=(\S+)`)

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if !b.sent {
		if m := servingRE.FindSubmatch(b.buf.Bytes()); m != nil {
			b.sent = true
			b.addr <- string(m[1])
		}
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// child is one cairn process.
type child struct {
	t        *testing.T
	cmd      *exec.Cmd
	log      *logBuffer
	exited   chan struct{} // closed once Wait returned
	waitErr  error
	endpoint string // set by startServer
}

// startChild starts the cairn binary with args; it is killed when the
// test ends, and its output is logged if the test failed.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{t: t, log: &logBuffer{addr: make(chan string, 1)}, exited: make(chan struct{})}
	c.cmd = exec.Command(cairnBinary(t), args...)
	c.cmd.Env = childEnv()
	c.cmd.Stdout = c.log
	c.cmd.Stderr = c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start cairn: %v", err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			t.Logf("output of cairn %s:\n%s", strings.Join(args, " "), c.log.String())
		}
	})
	return c
}

// startServer runs `cairn serve` on a free loopback port over dataDir and
// waits until GET /healthz answers 200. The port is the one the server
// reports in its log, so no port is picked in advance and none can be
// taken by someone else in between.
func startServer(t *testing.T, dataDir string, extra ...string) *child {
	t.Helper()
	args := append([]string{"serve", "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", dataDir,
		"--limit-instances-per-service", "0", "--limit-instances-per-namespace", "0"}, extra...)
	c := startChild(t, args...)
	var addr string
	select {
	case addr = <-c.log.addr:
	case <-c.exited:
		t.Fatalf("cairn serve exited before serving (%v):\n%s", c.waitErr, c.log.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("cairn serve did not report its address within 15s:\n%s", c.log.String())
	}
	c.endpoint = "http://" + addr
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := hc.Get(c.endpoint + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz did not answer 200 within 10s (last: %v, %v)", resp, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the child to exit and returns its exit code.
func (c *child) wait(timeout time.Duration) int {
	c.t.Helper()
	select {
	case <-c.exited:
	case <-time.After(timeout):
		c.t.Fatalf("cairn did not exit within %v:\n%s", timeout, c.log.String())
	}
	var ee *exec.ExitError
	switch {
	case c.waitErr == nil:
		return 0
	case errors.As(c.waitErr, &ee):
		return ee.ExitCode()
	}
	c.t.Fatalf("wait for cairn: %v", c.waitErr)
	return -1
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	c.t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		c.t.Fatalf("kill cairn: %v", err)
	}
	<-c.exited
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		c.t.Fatalf("cairn ended with %v, not by SIGKILL:\n%s", c.cmd.ProcessState, c.log.String())
	}
}

// client returns a Cloud Map client for the child. Retries are off so that
// a success is exactly one acknowledged request, and enough connections
// are kept idle for the load's goroutines.
func (c *child) client() *sd.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	c.t.Cleanup(tr.CloseIdleConnections)
	cfg := cairntest.AWSConfig(c.endpoint, "us-east-1")
	cfg.HTTPClient = cairntest.HTTPClient(&http.Client{Transport: tr, Timeout: 20 * time.Second})
	cfg.RetryMaxAttempts = 1
	return sd.NewFromConfig(cfg)
}

// stop sends SIGTERM and waits for the exit code.
func (c *child) stop(t *testing.T) int {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	return c.wait(35 * time.Second)
}

// checkBolt opens the database file with bbolt directly, read-only, and
// runs bbolt's consistency check over every page.
func checkBolt(t *testing.T, dataDir string) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dataDir, bolt.FileName), 0o600, &bbolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("bbolt: open the store after the crash: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("bbolt: the store is inconsistent after the crash: %v", err)
	}
}

func TestServeDataDirInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts cairn processes")
	}
	t.Parallel()
	dataDir := t.TempDir()
	first := startServer(t, dataDir)
	start := time.Now()
	second := startChild(t, "serve", "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", dataDir)
	code := second.wait(5 * time.Second)
	out := second.log.String()
	if code == 0 {
		t.Fatalf("a second cairn serve on the same data directory exited 0:\n%s", out)
	}
	if !strings.Contains(out, "data directory is in use") || !strings.Contains(out, dataDir) {
		t.Errorf("a second cairn serve on the same data directory said %q; want it to name %s as in use", out, dataDir)
	}
	t.Logf("second cairn serve exited %d after %v: %s", code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
	// The first one is unharmed.
	if _, err := first.client().ListNamespaces(context.Background(), &sd.ListNamespacesInput{}); err != nil {
		t.Errorf("the first cairn after the second one's attempt: %v", err)
	}
}

func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts cairn processes")
	}
	t.Parallel()
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	c := srv.client()
	ctx := context.Background()
	env := setupCrashEnv(t, c)

	// Requests keep coming while the server stops; those it answered must
	// have taken effect.
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		stop  atomic.Bool
	)
	for w := range 8 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				id := fmt.Sprintf("w%d-%d", w, n)
				_, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: &env.svcIDs[0], InstanceId: &id, Attributes: instAttrs(id, 0, 0)})
				if err == nil {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	sent := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	code := srv.wait(10 * time.Second)
	stop.Store(true)
	wg.Wait()
	out := srv.log.String()
	if code != 0 {
		t.Fatalf("cairn serve exited %d after SIGTERM; want 0:\n%s", code, out)
	}
	if !strings.Contains(out, "msg=stopped") {
		t.Errorf("cairn serve did not log \"stopped\":\n%s", out)
	}
	if !strings.Contains(out, `msg="stopping: finishing requests in flight"`) {
		t.Errorf("cairn serve did not log that it is stopping:\n%s", out)
	}
	t.Logf("exited 0 %v after SIGTERM, with %d registrations acknowledged", time.Since(sent).Round(time.Millisecond), len(acked))

	srv = startServer(t, dataDir)
	c = srv.client()
	for _, id := range acked {
		if _, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: &env.svcIDs[0], InstanceId: &id}); err != nil {
			t.Errorf("GetInstance %s, acknowledged before SIGTERM: %v", id, err)
		}
	}
	svc, err := c.GetService(ctx, &sd.GetServiceInput{Id: &env.svcIDs[0]})
	if err != nil {
		t.Fatalf("GetService: %v", err)
	}
	if got := int(aws.ToInt32(svc.Service.InstanceCount)); got < len(acked) {
		t.Errorf("InstanceCount = %d after restart; %d registrations were acknowledged", got, len(acked))
	}
}
