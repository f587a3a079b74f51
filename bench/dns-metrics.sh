#!/usr/bin/env bash
# DNS throughput with cairn's metrics off and on, end to end: the same
# binary serves a MULTIVALUE service of 8 A records (from a --init file),
# with the admin listener (and so the metrics) off, then on, alternating;
# dnsperf drives each for 8 s from the same machine. Prints one line per
# run: "off|on QUERIES_PER_SECOND". Needs dnsperf and dig (Debian's
# dnsperf and dnsutils). Usage: bench/dns-metrics.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/cairn" ./cmd/cairn
{
  echo 'Namespaces:'
  echo '  - {Name: bench-dns.test, Type: DNS_PRIVATE, Vpc: vpc-1, Services: [{Name: web, DnsConfig: {DnsRecords: [{Type: A, TTL: 10}]}, Instances: ['
  for i in 1 2 3 4 5 6 7 8; do echo "      {Id: i$i, Attributes: {AWS_INSTANCE_IPV4: 10.0.0.$i}},"; done
  echo '    ]}]}'
} >"$work/seed.yaml"
for _ in $(seq 2000); do echo "web.bench-dns.test A"; done >"$work/queries"
run() {
  local admin="" data
  [[ $1 == on ]] && admin=127.0.0.1:19181
  data=$(mktemp -d -p "$work")
  "$work/cairn" serve --data-dir "$data" --api-addr 127.0.0.1:19180 --dns-addr 127.0.0.1:19153 \
    --admin-addr "$admin" --init "$work/seed.yaml" >"$data/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    dig +short -p 19153 @127.0.0.1 web.bench-dns.test A 2>/dev/null | grep -q 10.0.0 && break
    sleep 0.1
  done
  dnsperf -s 127.0.0.1 -p 19153 -d "$work/queries" -l 8 -c 8 -q 200 2>&1 |
    awk -v m="$1" '/Queries per second/ {print m, $4}'
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}
for _ in $(seq "$rounds"); do run off; run on; done
