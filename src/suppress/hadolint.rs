//! hadolint's pragmas in a Dockerfile: `# hadolint ignore=…`, `# hadolint stage ignore=…` and
//! `# hadolint global ignore=…`, read as hadolint's `Pragma.hs` reads them, as [`Directive`]s
//! over the rules that carry the listed codes in [`RuleMeta::hadolint`].

use super::{Directive, DirectiveKind, to_u32, whole_file};
use crate::meta::RuleMeta;
use crate::source::{SourceFile, Span, Spanned};

/// Where a hadolint pragma applies (hadolint's `Pragma.hs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PragmaScope {
    /// `ignore=`: the instruction that starts on the next line.
    Next,
    /// `stage ignore=`: from the pragma to the end of the stage it stands in (or above).
    Stage,
    /// `global ignore=`: the whole file.
    Global,
}

/// A hadolint ignore pragma read from a comment body (after `#`, at offset `base` in the
/// file): where it applies, its codes with their spans, and its trailing `# comment`.
struct Pragma<'a> {
    scope: PragmaScope,
    codes: Vec<(&'a str, Span)>,
    comment: Option<&'a str>,
}

/// Reads a comment the way hadolint's pragma parser does: `hadolint`, then `global` or `stage`
/// or nothing, then `ignore`, `=`, codes (letters of `DLSC` and digits) separated by commas,
/// then nothing but blanks and an optional `# comment`. Blanks are spaces and tabs. Anything
/// else is not an ignore pragma (hadolint ignores it too: `# hadolint shell=pwsh`, a lowercase
/// code, words after the list).
fn parse_hadolint(body: &str, base: u32) -> Option<Pragma<'_>> {
    let blank = |c: char| c == ' ' || c == '\t';
    let after_blanks = |s: &'_ str| s.trim_start_matches(blank).len();
    let rest = body.trim_start_matches(blank).strip_prefix("hadolint")?;
    // at least one blank after each keyword
    let word = |s: &'_ str, w: &str| -> Option<usize> {
        let r = s.strip_prefix(w)?;
        (r.starts_with(blank)).then(|| s.len() - after_blanks(r))
    };
    if !rest.starts_with(blank) {
        return None;
    }
    let mut rest = rest.trim_start_matches(blank);
    let mut scope = PragmaScope::Next;
    for (w, sc) in [
        ("global", PragmaScope::Global),
        ("stage", PragmaScope::Stage),
    ] {
        if let Some(n) = word(rest, w) {
            scope = sc;
            rest = rest.get(n..)?;
            break;
        }
    }
    let rest = rest.strip_prefix("ignore")?.trim_start_matches(blank);
    let mut rest = rest.strip_prefix('=')?.trim_start_matches(blank);
    let is_code = |c: char| matches!(c, 'D' | 'L' | 'S' | 'C') || c.is_ascii_digit();
    let mut codes = Vec::new();
    loop {
        let len = rest.find(|c: char| !is_code(c)).unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        let start = base + to_u32(body.len() - rest.len());
        codes.push((rest.get(..len)?, Span::new(start, start + to_u32(len))));
        rest = rest.get(len..)?.trim_start_matches(blank);
        match rest.strip_prefix(',') {
            Some(r) => rest = r.trim_start_matches(blank),
            None => break,
        }
    }
    let comment = match rest.strip_prefix('#') {
        Some(c) => Some(c.trim()).filter(|c| !c.is_empty()),
        None if rest.is_empty() => None,
        None => return None,
    };
    Some(Pragma {
        scope,
        codes,
        comment,
    })
}

