#!/usr/bin/env bash
# Compares `sandlint run` with `docker run --rm` on the same image and a trivial command.
# Usage: scripts/bench-run.sh [RUNS]   (default 10; needs a running dockerd and busybox-static)
# Builds a throwaway static-busybox image FROM scratch, uses hyperfine when installed (else a
# plain loop), prints both, and removes the image.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"

cargo build --release --quiet
bin=./target/release/sandlint
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] || { echo "busybox-static is required (apt-get install busybox-static)" >&2; exit 1; }

tag="sandlint-bench:$$"
ctx="$(mktemp -d)"
trap 'docker rmi -f "$tag" >/dev/null 2>&1 || true; rm -rf "$ctx"' EXIT
cp "$busybox" "$ctx/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\n' >"$ctx/Dockerfile"
docker build -q -t "$tag" "$ctx" >/dev/null 2>&1

sandlint_cmd="$bin run --image $tag -- true"
# The same protections through the docker CLI, for a like-for-like comparison.
docker_hardened="docker run --rm --user 65534:65534 --read-only --tmpfs /tmp:size=64m,noexec,nosuid,nodev --cap-drop ALL --security-opt no-new-privileges --network none --memory 512m --memory-swap 512m --cpus 1 --pids-limit 256 --init $tag true"
docker_plain="docker run --rm $tag true"

# warm-up (page cache, daemon)
$sandlint_cmd >/dev/null 2>&1; $docker_plain >/dev/null

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 2 --runs "$runs" -N \
    -n "sandlint run" "$sandlint_cmd" \
    -n "docker run --rm (hardened flags)" "$docker_hardened" \
    -n "docker run --rm" "$docker_plain"
else
  bench() {
    local name="$1"; shift
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
    end=$(date +%s%N)
    printf '%-36s %8.1f ms/run  (%d runs)\n' "$name" "$(awk -v a="$start" -v b="$end" -v n="$runs" 'BEGIN { print (b - a) / 1e6 / n }')" "$runs"
  }
  # shellcheck disable=SC2086
  bench "sandlint run" $sandlint_cmd
  # shellcheck disable=SC2086
  bench "docker run --rm (hardened flags)" $docker_hardened
  # shellcheck disable=SC2086
  bench "docker run --rm" $docker_plain
fi
