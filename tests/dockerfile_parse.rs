//! Snapshots of our parser on `fixtures/parse/dockerfile/*.Dockerfile`: every node with its span as
//! `line:col-line:col` and the source text under it, so that a wrong span shows in review.

#![allow(clippy::unwrap_used, reason = "test code")]

use std::fmt::Write as _;

use sandlint::dockerfile::model::{Arguments, Instruction, Text};
use sandlint::source::{SourceFile, Span, Spanned};

struct Dump<'a> {
    file: &'a SourceFile,
    out: String,
}

impl Dump<'_> {
    fn at(&self, span: Span) -> String {
        let (a, b) = (self.file.line_col(span.start), self.file.line_col(span.end));
        format!(
            "{}:{}-{}:{} {:?}",
            a.line,
            a.column,
            b.line,
            b.column,
            self.file.slice(span)
        )
    }

    fn line(&mut self, indent: usize, s: &str) {
        writeln!(self.out, "{:indent$}{s}", "", indent = indent * 2).unwrap();
    }

    fn spanned(&mut self, indent: usize, label: &str, v: &Spanned<String>) {
        let s = format!("{label} {:?} @ {}", v.value, self.at(v.span));
        self.line(indent, &s);
    }

    fn text(&mut self, indent: usize, label: &str, t: &Text) {
        let s = format!(
            "{label} {:?} @ {} pieces={:?}",
            t.value,
            self.at(t.span),
            t.pieces
        );
        self.line(indent, &s);
    }

    fn instruction(&mut self, indent: usize, i: usize, ins: &Instruction) {
        let s = format!("[{i}] {:?} @ {}", ins.kind, self.at(ins.span));
        self.line(indent, &s);
        let ind = indent + 1;
        self.spanned(ind, "keyword", &ins.keyword);
        for f in &ins.flags {
            let s = format!("flag @ {}", self.at(f.span));
            self.line(ind, &s);
            self.spanned(ind + 1, "name", &f.name);
            if let Some(v) = &f.value {
                self.spanned(ind + 1, "value", v);
            }
        }
        match &ins.args {
            Arguments::Exec { items, span } => {
                let s = format!("exec @ {}", self.at(*span));
                self.line(ind, &s);
                for it in items {
                    self.spanned(ind + 1, "item", it);
                }
            }
            Arguments::Text { text, pairs, .. } => {
                self.text(ind, "text", text);
                for w in ins.args.words() {
                    self.spanned(ind + 1, "word", w);
                }
                for p in pairs {
                    let s = format!("pair value={:?} @ {}", p.value, self.at(p.span));
                    self.line(ind + 1, &s);
                    self.spanned(ind + 2, "key", &p.key);
                    if let Some(r) = &p.raw_value {
                        self.spanned(ind + 2, "raw", r);
                    }
                }
            }
        }
        for h in &ins.heredocs {
            let s = format!(
                "heredoc expand={} chomp={} @ {}",
                h.expand,
                h.chomp,
                self.at(h.span)
            );
            self.line(ind, &s);
            self.spanned(ind + 1, "name", &h.name);
            self.text(ind + 1, "body", &h.body);
        }
        if let Some(t) = &ins.onbuild {
            self.line(ind, "onbuild trigger:");
            self.instruction(ind + 1, 0, t);
        }
    }
}

#[test]
fn parse_fixtures() {
    insta::glob!("../fixtures/parse/dockerfile", "*.Dockerfile", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let file = SourceFile::virtual_file("Dockerfile", text);
        let df = sandlint::dockerfile::parse(&file.text);
        let mut d = Dump {
            file: &file,
            out: String::new(),
        };
        writeln!(d.out, "escape: {:?}", df.escape).unwrap();
        for dir in &df.directives {
            let s = format!("directive @ {}", d.at(dir.span));
            d.line(0, &s);
            d.spanned(1, "name", &dir.name);
            d.spanned(1, "value", &dir.value);
        }
        d.line(0, "instructions:");
        for (i, ins) in df.instructions.iter().enumerate() {
            d.instruction(1, i, ins);
        }
        d.line(0, "stages:");
        for st in &df.stages {
            let s = format!(
                "[{}] from=[{}] instructions={:?}",
                st.index, st.from, st.instructions
            );
            d.line(1, &s);
            d.spanned(2, "image", &st.image);
            if let Some(n) = &st.name {
                d.spanned(2, "name", n);
            }
            if let Some(p) = &st.platform {
                d.spanned(2, "platform", p);
            }
        }
        d.line(0, "errors:");
        for e in &df.errors {
            let s = format!("{} @ {}", e.message, d.at(e.span));
            d.line(1, &s);
            if let Some(h) = &e.help {
                d.line(2, &format!("help: {h}"));
            }
        }
        insta::assert_snapshot!(d.out);
    });
}
