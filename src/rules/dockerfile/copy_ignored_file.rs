use crate::dockerfile::analysis::{self, add_sources, is_git_url, is_http_url, snippet};
use crate::dockerfile::dockerignore::{Dockerignore, Pattern, clean};
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD053: a `COPY`/`ADD` source from the build context that `.dockerignore` excludes
/// (BuildKit's `CopyIgnoredFile`).
pub struct CopyIgnoredFile;

/// Pattern-matching work allowed per Dockerfile (see [`Dockerignore::deciding_pattern_within`]):
/// far above any real `.dockerignore` and Dockerfile, it bounds a hostile pair (a million
/// patterns times a million sources) to well under a second.
const MATCH_BUDGET: u64 = 200_000_000;

/// The pattern that excludes `src` (a `COPY`/`ADD` source as BuildKit sees it, variables
/// expanded), with BuildKit's `validateCopySourcePath` semantics: the context root (`.`, `/`)
/// only under a `*`, `**` or `**/*` pattern. `Err` when `budget` ran out.
fn excluding_pattern<'a>(
    ignore: &'a Dockerignore,
    src: &str,
    budget: &mut u64,
) -> Result<Option<&'a Pattern>, ()> {
    let cleaned = clean(src);
    if (cleaned == "." || cleaned == "/")
        && !ignore
            .patterns
            .iter()
            .any(|p| !p.exclusion && matches!(p.text.as_str(), "*" | "**" | "**/*"))
    {
        return Ok(None);
    }
    match ignore.deciding_pattern_within(&cleaned, budget) {
        Some(p) => Ok(p.filter(|p| !p.exclusion)),
        None => Err(()),
    }
}

impl Rule for CopyIgnoredFile {
    fn meta(&self) -> &'static RuleMeta {
        docs::COPY_IGNORED_FILE
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        check(cx, df, MATCH_BUDGET);
    }
}

