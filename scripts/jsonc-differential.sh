#!/usr/bin/env bash
# compose::jsonc against the parser the Dev Containers CLI uses (npm `jsonc-parser`, VS Code's),
# over every devcontainer.json-like file under DIR and MUTATIONS random one-character mutations
# of each (deleted, doubled or inserted characters, truncations): both must reject the same
# files and read the others to the same value (canonical JSON, the last of equal keys winning,
# keys in JavaScript's order).
#   scripts/jsonc-differential.sh DIR [MUTATIONS]   (needs node and npm)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
mutations=${2:-8}
oracle=target/jsonc-oracle
if [ ! -d "$oracle/node_modules/jsonc-parser" ]; then
  mkdir -p "$oracle"
  npm install --silent --prefix "$oracle" jsonc-parser@3 >/dev/null
fi
cargo build --quiet --example jsonc_dump
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$dir" "$work" "$mutations" <<'PY'
import os, random, sys
src, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(11)
count = 0
for root, _, names in os.walk(src):
    for name in sorted(names):
        if not name.endswith(".json"):
            continue
        text = open(os.path.join(root, name), encoding="utf-8", errors="replace").read()
        variants = [text]
        for _ in range(n):
            b = list(text)
            i = random.randrange(len(b)) if b else 0
            op = random.choice(["del", "trunc", "dup", "ins"])
            if op == "del" and b:
                del b[i]
            elif op == "trunc":
                b = b[:i]
            elif op == "dup" and b:
                b.insert(i, b[i])
            else:
                b.insert(i, random.choice(list(',/*"\\}]{[:\n\tx0')))
            variants.append("".join(b))
        for v in variants:
            open(os.path.join(work, f"{count:06d}.json"), "w", encoding="utf-8").write(v)
            count += 1
PY
ls "$work"/*.json > "$work/list"
cat > "$work/dump.js" <<'JS'
const { parse, printParseErrorCode } = require(process.env.ORACLE + '/node_modules/jsonc-parser');
const fs = require('fs');
function canon(v) {
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (v !== null && typeof v === 'object')
    return '{' + Object.keys(v).map(k => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
for (const p of process.argv.slice(2)) {
  const errors = [];
  const v = parse(fs.readFileSync(p, 'utf8'), errors, { allowTrailingComma: true, disallowComments: false });
  console.log(p + '\t' + (errors.length ? 'ERROR ' + printParseErrorCode(errors[0].error) : canon(v)));
}
JS
xargs target/debug/examples/jsonc_dump < "$work/list" > "$work/ours"
ORACLE="$PWD/$oracle" xargs node "$work/dump.js" < "$work/list" > "$work/theirs"
python3 - "$work/ours" "$work/theirs" <<'PY'
import sys
ours = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]))
theirs = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[2]))
agree, differ = 0, []
for k, a in ours.items():
    b = theirs.get(k, "missing")
    if (a.startswith("ERROR") and b.startswith("ERROR")) or a == b:
        agree += 1
    else:
        differ.append((k, a[:120], b[:120]))
print(f"{agree}/{len(ours)} files agree")
for d in differ[:20]:
    print("differs:", *d, sep="\n  ")
sys.exit(1 if differ else 0)
PY
