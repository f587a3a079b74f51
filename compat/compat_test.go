//go:build unix

package compat_test

// The harness: build cairn once, give "data-" a resolvable twin, start
// cairn per suite run (development mode and SigV4 mode), and run each
// client's suite as a subprocess with the environment of compat/README.md.

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The identity of SigV4 mode's credentials file; the suites sign with it
// in both modes (development mode accepts any well-formed signature).
const (
	accessKey = "AKIDCAIRNCOMPAT"
	secretKey = "compat-secret-key/0123456789"
	accountID = "111122223333"
	region    = "us-east-1"
)

// policyProfiles are identities with a policy_file in SigV4 mode; the
// suites sign as them with secretKey (test_boto3.py's Policies).
var policyProfiles = []struct{ name, key, policy string }{
	{"discover", "AKIDCAIRNDISCOVER", `{"Version":"2012-10-17","Statement":{"Sid":"DiscoverOnly","Effect":"Allow",
  "Action":["servicediscovery:DiscoverInstances","servicediscovery:DiscoverInstancesRevision"],"Resource":"*"}}`},
	{"deployer", "AKIDCAIRNDEPLOYER", `{"Version":"2012-10-17","Statement":[
  {"Sid":"Team","Effect":"Allow","Action":["servicediscovery:RegisterInstance","servicediscovery:DeregisterInstance","servicediscovery:Get*"],
   "Resource":"*","Condition":{"StringLike":{"servicediscovery:NamespaceName":"py-team-a*"}}},
  {"Sid":"Operations","Effect":"Allow","Action":"servicediscovery:GetOperation","Resource":"*"}]}`},
	{"tagged", "AKIDCAIRNTAGGED", `{"Version":"2012-10-17","Statement":{"Sid":"OwnTeam","Effect":"Allow","Action":"servicediscovery:*","Resource":"*",
  "Condition":{"StringEquals":{"aws:ResourceTag/team":"a"}}}}`},
	{"operator", "AKIDCAIRNOPERATOR", `[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["servicediscovery:Get*","servicediscovery:List*","servicediscovery:Delete*"],"Resource":"*"}},
 {"Version":"2012-10-17","Statement":{"Sid":"KeepNamespaces","Effect":"Deny","Action":"servicediscovery:DeleteNamespace","Resource":"*"}}]`},
}

var (
	buildOnce sync.Once
	binDir    string
	cairnBin  string
	buildErr  error

	// dataHost is a host name that resolves to 127.0.0.1 and whose
	// "data-" twin does too ("cairn.test"), or "" when there is none.
	dataHost    string
	dataHostWhy string // why there is none
)

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("CAIRN_COMPAT") == "" {
		// The suite drives four real clients and builds external-dns: minutes,
		// not seconds. .ci/run sets CAIRN_COMPAT=1.
		fmt.Println("compat: skipped; set CAIRN_COMPAT=1 to run the real-client suites (CI does)")
		os.Exit(0)
	}
	removeHosts := setupDataHost()
	prebuilt := make(chan struct{})
	if willRun("TestExternalDNS") && !testing.Short() && dataHost != "" && !slices.Contains(skipList(), "externaldns") {
		// Build external-dns while the other suites run: on a cold module
		// and build cache it takes minutes.
		go func() { buildExternalDNS(); close(prebuilt) }()
	} else {
		close(prebuilt)
	}
	code := m.Run()
	<-prebuilt
	removeHosts()
	for _, dir := range []string{binDir, ednsDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// willRun reports whether -test.run selects the top-level test name.
func willRun(name string) bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	top, _, _ := strings.Cut(f.Value.String(), "/")
	re, err := regexp.Compile(top)
	return err != nil || re.MatchString(name)
}

// moduleRoot is the folder of cairn's go.mod (this test runs in compat/).
func moduleRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// cairnBinary builds ./cmd/cairn once per test binary.
func cairnBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "cairn-compat-bin-")
		if buildErr != nil {
			return
		}
		cairnBin = filepath.Join(binDir, "cairn")
		cmd := exec.Command(goTool(), "build", "-o", cairnBin, "./cmd/cairn")
		cmd.Dir = moduleRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/cairn: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return cairnBin
}

// --- the data- twin ---------------------------------------------------------

const (
	hostsFile = "/etc/hosts"
	dataName  = "cairn.test"
	// hostsMarker ends the line a test process adds, with its process ID:
	// each process adds and removes its own line, so that concurrent runs
	// (go test ./... of several people on one machine) don't remove each
	// other's.
	hostsMarker = "# cairn compat tests, removed when they end: pid "
)

