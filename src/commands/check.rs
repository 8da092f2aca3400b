//! `sandlint check`: discover, lint in parallel, report.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cli::{CheckArgs, FailOn, KindArg};
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover::{self, Candidate, WalkError, io_message};
use crate::linter::{self, FileKind, FileResult, Selection};
use crate::report::{self, ReportCtx};
use crate::source::{SourceFile, display_path};
use crate::{ExitStatus, UsageError};

/// Largest file we read (Dockerfiles and Compose files are small; this bounds memory).
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

pub fn check(
    args: &CheckArgs,
    color: bool,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let selection = selection(&args.select, &args.ignore)?;

    let (paths, read_stdin): (Vec<PathBuf>, bool) = {
        let stdin_named = args.paths.iter().any(|p| p.as_os_str() == "-");
        (
            args.paths.iter().filter(|p| p.as_os_str() != "-").cloned().collect(),
            stdin_named,
        )
    };
    let (candidates, mut errors) = if paths.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        discover::discover(&paths, args.no_ignore)
    };

    let kind_arg = args.kind.map(|k| match k {
        KindArg::Dockerfile => FileKind::Dockerfile,
        KindArg::Compose => FileKind::Compose,
    });

    let outcomes: Vec<Result<FileResult, WalkError>> = candidates
        .par_iter()
        .map(|c| check_candidate(c, kind_arg, &selection))
        .collect();
    let mut results = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        match o {
            Ok(r) => results.push(r),
            Err(e) => errors.push(e),
        }
    }
    if read_stdin {
        match check_stdin(stdin, args.stdin_filename.as_deref(), kind_arg, &selection) {
            Ok(r) => results.push(r),
            Err(e) => errors.push(e),
        }
    }

    results.sort_by(|a, b| a.file.display.cmp(&b.file.display));
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    let mut diagnostics: Vec<Diagnostic> = results.iter().flat_map(|r| r.diagnostics.iter().cloned()).collect();
    linter::sort(&mut diagnostics);

    let cx = ReportCtx {
        files: results.iter().map(|r| r.file.clone()).collect(),
        errors,
        color: color && args.output.is_none(),
        quiet: args.quiet,
        width: terminal_width(),
    };
    // Paths that could not be read go to stderr (like ripgrep); the report still counts them.
    for e in &cx.errors {
        let _ = writeln!(stderr, "error: {}: {}", display_path(&e.path), e.message);
    }
    let mut emitter = report::emitter(args.format);
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| UsageError::new(format!("cannot write {}: {}", path.display(), io_message(&e))))?;
            let mut w = io::BufWriter::new(file);
            emitter
                .emit(&mut w, &diagnostics, &cx)
                .and_then(|()| w.flush())
                .map_err(|e| UsageError::new(format!("cannot write {}: {}", path.display(), io_message(&e))))?;
        }
        None => {
            let mut w = io::BufWriter::new(stdout);
            let written = emitter.emit(&mut w, &diagnostics, &cx).and_then(|()| w.flush());
            match written {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitStatus::Success),
                Err(e) => return Err(UsageError::new(format!("cannot write output: {}", io_message(&e)))),
            }
        }
    }

    if !cx.errors.is_empty() {
        return Ok(ExitStatus::Error);
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    let failed = threshold.is_some_and(|t| diagnostics.iter().any(|d| d.severity >= t));
    Ok(if failed { ExitStatus::Failure } else { ExitStatus::Success })
}

/// Builds the rule selection; unknown names are usage errors with a suggestion.
pub fn selection(select: &[String], ignore: &[String]) -> Result<Selection, UsageError> {
    let resolve = |names: &[String]| -> Result<Vec<&'static str>, UsageError> {
        names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .map(|n| {
                crate::rules::find(n).map(|r| r.meta().code).ok_or_else(|| {
                    let hint = crate::docs::suggest(n)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    UsageError::new(format!("unknown rule `{n}`{hint}; `sandlint rules` lists them"))
                })
            })
            .collect()
    };
    let only = resolve(select)?;
    Ok(Selection {
        only: if only.is_empty() { None } else { Some(only) },
        ignore: resolve(ignore)?,
    })
}

fn read_text(path: &Path) -> Result<String, WalkError> {
    let err = |message: String| WalkError {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(io_message(&e)))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(err(format!("file is larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024))));
    }
    let bytes = std::fs::read(path).map_err(|e| err(io_message(&e)))?;
    Ok(decode(bytes))
}

/// UTF-8 text; invalid sequences become U+FFFD so that the file is still checked.
fn decode(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn check_candidate(c: &Candidate, kind_arg: Option<FileKind>, selection: &Selection) -> Result<FileResult, WalkError> {
    let text = read_text(&c.path)?;
    let kind = c
        .kind
        .or_else(|| discover::kind_from_content(&text))
        .or(kind_arg)
        .ok_or_else(|| WalkError {
            path: c.path.clone(),
            message: "cannot tell whether this is a Dockerfile or a Compose file; pass --kind dockerfile|compose"
                .to_string(),
        })?;
    let file = SourceFile::new(c.path.clone(), display_path(&c.path), text).into_ref();
    Ok(linter::lint_file(file, kind, selection))
}

fn check_stdin(
    stdin: &mut dyn Read,
    name: Option<&str>,
    kind_arg: Option<FileKind>,
    selection: &Selection,
) -> Result<FileResult, WalkError> {
    let display = name.unwrap_or("-");
    let mut bytes = Vec::new();
    stdin.read_to_end(&mut bytes).map_err(|e| WalkError {
        path: PathBuf::from(display),
        message: format!("cannot read standard input: {}", io_message(&e)),
    })?;
    let text = decode(bytes);
    let kind = kind_arg
        .or_else(|| name.and_then(|n| discover::kind_from_name(Path::new(n))))
        .or_else(|| discover::kind_from_content(&text))
        .ok_or_else(|| WalkError {
            path: PathBuf::from(display),
            message: "cannot tell whether standard input is a Dockerfile or a Compose file; pass --kind or --stdin-filename"
                .to_string(),
        })?;
    // The Compose project directory of stdin is the directory of --stdin-filename (or `.`).
    let file = SourceFile::new(PathBuf::from(display), display_path(Path::new(display)), text).into_ref();
    Ok(linter::lint_file(file, kind, selection))
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w: &usize| w >= 40)
        .unwrap_or(100)
}
