//! The user the command runs as, before start: resolved against the image like runc
//! ([`resolve_user`]), and fitted to the writable mounts' owners ([`fit_mounts`]).

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::Docker;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::super::profile::{HardenedProfile, LABEL_DEADLINE, LABEL_MANAGED, LABEL_OWNER, NOBODY};
use super::super::{SandboxError, SandboxOptions};
use super::daemon::{api, error_text, is_not_found, remove};
use super::planning::Plan;
use super::{container_name, host_name, owner, unix_now};
use crate::dockerfile::semantics::{ResolvedUser, is_root_user};

/// Whether the host's view of the writable mounts' owners is the container's: the daemon runs
/// on this host and does not remap user ids (rootless, `userns-remap`). `Err`: why not.
async fn host_ids_apply(docker: &Docker) -> Result<(), String> {
    let info = docker
        .info()
        .await
        .map_err(|e| format!("the daemon's info is not available ({})", error_text(&e)))?;
    let here = host_name();
    if here.is_none() || info.name.as_deref() != here.as_deref() {
        return Err("the daemon runs on another host".to_string());
    }
    let remapped = info
        .security_options
        .unwrap_or_default()
        .iter()
        .any(|o| o.contains("name=rootless") || o.contains("name=userns"));
    if remapped {
        return Err("the daemon remaps user ids (rootless or userns-remap)".to_string());
    }
    Ok(())
}

/// Whether a user with `uid` and primary group `gid` (`None`: unknown) can create files in the
/// host directory (or write the host file) described by `meta`, by its owner and mode alone:
/// the container's capabilities are dropped, so root's override does not apply either; ACLs
/// are not read.
#[cfg(unix)]
fn may_write(meta: &std::fs::Metadata, uid: u32, gid: Option<u32>) -> bool {
    use std::os::unix::fs::MetadataExt;
    let need = if meta.is_dir() { 0o3 } else { 0o2 };
    let mode = meta.mode();
    let bits = if meta.uid() == uid {
        mode >> 6
    } else if gid == Some(meta.gid()) {
        mode >> 3
    } else {
        mode
    };
    bits & need == need
}

/// Item 6 of the first-hour issue: a writable mount the container's user cannot write fails
/// with a bare `Permission denied` inside. Before start, every writable bind mount is checked
/// against the planned uid/gid. When one is not writable and the invoker did not name the user
/// (`--user`; the image's or the Compose file's user may change), the user becomes the owner
/// of that directory (never root) if that makes every writable mount writable; a note says so.
/// Otherwise the run is refused with what to do (`chown`, `--user`).
#[cfg(unix)]
fn fit_writable(
    profile: &mut HardenedProfile,
    resolution: &mut UserResolution,
    invoker_user: bool,
) -> Result<Option<String>, SandboxError> {
    use std::os::unix::fs::MetadataExt;
    let Some(uid) = resolution.uid else {
        return Ok(None);
    };
    let gid = profile
        .user
        .split_once(':')
        .and_then(|(_, g)| g.trim().parse::<u32>().ok());
    let writable: Vec<(PathBuf, String, std::fs::Metadata)> = profile
        .mounts
        .iter()
        .filter(|m| !m.read_only)
        .filter_map(|m| {
            std::fs::metadata(&m.source)
                .ok()
                .map(|meta| (m.source.clone(), m.target.clone(), meta))
        })
        .collect();
    let blocked = |uid: u32, gid: Option<u32>| {
        writable
            .iter()
            .find(|(_, _, meta)| !may_write(meta, uid, gid))
    };
    let Some((path, target, meta)) = blocked(uid, gid) else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let (owner, group) = (meta.uid(), meta.gid());
    let planned = profile.user.clone();
    if !invoker_user && owner != 0 {
        let g = if group != 0 { group } else { owner };
        if blocked(owner, Some(g)).is_none() {
            profile.user = format!("{owner}:{g}");
            resolution.uid = Some(owner);
            resolution.how = format!("the owner of {shown}, the writable mount on {target}");
            return Ok(Some(format!(
                "user: {owner}:{g}, the owner of {shown} (the planned user {planned} could not write it; to keep {planned}: `chown {planned} {shown}` and `--user {planned}`)"
            )));
        }
    }
    let who = gid.map_or_else(|| uid.to_string(), |g| format!("{uid}:{g}"));
    let all: Vec<String> = writable
        .iter()
        .filter(|(_, _, meta)| !may_write(meta, uid, gid))
        .map(|(p, _, _)| p.display().to_string())
        .collect();
    let mut hint = format!(
        "make {} writable for that user: `sudo chown {who} {}`",
        if all.len() == 1 { "it" } else { "them" },
        all.join(" ")
    );
    if owner != 0 {
        hint.push_str(&format!(", or run as its owner: `--user {owner}:{group}`"));
    } else {
        hint.push_str(
            " (it belongs to root, and sandlint does not run as root), or run as a user that can write it: `--user UID:GID`",
        );
    }
    Err(SandboxError::NotWritable {
        user: planned,
        path: shown,
        owner: format!("{owner}:{group}"),
        mode: meta.mode() & 0o7777,
        hint,
    })
}

