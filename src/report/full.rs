//! Human output: miette graphical reports with source snippets, then a summary line.
//!
//! Everything printed from a scanned file is made safe first (see [`crate::escape`]): messages,
//! help, labels and file names through [`crate::escape::line`], snippets through an
//! [`crate::escape::View`] of the file whose offsets the spans are mapped into, so control
//! characters show as `\x1b` and labels and columns still point at the right characters.

use std::fmt;
use std::io::{self, Write};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::Emitter;
use crate::diagnostic::{Diagnostic, Severity};
use crate::escape::{View, line};
use std::collections::HashMap;
use std::sync::Arc;

use crate::source::{FileRef, SourceFile, Span};

/// Options of the full format.
#[derive(Debug, Clone, Copy, Default)]
pub struct FullOptions;

#[derive(Default)]
pub struct Full {
    handler: Option<GraphicalReportHandler>,
}

impl Emitter for Full {
    fn begin(&mut self, _w: &mut dyn Write, settings: &super::Settings) -> io::Result<()> {
        let theme = if settings.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        self.handler = Some(
            GraphicalReportHandler::new_themed(theme)
                .with_width(settings.width.max(40))
                .with_links(false)
                .with_urls(false)
                .with_context_lines(1),
        );
        Ok(())
    }

    fn file(&mut self, w: &mut dyn Write, group: &super::FileGroup<'_>) -> io::Result<()> {
        let Some(handler) = &self.handler else {
            return Ok(());
        };
        let masked = masked_files(group);
        let mut views = Views::new();
        let mut out = String::new();
        let merged = super::merge_locations(group.findings);
        for block in blocks(super::reported(&merged).collect()) {
            out.clear();
            let report = match block.as_slice() {
                [d] => Report::new(d, &masked, &mut views),
                group => Report::group(group, &masked, &mut views),
            };
            if handler.render_report(&mut out, &report).is_err() {
                out.clear();
                for d in &block {
                    out.push_str(&fallback(d));
                }
            }
            w.write_all(out.as_bytes())?;
            writeln!(w)?;
        }
        Ok(())
    }

    fn end(&mut self, w: &mut dyn Write, totals: &super::Totals<'_>) -> io::Result<()> {
        super::write_trailer(w, totals)
    }
}

/// The "hardening missing" rules: protections a service lacks unless it opts in. A service's
/// findings of these rules are shown as one block with one snippet (the set is listed in the
/// README's report section).
pub const HARDENING: &[&crate::docs::RuleMeta] = &[
    crate::docs::MISSING_NO_NEW_PRIVILEGES,
    crate::docs::MISSING_CAP_DROP_ALL,
    crate::docs::WRITABLE_ROOT_FILESYSTEM,
    crate::docs::MISSING_MEMORY_LIMIT,
    crate::docs::MISSING_CPU_LIMIT,
    crate::docs::MISSING_PIDS_LIMIT,
    crate::docs::SERVICE_ROOT_USER,
    crate::docs::UNKNOWN_IMAGE_USER,
];

/// Whether a finding joins its service's hardening block: a hardening rule, in one service
/// (a finding shared through an anchor stays on its own, listing its services).
fn in_hardening_block(d: &Diagnostic) -> bool {
    d.shared.is_empty() && d.service().is_some() && HARDENING.iter().any(|m| m.code == d.rule.code)
}

/// The findings as printed: one block per finding, except that a service's hardening findings
/// (two or more, in the same file) form one block, where the first of them was.
fn blocks(findings: Vec<&Diagnostic>) -> Vec<Vec<&Diagnostic>> {
    let mut blocks: Vec<Vec<&Diagnostic>> = Vec::with_capacity(findings.len());
    let mut group_of: HashMap<(&std::path::Path, &str), usize> = HashMap::new();
    for d in findings {
        if in_hardening_block(d) {
            let key = (d.file.path.as_path(), d.service().unwrap_or_default());
            if let Some(&i) = group_of.get(&key) {
                blocks[i].push(d);
                continue;
            }
            group_of.insert(key, blocks.len());
        }
        blocks.push(vec![d]);
    }
    blocks
}

fn fallback(d: &Diagnostic) -> String {
    format!("{}\n", super::concise::concise_line(d))
}

/// A source file as miette sees it: named (escaped), without copying the text unless it holds
/// characters that must be escaped (then `view` is the text miette reads).
#[derive(Debug, Clone)]
struct FileSource {
    file: FileRef,
    name: String,
    view: Option<Arc<View>>,
}

impl FileSource {
    fn new(file: FileRef, views: &mut Views) -> Self {
        let view = views
            .entry(file.path.clone())
            .or_insert_with(|| View::new(&file.text).map(Arc::new))
            .clone();
        FileSource {
            name: line(&file.display).into_owned(),
            file,
            view,
        }
    }

