//go:build !linux

package loadgen

import "os"

// selfCPU is 0 where cairn-bench doesn't read the process's CPU time
// (its figures are taken on Linux).
func selfCPU() float64 { return 0 }

// fdatasync flushes f with Sync, as bbolt does outside Linux.
func fdatasync(f *os.File) error { return f.Sync() }