#[cfg(not(unix))]
fn fit_writable(
    _profile: &mut HardenedProfile,
    _resolution: &mut UserResolution,
    _invoker_user: bool,
) -> Result<Option<String>, SandboxError> {
    Ok(None)
}

/// After the user is resolved against the image: the writable mounts checked (and the user
/// possibly changed to their owner, [`fit_writable`]); the notes gain what was done.
pub(super) async fn fit_mounts(
    docker: &Docker,
    plan: &mut Plan,
    resolution: &mut UserResolution,
    options: &SandboxOptions,
) -> Result<bool, SandboxError> {
    if !plan.profile.mounts.iter().any(|m| !m.read_only) {
        return Ok(false);
    }
    match host_ids_apply(docker).await {
        Ok(()) => match fit_writable(&mut plan.profile, resolution, options.user.is_some())? {
            Some(note) => {
                plan.notes.push(note);
                Ok(true)
            }
            None => Ok(false),
        },
        Err(why) => {
            plan.notes.push(format!(
                "the writable mounts' owners were not checked against the container's user: {why}"
            ));
            Ok(false)
        }
    }
}

/// How the user the command will run as was resolved before start.
#[derive(Debug, Clone)]
pub(super) struct UserResolution {
    /// The uid, when known before start.
    pub uid: Option<u32>,
    /// How it was resolved (`numeric user spec`, `the image's /etc/passwd`).
    pub how: String,
}

