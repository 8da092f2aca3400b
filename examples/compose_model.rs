//! sandlint's effective Compose projects, one JSON object per line, for the differential
//! against `docker compose config` (`scripts/compose-differential.py`, issue 13).
//!
//! `cargo run --release --example compose_model -- PATH...` finds the Compose files under each
//! `PATH` as `sandlint check` does (an override file beside its base file is part of the base
//! file's project, not a project of its own), loads each project as `check` does (override
//! file, `.env`, `include`, `extends`, merge rules, interpolation) and prints the typed model
//! every rule reads: the values as sandlint knows them, as written (units, relative paths and
//! short syntax are left to the script's normalizer, which applies the same normalization to
//! Compose's output). A value that depends on an unset variable is `{"unknown": raw}`.

use std::io::Write;
use std::path::PathBuf;

use sandlint::compose::model::{Build, CommandLine, EnvVar, Service, VolumeKind};
use sandlint::compose::model::{SValue, Value};
use sandlint::config::Config;
use sandlint::discover::{FileKind, discover};
use sandlint::fsread::Boundary;
use sandlint::workspace;
use serde_json::{Map, Value as J, json};

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (candidates, errors) = discover(&paths, false);
    let stderr = std::io::stderr();
    for e in errors {
        let _ = writeln!(stderr.lock(), "walk error: {}", e.path().display());
    }
    let config = Config::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for c in candidates {
        if c.kind != Some(FileKind::Compose) || c.template {
            continue;
        }
        if !c.explicit && workspace::is_override_of_existing_base(&c.path) {
            continue;
        }
        let boundary = Boundary::around(&c.root);
        let line = match workspace::read_source(&c.path, &boundary) {
            Err(e) => json!({"file": c.path, "read_error": e.describe()}),
            Ok(file) => {
                if c.probe && !sandlint::discover::content_agrees(FileKind::Compose, &file.text) {
                    continue;
                }
                let (inputs, refused) = workspace::compose_inputs(&file, None, &boundary);
                let (project, _) =
                    workspace::compose_project(&file, &inputs, &boundary, &config, refused);
                let m = &project.compose;
                let dirs: Vec<PathBuf> = project
                    .files
                    .iter()
                    .map(|f| f.dir().to_path_buf())
                    .collect();
                let gaps: Vec<&str> = (m.unresolved.iter())
                    .chain(&m.outside)
                    .chain(&m.unreadable)
                    .map(|e| e.message.as_str())
                    .collect();
                json!({
                    "file": c.path,
                    "inputs": inputs.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
                    "errors": m.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
                    "gaps": gaps,
                    "limits": m.limits.len(),
                    "services": m.services.iter().map(|s| (s.name.value.clone(), service(s, &dirs))).collect::<Map<_, _>>(),
                    "networks": m.networks.iter().map(|n| (n.name.value.clone(), json!({
                        "internal": opt(n.internal.as_ref()),
                        "external": opt(n.external.as_ref()),
                        "driver": opt(n.driver.as_ref()),
                    }))).collect::<Map<_, _>>(),
                    "volumes": m.volumes.iter().map(|v| (v.name.value.clone(), json!({
                        "driver": opt(v.driver.as_ref()),
                        "external": opt(v.external.as_ref()),
                        "type": opt(v.driver_opts.as_ref().and_then(|o| o.fs_type.as_ref())),
                        "o": opt(v.driver_opts.as_ref().and_then(|o| o.o.as_ref())),
                        "device": opt(v.driver_opts.as_ref().and_then(|o| o.device.as_ref())),
                        "device_base": base(v.driver_opts.as_ref().and_then(|o| o.device.as_ref()), &dirs),
                    }))).collect::<Map<_, _>>(),
                })
            }
        };
        let _ = writeln!(out, "{line}");
    }
}

fn val(v: &Value) -> J {
    match v {
        Value::Known(s) => J::String(s.clone()),
        Value::Unknown(raw) => json!({ "unknown": raw }),
    }
}

fn opt(v: Option<&SValue>) -> J {
    v.map_or(J::Null, |v| val(&v.value))
}

fn list(v: &[SValue]) -> J {
    J::Array(v.iter().map(|v| val(&v.value)).collect())
}

fn vars(v: &[EnvVar]) -> J {
    J::Object(
        v.iter()
            .map(|e| (e.key.value.clone(), opt(e.value.as_ref())))
            .collect(),
    )
}

fn command(c: Option<&CommandLine>) -> J {
    match c {
        None => J::Null,
        Some(CommandLine::List(items)) => json!({ "list": list(items) }),
        Some(CommandLine::String(s)) => json!({ "string": val(&s.value) }),
    }
}

