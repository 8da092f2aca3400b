//! The sidecar's image: built locally `FROM scratch` (no registry) from the sandlint binary and,
//! when it is dynamically linked, its ELF loader and shared libraries as `ldd` lists them, each
//! at the path the binary expects. Tagged by the binary's identity (size, mtime, inode, device,
//! version): built once per sandlint binary, reused after.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use bollard::Docker;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use super::super::SandboxError;
use super::super::runner::{api, is_not_found};

/// The repository of the sidecar's image.
pub const REPOSITORY: &str = "sandlint-egress-proxy";
/// Label on the image.
const LABEL_IMAGE: &str = "dev.sandlint.egress-proxy";
/// Where the binary is in the image.
pub const BINARY: &str = "/sandlint";
/// Largest binary or library copied (a debug build is ~200 MB).
const MAX_FILE: u64 = 1024 * 1024 * 1024;

fn failed(message: String) -> SandboxError {
    SandboxError::BuildFailed {
        image: REPOSITORY.to_string(),
        message,
    }
}

/// The image's tag for `exe`.
fn tag_for(exe: &Path) -> Result<String, SandboxError> {
    let meta = std::fs::metadata(exe)
        .map_err(|e| failed(format!("cannot read {}: {e}", exe.display())))?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    meta.len().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    exe.hash(&mut h);
    if let Ok(m) = meta.modified()
        && let Ok(d) = m.duration_since(std::time::UNIX_EPOCH)
    {
        d.as_nanos().hash(&mut h);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.ino().hash(&mut h);
        meta.dev().hash(&mut h);
    }
    Ok(format!("{REPOSITORY}:{:016x}", h.finish()))
}

/// The loader and shared libraries `exe` needs, as absolute paths, from `ldd`'s output.
/// Empty for a static binary.
fn shared_libraries(exe: &Path) -> Result<Vec<PathBuf>, SandboxError> {
    let out = std::process::Command::new("ldd")
        .arg(exe)
        .output()
        .map_err(|e| {
            failed(format!(
                "`ldd` is needed to find the shared libraries of {} ({e}); or use a statically linked sandlint",
                exe.display()
            ))
        })?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok(parse_ldd(&text))
}

/// `ldd`'s lines: `name => /path (0x...)`, `/lib64/ld-linux-x86-64.so.2 (0x...)`; the vDSO and
/// "statically linked"/"not a dynamic executable" give nothing.
fn parse_ldd(text: &str) -> Vec<PathBuf> {
    let mut libs = Vec::new();
    for line in text.lines().take(1000) {
        let line = line.trim();
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.trim(),
            None => line,
        };
        let path = path.split(" (").next().unwrap_or_default().trim();
        if path.starts_with('/') && !libs.iter().any(|l: &PathBuf| l == Path::new(path)) {
            libs.push(PathBuf::from(path));
        }
    }
    libs
}

/// A file's bytes, bounded.
fn read_file(path: &Path) -> Result<Vec<u8>, SandboxError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return Err(failed(format!(
            "{} is not a regular file of at most 1 GiB",
            path.display()
        )));
    }
    std::fs::read(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))
}

/// The build context: the Dockerfile and `rootfs/` (the binary and its libraries).
fn context(exe: &Path, libs: &[PathBuf]) -> Result<Vec<u8>, SandboxError> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32| -> Result<(), SandboxError> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, path, data)
            .map_err(|e| failed(format!("cannot write the build context: {e}")))
    };
    let dockerfile = format!(
        "FROM scratch\nCOPY rootfs/ /\nUSER 65534:65534\nENTRYPOINT [\"{BINARY}\"]\nLABEL {LABEL_IMAGE}=true\n"
    );
    add("Dockerfile", dockerfile.as_bytes(), 0o644)?;
    add(&format!("rootfs{BINARY}"), &read_file(exe)?, 0o755)?;
    for lib in libs {
        // the path the binary asks for (a symlink on the host is copied as its target's bytes)
        let inside = lib.to_string_lossy();
        add(&format!("rootfs{inside}"), &read_file(lib)?, 0o755)?;
    }
    tar.into_inner()
        .map_err(|e| failed(format!("cannot write the build context: {e}")))
}

/// The sidecar's image for `exe`, built when missing. Returns its tag.
pub async fn ensure(docker: &Docker, exe: &Path) -> Result<String, SandboxError> {
    let tag = tag_for(exe)?;
    match docker.inspect_image(&tag).await {
        Ok(_) => return Ok(tag),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(api("inspect the egress proxy image")(e)),
    }
    let libs = shared_libraries(exe)?;
    let tar = context(exe, &libs)?;
    let opts = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(&tag)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(opts, None, Some(bollard::body_full(tar.into())));
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(detail) = info.error_detail {
                    return Err(failed(detail.message.unwrap_or_default()));
                }
            }
            Err(e) => return Err(failed(super::super::runner::error_text(&e))),
        }
    }
    prune(docker, &tag).await;
    Ok(tag)
}

/// Removes the images of earlier sandlint binaries (best effort: one in use stays).
async fn prune(docker: &Docker, keep: &str) {
    let mut filters = std::collections::HashMap::new();
    filters.insert("reference", vec![REPOSITORY.to_string()]);
    let Ok(images) = docker
        .list_images(Some(
            bollard::query_parameters::ListImagesOptionsBuilder::new()
                .filters(&filters)
                .build(),
        ))
        .await
    else {
        return;
    };
    for image in images {
        for tag in &image.repo_tags {
            if tag != keep && tag.starts_with(&format!("{REPOSITORY}:")) {
                let _ = docker
                    .remove_image(
                        tag,
                        None::<bollard::query_parameters::RemoveImageOptions>,
                        None,
                    )
                    .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        assert_eq!(
            parse_ldd(text),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
        assert!(parse_ldd("\tstatically linked\n").is_empty());
        assert!(parse_ldd("\tnot a dynamic executable\n").is_empty());
    }
}
