//! `sandlint audit`'s engine: the containers of the Docker daemon, each `inspect` lowered to a
//! one-service Compose document ([`lower::render`]) that the Compose rules check like a file.
//!
//! Bounds: at most [`MAX_CONTAINERS`] containers (more is an error: name the ones to audit);
//! each daemon call answers within [`CALL_TIMEOUT`]; every string and list written into the
//! document is cut ([`lower::MAX_TEXT`], [`lower::MAX_ITEMS`]). The connection is `sandlint
//! run`'s (`DOCKER_HOST`, else the selected Docker context, else the default socket).

pub mod lower;

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::ListContainersOptionsBuilder;

use super::SandboxError;
use super::runner::{api, connect, is_not_found};

/// The most containers one audit reads.
pub const MAX_CONTAINERS: usize = 1000;
/// How long one daemon call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Labels longer than this are ignored (the Compose labels are paths and names).
const MAX_LABEL: usize = 4096;
/// The most Compose files one container's label names.
const MAX_CONFIG_FILES: usize = 32;

/// The Compose labels `docker compose` puts on the containers it starts.
pub const LABEL_PROJECT: &str = "com.docker.compose.project";
pub const LABEL_SERVICE: &str = "com.docker.compose.service";
pub const LABEL_CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const LABEL_WORKING_DIR: &str = "com.docker.compose.project.working_dir";

/// One container, read and lowered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited {
    /// The name, without the daemon's leading `/` (hostile text: escape it to print it).
    pub name: String,
    /// The first 12 hex digits of the id.
    pub short_id: String,
    /// The image as the container was created from it (`Config.Image`).
    pub image: String,
    pub running: bool,
    /// Where `docker compose` says it came from.
    pub compose: Option<ComposeOrigin>,
    /// The Compose document the rules check ([`lower::render`]).
    pub document: String,
    /// The restart policy (`always`, `on-failure`, …; empty: none) and its retry limit.
    pub restart: (String, i64),
    /// Whether the image or the run gives a health check (a disabled one counts: it is
    /// `healthcheck-disabled`'s).
    pub healthcheck: bool,
}

/// A container's Compose labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeOrigin {
    pub project: String,
    pub service: String,
    /// `project.config_files`, split at commas (as `docker compose` joins them).
    pub config_files: Vec<String>,
    pub working_dir: Option<String>,
}

impl Audited {
    /// Reads what an audit needs of one inspect.
    pub fn of(c: &ContainerInspectResponse) -> Audited {
        let config = c.config.as_ref();
        let labels = config.and_then(|c| c.labels.as_ref());
        Audited {
            name: lower::container_name(c),
            short_id: lower::short_id(c.id.as_deref().unwrap_or_default()),
            image: config.and_then(|c| c.image.clone()).unwrap_or_default(),
            running: c.state.as_ref().and_then(|s| s.running) == Some(true),
            compose: labels.and_then(compose_origin),
            document: lower::render(c),
            restart: (c.host_config.as_ref())
                .and_then(|h| h.restart_policy.as_ref())
                .map_or((String::new(), 0), |p| {
                    let name = p.name.as_ref().map(ToString::to_string).unwrap_or_default();
                    (name, p.maximum_retry_count.unwrap_or(0))
                }),
            healthcheck: (config.and_then(|c| c.healthcheck.as_ref()))
                .and_then(|h| h.test.as_ref())
                .is_some_and(|t| !t.is_empty()),
        }
    }
}

fn compose_origin(labels: &HashMap<String, String>) -> Option<ComposeOrigin> {
    let get = |k: &str| {
        labels
            .get(k)
            .filter(|v| !v.is_empty() && v.len() <= MAX_LABEL)
            .cloned()
    };
    Some(ComposeOrigin {
        project: get(LABEL_PROJECT)?,
        service: get(LABEL_SERVICE)?,
        config_files: get(LABEL_CONFIG_FILES)
            .map(|f| {
                (f.split(',').map(str::trim).filter(|s| !s.is_empty()))
                    .take(MAX_CONFIG_FILES)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        working_dir: get(LABEL_WORKING_DIR),
    })
}

/// The containers named (names or id prefixes, as `docker inspect` takes them), or every
/// running one (`all`: every one), sorted by name. A name the daemon does not know is an error.
pub fn audit(names: &[String], all: bool) -> Result<Vec<Audited>, SandboxError> {
    let rt = super::runtime()?;
    rt.block_on(audit_async(names, all))
}

async fn audit_async(names: &[String], all: bool) -> Result<Vec<Audited>, SandboxError> {
    let docker = connect().await?;
    let ids: Vec<String> = if names.is_empty() {
        list(&docker, all).await?
    } else {
        let mut seen = Vec::new();
        for n in names {
            if !seen.contains(n) {
                seen.push(n.clone());
            }
        }
        if seen.len() > MAX_CONTAINERS {
            return Err(too_many(seen.len()));
        }
        seen
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        let inspect = timed(docker.inspect_container(id, None)).await?;
        match inspect {
            Ok(c) => out.push(Audited::of(&c)),
            Err(e) if is_not_found(&e) => {
                return Err(SandboxError::InvalidOption {
                    message: format!(
                        "no such container: `{}` (`docker ps -a` lists them)",
                        crate::escape::line(id)
                    ),
                });
            }
            Err(e) => return Err(api("inspect a container")(e)),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.short_id.cmp(&b.short_id)));
    out.dedup_by(|a, b| a.short_id == b.short_id && a.name == b.name);
    Ok(out)
}

async fn list(docker: &Docker, all: bool) -> Result<Vec<String>, SandboxError> {
    let opts = ListContainersOptionsBuilder::new().all(all).build();
    let list = timed(docker.list_containers(Some(opts)))
        .await?
        .map_err(api("list containers"))?;
    if list.len() > MAX_CONTAINERS {
        return Err(too_many(list.len()));
    }
    Ok(list.into_iter().filter_map(|c| c.id).collect())
}

fn too_many(n: usize) -> SandboxError {
    SandboxError::InvalidOption {
        message: format!(
            "{n} containers: more than {MAX_CONTAINERS}, the most one audit reads; name the ones to audit"
        ),
    }
}

async fn timed<T>(f: impl std::future::Future<Output = T>) -> Result<T, SandboxError> {
    tokio::time::timeout(CALL_TIMEOUT, f)
        .await
        .map_err(|_| SandboxError::Docker {
            action: "read the containers",
            message: format!("no answer within {}s", CALL_TIMEOUT.as_secs()),
        })
}
