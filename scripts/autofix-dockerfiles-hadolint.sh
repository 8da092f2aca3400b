#!/usr/bin/env bash
# Cross-checks the Dockerfile autofixes with a second parser: fixes every corpus Dockerfile (all
# fixes, safe and unsafe, in rounds: tests/corpus_dockerfiles.rs, corpus_dockerfiles_fix_cleanly)
# into a scratch directory, then counts the changed files on which hadolint reports more parse
# errors (DL1000) than on the original. Expected: 0. Needs hadolint (HADOLINT=path to override).
#   scripts/autofix-dockerfiles-hadolint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
hadolint=${HADOLINT:-hadolint}
corpus=$(cd ../shared/corpus && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SANDLINT_CORPUS_FIXED=$out cargo test --locked --quiet --test corpus_dockerfiles fix_cleanly >/dev/null
checked=0 new=0
while IFS= read -r -d '' f; do
  rel=${f#"$out"/}
  before=$("$hadolint" --no-fail -f json "$corpus/$rel" 2>&1 | grep -c '"DL1000"' || true)
  after=$("$hadolint" --no-fail -f json "$f" 2>&1 | grep -c '"DL1000"' || true)
  checked=$((checked + 1))
  if [ "$after" -gt "$before" ]; then
    new=$((new + 1))
    echo "new hadolint parse error: $rel"
  fi
done < <(find "$out" -type f -print0)
echo "$checked fixed Dockerfiles checked with hadolint, $new with new parse errors"
[ "$new" -eq 0 ]
