//! `sandlint init`: hardened sandbox configs that pass `sandlint check --preset sandbox`.
//!
//! [`plan`] renders every file from the embedded templates (pure and deterministic: same
//! options, same bytes); [`conflicts`] lists the targets that already exist; [`write`] writes
//! the plan. `commands/init.rs` decides between them (dry run, refuse, `--force`) and prints.

use std::io;
use std::path::{Path, PathBuf};

/// The UID and GID of the non-root user in both images and both services.
pub const UID: u32 = 10001;

const DOCKERFILE_SANDBOX: &str = include_str!("templates/Dockerfile.sandbox");
const DOCKERFILE_AGENT: &str = include_str!("templates/Dockerfile.agent");
const COMPOSE: &str = include_str!("templates/compose.yaml");
const SANDLINT_TOML: &str = include_str!("templates/sandlint.toml");
const DOCKERIGNORE: &str = include_str!("templates/dockerignore");
const PRE_COMMIT: &str = include_str!("templates/pre-commit-config.yaml");
const GITHUB_WORKFLOW: &str = include_str!("templates/github-workflow.yml");
const DEVCONTAINER: &str = include_str!("templates/devcontainer.json");
const COMPOSE_GUARD: &str = include_str!("templates/compose.guard.yaml");
/// The repository's pre-commit hook manifest: the generated local hook takes its `files` pattern
/// from here, so it matches exactly the names `sandlint check` discovers (tests/precommit.rs
/// keeps the manifest in step with discovery).
const HOOK_MANIFEST: &str = include_str!("../../.pre-commit-hooks.yaml");

/// The `files:` value of the hook manifest, as written (a single-quoted YAML scalar).
fn hook_files_pattern() -> &'static str {
    HOOK_MANIFEST
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| l.trim_start().strip_prefix("files:"))
        // the first hook anchors it (`files: &files '…'`) for the second
        .map(|v| v.trim().trim_start_matches("&files").trim_start())
        .unwrap_or("'(?i)(^|/)((docker|container)file|[^/]+\\.(docker|container)file|(docker|container)file\\.[^/]+|(docker-)?compose(\\.[^/]+)?\\.ya?ml)$'")
}

/// What the images are built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Template {
    /// Python 3.12 (`python:3.12-slim`, pinned by digest).
    #[default]
    Python,
    /// Node.js 22 (`node:22-slim`, pinned by digest).
    Node,
    /// Any base image with a POSIX shell, even a minimal busybox (`debian:bookworm-slim` by default).
    Generic,
}

/// Optional extra files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Extra {
    /// `.pre-commit-config.yaml` with the sandlint hook.
    PreCommit,
    /// `.github/workflows/sandlint.yml`: check, SARIF upload, pull-request annotations.
    Github,
    /// `.devcontainer/devcontainer.json`: the sandbox image as a hardened dev container.
    Devcontainer,
    /// `compose.guard.yaml`: the agent starts its sandboxes through `sandlint guard`'s socket,
    /// and only the guard mounts the daemon's.
    Guard,
}

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub template: Template,
    /// Overrides the template's base image.
    pub base_image: Option<String>,
    pub extras: Vec<Extra>,
}

/// One file to write, relative to the target directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Relative path with `/` separators.
    pub path: &'static str,
    pub contents: String,
}

/// The per-template parts of the Dockerfiles and the compose file.
struct Flavor {
    name: &'static str,
    /// Digest-pinned default base image.
    base_image: &'static str,
    env: &'static str,
    install: &'static str,
    agent_install: &'static str,
    cmd: &'static str,
    agent_cmd: &'static str,
    /// A command to show in `docker compose run --rm sandbox …`.
    example_cmd: &'static str,
}

const PYTHON: Flavor = Flavor {
    name: "python",
    base_image: "python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea",
    env:
        "# The root filesystem is read-only: no bytecode files, no pip cache, no pip version check;
# HOME is on the tmpfs. Unbuffered output, so the log is complete when a run is killed.
ENV HOME=/tmp \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1",
    install:
        "# Install what the code needs here: one RUN, versions pinned by hash, no caches kept, e.g.
#   COPY requirements.txt /opt/sandbox/requirements.txt
#   RUN pip install --no-cache-dir --require-hashes -r /opt/sandbox/requirements.txt",
    agent_install:
        "# Install your agent here, owned by root so that the agent cannot change its own code; one
# RUN, versions pinned by hash, no caches kept, e.g.
#   COPY requirements.txt agent.py /opt/agent/
#   RUN pip install --no-cache-dir --require-hashes -r /opt/agent/requirements.txt",
    cmd: r#"["python3", "--version"]"#,
    agent_cmd: r#"["python3", "-c", "print('replace CMD in Dockerfile.agent with your agent')"]"#,
    example_cmd: "python3 /workspace/main.py",
};

