//! The default user of a few well-known registry images, for the user rules (`root-user`,
//! `unknown-image-user`, `service-root-user`). sandlint reads no registry, so an image that is
//! not built here has an unknown user, unless it is listed below.
//!
//! Every entry cites its source: the image's own published Dockerfile (a row of
//! `../shared/corpus/MANIFEST.tsv`, or a repository file at a commit). An image is listed as
//! root only when its Dockerfile sets no `USER` (the runtime default, uid 0), and as non-root
//! only when its final `USER` is a non-root uid. Keep it that way: an entry without a source is
//! worse than no entry, because it turns an "unknown" into a confident finding.

use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::semantics::{self, EffectiveUser, Scope};

/// The user an image runs as when nothing overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultUser {
    /// uid 0: the image's config sets no user.
    Root,
    /// A non-root uid.
    NonRoot(u32),
}

/// One well-known image repository (every tag).
#[derive(Debug)]
pub struct KnownImage {
    /// Repository names as written in `FROM`/`image:` after normalisation (no `docker.io/`,
    /// no `library/`, lower case).
    pub names: &'static [&'static str],
    pub user: DefaultUser,
    /// Where the default user is documented.
    pub source: &'static str,
}

/// The table. Sources in `../shared/corpus` are cited as `MANIFEST.tsv: repo commit path`.
pub static KNOWN_IMAGES: &[KnownImage] = &[
    KnownImage {
        names: &["python"],
        user: DefaultUser::Root,
        source: "MANIFEST.tsv: docker-library/python 4f07059567fa 3.13/slim-bookworm/Dockerfile (no USER)",
    },
    KnownImage {
        names: &["node"],
        user: DefaultUser::Root,
        source: "MANIFEST.tsv: nodejs/docker-node f27d936f7d7c 24/bookworm/Dockerfile (no USER; the `node` user, uid 1000, exists but is not selected)",
    },
    KnownImage {
        names: &["nginx"],
        user: DefaultUser::Root,
        source: "MANIFEST.tsv: nginxinc/docker-nginx b430becb8f0f stable/debian/Dockerfile (no USER)",
    },
    KnownImage {
        names: &["postgres"],
        user: DefaultUser::Root,
        source: "MANIFEST.tsv: docker-library/postgres 6edb0a8c4def 17/bookworm/Dockerfile (no USER; the entrypoint drops to `postgres` itself)",
    },
    KnownImage {
        names: &["php"],
        user: DefaultUser::Root,
        source: "MANIFEST.tsv: docker-library/php 445bf414f1d5 8.4/bookworm/cli/Dockerfile (no USER)",
    },
    KnownImage {
        names: &["debian"],
        user: DefaultUser::Root,
        source: "MANIFEST.tsv: docker-library/python 4f07059567fa 3.13/slim-bookworm/Dockerfile: `FROM debian:bookworm-slim` then `apt-get install` with no USER (needs uid 0)",
    },
    KnownImage {
        names: &["alpine"],
        user: DefaultUser::Root,
        source: "MANIFEST.tsv: docker-library/python 4f07059567fa 3.13/alpine3.23/Dockerfile: `FROM alpine:3.23` then `apk add` with no USER (needs uid 0)",
    },
    KnownImage {
        names: &["ubuntu"],
        user: DefaultUser::Root,
        source: "github.com/grafana/grafana Dockerfile at 78515af65f036f536c4ab2e6fdb5484552f99f1f: its final stage supports an `ubuntu` BASE_IMAGE and runs `apt-get install` there before any USER (needs uid 0); also MANIFEST.tsv: rocker-org/rocker-versioned2 69cded5dcbcb dockerfiles/r-ver_4.6.1.Dockerfile (`FROM docker.io/library/ubuntu:noble`, installs R with no USER)",
    },
    KnownImage {
        names: &["buildpack-deps"],
        user: DefaultUser::Root,
        source: "MANIFEST.tsv: nodejs/docker-node f27d936f7d7c 24/bookworm/Dockerfile: `FROM buildpack-deps:bookworm` then `groupadd`/`useradd` with no USER (needs uid 0)",
    },
    KnownImage {
        names: &["grafana/grafana"],
        user: DefaultUser::NonRoot(472),
        source: "github.com/grafana/grafana Dockerfile at 78515af65f036f536c4ab2e6fdb5484552f99f1f: `ARG GF_UID=\"472\"` ... `USER \"$GF_UID\"`",
    },
    KnownImage {
        names: &[
            "jupyter/docker-stacks-foundation",
            "jupyter/base-notebook",
            "jupyter/minimal-notebook",
            "jupyter/scipy-notebook",
            "jupyter/r-notebook",
            "jupyter/julia-notebook",
            "jupyter/datascience-notebook",
            "jupyter/pyspark-notebook",
            "jupyter/all-spark-notebook",
            "quay.io/jupyter/docker-stacks-foundation",
            "quay.io/jupyter/base-notebook",
            "quay.io/jupyter/minimal-notebook",
            "quay.io/jupyter/scipy-notebook",
            "quay.io/jupyter/r-notebook",
            "quay.io/jupyter/julia-notebook",
            "quay.io/jupyter/datascience-notebook",
            "quay.io/jupyter/pyspark-notebook",
            "quay.io/jupyter/all-spark-notebook",
        ],
        user: DefaultUser::NonRoot(1000),
        source: "MANIFEST.tsv: jupyter/docker-stacks 820938695049 images/docker-stacks-foundation/Dockerfile (`ARG NB_UID=\"1000\"`, last `USER ${NB_UID}`; every listed image's Dockerfile ends with `USER ${NB_UID}`)",
    },
];