// setupDataHost makes "cairn.test" and "data-cairn.test" resolve to
// 127.0.0.1. As root, it adds a line of its own to /etc/hosts and returns
// the function that removes it (lines of test processes that no longer
// run are removed too); otherwise the names must resolve already.
func setupDataHost() (cleanup func()) {
	cleanup = func() {}
	if os.Geteuid() != 0 {
		if resolvesToLoopback(dataName) && resolvesToLoopback("data-"+dataName) {
			dataHost = dataName
		} else {
			dataHostWhy = fmt.Sprintf("data-%s does not resolve and, not being root, the tests can't add it to %s "+
				"(add \"127.0.0.1 %s data-%s\" there to run these parts)", dataName, hostsFile, dataName, dataName)
		}
		return cleanup
	}
	mine := fmt.Sprintf("127.0.0.1 %s data-%s %s%d\n", dataName, dataName, hostsMarker, os.Getpid())
	err := editHosts(func(lines []string) []string {
		lines = slices.DeleteFunc(lines, func(l string) bool {
			_, pid, ok := strings.Cut(l, hostsMarker)
			n, err := strconv.Atoi(strings.TrimSpace(pid))
			return ok && err == nil && syscall.Kill(n, 0) == syscall.ESRCH // its process is gone
		})
		return append(lines, mine)
	})
	if err != nil {
		dataHostWhy = fmt.Sprintf("can't add data-%s to %s: %v", dataName, hostsFile, err)
		return cleanup
	}
	cleanup = func() {
		_ = editHosts(func(lines []string) []string {
			return slices.DeleteFunc(lines, func(l string) bool { return l == mine })
		})
	}
	// Go's resolver keeps /etc/hosts for 5 s after a read: wait that out.
	deadline := time.Now().Add(10 * time.Second)
	for !resolvesToLoopback("data-"+dataName) && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
	if !resolvesToLoopback(dataName) || !resolvesToLoopback("data-"+dataName) {
		dataHostWhy = fmt.Sprintf("added data-%s to %s, but it does not resolve", dataName, hostsFile)
		return cleanup
	}
	dataHost = dataName
	return cleanup
}

func resolvesToLoopback(name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	return err == nil && slices.Contains(addrs, "127.0.0.1")
}

// editHosts rewrites /etc/hosts with edit's lines (each with its "\n"),
// under a lock that other test processes take too, in place (it may be a
// bind mount, which a rename would not replace).
func editHosts(edit func(lines []string) []string) error {
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "cairn-compat-hosts.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	b, err := os.ReadFile(hostsFile)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(b), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += "\n"
	}
	out := strings.Join(edit(lines), "")
	if out == string(b) {
		return nil
	}
	return os.WriteFile(hostsFile, []byte(out), 0o644)
}

// --- cairn -----------------------------------------------------------------

// cairn is one `cairn serve` process.
type cairn struct {
	Endpoint     string // http://127.0.0.1:PORT
	DataEndpoint string // http://cairn.test:PORT, or "" without a data- twin
	DNSAddr      string
	Auth         bool // started with --credentials
	// HealthPort is the port of an HTTP server on 127.0.0.1 that answers
	// 200 to every path: the suites' health-checked instances point at it
	// (with --credentials cairn never probes its own listeners).
	HealthPort string
	log        *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	apiAddrRE = regexp.MustCompile(`msg="serving the Cloud Map API" addr=(\S+)`)
	dnsAddrRE = regexp.MustCompile(`msg="serving DNS" addr=(\S+)`)
)