const NODE: Flavor = Flavor {
    name: "node",
    base_image: "node:22-slim@sha256:83f487e0a63425e5b4d146fb5e5be574bcbe1b7b843d3ebafdd95eaf7767a7e5",
    env: "# The root filesystem is read-only: the npm cache and HOME are on the tmpfs; no update or
# funding checks (they would try the network).
ENV HOME=/tmp \\
    NODE_ENV=production \\
    NPM_CONFIG_CACHE=/tmp/.npm \\
    NPM_CONFIG_UPDATE_NOTIFIER=false \\
    NPM_CONFIG_FUND=false",
    install:
        "# Install what the code needs here: one RUN, from a lockfile, no install scripts, cache
# removed in the same RUN, e.g.
#   COPY package.json package-lock.json /opt/sandbox/
#   RUN cd /opt/sandbox && npm ci --omit=dev --ignore-scripts && npm cache clean --force",
    agent_install:
        "# Install your agent here, owned by root so that the agent cannot change its own code; one
# RUN, from a lockfile, no install scripts, cache removed in the same RUN, e.g.
#   COPY package.json package-lock.json agent.js /opt/agent/
#   RUN cd /opt/agent && npm ci --omit=dev --ignore-scripts && npm cache clean --force",
    cmd: r#"["node", "--version"]"#,
    agent_cmd: r#"["node", "-e", "console.log('replace CMD in Dockerfile.agent with your agent')"]"#,
    example_cmd: "node /workspace/main.js",
};

const GENERIC: Flavor = Flavor {
    name: "generic",
    base_image: "debian:bookworm-slim@sha256:7b140f374b289a7c2befc338f42ebe6441b7ea838a042bbd5acbfca6ec875818",
    env: "# The root filesystem is read-only: HOME is on the tmpfs.
ENV HOME=/tmp",
    install:
        "# Install what the code needs here: one RUN that also removes the package manager's caches,
# e.g. with apt: apt-get update && apt-get install -y --no-install-recommends PKG=VERSION
# && rm -rf /var/lib/apt/lists/*",
    agent_install:
        "# Install your agent here, owned by root so that the agent cannot change its own code; one
# RUN that also removes the package manager's caches.",
    cmd: r#"["sh"]"#,
    agent_cmd: r#"["sh", "-c", "echo 'replace CMD in Dockerfile.agent with your agent'"]"#,
    example_cmd: "sh /workspace/run.sh",
};

impl Template {
    fn flavor(self) -> &'static Flavor {
        match self {
            Template::Python => &PYTHON,
            Template::Node => &NODE,
            Template::Generic => &GENERIC,
        }
    }

    /// The digest-pinned base image used without `--base-image`.
    pub fn default_base_image(self) -> &'static str {
        self.flavor().base_image
    }

    /// The command `docker compose run --rm sandbox …` examples show.
    pub fn example_cmd(self) -> &'static str {
        self.flavor().example_cmd
    }
}

