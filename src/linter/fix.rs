//! The autofix engine's pure half and its writer: from the findings of one check, the new text
//! of each file (one round), and the atomic write of a file inside the project.
//!
//! A round takes the fixes of the findings that are not suppressed, whose applicability the run
//! allows, once each (a YAML anchor shared by several services gives the same fix several
//! times), in position order, and accepts a fix when none of its edits overlaps an edit already
//! accepted in its file: the rest waits for the next round, after a re-check (as ruff does).
//! A fix with an edit in a file that cannot be written is not applied at all. Linear in the
//! edits (a sorted map of the accepted ranges) and the texts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Fix, apply_edits};
use crate::fsread::Boundary;
use crate::source::FileRef;

/// How many rounds `--fix` runs at most: each round re-checks every file.
pub const MAX_ROUNDS: usize = 8;

/// One file's change in a round.
#[derive(Debug, Clone)]
pub struct FileChange {
    /// The file as the check read it.
    pub file: FileRef,
    pub new_text: String,
    /// The messages of the fixes applied to it, in position order, each after the service or
    /// stage of its finding (`service `web`: set …`) when it has one.
    pub fixes: Vec<String>,
}

/// What a round would do.
#[derive(Debug, Default)]
pub struct Round {
    pub changes: Vec<FileChange>,
    /// Fixes accepted (a fix with edits in two files counts once).
    pub applied: usize,
    /// Fixes left for a later round (they overlap an accepted one).
    pub deferred: usize,
}

/// Whether the run applies fixes of this applicability (`--fix`: safe; `--unsafe-fixes`: all).
pub fn allowed(fix: &Fix, unsafe_fixes: bool) -> bool {
    fix.applicability == Applicability::Safe || unsafe_fixes
}

type EditKey = (PathBuf, u32, u32, String);

/// Plans one round over `findings` (see the module docs). `writable` says whether a file may be
/// written (inside the project, a regular file, valid UTF-8).
pub fn plan<'a>(
    findings: impl IntoIterator<Item = &'a Diagnostic>,
    unsafe_fixes: bool,
    writable: &dyn Fn(&FileRef) -> bool,
) -> Round {
    let mut seen: HashSet<Vec<EditKey>> = HashSet::new();
    let mut fixes: Vec<&Fix> = Vec::new();
    let mut whose: HashMap<usize, String> = HashMap::new();
    for d in findings {
        let Some(fix) = d.fix.as_deref() else {
            continue;
        };
        if d.suppression.is_some() || !allowed(fix, unsafe_fixes) || fix.edits.is_empty() {
            continue;
        }
        let key: Vec<EditKey> = (fix.edits.iter())
            .map(|e| {
                let path = e.file.path.clone();
                (path, e.span.start, e.span.end, e.replacement.clone())
            })
            .collect();
        if seen.insert(key) {
            fixes.push(fix);
            let scope = (d.service().map(|s| format!("service `{s}`")))
                .or_else(|| d.stage().map(|s| format!("stage `{s}`")));
            if let Some(scope) = scope {
                whose.insert(std::ptr::from_ref(fix) as usize, scope);
            }
        }
    }
    fixes.sort_by(|a, b| {
        let k = |f: &Fix| {
            f.edits
                .first()
                .map(|e| (e.file.path.clone(), e.span.start, e.span.end))
        };
        k(a).cmp(&k(b))
    });
    let mut round = Round::default();
    let mut files: HashMap<PathBuf, PerFile<'_>> = HashMap::new();
    let mut order: Vec<PathBuf> = Vec::new();
    // the reads of a file known to hold the text its first fix was planned on
    let mut same: HashSet<(PathBuf, usize)> = HashSet::new();
    let mut counter = 0usize;
    for fix in fixes {
        let ok = fix.edits.iter().all(|e| {
            writable(&e.file)
                && files.get(&e.file.path).is_none_or(|pf| {
                    let key = (
                        e.file.path.clone(),
                        std::sync::Arc::as_ptr(&e.file) as usize,
                    );
                    let same_text = same.contains(&key) || {
                        let eq = pf.file.text == e.file.text;
                        if eq {
                            same.insert(key);
                        }
                        eq
                    };
                    same_text && !overlaps(&pf.accepted, e.span.start, e.span.end)
                })
        });
        // edits of one fix must not overlap each other either
        let mut own: BTreeMap<(u32, u32, usize), ()> = BTreeMap::new();
        let self_ok = fix.edits.iter().enumerate().all(|(i, e)| {
            let fine = !overlaps(&own, e.span.start, e.span.end);
            own.insert((e.span.start, e.span.end, i), ());
            fine
        });
        if !ok || !self_ok {
            round.deferred += 1;
            continue;
        }
        round.applied += 1;
        for e in &fix.edits {
            let pf = files.entry(e.file.path.clone()).or_insert_with(|| {
                order.push(e.file.path.clone());
                same.insert((
                    e.file.path.clone(),
                    std::sync::Arc::as_ptr(&e.file) as usize,
                ));
                PerFile {
                    file: e.file.clone(),
                    accepted: BTreeMap::new(),
                    fixes: Vec::new(),
                    has: HashSet::new(),
                }
            });
            counter += 1;
            pf.accepted.insert((e.span.start, e.span.end, counter), ());
            if pf.has.insert(std::ptr::from_ref(fix) as usize) {
                pf.fixes.push(fix);
            }
        }
    }
    round.changes = file_changes(order, files, &whose);
    round
}

