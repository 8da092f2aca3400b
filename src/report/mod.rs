//! Output formats. Each format is one file implementing [`Emitter`]; only this module prints.

mod checkstyle;
mod concise;
mod full;
mod github;
mod gitlab;
mod json;
mod jsonstream;
mod jsonw;
mod junit;
mod sarif;

use std::borrow::Borrow;
use std::io::{self, Write};

use crate::diagnostic::{Diagnostic, Secrets, Severity};
use crate::discover::{Skipped, WalkError};
use crate::meta::RuleMeta;
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

impl ReportCtx {
    pub fn settings(&self) -> Settings {
        Settings {
            color: self.color,
            quiet: self.quiet,
            width: self.width,
            statistics: self.statistics,
            containers: false,
        }
    }
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
        c.add(diagnostics);
        c
    }

    pub fn add(&mut self, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            if d.suppression.is_some() {
                self.suppressed += 1;
                continue;
            }
            match d.severity {
                Severity::Error => self.error += 1,
                Severity::Warning => self.warning += 1,
                Severity::Info => self.info += 1,
            }
        }
    }

    /// Reported (unsuppressed) findings.
    pub fn total(self) -> usize {
        self.error + self.warning + self.info
    }
}

/// Writes a report as the findings come, file by file in display-path order: [`begin`] before
/// the first file, [`file`] for each file checked or holding findings, [`end`] with the totals.
/// No format needs the whole list of findings: a report over 100,000 files holds one file's
/// findings at a time (JUnit, whose header carries totals, spills its body to a temporary file).
///
/// [`begin`]: Emitter::begin
/// [`file`]: Emitter::file
/// [`end`]: Emitter::end
pub trait Emitter {
    fn begin(&mut self, _w: &mut dyn Write, _settings: &Settings) -> io::Result<()> {
        Ok(())
    }
    fn file(&mut self, w: &mut dyn Write, group: &FileGroup<'_>) -> io::Result<()>;
    fn end(&mut self, w: &mut dyn Write, totals: &Totals<'_>) -> io::Result<()>;
    /// What the report had to leave out or change, for stderr (after [`Emitter::end`]).
    fn notices(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Display settings, known before the first finding.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub color: bool,
    pub quiet: bool,
    pub width: usize,
    pub statistics: bool,
    /// `sandlint audit`: what was checked are containers (`Checked 2 containers: …`).
    pub containers: bool,
}

/// One file's part of a report: a file checked (`checked`) or holding findings, with all its
/// findings (suppressed ones included), sorted and without duplicates.
#[derive(Debug, Clone, Copy)]
pub struct FileGroup<'a> {
    pub display: &'a str,
    pub checked: bool,
    pub findings: &'a [Diagnostic],
    /// The secret spans of the files these findings show (their own and their labels' files).
    pub secrets: &'a Secrets,
}

/// What the report says at the end: counts over every file, path errors, skipped files.
#[derive(Debug, Clone, Copy)]
pub struct Totals<'a> {
    pub files_checked: usize,
    pub counts: Counts,
    /// Reported findings per rule, most frequent first (then by code).
    pub statistics: &'a [(usize, &'static RuleMeta)],
    pub errors: &'a [WalkError],
    pub skipped: &'a [Skipped],
    pub settings: Settings,
}

/// Counts findings per severity and per rule as the files pass.
#[derive(Debug, Default)]
pub struct Tally {
    pub files_checked: usize,
    pub counts: Counts,
    /// What the format had to leave out (SARIF past GitHub's limits), for stderr.
    pub notices: Vec<String>,
    by_code: std::collections::BTreeMap<&'static str, (usize, &'static RuleMeta)>,
}

impl Tally {
    pub fn add(&mut self, group: &FileGroup<'_>) {
        self.files_checked += usize::from(group.checked);
        self.counts.add(group.findings);
        for d in reported(group.findings) {
            self.by_code.entry(d.rule.code).or_insert((0, d.rule)).0 += 1;
        }
    }

    /// `(count, rule)`, most frequent first (then by code), as `--statistics` prints them.
    pub fn statistics(&self) -> Vec<(usize, &'static RuleMeta)> {
        let mut rows: Vec<_> = self.by_code.values().copied().collect();
        rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.code.cmp(b.1.code)));
        rows
    }
}

/// A report in progress: the format's emitter, and the totals counted as files pass.
pub struct Writer {
    emitter: Box<dyn Emitter>,
    settings: Settings,
    tally: Tally,
}

