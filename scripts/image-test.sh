#!/usr/bin/env bash
# Builds sandlint's container image offline and runs it as a user would (README "Container
# image"): the `prebuilt` target of the root Dockerfile, from the static binary this script
# builds on the host (no registry is reachable in CI, so the `build` stage's Rust image cannot be
# pulled). Needs a Docker daemon. Leaves the static binary in target/image/sandlint.
#   scripts/image-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
host="$(rustc --print host-tuple)"
# `--target` keeps build scripts and proc macros dynamic; only the binary is static.
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --bin sandlint --target "$host"
mkdir -p target/image
cp "${CARGO_TARGET_DIR:-target}/$host/release/sandlint" target/image/sandlint
fail() { echo "image test: $*" >&2; exit 1; }
# static(-pie): no shared library to load
if readelf -d target/image/sandlint | grep -q NEEDED; then
  readelf -d target/image/sandlint | grep NEEDED >&2
  fail "the binary needs shared libraries: it cannot run on scratch"
fi

tag="sandlint:image-test-$$"
trap 'docker rmi -f "$tag" >/dev/null 2>&1 || true' EXIT
docker build --quiet --target prebuilt -t "$tag" . >/dev/null
size="$(docker image inspect -f '{{.Size}}' "$tag")"
user="$(docker image inspect -f '{{.Config.User}}' "$tag")"
[ "$user" = "65532:65532" ] || fail "image user is '$user', not 65532:65532"
# nothing but the binary: no shell to exec into
if docker run --rm --network none --entrypoint /bin/sh "$tag" -c true >/dev/null 2>&1; then
  fail "the image has a shell"
fi
docker run --rm --network none "$tag" --version

# a project with findings: they are reported, exit 1
set +e
docker run --rm --network none --read-only --cap-drop ALL --security-opt no-new-privileges \
  -v "$PWD/fixtures/report/project:/src:ro" "$tag" check /src --format concise >target/image/findings.txt
status=$?
set -e
[ "$status" -eq 1 ] || { cat target/image/findings.txt; fail "exit $status on a project with findings (expected 1)"; }
grep -q '^/src/compose.yaml:7:.* error SLC001 ' target/image/findings.txt \
  || { cat target/image/findings.txt; fail "SLC001 not reported on /src/compose.yaml:7"; }

# its own Dockerfile passes its own sandbox preset (the default command is `check .` in /src)
docker run --rm --network none --read-only -v "$PWD/Dockerfile:/src/Dockerfile:ro" \
  -v "$PWD/.dockerignore:/src/.dockerignore:ro" "$tag" \
  check Dockerfile --preset sandbox --select all
echo "image test: ok ($(( size / 1000000 )) MB, user $user, $(wc -l <target/image/findings.txt) findings on the fixture)"
