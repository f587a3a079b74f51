#!/bin/sh
# Reproduces every figure of BENCHMARKS.md in one run: cairn side by side
# with moto (same workloads, same run, same machine), the tool's own
# ceiling against a trivial server, and the scale curve (1 thousand, 100
# thousand and 1 million instances, restart time). Writes BENCHMARKS.json
# (every figure), bench/results.md (the Markdown tables of BENCHMARKS.md)
# and a CPU profile of cairn's start with 1M instances in bench/profiles.
#
#   bench/run.sh                 # everything: 10-15 minutes on 2 cores
#   bench/run.sh --sizes 1000    # extra flags go to cairn-bench all
#
# Needs Go and moto_server on PATH (pip install 'moto[server]'; or pass
# --moto-bin PATH); see
# `go run ./cmd/cairn-bench all -h` for every flag.
set -eu
cd "$(dirname "$0")/.."
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(uptime)" >&2
exec go run ./cmd/cairn-bench all --out BENCHMARKS.json --markdown bench/results.md --profile-dir bench/profiles "$@"