/// Resolves the planned user against the image, like runc: a number is the uid; a name is
/// looked up in the image's own `/etc/passwd` (read through the Engine API). A user that is
/// uid 0 is refused unless `allow_root`; the image's own root `USER` (in any spelling, or a
/// name that is uid 0 in its passwd) is replaced by nobody, as `USER root` is.
pub(super) async fn resolve_user(
    docker: &Docker,
    plan: &mut Plan,
    image: &bollard::models::ImageInspect,
    allow_root: bool,
) -> Result<UserResolution, SandboxError> {
    use crate::dockerfile::semantics::{ResolvedUser, UserRef, resolve_user as resolve, user_ref};
    if !plan.explicit_user {
        let image_user = image
            .config
            .as_ref()
            .and_then(|c| c.user.clone())
            .unwrap_or_default();
        plan.profile.user = image_user;
    }
    let spec = plan.profile.user.clone();
    let (passwd, how) = match user_ref(&spec) {
        UserRef::Name(_) => (
            read_image_file(docker, &plan.profile.image, "/etc/passwd").await?,
            "the image's /etc/passwd".to_string(),
        ),
        UserRef::Uid(_) => (None, "a numeric user spec".to_string()),
        UserRef::Default => (
            None,
            "an empty user: the runtime's default, root".to_string(),
        ),
    };
    let resolved = if spec.trim().is_empty() {
        ResolvedUser::Uid(0)
    } else {
        resolve(&spec, passwd.as_deref())
    };
    if !plan.explicit_user && counts_as_root(&spec, &resolved) {
        // The image's user is root, however spelt: nobody instead.
        plan.profile.user = NOBODY.to_string();
        return Ok(UserResolution {
            uid: Some(65534),
            how: if spec.trim().is_empty() {
                format!("the image sets no USER, so {NOBODY} is used")
            } else {
                format!("the image's USER is root (through {how}), so {NOBODY} is used")
            },
        });
    }
    match resolved {
        ResolvedUser::Uid(0) if !allow_root => Err(SandboxError::RootUser {
            user: spec,
            how: format!("resolved through {how}, as the runtime resolves it"),
        }),
        ResolvedUser::Uid(uid) => Ok(UserResolution {
            uid: Some(uid),
            how,
        }),
        // The runtime refuses to start such a container; the daemon's error says why.
        ResolvedUser::UnknownName(_) | ResolvedUser::OutOfRange(_) => {
            Ok(UserResolution { uid: None, how })
        }
    }
}

/// Whether the image's user `spec` (resolved against its passwd as `resolved`) is root for the
/// sandbox: any spelling of uid 0 or `root`, a name that is uid 0 in the image, and a spec that
/// [`is_root_user`] cannot tell (`None`: empty, or unexpanded like `$UID`), which the runtime
/// would run as its default, root.
fn counts_as_root(spec: &str, resolved: &ResolvedUser) -> bool {
    is_root_user(spec) != Some(false) || matches!(resolved, ResolvedUser::Uid(0))
}

/// The most of an image file [`read_image_file`] reads.
const IMAGE_FILE_LIMIT: usize = 1024 * 1024;

/// Reads `path` from `image` through the Engine API: a created (never started) container and
/// the archive endpoint, following symlinks inside the image (a few hops), at most
/// [`IMAGE_FILE_LIMIT`] bytes. `None` when the image has no such file.
async fn read_image_file(
    docker: &Docker,
    image: &str,
    path: &str,
) -> Result<Option<String>, SandboxError> {
    let name = format!("{}-probe", container_name());
    let mut labels = HashMap::new();
    labels.insert(LABEL_MANAGED.to_string(), "true".to_string());
    labels.insert(LABEL_OWNER.to_string(), owner());
    labels.insert(LABEL_DEADLINE.to_string(), (unix_now() + 60).to_string());
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec!["/sandlint-never-started".to_string()]),
        cmd: Some(Vec::new()),
        labels: Some(labels),
        network_disabled: Some(true),
        host_config: Some(bollard::models::HostConfig {
            network_mode: Some("none".to_string()),
            ..bollard::models::HostConfig::default()
        }),
        ..bollard::models::ContainerCreateBody::default()
    };
    docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(&name).build()),
            body,
        )
        .await
        .map_err(api("create a container to read the image's /etc/passwd"))?;
    let out = read_file_of(docker, &name, path).await;
    remove(docker, &name).await;
    out
}

