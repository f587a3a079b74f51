package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/sigv4"
)

var (
	testCreds  = Credentials{AccessKeyID: "AKIAEXAMPLEBENCH0001", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	tokenCreds = Credentials{AccessKeyID: "ASIAEXAMPLEBENCH0002", SecretAccessKey: "other/secret", SessionToken: "FwoGZXIvYXdzEJr//////////wEaDM+token=="}
)

// Requests sent by a Conn verify with cairn's own verifier, as received
// by an HTTP server, and a wrong secret does not.
func TestConnVerifiedByCairn(t *testing.T) {
	creds := map[string]sigv4.Identity{
		testCreds.AccessKeyID:  {AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey, AccountID: "111111111111"},
		tokenCreds.AccessKeyID: {AccessKeyID: tokenCreds.AccessKeyID, SecretAccessKey: tokenCreds.SecretAccessKey, SessionToken: tokenCreds.SessionToken, AccountID: "222222222222"},
	}
	v := &sigv4.Verifier{Service: SigningName, Lookup: func(k string) (sigv4.Identity, bool) { id, ok := creds[k]; return id, ok }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, region, err := v.Verify(r, body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": err.(*sigv4.Error).Code, "message": err.Error()})
			return
		}
		_, _ = io.WriteString(w, `{"account":"`+id.AccountID+`","region":"`+region+`"}`)
	}))
	defer srv.Close()
	for _, c := range []Credentials{testCreds, tokenCreds} {
		e, err := NewEndpoint(srv.URL, "ap-south-1", c, 2)
		if err != nil {
			t.Fatal(err)
		}
		conn := e.NewConn()
		for i := range 3 { // the same Conn, request and buffers, again and again
			body := []byte(`{"NamespaceName":"ns","ServiceName":"svc-` + string(rune('a'+i)) + `"}`)
			resp, err := conn.Do(context.Background(), TargetPrefix+"DiscoverInstances", body, PayloadHash(body))
			if err != nil {
				t.Fatalf("%s: %v", c.AccessKeyID, err)
			}
			if !strings.Contains(string(resp), `"region":"ap-south-1"`) {
				t.Errorf("answer %s", resp)
			}
		}
		var out map[string]string
		if err := e.Call(context.Background(), "ListNamespaces", map[string]any{}, &out); err != nil || out["account"] != creds[c.AccessKeyID].AccountID {
			t.Errorf("Call: %v, %v", out, err)
		}
	}
	bad := testCreds
	bad.SecretAccessKey = "wrong"
	e, _ := NewEndpoint(srv.URL, "us-east-1", bad, 1)
	err := e.Call(context.Background(), "ListNamespaces", map[string]any{}, nil)
	if !IsAPIError(err, sigv4.CodeInvalidSignature) {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {0.999, 9990 * time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := h.Quantile(tc.q)
		if diff := float64(got-tc.want) / float64(tc.want); diff < -0.01 || diff > 0.01 {
			t.Errorf("q%v = %v, want %v ±1%%", tc.q, got, tc.want)
		}
	}
	var small Histogram
	for _, ns := range []int{3, 1, 2} {
		small.Record(time.Duration(ns))
	}
	if small.Quantile(0.5) != 2 || small.Quantile(0) != 1 || small.Max() != 3 {
		t.Errorf("exact small values: p50 %v min %v max %v", small.Quantile(0.5), small.Quantile(0), small.Max())
	}
	var m Histogram
	m.Merge(&h)
	m.Merge(&small)
	if m.Count() != 10003 || m.Max() != 10*time.Millisecond {
		t.Errorf("merge: %d records, max %v", m.Count(), m.Max())
	}
	for v := uint64(0); v < 1<<20; v = v*2 + 1 {
		if b := bucketValue(bucketOf(v)); b < float64(v)*0.99 || b > float64(v)*1.01+1 {
			t.Errorf("bucket of %d is %v", v, b)
		}
	}
}

func TestShapeFor(t *testing.T) {
	for n, want := range map[int]Shape{1000: {1, 1, 1000}, 100000: {10, 10, 1000}, 1000000: {100, 10, 1000}, 50: {1, 1, 50}} {
		if got := ShapeFor(n); got != want || got.Total() != n {
			t.Errorf("ShapeFor(%d) = %v, want %v", n, got, want)
		}
	}
}

