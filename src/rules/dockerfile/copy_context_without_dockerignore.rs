use crate::dockerfile::analysis;
use crate::dockerfile::dockerignore::Dockerignore;
use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD023: the whole build context copied while `.dockerignore` is missing or lets `.git` and
/// `.env` through.
pub struct CopyContextWithoutDockerignore;

/// Paths that a `.dockerignore` must exclude.
const MUST_EXCLUDE: &[&str] = &[".git", ".env"];

/// Sources that mean "the whole context".
pub(crate) fn is_whole_context(src: &str) -> bool {
    matches!(src, "." | "./" | "*" | "./*" | "./." | "/" | "/.")
}

impl Rule for CopyContextWithoutDockerignore {
    fn meta(&self) -> &'static RuleMeta {
        docs::COPY_CONTEXT_WITHOUT_DOCKERIGNORE
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        if cx.facts().context_dir().is_none() {
            return;
        }
        let ignore = cx.dockerignore();
        let missing: Vec<&str> = match ignore {
            None => Vec::new(),
            Some(file) => {
                let parsed = Dockerignore::parse(&file.text);
                MUST_EXCLUDE
                    .iter()
                    .copied()
                    .filter(|p| !parsed.is_excluded(p))
                    .collect()
            }
        };
        if ignore.is_some() && missing.is_empty() {
            return;
        }
        for loc in analysis::context_copies(df) {
            let keyword = loc.ins.kind.as_str().to_ascii_uppercase();
            let Some((src, span)) = analysis::add_sources(loc.ins)
                .into_iter()
                .find(|(s, _)| is_whole_context(s))
            else {
                continue;
            };
            match ignore {
                None => {
                    cx.report(
                        span,
                        format!("`{keyword} {src}` copies the whole build context, and there is no `.dockerignore`"),
                    )
                    .help("add a `.dockerignore` beside the Dockerfile that excludes at least `.git` and `.env` (e.g. `.git`, `.env*`, `**/*.pem`)");
                }
                Some(file) => {
                    let names = missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(" and ");
                    let first_line = file.text.lines().next().map_or(0, str::len);
                    let label_span = Span::from_range(0..first_line);
                    cx.report(
                        span,
                        format!("`{keyword} {src}` copies the build context, and `.dockerignore` does not exclude {names}"),
                    )
                    .help(format!("add {names} to `{}`", file.display))
                    .label(file, label_span, format!("this file does not exclude {names}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CopyContextWithoutDockerignore;
    use crate::dockerfile::parse;
    use crate::rules::{Ctx, DockerfileFacts, Facts, Rule};
    use crate::source::SourceFile;

    /// Messages for `text` with a `.dockerignore` holding `ignore` (`None`: no file), on disk or not.
    fn messages(text: &str, ignore: Option<&str>, on_disk: bool) -> Vec<String> {
        let file = SourceFile::virtual_file("Dockerfile", text).into_ref();
        let facts = Facts::Dockerfile(DockerfileFacts {
            dockerignore: ignore.map(|i| SourceFile::virtual_file(".dockerignore", i).into_ref()),
            context_dir: on_disk.then(|| std::path::PathBuf::from(".")),
            ..DockerfileFacts::default()
        });
        let df = parse(text);
        let mut diags = Vec::new();
        let rule = CopyContextWithoutDockerignore;
        let mut cx = Ctx::new(rule.meta(), &file, &facts, &mut diags);
        rule.check_dockerfile(&mut cx, &df);
        diags.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn flags_missing_or_incomplete_dockerignore() {
        let text = "FROM a:1\nCOPY . /app\n";
        assert_eq!(
            messages(text, None, true),
            vec!["`COPY .` copies the whole build context, and there is no `.dockerignore`"]
        );
        assert_eq!(
            messages(text, Some("node_modules\n"), true),
            vec![
                "`COPY .` copies the build context, and `.dockerignore` does not exclude `.git` and `.env`"
            ]
        );
        assert_eq!(
            messages(text, Some(".git\n*\n!.env\n"), true),
            vec!["`COPY .` copies the build context, and `.dockerignore` does not exclude `.env`"]
        );
        assert_eq!(
            messages("FROM a:1\nADD ./ /app\nCOPY * /x/\n", None, true).len(),
            2
        );
    }

    #[test]
    fn not_flagged() {
        let text = "FROM a:1\nCOPY . /app\n";
        assert!(messages(text, Some(".git\n.env\n"), true).is_empty());
        assert!(messages(text, Some("*\n!src\n"), true).is_empty());
        assert!(messages(text, Some("**/.git\n.env*\n"), true).is_empty());
        assert!(messages(text, None, false).is_empty());
        for t in [
            "FROM a:1\nCOPY src/ /app/\n",
            "FROM a:1 AS b\nFROM a:1\nCOPY --from=b . /app\n",
            "FROM a:1\nONBUILD COPY . /app\n",
        ] {
            assert!(messages(t, None, true).is_empty(), "{t}");
        }
    }
}
