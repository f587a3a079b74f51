package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/server"
)

// Server is a server the tool started (or an endpoint it was given).
type Server struct {
	Name     string // cairn, moto, trivial, endpoint
	Endpoint string
	DNSAddr  string
	// AdminAddr is cairn's admin listener (host:port: /metrics,
	// /debug/pprof/), "" when it has none.
	AdminAddr string
	// PID is the server's process (0 in-process or external).
	PID int
	// Ready is how long the server took from process start to its first
	// GET /healthz 200 (cairn) or first answer (moto).
	Ready time.Duration
	// LoadTook is what cairn logged as the time to load its state.
	LoadTook string

	inproc  *server.Server
	trivial *Trivial
	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  *tailBuffer
	cleanup []func()
}

// CairnOptions says how to start cairn.
type CairnOptions struct {
	// Bin is a cairn binary; empty builds ./cmd/cairn with go build.
	Bin string
	// InProcess runs cairn inside this process (server.Start) instead.
	InProcess bool
	// DataDir is the data folder; empty is a new temporary one.
	DataDir string
	Creds   Credentials
	Region  string
	Account string
	DNS     bool
	// NoLimits lifts every quota (the scale curve needs it).
	NoLimits bool
	// Args are more command-line flags of the cairn process (not
	// in-process), such as --store etcd.
	Args []string
	// Log receives build output and the server's warnings.
	Log io.Writer
}

// BuildCairn builds ./cmd/cairn (github.com/cairn-dev/cairn/cmd/cairn,
// from the module the working directory is in) into dir.
func BuildCairn(dir string) (string, error) {
	out := filepath.Join(dir, "cairn")
	cmd := exec.Command("go", "build", "-o", out, "github.com/cairn-dev/cairn/cmd/cairn")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/cairn (run cairn-bench from the cairn repository, or give --cairn-bin): %v\n%s", err, b)
	}
	return out, nil
}

// writeCredentials writes a credentials file naming creds as account.
func writeCredentials(dir string, creds Credentials, account string) (string, error) {
	path := filepath.Join(dir, "credentials")
	s := fmt.Sprintf("[bench]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\n",
		creds.AccessKeyID, creds.SecretAccessKey, account)
	if creds.SessionToken != "" {
		s += "aws_session_token = " + creds.SessionToken + "\n"
	}
	return path, os.WriteFile(path, []byte(s), 0o600)
}

var (
	reAPIAddr  = regexp.MustCompile(`msg="serving the Cloud Map API" addr=(\S+)`)
	reDNSAddr  = regexp.MustCompile(`msg="serving DNS" addr=(\S+)`)
	reAdmin    = regexp.MustCompile(`msg="serving the admin listener" addr=(\S+)`)
	reLoadTook = regexp.MustCompile(`msg="state loaded" took=(\S+)`)
)

// StartCairn starts cairn with signature verification on (a credentials
// file holding o.Creds), on free ports.
func StartCairn(o CairnOptions) (*Server, error) {
	s := &Server{Name: "cairn"}
	tmp, err := os.MkdirTemp("", "cairn-bench-*")
	if err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, func() { os.RemoveAll(tmp) })
	dataDir := o.DataDir
	if dataDir == "" {
		dataDir = filepath.Join(tmp, "data")
	}
	credsPath, err := writeCredentials(tmp, o.Creds, o.Account)
	if err != nil {
		s.Close()
		return nil, err
	}
	if o.InProcess {
		cfg := server.DefaultConfig()
		cfg.APIAddr, cfg.DataDir, cfg.Credentials, cfg.Region, cfg.AccountID = "127.0.0.1:0", dataDir, credsPath, o.Region, o.Account
		cfg.DNSAddr = ""
		if o.DNS {
			cfg.DNSAddr = "127.0.0.1:0"
		}
		if o.NoLimits {
			cfg.Limits = registry.Limits{}
		}
		began := time.Now()
		srv, err := server.Start(cfg)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.inproc, s.Endpoint, s.DNSAddr, s.AdminAddr = srv, srv.Endpoint(), srv.DNSAddr(), srv.AdminAddr()
		s.Ready = time.Since(began)
		return s, nil
	}
	bin := o.Bin
	if bin == "" {
		if bin, err = BuildCairn(tmp); err != nil {
			s.Close()
			return nil, err
		}
	}
	args := []string{"serve", "--api-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", dataDir, "--credentials", credsPath,
		"--region", o.Region, "--account-id", o.Account, "--log-level", "info", "--dns-addr", ""}
	if o.DNS {
		args[len(args)-1] = "127.0.0.1:0"
	}
	if o.NoLimits {
		args = append(args, "--limit-namespaces", "0", "--limit-instances-per-namespace", "0", "--limit-instances-per-service", "0")
	}
	args = append(args, o.Args...)
	if err := s.startProcess(bin, args, o.DNS, o.Log); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// startProcess runs cairn and waits for its API to answer /healthz.