/// The directive of a hadolint pragma: the full-line comment `body` (after its `#` at `hash`,
/// the line ending at `end`) on line `idx` of `lines`, outside instructions. Its rules are those
/// that carry its codes in [`RuleMeta::hadolint`] (a code no rule carries is dropped; a pragma
/// naming none of them gives none). `instructions`: each instruction's span and whether it is a
/// `FROM`, in order; `next`: the first of them after the comment. Read in the same pass over the
/// lines as `# sandlint ignore=` ([`super::dockerfile`]).
///
/// Scopes, as hadolint applies them: `ignore=` covers the instruction that starts on the very
/// next line (a blank or another comment line between leaves it covering nothing); `stage
/// ignore=` covers from the pragma to the end of the stage holding the next instruction (up to
/// the next `FROM`); `global ignore=` covers the file, wherever it stands.
#[allow(clippy::too_many_arguments)]
pub(super) fn pragma(
    file: &SourceFile,
    lines: &[(u32, u32)],
    idx: usize,
    body: &str,
    hash: u32,
    end: u32,
    instructions: &[(Span, bool)],
    next: usize,
) -> Option<Directive> {
    if !body.contains("hadolint") {
        return None;
    }
    let pragma = parse_hadolint(body, hash + 1)?;
    let i = next;
    let next = instructions.get(i).copied();
    let scope = match pragma.scope {
        PragmaScope::Global => Some(whole_file(file)),
        PragmaScope::Next => lines.get(idx + 1).and_then(|&(s2, e2)| {
            next.filter(|(s, _)| s.start >= s2 && s.start <= e2)
                .map(|(s, _)| s)
        }),
        PragmaScope::Stage => next.map(|(first, _)| {
            let stage_end = instructions
                .iter()
                .skip(i + 1)
                .take_while(|(_, is_from)| !is_from)
                .last()
                .map_or(first.end, |(s, _)| s.end);
            Span::new(hash, stage_end)
        }),
    };
    let rules: Vec<(Spanned<String>, Option<&'static RuleMeta>)> = pragma
        .codes
        .iter()
        .flat_map(|&(code, span)| {
            crate::docs::RULES
                .iter()
                .filter(move |m| m.hadolint.contains(&code))
                .map(move |m| (Spanned::new(code.to_string(), span), Some(m)))
        })
        .collect();
    if rules.is_empty() {
        return None;
    }
    Some(Directive {
        span: Span::new(hash, end),
        global: pragma.scope == PragmaScope::Global,
        rules,
        reason: Some(
            pragma
                .comment
                .map_or_else(|| format!("`#{}`", body.trim_end()), str::to_string),
        ),
        scope,
        kind: DirectiveKind::Hadolint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hadolint directives [`super::super::dockerfile`] reads in `f`.
    fn hadolint(f: &SourceFile, instructions: &[(Span, bool)]) -> Vec<Directive> {
        (super::super::dockerfile(f, instructions)
            .directives
            .into_iter())
        .filter(|d| d.kind == DirectiveKind::Hadolint)
        .collect()
    }

    /// The hadolint directives of `text`: (what each covers, the sandlint rules it names).
    fn pragmas(text: &str) -> Vec<(Option<String>, Vec<&'static str>)> {
        let f = SourceFile::virtual_file("Dockerfile", text);
        let df = crate::dockerfile::parse(text);
        let kinds: Vec<(Span, bool)> = df
            .instructions
            .iter()
            .map(|i| (i.span, i.kind == crate::dockerfile::model::Keyword::From))
            .collect();
        hadolint(&f, &kinds)
            .into_iter()
            .map(|d| {
                assert_eq!(d.kind, DirectiveKind::Hadolint);
                (
                    d.scope.map(|s| f.slice(s).to_string()),
                    d.rules.iter().filter_map(|r| r.1.map(|m| m.name)).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn hadolint_pragmas_read_as_hadolint_reads_them() {
        let covers = |text: &str| -> Vec<Vec<&'static str>> {
            pragmas(text).into_iter().map(|p| p.1).collect()
        };
        let root = vec!["root-user"];
        // hadolint's PragmaSpec cases, by what its parser accepts
        for text in [
            "FROM a\n# hadolint ignore=DL3002\nUSER root\n",
            "FROM a\n#hadolint ignore=DL3002\nUSER root\n",
            "FROM a\n# hadolint ignore = DL3001 , DL3002\nUSER root\n",
            "FROM a\n# hadolint ignore=DL3002 \nUSER root\n",
            "FROM a\n# hadolint ignore=DL3002 # the vendor image needs it\nUSER root\n",
            "FROM a\n\t# hadolint ignore=DL3002\t\nUSER root\n",
        ] {
            assert_eq!(covers(text), vec![root.clone()], "{text:?}");
        }
        for text in [
            "FROM a\n# hadolint ignore=crazy,DL3002\nUSER root\n",
            "FROM a\n# hadolint ignore=dl3002\nUSER root\n",
            "FROM a\n# hadolint ignore=DL3002 because\nUSER root\n",
            "FROM a\n# hadolint ignore=DL3002,\nUSER root\n",
            "FROM a\n# hadolint ignore=\nUSER root\n",
            "FROM a\n# hadolintignore=DL3002\nUSER root\n",
            "FROM a\n# Hadolint ignore=DL3002\nUSER root\n",
            "FROM a\n# hadolint shell=powershell\nUSER root\n",
            "FROM a\n# see hadolint ignore=DL3002\nUSER root\n",
            // codes no sandlint rule carries: no directive
            "FROM a\n# hadolint ignore=DL3059,SC2086\nRUN a\n",
        ] {
            assert_eq!(covers(text), Vec::<Vec<&str>>::new(), "{text:?}");
        }
        // a code several rules carry names each of them; unmapped ones are dropped
        assert_eq!(
            covers("FROM a\n# hadolint ignore=DL3059,DL3006,DL3007\nRUN a\n"),
            vec![vec!["unpinned-base-image", "unpinned-base-image"]]
        );
        let d = {
            let text = "FROM a\n# hadolint ignore=DL3002 # vendor image\nUSER root\n";
            let f = SourceFile::virtual_file("Dockerfile", text);
            let df = crate::dockerfile::parse(text);
            let kinds: Vec<(Span, bool)> =
                df.instructions.iter().map(|i| (i.span, false)).collect();
            let d = hadolint(&f, &kinds).remove(0);
            assert_eq!(f.slice(d.rules[0].0.span), "DL3002");
            assert_eq!(f.slice(d.span), "# hadolint ignore=DL3002 # vendor image");
            d
        };
        assert_eq!(d.reason.as_deref(), Some("vendor image"));
        let text = "FROM a\n# hadolint ignore=DL3002\nUSER root\n";
        let f = SourceFile::virtual_file("Dockerfile", text);
        let kinds: Vec<(Span, bool)> = crate::dockerfile::parse(text)
            .instructions
            .iter()
            .map(|i| (i.span, false))
            .collect();
        assert_eq!(
            hadolint(&f, &kinds)[0].reason.as_deref(),
            Some("`# hadolint ignore=DL3002`")
        );
    }

    #[test]
    fn hadolint_pragma_scopes() {
        let scope = |text: &str| pragmas(text).into_iter().map(|p| p.0).collect::<Vec<_>>();
        let some = |s: &str| vec![Some(s.to_string())];
        // `ignore=`: the instruction on the very next line, whole
        assert_eq!(
            scope("FROM a\n# hadolint ignore=DL3004\nRUN sudo a \\\n  && sudo b\nRUN sudo c\n"),
            some("RUN sudo a \\\n  && sudo b")
        );
        assert_eq!(
            scope("# hadolint ignore=DL3006\nFROM ubuntu\nUSER root\n"),
            some("FROM ubuntu")
        );
        // not across a blank line or another comment (hadolint's line + 1)
        assert_eq!(
            scope("FROM a\n# hadolint ignore=DL3002\n\nUSER root\n"),
            vec![None]
        );
        assert_eq!(
            scope("FROM a\n# hadolint ignore=DL3002\n# why\nUSER root\n"),
            vec![None]
        );
        // inside an instruction: not a pragma
        assert!(scope("FROM a\nRUN a \\\n# hadolint ignore=DL3004\n  && sudo b\n").is_empty());
        // `stage ignore=`: the stage the next instruction is in, up to the next FROM
        assert_eq!(
            scope("# hadolint stage ignore=DL3002\nFROM a\nUSER root\nFROM b\nUSER root\n"),
            some("# hadolint stage ignore=DL3002\nFROM a\nUSER root")
        );
        assert_eq!(
            scope("FROM a\nUSER root\n# hadolint stage ignore=DL3002\nFROM b\nUSER root\n"),
            some("# hadolint stage ignore=DL3002\nFROM b\nUSER root")
        );
        assert_eq!(
            scope("FROM a\nRUN x\n# hadolint stage ignore=DL3002\nUSER root\nRUN y\nFROM b\n"),
            some("# hadolint stage ignore=DL3002\nUSER root\nRUN y")
        );
        // `global ignore=`: the file, from anywhere in it
        let text = "FROM a\nUSER root\n# hadolint global ignore=DL3002\n";
        assert_eq!(scope(text), some(text));
    }

    #[test]
    fn hadolint_pragmas_in_the_engine() {
        use crate::linter::{LintOptions, Selection, lint_file_with};
        let lint = |text: &str, inline: bool| {
            let mut opts = LintOptions::new(Selection::all());
            opts.inline_ignores = inline;
            opts.require_reason = true;
            let file = SourceFile::virtual_file("Dockerfile", text).into_ref();
            lint_file_with(file, crate::discover::FileKind::Dockerfile, &opts)
                .diagnostics
                .into_iter()
                .filter(|d| ["SLD007", "SLD020", "SLE003", "SLE004"].contains(&d.rule.code))
                .map(|d| (d.rule.code, d.suppression.is_some()))
                .collect::<Vec<_>>()
        };
        // DL3004 is sudo-in-run's: suppressed; DL4006 (pipefail) is not named
        let text = "FROM alpine:3.20\n# hadolint ignore=DL3004\nRUN sudo a | b\n";
        assert_eq!(lint(text, true), [("SLD007", true), ("SLD020", false)]);
        // an unrelated code suppresses nothing, and is neither unused nor invalid nor reasonless
        let text = "FROM alpine:3.20\n# hadolint ignore=DL3008,DL9999,SC2086\nRUN sudo a | b\n";
        assert_eq!(lint(text, true), [("SLD007", false), ("SLD020", false)]);
        let text = "FROM alpine:3.20\n# hadolint ignore=DL4006\nRUN true\n";
        assert_eq!(lint(text, true), []);
        // --no-inline-ignores turns pragmas off too
        let text = "FROM alpine:3.20\n# hadolint global ignore=DL3004\nRUN sudo a\n";
        assert_eq!(lint(text, true), [("SLD007", true)]);
        assert_eq!(lint(text, false), [("SLD007", false)]);
        // a sandlint suppression of the same finding is the one used (not reported unused)
        let text = "FROM alpine:3.20\n# sandlint ignore=sudo-in-run reason=\"x\"\n# hadolint ignore=DL3004\nRUN sudo a\n";
        assert_eq!(lint(text, true), [("SLD007", true)]);
    }
}