impl Writer {
    pub fn begin(
        format: OutputFormat,
        settings: Settings,
        w: &mut dyn Write,
    ) -> io::Result<Writer> {
        let mut emitter = emitter(format);
        emitter.begin(w, &settings)?;
        Ok(Writer {
            emitter,
            settings,
            tally: Tally::default(),
        })
    }

    pub fn file(&mut self, w: &mut dyn Write, group: &FileGroup<'_>) -> io::Result<()> {
        self.tally.add(group);
        self.emitter.file(w, group)
    }

    pub fn end(
        mut self,
        w: &mut dyn Write,
        errors: &[WalkError],
        skipped: &[Skipped],
    ) -> io::Result<Tally> {
        let statistics = self.tally.statistics();
        let totals = Totals {
            files_checked: self.tally.files_checked,
            counts: self.tally.counts,
            statistics: &statistics,
            errors,
            skipped,
            settings: self.settings,
        };
        self.emitter.end(w, &totals)?;
        self.tally.notices = self.emitter.notices();
        Ok(self.tally)
    }
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

/// Renders a whole report to a string (tests, doc examples, `run`): the findings grouped by
/// file as [`Writer`] expects them; every file of `cx.files` gets its group.
pub fn render(format: OutputFormat, diagnostics: &[Diagnostic], cx: &ReportCtx) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_all(format, diagnostics, cx, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn write_all(
    format: OutputFormat,
    diagnostics: &[Diagnostic],
    cx: &ReportCtx,
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by(|a, b| a.file.display.cmp(&b.file.display));
    let mut groups: std::collections::BTreeMap<&str, (bool, Vec<Diagnostic>)> =
        std::collections::BTreeMap::new();
    for f in &cx.files {
        groups.entry(f.display.as_str()).or_default().0 = true;
    }
    for d in sorted {
        groups
            .entry(d.file.display.as_str())
            .or_default()
            .1
            .push(d.clone());
    }
    let secrets = secrets_of(diagnostics);
    let mut writer = Writer::begin(format, cx.settings(), w)?;
    for (display, (checked, findings)) in &groups {
        let group = FileGroup {
            display,
            checked: *checked,
            findings,
            secrets: &secrets,
        };
        writer.file(w, &group)?;
    }
    writer.end(w, &cx.errors, &cx.skipped).map(drop)
}

/// The secret spans of `diagnostics`, by file path.
pub fn secrets_of(diagnostics: &[Diagnostic]) -> Secrets {
    let mut secrets = Secrets::new();
    for d in diagnostics {
        for (file, span) in &d.secrets {
            secrets.entry(file.path.clone()).or_default().push(*span);
        }
    }
    secrets
}

/// The emitter for a format.
pub fn emitter(format: OutputFormat) -> Box<dyn Emitter> {
    match format {
        OutputFormat::Full => Box::<full::Full>::default(),
        OutputFormat::Concise => Box::new(concise::Concise),
        OutputFormat::Json => Box::<json::Json>::default(),
        OutputFormat::Sarif => Box::<sarif::Sarif>::default(),
        OutputFormat::Github => Box::new(github::Github),
        OutputFormat::Gitlab => Box::<gitlab::Gitlab>::default(),
        OutputFormat::Junit => Box::<junit::Junit>::default(),
        OutputFormat::Checkstyle => Box::new(checkstyle::Checkstyle),
    }
}

/// `diagnostics` with the findings of one rule at one location (same file, same span, same
/// suppression state) merged into the first: a YAML anchor merged into 21 services gives one
/// result, whose [`Diagnostic::shared`] lists the other services' scopes and whose message says
/// which services share it. Order is kept.
pub fn merge_locations(diagnostics: &[Diagnostic]) -> Vec<Merged<'_>> {
    // One 16-byte entry per finding: a finding keyed by reference (its rule, path bytes, span
    // and suppression), and its place in `out`. Keys of (rule, path, start, end, suppressed)
    // tuples took 48 bytes, and `Cow<Diagnostic>` entries a whole finding each (~300 bytes).
    let mut first: std::collections::HashMap<At<'_>, u32, foldhash::fast::RandomState> =
        std::collections::HashMap::with_capacity_and_hasher(diagnostics.len(), Default::default());
    // Borrowed unless another service's finding is merged into it (then its message changes):
    // the report needs no second copy of every finding.
    let mut out: Vec<Merged<'_>> = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let found = first
            .get(&At(d))
            .and_then(|&i| Some(i).zip(out.get(i as usize)));
        match found {
            Some((i, kept)) => match d.service() {
                Some(service) if !kept.services().contains(&service) => {
                    let shared = format!("service:{service}");
                    if let Some(kept) = out.get_mut(i as usize) {
                        kept.to_mut().shared.push(shared);
                    }
                }
                _ => out.push(Merged::new(d)),
            },
            None => {
                if let Ok(i) = u32::try_from(out.len()) {
                    first.insert(At(d), i);
                }
                out.push(Merged::new(d));
            }
        }
    }
    drop(first);
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

/// A finding keyed by where it is: rule, path (its bytes: hashing a `Path` walks its
/// components, and one file's findings share one spelling of its path), span and whether it is
/// suppressed.
struct At<'a>(&'a Diagnostic);