// startCairn runs the cairn binary on free loopback ports over a fresh
// store. With auth it verifies SigV4 against a credentials file holding
// the suites' keys, and delays operations so that clients see SUBMITTED
// and PENDING while they poll GetOperation. It is stopped with SIGTERM
// when the test ends.
func startCairn(t *testing.T, auth bool, extra ...string) *cairn {
	t.Helper()
	dir := t.TempDir()
	args := []string{"serve", "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--health-interval", "1s"}
	if auth {
		// Health checks of the suites probe a local target, which the
		// credentialed defaults deny: allow loopback, as a test fleet would.
		args = append(args, "--health-probe-allow", "127.0.0.0/8")
		creds := filepath.Join(dir, "credentials")
		content := fmt.Sprintf("[compat]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\n", accessKey, secretKey, accountID)
		// The profiles of the suites' policy tests, each with its
		// policy file beside the credentials file.
		for _, p := range policyProfiles {
			if err := os.WriteFile(filepath.Join(dir, p.name+".json"), []byte(p.policy), 0o600); err != nil {
				t.Fatal(err)
			}
			content += fmt.Sprintf("\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\npolicy_file = %s.json\n",
				p.name, p.key, secretKey, accountID, p.name)
		}
		if err := os.WriteFile(creds, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--credentials", creds, "--operation-delay", "300ms")
	}
	args = append(args, extra...)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(target.Close)
	c := &cairn{Auth: auth, log: &syncBuffer{}, HealthPort: strconv.Itoa(target.Listener.Addr().(*net.TCPAddr).Port)}
	cmd := exec.Command(cairnBinary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAIRN_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start cairn: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("cairn's log:\n%s", c.log.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for c.Endpoint == "" || c.DNSAddr == "" {
		out := c.log.String()
		if m := apiAddrRE.FindStringSubmatch(out); m != nil {
			c.Endpoint = "http://" + m[1]
		}
		if m := dnsAddrRE.FindStringSubmatch(out); m != nil {
			c.DNSAddr = m[1]
		}
		select {
		case <-exited:
			t.Fatalf("cairn serve exited before serving:\n%s", out)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("cairn serve did not report its addresses within 20s:\n%s", out)
		}
	}
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(c.Endpoint + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz did not answer 200 (last: %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if dataHost != "" {
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(c.Endpoint, "http://"))
		c.DataEndpoint = "http://" + net.JoinHostPort(dataHost, port)
	}
	return c
}

// clientEnv is the environment of a client suite: the test's own, less
// anything that could point a client elsewhere (AWS_*, CAIRN_*), plus the
// suites' keys, an empty AWS config, and cairn's endpoints.
func clientEnv(t *testing.T, c *cairn, prefix string) []string {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "CAIRN_") {
			env = append(env, kv)
		}
	}
	auth := "0"
	if c.Auth {
		auth = "1"
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey,
		"AWS_DEFAULT_REGION="+region, "AWS_REGION="+region,
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"CAIRN_ENDPOINT="+c.Endpoint, "CAIRN_DATA_ENDPOINT="+c.DataEndpoint,
		"CAIRN_AUTH="+auth, "CAIRN_PREFIX="+prefix, "CAIRN_HEALTH_TARGET_PORT="+c.HealthPort)
}

// modes runs fn once against cairn in development mode and once with SigV4
// verification.
func modes(t *testing.T, fn func(t *testing.T, c *cairn)) {
	t.Helper()
	if dataHost == "" {
		t.Logf("no resolvable data- host name: %s", dataHostWhy)
	}
	for _, auth := range []bool{false, true} {
		name := "dev"
		if auth {
			name = "sigv4"
		}
		t.Run(name, func(t *testing.T) { fn(t, startCairn(t, auth)) })
	}
}

// summaryRE picks the lines worth showing from a passing suite: findings,
// skips, and the runners' closing counts.
var summaryRE = regexp.MustCompile(`(?m)^.*(FINDING|SKIP|skipped|Ran \d+ tests|^OK|passed, \d+ failed|# (pass|fail|skipped) \d+).*$`)

// runSuite runs a suite as a subprocess in dir and fails the test if it
// fails; the whole output is logged on failure, the summary lines always.
func runSuite(t *testing.T, dir string, env []string, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	started := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(started).Round(100 * time.Millisecond)
	if err != nil {
		t.Fatalf("%s %s failed after %v: %v\n%s", name, strings.Join(args, " "), took, err, out)
	}
	var summary []string
	for _, m := range summaryRE.FindAllString(string(out), -1) {
		summary = append(summary, strings.TrimSpace(m))
	}
	t.Logf("%s %s: passed in %v\n%s", filepath.Base(name), strings.Join(args, " "), took, strings.Join(summary, "\n"))
	return string(out)
}

func skipList() []string { return strings.Split(os.Getenv("CAIRN_COMPAT_SKIP"), ",") }

// skipRequested reports whether CAIRN_COMPAT_SKIP (a comma-separated list such
// as "cli-v2,externaldns") names the suite, and skips it if so.
func skipRequested(t *testing.T, suite string) {
	t.Helper()
	if slices.Contains(skipList(), suite) {
		t.Skipf("CAIRN_COMPAT_SKIP names %s", suite)
	}
}

// --- the client suites -------------------------------------------------------

// TestBoto3 runs python/test_boto3.py with the python3 on PATH, which must
// have boto3 (the image's pyenv Python 3.11 has boto3 1.43).
func TestBoto3(t *testing.T) {
	skipRequested(t, "boto3")
	t.Parallel()
	python := findPython(t, "import boto3, botocore; print('boto3 and botocore', boto3.__version__, botocore.__version__)", "pip install boto3")
	dir := filepath.Join(moduleRoot(t), "compat", "python")
	modes(t, func(t *testing.T, c *cairn) {
		env := append(clientEnv(t, c, "py"), "PYTHONDONTWRITEBYTECODE=1") // no __pycache__ in the tree
		runSuite(t, dir, env, 3*time.Minute, python, "-m", "unittest", "-v", "test_boto3")
	})
}

// executables lists the files called name that can be run: on PATH, then
// in pyenv's shims (whose Python has boto3 and the AWS CLI v1 on this
// project's machines), then in /usr/local/bin and /usr/bin.
func executables(name string) []string {
	dirs := filepath.SplitList(os.Getenv("PATH"))
	if root := os.Getenv("PYENV_ROOT"); root != "" {
		dirs = append(dirs, filepath.Join(root, "shims"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".pyenv", "shims"))
	}
	dirs = append(dirs, "/usr/local/bin", "/usr/bin")
	var found []string
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 || slices.Contains(found, p) {
			continue
		}
		found = append(found, p)
	}
	return found
}

// awsCLIs finds the AWS CLIs that executables("aws") lists, by major
// version (the first of each).
func awsCLIs() map[int]string {
	found := map[int]string{}
	for _, p := range executables("aws") {
		out, err := exec.Command(p, "--version").CombinedOutput()
		if err != nil {
			continue
		}
		var major int
		if _, err := fmt.Sscanf(string(out), "aws-cli/%d.", &major); err == nil && found[major] == "" {
			found[major] = p
		}
	}
	return found
}

var (
	clisOnce sync.Once
	clis     map[int]string
)

func awsCLI(t *testing.T, major int, install string) string {
	t.Helper()
	clisOnce.Do(func() { clis = awsCLIs() })
	p := clis[major]
	if p == "" {
		t.Skipf("no AWS CLI v%d among %v; %s", major, executables("aws"), install)
	}
	out, _ := exec.Command(p, "--version").CombinedOutput()
	t.Logf("AWS CLI v%d: %s: %s", major, p, bytes.TrimSpace(out))
	return p
}

// runCLI runs cli/cli.sh: the whole lifecycle in development mode; with
// SigV4, the data- prefix checks (every call signed) and the refusals only
// (CAIRN_CLI_QUICK=1), since each CLI call costs a Python start.
func runCLI(t *testing.T, aws, prefix string) {
	dir := filepath.Join(moduleRoot(t), "compat", "cli")
	modes(t, func(t *testing.T, c *cairn) {
		env := append(clientEnv(t, c, prefix), "AWS="+aws)
		if c.Auth {
			env = append(env, "CAIRN_CLI_QUICK=1")
		}
		// About 100 CLI starts of a Python program: 3–4 minutes on an idle
		// 2-core machine, over 8 with other suites loading it.
		runSuite(t, dir, env, 15*time.Minute, "bash", "cli.sh")
	})
}

func skipShort(t *testing.T, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: " + why)
	}
}

