//go:build !unix

package api_test

import "time"

// cpuTime is 0 where the benchmarks don't read the process's CPU time:
// their cpu-ns/op is then 0.
func cpuTime() time.Duration { return 0 }
