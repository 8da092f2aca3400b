use crate::dockerfile::analysis::snippet;
use crate::dockerfile::comments::prev_comments;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD054: the comment right above `FROM … AS name` or `ARG name` does not start with the name
/// (BuildKit's experimental `InvalidDefinitionDescription`).
pub struct InvalidDefinitionDescription;

impl Rule for InvalidDefinitionDescription {
    fn meta(&self) -> &'static RuleMeta {
        docs::INVALID_DEFINITION_DESCRIPTION
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        let blocks = prev_comments(df, &file.text);
        // FROM instructions that name their stage: (instruction index, lowercased name, span)
        let named: Vec<(usize, &str, Span)> = df
            .stages
            .iter()
            .filter_map(|s| s.name.as_ref().map(|n| (s.from, n.value.as_str(), n.span)))
            .collect();
        for (index, ins) in df.instructions.iter().enumerate() {
            let Some(last) = blocks.get(index).and_then(|b| b.last()) else {
                continue;
            };
            // (instruction, the names the comment may start with, where to point)
            let (keyword, keys, at): (&str, Vec<&str>, Span) = match ins.kind {
                Keyword::From => match named.iter().find(|n| n.0 == index) {
                    Some(&(_, name, span)) => ("FROM", vec![name], span),
                    None => continue,
                },
                Keyword::Arg => {
                    let pairs = ins.args.pairs();
                    let Some(first) = pairs.first() else { continue };
                    let keys = pairs.iter().map(|p| p.key.value.as_str()).collect();
                    ("ARG", keys, first.key.span)
                }
                _ => continue,
            };
            // BuildKit: the first space-separated word of the last comment line
            let word = last.value.split(' ').next().unwrap_or("");
            if keys.contains(&word) {
                continue;
            }
            let example = match keys.as_slice() {
                [one] => snippet(one, 40),
                _ => "<arg_key>".to_string(),
            };
            let what = if keyword == "FROM" {
                "stage"
            } else {
                "argument"
            };
            cx.report(
                at,
                format!("the comment above this `{keyword}` does not start with the {what} name, so it is not its description"),
            )
            .help(format!(
                "write `# {example} <description>` (BuildKit's outline and `--call=targets` show it), or end the comment block with a bare `#` line"
            ))
            .label(&file, last.span, format!("`{}` is not `{example}`", snippet(word, 40)));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const RULE: &str = "invalid-definition-description";

    #[test]
    fn flags_comments_that_do_not_start_with_the_name() {
        let text = "# bar is the bar\nARG foo=bar\n# BasE image\nFROM scratch AS base\n\
                    # definitely a bad comment\nARG version=latest\n# nope\nARG a=1 b=2\n";
        assert_eq!(spans(RULE, text), ["foo", "base", "version", "a"]);
        let f = findings(RULE, text);
        assert_eq!(
            f[1].2,
            "the comment above this `FROM` does not start with the stage name, so it is not its description"
        );
        let d = crate::rules::dockerfile::test_util::diagnostics(RULE, text);
        assert_eq!(d[0].labels[0].message, "`bar` is not `foo`");
        assert!(
            d[3].help
                .as_deref()
                .unwrap_or("")
                .contains("`# <arg_key> <description>`")
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            // the name first; one of several ARG keys; the stage name lowercased as BuildKit
            "# foo this is foo\nARG foo=bar\n# base the base\nFROM scratch AS Base\n",
            "# baz is one of them\nARG foo=1 bar=2 baz=3\n",
            // a bare `#` ends the block; only FROM with a name and ARG are judged
            "# a comment\n#\nARG foo\n# build it\nFROM scratch\n# copy\nCOPY a b\n",
            // parser directives are not comments
            "# syntax=docker/dockerfile:1\n# check=error=true\nARG foo\n",
            // only the last comment line counts
            "# something else\n# foo is it\nARG foo\n",
        ] {
            assert!(spans(RULE, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn buildkit_reads_what_its_docs_do_not_say() {
        // a blank line does not end the block in BuildKit's parser (its docs say it does)
        assert_eq!(spans(RULE, "# not about foo\n\nARG foo\n"), ["foo"]);
        // a `# check=` comment above an instruction is a comment like any other, and
        // `skip=all` does not turn off an experimental check
        assert_eq!(
            spans(RULE, "FROM scratch\n# check=skip=all\nARG password\n"),
            ["password"]
        );
    }
}