    fn text(&self) -> &str {
        self.view
            .as_ref()
            .map_or(self.file.text.as_str(), |v| v.text.as_str())
    }

    /// `span` of the file as a span of the text miette reads (clamped to the file).
    fn span(&self, span: Span) -> SourceSpan {
        let len = self.file.len();
        let start = span.start.min(len);
        let end = span.end.min(len).max(start);
        let (start, end) = match &self.view {
            Some(v) => (v.to_view(start), v.to_view(end)),
            None => (start, end),
        };
        SourceSpan::new((start as usize).into(), (end - start) as usize)
    }
}

/// Escaped views of the files shown, by path (`None`: the file needs no escaping).
type Views = HashMap<std::path::PathBuf, Option<Arc<View>>>;

impl SourceCode for FileSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette's `str` source finds lines by scanning from the first byte: per finding that is
        // linear in the offset, so a report of many findings was quadratic in the file (1,000
        // services: 51 s). It reads a window of whole lines around the span instead, and the
        // lines above the window come from the file's line index.
        let text = self.text();
        let (ws, we) = window(
            text.as_bytes(),
            span.offset(),
            span.offset().saturating_add(span.len()),
            context_lines_before,
            context_lines_after,
        );
        let local = SourceSpan::new(span.offset().saturating_sub(ws).into(), span.len());
        let inner = text.get(ws..we).unwrap_or_default().read_span(
            &local,
            context_lines_before,
            context_lines_after,
        )?;
        let offset = inner.span().offset().saturating_add(ws);
        // miette counts columns in bytes of what it reads; ours count characters of the file (as
        // in every other format).
        let mut start = u32::try_from(offset).unwrap_or(u32::MAX);
        if let Some(v) = &self.view {
            start = v.to_original(start);
        }
        let column = self.file.line_col(start).column.saturating_sub(1) as usize;
        // miette's line numbers count from the first byte (its `line_count` too: the line feeds
        // up to the end of the context, which decides whether two labels' snippets merge), so
        // the window's own are moved by the lines above it (the view keeps every line feed)
        let mut ws_at = u32::try_from(ws).unwrap_or(u32::MAX);
        if let Some(v) = &self.view {
            ws_at = v.to_original(ws_at);
        }
        let above = self.file.line_col(ws_at).line.saturating_sub(1) as usize;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new(offset.into(), inner.span().len()),
            inner.line() + above,
            column,
            inner.line_count() + above,
        )))
    }
}

/// The byte range of whole lines around `start..end`: from the start of the line `before` + 1
/// lines above `start`'s to the end (line feed included) of the line `after` + 2 lines below
/// `end`'s — a margin over what miette reads (it counts a line feed that ends the span's line
/// as one of the lines after), so that it reads the same as from the whole text. Costs the
/// length of those lines, not the offset.
fn window(bytes: &[u8], start: usize, end: usize, before: usize, after: usize) -> (usize, usize) {
    let start = start.min(bytes.len());
    let end = end.clamp(start, bytes.len());
    let mut ws = start;
    let mut seen = 0;
    while ws > 0 {
        if bytes.get(ws - 1) == Some(&b'\n') {
            if seen == before + 1 {
                break;
            }
            seen += 1;
        }
        ws -= 1;
    }
    let mut we = end;
    let mut seen = 0;
    while we < bytes.len() {
        if bytes.get(we) == Some(&b'\n') {
            if seen == after + 2 {
                we += 1;
                break;
            }
            seen += 1;
        }
        we += 1;
    }
    (ws, we)
}

/// Adapts one finding (and its labels in other files, as related reports) to miette.
struct Report {
    severity: Severity,
    source: FileSource,
    code: String,
    message: String,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    related: Vec<Related>,
}

/// A label in another file, shown as an advice under the main report.
struct Related {
    message: String,
    source: FileSource,
    span: SourceSpan,
}

/// Copies of the files that hold secret values, with those values replaced by `*`, keyed by
/// path: snippets are rendered from them, so no secret reaches a terminal or a CI log.
fn masked_files(group: &super::FileGroup<'_>) -> HashMap<std::path::PathBuf, FileRef> {
    let mut masked = HashMap::new();
    if group.secrets.is_empty() {
        return masked;
    }
    let shown = (group.findings.iter())
        .flat_map(|d| std::iter::once(&d.file).chain(d.labels.iter().map(|l| &l.file)));
    for file in shown {
        if masked.contains_key(&file.path) {
            continue;
        }
        let Some(spans) = group.secrets.get(&file.path) else {
            continue;
        };
        let mut bytes = file.text.clone().into_bytes();
        for &span in spans {
            let text = file.slice(span);
            let start = span.start as usize;
            // Same byte length, so every other span still points at the same place.
            for (i, _) in text.char_indices() {
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                for b in bytes.iter_mut().skip(start + i).take(len) {
                    *b = b'*';
                }
            }
        }
        let text = String::from_utf8(bytes).unwrap_or_default();
        let copy = SourceFile::new(file.path.clone(), file.display.clone(), text).into_ref();
        masked.insert(file.path.clone(), copy);
    }
    masked
}

