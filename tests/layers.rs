//! The house has floors (issue 11): every `crate::…` path under `src/` must point at a module on
//! a lower floor of the table in `src/lib.rs`'s module docs (or at its own module), no cycle may
//! join files of different folders, no function is over 120 lines and no file over 1,000 lines
//! (the parsers excepted). The table is read from `src/lib.rs`, so the picture in words and the
//! rule the build enforces are one text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FUNCTION_LINES: usize = 120;
const MAX_FILE_LINES: usize = 1000;
/// Hand-written parsers: one long grammar reads best in one file.
const LONG_FILES_ALLOWED: &[&str] = &[
    "src/dockerfile/parser.rs",
    "src/dockerfile/shell.rs",
    "src/compose/yaml.rs",
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, as paths relative to the crate root (`src/a/b.rs`).
fn source_files() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&src_dir(), &mut files);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    names.sort();
    names
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The top-level module a file belongs to: `src/rules/compose/x.rs` → `rules`; `src/lib.rs` and
/// `src/main.rs` → `lib`. Files under `src/` that are `include!`d templates are not modules.
fn module_of(rel: &str) -> String {
    let inner = rel.strip_prefix("src/").unwrap();
    let first = inner.split('/').next().unwrap();
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => "lib".to_string(),
        Some(m) => m.to_string(),
        None => first.to_string(),
    }
}

/// The floor table of `src/lib.rs`: lines `//! | N | `a`, `b` | … |`.
fn floors() -> BTreeMap<String, u32> {
    let lib = read("src/lib.rs");
    let mut out = BTreeMap::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! |") else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Ok(floor) = cells[0].parse::<u32>() else {
            continue;
        };
        for m in cells[1].split(',') {
            let m = m.trim().trim_matches('`');
            assert!(
                out.insert(m.to_string(), floor).is_none(),
                "module `{m}` is listed twice in the floor table of src/lib.rs"
            );
        }
    }
    assert!(!out.is_empty(), "src/lib.rs has no floor table");
    out
}

/// `text` without comments, string literals and `#[cfg(test)]` modules (tests may reach across
/// floors to build their fixtures; shipped code may not).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            let indent = line.len() - t.len();
            let next_is_mod = lines.peek().is_some_and(|n| {
                let n = n.trim_start();
                ["mod ", "pub mod ", "pub(crate) mod ", "pub(super) mod "]
                    .iter()
                    .any(|p| n.starts_with(p))
            });
            if next_is_mod {
                // skip to the closing brace at the same indentation
                for l in lines.by_ref() {
                    if l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}') {
                        break;
                    }
                }
                continue;
            }
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(&strip_strings(line));
        out.push('\n');
    }
    out
}

/// Blanks out `"…"` literals (escapes honoured) and a trailing `//` comment of one line.
fn strip_strings(line: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_str = false;
                    out.push('"');
                }
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
            out.push('"');
        } else if c == '/' && chars.peek() == Some(&'/') {
            break;
        } else if c == '\'' {
            // a char literal like '"' must not open a string
            let rest: String = chars.clone().take(3).collect();
            if rest.starts_with("\"'") || rest.starts_with("\\\"'") {
                for _ in 0..rest.find('\'').map_or(0, |i| i + 1) {
                    chars.next();
                }
                out.push_str("' '");
            } else {
                out.push(c);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `crate::a::b…` path in `code`, with `use crate::{a::x, b::{c, d}}` groups expanded
/// (at most three segments: enough to find the file).
fn crate_paths(code: &str) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(pos) = code[i..].find("crate::") {
        let at = i + pos;
        i = at + "crate::".len();
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue; // `$crate::` or `sandlint_crate::`
        }
        expand(&code[i..], &mut Vec::new(), &mut out);
    }
    out
}

