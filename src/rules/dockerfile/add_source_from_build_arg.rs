use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD052: an `ADD` source that a build argument without a default chooses.
pub struct AddSourceFromBuildArg;

/// The beginnings that make an `ADD` source remote (case-insensitive): an http(s) download or
/// a git repository (BuildKit's `isGitSource`; `https://…/x.git` starts like a download).
const REMOTE: &[&str] = &["http://", "https://", "git@", "git://", "ssh://"];

/// Whether a source that starts with `prefix` (and continues with a value chosen at build time)
/// can still become remote: `prefix` is the beginning of one of [`REMOTE`] (the empty prefix of
/// `${SRC}` or `$SRC/x` included). A prefix that already names a local path (`./`, `/src/`,
/// `vendor/`) cannot, and one that already names a scheme is
/// [`add-remote-without-checksum`](super::add_remote_without_checksum)'s to judge.
fn could_become_remote(prefix: &str) -> bool {
    let lower = prefix.to_ascii_lowercase();
    REMOTE.iter().any(|scheme| scheme.starts_with(&lower))
}

impl Rule for AddSourceFromBuildArg {
    fn meta(&self) -> &'static RuleMeta {
        docs::ADD_SOURCE_FROM_BUILD_ARG
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for add in analysis::instructions_of(df, Keyword::Add) {
            // An `ONBUILD ADD` is expanded in the downstream build, with its own arguments.
            if add.onbuild || add.stage.is_none() {
                continue;
            }
            if add
                .ins
                .flag("checksum")
                .is_some_and(|f| f.value.as_ref().is_some_and(|v| !v.value.is_empty()))
            {
                continue;
            }
            let scope = add.scope();
            for (src, span) in analysis::add_sources(add.ins) {
                if analysis::is_http_url(&src)
                    || semantics::expand_with_args(df, &src, scope).is_some()
                {
                    continue;
                }
                // The first reference the build chooses decides; the ones before it are known.
                let Some((r, prefix)) = semantics::first_unknown_ref(df, &src, scope) else {
                    continue;
                };
                // `${SRC#…}`, `${SRC:-…}` with an unknown default: not judged
                if r.modifier.is_some() || !prefix.as_deref().is_some_and(could_become_remote) {
                    continue;
                }
                let Some(arg) = semantics::build_arg_without_default(df, r.name, scope) else {
                    continue;
                };
                let file = cx.file().clone();
                let via = if arg.key.value == r.name {
                    String::new()
                } else {
                    format!(" through `{}`", analysis::snippet(r.name, 24))
                };
                cx.report(
                    span,
                    format!(
                        "`ADD` source `{}` is chosen by build argument `{}`{via}, which has no default",
                        analysis::snippet(&src, 40),
                        analysis::snippet(&arg.key.value, 24)
                    ),
                )
                .label(
                    &file,
                    arg.key.span,
                    format!(
                        "declared without a default: `--build-arg {}=https://…` makes `ADD` download it",
                        analysis::snippet(&arg.key.value, 24)
                    ),
                )
                .help("use `COPY` for a local source (it never downloads), or give the `ARG` a local default; a download needs `--checksum=sha256:<digest>`");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::could_become_remote;
    use crate::rules::dockerfile::test_util::{diagnostics, findings, spans};

    const R: &str = "add-source-from-build-arg";

    #[test]
    fn prefixes() {
        for p in ["", "h", "HTTP", "https:/", "git", "git@", "ssh:"] {
            assert!(could_become_remote(p), "{p:?}");
        }
        for p in [
            "./",
            "/src/",
            "vendor/",
            "x",
            "https://e.com/",
            "git@github.com:",
        ] {
            assert!(!could_become_remote(p), "{p:?}");
        }
    }

    #[test]
    fn flags_a_source_the_build_chooses() {
        assert_eq!(
            findings(R, "FROM alpine:3.20\nARG SRC\nADD ${SRC} /opt/app/\n"),
            vec![(
                "SLD052",
                "3:5-3:11".to_string(),
                "`ADD` source `${SRC}` is chosen by build argument `SRC`, which has no default"
                    .to_string()
            )]
        );
        let d = diagnostics(R, "FROM alpine:3.20\nARG SRC\nADD ${SRC} /opt/app/\n");
        let text = "FROM alpine:3.20\nARG SRC\nADD ${SRC} /opt/app/\n";
        assert_eq!(&text[d[0].labels[0].span.range()], "SRC");
        for (text, want) in [
            (
                "FROM a:1\nARG BASE\nADD $BASE/tool.tgz /t\n",
                "$BASE/tool.tgz",
            ),
            (
                "FROM a:1\nARG P\nADD http${P}://e.com/x /x\n",
                "http${P}://e.com/x",
            ),
            (
                "FROM a:1\nARG S\nADD --chown=1:1 [\"$S\", \"/x\"]\n",
                "\"$S\"",
            ),
            ("FROM a:1\nARG S\nADD ./a.txt $S /dst/\n", "$S"),
            // copied into an ENV, or into another ARG's default: still the build's choice
            ("FROM a:1\nARG SRC\nENV SRC=${SRC}\nADD $SRC /x\n", "$SRC"),
            (
                "FROM a:1\nARG HOST\nARG URL=$HOST/pkg.tgz\nADD ${URL} /x\n",
                "${URL}",
            ),
            // a global ARG without default, redeclared in the stage
            ("ARG SRC\nFROM a:1\nARG SRC\nADD $SRC /x\n", "$SRC"),
            // an ENV in a parent stage copying the ARG
            (
                "FROM a:1 AS base\nARG S\nENV S=$S\nFROM base\nADD $S /x\n",
                "$S",
            ),
        ] {
            assert_eq!(spans(R, text), vec![want.to_string()], "{text}");
        }
        assert_eq!(
            findings(
                R,
                "FROM a:1\nARG HOST\nARG URL=$HOST/pkg.tgz\nADD ${URL} /x\n"
            )[0]
            .2,
            "`ADD` source `${URL}` is chosen by build argument `HOST` through `URL`, which has no default"
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            // a checksum pins whatever the build chooses
            "FROM a:1\nARG SRC\nADD --checksum=sha256:0123 ${SRC} /x\n",
            // defaults: the resolved value is judged by the other ADD rules
            "FROM a:1\nARG SRC=./vendor/app.tgz\nADD ${SRC} /x\n",
            "ARG SRC=./vendor/app.tgz\nFROM a:1\nARG SRC\nADD ${SRC} /x\n",
            "FROM a:1\nARG SRC\nADD ${SRC:-./vendor/app.tgz} /x\n",
            "FROM a:1\nENV SRC=./vendor\nADD $SRC/app.tgz /x\n",
            // a local prefix stays local whatever the variable holds
            "FROM a:1\nARG NAME\nADD ./vendor/${NAME}.tgz /x\n",
            "FROM a:1\nARG NAME\nADD /build/$NAME /x\n",
            "FROM a:1\nARG V\nADD dist/app-$V.tar.gz /x\n",
            // a literal URL is add-remote-without-checksum's
            "FROM a:1\nARG V\nADD https://e.com/$V/x.tgz /x\n",
            // not declared in the stage: BuildKit expands it to nothing
            "FROM a:1\nADD $SRC /x\n",
            "ARG SRC\nFROM a:1\nADD $SRC /x\n",
            // predefined platform arguments are the builder's
            "FROM a:1\nARG TARGETARCH\nADD $TARGETARCH/app /x\n",
            // an ENV the base image may set is not a build argument
            "FROM a:1\nENV P=$HOME/x\nADD $P /x\n",
            // COPY never downloads; ONBUILD ADD is the downstream build's
            "FROM a:1\nARG SRC\nCOPY $SRC /x\n",
            "FROM a:1\nARG SRC\nONBUILD ADD $SRC /x\n",
            "FROM a:1\nARG SRC\nADD <<EOF /x\n$SRC\nEOF\n",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }
}
