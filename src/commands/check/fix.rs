//! `check --fix`, `--unsafe-fixes`, `--diff`, `--fix-only` and `sandlint harden`: the rounds of
//! fixes over a check's plan (the engine's pure half is [`crate::linter::fix`]).

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::PathBuf;

use super::{Plan, Sink, check_once, read_baseline, run_batch};
use crate::baseline::Baseline;
use crate::cli::CheckArgs;
use crate::diagnostic::Secrets;
use crate::error::{ExitStatus, UsageError};
use crate::fsread::Boundary;
use crate::linter::stream::Group;
use crate::source::io_message;

/// `sandlint harden FILE…`: `check --fix --unsafe-fixes --preset sandbox`, then what changed,
/// what to check about the changes, and the findings that still need a human.
pub fn harden(
    args: &crate::cli::HardenArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, UsageError> {
    let args = args.check_args().map_err(UsageError::new)?;
    let plan = Plan::new(&args)?;
    let fixed = autofix(&plan, &args, stdout, stderr)?;
    let out = |stdout: &mut dyn Write, s: String| {
        writeln!(stdout, "{}", crate::escape::line(&s))
            .map_err(|e| UsageError::new(format!("cannot write output: {e}")))
    };
    if fixed.applied.is_empty() {
        out(stdout, "nothing changed: no fix applies".to_string())?;
    }
    let mut last = String::new();
    for (file, message) in &fixed.applied {
        if *file != last {
            out(stdout, format!("changed {file}:"))?;
            last.clone_from(file);
        }
        out(stdout, format!("  - {message}"))?;
    }
    let mut checks: Vec<&str> = Vec::new();
    for (_, message) in &fixed.applied {
        if let Some((_, note)) = HARDEN_NOTES.iter().find(|(k, _)| message.contains(k))
            && !checks.contains(note)
        {
            checks.push(note);
        }
    }
    if !checks.is_empty() {
        out(
            stdout,
            "check these changes before you ship them:".to_string(),
        )?;
        for note in checks {
            out(stdout, format!("  - {note}"))?;
        }
    }
    out(stdout, "still needs a human:".to_string())?;
    let mut empty = io::empty();
    let status = check_once(&plan, &args, false, &mut empty, stdout, stderr)?;
    let _ = writeln!(stderr, "{}", fixed.summary());
    Ok(status)
}

/// What a human must check after a kind of fix (matched on the fix's message).
const HARDEN_NOTES: &[(&str, &str)] = &[
    (
        "read_only",
        "the root filesystem is now read-only with a tmpfs at /tmp: check that the app writes nowhere else (give each such path a volume or a tmpfs)",
    ),
    (
        "user:",
        "the service now runs as 10001:10001: check that it can read its files and write its volumes as that user",
    ),
    (
        "limit",
        "memory, CPU and process limits were set to starting values (512m, 1.0, 200): measure the service (`docker stats`) and adjust",
    ),
    (
        "cap_drop",
        "all capabilities are dropped: an entrypoint that changes users or file owners needs some back (`cap_add`)",
    ),
    (
        "privileged",
        "`privileged` is off: add back only the devices and capabilities the service needs",
    ),
    (
        "read-only (`:ro`)",
        "bind mounts are read-only: a service that writes to them needs a named volume there",
    ),
    (
        "127.0.0.1",
        "ports are bound to 127.0.0.1: clients on other hosts can no longer connect",
    ),
    (
        "network_mode",
        "the service's network changed (host network removed, or no network at all): check what it must reach",
    ),
];

/// What `--fix` did (see [`autofix`]).
pub(super) struct Fixed {
    /// Fixes applied (or, with `--diff`, that would be).
    pub(super) fixed: usize,
    files: usize,
    /// Findings left after the last round (not suppressed).
    remaining: usize,
    diff: bool,
    /// Each fix applied: the file (as displayed) and the fix's message, in order.
    applied: Vec<(String, String)>,
}

impl Fixed {
    pub(super) fn summary(&self) -> String {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        if self.diff {
            format!(
                "{} fix{} would change {} file{}",
                self.fixed,
                if self.fixed == 1 { "" } else { "es" },
                self.files,
                s(self.files)
            )
        } else {
            format!(
                "{} fixed, {} remaining ({} file{} changed)",
                self.fixed,
                self.remaining,
                self.files,
                s(self.files)
            )
        }
    }
}

/// `--fix`/`--unsafe-fixes`/`--diff`/`--fix-only`: checks, applies one round of fixes (see
/// [`linter::fix::plan`]), checks again, up to [`linter::fix::MAX_ROUNDS`] rounds or until no
/// fix applies. Only files inside the boundary of a checked root (its git work tree or
/// directory; `--allow-outside` widens what is read, never what is written) are written.
/// `--diff` runs the same rounds on the new texts in memory (see [`crate::fsread::overlay`]),
/// writes nothing, and prints each file's whole change (before the first round, after the last)
/// as a unified diff.
pub(super) fn autofix(
    plan: &Plan,
    args: &CheckArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Fixed, UsageError> {
    use crate::linter::fix;
    if plan.read_stdin {
        return Err(UsageError::new(
            "--fix, --diff and --fix-only edit files in place; they cannot fix standard input (`-`)",
        ));
    }
    let baseline = read_baseline(&args.results)?;
    let mut roots: Vec<PathBuf> = (plan.compose_files.iter().map(|(c, ..)| c.root.clone()))
        .chain(plan.other_files.iter().map(|(c, _)| c.root.clone()))
        .chain(args.file.iter().cloned())
        .collect();
    roots.sort();
    roots.dedup();
    let boundaries: Vec<Boundary> = roots.iter().map(|r| Boundary::around(r)).collect();
    let writable = |f: &crate::source::FileRef| fix::writable(f, &boundaries);
    let mut done = Fixed {
        fixed: 0,
        files: 0,
        remaining: 0,
        diff: args.fix.diff,
        applied: Vec::new(),
    };
    let mut changed: HashSet<PathBuf> = HashSet::new();
    // `--diff`: each file's text before the first round, and after the last.
    let mut diffs: Vec<fix::FileChange> = Vec::new();
    let _overlay = args.fix.diff.then_some(Overlay);
    let mut settled = false;
    for _ in 0..fix::MAX_ROUNDS {
        let findings = collect(plan, args, baseline.as_ref())?;
        let round = fix::plan(&findings, args.fix.unsafe_fixes, &writable);
        if round.changes.is_empty() {
            done.remaining = findings.iter().filter(|d| d.suppression.is_none()).count();
            settled = true;
            break;
        }
        if args.fix.diff {
            // Nothing is written: the next round reads the new texts from the overlay.
            for c in round.changes {
                if !crate::fsread::overlay(&c.file.path, c.new_text.clone()) {
                    return Err(UsageError::new(format!(
                        "cannot show the fixes of {}: the file changed while sandlint checked it",
                        c.file.display
                    )));
                }
                match diffs.iter_mut().find(|d| d.file.path == c.file.path) {
                    Some(first) => {
                        first.new_text = c.new_text;
                        first.fixes.extend(c.fixes);
                    }
                    None => diffs.push(c),
                }
            }
            done.fixed += round.applied;
            continue;
        }
        for c in &round.changes {
            fix::write(c).map_err(UsageError::new)?;
            changed.insert(c.file.path.clone());
            (done.applied).extend(c.fixes.iter().map(|m| (c.file.display.clone(), m.clone())));
        }
        done.fixed += round.applied;
    }
    if args.fix.diff {
        for c in &diffs {
            write!(stdout, "{}", fix::unified_diff(c))
                .map_err(|e| UsageError::new(format!("cannot write output: {e}")))?;
        }
        done.files = diffs.len();
        if done.fixed > 0 {
            let _ = writeln!(stderr, "{}", done.summary());
        }
        return Ok(done);
    }
    if !settled {
        let findings = collect(plan, args, baseline.as_ref())?;
        done.remaining = findings.iter().filter(|d| d.suppression.is_none()).count();
    }
    done.files = changed.len();
    Ok(done)
}

/// `--diff`'s texts in memory, cleared on every way out of [`autofix`].
struct Overlay;

impl Drop for Overlay {
    fn drop(&mut self) {
        crate::fsread::clear_overlay();
    }
}

/// Every finding of the plan's files (the baseline applied), for a round of fixes.
fn collect(
    plan: &Plan,
    args: &CheckArgs,
    baseline: Option<&Baseline>,
) -> Result<Vec<crate::diagnostic::Diagnostic>, UsageError> {
    let mut sink = Sink::new(&args.results, None, baseline, false);
    let mut all = Vec::new();
    let mut emit = |mut g: Group, _: &Secrets| -> io::Result<()> {
        sink.take(&mut g);
        all.extend(g.findings);
        Ok(())
    };
    run_batch(plan, args, Vec::new(), &mut emit)?
        .map_err(|e| UsageError::new(format!("cannot check: {}", io_message(&e))))?;
    Ok(all)
}
