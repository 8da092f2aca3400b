#!/usr/bin/env bash
# The overhead of `sandlint guard` for a trivial `docker run --rm`: the docker CLI through the
# guard's socket against the daemon's socket directly, same image, same command.
# Usage: scripts/guard-bench.sh [RUNS]   (default 20; needs a running dockerd and busybox-static)
# Builds a throwaway static-busybox image FROM scratch, starts a release guard on a temporary
# socket, uses hyperfine when installed (else a plain loop), and removes the image and the guard.
# The direct run is given the protections the guard adds (flags), so the figure is the guard's
# own cost (judging, two upstream inspections, post-start verification, the proxying), not the
# cost of the protections.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"

cargo build --release --quiet --bin sandlint
bin=./target/release/sandlint
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] || { echo "busybox-static is required (apt-get install busybox-static)" >&2; exit 1; }

tag="sandlint-guard-bench:$$"
ctx="$(mktemp -d)"
sock="$ctx/guard.sock"
guard_pid=""
cleanup() {
  [ -n "$guard_pid" ] && kill "$guard_pid" 2>/dev/null && wait "$guard_pid" 2>/dev/null || true
  docker rmi -f "$tag" >/dev/null 2>&1 || true
  rm -rf "$ctx"
}
trap cleanup EXIT
cp "$busybox" "$ctx/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\n' >"$ctx/Dockerfile"
docker build -q -t "$tag" "$ctx" >/dev/null 2>&1

"$bin" guard --listen "unix://$sock" 2>"$ctx/guard.log" &
guard_pid=$!
for _ in $(seq 100); do grep -q 'serving' "$ctx/guard.log" 2>/dev/null && break; sleep 0.05; done
grep -q 'serving' "$ctx/guard.log" || { cat "$ctx/guard.log" >&2; exit 1; }

guarded="docker -H unix://$sock run --rm $tag true"
direct="docker run --rm --user 65534:65534 --read-only --tmpfs /tmp:size=67108864,noexec,nosuid,nodev --cap-drop ALL --security-opt no-new-privileges:true --network none --memory 512m --memory-swap 512m --cpus 1 --pids-limit 256 --init --log-opt max-size=8m --log-opt max-file=2 $tag true"

# warm-up (page cache, daemon), and both must work
$guarded >/dev/null; $direct >/dev/null

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 2 --runs "$runs" -N \
    -n "docker run --rm, direct (same protections as flags)" "$direct" \
    -n "docker run --rm, through sandlint guard" "$guarded"
else
  bench() {
    local name="$1"; shift
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
    end=$(date +%s%N)
    echo "$name: $(( (end - start) / runs / 1000000 )) ms per run (mean of $runs)"
  }
  bench "docker run --rm, direct (same protections as flags)" $direct
  bench "docker run --rm, through sandlint guard" $guarded
fi
