//! Output formats. Each format is one file implementing [`Emitter`]; only this module prints.

mod checkstyle;
mod concise;
mod full;
mod github;
mod gitlab;
mod json;
mod junit;
mod sarif;

use std::borrow::{Borrow, Cow};
use std::io::{self, Write};

use crate::diagnostic::{Diagnostic, Severity};
use crate::discover::{Skipped, WalkError};
use crate::source::{FileRef, LineCol};

pub use full::FullOptions;

/// Everything a report needs besides the findings.
#[derive(Debug, Default)]
pub struct ReportCtx {
    /// Every file checked (sorted by display path).
    pub files: Vec<FileRef>,
    /// Paths that could not be read or walked.
    pub errors: Vec<WalkError>,
    /// Files that look like Docker configs by name but were not checked (templates, content
    /// that is not what the name says).
    pub skipped: Vec<Skipped>,
    pub color: bool,
    /// Print no summary line (human formats).
    pub quiet: bool,
    /// Terminal width for the full format.
    pub width: usize,
    /// Print the per-rule table (`--statistics`) after the findings (human formats).
    pub statistics: bool,
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    /// Findings covered by a suppression or the baseline (not in the other counts).
    pub suppressed: usize,
}

impl Counts {
    pub fn of(diagnostics: &[Diagnostic]) -> Self {
        let mut c = Counts::default();
        for d in diagnostics {
            if d.suppression.is_some() {
                c.suppressed += 1;
                continue;
            }
            match d.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    /// Reported (unsuppressed) findings.
    pub fn total(self) -> usize {
        self.error + self.warning + self.info
    }
}

/// Writes a report.
pub trait Emitter {
    fn emit(
        &mut self,
        w: &mut dyn Write,
        diagnostics: &[Diagnostic],
        cx: &ReportCtx,
    ) -> io::Result<()>;
}

/// The report formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Rich reports with source snippets (default).
    Full,
    /// One line per finding: `path:line:col: severity CODE message` (editors, grep).
    Concise,
    /// Versioned JSON document (see README).
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).
    Sarif,
    /// GitHub Actions workflow commands (inline annotations on pull requests).
    Github,
    /// GitLab Code Quality report (JSON).
    Gitlab,
    /// JUnit XML (one test case per finding).
    Junit,
    /// Checkstyle XML.
    Checkstyle,
}

/// Renders a whole report to a string (tests, doc examples).
pub fn render(format: OutputFormat, diagnostics: &[Diagnostic], cx: &ReportCtx) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = emitter(format).emit(&mut out, diagnostics, cx);
    String::from_utf8_lossy(&out).into_owned()
}

/// The emitter for a format.
pub fn emitter(format: OutputFormat) -> Box<dyn Emitter> {
    match format {
        OutputFormat::Full => Box::new(full::Full),
        OutputFormat::Concise => Box::new(concise::Concise),
        OutputFormat::Json => Box::new(json::Json),
        OutputFormat::Sarif => Box::new(sarif::Sarif),
        OutputFormat::Github => Box::new(github::Github),
        OutputFormat::Gitlab => Box::new(gitlab::Gitlab),
        OutputFormat::Junit => Box::new(junit::Junit),
        OutputFormat::Checkstyle => Box::new(checkstyle::Checkstyle),
    }
}

/// `diagnostics` with the findings of one rule at one location (same file, same span, same
/// suppression state) merged into the first: a YAML anchor merged into 21 services gives one
/// result, whose [`Diagnostic::shared`] lists the other services' scopes and whose message says
/// which services share it. Order is kept.
pub fn merge_locations(diagnostics: &[Diagnostic]) -> Vec<Cow<'_, Diagnostic>> {
    type Key<'a> = (&'static str, &'a std::path::Path, u32, u32, bool);
    let mut first: std::collections::HashMap<Key<'_>, usize> =
        std::collections::HashMap::with_capacity(diagnostics.len());
    // Borrowed unless another service's finding is merged into it (then its message changes):
    // the report needs no second copy of every finding.
    let mut out: Vec<Cow<'_, Diagnostic>> = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let key = (
            d.rule.code,
            d.file.path.as_path(),
            d.span.start,
            d.span.end,
            d.suppression.is_some(),
        );
        match first.get(&key) {
            Some(&i) => match d.service() {
                Some(service) if !out[i].services().contains(&service) => {
                    let shared = format!("service:{service}");
                    out[i].to_mut().shared.push(shared);
                }
                _ => out.push(Cow::Borrowed(d)),
            },
            None => {
                first.insert(key, out.len());
                out.push(Cow::Borrowed(d));
            }
        }
    }
    for d in &mut out {
        if !d.shared.is_empty() {
            let services = d.services();
            if services.len() > 1 {
                let names: Vec<String> = services.iter().map(|s| format!("`{s}`")).collect();
                let message = format!(
                    "{} (the same lines apply to {} services: {})",
                    d.message,
                    names.len(),
                    names.join(", ")
                );
                d.to_mut().message = message;
            }
        }
    }
    out
}

