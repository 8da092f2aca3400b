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
    let (project, refused) = match &dc.compose_ref {
        Some(r) => {
            let (inputs, refused, missing) =
                workspace::devcontainer_compose_files(&file, &r.files, &boundary);
            dc.compose.unresolved.extend(missing);
            let service = r.service.as_ref().and_then(|s| s.value.known());
            let workspace = normalize(
                &file
                    .dir()
                    .join(compose::devcontainer::text::workspace_of(&file.path)),
            );
            let mut names = Vec::new();
            let project =
                compose_project(&inputs, service, &workspace, opts, &boundary, &mut names);
            dc.compose
                .unresolved
                .extend(unresolved_service(r, &names, project.is_some()));
            (project, refused)
        }
        None => (None, Vec::new()),
    };
    let facts = workspace::devcontainer_facts(&file, &dc.compose, &boundary, opts.config, refused);
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
    // the binds are distinct strings of the file, so they do not overlap: sorted, the one that
    // may hold a finding is the last that starts before it (linear in findings and binds)
    let mut binds = dc.workspace_binds.clone();
    binds.sort_by_key(|b| (b.file, b.start));
    let in_bind = |s: Span| {
        let i = binds.partition_point(|b| (b.file, b.start) <= (s.file, s.start));
        i.checked_sub(1)
            .and_then(|i| binds.get(i))
            .is_some_and(|b| b.file == s.file && s.end <= b.end)
    };
    diagnostics.retain(|d| !(d.rule == docs::WRITABLE_BIND_MOUNT && in_bind(d.span)));
    let scopes: Vec<(Span, std::sync::Arc<str>)> = (dc.compose.services.iter())
        .map(|s| (s.span, format!("service:{}", s.name.value).into()))
        .collect();
    let directives = if opts.inline_ignores {
        vec![(file.clone(), crate::suppress::jsonc(&file, &dc.blocks))]
    } else {
        Vec::new()
    };
    finish(
        std::slice::from_ref(&file),
        &scopes,
        directives,
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
    let mut result = FileResult {
        file,
        kind: crate::discover::FileKind::Devcontainer,
        diagnostics,
        extra_files: Vec::new(),
        built,
    };
    if let Some(p) = project {
        result.diagnostics.extend(p.diagnostics);
        super::sort(&mut result.diagnostics);
        result.extra_files = std::iter::once(p.file).chain(p.extra_files).collect();
        result.built.extend(p.built);
    }
    result
}

/// `service` missing, or naming no service of the project that was loaded (`loaded`).
fn unresolved_service(
    r: &compose::devcontainer::ComposeRef,
    names: &[String],
    loaded: bool,
) -> Option<compose::model::LoadError> {
    let Some(service) = &r.service else {
        return Some(compose::model::LoadError {
            message: "`dockerComposeFile` is set but `service` is not".to_string(),
            span: r.key,
            help: Some("name the service the dev container is with `service`".to_string()),
        });
    };
    let name = service.value.known()?;
    (loaded && !names.iter().any(|n| n == name)).then(|| compose::model::LoadError {
        message: format!(
            "`service` names `{}`, which the Compose files do not define",
            crate::source::clip(name, 32)
        ),
        span: service.span,
        help: Some("name one of the services of the `dockerComposeFile` project".to_string()),
    })
}

/// A `writable-bind-mount` finding of a bind of the workspace folder (or a folder in it): what
/// the dev container edits. The host path is the second quoted value of the message (`service
/// `app` bind-mounts `..` writable`), relative to the Compose file.
fn binds_workspace(d: &crate::diagnostic::Diagnostic, workspace: &std::path::Path) -> bool {
    if d.rule != docs::WRITABLE_BIND_MOUNT || d.message.contains("through named volume") {
        return false;
    }
    let Some(source) = d.message.split('`').nth(3) else {
        return false;
    };
    normalize(&d.file.dir().join(source)).starts_with(workspace)
}

/// `dockerComposeFile`: the Compose project of `inputs` (the first and the files merged into
/// it, in order), checked as Compose checks it, except that the service the dev container is
/// (`service`) is spared the rules that do not fit a dev box.
fn compose_project(
    inputs: &[FileRef],
    service: Option<&str>,
    workspace: &std::path::Path,
    opts: &LintOptions<'_>,
    boundary: &crate::fsread::Boundary,
    names: &mut Vec<String>,
) -> Option<FileResult> {
    let first = inputs.first()?.clone();
    let mut r = super::lint_compose_project(first, inputs, opts, boundary, Vec::new(), Some(names));
    if let Some(service) = service {
        let scope = format!("service:{service}");
        // a finding in an override file has no scope (the service's span is in the first
        // file): these rules' messages name the service first
        let named = format!("service `{}` ", crate::source::clip(service, 32));
        r.diagnostics.retain(|d| {
            let ours = match &d.scope {
                Some(s) => **s == scope,
                None => d.message.starts_with(&named),
            };
            !(ours && (NOT_FOR_DEVCONTAINERS.contains(&d.rule) || binds_workspace(d, workspace)))
        });
        for (_, b) in &mut r.built {
            // a dev box needs no health check (see `lint_devcontainer`)
            b.has_healthcheck |= b.service == service;
        }
    }
    Some(r)
}
