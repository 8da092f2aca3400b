//! The run: plan → rules → connect → image (build if needed) → create → verify → attach → start
//! → verify → stream/wait (timeout) → inspect (OOM) → remove. The container is removed on every
//! path, including Ctrl-C/SIGTERM when `handle_signals` is on.

mod cleanup;
mod daemon;
mod docker_context;
mod evidence;
mod execute;
mod planning;
pub(super) mod session;
mod user;

use std::time::Instant;

pub(super) use cleanup::{gc, reap_one};
pub(super) use planning::{BuildSpec, invoker_allows, lint, plan, refused};

use super::profile::{HardenedProfile, LABEL_DEADLINE, NOBODY};
use super::{
    LintReport, LintSummary, OutputSink, Program, RunResult, SandboxError, SandboxOptions,
};
use cleanup::{Reap, reap};
pub(super) use daemon::{api, connect, error_text, is_not_found, labelled};
use daemon::{ensure_image, remove};
pub(super) use evidence::{kernel_uids, read_cgroup};
use execute::execute;
use planning::{Plan, judge_plan};
use user::{fit_mounts, resolve_user};

/// `<hostname>:<pid>` of this process.
fn owner() -> String {
    let host = host_name().unwrap_or_else(|| "unknown".to_string());
    format!("{host}:{}", std::process::id())
}

/// This host's name (Linux), if it can be read.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// [`super::Sandbox::plan_resolved`].
pub(super) async fn plan_resolved(
    options: &SandboxOptions,
    program: &Program,
) -> Result<(HardenedProfile, LintReport), SandboxError> {
    let mut plan = plan(options, program)?;
    let unresolved = |plan: &mut Plan, why: String| {
        if !plan.explicit_user {
            plan.profile.user_unresolved = true;
            plan.notes.push(format!(
                "user: image default (the image's non-root USER, else {NOBODY}); not resolved: {why}"
            ));
        }
    };
    match connect().await {
        Err(e) => unresolved(&mut plan, format!("{e}")),
        Ok(docker) => match docker.inspect_image(&plan.profile.image).await {
            Ok(image) => {
                let mut resolution =
                    resolve_user(&docker, &mut plan, &image, options.allow_root).await?;
                if !plan.explicit_user {
                    let how = &resolution.how;
                    plan.notes.push(if how.starts_with("the image") {
                        format!("user: {} ({how})", plan.profile.user)
                    } else {
                        format!("user: {} (the image's USER, {how})", plan.profile.user)
                    });
                }
                fit_mounts(&docker, &mut plan, &mut resolution, options).await?;
            }
            Err(e) if is_not_found(&e) => {
                let why = format!(
                    "the image `{}` is not available locally{}",
                    plan.profile.image,
                    if plan.build.is_some() {
                        " (the run builds it)"
                    } else {
                        ""
                    }
                );
                unresolved(&mut plan, why);
            }
            Err(e) => return Err(api("inspect the image")(e)),
        },
    }
    let mut report = lint(&plan.profile, &invoker_allows(options))?;
    report.notes = plan.notes;
    Ok((plan.profile, report))
}

fn summary(report: &LintReport) -> LintSummary {
    LintSummary {
        preset: "sandbox",
        findings: report
            .findings
            .iter()
            .filter(|d| d.suppression.is_none())
            .map(|d| format!("{} {}: {}", d.severity, d.rule.name, d.message))
            .collect(),
    }
}