impl At<'_> {
    fn key(&self) -> (&'static str, &[u8], u32, u32, bool) {
        let d = self.0;
        (
            d.rule.code,
            d.file.path.as_os_str().as_encoded_bytes(),
            d.span.start,
            d.span.end,
            d.suppression.is_some(),
        )
    }
}

impl PartialEq for At<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for At<'_> {}

impl std::hash::Hash for At<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

/// A finding as reported ([`merge_locations`]): borrowed from the check's findings, with an
/// owned (boxed) copy when the services of other findings at its place were merged into it.
#[derive(Debug, Clone)]
pub struct Merged<'a> {
    borrowed: &'a Diagnostic,
    owned: Option<Box<Diagnostic>>,
}

impl<'a> Merged<'a> {
    fn new(d: &'a Diagnostic) -> Self {
        Merged {
            borrowed: d,
            owned: None,
        }
    }

    /// The finding, copied if borrowed.
    pub fn into_owned(self) -> Diagnostic {
        match self.owned {
            Some(d) => *d,
            None => self.borrowed.clone(),
        }
    }

    fn to_mut(&mut self) -> &mut Diagnostic {
        let borrowed = self.borrowed;
        self.owned.get_or_insert_with(|| Box::new(borrowed.clone()))
    }
}

impl std::ops::Deref for Merged<'_> {
    type Target = Diagnostic;
    fn deref(&self) -> &Diagnostic {
        self.owned.as_deref().unwrap_or(self.borrowed)
    }
}

impl Borrow<Diagnostic> for Merged<'_> {
    fn borrow(&self) -> &Diagnostic {
        self
    }
}

/// Reported findings per rule, most frequent first (then by code): `(count, rule)`, counting
/// one per (rule, service) as the summary does.
pub fn statistics(diagnostics: &[Diagnostic]) -> Vec<(usize, &'static RuleMeta)> {
    let mut tally = Tally::default();
    tally.add(&FileGroup {
        display: "",
        checked: false,
        findings: diagnostics,
        secrets: &Secrets::new(),
    });
    tally.statistics()
}

/// The `--statistics` table, as ruff prints it: count, code, name (and how fixable is left
/// out: sandlint fixes nothing).
pub fn statistics_table(rows: &[(usize, &'static RuleMeta)]) -> String {
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
    totals_line(
        (cx.files.len(), "file"),
        Counts::of(diagnostics),
        &cx.errors,
        &cx.skipped,
    )
}

/// What the human formats end with: the `--statistics` table, then the summary line.
pub fn write_trailer(w: &mut dyn Write, totals: &Totals<'_>) -> io::Result<()> {
    if totals.settings.statistics {
        w.write_all(statistics_table(totals.statistics).as_bytes())?;
    }
    if !totals.settings.quiet {
        writeln!(w, "{}", totals_summary(totals))?;
    }
    Ok(())
}

/// The summary line of [`Totals`].
pub fn totals_summary(t: &Totals<'_>) -> String {
    let unit = if t.settings.containers {
        "container"
    } else {
        "file"
    };
    totals_line((t.files_checked, unit), t.counts, t.errors, t.skipped)
}

fn totals_line(
    (files, unit): (usize, &str),
    c: Counts,
    errors: &[WalkError],
    skipped: &[Skipped],
) -> String {
    let mut s = format!(
        "Checked {files} {unit}{}: {} error{}, {} warning{}, {} info",
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
    if !errors.is_empty() {
        let n = errors.len();
        s.push_str(&format!("; {n} path{} could not be read", plural(n)));
    }
    if !skipped.is_empty() {
        s.push_str(&format!("; {} skipped (see --show-files)", skipped.len()));
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
