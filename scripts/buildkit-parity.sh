#!/usr/bin/env bash
# BuildKit build-check parity: runs sandlint over the Dockerfiles of BuildKit's own lint tests
# (frontend/dockerfile/dockerfile_check_test.go in a BuildKit checkout or bare mirror, read at run
# time, never copied into this repository) and compares, per BuildKit check, BuildKit's expected
# warnings (check name + line) with the findings of the sandlint rule that names that check
# (`buildkit:` in rules/*.md). Prints, per check, the cases that agree out of the cases where
# either side reports the check, and the cases that disagree.
#   scripts/buildkit-parity.sh [GIT_DIR] [REV]   (default /work/.mirror/moby+buildkit/repo HEAD)
# A case is one `checkLinterWarnings` call (a Dockerfile may be checked more than once, with
# another `.dockerignore`); the test's `.dockerignore` is written beside the Dockerfile. Cases
# that need build arguments or frontend attributes, or are printf templates (%s), are skipped
# and counted. Needs python3 and git.
set -euo pipefail
cd "$(dirname "$0")/.."
git_dir=${1:-/work/.mirror/moby+buildkit/repo}
rev=${2:-HEAD}
target=${CARGO_TARGET_DIR:-target}
cargo build --locked --quiet
bin=$target/debug/sandlint
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git --git-dir="$git_dir" show "$rev:frontend/dockerfile/dockerfile_check_test.go" > "$work/check_test.go"
commit=$(git --git-dir="$git_dir" rev-parse "$rev")
date=$(git --git-dir="$git_dir" show -s --format=%cs "$rev")
python3 - "$work" "$bin" "$commit" "$date" <<'PY'
import json, os, re, subprocess, sys
from collections import defaultdict

work, binary, commit, date = sys.argv[1:5]
src = open(os.path.join(work, "check_test.go")).read()

# BuildKit check -> sandlint rule, from the rule docs' front matter
mapping = {}
for name in sorted(os.listdir("rules")):
    text = open(os.path.join("rules", name)).read()
    fm = text.split("---", 2)[1]
    bk = re.search(r"^buildkit:\s*(\S+)", fm, re.M)
    if bk:
        code = re.search(r"^code:\s*(\S+)", fm, re.M).group(1)
        mapping[bk.group(1)] = (code, name[:-3])

def block_end(s, i):
    """Index after the `}` that closes the `{` at s[i] (Go source, strings skipped)."""
    depth, j = 0, i
    while j < len(s):
        c = s[j]
        if c == "`":
            j = s.index("`", j + 1)
        elif c == '"':
            j += 1
            while s[j] != '"':
                j += 2 if s[j] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return len(s)

helpers = [(h.start(), h.group(1), h.group(2)) for h in re.finditer(
    r"(\w+) := func\([^)]*\) expectedLintWarning \{.*?RuleName:\s*\"(\w+)\"", src, re.S)]

def helpers_before(at):
    """The helpers of the test function around `at` (defined after its `func test…`)."""
    fn = src.rfind("\nfunc ", 0, at)
    return [(name, rule) for pos, name, rule in helpers if fn < pos < at]

cases, skipped = [], 0
assigns = [a.start() for a in re.finditer(r"\bdockerfile :?= ", src)]
for m in re.finditer(r"dockerfile :?= \[\]byte\(`(.*?)`\)", src, re.S):
    body = m.group(1)
    # every check of this Dockerfile: the calls up to its next assignment or the next function
    fn_end = src.find("\nfunc ", m.end())
    fn_end = len(src) if fn_end < 0 else fn_end
    until = min([a for a in assigns if a > m.start()] + [fn_end])
    at = m.end()
    while True:
        call = src.find("checkLinterWarnings(", at, until)
        if call < 0:
            break
        brace = src.index("{", src.index("&lintTestParams", call))
        params = src[brace:block_end(src, brace)]
        at = brace + len(params)
        if re.search(r"\b(FrontendAttrs|BuildArgs)\s*:", params) or "%" in body:
            skipped += 1
            continue
        # the test's `.dockerignore`: inline, or the last `dockerignore := []byte(...)` before
        ignore = None
        di = re.search(r"\bDockerIgnore:\s*(?:\[\]byte\(`(.*?)`\)|(\w+))", params, re.S)
        if di and di.group(1) is not None:
            ignore = di.group(1)
        elif di:
            defs = list(re.finditer(re.escape(di.group(2)) + r" :?= \[\]byte\(`(.*?)`\)",
                                    src[:call], re.S))
            if not defs:
                skipped += 1
                continue
            ignore = defs[-1].group(1)
        # only `Warnings:` (what a build reports), not `UnmarshalWarnings:`
        wl = re.search(r"(?<!Unmarshal)Warnings:\s*\[\]expectedLintWarning\{", params)
        listed = params[wl.end() - 1:block_end(params, wl.end() - 1)] if wl else ""
        warns = re.findall(r'RuleName:\s*"(\w+)".*?Line:\s*(\d+)', listed, re.S)
        # `makeLintWarning("CMD", 5)`: a helper defined earlier in the test function
        for helper, rule in helpers_before(m.start()):
            for args in re.findall(helper + r"\(([^()]*)\)", listed):
                warns.append((rule, args.split(",")[-1].strip()))
        line_no = src.count("\n", 0, call) + 1
        cases.append((line_no, body, ignore, [(r, int(l)) for r, l in warns]))

def instruction_start_lines(text):
    """For each line (1-based), the first line of the instruction it continues."""
    out, start, cont = {}, 1, False
    for i, line in enumerate(text.split("\n"), 1):
        if not cont:
            start = i
        out[i] = start
        s = line.rstrip()
        if s.lstrip().startswith("#") and cont:
            continue
        cont = s.endswith("\\") or (cont and s.strip() == "")
    return out

secret_in_env = re.search(r"^code:\s*(\S+)", open("rules/secret-in-env.md").read(), re.M).group(1)
select = ",".join([code for code, _ in mapping.values()] + [secret_in_env])
agree, total = defaultdict(int), defaultdict(int)
differ = []
for n, (line_no, body, ignore, warns) in enumerate(cases):
    d = os.path.join(work, f"case{n}")
    os.makedirs(d)
    with open(os.path.join(d, "Dockerfile"), "w") as f:
        f.write(body)
    if ignore is not None:
        with open(os.path.join(d, ".dockerignore"), "w") as f:
            f.write(ignore)
    out = subprocess.run([binary, "check", os.path.join(d, "Dockerfile"), "--format", "json",
                          "--fail-on", "never", "--select", select],
                         capture_output=True, text=True)
    found = json.loads(out.stdout)["findings"] if out.stdout else []
    starts = instruction_start_lines(body)
    by_code = {code: bk for bk, (code, _) in mapping.items()}
    # a literal secret under a secret name is `secret-in-env`'s finding, not SLD024's (one
    # mistake, one finding): BuildKit's SecretsUsedInArgOrEnv covers both
    by_code.setdefault(secret_in_env, "SecretsUsedInArgOrEnv")
    got = defaultdict(list)
    for f in found:
        bk = by_code.get(f["code"])
        if bk:
            got[bk].append(starts.get(f["start"]["line"], f["start"]["line"]))
    want = defaultdict(list)
    for r, l in warns:
        # BuildKit puts NoEmptyContinuation on an instruction's last line, the others on its
        # first: compare instructions
        want[r].append(starts.get(l, l))
    for check in set(want) | set(got):
        total[check] += 1
        if sorted(want[check]) == sorted(got[check]):
            agree[check] += 1
        else:
            differ.append((check, line_no, sorted(want[check]), sorted(got[check])))

print(f"BuildKit {commit[:8]} ({date}), frontend/dockerfile/dockerfile_check_test.go: "
      f"{len(cases)} checks of a Dockerfile compared, {skipped} skipped (need build arguments "
      f"or frontend attributes, or are printf templates)")
print()
print("| BuildKit check | sandlint rule | cases agreeing |")
print("|---|---|---|")
for check in sorted(set(total) | set(mapping)):
    rule = mapping.get(check)
    shown = f"{rule[0]} `{rule[1]}`" if rule else "—"
    print(f"| {check} | {shown} | {agree[check]}/{total[check]} |")
print()
print(f"Total: {sum(agree.values())}/{sum(total.values())} (check, case) pairs agreeing")
print()
for check, line_no, want, got in sorted(differ):
    print(f"differs: {check} (test file line {line_no}): BuildKit lines {want}, sandlint lines {got}")
PY
