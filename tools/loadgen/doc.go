// Package loadgen is cairn's load harness, behind the cairn-bench command:
// it drives any AWS Cloud Map endpoint (cairn, moto, AWS itself) with the
// workloads users put on a registry and measures throughput and latency
// percentiles the same way for each, so that figures of different
// servers come from one run on one machine.
//
// # Basics
//
// A run seeds namespaces, services and instances through the API (or, for
// the scale curve, straight into a cairn data directory), then drives each
// workload with C concurrent clients for a duration:
//
//   - discover: DiscoverInstances, SigV4-signed by a Signer that caches
//     the signing key per day and reuses its buffers, over an
//     http.Transport that keeps one connection per client;
//   - register: RegisterInstance of distinct instances, then
//     DeregisterInstance of the same, as two measured phases;
//   - dns: A queries for one name over UDP, one socket per client.
//
// By default each client sends its next request when the last one is
// answered (a closed loop). With Workload.Rate (--rate) the requests are
// sent on a fixed schedule instead (an open loop), each one's latency
// counted from when it was due, so that a server's stalls show in the
// percentiles as its users would see them.
//
// The tool's own ceiling is measured by running the same clients against
// a trivial in-process server (HTTP and DNS) that answers a fixed body.
// Results are printed as a table, and as JSON for scripts.
//
// # Caveats
//
// Client and server share the machine: on a small machine the figures are
// those of both together, as the targets are stated.
package loadgen
