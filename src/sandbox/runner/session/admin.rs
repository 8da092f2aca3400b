//! `session ls`, `stop`, `gc`, and the watchdog's removal at the deadline.

#[allow(
    clippy::wildcard_imports,
    reason = "the session module's imports and helpers"
)]
use super::*;

/// The daemon's containers that carry the session label.
async fn session_containers(
    docker: &Docker,
) -> Result<Vec<bollard::models::ContainerSummary>, SandboxError> {
    super::super::daemon::labelled(
        docker,
        vec![format!("{LABEL_MANAGED}=true"), LABEL_SESSION.to_string()],
    )
    .await
}

/// `session ls`.
pub(in crate::sandbox) async fn list() -> Result<Vec<SessionInfo>, SandboxError> {
    let docker = connect().await?;
    let now = unix_now();
    let mut out = Vec::new();
    for c in session_containers(&docker).await? {
        let labels = c.labels.clone().unwrap_or_default();
        let id = labels.get(LABEL_SESSION).cloned().unwrap_or_default();
        let deadline = labels
            .get(LABEL_DEADLINE)
            .and_then(|d| d.parse::<u64>().ok())
            .unwrap_or(0);
        let recorded = load_state(&id)
            .ok()
            .flatten()
            .is_some_and(|s| Some(&s.container_id) == c.id.as_ref());
        out.push(SessionInfo {
            id: crate::escape::line(&crate::source::clip(&id, 40)).into_owned(),
            container: c
                .names
                .as_ref()
                .and_then(|n| n.first().cloned())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            image: c.image.clone().unwrap_or_default(),
            user: String::new(),
            deadline,
            ttl_left: deadline.saturating_sub(now),
            profile_hash: labels.get(LABEL_PROFILE_HASH).cloned().unwrap_or_default(),
            state: c.state.map_or("unknown".to_string(), |s| s.to_string()),
            recorded,
            verified: Vec::new(),
            failed: Vec::new(),
            findings: Vec::new(),
            allowed: Vec::new(),
            notes: Vec::new(),
            egress: None,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// `session stop`: removes the session's container (and its volume). `false`: none was found.
pub(in crate::sandbox) async fn stop(id: &str) -> Result<bool, SandboxError> {
    crate::sandbox::session::check_id(id)?;
    let docker = connect().await?;
    let state = load_state(id).ok().flatten();
    let target = match &state {
        Some(s) => Some(s.container_id.clone()),
        None => {
            // No state on this host: only a container that carries this session's labels.
            let name = container_name(id);
            match docker.inspect_container(&name, None).await {
                Ok(v) => {
                    let labels = v.config.and_then(|c| c.labels).unwrap_or_default();
                    (labels.get(LABEL_SESSION).map(String::as_str) == Some(id)
                        && labels.get(LABEL_MANAGED).map(String::as_str) == Some("true"))
                    .then_some(name)
                }
                Err(_) => None,
            }
        }
    };
    forget(id);
    let Some(target) = target else {
        // whatever egress resources a session of this id left (its container is gone)
        super::super::super::egress::remove_run(&docker, &container_name(id)).await;
        return Ok(false);
    };
    let exists = docker.inspect_container(&target, None).await.is_ok();
    kill(&docker, &target).await;
    remove(&docker, &target).await;
    super::super::super::egress::remove_run(&docker, &container_name(id)).await;
    Ok(exists)
}

/// `session gc`: removes expired or exited sessions and state files whose container is gone.
pub(in crate::sandbox) async fn gc() -> Result<Vec<String>, SandboxError> {
    let docker = connect().await?;
    let now = unix_now();
    let mut removed = Vec::new();
    for c in session_containers(&docker).await? {
        let labels = c.labels.clone().unwrap_or_default();
        let expired = labels
            .get(LABEL_DEADLINE)
            .and_then(|d| d.parse::<u64>().ok())
            .is_none_or(|d| d <= now);
        let running = c.state.is_some_and(|s| s.to_string() == "running");
        if (expired || !running)
            && let Some(cid) = &c.id
        {
            kill(&docker, cid).await;
            remove(&docker, cid).await;
            let id = labels.get(LABEL_SESSION).cloned().unwrap_or_default();
            if crate::sandbox::session::check_id(&id).is_ok() {
                super::super::super::egress::remove_run(&docker, &container_name(&id)).await;
            }
            forget(&id);
            removed.push(crate::escape::line(&id).into_owned());
        }
    }
    for id in recorded_ids() {
        let Ok(Some(s)) = load_state(&id) else {
            continue;
        };
        let gone = matches!(docker.inspect_container(&s.container_id, None).await, Err(e) if is_not_found(&e));
        if gone || s.deadline <= now {
            if !gone {
                kill(&docker, &s.container_id).await;
                remove(&docker, &s.container_id).await;
            }
            super::super::super::egress::remove_run(&docker, &s.container).await;
            forget(&id);
            if !removed.contains(&id) {
                removed.push(id);
            }
        }
    }
    // the sidecars and networks of sessions whose container is gone
    for sandbox in super::super::super::egress::sweep(&docker).await {
        if let Some(id) = sandbox.strip_prefix("sandlint-session-")
            && !removed.iter().any(|r| r == id)
        {
            removed.push(crate::escape::line(id).into_owned());
        }
    }
    removed.sort();
    Ok(removed)
}

/// The session watchdog's action at the deadline: remove `container` if it is still this
/// session's (its labels name `id` and `deadline`).
pub(in crate::sandbox) async fn expire(
    id: &str,
    container: &str,
    deadline: u64,
) -> Result<(), SandboxError> {
    let docker = connect().await?;
    let view = match docker.inspect_container(container, None).await {
        Ok(v) => v,
        Err(e) if is_not_found(&e) => {
            super::super::super::egress::remove_run(&docker, container).await;
            forget(id);
            return Ok(());
        }
        Err(e) => return Err(api("inspect the container")(e)),
    };
    let labels = view.config.and_then(|c| c.labels).unwrap_or_default();
    let ours = labels.get(LABEL_SESSION).map(String::as_str) == Some(id)
        && labels.get(LABEL_DEADLINE) == Some(&deadline.to_string())
        && labels.get(LABEL_MANAGED).map(String::as_str) == Some("true");
    if ours {
        kill(&docker, container).await;
        remove(&docker, container).await;
        super::super::super::egress::remove_run(&docker, container).await;
        forget(id);
    }
    Ok(())
}
