//! `sandlint guard`: serves a guarded Docker socket (`src/sandbox/guard/`) until SIGINT or
//! SIGTERM, then removes the containers it created. Usage errors (a bad flag, a bind root that
//! does not exist, an unreadable config) exit 2 before anything listens; an unreachable daemon
//! exits 125, like `sandlint run`.

use std::io::Write;

use crate::cli::GuardArgs;
use crate::error::{ExitStatus, UsageError};

#[cfg(not(feature = "sandbox"))]
pub fn guard(_args: &GuardArgs, _stderr: &mut dyn Write) -> Result<ExitStatus, UsageError> {
    Err(UsageError::new(
        "this sandlint was built without the `sandbox` feature: `sandlint guard` is unavailable",
    ))
}

#[cfg(feature = "sandbox")]
pub fn guard(args: &GuardArgs, stderr: &mut dyn Write) -> Result<ExitStatus, UsageError> {
    use crate::sandbox::guard::{self, GuardOptions, Limits};

    let options = GuardOptions {
        listen: socket_path("--listen", &args.listen)?,
        upstream: socket_path("--upstream", &args.upstream)?,
        socket_mode: u32::from_str_radix(&args.socket_mode, 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| {
                UsageError::new(format!(
                    "--socket-mode `{}`: expected octal permission bits such as 600 or 660",
                    args.socket_mode
                ))
            })?,
        policy: policy(args)?,
        allow_pull: args.allow_pull,
        allow_build: args.allow_build,
        limits: Limits::default(),
    };
    let listen = options.listen.display().to_string();
    let upstream = options.upstream.display().to_string();
    let served = guard::serve(options, |version| {
        let _ = writeln!(
            stderr,
            "sandlint guard: serving unix://{listen} (Docker {version} at unix://{upstream}); DOCKER_HOST=unix://{listen}"
        );
    });
    match served {
        Ok(()) => Ok(ExitStatus::Success),
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            Ok(ExitStatus::Code(e.exit_code()))
        }
    }
}

#[cfg(feature = "sandbox")]
fn policy(args: &GuardArgs) -> Result<crate::sandbox::guard::Policy, UsageError> {
    use crate::config::{Config, Preset};
    use crate::sandbox::profile::{DEFAULT_TMPFS_SIZE, parse_bytes, parse_cpus};

    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    config.preset = args.preset.unwrap_or(Preset::Sandbox);
    let mut bind_roots = Vec::new();
    for root in &args.allow_bind_root {
        let canon = std::fs::canonicalize(root)
            .map_err(|e| UsageError::new(format!("--allow-bind-root {}: {e}", root.display())))?;
        if canon == std::path::Path::new("/")
            || crate::sandbox::verify::is_socket_path(&canon.to_string_lossy())
            || !canon.is_dir()
        {
            return Err(UsageError::new(format!(
                "--allow-bind-root {}: must be a directory other than `/` and the runtime's socket directories",
                root.display()
            )));
        }
        bind_roots.push(canon);
    }
    let memory = parse_bytes(&args.memory)
        .filter(|m| *m >= 6 * 1024 * 1024)
        .ok_or_else(|| {
            UsageError::new(format!(
                "--memory `{}`: expected e.g. 512m (at least 6m)",
                args.memory
            ))
        })?;
    let nano_cpus = parse_cpus(&args.cpus)
        .ok_or_else(|| UsageError::new(format!("--cpus `{}`: expected e.g. 1.5", args.cpus)))?;
    if args.pids < 1 {
        return Err(UsageError::new("--pids: expected a positive number"));
    }
    Ok(crate::sandbox::guard::Policy {
        bind_roots,
        network: args.network.clone().filter(|n| n != "none"),
        memory,
        nano_cpus,
        pids: args.pids,
        tmp_size: DEFAULT_TMPFS_SIZE,
        config,
    })
}

/// `unix:///path` or `/path`.
#[cfg(feature = "sandbox")]
fn socket_path(flag: &str, value: &str) -> Result<std::path::PathBuf, UsageError> {
    let path = value.strip_prefix("unix://").unwrap_or(value);
    if !path.starts_with('/') {
        return Err(UsageError::new(format!(
            "{flag} `{value}`: expected unix:///absolute/path (only unix sockets are served and dialled)"
        )));
    }
    Ok(std::path::PathBuf::from(path))
}
