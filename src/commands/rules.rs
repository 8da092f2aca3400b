//! `sandlint rules`: the catalog.

use std::io::{self, Write};

use crate::cli::{KindArg, RulesArgs, RulesFormat};
use crate::rules;

pub fn list(args: &RulesArgs, w: &mut dyn Write) -> io::Result<()> {
    let format = args.format;
    let target = args.target.map(|t| match t {
        KindArg::Dockerfile => "dockerfile",
        KindArg::Compose => "compose",
        KindArg::Devcontainer => "devcontainer",
    });
    let metas: Vec<_> = rules::ALL
        .iter()
        .map(|r| r.meta())
        .filter(|m| target.is_none_or(|t| m.targets.contains(&t)))
        .collect();
    let severity = |m: &crate::meta::RuleMeta| args.preset.severity(m);
    match format {
        RulesFormat::Table => {
            let name_w = metas.iter().map(|m| m.name.len()).max().unwrap_or(4);
            writeln!(
                w,
                "{:<7} {:<name_w$} {:<8} {:<7} {:<19} TITLE",
                "CODE", "NAME", "SEVERITY", "DEFAULT", "TARGETS"
            )?;
            for m in &metas {
                writeln!(
                    w,
                    "{:<7} {:<name_w$} {:<8} {:<7} {:<19} {}",
                    m.code,
                    m.name,
                    severity(m).as_str(),
                    on_off(m),
                    m.targets.join(","),
                    m.title
                )?;
            }
            if metas.iter().any(|m| !m.default_enabled) {
                writeln!(
                    w,
                    "\nRules marked `off` run only when selected: `--extend-select RULE` (code, name or family), or `extend-select` in .sandlint.toml."
                )?;
            }
        }
        RulesFormat::Markdown => write!(w, "{}", markdown_table())?,
        RulesFormat::Json => {
            let v: Vec<_> = metas
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "code": m.code,
                        "name": m.name,
                        "title": m.title,
                        "family": m.family,
                        "targets": m.targets,
                        "severity": severity(m),
                        "default_severity": m.severity,
                        "sandbox_severity": m.sandbox_severity,
                        "buildkit": m.buildkit,
                        "hadolint": m.hadolint,
                        "default_enabled": m.default_enabled,
                        "status": m.status,
                        "since": m.since,
                        "references": m.references,
                        "summary": m.summary(),
                        "url": m.url(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *w, &v).map_err(io::Error::other)?;
            writeln!(w)?;
        }
    }
    Ok(())
}

/// `on` or `off`: whether the rule runs without being selected (its doc's `default-enabled`).
fn on_off(m: &crate::meta::RuleMeta) -> &'static str {
    if m.default_enabled { "on" } else { "off" }
}

/// The README's rule table (checked by `tests/generated.rs`).
pub fn markdown_table() -> String {
    let mut s = String::from(
        "| Code | Name | Severity | Sandbox preset | Default | Targets | What it flags |\n|---|---|---|---|---|---|---|\n",
    );
    for m in rules::ALL.iter().map(|r| r.meta()) {
        s.push_str(&format!(
            "| {} | [`{}`](rules/{}.md) | {} | {} | {} | {} | {} |\n",
            m.code,
            m.name,
            m.name,
            m.severity.as_str(),
            m.sandbox_severity.as_str(),
            on_off(m),
            m.targets.join(", "),
            m.title
        ));
    }
    s
}

/// The README's hadolint migration table: each hadolint code that a rule's front matter names
/// (`hadolint:`), with the rules covering it, by code (checked by `tests/generated.rs`).
pub fn hadolint_table() -> String {
    let mut codes: Vec<(&str, &crate::meta::RuleMeta)> = rules::ALL
        .iter()
        .map(|r| r.meta())
        .flat_map(|m| m.hadolint.iter().map(move |&h| (h, m)))
        .collect();
    codes.sort_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.code.cmp(b.1.code)));
    let mut s = String::from("| hadolint | sandlint rule | What it flags |\n|---|---|---|\n");
    for (h, m) in codes {
        s.push_str(&format!(
            "| [{h}](https://github.com/hadolint/hadolint/wiki/{h}) | {} [`{}`](rules/{}.md) | {} |\n",
            m.code, m.name, m.name, m.title
        ));
    }
    s
}
