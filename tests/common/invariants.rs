//! What every lint result must satisfy whatever the input: the properties the mutation and
//! property tests and the fuzz targets (`fuzz/`, which includes this file by path) assert.
//!
//! - every span of a finding (primary, labels, secrets) lies inside the file it points into and
//!   on character boundaries;
//! - every span of a parsed model (Dockerfile, Compose file) does too ([`model_spans`]);
//! - no panic of the YAML crate got through to a finding;
//! - rendering in every format works, the JSON formats are valid JSON, line formats have one
//!   line per finding, and no secret value a finding marks reaches any output;
//! - no raw control character (ESC, CR, …) from a scanned file reaches an output — asserted for
//!   every format only when [`HUMAN_OUTPUT_ESCAPED`] is set.
#![allow(dead_code, reason = "each user takes part of it")]

use sandlint::diagnostic::Diagnostic;
use sandlint::linter::FileResult;
use sandlint::report::OutputFormat;
use sandlint::report::{self, ReportCtx};
use sandlint::source::{FileRef, Span};

/// Every output format.
pub const ALL_FORMATS: [OutputFormat; 8] = [
    OutputFormat::Full,
    OutputFormat::Concise,
    OutputFormat::Json,
    OutputFormat::Sarif,
    OutputFormat::Github,
    OutputFormat::Gitlab,
    OutputFormat::Junit,
    OutputFormat::Checkstyle,
];

/// Fails to compile when a format is added and [`ALL_FORMATS`] does not list it yet.
const fn _all_formats_listed(f: OutputFormat) {
    match f {
        OutputFormat::Full
        | OutputFormat::Concise
        | OutputFormat::Json
        | OutputFormat::Sarif
        | OutputFormat::Github
        | OutputFormat::Gitlab
        | OutputFormat::Junit
        | OutputFormat::Checkstyle => {}
    }
}

/// Whether control characters and newlines from scanned files are escaped in the human and
/// line-based formats (full, concise, github, gitlab, junit, checkstyle) — issue 9, defect 8.
/// Until that fix lands only the JSON formats (escaped by serde) are checked for raw control
/// characters and concise lines are not counted; flip this to `true` when it lands.
pub const HUMAN_OUTPUT_ESCAPED: bool = true;

/// Whether syntax-error findings (`SLE001`, `SLE002`) keep secret values out of their messages.
/// They quote source text (`unterminated quote in `ENV` value …`), and every message is masked
/// with the values other findings mark secret (`linter::post::mask_secrets_in_messages`):
/// on since stop 28, when 4,000 generated cases per seed (seeds 7, 11, 12345, 99) showed no
/// secret in any message; the two leaks the generators had reported were their own mistakes (a
/// `HOME` value counted as a secret, a second `escape` directive taken as the one in force).
pub const SYNTAX_ERRORS_MASK_SECRETS: bool = true;

/// Formats whose output already never carries a raw C0 control character from a scanned file
/// (serde escapes them).
pub const ESCAPED_FORMATS: [OutputFormat; 3] = [
    OutputFormat::Json,
    OutputFormat::Sarif,
    OutputFormat::Gitlab,
];

/// `span` lies inside `text`, on character boundaries.
pub fn span_in_text(text: &str, span: Span) -> Result<(), String> {
    let (s, e) = (span.start as usize, span.end as usize);
    if s > e || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
        return Err(format!(
            "span {s}..{e} (file {}) outside the {}-byte text or not on a char boundary",
            span.file,
            text.len()
        ));
    }
    Ok(())
}

fn span_in(file: &FileRef, span: Span, what: &str, d: &Diagnostic) -> Result<(), String> {
    span_in_text(&file.text, span).map_err(|e| {
        format!(
            "{} {what} in {}: {e} ({})",
            d.rule.code, file.display, d.message
        )
    })
}

/// The finding invariants: spans inside their files, no caught YAML-crate panic, a message.
pub fn check_diagnostics(diagnostics: &[Diagnostic]) -> Result<(), String> {
    for d in diagnostics {
        if d.message.contains("the YAML parser failed") {
            return Err(format!(
                "the YAML crate panicked (caught by the loader): {}",
                d.message
            ));
        }
        if d.message.is_empty() {
            return Err(format!("{}: empty message", d.rule.code));
        }
        span_in(&d.file, d.span, "span", d)?;
        for l in &d.labels {
            span_in(&l.file, l.span, "label", d)?;
        }
        for (f, s) in &d.secrets {
            span_in(f, *s, "secret", d)?;
        }
    }
    Ok(())
}

