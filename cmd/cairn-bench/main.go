// Command cairn-bench is cairn's load harness: it seeds any AWS Cloud Map
// endpoint, drives DiscoverInstances, RegisterInstance/DeregisterInstance
// and DNS with concurrent clients, and reports throughput and latency
// percentiles, side by side with moto and against a trivial server (the
// tool's own ceiling). See BENCHMARKS.md.
//
//	go run ./cmd/cairn-bench run                  # cairn, started by the tool
//	go run ./cmd/cairn-bench run --compare moto   # and moto, with the ratios
//	go run ./cmd/cairn-bench all --out BENCHMARKS.json
package main

import (
	"os"

	"github.com/cairn-dev/cairn/tools/loadgen"
)

func main() { os.Exit(loadgen.Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }
