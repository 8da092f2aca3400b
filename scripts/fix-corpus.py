#!/usr/bin/env python3
"""Autofix over the real-world corpus (issue 16): do the fixes keep every Compose file loadable
by sandlint and by the real Docker Compose, and touch only the keys they mean to?

Copies the corpus (`../shared/corpus`, or `--corpus DIR`) to a temporary directory (nothing
under the corpus is ever written), runs `sandlint check --preset sandbox --fix-only
--unsafe-fixes` over the copy, then reports, over the Compose files of the corpus's MANIFEST:

- files changed and fixes applied (from the diff of the copy against the original);
- new parse errors: `compose-syntax-error` findings after the fix that the original did not
  have (must be 0);
- Docker Compose: `docker-compose -f FILE config -q` (the real binary, `--compose BIN` or
  `SANDLINT_DOCKER_COMPOSE`, run with an empty environment in the file's directory) on each
  changed file before and after; a project Compose accepted before and rejects after is a
  regression (must be 0);
- intended keys only: sandlint's model of every project (`examples/compose_model.rs`) before
  and after, compared service by service on every field except those the fixes write
  (`security_opt`, `cap_drop`, `privileged`, `read_only`, `tmpfs`, `mem_limit`, `cpus`,
  `pids_limit`, `user`, `network_mode`, deploy limits, a port's `host_ip`, a volume's
  read-only flag and options); any other difference is counted (must be 0).

Exit 1 when a must-be-0 count is not 0. `--keep DIR` keeps the fixed copy there.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIXED_FIELDS = {
    "security_opt", "cap_drop", "privileged", "read_only", "tmpfs", "mem_limit", "cpus",
    "pids_limit", "user", "network_mode", "limits",
}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def compose_ok(bin_, path):
    try:
        p = run([bin_, "-f", os.path.basename(path), "config", "-q"], cwd=os.path.dirname(path),
                env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home"}, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    return p.returncode == 0


def syntax_errors(sandlint, root):
    p = run([sandlint, "check", "--select", "compose-syntax-error", "--format", "json",
             "--no-config", root])
    out = {}
    for f in json.loads(p.stdout or "{}").get("findings", []):
        out[f["file"]] = out.get(f["file"], 0) + 1
    return out


def models(model_bin, root):
    p = run([model_bin, root])
    out = {}
    for line in p.stdout.splitlines():
        # absolute paths (build contexts, bind sources) name the copy: make them comparable
        m = json.loads(line.replace(json.dumps(root)[1:-1], "<root>"))
        m["file"] = os.path.join(root, os.path.relpath(m["file"], "<root>")) if "file" in m else None
        rel = os.path.relpath(m["file"], root) if "file" in m else None
        out[rel] = m
    return out


def strip(service):
    s = {k: v for k, v in service.items() if k not in FIXED_FIELDS}
    if isinstance(s.get("ports"), list):
        s["ports"] = [{k: v for k, v in p.items() if k != "host_ip"} if isinstance(p, dict) else p
                      for p in s["ports"]]
    if isinstance(s.get("volumes"), list):
        s["volumes"] = [{k: v for k, v in p.items() if k not in ("read_only", "options")}
                        if isinstance(p, dict) else p for p in s["volumes"]]
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "corpus"))
    ap.add_argument("--sandlint", default=os.path.join(ROOT, "target", "debug", "sandlint"))
    ap.add_argument("--model", default=os.path.join(ROOT, "target", "debug", "examples", "compose_model"))
    ap.add_argument("--compose", default=os.environ.get(
        "SANDLINT_DOCKER_COMPOSE", "/work/cv/lib/python3.11/site-packages/compose/docker-compose"))
    ap.add_argument("--keep")
    ap.add_argument("--jobs", type=int, default=4)
    args = ap.parse_args()
    corpus = os.path.abspath(args.corpus)
    manifest = [l.split("\t") for l in open(os.path.join(corpus, "MANIFEST.tsv")).read().splitlines()[1:]]
    compose_files = sorted({os.path.join(r.replace("/", "__"), p) for r, _c, p, kind, *_ in manifest
                            if kind == "compose"})
    tmp = tempfile.mkdtemp(prefix="sandlint-fix-corpus-")
    before = os.path.join(tmp, "before")
    after = os.path.join(tmp, "after")
    shutil.copytree(corpus, before, symlinks=True)
    shutil.copytree(corpus, after, symlinks=True)
    p = run([args.sandlint, "check", "--preset", "sandbox", "--fix-only", "--unsafe-fixes",
             "--no-config", after])
    summary = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    print(f"sandlint: {summary} (exit {p.returncode})")
    changed = [f for f in compose_files
               if os.path.isfile(os.path.join(before, f))
               and open(os.path.join(before, f), "rb").read() != open(os.path.join(after, f), "rb").read()]
    other_changed = 0
    for dirpath, _dirs, files in os.walk(after):
        for name in files:
            a = os.path.join(dirpath, name)
            rel = os.path.relpath(a, after)
            b = os.path.join(before, rel)
            if rel in compose_files or os.path.islink(a):
                continue
            if not os.path.isfile(b) or open(a, "rb").read() != open(b, "rb").read():
                other_changed += 1
    print(f"Compose files in the corpus: {len(compose_files)}; changed: {len(changed)}; "
          f"other files changed (Dockerfiles, by other rules' fixes): {other_changed}")
    added_lines = 0
    for f in changed:
        d = run(["diff", "-u", os.path.join(before, f), os.path.join(after, f)])
        added_lines += sum(1 for l in d.stdout.splitlines() if l.startswith("+") and not l.startswith("+++"))
    print(f"lines added or changed in Compose files: {added_lines}")

    eb, ea = syntax_errors(args.sandlint, before), syntax_errors(args.sandlint, after)
    rel = lambda root, m: {os.path.relpath(os.path.join(root, k) if not os.path.isabs(k) else k, root): v for k, v in m.items()}
    eb, ea = rel(before, eb), rel(after, ea)
    new_errors = sum(max(0, n - eb.get(k, 0)) for k, n in ea.items())
    print(f"new sandlint parse errors: {new_errors}")

    with ThreadPoolExecutor(args.jobs) as pool:
        b_ok = list(pool.map(lambda f: compose_ok(args.compose, os.path.join(before, f)), changed))
        a_ok = list(pool.map(lambda f: compose_ok(args.compose, os.path.join(after, f)), changed))
    accepted = sum(1 for x in b_ok if x)
    regressions = [f for f, x, y in zip(changed, b_ok, a_ok) if x and not y]
    print(f"docker-compose config on the changed files: accepted before {accepted}, "
          f"accepted after {sum(1 for y in a_ok if y)}, accepted before and rejected after "
          f"{len(regressions)}")
    for f in regressions:
        print(f"  regression: {f}")

    mb, ma = models(args.model, before), models(args.model, after)
    touched = []
    compared = 0
    for k, m in mb.items():
        n = ma.get(k)
        if n is None:
            touched.append((k, "<project gone>", ""))
            continue
        for name, s in m.get("services", {}).items():
            t = n.get("services", {}).get(name)
            if t is None:
                touched.append((k, name, "<service gone>"))
                continue
            compared += 1
            a, b = strip(s), strip(t)
            for field in sorted(set(a) | set(b)):
                if a.get(field) != b.get(field):
                    touched.append((k, name, field))
    print(f"services compared (sandlint's model, before and after): {compared} in {len(mb)} projects; "
          f"fields changed other than the ones the fixes write: {len(touched)}")
    for k, name, field in touched[:20]:
        print(f"  {k}: service {name}: {field}")
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        shutil.move(after, args.keep)
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if new_errors or regressions or touched else 0


if __name__ == "__main__":
    sys.exit(main())
