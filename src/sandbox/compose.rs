//! `--compose FILE --service NAME`: the effective service (our loader: `<<` merges and `.env`
//! interpolation done) mapped onto the profile. A key the service sets replaces the hardened
//! default; the rules then judge the result, as `sandlint check --preset sandbox` would. Every
//! key the service sets is decided first ([`decide_keys`], by [`super::service_keys`]): applied,
//! refused (a located error) or not used (a located note); none is dropped silently.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::SandboxError;
use super::profile::{BindMount, HardenedProfile, MountOrigin, Tmpfs, parse_bytes, parse_cpus};
use super::runner::BuildSpec;
use super::service_keys::{self, Treatment};
use crate::compose::model::{Build, ComposeFile, SValue, Service, Value, VolumeKind};

/// What the service decided besides the profile fields.
#[derive(Debug)]
pub(super) struct Applied {
    pub explicit_user: bool,
    pub build: Option<BuildSpec>,
    /// Rules of [`super::ISOLATION_RULES`] the Compose file suppresses for the service: those
    /// suppressions are not carried into the run.
    pub overridden: Vec<String>,
    /// The service's `networks:` (not used by `run`, which keeps `network_mode: none` unless
    /// `--network` says otherwise).
    pub networks: Vec<String>,
    /// Keys of the service that `run` does not apply, each said as a `note:` with where the
    /// file sets it (`cgroup_parent`).
    pub notes: Vec<String>,
}

fn invalid(message: String) -> SandboxError {
    SandboxError::InvalidOption { message }
}

