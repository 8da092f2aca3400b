//! The daemon: connecting, errors, the image (built from a Compose `build:` when missing), and
//! the container calls every step shares (inspect, kill, remove).

use std::path::Path;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::super::{OutputSink, SandboxError};
use super::planning::{BuildSpec, Plan};

/// Connects to the daemon the `docker` CLI would use (`DOCKER_HOST`, else the selected Docker
/// context, else the default socket) and negotiates the API version (older daemons speak older
/// versions).
pub(in crate::sandbox) async fn connect() -> Result<Docker, SandboxError> {
    let choice = super::docker_context::resolve(&|k| std::env::var(k).ok()).map_err(|cause| {
        SandboxError::DaemonUnreachable {
            host: "(unresolved)".to_string(),
            how: "Docker context".to_string(),
            cause,
        }
    })?;
    let (host, how) = (choice.host, choice.how);
    let unreachable = |cause: String| SandboxError::DaemonUnreachable {
        host: host.clone(),
        how: how.clone(),
        cause,
    };
    if let Some(path) = host.strip_prefix("unix://")
        && !Path::new(path).exists()
    {
        return Err(unreachable(format!("{path} does not exist")));
    }
    let docker = Docker::connect_with_host(&host).map_err(|e| unreachable(error_text(&e)))?;
    match tokio::time::timeout(Duration::from_secs(15), docker.negotiate_version()).await {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(unreachable(error_text(&e))),
        Err(_) => Err(unreachable("no answer within 15s".to_string())),
    }
}

/// Every container (running or not) that carries all of `labels` (`key=value` or `key`).
pub(in crate::sandbox) async fn labelled(
    docker: &Docker,
    labels: Vec<String>,
) -> Result<Vec<bollard::models::ContainerSummary>, SandboxError> {
    let filters = std::collections::HashMap::from([("label", labels)]);
    let opts = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(opts))
        .await
        .map_err(api("list containers"))
}

/// An error with its causes, on one line.
pub(in crate::sandbox) fn error_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

pub(in crate::sandbox) fn api(action: &'static str) -> impl Fn(BollardError) -> SandboxError {
    move |e| SandboxError::Docker {
        action,
        message: match &e {
            BollardError::DockerResponseServerError { message, .. } => message.clone(),
            other => error_text(other),
        },
    }
}

pub(in crate::sandbox) fn is_not_found(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Inspects the image, building it from the Compose `build:` when it is missing.
pub(super) async fn ensure_image(
    docker: &Docker,
    plan: &Plan,
    sink: &mut dyn OutputSink,
) -> Result<bollard::models::ImageInspect, SandboxError> {
    let image = &plan.profile.image;
    match docker.inspect_image(image).await {
        Ok(i) => return Ok(i),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(api("inspect the image")(e)),
    }
    let Some(spec) = &plan.build else {
        let hint = if plan.from_compose {
            format!(
                "pull it (`docker pull {image}`) or give the service a `build:` section; `sandlint run` never pulls"
            )
        } else {
            format!(
                "build it (`docker build -t {image} DIR`) or pull it (`docker pull {image}`); `sandlint run` never pulls"
            )
        };
        return Err(SandboxError::ImageMissing {
            image: image.clone(),
            hint,
        });
    };
    build_image(docker, spec, image, sink).await?;
    docker
        .inspect_image(image)
        .await
        .map_err(api("inspect the built image"))
}

/// Builds `tag` from a local context through the Engine API (honouring `.dockerignore`).
async fn build_image(
    docker: &Docker,
    spec: &BuildSpec,
    tag: &str,
    sink: &mut dyn OutputSink,
) -> Result<(), SandboxError> {
    let failed = |message: String| SandboxError::BuildFailed {
        image: tag.to_string(),
        message,
    };
    sink.status(&format!(
        "building image `{tag}` from {}",
        spec.context.display()
    ));
    let tar = super::super::context::tar_context(&spec.context, &spec.dockerfile)
        .map_err(|e| failed(format!("cannot read the build context: {e}")))?;
    let mut opts = BuildImageOptionsBuilder::new()
        .dockerfile(&spec.dockerfile)
        .t(tag)
        .rm(true)
        .forcerm(true);
    if let Some(t) = &spec.target {
        opts = opts.target(t);
    }
    if !spec.args.is_empty() {
        opts = opts.buildargs(&spec.args);
    }
    let mut stream = docker.build_image(opts.build(), None, Some(bollard::body_full(tar.into())));
    let mut last = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(detail) = info.error_detail {
                    return Err(failed(detail.message.unwrap_or(last)));
                }
                if let Some(line) = info.stream {
                    let line = line.trim_end();
                    if !line.is_empty() {
                        sink.status(line);
                        last = line.to_string();
                    }
                }
            }
            Err(e) => return Err(failed(error_text(&e))),
        }
    }
    Ok(())
}

pub(super) async fn inspect(
    docker: &Docker,
    name: &str,
) -> Result<ContainerInspectResponse, SandboxError> {
    docker
        .inspect_container(name, None)
        .await
        .map_err(api("inspect the container"))
}

pub(super) async fn kill(docker: &Docker, name: &str) {
    let _ = docker
        .kill_container(
            name,
            Some(KillContainerOptionsBuilder::new().signal("KILL").build()),
        )
        .await;
}

/// Force-removes a container (and its anonymous volumes); a container that is already gone is
/// fine. Retries briefly: removal can race with a container that is still being torn down.
pub(super) async fn remove(docker: &Docker, name: &str) {
    let opts = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    for attempt in 0..5 {
        match docker.remove_container(name, Some(opts.clone())).await {
            Ok(()) => return,
            Err(e) if is_not_found(&e) => return,
            Err(_) => tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await,
        }
    }
}