/// The directory a relative path in `v` is relative to: that of the file that wrote it.
fn base(v: Option<&SValue>, dirs: &[PathBuf]) -> J {
    v.and_then(|v| dirs.get(usize::from(v.span.file)))
        .map_or(J::Null, |d| json!(d))
}

fn build(b: &Build, dirs: &[PathBuf]) -> J {
    json!({
        "context": opt(b.context.as_ref()),
        "context_base": dirs
            .get(usize::from(b.context.as_ref().map_or(b.span.file, |c| c.span.file)))
            .map_or(J::Null, |d| json!(d)),
        "dockerfile": opt(b.dockerfile.as_ref()),
        "dockerfile_inline": opt(b.dockerfile_inline.as_ref()),
        "target": opt(b.target.as_ref()),
        "args": vars(&b.args),
        "labels": vars(&b.labels),
    })
}

fn kind(k: VolumeKind) -> &'static str {
    match k {
        VolumeKind::Bind => "bind",
        VolumeKind::Volume => "volume",
        VolumeKind::Tmpfs => "tmpfs",
        VolumeKind::Npipe => "npipe",
        VolumeKind::Image => "image",
        VolumeKind::Cluster => "cluster",
        VolumeKind::Unknown => "unknown",
    }
}

fn service(s: &Service, dirs: &[PathBuf]) -> J {
    let ports: Vec<J> = (s.ports.iter())
        .map(|p| {
            json!({
                "host_ip": opt(p.host_ip.as_ref()),
                "published": opt(p.published.as_ref()),
                "target": opt(p.target.as_ref()),
                "protocol": opt(p.protocol.as_ref()),
                "unknown": p.unknown,
            })
        })
        .collect();
    let volumes: Vec<J> = (s.volumes.iter())
        .map(|v| {
            json!({
                "type": kind(v.kind),
                "source": opt(v.source.as_ref()),
                "source_base": base(v.source.as_ref(), dirs),
                "target": opt(v.target.as_ref()),
                "read_only": v.read_only,
                "options": list(&v.options),
            })
        })
        .collect();
    let healthcheck = s.healthcheck.as_ref().map_or(J::Null, |h| {
        json!({
            "disable": opt(h.disable.as_ref()),
            "test": list(&h.test),
            "test_is_list": h.test_is_list,
        })
    });
    json!({
        "image": opt(s.image.as_ref()),
        "build": s.build.as_ref().map_or(J::Null, |b| build(b, dirs)),
        "user": opt(s.user.as_ref()),
        "privileged": opt(s.privileged.as_ref()),
        "read_only": opt(s.read_only.as_ref()),
        "security_opt": list(&s.security_opt),
        "cap_add": list(&s.cap_add),
        "cap_drop": list(&s.cap_drop),
        "network_mode": opt(s.network_mode.as_ref()),
        "networks": s.networks.iter().map(|n| n.value.clone()).collect::<Vec<_>>(),
        "ports": ports,
        "volumes": volumes,
        "mem_limit": opt(s.mem_limit.as_ref()),
        "memswap_limit": opt(s.memswap_limit.as_ref()),
        "cpus": opt(s.cpus.as_ref()),
        "cpu_quota": opt(s.cpu_quota.as_ref()),
        "cpu_shares": opt(s.cpu_shares.as_ref()),
        "pids_limit": opt(s.pids_limit.as_ref()),
        "limits": {
            "memory": opt(s.limits.memory.as_ref()),
            "cpus": opt(s.limits.cpus.as_ref()),
            "pids": opt(s.limits.pids.as_ref()),
        },
        "environment": vars(&s.environment),
        "labels": vars(&s.labels),
        "env_file": list(&s.env_files),
        "command": command(s.command.as_ref()),
        "entrypoint": command(s.entrypoint.as_ref()),
        "working_dir": opt(s.working_dir.as_ref()),
        "pid": opt(s.pid.as_ref()),
        "ipc": opt(s.ipc.as_ref()),
        "uts": opt(s.uts.as_ref()),
        "userns_mode": opt(s.userns_mode.as_ref()),
        "cgroup": opt(s.cgroup.as_ref()),
        "devices": list(&s.devices),
        "extra_hosts": list(&s.extra_hosts),
        "use_api_socket": opt(s.use_api_socket.as_ref()),
        "tmpfs": list(&s.tmpfs),
        "init": opt(s.init.as_ref()),
        "device_cgroup_rules": list(&s.device_cgroup_rules),
        "oom_kill_disable": opt(s.oom_kill_disable.as_ref()),
        "healthcheck": healthcheck,
        "logging_driver": opt(s.logging_driver.as_ref()),
        "sysctls": vars(&s.sysctls),
    })
}
