#!/usr/bin/env bash
# The speed and memory benchmark (never a timed test). In one run, on the release binary:
#   - the corpus 1x, 4x and 16x (copies made of hard links in a temporary directory): wall, CPU
#     (user+sys), files/s and peak RSS of `sandlint check DIR --format json`, beside the read-only
#     floor (examples/read_floor.rs: the same walk reading every file, nothing else) and the
#     parse floor (examples/parse_floor.rs: that walk plus the Dockerfile and YAML parsers alone);
#   - `--select` one rule against all rules on the corpus;
#   - synthetic large inputs: a 1M-line Dockerfile and a ~30 MB compose file;
#   - one small file per process (the pre-commit path), process start included.
# Prints a Markdown table (the README's "Speed and memory" section is this output).
#   scripts/bench.sh [CORPUS_DIR] [RUNS]     (default ../shared/corpus, best of 3)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus}
runs=${2:-3}
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

cargo build --release --locked --quiet --bin sandlint --example read_floor --example parse_floor
bin=$PWD/target/release/sandlint
floor=$PWD/target/release/examples/read_floor
pfloor=$PWD/target/release/examples/parse_floor

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/x1" "$tmp/x4" "$tmp/x16"
cp -al "$corpus" "$tmp/x1/c"
for i in 1 2 3 4; do cp -al "$corpus" "$tmp/x4/c$i"; done
for i in $(seq 16); do cp -al "$corpus" "$tmp/x16/c$i"; done

# best-of-N of a command: prints "wall_s cpu_s maxrss_kb" (the run with the lowest wall time)
measure() {
  local best="" line
  for _ in $(seq "$runs"); do
    line=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -n 1)
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if float('${line%% *}') < float('${best%% *}') else 1)"; then
      best=$line
    fi
  done
  echo "$best" | awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}'
}

row() { # label files wall cpu rss [floor_wall]
  python3 - "$@" <<'PY'
import sys
label, files, wall, cpu, rss = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
floor = float(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[6] else None
fps = f"{files / wall:,.0f}" if wall > 0 and files > 1 else "—"
vs = f"{wall / floor:.1f}×" if floor else ""
print(f"| {label} | {files:,} | {wall:.2f} s | {cpu:.2f} s | {fps} | {rss / 1024:.0f} MB | {vs} |")
PY
}

echo "| input | files | wall | CPU | files/s | peak RSS | vs. read floor |"
echo "|---|---|---|---|---|---|---|"
for x in x1 x4 x16; do
  dir=$tmp/$x
  files=$("$bin" check "$dir" --format json --fail-on never | python3 -c 'import json,sys;print(json.load(sys.stdin)["files_checked"])')
  read -r fwall fcpu frss < <(measure "$floor" "$dir")
  read -r pwall pcpu prss < <(measure "$pfloor" "$dir")
  read -r wall cpu rss < <(measure "$bin" check "$dir" --format json --fail-on never --output /dev/null)
  row "read floor, corpus ${x#x}×" "$(find "$dir" -type f | wc -l)" "$fwall" "$fcpu" "$frss"
  row "parse floor, corpus ${x#x}×" "$(find "$dir" -type f | wc -l)" "$pwall" "$pcpu" "$prss" "$fwall"
  row "sandlint, corpus ${x#x}×" "$files" "$wall" "$cpu" "$rss" "$fwall"
done
files=$("$bin" check "$tmp/x1" --format json --fail-on never | python3 -c 'import json,sys;print(json.load(sys.stdin)["files_checked"])')
read -r wall cpu rss < <(measure "$bin" check "$tmp/x1" --format json --fail-on never --select SLD001 --output /dev/null)
row "sandlint --select SLD001, corpus 1×" "$files" "$wall" "$cpu" "$rss"
for fmt in full sarif; do
  read -r wall cpu rss < <(measure "$bin" check "$tmp/x1" --format "$fmt" --fail-on never --output /dev/null)
  row "sandlint --format $fmt, corpus 1×" "$files" "$wall" "$cpu" "$rss"
done

# Synthetic large inputs.
python3 - "$tmp" <<'PY'
import os, sys
tmp = sys.argv[1]
os.makedirs(f"{tmp}/big-df", exist_ok=True)
with open(f"{tmp}/big-df/Dockerfile", "w") as f:
    f.write("FROM alpine:3.20\n")
    for i in range(999_999):
        f.write(f"RUN echo {i} && curl -fsSL https://example.com/{i} | sh\n" if i % 10 == 0 else f"ENV K{i}=v{i}\n")
os.makedirs(f"{tmp}/big-compose", exist_ok=True)
with open(f"{tmp}/big-compose/compose.yaml", "w") as f:
    f.write("services:\n")
    i = 0
    while f.tell() < 30_000_000:
        f.write(f"  s{i}:\n    image: nginx:1.27\n    privileged: true\n    ports: [\"{8000 + i % 1000}:80\"]\n"
                f"    environment:\n      A: \"{i}\"\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n")
        i += 1
PY
read -r wall cpu rss < <(measure "$bin" check "$tmp/big-df/Dockerfile" --format json --fail-on never --output /dev/null)
row "1M-line Dockerfile ($(( $(stat -c %s "$tmp/big-df/Dockerfile") / 1000000 )) MB)" 1 "$wall" "$cpu" "$rss"
read -r wall cpu rss < <(measure "$bin" check "$tmp/big-compose/compose.yaml" --format json --fail-on never --output /dev/null)
row "compose file ($(( $(stat -c %s "$tmp/big-compose/compose.yaml") / 1000000 )) MB)" 1 "$wall" "$cpu" "$rss"

# The pre-commit path: one small file per invocation (process start included).
single=fixtures/projects/sample/Dockerfile
n=200
start=$(date +%s%N)
for _ in $(seq "$n"); do
  "$bin" check "$single" --format concise --fail-on never -q >/dev/null
done
end=$(date +%s%N)
python3 - "$n" "$start" "$end" "$single" <<'PY'
import sys
n, start, end, single = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"\nOne small file per process (`sandlint check {single}`, {n} runs): "
      f"{(end - start) / n / 1e6:.2f} ms per run, process start included.")
PY
