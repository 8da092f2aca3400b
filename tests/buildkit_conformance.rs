//! Runs BuildKit's own parser test cases (`frontend/dockerfile/parser/testfiles*`, Apache-2.0, read
//! at test time from `../shared/spec/buildkit-parser-testfiles/`, never copied here) against our
//! parser: every positive case must print exactly BuildKit's `result` (its `Node.Dump()` notation),
//! every negative case must give at least one parse error.

#![allow(
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: reports counts and skips on stderr, fails loudly"
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sandlint::dockerfile::model::{Arguments, Dockerfile, Instruction, Keyword};

mod common;

/// BuildKit's parser test files, or `None` (loudly) when `../shared` is absent.
fn shared_dir() -> Option<PathBuf> {
    Some(common::shared_dir()?.join("spec/buildkit-parser-testfiles"))
}

fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Go's `strconv.Quote`.
fn go_quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\u{7}' => o.push_str("\\a"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            '\u{b}' => o.push_str("\\v"),
            ' ' => o.push(' '),
            c if !c.is_control() && !c.is_whitespace() => o.push(c),
            c if (c as u32) < 0x80 => write!(o, "\\x{:02x}", c as u32).unwrap(),
            c if (c as u32) < 0x10000 => write!(o, "\\u{:04x}", c as u32).unwrap(),
            c => write!(o, "\\U{:08x}", c as u32).unwrap(),
        }
    }
    o.push('"');
    o
}

/// BuildKit's `Node.Dump()` for one instruction.
fn dump(ins: &Instruction, src: &str) -> String {
    let mut s = ins.keyword.value.to_lowercase();
    if !ins.flags.is_empty() {
        let flags: Vec<String> = ins
            .flags
            .iter()
            .map(|f| match f.unquoted_value() {
                Some(v) => go_quote(&format!("--{}={v}", f.name.value)),
                None => go_quote(&format!("--{}", f.name.value)),
            })
            .collect();
        write!(s, " [{}]", flags.join(" ")).unwrap();
    }
    let mut node = |v: &str| {
        s.push(' ');
        s.push_str(&go_quote(v));
    };
    match (&ins.args, ins.kind) {
        (Arguments::Exec { items, .. }, _) => items.iter().for_each(|i| node(&i.value)),
        (Arguments::Text { pairs, .. }, Keyword::Env | Keyword::Label) => {
            for p in pairs {
                let raw = p.raw_value.as_ref().unwrap();
                let sep = &src[p.key.span.end as usize..raw.span.start as usize];
                node(&p.key.value);
                node(&raw.value);
                node(if sep == "=" { "=" } else { "" });
            }
        }
        (
            Arguments::Text { text, .. },
            Keyword::Run
            | Keyword::Cmd
            | Keyword::Entrypoint
            | Keyword::Shell
            | Keyword::User
            | Keyword::Workdir
            | Keyword::Maintainer
            | Keyword::StopSignal,
        ) => {
            if !text.value.is_empty() {
                node(&text.value);
            }
        }
        (Arguments::Text { .. }, Keyword::Onbuild) => {
            if let Some(t) = &ins.onbuild {
                write!(s, " ({})", dump(t, src)).unwrap();
            }
        }
        (Arguments::Text { .. }, Keyword::Unknown) => node(""),
        (Arguments::Text { .. }, _) => ins.args.words().iter().for_each(|w| node(&w.value)),
    }
    s.trim().to_string()
}

fn dump_file(df: &Dockerfile, src: &str) -> String {
    df.instructions
        .iter()
        .map(|i| format!("({})\n", dump(i, src)))
        .collect()
}

#[test]
fn buildkit_positive_cases() {
    let Some(dir) = shared_dir() else { return };
    let cases = case_dirs(&dir.join("testfiles"));
    assert!(
        cases.len() >= 30,
        "expected BuildKit's test cases in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let src = std::fs::read_to_string(case.join("Dockerfile")).unwrap();
        let expected = std::fs::read_to_string(case.join("result"))
            .unwrap()
            .replace("\r\n", "\n");
        let df = sandlint::dockerfile::parse(&src);
        let got = dump_file(&df, &src);
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        if got != expected {
            failures.push(format!("--- {name}\nexpected:\n{expected}got:\n{got}"));
        }
    }
    let passed = cases.len() - failures.len();
    eprintln!(
        "buildkit conformance: {passed}/{} positive cases pass",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn buildkit_negative_cases() {
    let Some(dir) = shared_dir() else { return };
    let cases = case_dirs(&dir.join("testfiles-negative"));
    assert!(
        cases.len() >= 4,
        "expected BuildKit's negative cases in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let src = std::fs::read_to_string(case.join("Dockerfile")).unwrap();
        let df = sandlint::dockerfile::parse(&src);
        if df.errors.is_empty() {
            failures.push(case.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    eprintln!(
        "buildkit conformance: {}/{} negative cases give an error",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "no parse error for: {failures:?}");
}

#[test]
fn go_quote_matches_go() {
    assert_eq!(go_quote("a\"b\\c\u{0}\t♥"), r#""a\"b\\c\x00\t♥""#);
}