// A whole run against cairn in-process, with tiny seeds and 1 s per
// workload: seeded, every workload measured, nothing failed, and the
// register phase's instances all deregistered.
func TestRunAgainstCairn(t *testing.T) {
	slowTest(t)
	var rep Report
	stdout := runMain(t, &rep, "run", "--cairn-in-process", "-d", "1s", "--warmup", "0s", "-c", "4", "--register-c", "4", "--dns-c", "2",
		"--namespaces", "2", "--services", "2", "--instances", "20")
	got := map[string]Result{}
	for _, r := range rep.Results {
		got[r.Workload] = r
	}
	for _, w := range []string{"discover", "register", "deregister", "dns"} {
		r, ok := got[w]
		if !ok || r.Server != "cairn" || r.Ops == 0 || r.Errors != 0 || r.FirstError != "" || r.P50ms <= 0 || r.P99ms < r.P50ms {
			t.Errorf("%s: %+v", w, r)
		}
	}
	if got["deregister"].Ops != got["register"].Ops && got["deregister"].Ops < got["register"].Ops {
		t.Logf("register %d, deregister %d (warm-up registrations are deregistered too)", got["register"].Ops, got["deregister"].Ops)
	}
	if !strings.Contains(stdout, "discover") || len(rep.Targets) == 0 {
		t.Errorf("table:\n%s", stdout)
	}
}

// The scale curve's machinery on a tiny store: seeded through the
// registry, served, measured, restarted.
func TestScaleTiny(t *testing.T) {
	slowTest(t)
	rep, err := RunScale(context.Background(), ScaleOptions{Sizes: []int{200}, Clients: 2, Duration: 300 * time.Millisecond,
		Query: map[string]string{"stage": "canary"}, MaxResults: 10, SeedConc: 16,
		Cairn: CairnOptions{InProcess: true, Creds: testCreds, Region: "us-east-1", Account: "111122223333"}, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Points) != 1 {
		t.Fatalf("%d points", len(rep.Points))
	}
	p := rep.Points[0]
	if p.Instances != 200 || p.Discover.Ops == 0 || p.Discover.Errors != 0 || p.Seed.ViewBytes <= 0 || p.Seed.AttrBytes <= 0 || p.RestartSec <= 0 {
		t.Errorf("%+v", p)
	}
}

// The ListOperations measurement against cairn in-process, tiny: every
// operation seeded is listed page by page, and both ListNamespaces runs
// are measured without errors.
func TestOpsAgainstCairn(t *testing.T) {
	slowTest(t)
	var res OpsResult
	runMain(t, &res, "ops", "--cairn-in-process", "--ops", "250", "--page", "20", "--passes", "1", "--pagers", "2", "--c", "1",
		"--d", "500ms", "--seed-c", "4")
	if res.Pages < 250/20 || len(res.PageAll) != 1 || res.PageAll[0] <= 0 {
		t.Errorf("paging: %d pages, %v", res.Pages, res.PageAll)
	}
	for name, r := range map[string]Result{"alone": res.Alone, "paged": res.Paged, "busy": res.Busy} {
		if r.Ops == 0 || r.Errors != 0 || r.P50ms <= 0 {
			t.Errorf("ListNamespaces %s: %+v", name, r)
		}
	}
	if res.PagerCalls <= 0 || res.BusyCalls <= 0 || res.Ratio <= 0 {
		t.Errorf("pagers %.0f/s, GetOperation %.0f/s, ratio %.2f", res.PagerCalls, res.BusyCalls, res.Ratio)
	}
	for _, phase := range []string{"alone", "paged", "busy"} {
		if c, ok := res.CPU[phase]; !ok || c.Tool <= 0 {
			t.Errorf("CPU of phase %s: %+v, %v; want the tool's CPU seconds", phase, c, ok)
		}
	}
}

// moto_server is found on PATH, or where --moto-bin says; when it is
// nowhere, the run says so (and how to install it) before measuring
// anything.
func TestMotoBin(t *testing.T) {
	dir := t.TempDir()
	fake := dir + "/moto_server"
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	for _, tc := range []struct{ bin, want, wantErr string }{
		{"", fake, ""},
		{fake, fake, ""},
		{"moto_server", fake, ""},
		{dir + "/missing", "", `--moto-bin "` + dir + `/missing"`},
	} {
		got, err := MotoBin(tc.bin)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("MotoBin(%q) = %q, %v; want %q, %q", tc.bin, got, err, tc.want, tc.wantErr)
		}
	}

	t.Setenv("PATH", t.TempDir())
	if _, err := MotoBin(""); err == nil || err.Error() != errNoMoto {
		t.Errorf("no moto_server: %v", err)
	}
	var stdout, stderr bytes.Buffer
	began := time.Now()
	code := Main([]string{"run", "--target", "trivial", "--compare", "moto", "-d", "10s", "--quiet"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), errNoMoto) || stdout.Len() != 0 {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the missing moto_server was reported after %v: it should be before any workload", took)
	}
}

