package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// partWatch takes, over one part's measured phase, the CPU time of the
// servers it started and of this tool, and with a profile folder a CPU
// profile of each server (from its admin listener's /debug/pprof/profile)
// and of this tool (runtime/pprof), named after the part:
// <part>.pprof for one server, <part>-<i>.pprof for server i of several,
// <part>-tool.pprof for this tool.
type partWatch struct {
	part    string
	servers []*Server
	dir     string    // profile folder; "" takes no profiles
	toolCPU bool      // profile this tool too (off when --cpuprofile is on)
	log     io.Writer // where a failed profile is reported
	// commits, when set, counts an in-process engine's commits so far;
	// without it the servers' store_commit_batch_size metric is read.
	commits func() float64

	serverCPU, tool float64 // the phase's CPU seconds, once it has ended
	// commitsN and batched are the phase's store commits and the writes
	// (Update calls) they held; batched is 0 for an in-process engine.
	// commitSecs and syncSecs are the time those commits took in all,
	// from the servers' store_commit_duration_seconds and
	// store_sync_duration_seconds (bolt: bbolt's write and fsync).
	commitsN, batched, commitSecs, syncSecs float64
	// allocBytes is the bytes the servers allocated in the phase, from
	// their go_memstats_alloc_bytes_total (0: not read).
	allocBytes float64
}

// begin is a Workload's Watch.
func (w *partWatch) begin(d time.Duration) (end func()) {
	s0, t0 := w.serversCPU(), selfCPU()
	m0 := w.commitCount()
	var wg sync.WaitGroup
	if w.dir != "" {
		for i, s := range w.servers {
			name := w.part
			if len(w.servers) > 1 {
				name += "-" + strconv.Itoa(i)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fetchProfile(s, d, filepath.Join(w.dir, name+".pprof")); err != nil {
					fmt.Fprintf(w.log, "writes: %s: no CPU profile: %v\n", name, err)
				}
			}()
		}
	}
	stopTool := func() {}
	if w.dir != "" && w.toolCPU {
		if f, err := os.Create(filepath.Join(w.dir, w.part+"-tool.pprof")); err != nil {
			fmt.Fprintf(w.log, "writes: %s: no CPU profile of the tool: %v\n", w.part, err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			fmt.Fprintf(w.log, "writes: %s: no CPU profile of the tool: %v\n", w.part, err)
		} else {
			stopTool = func() { pprof.StopCPUProfile(); f.Close() }
		}
	}
	return func() {
		w.serverCPU, w.tool = w.serversCPU()-s0, selfCPU()-t0
		m1 := w.commitCount()
		w.commitsN, w.batched = m1.commits-m0.commits, m1.writes-m0.writes
		w.commitSecs, w.syncSecs = m1.commitSecs-m0.commitSecs, m1.syncSecs-m0.syncSecs
		w.allocBytes = m1.allocBytes - m0.allocBytes
		stopTool()
		wg.Wait()
		w.allocProfiles()
	}
}

// serversCPU is the CPU seconds the servers' processes have used so far.
func (w *partWatch) serversCPU() float64 {
	var sum float64
	for _, s := range w.servers {
		if s.PID != 0 {
			c, _ := procCPU(s.PID)
			sum += c
		}
	}
	return sum
}

// allocProfiles writes, when profiles are kept, each server's
// allocation profile (/debug/pprof/allocs: every allocation since it
// started, the seeding and warm-up included) as <part>.allocs.pprof.
func (w *partWatch) allocProfiles() {
	if w.dir == "" {
		return
	}
	for i, s := range w.servers {
		name := w.part
		if len(w.servers) > 1 {
			name += "-" + strconv.Itoa(i)
		}
		if err := fetchPprof(s, "allocs", time.Minute, filepath.Join(w.dir, name+".allocs.pprof")); err != nil {
			fmt.Fprintf(w.log, "writes: %s: no allocation profile: %v\n", name, err)
		}
	}
}

// commitStats are a store's commit metrics so far, and the bytes its
// server has allocated.
type commitStats struct {
	commits, writes, commitSecs, syncSecs, allocBytes float64
}

// commitCount is the commits so far of the in-process engine, or the
// commit metrics of the servers (summed, from their admin listeners'
// /metrics; 0 when unreadable).
func (w *partWatch) commitCount() commitStats {
	if w.commits != nil {
		return commitStats{commits: w.commits()}
	}
	var sum commitStats
	for _, s := range w.servers {
		c, _ := commitMetrics(s)
		sum.commits += c.commits
		sum.writes += c.writes
		sum.commitSecs += c.commitSecs
		sum.syncSecs += c.syncSecs
		sum.allocBytes += c.allocBytes
	}
	return sum
}

// commitMetrics reads cairn s's commit metrics: the count (commits) and
// sum (Update calls they held) of store_commit_batch_size, and the sums
// of store_commit_duration_seconds and store_sync_duration_seconds.
func commitMetrics(s *Server) (commitStats, error) {
	var c commitStats
	if s.AdminAddr == "" {
		return c, errors.New("no admin listener")
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + s.AdminAddr + "/metrics")
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return c, err
	}
	into := map[string]*float64{
		"cairn_store_commit_batch_size_count":     &c.commits,
		"cairn_store_commit_batch_size_sum":       &c.writes,
		"cairn_store_commit_duration_seconds_sum": &c.commitSecs,
		"cairn_store_sync_duration_seconds_sum":   &c.syncSecs,
		"go_memstats_alloc_bytes_total":           &c.allocBytes,
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if p := into[name]; ok && p != nil {
			*p, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return c, nil
}

// fetchProfile writes a CPU profile of cairn s over the next d (whole
// seconds, at least 1) to path, from its admin listener.
func fetchProfile(s *Server, d time.Duration, path string) error {
	secs := max(1, int(d/time.Second))
	return fetchPprof(s, fmt.Sprintf("profile?seconds=%d", secs), time.Duration(secs)*time.Second+time.Minute, path)
}

// fetchPprof writes the profile /debug/pprof/<what> of cairn s to path,
// from its admin listener, giving up after timeout.
func fetchPprof(s *Server, what string, timeout time.Duration, path string) error {
	if s.AdminAddr == "" {
		return errors.New("the server has no admin listener (/debug/pprof/)")
	}
	c := &http.Client{Timeout: timeout}
	resp, err := c.Get("http://" + s.AdminAddr + "/debug/pprof/" + what)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times.
const clockTicks = 100

// procCPU is the user and system CPU seconds of process pid and all its
// threads, from /proc/PID/stat.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(u+s) / clockTicks, nil
}