/// Every `Span { start, end, file }` in `debug` (the `{:?}` of a parsed model) lies inside
/// `texts[file]` on character boundaries. Reading the spans off the `Debug` text covers every
/// node of the model, present and future, without a visitor; text inside quoted strings is
/// skipped, so a span spelt inside a scanned value is not mistaken for one.
pub fn model_spans(debug: &str, texts: &[&str]) -> Result<usize, String> {
    const OPEN: &str = "Span { start: ";
    let bytes = debug.as_bytes();
    let mut i = 0;
    let mut checked = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                // a `Debug` string or char: skip to its closing quote
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'S' if debug[i..].starts_with(OPEN) => {
                let rest = &debug[i + OPEN.len()..];
                let end = rest.find('}').ok_or("unterminated Span in Debug output")?;
                let fields = &rest[..end];
                let num = |name: &str| -> Result<usize, String> {
                    let at = fields
                        .find(name)
                        .ok_or_else(|| format!("no `{name}` in `Span {{ start: {fields}`"))?;
                    let digits: String = fields[at + name.len()..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    digits.parse().map_err(|e| format!("`{name}`: {e}"))
                };
                let (start, end_, file) = (num("")?, num("end: ")?, num("file: ")?);
                let text = texts.get(file).ok_or_else(|| {
                    format!("span {start}..{end_} in file {file} of {}", texts.len())
                })?;
                let span = Span {
                    start: u32::try_from(start).map_err(|e| e.to_string())?,
                    end: u32::try_from(end_).map_err(|e| e.to_string())?,
                    file: u16::try_from(file).map_err(|e| e.to_string())?,
                };
                span_in_text(text, span).map_err(|e| format!("model {e}"))?;
                checked += 1;
                i += OPEN.len() + end;
            }
            _ => i += 1,
        }
    }
    Ok(checked)
}

/// The report context of one result (no color, quiet, width 100).
pub fn report_ctx(result: &FileResult) -> ReportCtx {
    let mut files = vec![result.file.clone()];
    files.extend(result.extra_files.iter().cloned());
    ReportCtx {
        files,
        errors: Vec::new(),
        skipped: Vec::new(),
        statistics: false,
        color: false,
        quiet: true,
        width: 100,
    }
}

/// A control character that must not reach a human or line-based output raw: everything below
/// U+0020 except newline and tab (the formats' own line structure), DEL and the C1 controls
/// (U+0080–U+009F; `U+009B` is CSI to a terminal that reads C1).
pub fn is_dangerous_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// A C0 control character other than newline: what JSON must escape (RFC 8259 leaves DEL and
/// C1 raw, which is valid JSON for machines; the JSON formats are not for terminals).
pub fn is_raw_c0(c: char) -> bool {
    c < ' ' && c != '\n'
}

/// Renders `diagnostics` in `formats` and checks the output invariants.
/// the findings point into (to tell which secret values are unique to their span).
pub fn check_rendering(
    diagnostics: &[Diagnostic],
    cx: &ReportCtx,
    formats: &[OutputFormat],
) -> Result<(), String> {
    // Secret values that appear exactly once in their file: only that span shows them, so they
    // must not appear anywhere in any output.
    let mut secrets: Vec<&str> = Vec::new();
    for d in report::reported(diagnostics) {
        for (f, s) in &d.secrets {
            let value = f.slice(*s);
            if value.len() >= 6 && f.text.matches(value).count() == 1 {
                secrets.push(value);
            }
        }
    }
    // ...unless a rule's documentation, which SARIF embeds, happens to spell them (`changeme`),
    // or (until fixed) a syntax-error finding quotes the raw value
    let excused = |secret: &str| {
        sandlint::rules::ALL
            .iter()
            .any(|r| r.meta().doc.contains(secret))
            || (!SYNTAX_ERRORS_MASK_SECRETS
                && report::reported(diagnostics)
                    .any(|d| d.rule.code.starts_with("SLE") && d.message.contains(secret)))
    };
    // One line per result: findings of one rule at one location (a YAML anchor merged into
    // several services) are one result.
    let reported = report::reported(&report::merge_locations(diagnostics)).count();
    for &format in formats {
        let out = report::render(format, diagnostics, cx);
        if let Some(secret) = secrets.iter().find(|s| out.contains(**s) && !excused(s)) {
            return Err(format!(
                "{format:?} output shows the secret value {secret:?}"
            ));
        }
        if matches!(
            format,
            OutputFormat::Json | OutputFormat::Sarif | OutputFormat::Gitlab
        ) && let Err(e) = serde_json::from_str::<serde_json::Value>(&out)
        {
            return Err(format!("{format:?} output is not JSON: {e}"));
        }
        let line_format = match format {
            OutputFormat::Github => true,
            OutputFormat::Concise => HUMAN_OUTPUT_ESCAPED,
            _ => false,
        };
        if line_format && out.lines().count() != reported {
            return Err(format!(
                "{format:?}: {} lines for {reported} findings (a newline split a line)\n{out}",
                out.lines().count()
            ));
        }
        let bad = if ESCAPED_FORMATS.contains(&format) {
            out.chars().find(|&c| is_raw_c0(c))
        } else if HUMAN_OUTPUT_ESCAPED {
            out.chars().find(|&c| is_dangerous_control(c))
        } else {
            None
        };
        if let Some(c) = bad {
            return Err(format!(
                "{format:?} output carries the raw control character {c:?}"
            ));
        }
    }
    Ok(())
}

/// Renders the full format in color, with the summary line and a narrow width: no panic (its
/// output legitimately holds ESC sequences, so nothing else is checked).
pub fn render_colored(diagnostics: &[Diagnostic], cx: &ReportCtx) {
    let colored = ReportCtx {
        files: cx.files.clone(),
        errors: Vec::new(),
        skipped: Vec::new(),
        statistics: false,
        color: true,
        quiet: false,
        width: 20,
    };
    let _ = report::render(OutputFormat::Full, diagnostics, &colored);
}

/// All the invariants of one lint result, rendered in `formats`.
pub fn check_result(result: &FileResult, formats: &[OutputFormat]) -> Result<(), String> {
    check_diagnostics(&result.diagnostics)?;
    check_rendering(&result.diagnostics, &report_ctx(result), formats)
}
