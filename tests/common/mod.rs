//! Shared helpers for integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers"
)]

pub mod invariants;

use std::path::{Path, PathBuf};
use std::process::Output;

use sandlint::diagnostic::Diagnostic;
use sandlint::discover;
use sandlint::linter::{self, FileResult, Selection};
use sandlint::report::OutputFormat;
use sandlint::report::{self, ReportCtx};
use sandlint::source::{SourceFile, display_path};

/// Lints every Dockerfile/Compose file found under `dir` (discovery included) with `selection`.
/// A `.sandlint.toml` (or `sandlint.toml`) in `dir` applies, as the CLI would find it.
pub fn lint_dir(dir: &Path, selection: &Selection) -> (Vec<FileResult>, Vec<Diagnostic>) {
    let (candidates, errors) = discover::discover(&[dir.to_path_buf()], true);
    assert!(errors.is_empty(), "walk errors: {errors:?}");
    let config = sandlint::config::CONFIG_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .map(|p| sandlint::config::Config::load(&p).unwrap())
        .unwrap_or_default();
    let mut results = Vec::new();
    for c in candidates {
        // Default override files are checked with their base file, as the CLI does.
        if sandlint::workspace::is_override_of_existing_base(&c.path) {
            continue;
        }
        let text = std::fs::read_to_string(&c.path).unwrap();
        let kind = c.kind.unwrap();
        let file = SourceFile::new(c.path.clone(), display_path(&c.path), text).into_ref();
        let mut opts = linter::LintOptions::new(selection.clone());
        opts.config = &config;
        results.push(linter::lint_file_with(file, kind, &opts));
    }
    let mut all: Vec<Diagnostic> = results
        .iter()
        .flat_map(|r| r.diagnostics.iter().cloned())
        .collect();
    linter::sort(&mut all);
    (results, all)
}

/// Concise lines and the full (no color, width 100) rendering.
pub fn render(results: &[FileResult], diagnostics: &[Diagnostic]) -> String {
    let cx = ReportCtx {
        files: results.iter().map(|r| r.file.clone()).collect(),
        errors: Vec::new(),
        skipped: Vec::new(),
        color: false,
        quiet: true,
        width: 100,
        statistics: false,
    };
    format!(
        "{}\n{}",
        report::render(OutputFormat::Concise, diagnostics, &cx),
        report::render(OutputFormat::Full, diagnostics, &cx)
    )
}

/// Sorted subdirectories of `dir`.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `../shared` (the corpus and specs), or `None` with a loud message; panics when
/// `SANDLINT_REQUIRE_SHARED=1`.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    skip_or_fail(
        "SANDLINT_REQUIRE_SHARED",
        "corpus/spec tests",
        &format!("{} does not exist", dir.display()),
    );
    None
}

/// The files of one kind (`dockerfile` or `compose`) listed in `../shared/corpus/MANIFEST.tsv`
/// (columns: repo, commit, path, kind, bytes, sha256; a file lives at
/// `<repo with / as __>/<path>`), or `None` when `../shared` is absent (see [`shared_dir`]).
/// A listed file that is missing fails the test.
pub fn corpus_files(kind: &str) -> Option<Vec<PathBuf>> {
    let corpus = shared_dir()?.join("corpus");
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [repo, _commit, path, k, ..] = cols[..] else {
            continue;
        };
        if k == kind {
            let file = corpus.join(repo.replace('/', "__")).join(path);
            assert!(
                file.is_file(),
                "corpus file listed but missing: {}",
                file.display()
            );
            out.push(file);
        }
    }
    assert!(!out.is_empty(), "no `{kind}` file in the corpus manifest");
    Some(out)
}

/// A process's output as text (invalid UTF-8 replaced).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit code, stdout and stderr, for snapshots and failure messages.
pub fn transcript(o: &Output) -> String {
    format!(
        "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        o.status.code().unwrap_or(-1),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// Characters that mean something to one of the parsers (mutation and property tests insert
/// them into otherwise well-formed text).
pub const SPECIAL: &[&str] = &[
    "\n", "\\", "\\\n", "`", "\"", "'", "$", "${", "{", "}", "[", "]", ":", ": ", "- ", "&a ",
    "*a", "<<", "<<EOF\n", "#", "# ", "\t", " ", "|", "|-\n", ">", "=", "--", "&&", ";", "(", ")",
    "!", "!reset ", "!!str ", "%", ",", "?", "\r", "\u{feff}", "é", "\u{0}",
];

/// A small seeded generator (xorshift64*): the same seed gives the same cases, so a failure
/// reproduces from the seed it prints.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// A generator seeded with `seed` (0, which xorshift cannot leave, becomes 1).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// A `u64` knob from the environment (`SANDLINT_MUTATION_ROUNDS=2000`), if set and numeric.
pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The message a caught panic carried.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_default()
}

/// A test that cannot run here because `what` is missing: panics when the environment variable
/// `require` is `1` (CI sets every `SANDLINT_REQUIRE_*`), otherwise says so where a person sees
/// it. `cargo test` captures a passing test's stderr, so the line also goes to the controlling
/// terminal (`/dev/tty`) when there is one, and is appended to `target/test-skips.log`, which a
/// script or CI job can read afterwards. Returns so the caller can `return` from the test.
pub fn skip_or_fail(require: &str, test: &str, what: &str) {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-skips.log");
    skip_or_fail_to(&log, require, test, what);
}

/// [`skip_or_fail`] with the log file named.
pub fn skip_or_fail_to(log: &Path, require: &str, test: &str, what: &str) {
    if std::env::var(require).is_ok_and(|v| v == "1") {
        panic!("{require}=1 but {what}");
    }
    let line = format!("*** SKIPPED {test}: {what} (set {require}=1 to make this a failure) ***");
    eprintln!("\n{line}\n");
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        use std::io::Write;
        let _ = writeln!(tty, "{line}");
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        use std::io::Write;
        let _ = writeln!(f, "{line}");
    }
}