/// Reported findings per rule, most frequent first (then by code): `(count, rule)`, counting
/// one per (rule, service) as the summary does.
pub fn statistics(diagnostics: &[Diagnostic]) -> Vec<(usize, &'static crate::docs::RuleMeta)> {
    let mut by_code: std::collections::BTreeMap<&str, (usize, &'static crate::docs::RuleMeta)> =
        std::collections::BTreeMap::new();
    for d in reported(diagnostics) {
        by_code.entry(d.rule.code).or_insert((0, d.rule)).0 += 1;
    }
    let mut rows: Vec<_> = by_code.into_values().collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.code.cmp(b.1.code)));
    rows
}

/// The `--statistics` table, as ruff prints it: count, code, name (and how fixable is left
/// out: sandlint fixes nothing).
pub fn statistics_table(diagnostics: &[Diagnostic]) -> String {
    let rows = statistics(diagnostics);
    let width = rows
        .iter()
        .map(|(n, _)| n.to_string().len())
        .max()
        .unwrap_or(1);
    let code_width = rows.iter().map(|(_, m)| m.code.len()).max().unwrap_or(6);
    let mut s = String::new();
    for (n, m) in rows {
        s.push_str(&format!(
            "{n:>width$}  {:<code_width$}  {}\n",
            m.code, m.name
        ));
    }
    s
}

/// The findings to print: those no suppression covers.
pub fn reported<D: Borrow<Diagnostic>>(diagnostics: &[D]) -> impl Iterator<Item = &Diagnostic> {
    diagnostics
        .iter()
        .map(Borrow::borrow)
        .filter(|d: &&Diagnostic| d.suppression.is_none())
}

/// Reported findings grouped by file (display path, sorted), every checked file included even
/// without findings; a finding in a file not listed in `cx.files` still gets its group.
pub fn by_file<'d, D: Borrow<Diagnostic>>(
    diagnostics: &'d [D],
    cx: &'d ReportCtx,
) -> std::collections::BTreeMap<&'d str, Vec<&'d Diagnostic>> {
    let mut by_file: std::collections::BTreeMap<&str, Vec<&Diagnostic>> =
        std::collections::BTreeMap::new();
    for f in &cx.files {
        by_file.entry(f.display.as_str()).or_default();
    }
    for d in reported(diagnostics) {
        by_file.entry(d.file.display.as_str()).or_default().push(d);
    }
    by_file
}

/// `error: PATH: MESSAGE`, the stderr line for a path that could not be read (escaped: paths and
/// messages may carry attacker-chosen bytes).
pub fn path_error_line(e: &WalkError) -> String {
    format!(
        "error: {}: {}",
        crate::escape::line(&crate::source::display_path(e.path())),
        crate::escape::line(&e.to_string())
    )
}

/// Start and end line/column of a diagnostic's primary span.
pub fn start_end(d: &Diagnostic) -> (LineCol, LineCol) {
    (d.file.line_col(d.span.start), d.file.line_col(d.span.end))
}

/// `Checked 3 files: 2 errors, 1 warning, 0 info` (+ `; 1 path could not be read`).
pub fn summary_line(diagnostics: &[Diagnostic], cx: &ReportCtx) -> String {
    let c = Counts::of(diagnostics);
    let files = cx.files.len();
    let mut s = format!(
        "Checked {files} file{}: {} error{}, {} warning{}, {} info",
        plural(files),
        c.error,
        plural(c.error),
        c.warning,
        plural(c.warning),
        c.info,
    );
    if c.suppressed > 0 {
        s.push_str(&format!(" ({} suppressed)", c.suppressed));
    }
    if !cx.errors.is_empty() {
        let n = cx.errors.len();
        s.push_str(&format!("; {n} path{} could not be read", plural(n)));
    }
    if !cx.skipped.is_empty() {
        s.push_str(&format!(
            "; {} skipped (see --show-files)",
            cx.skipped.len()
        ));
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
