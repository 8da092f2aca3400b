#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the project's own fixtures (../fixtures):
#   corpus/dockerfile_parse/  every fixture Dockerfile
#   corpus/compose_load/      every fixture Compose file, + NUL + the .env beside it (if any)
#   corpus/lint/              a mode byte + each file (bit 0: Compose; high bits cycle through
#                             the extra output format, see fuzz_targets/lint.rs)
# Generated at run time, never committed (fuzz/corpus is git-ignored). Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
fixtures=../fixtures
mkdir -p corpus/dockerfile_parse corpus/compose_load corpus/lint

# the lint target's mode byte: kind in bit 0, the extra format (seed number mod 8) in bits 4-6
mode() { printf "\\$(printf %03o $(( ($2 % 8) * 16 + $1 )))"; }

n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  cp "$f" "corpus/dockerfile_parse/seed-$n"
  { mode 0 "$n"; cat "$f"; } > "corpus/lint/seed-df-$n"
done < <(find "$fixtures" -type f \( -iname 'Dockerfile' -o -iname '*.Dockerfile' \
  -o -iname 'Dockerfile.*' -o -iname 'Containerfile' \) -print0 | sort -z)

m=0
while IFS= read -r -d '' f; do
  m=$((m + 1))
  env="$(dirname "$f")/.env"
  if [ -f "$env" ]; then
    { cat "$f"; printf '\0'; cat "$env"; } > "corpus/compose_load/seed-$m"
  else
    cp "$f" "corpus/compose_load/seed-$m"
  fi
  { mode 1 "$m"; cat "$f"; } > "corpus/lint/seed-compose-$m"
done < <(find "$fixtures" -type f \( -name '*.yaml' -o -name '*.yml' \) \
  ! -name '*pre-commit*' -print0 | sort -z)

echo "seeds: $n Dockerfiles, $m Compose files"
