use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD004: `ADD` of an http(s) URL without `--checksum`.
pub struct AddRemoteWithoutChecksum;

/// What `src` expands to; when a variable has no known value, what the text before the first
/// such variable expands to (`${BASE}/${FILE}` with `ARG BASE=https://…` and `ARG FILE` without
/// default: the download is remote whatever `FILE` is).
fn known_beginning(df: &Dockerfile, src: &str, scope: semantics::Scope<'_>) -> Option<String> {
    semantics::expand_with_args(df, src, scope).or_else(|| {
        semantics::first_unknown_ref(df, src, scope)
            .and_then(|(_, before)| before)
            .filter(|v| !v.is_empty())
    })
}

impl Rule for AddRemoteWithoutChecksum {
    fn meta(&self) -> &'static RuleMeta {
        docs::ADD_REMOTE_WITHOUT_CHECKSUM
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for add in analysis::instructions_of(df, Keyword::Add) {
            if add
                .ins
                .flag("checksum")
                .is_some_and(|f| f.value.as_ref().is_some_and(|v| !v.value.is_empty()))
            {
                continue;
            }
            for (src, span) in analysis::add_sources(add.ins) {
                // The scheme decides; a variable later in the URL does not hide it.
                let value = if analysis::is_http_url(&src) {
                    semantics::expand_with_args(df, &src, add.scope())
                        .unwrap_or_else(|| src.clone())
                } else {
                    match known_beginning(df, &src, add.scope()) {
                        Some(v) if analysis::is_http_url(&v) => v,
                        _ => continue,
                    }
                };
                if analysis::is_git_url(&value) {
                    continue;
                }
                let prefix = if add.onbuild {
                    "`ONBUILD ADD`"
                } else {
                    "`ADD`"
                };
                cx.report(
                    span,
                    format!("{prefix} downloads `{}` without `--checksum`", analysis::snippet(&src, 60)),
                )
                .help("add `--checksum=sha256:<digest>` so that the build fails if the download changes");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "add-remote-without-checksum";

    #[test]
    fn flags_urls() {
        let text = "FROM alpine:3.20\nADD https://example.com/tool /usr/bin/tool\n";
        assert_eq!(
            findings(R, text),
            vec![(
                "SLD004",
                "2:5-2:29".to_string(),
                "`ADD` downloads `https://example.com/tool` without `--checksum`".to_string()
            )]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nARG V=1.0\nADD --chown=1:1 http://e.com/$V/t.tgz /t\n"
            ),
            vec!["http://e.com/$V/t.tgz"]
        );
        assert_eq!(
            spans(R, "FROM a:1\nARG U=https://e.com/x\nADD ${U} /x\n"),
            vec!["${U}"]
        );
        // the known beginning decides when a later variable has no value
        assert_eq!(
            spans(
                R,
                "FROM a:1\nARG BASE=https://e.com/dl\nARG FILE\nADD ${BASE}/${FILE} /x\nADD $FILE/${BASE} /y\n"
            ),
            vec!["${BASE}/${FILE}"]
        );
        assert_eq!(
            spans(R, "FROM a:1\nONBUILD ADD [\"https://e.com/x\", \"/x\"]\n"),
            vec!["\"https://e.com/x\""]
        );
        assert_eq!(
            spans(R, "FROM a:1\nADD --checksum= https://e.com/x /x\n"),
            vec!["https://e.com/x"]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM alpine:3.20\nADD --checksum=sha256:abc https://example.com/tool /tool\n",
            "FROM alpine:3.20\nADD app.tar.gz /\n",
            "FROM alpine:3.20\nADD https://github.com/org/repo.git#v1.0 /src\n",
            "FROM alpine:3.20\nADD git@github.com:org/repo.git /src\n",
            "FROM alpine:3.20\nADD $URL /x\n",
            "FROM alpine:3.20\nCOPY https.txt /x\n",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }
}
