//! Removing sandlint's containers that outlived their run: expired, orphaned (`--gc`), or the
//! one a watchdog was started for.

use std::collections::HashMap;
use std::path::Path;

use bollard::Docker;

use super::super::SandboxError;
use super::super::profile::{LABEL_DEADLINE, LABEL_MANAGED, LABEL_OWNER};
use super::daemon::{api, connect, is_not_found, kill, remove};
use super::{owner, unix_now};

/// Which of sandlint's containers [`reap`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reap {
    /// Those past their `dev.sandlint.deadline` (whoever owns them).
    Expired,
    /// Those past their deadline, and those whose owner process on this host is gone.
    Orphans,
    /// Every one.
    All,
}

/// Removes containers carrying sandlint's label, as `mode` says. Returns their names.
pub(super) async fn reap(docker: &Docker, mode: Reap) -> Result<Vec<String>, SandboxError> {
    let list = super::daemon::labelled(docker, vec![format!("{LABEL_MANAGED}=true")]).await?;
    let me = owner();
    let host = me.split(':').next().unwrap_or_default().to_string();
    let now = unix_now();
    let mut removed = Vec::new();
    for c in list {
        let label = |k: &str| c.labels.as_ref().and_then(|l| l.get(k).cloned());
        let expired = label(LABEL_DEADLINE)
            .and_then(|d| d.trim().parse::<u64>().ok())
            .is_some_and(|d| d < now);
        let owner = label(LABEL_OWNER).unwrap_or_default();
        let orphan = match owner.rsplit_once(':') {
            Some((h, pid)) if h == host => {
                pid != std::process::id().to_string() && !Path::new("/proc").join(pid).exists()
            }
            // another host's process: we cannot tell
            Some(_) => false,
            None => true,
        };
        let take = match mode {
            Reap::Expired => expired,
            Reap::Orphans => expired || orphan,
            Reap::All => true,
        };
        if !take {
            continue;
        }
        let name = c
            .names
            .as_ref()
            .and_then(|n| n.first().cloned())
            .map(|n| n.trim_start_matches('/').to_string())
            .or(c.id.clone())
            .unwrap_or_default();
        if let Some(id) = &c.id {
            kill(docker, id).await;
            remove(docker, id).await;
            removed.push(name);
        }
    }
    // The egress networks (after their containers): the same decision on their labels.
    let take_network = |labels: &HashMap<String, String>| {
        let expired = labels
            .get(LABEL_DEADLINE)
            .and_then(|d| d.trim().parse::<u64>().ok())
            .is_some_and(|d| d < now);
        let orphan = match labels.get(LABEL_OWNER).and_then(|o| o.rsplit_once(':')) {
            Some((h, pid)) if h == host => {
                pid != std::process::id().to_string() && !Path::new("/proc").join(pid).exists()
            }
            Some(_) => false,
            None => true,
        };
        match mode {
            Reap::Expired => expired,
            Reap::Orphans => expired || orphan,
            Reap::All => true,
        }
    };
    // (not listed: `--gc` reports containers)
    super::super::egress::reap_networks(docker, &take_network).await;
    removed.sort();
    Ok(removed)
}

/// `--gc`: removes leftovers (orphans and expired containers; every one with `all`).
pub(in crate::sandbox) async fn gc(all: bool) -> Result<Vec<String>, SandboxError> {
    let docker = connect().await?;
    reap(&docker, if all { Reap::All } else { Reap::Orphans }).await
}

/// The watchdog's action: kill and remove `container` if it carries the `label`=true label.
pub(in crate::sandbox) async fn reap_one(container: &str, label: &str) -> Result<(), SandboxError> {
    let docker = connect().await?;
    let result = reap_container(&docker, container, label).await;
    // its egress proxy and networks, if any (labelled with the container's name)
    super::super::egress::remove_run(&docker, container).await;
    result
}

async fn reap_container(docker: &Docker, container: &str, label: &str) -> Result<(), SandboxError> {
    let view = match docker.inspect_container(container, None).await {
        Ok(v) => v,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(api("inspect the container")(e)),
    };
    let ours = view
        .config
        .and_then(|c| c.labels)
        .is_some_and(|l| l.get(label).is_some_and(|v| v == "true"));
    if ours {
        kill(docker, container).await;
        remove(docker, container).await;
    }
    Ok(())
}
