#!/usr/bin/env bash
# Times the release binary over ../shared/corpus (or the directory given) and prints files/s and MB/s.
#   scripts/bench.sh [DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-../shared/corpus}
runs=${2:-10}
cargo build --release --quiet
bin=./target/release/sandlint
files=$($bin check "$dir" --format json --fail-on never | python3 -c 'import json,sys;print(json.load(sys.stdin)["files_checked"])')
bytes=$(find "$dir" -type f \( -iname '*dockerfile*' -o -iname '*containerfile*' -o -iname '*compose*.y*ml' \) -printf '%s\n' | awk '{s+=$1} END {print s}')
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs "$runs" "$bin check $dir --format json --fail-on never --output /dev/null"
fi
best=999999
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  $bin check "$dir" --format json --fail-on never --output /dev/null
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  [ "$ms" -lt "$best" ] && best=$ms
done
python3 - "$files" "$bytes" "$best" <<'PY'
import sys
files, size, ms = int(sys.argv[1]), int(sys.argv[2]), max(int(sys.argv[3]), 1)
print(f"{files} files, {size/1e6:.1f} MB; best of runs: {ms} ms wall "
      f"= {files/(ms/1000):,.0f} files/s, {size/1e6/(ms/1000):.1f} MB/s")
PY

# The pre-commit path: one small file per invocation (process start included).
single=fixtures/projects/sample/Dockerfile
n=200
start=$(date +%s%N)
for _ in $(seq "$n"); do
  $bin check "$single" --format concise --fail-on never -q >/dev/null
done
end=$(date +%s%N)
python3 - "$n" "$start" "$end" <<'PY'
import sys
n, start, end = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"single file ({n} runs of `sandlint check {'fixtures/projects/sample/Dockerfile'}`): "
      f"{(end-start)/n/1e6:.2f} ms per run, process start included")
PY