/// `docker.io/library/python:3.12@sha256:..` -> `python`; `Grafana/Grafana` -> `grafana/grafana`.
fn repository(image: &str) -> String {
    let (name, _, _) = semantics::split_image_ref(image.trim());
    let name = name.to_ascii_lowercase();
    let name = ["docker.io/", "index.docker.io/", "registry-1.docker.io/"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .map_or(name.clone(), str::to_string);
    name.strip_prefix("library/")
        .map_or(name.clone(), str::to_string)
}

/// The table entry for an image reference, if any. Windows tags (`windowsservercore`,
/// `nanoserver`) are not covered: their users are Windows accounts.
pub fn lookup(image: &str) -> Option<&'static KnownImage> {
    let (_, tag, _) = semantics::split_image_ref(image.trim());
    if tag.is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("windows") || t.contains("nanoserver") || t.contains("ltsc")
    }) {
        return None;
    }
    let repo = repository(image);
    KNOWN_IMAGES
        .iter()
        .find(|k| k.names.contains(&repo.as_str()))
}

/// What the final user is when a stage chain sets no `USER`: decided by the external base image
/// of the root-most stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseUser {
    /// `FROM scratch`, or a table entry that runs as root. `why` says how it is known.
    Root { image: String, why: &'static str },
    /// A table entry (or a distroless `nonroot` tag) that runs as a non-root user.
    NonRoot,
    /// A registry image sandlint cannot see (`image` as written, after ARG expansion when known).
    Unknown { image: String },
}

/// Classifies the base of `eu` when `eu.instruction` is `None` (no `USER` in the chain).
pub fn base_user(df: &Dockerfile, eu: &EffectiveUser<'_>) -> BaseUser {
    let written = eu.stage.image.value.as_str();
    let Some(image) = semantics::expand_with_args(df, written, Scope::Global) else {
        return BaseUser::Unknown {
            image: written.to_string(),
        };
    };
    if image.eq_ignore_ascii_case("scratch") {
        return BaseUser::Root {
            image,
            why: "`scratch` has no image config, so the runtime's default user, root, applies",
        };
    }
    if semantics::base_image_runs_as_nonroot(&image) {
        return BaseUser::NonRoot;
    }
    match lookup(&image).map(|k| k.user) {
        Some(DefaultUser::Root) => BaseUser::Root {
            image,
            why: "its published Dockerfile sets no `USER`",
        },
        Some(DefaultUser::NonRoot(_)) => BaseUser::NonRoot,
        None => BaseUser::Unknown { image },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_names() {
        for (image, user) in [
            ("python:3.12-slim", Some(DefaultUser::Root)),
            (
                "docker.io/library/python:3.12@sha256:ab",
                Some(DefaultUser::Root),
            ),
            ("library/alpine", Some(DefaultUser::Root)),
            ("Grafana/Grafana:11.0.0", Some(DefaultUser::NonRoot(472))),
            ("docker.io/grafana/grafana", Some(DefaultUser::NonRoot(472))),
            (
                "quay.io/jupyter/base-notebook:latest",
                Some(DefaultUser::NonRoot(1000)),
            ),
            ("python:3.13-windowsservercore-ltsc2022", None),
            ("ghcr.io/python/python:3", None),
            ("mypython:3", None),
            ("grafana/loki", None),
            ("localhost:5000/python", None),
        ] {
            assert_eq!(lookup(image).map(|k| k.user), user, "{image}");
        }
    }

    #[test]
    fn every_entry_has_a_source() {
        for k in KNOWN_IMAGES {
            assert!(!k.source.is_empty() && !k.names.is_empty());
            for n in k.names {
                assert_eq!(*n, n.to_ascii_lowercase());
                assert_eq!(repository(n), *n, "{n} is not normalised");
            }
        }
    }
}
