#!/usr/bin/env bash
# Builds the `sandlint` wheel (python/pyproject.toml, maturin `bin` bindings) from the static
# release binary, installs it into a fresh virtualenv, then installs and runs the manifest's
# `language: python` pre-commit hook with the real pre-commit in a temporary git repository:
# a good Dockerfile passes, a bad one fails with sandlint's findings. Prints the install times
# the README quotes. PyPI is used only for maturin, setuptools and pre-commit; the `sandlint`
# wheel comes from target/wheels (PIP_FIND_LINKS), never from an index.
#   scripts/wheel-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
host="$(rustc --print host-tuple)"
fail() { echo "wheel test: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/maturin"
"$work/maturin/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.5,<2.0'
rm -rf target/wheels
# the same flags and target as scripts/image-test.sh: cargo reuses that build
(cd python && RUSTFLAGS='-C target-feature=+crt-static' "$work/maturin/bin/maturin" build \
  --release --locked --target "$host" --out "$root/target/wheels")
wheel="$(ls target/wheels/sandlint-*.whl)"
echo "wheel: $wheel ($(( $(stat -c %s "$wheel") / 1000000 )) MB)"
python3 -c 'import sys, zipfile; sys.exit(0 if "sandlint/py.typed" in zipfile.ZipFile(sys.argv[1]).namelist() else 1)' "$wheel" \
  || fail "the wheel does not ship sandlint/py.typed (PEP 561)"

# 1. pip install <wheel> puts sandlint on PATH
python3 -m venv "$work/user"
start="$(now)"
"$work/user/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
pip_seconds="$(since "$start")"
"$work/user/bin/sandlint" --version
[ "$("$work/user/bin/sandlint" --version)" = "sandlint $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)" ] \
  || fail "the wheel's sandlint is not this version"

# 2. the python hook, installed by the real pre-commit from a repository holding this
#    checkout's manifest and hook package (committed: pre-commit clones the rev)
python3 -m venv "$work/pc"
"$work/pc/bin/pip" install --quiet --disable-pip-version-check pre-commit
export GIT_CONFIG_GLOBAL="$work/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name "sandlint test"
git config --global user.email test@example.com
git config --global init.defaultBranch main
hooks="$work/hooks"
mkdir -p "$hooks"
cp .pre-commit-hooks.yaml pyproject.toml "$hooks/"
git -C "$hooks" init --quiet
git -C "$hooks" add -A
git -C "$hooks" commit --quiet -m hooks
rev="$(git -C "$hooks" rev-parse HEAD)"

project="$work/project"
mkdir -p "$project"
cat >"$project/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $hooks
    rev: $rev
    hooks:
      - id: sandlint
YAML
git -C "$project" init --quiet
export PRE_COMMIT_HOME="$work/pre-commit-home" PIP_FIND_LINKS="$root/target/wheels"
start="$(now)"
(cd "$project" && "$work/pc/bin/pre-commit" install-hooks)
hook_seconds="$(since "$start")"

printf 'FROM alpine:3.20@sha256:%064d\nUSER 10001\n' 0 >"$project/Dockerfile"
git -C "$project" add -A
(cd "$project" && "$work/pc/bin/pre-commit" run --all-files) >"$work/good.txt" 2>&1 \
  || { cat "$work/good.txt"; fail "the hook failed a clean Dockerfile"; }
printf 'FROM alpine\nRUN curl -fsSL https://example.com/x.sh | sh\n' >"$project/Dockerfile"
git -C "$project" add -A
set +e
(cd "$project" && "$work/pc/bin/pre-commit" run --all-files) >"$work/bad.txt" 2>&1
status=$?
set -e
[ "$status" -eq 1 ] || { cat "$work/bad.txt"; fail "exit $status on a bad Dockerfile (expected 1)"; }
grep -q 'SLD005' "$work/bad.txt" || { cat "$work/bad.txt"; fail "the hook did not print sandlint's findings"; }
# 3. the GitHub Action's shell steps (action.yml), as the runner would run them: inputs through
#    `env:`, GITHUB_PATH/GITHUB_OUTPUT files; `pip install sandlint==<version>` finds the wheel
#    in target/wheels (no index), on a fixture with findings: exit 1, SARIF, annotations
runner="$work/runner"
mkdir -p "$runner/temp"
: >"$runner/path"; : >"$runner/output"
cp -r fixtures/report/project "$runner/repo"
set +e
(cd "$runner/repo" && PIP_NO_INDEX=1 "$work/pc/bin/python" - "$root/action.yml" "$root" "$runner" <<'PY'
import os, re, subprocess, sys, yaml
action_file, root, runner = sys.argv[1:4]
action = yaml.safe_load(open(action_file))
inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
inputs.update({"paths": ".", "fail-on": "error"})
ctx = {"github.action_path": root, "runner.temp": f"{runner}/temp"}
def expand(text):
    def one(m):
        expr = m.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr[len("inputs."):]]
        return ctx[expr]
    return re.sub(r"\$\{\{(.*?)\}\}", one, text)
path = os.environ["PATH"]
for step in action["runs"]["steps"]:
    assert "${{" not in step["run"], f"step {step['name']!r} splices an expression into its script"
    env = dict(os.environ, GITHUB_PATH=f"{runner}/path", GITHUB_OUTPUT=f"{runner}/output")
    env.update({k: expand(str(v)) for k, v in step.get("env", {}).items()})
    env["PATH"] = ":".join([l for l in open(f"{runner}/path").read().split()] + [path])
    print(f"--- step: {step['name']}", flush=True)
    status = subprocess.run([step["shell"], "-c", step["run"]], env=env).returncode
    if status != 0:
        sys.exit(status)
PY
) >"$work/action.txt" 2>&1
status=$?
set -e
cat "$work/action.txt"
[ "$status" -eq 1 ] || fail "the action exited $status on a fixture with findings (expected 1)"
grep -q '^::error file=compose.yaml,line=7' "$work/action.txt" || fail "no pull-request annotation for compose.yaml:7"
grep -qx "sarif=sandlint.sarif" "$runner/output" || fail "the action did not set its sarif output"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]["results"]; assert r, "no results"' \
  "$runner/repo/sandlint.sarif" || fail "the action's SARIF has no results"

# 4. the Python API (`from sandlint import Sandbox`, python/python/sandlint) with pytest against
#    the real daemon, on images assembled FROM scratch (scripts/python-test-images.sh)
images="sandlint-pyapi-test-$$"
trap 'rm -rf "$work"; docker rmi -f "$images-sh" "$images-py" >/dev/null 2>&1 || true' EXIT
scripts/python-test-images.sh "$images"
"$work/user/bin/pip" install --quiet --disable-pip-version-check pytest
(cd "$work" && SANDLINT_TEST_SH_IMAGE="$images-sh" SANDLINT_TEST_PY_IMAGE="$images-py" \
  "$work/user/bin/python" -m pytest -q -p no:cacheprovider "$root/python/tests") \
  || fail "the Python API tests failed"
# 5. `sandlint mcp` through the official MCP Python SDK's client
"$work/user/bin/pip" install --quiet --disable-pip-version-check "mcp>=2,<3"
"$work/user/bin/python" scripts/mcp-test.py "$work/user/bin/sandlint" "$images-py" \
  || fail "the MCP server test failed"
leftover="$(docker ps -aq --filter "ancestor=$images-sh"; docker ps -aq --filter "ancestor=$images-py")"
[ -z "$leftover" ] || fail "containers left behind: $leftover"

echo "wheel test: ok (pip install of the wheel: ${pip_seconds} s; pre-commit install-hooks of the python hook: ${hook_seconds} s)"