/// The new text of each file the accepted fixes touch, in the order they were first touched.
fn file_changes(
    order: Vec<PathBuf>,
    mut files: HashMap<PathBuf, PerFile<'_>>,
    whose: &HashMap<usize, String>,
) -> Vec<FileChange> {
    let mut changes = Vec::new();
    for path in order {
        let Some(PerFile {
            file,
            fixes: applied,
            ..
        }) = files.remove(&path)
        else {
            continue;
        };
        let edits = (applied.iter())
            .flat_map(|f| f.edits.iter())
            .filter(|e| e.file.path == path)
            .map(|e| (e.span, e.replacement.as_str()));
        let Ok(new_text) = apply_edits(&file.text, edits) else {
            continue;
        };
        if new_text == file.text {
            continue;
        }
        changes.push(FileChange {
            file,
            new_text,
            fixes: (applied.iter())
                .map(|f| match whose.get(&(std::ptr::from_ref(*f) as usize)) {
                    Some(scope) => format!("{scope}: {}", f.message),
                    None => f.message.to_string(),
                })
                .collect(),
        });
    }
    changes
}

/// A file's part of a round: the text the fixes were planned on, the accepted ranges and the
/// fixes with an edit in it.
struct PerFile<'a> {
    file: FileRef,
    accepted: BTreeMap<(u32, u32, usize), ()>,
    fixes: Vec<&'a Fix>,
    has: HashSet<usize>,
}

/// Whether `start..end` overlaps an accepted range (inserts at the edge of a range do not).
fn overlaps(accepted: &BTreeMap<(u32, u32, usize), ()>, start: u32, end: u32) -> bool {
    // a range that starts before `start` and ends after it
    if let Some(((_, e, _), ())) = accepted.range(..(start, 0, 0)).next_back()
        && *e > start
    {
        return true;
    }
    // one that starts inside (an insert at `start` itself is fine)
    if end > start
        && accepted
            .range((start, start + 1, 0)..(end, 0, 0))
            .next()
            .is_some()
    {
        return true;
    }
    // a non-empty range starting at `start` while this one is an insert inside it is covered
    // above; an insert at the start of a non-empty accepted range is fine
    false
}

/// Whether the engine may write `file`: it has a path inside `boundaries` (as written and with
/// symbolic links resolved), is a regular file and not a symbolic link, and was valid UTF-8.
pub fn writable(file: &FileRef, boundaries: &[Boundary]) -> bool {
    if file.invalid_utf8.is_some() {
        return false;
    }
    let Ok(meta) = std::fs::symlink_metadata(&file.path) else {
        return false;
    };
    if !meta.file_type().is_file() {
        return false;
    }
    boundaries.iter().any(|b| b.resolve(&file.path).is_ok())
}