func (s *Server) startProcess(bin string, args []string, wantDNS bool, log io.Writer) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CAIRN_LOG_LEVEL=info")
	pr, pw := io.Pipe()
	cmd.Stderr, cmd.Stdout = pw, pw
	s.stderr = &tailBuffer{}
	api, dnsAddr, adminAddr := make(chan string, 1), make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.stderr.add(line)
			if m := reAPIAddr.FindStringSubmatch(line); m != nil {
				api <- m[1]
			}
			if m := reDNSAddr.FindStringSubmatch(line); m != nil {
				dnsAddr <- m[1]
			}
			if m := reAdmin.FindStringSubmatch(line); m != nil {
				adminAddr <- m[1]
			}
			if m := reLoadTook.FindStringSubmatch(line); m != nil {
				s.LoadTook = m[1]
			}
			if log != nil && (strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") && !strings.Contains(line, "development mode")) {
				fmt.Fprintf(log, "cairn: %s\n", line)
			}
		}
	}()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.PID, s.exited = cmd, cmd.Process.Pid, make(chan struct{})
	go func() { _ = cmd.Wait(); pw.Close(); close(s.exited) }()
	var addr string
	select {
	case addr = <-api:
	case <-s.exited:
		return fmt.Errorf("cairn exited before serving:\n%s", s.stderr.String())
	case <-time.After(10 * time.Minute):
		return errors.New("cairn did not start within 10 minutes")
	}
	if wantDNS { // logged before the API's address
		select {
		case s.DNSAddr = <-dnsAddr:
		case <-time.After(time.Second):
			return errors.New("cairn did not log the DNS server's address")
		}
	}
	select {
	case s.AdminAddr = <-adminAddr: // logged before the API's address
	default:
	}
	s.Endpoint = "http://" + addr
	if err := waitHealthy(s.Endpoint+"/healthz", s.exited, time.Minute); err != nil {
		return err
	}
	s.Ready = time.Since(began)
	return nil
}

// waitHealthy polls url every 2 ms until it answers 200.
func waitHealthy(url string, exited <-chan struct{}, timeout time.Duration) error {
	return waitHTTP(url, exited, timeout, 2*time.Millisecond, func(status int) bool { return status == http.StatusOK })
}

// waitHTTP polls url every so often until its answer's status is one ok
// accepts, the server exits, or timeout passes.
func waitHTTP(url string, exited <-chan struct{}, timeout, every time.Duration, ok func(status int) bool) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if ok(resp.StatusCode) {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		select {
		case <-exited:
			return fmt.Errorf("the server exited before %s answered", url)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %v (last: %v)", url, timeout, err)
		}
		time.Sleep(every)
	}
}

// MotoOptions says how to start moto.
type MotoOptions struct {
	// Bin is the moto_server command (a path, or a name looked up on
	// PATH); empty is moto_server on PATH.
	Bin string
	Log io.Writer
}

// errNoMoto is what a run that needs moto says when it can't find it.
const errNoMoto = "moto_server is not on PATH (pip install 'moto[server]'), or give its path with --moto-bin"

// MotoBin is the moto_server command to start: bin when given (a path,
// or a name looked up on PATH), else moto_server on PATH.
func MotoBin(bin string) (string, error) {
	name := bin
	if name == "" {
		name = "moto_server"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if bin == "" {
			return "", errors.New(errNoMoto)
		}
		return "", fmt.Errorf("--moto-bin %q: %w", bin, err)
	}
	return p, nil
}

// StartMoto starts moto_server on a free port.
func StartMoto(o MotoOptions) (*Server, error) {
	bin, err := MotoBin(o.Bin)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Name: "moto", stderr: &tailBuffer{}}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s.cmd, s.PID, s.exited = cmd, cmd.Process.Pid, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHTTP(s.Endpoint+"/moto-api/", s.exited, time.Minute, 20*time.Millisecond, func(int) bool { return true }); err != nil {
		s.Close()
		return nil, fmt.Errorf("moto: %w\n%s", err, s.stderr.String())
	}
	s.Ready = time.Since(began)
	return s, nil
}

// StartTrivialServer starts the trivial in-process server as a Server.
func StartTrivialServer(dnsName string) (*Server, error) {
	t, err := StartTrivial(dnsName)
	if err != nil {
		return nil, err
	}
	return &Server{Name: "trivial", Endpoint: t.Endpoint(), DNSAddr: t.DNSAddr(), trivial: t}, nil
}

// Mem is a process's memory as /proc/PID/status reports it.
type Mem struct {
	RSS  int64 `json:"rss_bytes"`      // resident, all kinds
	Anon int64 `json:"rss_anon_bytes"` // resident anonymous memory: the Go heap, stacks, runtime
	File int64 `json:"rss_file_bytes"` // resident file pages: the store's memory map
	Peak int64 `json:"peak_rss_bytes"` // the most resident ever
}

// Mem reads the server process's memory. It is zero for a server in
// this process.
func (s *Server) Mem() Mem {
	if s.PID == 0 {
		return Mem{}
	}
	m, _ := procMem(s.PID)
	return m
}

func procMem(pid int) (Mem, error) {
	var m Mem
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			m.RSS = n << 10
		case "RssAnon":
			m.Anon = n << 10
		case "RssFile":
			m.File = n << 10
		case "VmHWM":
			m.Peak = n << 10
		}
	}
	return m, nil
}

// Close stops the server (SIGTERM, then SIGKILL after 30 s) and removes
// its temporary files.
func (s *Server) Close() error {
	var err error
	if s.inproc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = s.inproc.Close(ctx)
		cancel()
	}
	if s.trivial != nil {
		s.trivial.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	s.cleanup = nil
	return err
}

// tailBuffer keeps the last lines a process wrote, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
	part  []byte
}

func (t *tailBuffer) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > 40 {
		t.lines = t.lines[len(t.lines)-40:]
	}
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.part = append(t.part, p...)
	var lines []string
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	t.mu.Unlock()
	for _, l := range lines {
		t.add(l)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
