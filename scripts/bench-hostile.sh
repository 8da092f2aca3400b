#!/usr/bin/env bash
# Generates large and hostile inputs into target/bench-hostile/ and times the release binary
# on each at 1x/2x/4x size with /usr/bin/time -v: wall time and max RSS should grow in
# proportion to the input (linear), and the expansion bombs should stay small and fast.
#   scripts/bench-hostile.sh [SCALE]    SCALE multiplies the 1x sizes (default 1: the 4x sizes
#                                       are a 1M-line Dockerfile and a ~30 MB compose file)
# Not a test: timings depend on the machine. Needs python3 and GNU time (apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked --quiet
bin=$target/release/sandlint
out=$target/bench-hostile
mkdir -p "$out"
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }

gen() { # gen KIND N DIR
  python3 - "$@" <<'PY'
import os, sys
kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
w = lambda name: open(os.path.join(out, name), "w")
if kind == "dockerfile":          # n lines: stages, RUN/SHELL/ENV/ARG/COPY/USER mixes
    with w("Dockerfile") as f:
        f.write("ARG BASE=debian:12\n")
        for i in range(n):
            if i % 50000 == 0:
                f.write(f"FROM ${{BASE}} AS s{i // 50000}\n")
            f.write([
                'SHELL ["/bin/sh", "-c"]\n',
                f"ENV V{i}=v PATH=/b:$PATH\n",
                f"ARG A{i}=x\n",
                f"COPY s{i} /a/\n",
                f"RUN curl -k u/{i} | sh\n",
                f"WORKDIR /w{i}\n",
                f"RUN apt-get install p{i}\n",
                f"USER {1000 + i % 5}\n",
                f'RUN ["sh", "-c", "echo {i}"]\n',
                f'LABEL l{i}="v"\n',
            ][i % 10])
elif kind == "shellrun":          # n lines: one SHELL, then RUN/ENV only (the old worst case)
    with w("Dockerfile") as f:
        f.write('FROM debian:12\nSHELL ["/bin/sh", "-c"]\n')
        for i in range(n // 2):
            f.write(f"ENV K{i}=$HOME/{i}\nRUN echo {i} | tee /tmp/x\n")
elif kind == "compose":           # n services of ~25 lines
    with w("compose.yaml") as f:
        f.write("x-common: &common\n  restart: unless-stopped\n  security_opt: [no-new-privileges:true]\n")
        f.write("networks:\n  back:\n    internal: true\nservices:\n")
        for i in range(n):
            f.write(f"  svc{i}:\n    <<: *common\n    image: registry.example.com/app{i}:1.{i}\n"
                    f"    user: \"{1000 + i}:{1000 + i}\"\n    read_only: true\n    cap_drop: [ALL]\n"
                    f"    cap_add: [NET_BIND_SERVICE]\n    mem_limit: 512m\n    cpus: 0.5\n    pids_limit: 100\n"
                    f"    environment:\n      APP_ID: \"{i}\"\n      PORT: \"${{PORT:-8080}}\"\n"
                    f"    ports: [\"127.0.0.1:{10000 + i % 50000}:80\"]\n"
                    f"    volumes:\n      - ./data{i}:/data:ro\n      - type: tmpfs\n        target: /tmp\n"
                    f"    networks: [back]\n    depends_on: [svc{max(i - 1, 0)}]\n"
                    f"    healthcheck:\n      test: [\"CMD\", \"true\"]\n")
elif kind == "override":          # compose.yaml + compose.override.yaml, n services each
    for name in ["compose.yaml", "compose.override.yaml"]:
        with w(name) as f:
            f.write("services:\n")
            for i in range(n):
                f.write(f"  svc{i}:\n    image: app{i}:1\n    environment: [A{i}=1, B=2]\n    cap_add: [NET_ADMIN]\n")
elif kind == "aliases":           # one 100 KB string aliased n times
    with w("compose.yaml") as f:
        f.write("x-big: &big " + "a" * 100_000 + "\nservices:\n  web:\n    image: nginx:1\n    environment:\n")
        for i in range(n):
            f.write(f"      V{i}: *big\n")
elif kind == "dotenv":            # n lines that double the previous one
    with w(".env") as f:
        f.write("V0=xxxxxxxx\n")
        for i in range(1, n):
            f.write(f"V{i}=${{V{i - 1}}}${{V{i - 1}}}\n")
    with w("compose.yaml") as f:
        f.write(f"services:\n  web:\n    image: \"nginx:${{V{n - 1}}}\"\n")
PY
}

run() { # run LABEL DIR
  local label=$1 dir=$2 size
  size=$(du -sb --apparent-size "$dir" | cut -f1)
  /usr/bin/time -v "$bin" check "$dir" --format json --output /dev/null --fail-on never \
    2> "$out/time.txt" || true
  python3 - "$label" "$size" "$out/time.txt" <<'PY'
import re, sys
label, size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t = open(path).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", t).group(1)
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(f"| {label:<34} | {size / 1e6:>9.2f} MB | {secs:>8.2f} s | {rss / 1024:>8.1f} MiB |")
PY
}

echo "| input                              |      size  |     wall  |   max RSS   |"
echo "|------------------------------------|------------|-----------|-------------|"
for spec in "dockerfile 250000 lines" "shellrun 250000 lines" "compose 12000 services" \
            "override 25000 services" "aliases 5000 aliases" "dotenv 10 lines"; do
  set -- $spec
  kind=$1 base=$2 unit=$3
  for mult in 1 2 4; do
    n=$(( base * scale * mult ))
    [ "$kind" = dotenv ] && n=$(( 10 * mult ))   # 10, 20, 40 lines: 80 B to 4 TiB if expanded
    dir=$out/$kind-$n
    [ -d "$dir" ] || gen "$kind" "$n" "$dir"
    run "$kind $n $unit" "$dir"
  done
done