/// Writes `change` atomically: a temporary file beside it (same permissions), then a rename.
/// Refused when the file changed since the check read it.
pub fn write(change: &FileChange) -> Result<(), String> {
    let path: &Path = &change.file.path;
    let shown = &change.file.display;
    let now = crate::fsread::read(path, None)
        .map_err(|e| format!("cannot read {shown}: {}", e.describe()))?;
    if now.text != change.file.text {
        return Err(format!(
            "{shown} changed while sandlint checked it; not fixed"
        ));
    }
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot write {shown}: {e}"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fail =
        |e: std::io::Error| format!("cannot write {shown}: {}", crate::source::io_message(&e));
    let mut tmp = tempfile::Builder::new()
        .prefix(".sandlint-fix-")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(change.new_text.as_bytes()).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// A unified diff of one change (`--diff`), paths as displayed.
pub fn unified_diff(change: &FileChange) -> String {
    // File names and contents are the scanned project's: escaped (see `escape::diff_text`), so
    // that neither a name with a line break nor a control character in the text forges lines.
    let (old, new) = (
        crate::escape::diff_text(&change.file.text),
        crate::escape::diff_text(&change.new_text),
    );
    let diff = similar::TextDiff::configure()
        .timeout(std::time::Duration::from_secs(2))
        .diff_lines(old.as_ref(), new.as_ref());
    let shown = crate::escape::line(&change.file.display);
    diff.unified_diff()
        .context_radius(3)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Edit;
    use crate::source::{SourceFile, Span};

    fn finding(file: &FileRef, fix: Fix) -> Diagnostic {
        let mut d = Diagnostic::new(
            crate::docs::MISSING_NO_NEW_PRIVILEGES,
            file.clone(),
            Span::at(0),
            "m",
        );
        d.fix(fix);
        d
    }

    fn edit(file: &FileRef, s: u32, e: u32, r: &str) -> Edit {
        Edit {
            file: file.clone(),
            span: Span::new(s, e),
            replacement: r.into(),
        }
    }

    #[test]
    fn overlapping_fixes_wait_and_duplicates_apply_once() {
        let f = SourceFile::new("/x/a.yaml", "a.yaml", "abcdef".into()).into_ref();
        let ds = vec![
            finding(&f, Fix::safe("one", vec![edit(&f, 1, 3, "X")])),
            finding(&f, Fix::safe("two", vec![edit(&f, 2, 4, "Y")])),
            finding(&f, Fix::safe("one again", vec![edit(&f, 1, 3, "X")])),
            finding(&f, Fix::safe("insert", vec![edit(&f, 3, 3, "+")])),
            finding(&f, Fix::unsafe_("risky", vec![edit(&f, 5, 6, "Z")])),
        ];
        let r = plan(&ds, false, &|_| true);
        assert_eq!((r.applied, r.deferred), (2, 1));
        assert_eq!(r.changes[0].new_text, "aX+def");
        let r = plan(&ds, true, &|_| true);
        assert_eq!(r.changes[0].new_text, "aX+deZ");
        let r = plan(&ds, true, &|_| false);
        assert!(r.changes.is_empty());
        let mut suppressed = ds[0].clone();
        suppressed.suppression = Some(Box::new(crate::diagnostic::Suppression {
            kind: crate::diagnostic::SuppressionKind::InSource,
            reason: None,
        }));
        assert!(plan([&suppressed], true, &|_| true).changes.is_empty());
    }

    #[test]
    fn overlap_rules() {
        let mut acc = BTreeMap::new();
        acc.insert((5, 10, 0), ());
        acc.insert((12, 12, 1), ());
        assert!(overlaps(&acc, 6, 6));
        assert!(overlaps(&acc, 9, 11));
        assert!(overlaps(&acc, 0, 6));
        assert!(overlaps(&acc, 11, 13));
        assert!(!overlaps(&acc, 10, 10));
        assert!(!overlaps(&acc, 5, 5));
        assert!(!overlaps(&acc, 10, 12));
        assert!(!overlaps(&acc, 12, 12));
        assert!(!overlaps(&acc, 0, 5));
    }

    #[test]
    fn writes_atomically_keeping_permissions_and_refuses_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("compose.yaml");
        std::fs::write(&p, "a\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let file = SourceFile::new(p.clone(), "compose.yaml", "a\n".into()).into_ref();
        let b = [Boundary::around(dir.path())];
        assert!(writable(&file, &b));
        let change = FileChange {
            file: file.clone(),
            new_text: "b\n".into(),
            fixes: vec![],
        };
        write(&change).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "b\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // changed since read
        assert!(write(&change).is_err());
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        let l = SourceFile::new(link, "link.yaml", "b\n".into()).into_ref();
        assert!(!writable(&l, &b));
        let outside = tempfile::tempdir().unwrap();
        let q = outside.path().join("c.yaml");
        std::fs::write(&q, "a\n").unwrap();
        let o = SourceFile::new(q, "c.yaml", "a\n".into()).into_ref();
        assert!(!writable(&o, &b));
    }
}
