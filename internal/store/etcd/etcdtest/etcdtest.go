// Package etcdtest runs a real etcd for tests: the etcd binary (Debian's
// etcd-server package, which .ci/run installs) started on free loopback
// ports with a temporary data directory, and stopped when the test ends.
//
// A test that needs etcd calls Start, which skips the test with a clear
// message when no etcd binary is found. CAIRN_ETCD_BIN names the binary
// explicitly (a path that does not exist skips the tests); otherwise "etcd" is looked up in PATH, then /usr/bin/etcd.
package etcdtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary returns the path of the etcd binary, or "" if there is none.
func Binary() string {
	if p := os.Getenv("CAIRN_ETCD_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/etcd"); err == nil {
		return "/usr/bin/etcd"
	}
	return ""
}

// SkipMessage is the reason tests give when etcd is absent.
const SkipMessage = "no etcd binary: install Debian's etcd-server package (apt-get install etcd-server) or set CAIRN_ETCD_BIN; skipping the etcd tests"

// Server is one running etcd member: a single-member etcd from Start, or
// a member of a Cluster.
type Server struct {
	t       testing.TB
	bin     string
	dir     string
	args    []string
	name    string
	client  string // http://127.0.0.1:port
	peer    string
	initial string // --initial-cluster
	logPath string

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed when cmd has been waited for.
	exited chan struct{}
}

// Start starts an etcd for t and stops it when t ends; extra are added to
// etcd's command line (such as "--max-txn-ops", "1024"). It skips t when
// there is no etcd binary.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip(SkipMessage)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), args: extra, name: "cairn-test"}
	s.logPath = filepath.Join(s.dir, "etcd.log")
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var ports []int
		ports, err = freePorts(2)
		if err != nil {
			continue
		}
		s.client = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
		s.peer = fmt.Sprintf("http://127.0.0.1:%d", ports[1])
		s.initial = s.name + "=" + s.peer
		if err = s.start(true); err == nil {
			break
		}
		s.stop(syscall.SIGKILL)
		_ = os.RemoveAll(filepath.Join(s.dir, "data"))
	}
	if err != nil {
		t.Fatalf("etcdtest: start etcd: %v\n%s", err, s.Log())
	}
	t.Cleanup(func() { s.stop(syscall.SIGKILL) })
	return s
}

// Endpoints are the client URLs of the etcd.
func (s *Server) Endpoints() []string { return []string{s.client} }

// Endpoint is the client URL of the etcd.
func (s *Server) Endpoint() string { return s.client }

// Log returns what etcd has logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func (s *Server) start(fresh bool) error {
	exited, err := s.launch(fresh)
	if err != nil {
		return err
	}
	return s.waitHealthy(exited, 15*time.Second)
}

// launch starts the etcd process and returns the channel closed when it
// exits.
func (s *Server) launch(fresh bool) (chan struct{}, error) {
	args := []string{
		"--name", s.name,
		"--data-dir", filepath.Join(s.dir, "data"),
		"--listen-client-urls", s.client,
		"--advertise-client-urls", s.client,
		"--listen-peer-urls", s.peer,
		"--initial-advertise-peer-urls", s.peer,
		"--initial-cluster", s.initial,
		"--heartbeat-interval", "20",
		"--election-timeout", "200",
		"--snapshot-count", "10000",
		"--logger", "zap",
		"--log-level", "warn",
		"--log-outputs", "stderr",
	}
	if fresh {
		args = append(args, "--initial-cluster-state", "new")
	}
	args = append(args, s.args...)
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return exited, nil
}

func (s *Server) waitHealthy(exited chan struct{}, within time.Duration) error {
	deadline := time.Now().Add(within)
	hc := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("etcd exited during start")
		default:
		}
		resp, err := hc.Get(s.client + "/health")
		if err == nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if strings.Contains(b.String(), `"health":"true"`) {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("etcd not healthy within %v", within)
}

// Stop stops etcd gracefully (SIGTERM) and waits for it to exit; its
// data stays, for Restart.
func (s *Server) Stop() { s.stop(syscall.SIGTERM) }

// Kill stops etcd at once (SIGKILL), as a crash would.
func (s *Server) Kill() { s.stop(syscall.SIGKILL) }

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Restart starts a stopped etcd again on the same ports with its data.
func (s *Server) Restart() {
	s.t.Helper()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if err = s.start(false); err == nil {
			return
		}
		s.stop(syscall.SIGKILL)
		time.Sleep(100 * time.Millisecond) // the port may linger briefly
	}
	s.t.Fatalf("etcdtest: restart etcd: %v\n%s", err, s.Log())
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Cluster is a multi-member etcd.
type Cluster struct {
	Members []*Server
}

// StartCluster starts an etcd of n members for t and stops it when t
// ends. It skips t when there is no etcd binary.
func StartCluster(t testing.TB, n int, extra ...string) *Cluster {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip(SkipMessage)
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{}
	var initial []string
	for i := range n {
		s := &Server{t: t, bin: bin, dir: t.TempDir(), args: extra, name: fmt.Sprintf("m%d", i),
			client: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]), peer: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1])}
		s.logPath = filepath.Join(s.dir, "etcd.log")
		initial = append(initial, s.name+"="+s.peer)
		c.Members = append(c.Members, s)
	}
	exits := make([]chan struct{}, n)
	for i, s := range c.Members {
		s.initial = strings.Join(initial, ",")
		t.Cleanup(func() { s.stop(syscall.SIGKILL) })
		if exits[i], err = s.launch(true); err != nil {
			t.Fatalf("etcdtest: start member %s: %v", s.name, err)
		}
	}
	for i, s := range c.Members {
		if err := s.waitHealthy(exits[i], 30*time.Second); err != nil {
			t.Fatalf("etcdtest: member %s: %v\n%s", s.name, err, s.Log())
		}
	}
	return c
}

// Endpoints are the client URLs of every member.
func (c *Cluster) Endpoints() []string {
	var e []string
	for _, s := range c.Members {
		e = append(e, s.client)
	}
	return e
}