/// Reads one path or `{…}` group at the start of `s`, below `prefix`, into `out`; returns the
/// bytes it consumed.
fn expand(s: &str, prefix: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) -> usize {
    let depth = prefix.len();
    let mut at = 0;
    let mut grouped = false;
    loop {
        let rest = &s[at..];
        if rest.starts_with('{') {
            grouped = true;
            at += 1;
            loop {
                let item = &s[at..];
                let t = item.trim_start();
                at += item.len() - t.len();
                if t.is_empty() {
                    break;
                }
                if t.starts_with('}') {
                    at += 1;
                    break;
                }
                at += expand(t, prefix, out);
                let after = &s[at..];
                let t = after.trim_start();
                at += after.len() - t.len();
                if t.starts_with(',') {
                    at += 1;
                }
            }
            break;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        if &rest[..end] != "self" {
            prefix.push(rest[..end].to_string());
        }
        at += end;
        match s[at..].strip_prefix("::") {
            Some(r) if r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '{') => {
                at += 2;
            }
            _ => break,
        }
    }
    if !grouped {
        let mut p = prefix.clone();
        p.truncate(3);
        if !p.is_empty() {
            out.insert(p);
        }
    }
    prefix.truncate(depth);
    at
}

/// The file a `crate::` path lands in: the longest prefix that names a file.
fn file_of(segs: &[String], files: &BTreeSet<String>) -> Option<String> {
    for n in (1..=segs.len()).rev() {
        let base = format!("src/{}", segs[..n].join("/"));
        for cand in [format!("{base}.rs"), format!("{base}/mod.rs")] {
            if files.contains(&cand) {
                return Some(cand);
            }
        }
    }
    files
        .contains("src/lib.rs")
        .then(|| "src/lib.rs".to_string())
}

