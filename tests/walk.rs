//! The walk (`discover`) against the `ignore` crate's walker, which it replaced: on crafted
//! trees, on generated ones, and on the corpus, the files found must be the same. The oracle
//! is the walker as sandlint configured it before (standard filters, hidden files walked, no
//! links followed, no git repository needed, `.git` skipped). Where sandlint now differs on
//! purpose (no ignore file above the git work tree is read), a test says so.
#![allow(clippy::unwrap_used, clippy::panic, reason = "integration tests")]

mod common;

use std::path::{Path, PathBuf};

use sandlint::discover::{DiscoverOptions, classify_name, discover_with};

/// The files sandlint's walk finds under `dirs` (templates included).
fn walked(dirs: &[PathBuf], no_ignore: bool) -> (Vec<PathBuf>, Vec<String>) {
    let d = discover_with(
        dirs,
        DiscoverOptions {
            no_ignore,
            include_templates: true,
        },
    );
    let mut found: Vec<PathBuf> = d.candidates.into_iter().map(|c| c.path).collect();
    found.sort();
    found.dedup();
    let errors = d.errors.iter().map(ToString::to_string).collect();
    (found, errors)
}

/// The files the `ignore` crate's walker finds under `dirs`, with a Docker name, and its errors.
fn oracle(dirs: &[PathBuf], no_ignore: bool) -> (Vec<PathBuf>, Vec<String>) {
    let mut builder = ignore::WalkBuilder::new(&dirs[0]);
    for d in &dirs[1..] {
        builder.add(d);
    }
    builder
        .standard_filters(!no_ignore)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git");
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for entry in builder.build() {
        match entry {
            Ok(e) => {
                if e.depth() > 0
                    && e.file_type().is_some_and(|t| !t.is_dir())
                    && classify_name(e.path()).is_some()
                {
                    found.push(e.into_path());
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    found.sort();
    found.dedup();
    (found, errors)
}

/// Every tree the tests walk, made once before the first walk: the run cache (enabled as in the
/// binary) remembers each directory as first listed, so no tree may be made after a walk.
fn fixture() -> &'static Path {
    static TREES: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TREES.get_or_init(|| {
        // A static is never dropped: the trees of earlier runs (whose process is gone) are
        // removed here instead, so at most this run's are left in the temporary directory.
        let tmp = std::env::temp_dir();
        for e in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("sandlint-walk-")
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let root = tmp.join(format!("sandlint-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        crafted(&root.join("crafted"));
        invalid(&root.join("invalid"));
        for seed in SEEDS {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            grow(&mut rng, &root.join(format!("gen/{seed}")), "", 0);
        }
        above(&root.join("above"));
        sandlint::fsread::enable_run_cache();
        root
    })
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn write_all(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        write(root, rel, text);
    }
}

fn agree(dirs: &[PathBuf], no_ignore: bool, what: &str) -> usize {
    let (ours, _) = walked(dirs, no_ignore);
    let (theirs, _) = oracle(dirs, no_ignore);
    assert_eq!(ours, theirs, "{what}: the walks differ");
    ours.len()
}

fn crafted(root: &Path) {
    for rel in [
        "Dockerfile",
        "Dockerfile.dev",
        "api.Dockerfile",
        "compose.yaml",
        "build/Dockerfile",
        "build/keep/Dockerfile",
        "a/build",
        "a/build.Dockerfile",
        "a/b/deep/compose.yaml",
        "a/b/deep/x/Dockerfile",
        "sub/Dockerfile",
        "sub/Dockerfile.dev",
        "sub/inner/Dockerfile",
        "top/Dockerfile",
        "x/top/Dockerfile",
        ".hidden/Dockerfile",
        ".devcontainer/devcontainer.json",
        "node_modules/pkg/Dockerfile",
        "nested/Dockerfile.dev",
        "nested/repo/Dockerfile.dev",
        "nested/repo/compose.yaml",
        "wl/Dockerfile.dev",
        "Dockerfile.j2",
        "notes.txt",
    ] {
        write(root, rel, "FROM scratch\n");
    }
    write(
        root,
        ".gitignore",
        "# build output\nbuild/\n!build/keep/\n*.dev\n/top/\n**/deep/**\nsub/*\n!sub/Dockerfile\nnode_modules\n\\#literal\n",
    );
    // `.ignore` wins over `.gitignore`: whitelisting what the latter ignores
    write(root, "wl/.ignore", "!Dockerfile.dev\n");
    // a nested `.gitignore` whitelists what its parent ignores
    write(root, "nested/.gitignore", "!Dockerfile.dev\n");
    // a nested repository: its own exclude file, its parents' `.gitignore` still apply
    write(root, "nested/repo/.git/info/exclude", "compose.yaml\n");
    write(root, "nested/repo/.git/HEAD", "ref: refs/heads/main\n");
    write(root, ".git/info/exclude", "a/build\n");
    write(root, ".git/HEAD", "ref: refs/heads/main\n");
    // a submodule's `.git` is a file pointing elsewhere
    write(root, "sm/.git", "gitdir: ../.git/modules/sm\n");
    write(root, "sm/Dockerfile", "FROM scratch\n");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("notes.txt", root.join("link.Dockerfile")).unwrap();
        std::os::unix::fs::symlink("a", root.join("dirlink")).unwrap();
    }
}

#[test]
fn agrees_with_the_ignore_crate_on_a_crafted_tree() {
    let root = &fixture().join("crafted");
    let dirs = [root.to_path_buf()];
    let n = agree(&dirs, false, "crafted tree");
    assert!(n >= 10, "too few files found: {n}");
    let all = agree(&dirs, true, "crafted tree, --no-ignore");
    assert!(all > n, "--no-ignore finds no more: {all} vs {n}");
    // a subdirectory of the work tree: the ignore files above it apply
    agree(&[root.join("a")], false, "crafted tree from a/");
    agree(&[root.join("sub")], false, "crafted tree from sub/");
    // overlapping roots
    agree(
        &[root.join("sub"), root.to_path_buf()],
        false,
        "overlapping roots",
    );

    let (ours, _) = walked(&dirs, false);
    let rel: Vec<String> = ours
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    insta::assert_snapshot!("crafted_tree", rel.join("\n"));
}

fn invalid(root: &Path) {
    write_all(
        root,
        &[
            ("Dockerfile", "FROM scratch\n"),
            ("s/Dockerfile", "FROM scratch\n"),
            ("s/.gitignore", "{unclosed\nDockerfile\n"),
        ],
    );
}

#[test]
fn a_pattern_the_glob_parser_rejects_is_left_out_as_before() {
    // git reads `{` literally; globset rejects the line. The `ignore` walker left it out and
    // applied the file's other lines, raising nothing (the error only rode on the directory's
    // entry, which sandlint never read): the walk does the same.
    let root = &fixture().join("invalid");
    let dirs = [root.to_path_buf()];
    let (ours, our_errors) = walked(&dirs, false);
    let (theirs, their_errors) = oracle(&dirs, false);
    assert_eq!(ours, theirs);
    assert_eq!(ours, [root.join("Dockerfile")]);
    assert_eq!(our_errors, Vec::<String>::new());
    assert_eq!(their_errors, Vec::<String>::new());
}

/// A small deterministic generator (xorshift), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
    fn chance(&mut self, in_100: u64) -> bool {
        self.next() % 100 < in_100
    }
}

const DIRS: &[&str] = &[
    "a",
    "b",
    "build",
    "sub",
    "deep",
    "x",
    ".hidden",
    "node_modules",
    "keep",
    "c",
];
const FILES: &[&str] = &[
    "Dockerfile",
    "Dockerfile.dev",
    "api.Dockerfile",
    "compose.yaml",
    "docker-compose.yml",
    "compose.override.yaml",
    "Containerfile",
    "Dockerfile-x",
    "notes.txt",
    "build",
    "x",
];
const PATTERNS: &[&str] = &[
    "build/",
    "/a",
    "*.dev",
    "Dockerfile",
    "!Dockerfile",
    "**/deep/**",
    "sub/*",
    "!sub/Dockerfile",
    "compose*.yaml",
    "!keep/",
    "x",
    "/x/",
    "a/**/Dockerfile",
    "*.yml",
    "!docker-compose.yml",
    "deep",
    "Dockerfile-*",
    "#comment",
    "",
    "node_modules/",
    ".hidden",
    "b/c/",
    "**/compose.override.yaml",
    "!**/a/Dockerfile",
    "!*",
    "*",
    "!b/",
    "/Containerfile",
    "c/**",
    "[Dd]ockerfile",
    "!x/",
];

/// A random tree under `root`: directories to depth 3, files with Docker names and others,
/// ignore files with random patterns, sometimes a `.git` (with `info/exclude`) at the top or
/// below it.
fn grow(rng: &mut Rng, root: &Path, rel: &str, depth: usize) {
    if depth == 0 {
        std::fs::create_dir_all(root).unwrap();
    }
    let dir = root.join(rel);
    std::fs::create_dir_all(&dir).unwrap();
    for _ in 0..(rng.next() % 4) {
        let f = rng.pick(FILES);
        if !dir.join(f).exists() {
            std::fs::write(dir.join(f), "FROM scratch\n").unwrap();
        }
    }
    for (name, odds) in [(".gitignore", 35), (".ignore", 15)] {
        if rng.chance(odds) {
            let lines: Vec<&str> = (0..1 + rng.next() % 4)
                .map(|_| rng.pick(PATTERNS))
                .collect();
            std::fs::write(dir.join(name), lines.join("\n") + "\n").unwrap();
        }
    }
    if (depth == 0 && rng.chance(50)) || rng.chance(5) {
        let lines: Vec<&str> = (0..1 + rng.next() % 2)
            .map(|_| rng.pick(PATTERNS))
            .collect();
        write(&dir, ".git/info/exclude", &(lines.join("\n") + "\n"));
    }
    if depth < 3 {
        for _ in 0..(rng.next() % 4) {
            let d = rng.pick(DIRS);
            let child = if rel.is_empty() {
                d.to_string()
            } else {
                format!("{rel}/{d}")
            };
            if !root.join(&child).is_file() {
                grow(rng, root, &child, depth + 1);
            }
        }
    }
}

const SEEDS: std::ops::RangeInclusive<u64> = 1..=150;

#[test]
fn agrees_with_the_ignore_crate_on_generated_trees() {
    let mut found = 0;
    for seed in SEEDS {
        let root = &fixture().join(format!("gen/{seed}"));
        found += agree(&[root.to_path_buf()], false, &format!("seed {seed}"));
        // from a subdirectory, inside a work tree (the ignore files above apply to both)
        if root.join(".git").is_dir() {
            let sub = std::fs::read_dir(root)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                // a directory with its own `.git` is the root of its work tree: nothing above it
                // is read (the `ignore` crate reads every directory above)
                .filter(|p| p.is_dir() && !p.ends_with(".git") && !p.join(".git").exists())
                .min();
            if let Some(sub) = sub {
                agree(&[sub], false, &format!("seed {seed}, a subdirectory"));
            }
        }
    }
    assert!(found > 300, "the generated trees found too little: {found}");
}

#[test]
fn agrees_with_the_ignore_crate_on_the_corpus() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let corpus = [shared.join("corpus")];
    let n = agree(&corpus, false, "corpus");
    assert!(n > 4_000, "{n}");
}

fn above(root: &Path) {
    write_all(
        root,
        &[
            ("nogit/.gitignore", "Dockerfile\n"),
            ("nogit/p/Dockerfile", "FROM scratch\n"),
            ("w/.git/HEAD", "ref: refs/heads/main\n"),
            ("w/.gitignore", "Dockerfile\n"),
            ("w/q/Dockerfile", "FROM scratch\n"),
            ("w/q/compose.yaml", "services: {}\n"),
        ],
    );
}

#[test]
fn no_ignore_file_above_the_work_tree_is_read() {
    // not a git work tree: the `.gitignore` above the scanned directory is outside the project
    let root = &fixture().join("above/nogit");
    let (ours, errors) = walked(&[root.join("p")], false);
    assert_eq!(ours, [root.join("p/Dockerfile")]);
    assert_eq!(errors, Vec::<String>::new());
    // the `ignore` crate read it (and before this walk sandlint refused the directory)
    assert_eq!(oracle(&[root.join("p")], false).0, Vec::<PathBuf>::new());

    // inside a work tree, the `.gitignore`s up to its root apply
    let root = &fixture().join("above");
    let (ours, errors) = walked(&[root.join("w/q")], false);
    assert_eq!(ours, [root.join("w/q/compose.yaml")]);
    assert_eq!(errors, Vec::<String>::new());
}