// TestAWSCLIv1 runs cli/cli.sh with the AWS CLI v1 (the image's awscli
// 1.45 in pyenv's Python).
func TestAWSCLIv1(t *testing.T) {
	skipRequested(t, "cli-v1")
	skipShort(t, "the AWS CLI suite starts the CLI about 100 times")
	t.Parallel()
	runCLI(t, awsCLI(t, 1, "pip install awscli to run the AWS CLI v1 suite"), "v1")
}

// TestAWSCLIv2 runs cli/cli.sh with the AWS CLI v2 (Debian's awscli
// package, which .ci/run installs).
func TestAWSCLIv2(t *testing.T) {
	skipRequested(t, "cli-v2")
	skipShort(t, "the AWS CLI suite starts the CLI about 100 times")
	t.Parallel()
	runCLI(t, awsCLI(t, 2, "apt-get install awscli (Debian 12's is v2) to run the AWS CLI v2 suite"), "v2")
}

// TestJavaScriptSDKv3 installs js/package-lock.json with `npm ci` and runs
// js/servicediscovery.test.mjs with node's test runner.
func TestJavaScriptSDKv3(t *testing.T) {
	skipRequested(t, "js")
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH; install Node.js 20 or later with npm to run the JavaScript SDK suite")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not on PATH; install npm to run the JavaScript SDK suite")
	}
	out, _ := exec.Command(node, "--version").CombinedOutput()
	t.Logf("node %s", bytes.TrimSpace(out))
	dir := filepath.Join(moduleRoot(t), "compat", "js")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	started := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s\n(set CAIRN_COMPAT_SKIP=js to skip this suite where the npm registry can't be reached)", dir, err, out)
	}
	t.Logf("npm ci: %v", time.Since(started).Round(100*time.Millisecond))
	modes(t, func(t *testing.T, c *cairn) {
		runSuite(t, dir, clientEnv(t, c, "js"), 3*time.Minute, node, "--test", "servicediscovery.test.mjs")
		if !c.Auth { // the README's example resets through /moto-api/reset: development mode
			runSuite(t, dir, clientEnv(t, c, "js"), 3*time.Minute, node, "--test", "example.test.mjs")
		}
	})
}