// slowTest skips a test that drives workloads for seconds unless
// CAIRN_LOADGEN_SLOW=1 (.ci/run sets it), so that go test ./... stays
// fast.
func slowTest(t *testing.T) {
	t.Helper()
	if os.Getenv("CAIRN_LOADGEN_SLOW") != "1" || testing.Short() {
		t.Skip("drives workloads for seconds: set CAIRN_LOADGEN_SLOW=1 to run it")
	}
}

// runMain runs cairn-bench with args and --quiet --out FILE, fails the
// test unless it exits 0, decodes FILE into report, and returns what it
// printed.
func runMain(t *testing.T, report any, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "report.json")
	if code := Main(append(args, "--quiet", "--out", out), func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("cairn-bench %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, report); err != nil {
		t.Fatal(err)
	}
	return stdout.String()
}

// The writes comparison, bolt parts only (--only), with profiles: both
// parts measured without errors, each with its CPU time, and a CPU
// profile of cairn's measured phase from its admin listener and of the
// tool's, and the commits it made; etcd is not needed.
func TestWritesOnlyBoltWithProfiles(t *testing.T) {
	slowTest(t)
	dir := t.TempDir()
	var rep Report
	stdout := runMain(t, &rep, "writes", "--only", "raw-bolt,bolt", "-d", "1s", "--warmup", "500ms", "--register-c", "4",
		"--profile-dir", dir, "--etcd-bin", "/nonexistent/etcd")
	if len(rep.Results) != 2 || rep.Results[0].Server != "raw bbolt DB.Batch" || rep.Results[1].Server != "cairn bolt" {
		t.Fatalf("results: %+v", rep.Results)
	}
	for _, r := range rep.Results {
		if r.Ops == 0 || r.Errors != 0 || r.ToolCPU <= 0 || r.Commits <= 0 || r.PerCommit < 1 {
			t.Errorf("%+v", r)
		}
	}
	if rep.Results[0].ServerCPU != 0 || rep.Results[1].ServerCPU <= 0 {
		t.Errorf("server CPU: raw %v, cairn %v", rep.Results[0].ServerCPU, rep.Results[1].ServerCPU)
	}
	if rep.Results[0].ServerAlloc != 0 || rep.Results[1].ServerAlloc <= 0 {
		t.Errorf("server allocation: raw %v, cairn %v", rep.Results[0].ServerAlloc, rep.Results[1].ServerAlloc)
	}
	for _, name := range []string{"bolt.pprof", "bolt.allocs.pprof", "bolt-tool.pprof", "raw-bolt-tool.pprof"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
		} else if err := checkProfile(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(stdout, "cairn bolt / raw bbolt DB.Batch") || strings.Contains(stdout, "etcd") {
		t.Errorf("table:\n%s", stdout)
	}
}

// --only names parts, and an unknown one is refused before anything runs.
func TestWritesOnly(t *testing.T) {
	for _, tc := range []struct {
		only    string
		want    []string
		wantErr string
	}{
		{"", WriteParts, ""},
		{"raw-etcd, etcd2", []string{"raw-etcd", "etcd2"}, ""},
		{"bolt,etcd4", nil, `unknown part "etcd4"`},
	} {
		got, err := parseParts(tc.only)
		if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("parseParts(%q): %v, want %q", tc.only, err, tc.wantErr)
			continue
		}
		if err == nil && len(got) != len(tc.want) {
			t.Errorf("parseParts(%q) = %v, want %v", tc.only, got, tc.want)
		}
		for _, p := range tc.want {
			if !got[p] {
				t.Errorf("parseParts(%q) lacks %s", tc.only, p)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"writes", "--only", "bolt,nope", "--quiet"}, func(string) string { return "" }, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), `unknown part "nope"`) {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

// procCPU reads this process's CPU time as selfCPU does, within a few
// clock ticks.
func TestProcCPU(t *testing.T) {
	for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); {
	}
	got, err := procCPU(os.Getpid())
	want := selfCPU()
	if err != nil || got <= 0 || got > want+0.05 || got < want-0.2 {
		t.Errorf("procCPU = %v, %v; getrusage %v", got, err, want)
	}
}

// checkProfile says whether b looks like a CPU or an allocation
// profile: pprof's gzipped protocol buffer, not empty.
func checkProfile(b []byte) error {
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(z)
	if err != nil {
		return err
	}
	if len(raw) < 64 || !bytes.Contains(raw, []byte("samples")) && !bytes.Contains(raw, []byte("alloc_space")) {
		return fmt.Errorf("%d bytes, no sample types", len(raw))
	}
	return nil
}
