//! `session put`/`get` and MCP's `read_file`: the archive endpoints, under `/workspace` only, with
//! the container paused.

#[allow(
    clippy::wildcard_imports,
    reason = "the session module's imports and helpers"
)]
use super::*;

/// The container paused for the duration of `f` (no process in it can change a path between
/// the checks and the copy); unpaused on every path.
async fn paused<T>(
    docker: &Docker,
    cid: &str,
    f: impl std::future::Future<Output = Result<T, SandboxError>>,
) -> Result<T, SandboxError> {
    docker
        .pause_container(cid)
        .await
        .map_err(api("pause the session"))?;
    let r = f.await;
    if let Err(e) = docker.unpause_container(cid).await {
        // a session we cannot resume is removed, not left frozen
        kill(docker, cid).await;
        remove(docker, cid).await;
        return Err(api("unpause the session")(e));
    }
    r
}

/// The path stat of `/workspace/<parts>` (`None`: it does not exist).
async fn stat(
    docker: &Docker,
    cid: &str,
    parts: &[String],
) -> Result<Option<bollard::container::PathStatResponse>, SandboxError> {
    let path = remote_string(parts);
    match docker
        .get_container_archive_info(
            cid,
            Some(
                ContainerArchiveInfoOptionsBuilder::new()
                    .path(&path)
                    .build(),
            ),
        )
        .await
    {
        Ok(s) => Ok(Some(s)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api("stat a path in the session")(e)),
    }
}

fn refused(parts: &[String], why: &str) -> SandboxError {
    SandboxError::PathRefused {
        path: crate::escape::line(&remote_string(parts)).into_owned(),
        why: why.to_string(),
    }
}

/// Every existing ancestor of `/workspace/<parts>` is a real directory (no symlink on the way).
async fn check_ancestors(docker: &Docker, cid: &str, parts: &[String]) -> Result<(), SandboxError> {
    for n in 1..parts.len() {
        match stat(docker, cid, &parts[..n]).await? {
            None => return Ok(()),
            Some(s) if !s.link_target.is_empty() || s.file_mode & go_mode::SYMLINK != 0 => {
                return Err(refused(&parts[..n], "it is a symlink"));
            }
            Some(s) if s.file_mode & go_mode::DIR == 0 => {
                return Err(refused(&parts[..n], "it is not a directory"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `session put`.
pub(in crate::sandbox) async fn put(
    id: &str,
    source: PutSource<'_>,
    remote: &str,
    limit: u64,
) -> Result<TransferResult, SandboxError> {
    let mut parts = workspace_path(remote)?;
    let local = match source {
        PutSource::Path(p) => p,
        PutSource::Bytes(_) => Path::new(""),
    };
    if parts.is_empty() || remote.ends_with('/') {
        let base = local
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| refused(&parts, "LOCAL has no file name to copy it under"))?;
        parts.push(base.to_string());
    }
    let docker = connect().await?;
    let (state, verification) = reverify(&docker, id).await?;
    let uid = state.uid.unwrap_or(65534);
    let gid = state.gid.unwrap_or(uid);
    let (tar, files, bytes) = pack(source, &parts, uid, gid, limit)?;
    let cid = state.container_id.clone();
    paused(&docker, &cid, async {
        check_ancestors(&docker, &cid, &parts).await?;
        docker
            .upload_to_container(
                &cid,
                Some(
                    UploadToContainerOptionsBuilder::new()
                        .path(WORKSPACE)
                        .build(),
                ),
                bollard::body_full(tar.into()),
            )
            .await
            .map_err(api("copy into the session"))
    })
    .await?;
    Ok(TransferResult {
        session: id.to_string(),
        remote: remote_string(&parts),
        local: local.to_path_buf(),
        files,
        bytes,
        verification,
    })
}

/// The archive of `/workspace/<parts>` (a regular file or a directory, no symlink on the way),
/// downloaded with the container paused, at most `limit` bytes of content (plus headers).
async fn download(
    docker: &Docker,
    cid: &str,
    parts: &[String],
    limit: u64,
) -> Result<Vec<u8>, SandboxError> {
    paused(docker, cid, async {
        check_ancestors(docker, cid, parts).await?;
        match stat(docker, cid, parts).await? {
            None => return Err(refused(parts, "it does not exist")),
            Some(s) if !s.link_target.is_empty() || s.file_mode & go_mode::SYMLINK != 0 => {
                return Err(refused(parts, "it is a symlink"));
            }
            Some(s) if s.file_mode & go_mode::TYPE & !go_mode::DIR != 0 => {
                return Err(refused(parts, "it is not a regular file or a directory"));
            }
            Some(_) => {}
        }
        let mut stream = docker.download_from_container(
            cid,
            Some(
                DownloadFromContainerOptionsBuilder::new()
                    .path(&remote_string(parts))
                    .build(),
            ),
        );
        // the content's cap, plus the tar's headers
        let cap =
            limit.saturating_add(1024 * 1024 + 1024 * crate::sandbox::session::MAX_ENTRIES as u64);
        let mut data: Vec<u8> = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(api("copy from the session"))?;
            data.extend_from_slice(&chunk);
            if data.len() as u64 > cap {
                return Err(refused(
                    parts,
                    &format!("more than {limit} bytes (the transfer cap)"),
                ));
            }
        }
        Ok(data)
    })
    .await
}

/// `session get`.
pub(in crate::sandbox) async fn get(
    id: &str,
    remote: &str,
    local: &Path,
    limit: u64,
) -> Result<TransferResult, SandboxError> {
    let parts = workspace_path(remote)?;
    let docker = connect().await?;
    let (state, verification) = reverify(&docker, id).await?;
    let archive = download(&docker, &state.container_id, &parts, limit).await?;
    let name = parts.last().map_or("workspace", String::as_str);
    let (files, bytes) = unpack(&archive, name, local, limit)?;
    Ok(TransferResult {
        session: id.to_string(),
        remote: remote_string(&parts),
        local: local.to_path_buf(),
        files,
        bytes,
        verification,
    })
}

/// A file's content (MCP `read_file`).
pub(in crate::sandbox) async fn read(
    id: &str,
    remote: &str,
    limit: u64,
) -> Result<(Vec<u8>, ExecVerification), SandboxError> {
    let parts = workspace_path(remote)?;
    if parts.is_empty() {
        return Err(refused(&parts, "it is a directory"));
    }
    let docker = connect().await?;
    let (state, verification) = reverify(&docker, id).await?;
    let archive = download(&docker, &state.container_id, &parts, limit).await?;
    let name = parts.last().map_or("workspace", String::as_str);
    let data = unpack_bytes(&archive, name)?;
    if data.len() as u64 > limit {
        return Err(refused(
            &parts,
            &format!("more than {limit} bytes (the transfer cap)"),
        ));
    }
    Ok((data, verification))
}