// lines returns the lines of s that contain sub.
func lines(s, sub string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.Contains(sc.Text(), sub) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// TestMotoServerMode runs python/test_moto_server_mode.py, a suite written
// for moto's server mode (moto's mock_aws decorator with TEST_SERVER_MODE),
// unchanged against cairn in development mode: the decorator resets the
// server through POST /moto-api/reset around each test.
func TestMotoServerMode(t *testing.T) {
	skipRequested(t, "moto")
	t.Parallel()
	python := findPython(t, "import boto3, moto, requests; print('moto', moto.__version__)", "pip install 'moto[server]' boto3")
	c := startCairn(t, false)
	env := append(clientEnv(t, c, "moto"), "PYTHONDONTWRITEBYTECODE=1", "TEST_SERVER_MODE=true",
		"TEST_SERVER_MODE_ENDPOINT="+c.Endpoint, "AWS_DISABLE_HOST_PREFIX_INJECTION=true")
	runSuite(t, filepath.Join(moduleRoot(t), "compat", "python"), env, 3*time.Minute, python, "-m", "unittest", "-v", "test_moto_server_mode")
}

// findPython returns the first python3 (see executables) that runs probe,
// logging what probe prints (the versions), or skips the test saying how
// to install what is missing.
func findPython(t *testing.T, probe, install string) string {
	t.Helper()
	for _, p := range executables("python3") {
		if out, err := exec.Command(p, "-c", probe).CombinedOutput(); err == nil {
			t.Logf("%s: %s", p, bytes.TrimSpace(out))
			return p
		}
	}
	t.Skipf("no python3 on PATH or in pyenv (%v) runs %q; %s to run this suite", executables("python3"), probe, install)
	return ""
}

// TestBoto3Throttle runs python/test_throttle.py: boto3's standard retry
// mode retries cairn's RequestLimitExceeded and ThrottlingException.
func TestBoto3Throttle(t *testing.T) {
	skipRequested(t, "boto3")
	t.Parallel()
	python := findPython(t, "import boto3, botocore; print('boto3 and botocore', boto3.__version__, botocore.__version__)", "pip install boto3")
	c := startCairn(t, false, "--throttle", "discover=1:1,other=1:1")
	env := append(clientEnv(t, c, "throttle"), "PYTHONDONTWRITEBYTECODE=1")
	runSuite(t, filepath.Join(moduleRoot(t), "compat", "python"), env, 3*time.Minute, python, "-m", "unittest", "-v", "test_throttle")
}

// TestPytestFixture runs python/test_pytest_fixture.py, the README's pytest
// example, with the cairn binary the suite built.
func TestPytestFixture(t *testing.T) {
	skipRequested(t, "pytest")
	t.Parallel()
	python := findPython(t, "import pytest, boto3; print('pytest', pytest.__version__, 'boto3', boto3.__version__)",
		"apt-get install python3-pytest python3-boto3 (or pip install pytest boto3)")
	env := append(os.Environ(), "CAIRN_BIN="+cairnBinary(t), "PYTHONDONTWRITEBYTECODE=1")
	runSuite(t, filepath.Join(moduleRoot(t), "compat", "python"), env, 3*time.Minute, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_pytest_fixture.py")
}
