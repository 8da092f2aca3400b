# syntax=docker/dockerfile:1
# The sandlint image: one static binary on an empty filesystem, run as a non-root user, no shell.
#
#   docker build -t sandlint .
#   docker run --rm -v "$PWD:/src:ro" sandlint check /src
#
# `.ci/run` builds the `prebuilt` target instead, from the static binary it built on the host
# (target/image/sandlint): no registry is reachable there, and the classic builder builds every
# stage up to the target, so the stages it needs come first. See README "Container image".
# RUST_IMAGE is the Rust toolchain the `build` stage compiles in.
ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm

# runtime is what every sandlint image is. The binary comes in the two stages below.
FROM scratch AS runtime
# A one-shot command-line tool: there is no service to probe.
HEALTHCHECK NONE
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/sandlint"]
CMD ["check", "."]

# The image from a binary built on the host:
#   RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --bin sandlint \
#     --target x86_64-unknown-linux-gnu && cp target/x86_64-unknown-linux-gnu/release/sandlint target/image/
# prebuilt is that image.
FROM runtime AS prebuilt
COPY target/image/sandlint /usr/local/bin/sandlint

# The image from source. Pin RUST_IMAGE's digest where you build releases (`--build-arg
# RUST_IMAGE=…@sha256:…`): the digest can only be read from the registry, which this repository's
# CI cannot reach.
# sandlint ignore=base-image-not-digest-pinned reason="digest set by the release build (no registry from CI)"
# build compiles sandlint from source.
FROM ${RUST_IMAGE} AS build
WORKDIR /build
COPY . .
# glibc linked statically (`crt-static`), so the binary runs on `scratch`; `--target` keeps
# build scripts and proc macros dynamic.
RUN target="$(rustc --print host-tuple)" \
 && RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --bin sandlint --target "$target" \
 && cp "target/$target/release/sandlint" /sandlint \
 && /sandlint --version

# sandlint ignore=missing-healthcheck reason="a one-shot CLI, not a service (HEALTHCHECK NONE above)"
FROM runtime
COPY --from=build /sandlint /usr/local/bin/sandlint