async fn read_file_of(
    docker: &Docker,
    container: &str,
    path: &str,
) -> Result<Option<String>, SandboxError> {
    let mut path = path.to_string();
    for _ in 0..8 {
        let opts = DownloadFromContainerOptionsBuilder::new()
            .path(&path)
            .build();
        let mut stream = docker.download_from_container(container, Some(opts));
        let mut tar_bytes: Vec<u8> = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => {
                    tar_bytes.extend_from_slice(&b);
                    if tar_bytes.len() > IMAGE_FILE_LIMIT + 64 * 1024 {
                        return Err(SandboxError::InvalidOption {
                            message: format!(
                                "the image's {path} is larger than {IMAGE_FILE_LIMIT} bytes"
                            ),
                        });
                    }
                }
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(api("read a file of the image")(e)),
            }
        }
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let entries = archive.entries().map_err(|e| SandboxError::Docker {
            action: "read a file of the image",
            message: e.to_string(),
        })?;
        let Some(entry) = entries.flatten().next() else {
            return Ok(None);
        };
        let mut entry = entry;
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            let Some(target) = entry.link_name().ok().flatten() else {
                return Ok(None);
            };
            let target = target.to_string_lossy().into_owned();
            path = if target.starts_with('/') {
                target
            } else {
                let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
                format!("{parent}/{target}")
            };
            continue;
        }
        if !kind.is_file() {
            return Ok(None);
        }
        let mut text = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut entry, IMAGE_FILE_LIMIT as u64),
            &mut text,
        )
        .map_err(|e| SandboxError::Docker {
            action: "read a file of the image",
            message: e.to_string(),
        })?;
        return Ok(Some(String::from_utf8_lossy(&text).into_owned()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::semantics::resolve_user;

    #[test]
    fn image_users_that_count_as_root() {
        let passwd =
            "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n";
        let root = |spec: &str| counts_as_root(spec, &resolve_user(spec, Some(passwd)));
        for spec in [
            "",
            " ",
            "0",
            "+0",
            "00:00",
            "root",
            "root:staff",
            "toor",
            "$UID",
            "${USER}",
        ] {
            assert!(root(spec), "{spec:?}");
        }
        for spec in ["app", "1000", "65534:65534", "nobody"] {
            assert!(!root(spec), "{spec:?}");
        }
    }

    /// Issue 13 §2: the Dockerfile rule (`root-user`), the Compose rule (`service-root-user`)
    /// and `run`'s check of the image's user read every spelling alike, through the one parser
    /// ([`crate::dockerfile::semantics::user_ref`]): a spelling of uid 0 is root for all three,
    /// a non-root uid or name for none.
    #[test]
    fn the_three_user_checks_agree() {
        use crate::testing::{FileKind, Selection, lint_text};
        let passwd = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n";
        let dockerfile_root = |spec: &str| {
            let text = format!("FROM alpine:3.20\nUSER {spec}\n");
            !lint_text(
                FileKind::Dockerfile,
                "Dockerfile",
                &text,
                &Selection::only("root-user"),
            )
            .is_empty()
        };
        let compose_root = |spec: &str| {
            let text = format!("services:\n  s:\n    image: x:1\n    user: \"{spec}\"\n");
            !lint_text(
                FileKind::Compose,
                "compose.yaml",
                &text,
                &Selection::only("service-root-user"),
            )
            .is_empty()
        };
        let run_root = |spec: &str| counts_as_root(spec, &resolve_user(spec, Some(passwd)));
        for (spec, root) in [
            ("0", true),
            ("+0", true),
            ("-0", true),
            ("00", true),
            ("0:0", true),
            (":0", true),
            ("0:1000", true),
            ("root", true),
            ("root:root", true),
            (" 0", true),
            ("${UID:-0}", true),
            ("1000", false),
            ("+1000", false),
            ("app", false),
            ("1000:0", false),
            ("app:root", false),
        ] {
            // `USER " 0"`: the quotes are the Dockerfile's, the blank is the value's
            let dockerfile_spec = if spec.starts_with(' ') {
                format!("\"{spec}\"")
            } else {
                spec.to_string()
            };
            assert_eq!(dockerfile_root(&dockerfile_spec), root, "USER {spec}");
            assert_eq!(compose_root(spec), root, "user: {spec:?}");
            // `run` sees the value after interpolation (the image config holds no `${...}`)
            let interpolated = if spec == "${UID:-0}" { "0" } else { spec };
            assert_eq!(run_root(interpolated), root, "image USER {spec:?}");
        }
    }
}