/// The rule, with `budget` units of pattern matching (see [`MATCH_BUDGET`]).
fn check(cx: &mut Ctx<'_>, df: &Dockerfile, mut budget: u64) {
    if cx.facts().context_dir().is_none() {
        return;
    }
    let Some(ignore_file) = cx.dockerignore() else {
        return;
    };
    let ignore = Dockerignore::parse(&ignore_file.text);
    // as BuildKit: with an exception (`!pattern`) anywhere, nothing is judged (a directory
    // excluded and a file in it let through cannot be told apart statically)
    if ignore.patterns.is_empty() || ignore.has_exceptions() {
        return;
    }
    for loc in analysis::context_copies(df) {
        let keyword = loc.ins.kind.as_str().to_ascii_uppercase();
        for (src, span) in add_sources(loc.ins) {
            if is_http_url(&src) || is_git_url(&src) {
                continue;
            }
            let src = if src.contains('$') {
                match semantics::expand_with_args(df, &src, loc.scope()) {
                    Some(s) => s,
                    None => continue,
                }
            } else {
                src
            };
            let pattern = match excluding_pattern(&ignore, &src, &mut budget) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(()) => {
                    cx.report(
                        span,
                        format!("`{keyword}` source `{}` and those after it were not matched against `.dockerignore`: too many patterns and sources", snippet(&src, 60)),
                    )
                    .help(format!(
                        "sandlint stops after {MATCH_BUDGET} units of pattern matching per Dockerfile; shorten `{}`",
                        ignore_file.display
                    ));
                    return;
                }
            };
            let shown = snippet(&src, 60);
            let pat = snippet(&pattern.text, 60);
            cx.report(
                span,
                format!("`{keyword}` source `{shown}` is excluded by `.dockerignore`: it is not in the build context"),
            )
            .help(format!(
                "the build fails or copies less than it says: stop copying it, or let it through in `{}`",
                ignore_file.display
            ))
            .label(ignore_file, pattern.span, format!("`{pat}` excludes it"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CopyIgnoredFile, MATCH_BUDGET, check};
    use crate::dockerfile::parse;
    use crate::rules::{Ctx, DockerfileFacts, Facts, Rule};
    use crate::source::SourceFile;

    /// The source text of each finding for `text` with a `.dockerignore` holding `ignore`.
    fn flagged(text: &str, ignore: Option<&str>) -> Vec<String> {
        run(text, ignore, MATCH_BUDGET)
            .into_iter()
            .map(|d| text[d.span.range()].to_string())
            .collect()
    }

    /// The findings for `text` with a `.dockerignore` holding `ignore`, with `budget` units of
    /// pattern matching.
    fn run(text: &str, ignore: Option<&str>, budget: u64) -> Vec<crate::diagnostic::Diagnostic> {
        let file = SourceFile::virtual_file("Dockerfile", text).into_ref();
        let facts = Facts::Dockerfile(DockerfileFacts {
            dockerignore: ignore.map(|i| SourceFile::virtual_file(".dockerignore", i).into_ref()),
            context_dir: Some(std::path::PathBuf::from(".")),
            ..DockerfileFacts::default()
        });
        let df = parse(text);
        let mut diags = Vec::new();
        let mut cx = Ctx::new(CopyIgnoredFile.meta(), &file, &facts, &mut diags);
        check(&mut cx, &df, budget);
        diags
    }

    #[test]
    fn stops_loudly_when_the_match_budget_runs_out() {
        let text = "FROM scratch\nCOPY a b c d /x/\n";
        // `zz` (2 tokens) on each one-byte source: 3 * 2 = 6 units a source
        let d = run(text, Some("zz\n"), 13);
        assert_eq!(d.len(), 1);
        assert_eq!(&text[d[0].span.range()], "c");
        assert_eq!(
            d[0].message,
            "`COPY` source `c` and those after it were not matched against `.dockerignore`: too many patterns and sources"
        );
        assert!(run(text, Some("zz\n"), 24).is_empty());
    }

    #[test]
    fn flags_ignored_sources() {
        let df = "FROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n";
        assert_eq!(
            flagged(df, Some("\nDockerfile\n")),
            ["Dockerfile", "Dockerfile"]
        );
        assert_eq!(
            flagged(
                "FROM scratch\nCOPY ./secrets/a.pem src/x \"docs/*.md\" /app/\n",
                Some("secrets\ndocs\n")
            ),
            ["./secrets/a.pem", "\"docs/*.md\""]
        );
        assert_eq!(
            flagged(
                "FROM scratch\nARG D=build\nCOPY ${D}/out /app\nCOPY [\"${D}\", \"/b\"]\n",
                Some("build\n")
            ),
            ["${D}/out", "\"${D}\""]
        );
        assert_eq!(flagged("FROM scratch\nCOPY . .\n", Some("*\n")), ["."]);
        assert_eq!(flagged("FROM scratch\nCOPY / /x\n", Some("**\n")), ["/"]);
        assert_eq!(
            flagged("FROM scratch\nCOPY key.pem /\n", Some("**.pem\n")),
            ["key.pem"]
        );
        // a leading `/` is the context root too (BuildKit's matcher misses this one)
        assert_eq!(
            flagged("FROM scratch\nCOPY /Dockerfile /\n", Some("Dockerfile\n")),
            ["/Dockerfile"]
        );
    }

    #[test]
    fn not_flagged() {
        let cases = [
            // another stage, a remote source, a heredoc, an ONBUILD trigger
            (
                "FROM scratch AS base\nCOPY Dockerfile /foobar\nFROM base\nCOPY --from=base /foobar /Dockerfile\n",
                "foobar\n",
            ),
            (
                "FROM scratch\nADD https://example.com/Dockerfile /x\nADD git@github.com:a/b.git /y\n",
                "Dockerfile\nb.git\n",
            ),
            (
                "FROM scratch\nCOPY <<Dockerfile /x\nhi\nDockerfile\n",
                "Dockerfile\n",
            ),
            ("FROM scratch\nONBUILD COPY Dockerfile /x\n", "Dockerfile\n"),
            // any exception turns the check off, as in BuildKit
            (
                "FROM scratch\nCOPY ./Dockerfile .\nCOPY other .\n",
                "**\n!Dockerfile\n",
            ),
            // the context root only under `*`, `**`, `**/*`
            ("FROM scratch\nCOPY . .\n", ".*\n"),
            ("FROM scratch\nCOPY . .\n", "node_modules\n"),
            // not excluded; unresolved variable
            (
                "FROM scratch\nCOPY src/ /app\nCOPY $NOPE /x\n",
                "*.md\nsrcx\n",
            ),
        ];
        for (df, ignore) in cases {
            assert!(flagged(df, Some(ignore)).is_empty(), "{df} / {ignore}");
        }
        assert!(flagged("FROM scratch\nCOPY Dockerfile .\n", None).is_empty());
        assert!(
            flagged(
                "FROM scratch\nCOPY Dockerfile .\n",
                Some("# only a comment\n")
            )
            .is_empty()
        );
    }
}
