//! A `devcontainer.json`: its container, lowered to one Compose service, checked by the Compose
//! rules (except those that do not fit an interactive dev box) and by the dev container rules.

use crate::compose;
use crate::docs::{self, RuleMeta};
use crate::linter::{FileResult, LintOptions, files_read, finish};
use crate::rules::{BuiltBy, Ctx};
use crate::selection::RuleSet;
use crate::source::{FileRef, Span, normalize};
use crate::workspace;

/// Compose rules that do not run on a dev container: a dev box is interactive and long-lived,
/// installs packages, uses `sudo` and the network. Each would flag nearly every
/// `devcontainer.json` and say nothing about its risk (README, "Which files are checked").
pub const NOT_FOR_DEVCONTAINERS: &[&RuleMeta] = &[
    docs::MISSING_NO_NEW_PRIVILEGES,
    docs::WRITABLE_ROOT_FILESYSTEM,
    docs::MISSING_MEMORY_LIMIT,
    docs::MISSING_CPU_LIMIT,
    docs::MISSING_PIDS_LIMIT,
    docs::MISSING_CAP_DROP_ALL,
    docs::NETWORK_NOT_ISOLATED,
];

/// Checks the `devcontainer.json` `file`.
pub(super) fn lint_devcontainer(file: FileRef, opts: &LintOptions<'_>) -> FileResult {
    let boundary = opts.boundary_for(&file);
    let mut dc = compose::devcontainer::load(&file.text, &file.path);
    dc.decide_user(|u| crate::dockerfile::semantics::is_root_user(u) == Some(true));
    let facts = workspace::devcontainer_facts(&file, &dc.compose, &boundary, opts.config);
    let set = RuleSet::new(&opts.selection, opts.config, files_read(&file, &facts));
    let mut diagnostics = Vec::new();
    for rule in set.rules() {
        if NOT_FOR_DEVCONTAINERS.contains(&rule.meta()) {
            continue;
        }
        let mut cx = Ctx::new(rule.meta(), &file, &facts, &mut diagnostics);
        rule.check_compose(&mut cx, &dc.compose);
        rule.check_devcontainer(&mut cx, &dc);
    }
    // the workspace is what a dev container edits: its binds are meant to be writable
    let within = |s: Span, b: &Span| s.file == b.file && b.start <= s.start && s.end <= b.end;
    diagnostics.retain(|d| {
        !(d.rule == docs::WRITABLE_BIND_MOUNT
            && dc.workspace_binds.iter().any(|b| within(d.span, b)))
    });
    let scopes: Vec<(Span, String)> = (dc.compose.services.iter())
        .map(|s| (s.span, format!("service:{}", s.name.value)))
        .collect();
    finish(
        std::slice::from_ref(&file),
        &scopes,
        Vec::new(),
        &mut diagnostics,
        opts,
        &set,
    );
    let built = (dc.compose.services.iter())
        .filter_map(|s| {
            let b = facts.build_of(&s.name.value)?;
            Some((
                normalize(&b.file.path),
                BuiltBy {
                    compose_file: file.clone(),
                    service: s.name.value.clone(),
                    target: b.target.clone(),
                    // a dev box needs no health check: not a finding on the Dockerfile
                    // it builds (`missing-healthcheck` reads this)
                    has_healthcheck: true,
                },
            ))
        })
        .collect();
    FileResult {
        file,
        kind: crate::discover::FileKind::Devcontainer,
        diagnostics,
        extra_files: Vec::new(),
        built,
    }
}