/// Loads `file`, finds `service` and applies it to `profile`.
pub(super) fn apply(
    file: &Path,
    service: &str,
    profile: &mut HardenedProfile,
) -> Result<Applied, SandboxError> {
    // The bounded reader: regular files only, size-capped; the files the Compose file names
    // must be inside its project boundary (its git work tree, else its directory).
    let boundary = crate::fsread::Boundary::around(file);
    let text = crate::fsread::read(file, None)
        .map_err(|e| invalid(format!("cannot read {}: {}", file.display(), e.describe())))?
        .text;
    let dir = std::fs::canonicalize(file)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let vars = match crate::fsread::read(&dir.join(".env"), Some(&boundary)) {
        Ok(t) => crate::compose::parse_dotenv(&t.text),
        Err(crate::fsread::ReadError::NotFound) => crate::compose::Vars::new(),
        Err(e) => {
            return Err(invalid(format!(
                "{}: {}; it was not read",
                dir.join(".env").display(),
                e.describe()
            )));
        }
    };
    // The effective service: the default override file, `extends` and `include` applied.
    let main =
        crate::source::SourceFile::new(file.to_path_buf(), crate::source::display_path(file), text)
            .into_ref();
    let inputs: Vec<_> = std::iter::once(main.clone())
        .chain(crate::workspace::override_files(&main))
        .collect();
    let read = |p: &Path| {
        crate::fsread::read_source(p, Some(&boundary)).map(crate::source::SourceFile::into_ref)
    };
    let project = crate::compose::project::load(&inputs, &vars, &read);
    let loaded = &project.compose;
    if let Some(err) = loaded
        .errors
        .first()
        .or(loaded.unresolved.first())
        .or(loaded.outside.first())
        .or(loaded.unreadable.first())
    {
        let src = project
            .files
            .get(usize::from(err.span.file))
            .unwrap_or(&main);
        let lc = src.line_col(err.span.start);
        return Err(invalid(format!(
            "{}:{}:{}: {}",
            src.display, lc.line, lc.column, err.message
        )));
    }
    let Some(svc) = loaded.services.iter().find(|s| s.name.value == service) else {
        let names: Vec<&str> = loaded
            .services
            .iter()
            .map(|s| s.name.value.as_str())
            .collect();
        return Err(invalid(format!(
            "{} has no service `{service}` (services: {})",
            file.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    };
    let key_notes = decide_keys(&project, svc)?;
    let (accepted, overridden) = accepted_rules(&project, service);
    profile.accepted = accepted;
    let mut applied = apply_service(loaded, svc, &dir, profile)?;
    applied.overridden = overridden;
    applied.notes = not_applied(&project, svc);
    applied.notes.extend(key_notes);
    // Files the run is built from: a writable mount holding one of them is not scratch space.
    let mut protected: Vec<PathBuf> = project
        .files
        .iter()
        .filter_map(|f| std::fs::canonicalize(&f.path).ok())
        .collect();
    protected.push(dir.join(".env"));
    protected.push(dir.join(".sandlint.toml"));
    protected.push(dir.join("sandlint.toml"));
    if let Some(b) = &applied.build {
        let context = std::fs::canonicalize(&b.context).unwrap_or_else(|_| b.context.clone());
        protected.push(context.join(&b.dockerfile));
        protected.push(context.join(".dockerignore"));
    }
    for m in &mut profile.mounts {
        if m.origin == MountOrigin::Compose
            && !m.read_only
            && is_scratch(&dir, &m.source, &protected)
        {
            m.origin = MountOrigin::Scratch;
        }
    }
    Ok(applied)
}

/// Where `span` is: `FILE:LINE:COLUMN`, the file name escaped for the terminal.
fn locate(project: &crate::compose::project::Project, span: crate::source::Span) -> String {
    match project
        .files
        .get(usize::from(span.file))
        .or(project.files.first())
    {
        Some(f) => {
            let lc = f.line_col(span.start);
            format!(
                "{}:{}:{}",
                crate::escape::line(&f.display),
                lc.line,
                lc.column
            )
        }
        None => "?".to_string(),
    }
}

/// File text for a message: clipped, and escaped for the terminal.
fn shown(s: &str) -> String {
    crate::escape::line(&crate::source::clip(s.trim(), 40)).into_owned()
}

/// At most this many `not used` notes for one service; the rest are counted in one more.
const MAX_KEY_NOTES: usize = 20;

/// Decides about every key of the service ([`service_keys::SERVICE_KEYS`]): a refused key (or
/// a refused value of an applied one) is a located error; an ignored one is a located note,
/// returned. Applied keys are applied by [`apply_service`].
fn decide_keys(
    project: &crate::compose::project::Project,
    svc: &Service,
) -> Result<Vec<String>, SandboxError> {
    let name = shown(&svc.name.value);
    let mut unused: Vec<(String, crate::source::Span, &str)> = Vec::new();
    for key in &svc.keys {
        let k = key.value.as_str();
        if svc.empty_keys.iter().any(|e| e == k) {
            continue;
        }
        let Some(policy) = service_keys::policy(k) else {
            return Err(invalid(format!(
                "{}: service `{name}` has `{}`, which is not a Compose service key; `sandlint run` refuses it",
                locate(project, key.span),
                shown(k)
            )));
        };
        let refuse = |at: crate::source::Span, what: String| {
            invalid(format!(
                "{}: service `{name}` sets `{what}`, which `sandlint run` refuses: {}",
                locate(project, at),
                policy.reason
            ))
        };
        match policy.treatment {
            Treatment::Applied => {}
            Treatment::Refused => return Err(refuse(key.span, shown(k))),
            Treatment::RefusedUnlessDefault => {
                if let Some((at, what)) = not_default(svc, k) {
                    return Err(refuse(at.unwrap_or(key.span), what));
                }
            }
            // said by their own notes (`not_applied`, and the network note of the plan)
            Treatment::Ignored if matches!(k, "cgroup_parent" | "networks") => {}
            Treatment::Ignored => unused.push((shown(k), key.span, policy.reason)),
        }
    }
    namespace_values(project, svc, &name)?;
    const BUILD: &str = "the image is built from `context`, `dockerfile`, `target` and `args` only";
    const DEPLOY: &str = "only `deploy.resources.limits` (`memory`, `cpus`, `pids`) is applied";
    if let Some(b) = &svc.build {
        for k in &b.other_keys {
            unused.push((shown(&k.value), k.span, BUILD));
        }
        if let Some(label) = b.labels.first() {
            unused.push(("build.labels".to_string(), label.span, BUILD));
        }
    }
    for k in &svc.limits.other_keys {
        unused.push((shown(&k.value), k.span, DEPLOY));
    }
    const VOLUME: &str = "a `volumes` option; bind mounts are made with the daemon's defaults (private propagation, no SELinux relabelling)";
    for opt in svc.volumes.iter().flat_map(|v| &v.options) {
        if !matches!(opt.value.known().map(str::trim), Some("ro" | "rw")) {
            unused.push((shown(opt.value.text()), opt.span, VOLUME));
        }
    }
    unused.sort_by_key(|(_, at, _)| *at);
    let mut notes: Vec<String> = unused
        .iter()
        .take(MAX_KEY_NOTES)
        .map(|(k, at, why)| format!("`{k}` at {} is not used: {why}", locate(project, *at)))
        .collect();
    if unused.len() > MAX_KEY_NOTES {
        notes.push(format!(
            "{} more keys of service `{name}` are not used",
            unused.len() - MAX_KEY_NOTES
        ));
    }
    Ok(notes)
}

/// For a [`Treatment::RefusedUnlessDefault`] key: `None` when the service sets its default,
/// else where and what it sets instead (`None` span: the key).
fn not_default(svc: &Service, key: &str) -> Option<(Option<crate::source::Span>, String)> {
    let scalar = |v: Option<&SValue>, default: &dyn Fn(&str) -> bool| {
        let v = v?;
        let text = v.value.known().map(str::trim);
        if text.is_some_and(default) {
            return None;
        }
        Some((Some(v.span), format!("{key}: {}", shown(v.value.text()))))
    };
    let is_false = |t: &str| Value::Known(t.to_string()).as_bool() == Some(false);
    match key {
        "sysctls" => svc.sysctls.first().map(|s| {
            let value = s.value.as_ref().map(|v| v.value.text()).unwrap_or_default();
            (
                Some(s.key.span),
                format!("sysctls: {}={}", shown(&s.key.value), shown(value)),
            )
        }),
        "use_api_socket" => scalar(svc.use_api_socket.as_ref(), &is_false),
        "oom_kill_disable" => scalar(svc.oom_kill_disable.as_ref(), &is_false),
        "oom_score_adj" => scalar(svc.oom_score_adj.as_ref(), &|t| t.parse::<i64>() == Ok(0)),
        "isolation" => scalar(svc.isolation.as_ref(), &|t| t == "default"),
        // a key without a default check is refused whatever it says
        _ => Some((None, key.to_string())),
    }
}

/// The namespace keys `run` applies, with values it can apply: `uts: host`, `cgroup:
/// host|private`, `userns_mode: host` (judged by the rules); `pid` and `ipc` never join another
/// container's namespace (`container:x`, `service:x`: no rule judges what that container is).
fn namespace_values(
    project: &crate::compose::project::Project,
    svc: &Service,
    name: &str,
) -> Result<(), SandboxError> {
    let keys: [(&str, Option<&SValue>, &[&str]); 3] = [
        ("uts", svc.uts.as_ref(), &["host"]),
        ("cgroup", svc.cgroup.as_ref(), &["host", "private"]),
        ("userns_mode", svc.userns_mode.as_ref(), &["host"]),
    ];
    for (key, value, allowed) in keys {
        let Some(v) = value else { continue };
        let Some(mode) = v.value.known().map(str::trim) else {
            continue;
        };
        if !mode.is_empty() && !allowed.contains(&mode) {
            let modes: Vec<String> = allowed.iter().map(|m| format!("`{m}`")).collect();
            return Err(invalid(format!(
                "{}: service `{name}` sets `{key}: {}`, which `sandlint run` refuses: it applies only {}",
                locate(project, v.span),
                shown(mode),
                modes.join(" or ")
            )));
        }
    }
    for (key, value) in [("pid", svc.pid.as_ref()), ("ipc", svc.ipc.as_ref())] {
        let Some(v) = value else { continue };
        let Some(mode) = v.value.known().map(str::trim) else {
            continue;
        };
        if mode.starts_with("container:") || mode.starts_with("service:") {
            return Err(invalid(format!(
                "{}: service `{name}` sets `{key}: {}`, which `sandlint run` refuses: a sandbox never joins another container's namespace",
                locate(project, v.span),
                shown(mode)
            )));
        }
    }
    Ok(())
}

/// What `run` leaves out of the service on purpose, located in the file that sets it: a
/// `cgroup_parent` (the sandbox stays under the daemon's cgroup parent, with its own limits:
/// `custom-cgroup-parent`).
fn not_applied(project: &crate::compose::project::Project, svc: &Service) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(v) = &svc.cgroup_parent
        && !v.value.text().trim().is_empty()
    {
        notes.push(format!(
            "cgroup parent: the daemon's (the service's `cgroup_parent: {}` at {} is not used)",
            shown(v.value.text()),
            locate(project, v.span)
        ));
    }
    notes
}

/// Whether `source` (canonical) is scratch space of the project in `dir`: a strict
/// subdirectory of it, not in or holding `.git`, that holds none of the `protected` files. The
/// command may write there without `--allow writable-bind-mount` (as with `--workspace`): it
/// cannot change the Compose file, `.env`, the Dockerfile or the git metadata of the next run.
fn is_scratch(dir: &Path, source: &Path, protected: &[PathBuf]) -> bool {
    let Ok(rel) = source.strip_prefix(dir) else {
        return false;
    };
    if rel.as_os_str().is_empty() || !source.is_dir() {
        return false;
    }
    if rel.components().any(|c| c.as_os_str() == ".git") || source.join(".git").exists() {
        return false;
    }
    !protected.iter().any(|p| p.starts_with(source))
}

/// The rules the project's own suppressions accept for `service` (under the sandbox preset),
/// with their reasons; a suppression without a reason is not carried over.
fn accepted_rules(
    project: &crate::compose::project::Project,
    service: &str,
) -> (Vec<(String, String)>, Vec<String>) {
    let Some(main) = project.files.first() else {
        return (Vec::new(), Vec::new());
    };
    let config = crate::config::Config {
        preset: crate::config::Preset::Sandbox,
        ..crate::config::Config::default()
    };
    let mut opts = crate::linter::LintOptions::new(crate::linter::Selection::all());
    opts.config = &config;
    opts.compose_set = Some(
        project
            .files
            .iter()
            .take(1)
            .cloned()
            .chain(crate::workspace::override_files(main))
            .collect(),
    );
    let result =
        crate::linter::lint_file_with(main.clone(), crate::discover::FileKind::Compose, &opts);
    let scope = format!("service:{service}");
    let mut out: Vec<(String, String)> = Vec::new();
    let mut overridden: Vec<String> = Vec::new();
    for d in &result.diagnostics {
        let Some(s) = &d.suppression else { continue };
        if d.scope.as_deref() != Some(scope.as_str()) {
            continue;
        }
        let rule = d.rule.name;
        if super::is_isolation_rule(rule) {
            if !overridden.iter().any(|r| r == rule) {
                overridden.push(rule.to_string());
            }
            continue;
        }
        let Some(reason) = &s.reason else { continue };
        if !out.iter().any(|(r, _)| r == rule) {
            out.push((rule.to_string(), reason.clone()));
        }
    }
    (out, overridden)
}

/// A `command`/`entrypoint` as argv: list items as they are; a string split like a shell
/// (quotes and escapes resolved), as Compose does.
fn argv(
    line: &crate::compose::model::CommandLine,
    service: &str,
    key: &str,
) -> Result<Vec<String>, SandboxError> {
    use crate::compose::model::CommandLine;
    match line {
        CommandLine::List(items) => items.iter().map(|v| known(v, service, key)).collect(),
        CommandLine::String(v) => {
            let text = known(v, service, key)?;
            let script = crate::dockerfile::shell::parse(&text);
            let mut words = Vec::new();
            script.for_each_command(&mut |c| {
                if words.is_empty() {
                    words = c.words.iter().map(|w| w.value.clone()).collect();
                }
            });
            Ok(words)
        }
    }
}

/// The known value of a field, or an error naming the unset variable.
fn known(v: &SValue, service: &str, key: &str) -> Result<String, SandboxError> {
    match &v.value {
        Value::Known(s) => Ok(s.clone()),
        Value::Unknown(raw) => Err(invalid(format!(
            "`{key}` of service `{service}` depends on an unset variable (`{raw}`)"
        ))),
    }
}

fn boolean(v: &SValue, service: &str, key: &str) -> Result<bool, SandboxError> {
    v.value.as_bool().ok_or_else(|| {
        invalid(format!(
            "`{key}` of service `{service}` is not a boolean (`{}`)",
            v.value.text()
        ))
    })
}

fn list(vs: &[SValue], service: &str, key: &str) -> Result<Vec<String>, SandboxError> {
    vs.iter().map(|v| known(v, service, key)).collect()
}

/// Maps the effective service onto the profile, key by key (the first key that cannot be used
/// is the error).
pub(super) fn apply_service(
    compose: &ComposeFile,
    svc: &Service,
    dir: &Path,
    profile: &mut HardenedProfile,
) -> Result<Applied, SandboxError> {
    let name = svc.name.value.as_str();
    apply_program(svc, name, profile)?;
    let build = apply_image(svc, name, dir, profile)?;
    let explicit_user = apply_security(svc, name, profile)?;
    apply_limits(svc, name, profile)?;
    apply_environment(svc, name, profile)?;
    apply_mounts(compose, svc, name, dir, profile)?;
    apply_devices_and_namespaces(svc, name, profile)?;
    let networks = if svc.network_mode.is_none() {
        svc.networks.iter().map(|n| n.value.clone()).collect()
    } else {
        Vec::new()
    };
    Ok(Applied {
        explicit_user,
        build,
        overridden: Vec::new(),
        networks,
        notes: Vec::new(),
    })
}

/// The service's program (`entrypoint`, `command`) and `working_dir`; a command given on the
/// command line replaces `command` later.
fn apply_program(
    svc: &Service,
    name: &str,
    profile: &mut HardenedProfile,
) -> Result<(), SandboxError> {
    if let Some(line) = &svc.entrypoint {
        profile.entrypoint = Some(argv(line, name, "entrypoint")?);
    }
    if let Some(line) = &svc.command {
        profile.command = Some(argv(line, name, "command")?);
    }
    if let Some(dir) = &svc.working_dir {
        profile.working_dir = Some(known(dir, name, "working_dir")?);
    }
    Ok(())
}

/// The image: the service's `image`, else the one its `build:` makes (named as Compose names
/// it). Returns the build.
fn apply_image(
    svc: &Service,
    name: &str,
    dir: &Path,
    profile: &mut HardenedProfile,
) -> Result<Option<BuildSpec>, SandboxError> {
    let image = svc
        .image
        .as_ref()
        .map(|v| known(v, name, "image"))
        .transpose()?;
    let build = svc
        .build
        .as_ref()
        .map(|b| build_spec(b, name, dir))
        .transpose()?;
    profile.image = match (image, &build) {
        (Some(i), _) => i,
        (None, Some(_)) => format!("{}-{name}", project_name(dir)),
        (None, None) => {
            return Err(invalid(format!(
                "service `{name}` has neither `image` nor `build`"
            )));
        }
    };
    Ok(build)
}

/// A local `build:` (no inline Dockerfile, no remote context); a build arg without a value is
/// this process's variable, when set.
fn build_spec(b: &Build, name: &str, dir: &Path) -> Result<BuildSpec, SandboxError> {
    if b.dockerfile_inline.is_some() {
        return Err(invalid(format!(
            "service `{name}`: `build.dockerfile_inline` is not supported by `sandlint run`"
        )));
    }
    let context = b
        .context
        .as_ref()
        .map(|v| known(v, name, "build.context"))
        .transpose()?
        .unwrap_or_else(|| ".".to_string());
    if context.contains("://") || context.starts_with("git@") {
        return Err(invalid(format!(
            "service `{name}`: remote build context `{context}` is not supported by `sandlint run`"
        )));
    }
    let dockerfile = b
        .dockerfile
        .as_ref()
        .map(|v| known(v, name, "build.dockerfile"))
        .transpose()?
        .unwrap_or_else(|| "Dockerfile".to_string());
    let target = b
        .target
        .as_ref()
        .map(|v| known(v, name, "build.target"))
        .transpose()?;
    let mut args = HashMap::new();
    for a in &b.args {
        if let Some(v) = &a.value {
            args.insert(a.key.value.clone(), known(v, name, "build.args")?);
        } else if let Ok(v) = std::env::var(&a.key.value) {
            args.insert(a.key.value.clone(), v);
        }
    }
    Ok(BuildSpec {
        context: dir.join(context),
        dockerfile,
        target,
        args,
    })
}

/// `user`, `privileged`, `read_only`, the capabilities, `security_opt` and `network_mode`.
/// Returns whether the service names the user.
fn apply_security(
    svc: &Service,
    name: &str,
    profile: &mut HardenedProfile,
) -> Result<bool, SandboxError> {
    let mut explicit_user = false;
    if let Some(u) = &svc.user {
        profile.user = known(u, name, "user")?;
        explicit_user = true;
    }
    if let Some(v) = &svc.privileged {
        profile.privileged = boolean(v, name, "privileged")?;
    }
    if let Some(v) = &svc.read_only {
        profile.read_only_rootfs = boolean(v, name, "read_only")?;
    }
    if !svc.cap_drop.is_empty() {
        profile.cap_drop = list(&svc.cap_drop, name, "cap_drop")?;
    }
    if !svc.cap_add.is_empty() {
        profile.cap_add = list(&svc.cap_add, name, "cap_add")?;
    }
    if !svc.security_opt.is_empty() {
        profile.security_opt = list(&svc.security_opt, name, "security_opt")?;
    }
    if let Some(v) = &svc.network_mode {
        profile.network_mode = known(v, name, "network_mode")?;
    }
    Ok(explicit_user)
}

/// Memory (and swap), CPUs and pids: the service's keys, else its `deploy.resources.limits`.
fn apply_limits(
    svc: &Service,
    name: &str,
    profile: &mut HardenedProfile,
) -> Result<(), SandboxError> {
    let bytes = |v: &SValue, key: &str| -> Result<i64, SandboxError> {
        let s = known(v, name, key)?;
        parse_bytes(&s)
            .ok_or_else(|| invalid(format!("`{key}` of service `{name}` is not a size (`{s}`)")))
    };
    if let Some(v) = svc.mem_limit.as_ref().or(svc.limits.memory.as_ref()) {
        profile.set_memory(bytes(v, "mem_limit")?);
    }
    if let Some(v) = &svc.memswap_limit {
        let s = known(v, name, "memswap_limit")?;
        profile.memory_swap = if s.trim() == "-1" {
            -1
        } else {
            bytes(v, "memswap_limit")?
        };
    }
    if let Some(v) = svc.cpus.as_ref().or(svc.limits.cpus.as_ref()) {
        let s = known(v, name, "cpus")?;
        profile.nano_cpus = parse_cpus(&s).ok_or_else(|| {
            invalid(format!(
                "`cpus` of service `{name}` is not a number (`{s}`)"
            ))
        })?;
    }
    if let Some(v) = svc.pids_limit.as_ref().or(svc.limits.pids.as_ref()) {
        let s = known(v, name, "pids_limit")?;
        profile.pids_limit = s.trim().parse().map_err(|_| {
            invalid(format!(
                "`pids_limit` of service `{name}` is not a number (`{s}`)"
            ))
        })?;
    }
    Ok(())
}

/// `environment`: a variable without a value is this process's, when set.
fn apply_environment(
    svc: &Service,
    name: &str,
    profile: &mut HardenedProfile,
) -> Result<(), SandboxError> {
    for e in &svc.environment {
        match &e.value {
            Some(v) => profile.env.push(format!(
                "{}={}",
                e.key.value,
                known(v, name, "environment")?
            )),
            None => {
                if let Ok(v) = std::env::var(&e.key.value) {
                    profile.env.push(format!("{}={v}", e.key.value));
                    profile.env_from_host.push(e.key.value.clone());
                }
            }
        }
    }
    Ok(())
}

/// `tmpfs` and `volumes` (bind mounts and tmpfs only). A named volume that binds a host path
/// (`driver_opts` `o: bind`, `device: /etc`) is the bind it is: mounted as that bind, so the
/// rules judge the host path, never created as a volume that would slip past them.
fn apply_mounts(
    compose: &ComposeFile,
    svc: &Service,
    name: &str,
    dir: &Path,
    profile: &mut HardenedProfile,
) -> Result<(), SandboxError> {
    for t in list(&svc.tmpfs, name, "tmpfs")? {
        let (target, options) = t.split_once(':').unwrap_or((t.as_str(), "nosuid,nodev"));
        add_tmpfs(profile, target, options);
    }
    for v in &svc.volumes {
        let target = v
            .target
            .as_ref()
            .map(|t| known(t, name, "volumes"))
            .transpose()?
            .unwrap_or_default();
        let mount = v.mount(compose);
        match mount.kind {
            VolumeKind::Bind => {
                let src = mount
                    .source
                    .map(|s| known(s, name, "volumes"))
                    .transpose()?
                    .unwrap_or_default();
                let path = match &mount.via {
                    Some(bind) if !bind.resolved_by_compose => named_bind_path(bind, &src, name)?,
                    _ => dir.join(&src),
                };
                let source = std::fs::canonicalize(&path).map_err(|e| {
                    invalid(format!(
                        "service `{name}`: bind mount source {}: {e}",
                        path.display()
                    ))
                })?;
                profile.mounts.push(BindMount {
                    source,
                    target,
                    read_only: mount.read_only,
                    origin: MountOrigin::Compose,
                });
            }
            VolumeKind::Tmpfs => add_tmpfs(profile, &target, "nosuid,nodev"),
            _ => {
                return Err(invalid(format!(
                    "service `{name}`: only bind and tmpfs volumes are supported by `sandlint run` (`{target}`)"
                )));
            }
        }
    }
    Ok(())
}

/// The host path a named volume binds when Compose passes its `device:` through: it must be
/// absolute (the daemon resolves a relative one against its own working directory, which `run`
/// cannot know).
fn named_bind_path(
    bind: &crate::compose::model::HostBind<'_>,
    device: &str,
    service: &str,
) -> Result<PathBuf, SandboxError> {
    let path = PathBuf::from(device.trim());
    if path.is_absolute() {
        return Ok(path);
    }
    Err(invalid(format!(
        "service `{service}`: named volume `{}` binds `{}`, a path relative to the Docker daemon's directory; `sandlint run` needs an absolute `device:`",
        bind.volume.name.value,
        device.trim()
    )))
}

/// `init`, `devices` and the namespaces (`pid`, `ipc`, `uts`, `cgroup`, `userns_mode`; their
/// values were checked by [`namespace_values`]); an empty mode keeps the profile's.
fn apply_devices_and_namespaces(
    svc: &Service,
    name: &str,
    profile: &mut HardenedProfile,
) -> Result<(), SandboxError> {
    if let Some(v) = &svc.init {
        profile.init = boolean(v, name, "init")?;
    }
    if !svc.devices.is_empty() {
        profile.devices = list(&svc.devices, name, "devices")?;
    }
    if let Some(v) = &svc.pid {
        profile.pid_mode = Some(known(v, name, "pid")?);
    }
    if let Some(v) = &svc.ipc {
        profile.ipc_mode = Some(known(v, name, "ipc")?);
    }
    let mode = |v: &Option<SValue>, key: &str| -> Result<Option<String>, SandboxError> {
        let Some(v) = v else { return Ok(None) };
        let m = known(v, name, key)?;
        Ok(Some(m.trim().to_string()).filter(|m| !m.is_empty()))
    };
    profile.uts_mode = mode(&svc.uts, "uts")?;
    profile.cgroupns_mode = mode(&svc.cgroup, "cgroup")?;
    profile.userns_mode = mode(&svc.userns_mode, "userns_mode")?;
    Ok(())
}

fn add_tmpfs(profile: &mut HardenedProfile, target: &str, options: &str) {
    profile.tmpfs.retain(|t| t.target != target);
    profile.tmpfs.push(Tmpfs {
        target: target.to_string(),
        options: options.to_string(),
    });
}

/// Compose's default project name: the directory name, lowercased, `[a-z0-9_-]` only.
fn project_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let s: String = raw
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    let s = s.trim_start_matches(['_', '-']).to_string();
    if s.is_empty() {
        "sandlint".to_string()
    } else {
        s
    }
}