/// Whether `rel` is a test-only module: its `mod` line in the parent is under `#[cfg(test)]`
/// (test helpers may reach the engine to build fixtures; shipped code may not).
fn is_test_only(rel: &str) -> bool {
    let path = Path::new(rel);
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let dir = path.parent().unwrap();
    let (name, parent_dir) = if stem == "mod" {
        (
            dir.file_name().unwrap().to_string_lossy().into_owned(),
            dir.parent().unwrap(),
        )
    } else {
        (stem, dir)
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let parents = if parent_dir == Path::new("src") {
        vec![parent_dir.join("lib.rs")]
    } else {
        vec![parent_dir.join("mod.rs"), parent_dir.with_extension("rs")]
    };
    parents.iter().any(|p| {
        let Ok(text) = std::fs::read_to_string(root.join(p)) else {
            return false;
        };
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        lines.windows(2).any(|w| {
            w[0] == "#[cfg(test)]"
                && [format!("mod {name};"), format!("pub(crate) mod {name};")]
                    .contains(&w[1].to_string())
        })
    })
}

#[test]
fn imports_follow_the_floor_table() {
    let floors = floors();
    let files = source_files();
    let mut violations = Vec::new();
    for rel in files.iter().filter(|f| !is_test_only(f)) {
        let from = module_of(rel);
        let Some(&floor) = floors.get(&from) else {
            violations.push(format!("{rel}: module `{from}` is not in the floor table"));
            continue;
        };
        for segs in crate_paths(&code_only(&read(rel))) {
            // `crate::error::ExitStatus`: an item of lib.rs, the top floor.
            let to = if segs[0].starts_with(|c: char| c.is_ascii_uppercase()) {
                "lib"
            } else {
                segs[0].as_str()
            };
            if to == from {
                continue;
            }
            match floors.get(to) {
                None => violations.push(format!(
                    "{rel}: `crate::{}` names module `{to}`, which is not in the floor table",
                    segs.join("::")
                )),
                Some(&t) if t >= floor => violations.push(format!(
                    "{rel} (`{from}`, floor {floor}) imports `crate::{}` (`{to}`, floor {t})",
                    segs.join("::")
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports that break the floors of src/lib.rs:\n  {}",
        violations.join("\n  ")
    );
}

/// Strongly connected components of the file graph (Tarjan, iterative enough for ~200 files).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(edges) = s.graph.get(v) {
            for w in edges {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn folder(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

#[test]
fn no_cycle_joins_files_of_different_folders() {
    let files = source_files();
    let set: BTreeSet<String> = files.iter().cloned().collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rel in &files {
        let mut edges = BTreeSet::new();
        for segs in crate_paths(&code_only(&read(rel))) {
            if let Some(to) = file_of(&segs, &set)
                && to != *rel
            {
                edges.insert(to);
            }
        }
        graph.insert(rel.clone(), edges);
    }
    let bad: Vec<String> = cycles(&graph)
        .into_iter()
        .filter(|c| c.iter().any(|f| folder(f) != folder(&c[0])))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        bad.is_empty(),
        "files of different folders import each other in a loop:\n  {}",
        bad.join("\n  ")
    );
}

/// `(lines, name, first line)` of every `fn` with a body in `text` (rustfmt layout: the body
/// ends at the first `}` line at the indentation of the `fn` line).
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let mut rest = t;
        // `pub(in crate::sandbox) fn` too (missed before: two functions had grown past the limit)
        if let Some(r) = rest.strip_prefix("pub(in ")
            && let Some((_, after)) = r.split_once(") ")
        {
            rest = after;
        }
        for prefix in [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        let Some(sig) = rest.strip_prefix("fn ") else {
            continue;
        };
        if line.trim_end().ends_with(';') {
            continue;
        }
        let name: String = sig
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // a body on the signature's line (`fn check(&self) {}`) ends there
        if line.contains('{') && line.trim_end().ends_with('}') {
            out.push((1, name, i + 1));
            continue;
        }
        let end = lines[i + 1..]
            .iter()
            .position(|l| {
                l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}')
            })
            .map_or(lines.len(), |p| i + 1 + p);
        out.push((end - i + 1, name, i + 1));
    }
    out
}

#[test]
fn functions_and_files_stay_small() {
    let mut problems = Vec::new();
    for rel in source_files() {
        let text = read(&rel);
        let n = text.lines().count();
        if n > MAX_FILE_LINES && !LONG_FILES_ALLOWED.contains(&rel.as_str()) {
            problems.push(format!("{rel}: {n} lines (at most {MAX_FILE_LINES})"));
        }
        for (len, name, line) in functions(&text) {
            if len > MAX_FUNCTION_LINES {
                problems.push(format!(
                    "{rel}:{line}: fn {name} is {len} lines (at most {MAX_FUNCTION_LINES})"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "too large:\n  {}",
        problems.join("\n  ")
    );
}

/// The checker itself: it must see the paths a violation is made of.
#[test]
fn the_path_reader_sees_every_form() {
    let code = code_only(
        "use crate::linter::{self, FileKind};\nuse crate::{a::b, c};\nfn f() { crate::rules::clip(\"crate::fake\", 1); }\n// crate::comment\n#[cfg(test)]\nmod tests {\n    use crate::cli;\n}\n",
    );
    let paths: Vec<String> = crate_paths(&code)
        .into_iter()
        .map(|s| s.join("::"))
        .collect();
    assert_eq!(
        paths,
        ["a::b", "c", "linter", "linter::FileKind", "rules::clip"]
    );
    let nested: Vec<String> = crate_paths("use crate::compose::{self, model::{A, B}, keys};")
        .into_iter()
        .map(|s| s.join("::"))
        .collect();
    assert_eq!(
        nested,
        [
            "compose",
            "compose::keys",
            "compose::model::A",
            "compose::model::B"
        ]
    );
    let f = functions("fn a() {\n    x;\n}\n    pub fn b(&self) {\n    }\n    fn c() {}\n}\n");
    assert_eq!(
        f,
        [
            (3, "a".to_string(), 1),
            (2, "b".to_string(), 4),
            (1, "c".to_string(), 6)
        ]
    );
}

/// Only `cli.rs` knows clap: the lower floors hand it plain types (`ValueEnum` impls live there).
#[test]
fn only_the_cli_knows_clap() {
    let users: Vec<String> = source_files()
        .into_iter()
        .filter(|rel| rel != "src/cli.rs")
        .filter(|rel| {
            let code = code_only(&read(rel));
            code.contains("clap::") || code.contains("use clap") || code.contains("clap_")
        })
        .collect();
    assert!(users.is_empty(), "clap used outside src/cli.rs: {users:?}");
}
