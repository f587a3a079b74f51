#!/usr/bin/env bash
# Builds the cairn image from the Containerfile with podman, then checks
# the binary taken out of the image (podman create + podman cp): it is
# static, runs `cairn serve` as the image would (on loopback here), and
# answers `cairn healthcheck`. Running containers does not work on the CI
# machines, so the image's binary runs on the host.
#
# Exit 0: built and checked. Exit 77: podman can't build here (a skip, said
# plainly). Anything else: a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v podman >/dev/null; then
  echo "image: SKIP: no podman (apt-get install podman)"; exit 77
fi
work=$(mktemp -d)
tag="localhost/cairn-ci:$$"
cleanup() {
  [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null || true
  [[ -n "${cid:-}" ]] && podman rm -f "$cid" >/dev/null 2>&1 || true
  podman rmi -f "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/image/data"
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/image/cairn" ./cmd/cairn
if ! podman build --format docker -f Containerfile -t "$tag" "$work/image" >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "image: SKIP: podman build does not work on this machine (log above)"; exit 77
fi
echo "image: built $tag ($(podman image inspect --format '{{.Size}}' "$tag") bytes)"
podman image inspect --format '{{.Config.User}} {{json .Config.ExposedPorts}} {{json .Config.Volumes}} {{json .Config.Healthcheck.Test}}' "$tag"
[[ "$(podman image inspect --format '{{.Config.User}}' "$tag")" == "65532:65532" ]] || { echo "image: not a non-root user"; exit 1; }
podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$tag" | grep -q healthcheck || { echo "image: no HEALTHCHECK"; exit 1; }
cid=$(podman create "$tag")
podman cp "$cid:/cairn" "$work/cairn"
# Static: built without cgo (the build settings Go records in the binary)
# and no ELF program interpreter (PT_INTERP), read from the program headers
# so that the check needs no `file` or binutils.
go version -m "$work/cairn" | grep -q 'CGO_ENABLED=0' || { echo "image: the binary was built with cgo"; exit 1; }
python3 - "$work/cairn" <<'PY' || { echo "image: the binary is not static (it names a program interpreter)"; exit 1; }
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:4] == b"\x7fELF" and b[4] == 2, "not a 64-bit ELF file"
phoff, = struct.unpack_from("<Q", b, 0x20)
phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
types = [struct.unpack_from("<I", b, phoff + i * phentsize)[0] for i in range(phnum)]
sys.exit(1 if 3 in types else 0)  # 3 = PT_INTERP
PY
echo "image: the binary is static (no cgo, no program interpreter)"
"$work/cairn" version
mkdir "$work/data"
CAIRN_API_ADDR=127.0.0.1:0 CAIRN_DNS_ADDR=127.0.0.1:0 CAIRN_ADMIN_ADDR=127.0.0.1:0 CAIRN_DATA_DIR="$work/data" "$work/cairn" serve >"$work/serve.log" 2>&1 &
pid=$!
endpoint=""
for _ in $(seq 200); do
  endpoint=$(sed -n 's/.*msg="serving the Cloud Map API" addr=\([^ ]*\).*/\1/p' "$work/serve.log" | head -1)
  [[ -n "$endpoint" ]] && break
  sleep 0.05
done
[[ -n "$endpoint" ]] || { cat "$work/serve.log"; echo "image: the image's cairn did not start"; exit 1; }
"$work/cairn" healthcheck --endpoint "http://$endpoint"
kill "$pid"; wait "$pid" || true; pid=""
echo "image: OK"