/// Whether an image reference is pinned by digest.
pub fn is_digest_pinned(image: &str) -> bool {
    image
        .rsplit_once("@sha256:")
        .is_some_and(|(_, d)| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks a `--base-image` value: one image reference, nothing that could add Dockerfile syntax.
pub fn validate_base_image(image: &str) -> Result<(), String> {
    if image.is_empty() {
        return Err("--base-image must not be empty".to_string());
    }
    if image
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '#')
        || image.starts_with('-')
    {
        return Err(format!(
            "--base-image `{}` is not an image reference (expected e.g. `python:3.12-slim@sha256:<digest>`)",
            image.escape_debug()
        ));
    }
    Ok(())
}

/// The comment above `FROM`.
fn base_comment(default: bool, image: &str) -> String {
    let repo = image.rsplit_once('@').map_or(image, |(r, _)| r);
    if default {
        format!(
            "# Pinned by digest: a tag can be moved to another image, a digest cannot. sandlint cannot
# verify digests offline and this one was not verified when the template was written: check
# it before you rely on it (and refresh it when you update) with
#   docker buildx imagetools inspect {repo}"
        )
    } else if is_digest_pinned(image) {
        "# Base image chosen with `--base-image`, pinned by digest: a tag can be moved to another
# image, a digest cannot."
            .to_string()
    } else {
        format!(
            "# Base image chosen with `--base-image`. It is NOT pinned by digest, so a rebuild can silently
# get a different image: pin it as {repo}@sha256:<digest>
# (`docker buildx imagetools inspect {repo}` shows the digest)."
        )
    }
}

/// Replaces each `{{key}}` of `vars` in `template`.
fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in vars {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// Every file `init` writes for `opts`, in a fixed order. Directories are implied by the paths
/// (`workspace/` and `output/` hold a `.gitkeep` so that they exist in git).
pub fn plan(opts: &Options) -> Vec<PlannedFile> {
    let flavor = opts.template.flavor();
    let (base_image, default) = match &opts.base_image {
        Some(image) => (image.as_str(), false),
        None => (flavor.base_image, true),
    };
    let comment = base_comment(default, base_image);
    let version = env!("CARGO_PKG_VERSION");
    let vars: [(&str, &str); 11] = [
        ("template", flavor.name),
        ("base_comment", &comment),
        ("base_image", base_image),
        ("env", flavor.env),
        ("install", flavor.install),
        ("agent_install", flavor.agent_install),
        ("cmd", flavor.cmd),
        ("agent_cmd", flavor.agent_cmd),
        ("example_cmd", flavor.example_cmd),
        ("version", version),
        ("files", hook_files_pattern()),
    ];
    let file = |path: &'static str, template: &str| PlannedFile {
        path,
        contents: render(template, &vars),
    };
    let mut files = vec![
        file("Dockerfile.sandbox", DOCKERFILE_SANDBOX),
        file("Dockerfile.agent", DOCKERFILE_AGENT),
        file("compose.yaml", COMPOSE),
        file(".sandlint.toml", SANDLINT_TOML),
        file(".dockerignore", DOCKERIGNORE),
        file("workspace/.gitkeep", ""),
        file("output/.gitkeep", ""),
    ];
    let mut extras = opts.extras.clone();
    extras.sort();
    extras.dedup();
    for extra in extras {
        let extra_file = match extra {
            Extra::PreCommit => file(".pre-commit-config.yaml", PRE_COMMIT),
            Extra::Github => file(".github/workflows/sandlint.yml", GITHUB_WORKFLOW),
            Extra::Devcontainer => file(".devcontainer/devcontainer.json", DEVCONTAINER),
            Extra::Guard => {
                files.push(file("guard-socket/.gitkeep", ""));
                file("compose.guard.yaml", COMPOSE_GUARD)
            }
        };
        files.push(extra_file);
    }
    files
}

/// Targets under `dir` that already exist (a file, a directory or a symbolic link, even a
/// dangling one), or whose parent directory cannot be created because a file is in the way.
/// Relative paths with `/` separators, in plan order.
pub fn conflicts(dir: &Path, files: &[PlannedFile]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for f in files {
        let mut prefix = String::new();
        let parts: Vec<&str> = f.path.split('/').collect();
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.iter().enumerate() {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if std::fs::symlink_metadata(dir.join(&prefix)).is_err() {
                break;
            }
            // The target itself must not exist; a parent must be a directory (a symbolic link to
            // one is followed, as `create_dir_all` does).
            let blocked =
                i == last || !std::fs::metadata(dir.join(&prefix)).is_ok_and(|m| m.is_dir());
            if blocked {
                if !found.contains(&prefix) {
                    found.push(prefix.clone());
                }
                break;
            }
        }
    }
    found
}

/// Writing one file failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {}", path.display(), crate::source::io_message(source))]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Writes `files` under `dir`, creating directories as needed. An existing target is replaced
/// only when `overwrite` is set, and then the link or file itself is replaced: a symbolic link
/// is never followed. Returns which files existed before.
pub fn write(dir: &Path, files: &[PlannedFile], overwrite: bool) -> Result<Vec<bool>, WriteError> {
    let mut replaced = Vec::with_capacity(files.len());
    for f in files {
        let path = dir.join(f.path);
        let err = |source: io::Error| WriteError {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let existed = match std::fs::symlink_metadata(&path) {
            Ok(meta) if overwrite && !meta.is_dir() => {
                std::fs::remove_file(&path).map_err(err)?;
                true
            }
            Ok(_) => {
                return Err(err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    if overwrite {
                        "a directory is in the way"
                    } else {
                        "the file already exists"
                    },
                )));
            }
            Err(_) => false,
        };
        // `create_new` never follows a symbolic link and never replaces a file created since
        // the check above.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(err)?;
        io::Write::write_all(&mut file, f.contents.as_bytes()).map_err(err)?;
        replaced.push(existed);
    }
    Ok(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled() {
        for template in [Template::Python, Template::Node, Template::Generic] {
            let opts = Options {
                template,
                base_image: None,
                extras: vec![Extra::Github, Extra::PreCommit],
            };
            for f in plan(&opts) {
                // `${{ ... }}` is a GitHub Actions expression, not a placeholder.
                let stray = f
                    .contents
                    .match_indices("{{")
                    .any(|(i, _)| !f.contents[..i].ends_with('$'));
                assert!(!stray, "{} keeps a placeholder", f.path);
            }
        }
    }

    #[test]
    fn hook_files_pattern_comes_from_the_manifest() {
        let files = hook_files_pattern();
        assert!(
            files.starts_with("'(?i)") && files.ends_with('\''),
            "{files}"
        );
        let line = HOOK_MANIFEST
            .lines()
            .find(|l| l.trim_start().starts_with("files:"))
            .unwrap_or_default();
        assert_eq!(line.trim_start(), format!("files: &files {files}"));
    }

    #[test]
    fn default_bases_are_pinned() {
        for template in [Template::Python, Template::Node, Template::Generic] {
            assert!(is_digest_pinned(template.default_base_image()));
        }
        assert!(!is_digest_pinned("python:3.12-slim"));
        assert!(!is_digest_pinned("python@sha256:abc"));
    }

    #[test]
    fn base_image_validation() {
        assert!(validate_base_image("busybox:1.37").is_ok());
        assert!(validate_base_image("").is_err());
        assert!(validate_base_image("x\nRUN id").is_err());
        assert!(validate_base_image("a b").is_err());
        assert!(validate_base_image("--platform=x").is_err());
    }
}
