#!/usr/bin/env python3
"""`--select` one rule against all rules, as interleaved pairs (the README's `--select` figures).

One run of `scripts/bench.sh` takes the best of three for each row, minutes apart on a machine
whose speed drifts by up to 2x within the hour; this alternates the two commands (and the
binaries, when given several) N times and prints the medians and every pair's ratio.

    scripts/select-ratio.py [--dir DIR] [--pairs N] [--rule CODE] BINARY [BINARY ...]

DIR defaults to ../shared/corpus as written (relative, through `..`, as a user in a sibling
checkout would name it); pass an absolute path to time that spelling.
"""

import argparse
import statistics
import subprocess
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="../shared/corpus")
    ap.add_argument("--pairs", type=int, default=15)
    ap.add_argument("--rule", default="SLD001")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    base = ["check", a.dir, "--format", "json", "--fail-on", "never", "--output", "/dev/null"]
    times = {b: ([], []) for b in a.binaries}
    for _ in range(a.pairs):
        for b in a.binaries:
            for i, extra in enumerate(([], ["--select", a.rule])):
                t = time.perf_counter()
                r = subprocess.run([b, *base, *extra], check=False)
                times[b][i].append(time.perf_counter() - t)
                if r.returncode != 0:
                    print(f"{b} exited {r.returncode}", file=sys.stderr)
                    return 2
    for b, (full, sel) in times.items():
        ratios = sorted(round(x / y, 2) for x, y in zip(full, sel))
        f, s = statistics.median(full), statistics.median(sel)
        print(f"{b}: all rules {f:.3f} s, --select {a.rule} {s:.3f} s, {f / s:.2f}x; pairs {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
