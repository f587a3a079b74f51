package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	rpsLine    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	countLine  = regexp.MustCompile(`([0-9]+) requests in`)
	errorsLine = regexp.MustCompile(`(Non-2xx or 3xx responses|Socket errors):.*`)
)

// wrkResult is what one wrk run measured.
type wrkResult struct {
	rps      float64
	requests int64
	cpu      time.Duration // wrk's own
}

// runWrk drives addr with wrk and the request signed for it now.
func runWrk(ctx context.Context, dir, addr string, o options) (wrkResult, error) {
	req, err := signed(ctx, addr)
	if err != nil {
		return wrkResult{}, err
	}
	var lua strings.Builder
	fmt.Fprintf(&lua, "wrk.method = \"POST\"\nwrk.body = %q\n", body)
	for _, k := range slices.Sorted(maps.Keys(req.Header)) {
		fmt.Fprintf(&lua, "wrk.headers[%q] = %q\n", k, req.Header.Get(k))
	}
	script := filepath.Join(dir, "request.lua")
	if err := os.WriteFile(script, []byte(lua.String()), 0o600); err != nil {
		return wrkResult{}, err
	}
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.conns),
		"-d", o.dur.String(), "-s", script, "http://"+addr+"/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if m := errorsLine.Find(out); m != nil {
		return wrkResult{}, fmt.Errorf("wrk saw errors (%s):\n%s", m, out)
	}
	m, n := rpsLine.FindSubmatch(out), countLine.FindSubmatch(out)
	if m == nil || n == nil {
		return wrkResult{}, fmt.Errorf("no Requests/sec or request count in wrk's output:\n%s", out)
	}
	res := wrkResult{cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if res.rps, err = strconv.ParseFloat(string(m[1]), 64); err != nil {
		return wrkResult{}, err
	}
	if res.requests, err = strconv.ParseInt(string(n[1]), 10, 64); err != nil || res.requests == 0 {
		return wrkResult{}, fmt.Errorf("wrk's request count %q: %v", n[1], err)
	}
	return res, nil
}

// cpuTime is the user and system CPU time a process has used so far
// (from /proc; Linux counts it in ticks of 10 ms).
func cpuTime(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis (utime and stime are the 14th
	// and 15th fields of the line).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func medianDuration(v []time.Duration) time.Duration {
	f := make([]float64, len(v))
	for i, d := range v {
		f[i] = float64(d)
	}
	return time.Duration(median(f)).Round(100 * time.Nanosecond)
}

// profile writes a CPU profile of seconds taken from a cairn's admin
// listener.
func profile(ctx context.Context, admin string, d time.Duration, path string) error {
	time.Sleep(time.Second) // past wrk's connection start
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, max(1, int(d.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
