//! The walk of the scanned directories, in parallel: each directory is listed once, and that
//! listing is the run cache's ([`crate::fsread::for_each_entry`]), which the later probes for
//! `.env`, override and config files answer from. Ignore files are matched with
//! `ignore::gitignore`, in the order the `ignore` crate's walker uses (which this replaces:
//! it lists every directory itself, so each was listed twice, and it matches every entry,
//! where only directories and files with a Docker name matter here).
//!
//! For an entry, each kind of ignore file is asked from the entry's directory up to the scanned
//! one, then above it up to the root of its git work tree; the nearest file whose patterns
//! match decides that kind (its last matching pattern: ignored, or whitelisted by `!`). The
//! kinds then decide in the order `.ignore`, `.gitignore`, `.git/info/exclude`, git's global
//! excludes: the first that matched. As with `ignore`'s `require_git(false)`, a nested
//! repository does not stop the `.gitignore`s above it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::{Candidate, Names, WalkError, classify_name, unsafe_ignore_files};

/// The ignore files of one directory that has any, and those of the nearest directory above it
/// that has any (`parent`).
struct Level {
    ignore: Gitignore,
    git: Gitignore,
    exclude: Gitignore,
    parent: Option<Arc<Level>>,
}

impl Level {
    /// Whether `abs` (an absolute path below every level's directory) is ignored.
    fn ignores(level: Option<&Level>, global: &Gitignore, abs: &Path, is_dir: bool) -> bool {
        let (mut ignore, mut git, mut exclude) = (Match::None, Match::None, Match::None);
        let mut at = level;
        while let Some(l) = at {
            if ignore.is_none() {
                ignore = l.ignore.matched(abs, is_dir);
            }
            if git.is_none() {
                git = l.git.matched(abs, is_dir);
            }
            if exclude.is_none() {
                exclude = l.exclude.matched(abs, is_dir);
            }
            at = l.parent.as_deref();
        }
        (ignore.or(git).or(exclude))
            .or(global.matched(abs, is_dir))
            .is_ignore()
    }
}

/// Which ignore files a directory's listing shows.
#[derive(Default, Clone, Copy)]
struct Marks {
    ignore: bool,
    gitignore: bool,
    /// `.git`, and whether it is a directory (a `.git` file, a linked work tree's or a
    /// submodule's, points elsewhere: its `info/exclude` is not read).
    git: Option<bool>,
}

impl Marks {
    /// Notes the entry `name` of type `t` of the directory.
    fn see(&mut self, name: &OsStr, t: std::fs::FileType) {
        if name == OsStr::new(".git") {
            self.git = Some(t.is_dir() || t.is_symlink());
        } else if name == OsStr::new(".ignore") {
            self.ignore = true;
        } else if name == OsStr::new(".gitignore") {
            self.gitignore = true;
        }
    }

    fn any(self) -> bool {
        self.ignore || self.gitignore || self.git.is_some()
    }
}

/// The matcher of the ignore file `file`, matching below `root`. A line the glob parser
/// rejects is left out and the others apply, with no error: git takes such lines (it reads `{`
/// literally, globset as a group), and the `ignore` walker left them out the same way (its
/// error rode on the directory's entry, which was never read).
fn matcher(root: &Path, file: &Path) -> Gitignore {
    let mut builder = GitignoreBuilder::new(root);
    let _ = builder.add(file);
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// The level of the directory `abs` (absolute: the matchers' root), which has ignore files.
fn level(abs: &Path, marks: Marks, parent: Option<Arc<Level>>) -> Arc<Level> {
    let read = |on: bool, name: &str| {
        if on {
            matcher(abs, &abs.join(name))
        } else {
            Gitignore::empty()
        }
    };
    Arc::new(Level {
        ignore: read(marks.ignore, ".ignore"),
        git: read(marks.gitignore, ".gitignore"),
        exclude: read(marks.git == Some(true), ".git/info/exclude"),
        parent,
    })
}

/// The ignore files of `dir` (absolute), from the run's listing of it (none when it cannot be
/// listed).
fn marks_of(dir: &Path) -> Marks {
    let mut marks = Marks::default();
    let _ = crate::fsread::for_each_entry(dir, &mut |name, t| marks.see(name, t));
    marks
}

/// The directories a task keeps to itself before it hands half of them to another.
const SPLIT_AT: usize = 2;

/// The walk's shared state.
struct Walk<'a> {
    roots: &'a [PathBuf],
    no_ignore: bool,
    global: Gitignore,
    names: &'a Names,
    found: Mutex<Vec<(Candidate, bool)>>,
    failed: Mutex<Vec<WalkError>>,
}

/// One directory to walk: as spelled (what candidates are named by) and absolute, plain (the
/// run cache's key: no normalizing per lookup).
struct Todo {
    dir: PathBuf,
    abs: PathBuf,
    depth: usize,
    level: Option<Arc<Level>>,
}