/// The whole run.
pub(super) async fn run(
    options: &SandboxOptions,
    program: &Program,
    sink: &mut dyn OutputSink,
) -> Result<RunResult, SandboxError> {
    let started = Instant::now();
    let mut plan = plan(options, program)?;
    for rule in &plan.overridden {
        sink.status(&format!(
            "note: the Compose file's suppression of `{rule}` does not apply to `sandlint run` (an isolation rule: only --allow or --config can relax it)"
        ));
    }
    for note in &plan.notes {
        sink.status(&format!("note: {note}"));
    }
    let allows = invoker_allows(options);
    let mut report = judge_plan(lint(&plan.profile, &allows)?)?;
    let docker = connect().await?;
    // Expired leftovers of earlier runs (a SIGKILLed sandlint whose watchdog died too), while
    // the image is looked up.
    let (_, image) = tokio::join!(
        reap(&docker, Reap::Expired),
        ensure_image(&docker, &plan, sink)
    );
    let image = image?;
    // The egress proxy's image, built before the deadline is set (a first build takes a while).
    let egress = match &options.egress {
        Some(e) => Some(super::egress::prepare(&docker, e).await?),
        None => None,
    };
    let mut resolution = resolve_user(&docker, &mut plan, &image, options.allow_root).await?;
    let noted = plan.notes.len();
    if fit_mounts(&docker, &mut plan, &mut resolution, options).await? {
        // the user changed: the rules judge the container that will be created
        report = judge_plan(lint(&plan.profile, &allows)?)?;
    }
    for note in &plan.notes[noted..] {
        sink.status(&format!("note: {note}"));
    }
    let name = container_name();
    let deadline_unix = unix_now() + options.timeout.as_secs() + DEADLINE_GRACE_SECS;
    plan.profile
        .labels
        .insert(LABEL_DEADLINE.to_string(), deadline_unix.to_string());
    let watchdog = options
        .watchdog
        .as_deref()
        .and_then(|exe| super::watchdog::spawn(exe, &name, deadline_unix));
    let work = async {
        let Some(prepared) = &egress else {
            return execute(
                &docker,
                &plan.profile,
                &name,
                options,
                sink,
                started,
                &resolution,
            )
            .await;
        };
        // The sidecar and the networks, after the watchdog: it removes them with the container.
        let mut profile = plan.profile.clone();
        let mut proxy =
            super::egress::start(&docker, &name, prepared, &mut profile, options).await?;
        let mut result = execute(
            &docker,
            &profile,
            &name,
            options,
            sink,
            started,
            &resolution,
        )
        .await?;
        super::egress::collect(&docker, &mut proxy).await;
        result.egress = Some(proxy.report);
        Ok(result)
    };
    let outcome = if options.handle_signals {
        tokio::select! {
            r = work => r,
            (signal, code) = signals() => Err(SandboxError::Interrupted { signal, code }),
        }
    } else {
        work.await
    };
    remove(&docker, &name).await;
    if egress.is_some() {
        super::egress::remove_run(&docker, &name).await;
    }
    if let Some(w) = watchdog {
        w.release();
    }
    let mut result = outcome?;
    result.verification.lint = summary(&report);
    result.allowed = report.relaxations.clone();
    result.notes = plan.notes;
    Ok(result)
}

/// Seconds past the command's timeout before the watchdog and the reaper remove a container
/// (the run's own create, verify and cleanup steps take place within it).
pub(super) const DEADLINE_GRACE_SECS: u64 = 15;

pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn container_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("sandlint-{}-{nanos:08x}-{seq}", std::process::id())
}

/// Resolves on SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE with the signal's name and exit code
/// (128 + n).
async fn signals() -> (&'static str, u8) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            (SignalKind::interrupt(), "SIGINT", 130),
            (SignalKind::terminate(), "SIGTERM", 143),
            (SignalKind::hangup(), "SIGHUP", 129),
            (SignalKind::quit(), "SIGQUIT", 131),
            (SignalKind::pipe(), "SIGPIPE", 141),
        ];
        let mut streams = Vec::new();
        for (kind, name, code) in kinds {
            if let Ok(s) = signal(kind) {
                streams.push((s, name, code));
            }
        }
        if streams.is_empty() {
            return std::future::pending().await;
        }
        let waits = streams.iter_mut().map(|(s, name, code)| {
            let (name, code) = (*name, *code);
            Box::pin(async move {
                s.recv().await;
                (name, code)
            })
        });
        futures_util::future::select_all(waits).await.0
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        ("SIGINT", 130)
    }
}