impl Report {
    fn new(
        d: &Diagnostic,
        masked: &HashMap<std::path::PathBuf, FileRef>,
        views: &mut Views,
    ) -> Self {
        let shown = |f: &FileRef| masked.get(&f.path).cloned().unwrap_or_else(|| f.clone());
        let source = FileSource::new(shown(&d.file), views);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            None,
            source.span(d.span),
        )];
        let mut related = Vec::new();
        for l in &d.labels {
            if Arc::ptr_eq(&l.file, &d.file) || l.file.path == d.file.path {
                labels.push(LabeledSpan::new_with_span(
                    Some(line(&l.message).into_owned()),
                    source.span(l.span),
                ));
            } else {
                let other = FileSource::new(shown(&l.file), views);
                related.push(Related {
                    message: line(&l.message).into_owned(),
                    span: other.span(l.span),
                    source: other,
                });
            }
        }
        Report {
            severity: d.severity,
            source,
            code: format!("{} {}", d.rule.code, d.rule.name),
            message: line(&d.message).into_owned(),
            help: with_fix_note(d.help.as_deref().map(|h| line(h).into_owned()), &[d]),
            labels,
            related,
        }
    }

    /// One block for a service's hardening findings (`group` is not empty): the most severe
    /// level, each distinct span labelled once with the codes found there, and one line per
    /// finding (code, name, message, fix) in the help.
    fn group(
        group: &[&Diagnostic],
        masked: &HashMap<std::path::PathBuf, FileRef>,
        views: &mut Views,
    ) -> Self {
        let first = group[0];
        let mut report = Report::new(first, masked, views);
        report.severity = group
            .iter()
            .map(|d| d.severity)
            .max()
            .unwrap_or(first.severity);
        let service = first.service().unwrap_or_default();
        report.code = "hardening".to_string();
        report.message = format!(
            "service `{}` lacks {} protections",
            line(service),
            group.len()
        );
        let mut spans: Vec<(Span, Vec<&str>)> = Vec::new();
        for d in group {
            match spans.iter_mut().find(|(s, _)| *s == d.span) {
                Some((_, codes)) => codes.push(d.rule.code),
                None => spans.push((d.span, vec![d.rule.code])),
            }
        }
        // Each finding's own span is labelled with its codes; its secondary labels (causes, in
        // this file or another) are kept after them.
        let mut secondary = Vec::new();
        let mut related = Vec::new();
        for d in group {
            let member = Report::new(d, masked, views);
            secondary.extend(member.labels.into_iter().skip(1));
            related.extend(member.related);
        }
        report.labels = spans
            .iter()
            .enumerate()
            .map(|(i, (span, codes))| {
                let text = Some(codes.join(", "));
                let span = report.source.span(*span);
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, span)
                } else {
                    LabeledSpan::new_with_span(text, span)
                }
            })
            .chain(secondary)
            .collect();
        report.related = related;
        let mut help = String::new();
        for d in group {
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(&format!(
                "{} {} {}: {}",
                d.severity,
                d.rule.code,
                d.rule.name,
                line(&d.message)
            ));
            if let Some(h) = &d.help {
                help.push_str(&format!(" — {}", line(h)));
            }
        }
        report.help = with_fix_note(Some(help), group);
        report
    }
}

/// `help`, then `fix available (safe): sandlint check --fix` (or `(unsafe)`, with
/// `--unsafe-fixes`) when a finding of `group` has a fix; the rule codes are named when the
/// group has more than one finding.
fn with_fix_note(help: Option<String>, group: &[&Diagnostic]) -> Option<String> {
    use crate::fix::Applicability::{Safe, Unsafe};
    let mut notes: Vec<String> = Vec::new();
    for (kind, flags) in [(Safe, "--fix"), (Unsafe, "--fix --unsafe-fixes")] {
        let codes: Vec<&str> = (group.iter())
            .filter(|d| d.fix.as_ref().is_some_and(|f| f.applicability == kind))
            .map(|d| d.rule.code)
            .collect();
        if codes.is_empty() {
            continue;
        }
        let name = if kind == Safe { "safe" } else { "unsafe" };
        let codes = if group.len() > 1 {
            format!(" for {}", codes.join(", "))
        } else {
            String::new()
        };
        notes.push(format!(
            "fix available ({name}){codes}: sandlint check {flags}"
        ));
    }
    if notes.is_empty() {
        return help;
    }
    let notes = notes.join("\n");
    Some(match help {
        Some(h) => format!("{h}\n{notes}"),
        None => notes,
    })
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

impl fmt::Debug for Related {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for Related {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Related {}

impl miette::Diagnostic for Related {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(None, self.span),
        )))
    }
}