/// Walks `dirs` in parallel: the candidates found below them (each with the deepest of `dirs`
/// it is under as its root, and whether it is a symbolic link), and the paths that could not
/// be walked (in no order). `.git` is never entered; with `no_ignore`, no ignore file is read.
pub(super) fn walk(
    dirs: &[PathBuf],
    no_ignore: bool,
    names: &Names,
) -> (Vec<(Candidate, bool)>, Vec<WalkError>) {
    if dirs.is_empty() {
        // files named alone (the pre-commit path): no git config read for global excludes
        return (Vec::new(), Vec::new());
    }
    let walk = Walk {
        roots: dirs,
        no_ignore,
        // git's `core.excludesFile` (or `$XDG_CONFIG_HOME/git/ignore`), relative to the working
        // directory; its errors are not reported, as the `ignore` crate does not report them
        global: if no_ignore {
            Gitignore::empty()
        } else {
            Gitignore::global().0
        },
        names,
        found: Mutex::new(Vec::new()),
        failed: Mutex::new(Vec::new()),
    };
    rayon::scope(|s| {
        for dir in dirs {
            let walk = &walk;
            s.spawn(move |s| {
                let abs = crate::fsread::listing_key(dir);
                let level = if no_ignore { None } else { walk.above(&abs) };
                let root = Todo {
                    dir: dir.clone(),
                    abs,
                    depth: 0,
                    level,
                };
                walk.run(s, vec![root]);
            });
        }
    });
    let found = walk.found.into_inner().unwrap_or_default();
    let failed = walk.failed.into_inner().unwrap_or_default();
    (found, failed)
}

impl Walk<'_> {
    /// The ignore files above a scanned directory (`abs`), up to the root of its git work tree
    /// (none when it is in no work tree: those are outside the project). Their safety was
    /// checked before the walk (`unsafe_ignore_files` with `parents`).
    fn above(&self, abs: &Path) -> Option<Arc<Level>> {
        let top = crate::fsread::git_root(abs)?;
        let mut chain: Vec<&Path> = abs
            .ancestors()
            .skip(1)
            .take_while(|d| d.starts_with(&*top))
            .collect();
        chain.reverse();
        let mut level = None;
        for d in chain {
            let marks = marks_of(d);
            if marks.any() {
                level = Some(self::level(d, marks, level));
            }
        }
        level
    }

    /// Walks the directories of `stack` and those below them, handing half of what is left
    /// to another task when it grows (a task per directory would wake a sleeping thread per
    /// directory: a `futex` call each).
    fn run<'s>(&'s self, s: &rayon::Scope<'s>, mut stack: Vec<Todo>) {
        while let Some(todo) = stack.pop() {
            self.dir(todo, &mut stack);
            if stack.len() > SPLIT_AT {
                let half = stack.split_off(stack.len() / 2);
                s.spawn(move |s| self.run(s, half));
            }
        }
    }

    /// Walks one directory: its candidates to `found`, its directories to walk to `stack`.
    fn dir(&self, todo: Todo, stack: &mut Vec<Todo>) {
        let mut subdirs: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut files: Vec<(PathBuf, PathBuf, bool)> = Vec::new();
        let mut marks = Marks::default();
        let listed = crate::fsread::for_each_entry(&todo.abs, &mut |name, t| {
            marks.see(name, t);
            if name == OsStr::new(".git") {
                // never entered
            } else if t.is_dir() {
                subdirs.push((todo.dir.join(name), todo.abs.join(name)));
            } else if worth_a_look(name) {
                files.push((todo.dir.join(name), todo.abs.join(name), t.is_symlink()));
            }
        });
        if let Err(e) = listed {
            if let Ok(mut f) = self.failed.lock() {
                f.push(WalkError::Walk {
                    path: todo.dir,
                    message: crate::source::io_message(&e),
                });
            }
            return;
        }
        let mut level = todo.level;
        if !self.no_ignore && marks.any() {
            // A directory below a scanned one whose ignore file cannot be read safely is not
            // walked (a scanned one was checked before the walk, with the directories above it).
            if todo.depth > 0
                && let Some(err) = unsafe_ignore_files(&todo.dir, false)
            {
                if let Ok(mut f) = self.failed.lock() {
                    f.push(err);
                }
                return;
            }
            level = Some(self::level(&todo.abs, marks, level));
        }
        let ignores = |abs: &Path, is_dir: bool| {
            !self.no_ignore && Level::ignores(level.as_deref(), &self.global, abs, is_dir)
        };
        for (path, abs, link) in files {
            if ignores(&abs, false) {
                continue;
            }
            let root = self
                .roots
                .iter()
                .filter(|r| path.starts_with(r))
                .max_by_key(|r| r.as_os_str().len())
                .cloned()
                .unwrap_or_default();
            if let Some(c) = self.names.candidate(path, root, false)
                && let Ok(mut f) = self.found.lock()
            {
                f.push((c, link));
            }
        }
        for (dir, abs) in subdirs {
            if ignores(&abs, true) {
                continue;
            }
            stack.push(Todo {
                dir,
                abs,
                depth: todo.depth + 1,
                level: level.clone(),
            });
        }
    }
}

/// Whether a file of this name may be a candidate (`Names::candidate` decides, on the whole
/// path): a Docker or Compose name, or a `devcontainer.json` (which depends on its directory).
fn worth_a_look(name: &OsStr) -> bool {
    name == OsStr::new("devcontainer.json") || classify_name(Path::new(name)).is_some()
}
