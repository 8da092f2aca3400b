use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Instruction, Keyword, Stage};
use crate::dockerfile::semantics::{self, UserState};
use crate::docs::{self, RuleMeta};
use crate::rules::well_known_images::{BaseUser, base_user};
use crate::rules::{Ctx, Rule};

/// SLD001: the final stage runs as root.
pub struct RootUser;

const HELP_NO_USER: &str = "add `USER 10001:10001` (a numeric non-root user) after the steps that need root in the final stage";
const HELP_ROOT_USER: &str =
    "switch to a non-root user at the end of the final stage, e.g. `USER 10001:10001`";

impl Rule for RootUser {
    fn meta(&self) -> &'static RuleMeta {
        docs::ROOT_USER
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let Some(stage) = df.final_stage() else {
            return;
        };
        let eu = semantics::effective_user(df, stage);
        if eu.state != UserState::Root {
            return;
        }
        let file = cx.file().clone();
        match (eu.instruction, &eu.user) {
            (Some(ins), Some(user)) => {
                let written = user.value.as_str();
                let raw = ins.user().map_or(written, |u| u.written);
                let message = if raw == written {
                    format!(
                        "final stage runs as root: `USER {}`",
                        analysis::snippet(raw, 60)
                    )
                } else {
                    format!(
                        "final stage runs as root: `USER {}` is `{}`",
                        analysis::snippet(raw, 40),
                        analysis::snippet(written, 20)
                    )
                };
                let d = cx.report(user.span, message);
                d.help(HELP_ROOT_USER);
                if eu.stage.index != stage.index {
                    let name = eu.stage.name.as_ref().map_or("", |n| n.value.as_str());
                    d.label(
                        &file,
                        eu.from.span,
                        format!("the final stage inherits the user of stage `{name}`"),
                    );
                }
            }
            _ => {
                // No USER anywhere in the chain: the external base image decides. Only a base
                // known to run as root is an error here; an unknown one is `unknown-image-user`.
                let BaseUser::Root { image, why } = base_user(df, &eu) else {
                    return;
                };
                let message = match &stage.name {
                    Some(n) => format!(
                        "final stage `{}` runs as root: no `USER` on base image `{}`",
                        analysis::snippet(&n.value, 16),
                        analysis::snippet(&image, 26)
                    ),
                    None => format!(
                        "final stage runs as root: no `USER` is set on base image `{}`",
                        analysis::snippet(&image, 40)
                    ),
                };
                let span = eu.from.span;
                let d = cx.report(span, message);
                d.help(format!("{HELP_NO_USER} (the base image: {why})"));
                if let Some(user) = builder_only_user(df, stage) {
                    d.label(
                        &file,
                        user.span,
                        "this `USER` applies only to an earlier build stage",
                    );
                }
            }
        }
    }
}

/// The last `USER` of a stage the final stage does not derive from (a likely mistake).
pub(crate) fn builder_only_user<'a>(
    df: &'a Dockerfile,
    stage: &'a Stage,
) -> Option<&'a Instruction> {
    let chain = semantics::stage_chain(df, stage);
    df.instructions
        .iter()
        .enumerate()
        .rev()
        .filter(|(i, ins)| {
            ins.kind == Keyword::User && !chain.iter().any(|s| s.instructions.contains(i))
        })
        .map(|(_, ins)| ins)
        .next()
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{diagnostics, findings, spans};

    const R: &str = "root-user";

    #[test]
    fn no_user_points_at_final_from() {
        let text = "FROM alpine:3.20\nRUN id\n";
        assert_eq!(
            findings(R, text),
            vec![(
                "SLD001",
                "1:1-1:17".to_string(),
                "final stage runs as root: no `USER` is set on base image `alpine:3.20`"
                    .to_string()
            )]
        );
    }

    #[test]
    fn registry_base_with_unknown_user_is_not_an_error() {
        // issue 10 item 4: grafana/grafana runs as uid 472; an unlisted registry image's user
        // is unknown (reported at info by `unknown-image-user`), not "runs as root".
        for text in [
            "FROM grafana/grafana:11.1.0\nCOPY dash.json /etc/grafana/\n",
            "FROM docker.io/grafana/grafana\n",
            "FROM ghcr.io/example/tool:1\nRUN true\n",
            "ARG BASE\nFROM $BASE\n",
            "FROM quay.io/jupyter/base-notebook AS nb\nFROM nb\nRUN pip install x\n",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }

    #[test]
    fn known_root_bases_stay_errors() {
        for (text, image) in [
            ("FROM scratch\nCOPY app /app\n", "scratch"),
            (
                "FROM docker.io/library/python:3.12-slim\n",
                "docker.io/library/python:3.12-slim",
            ),
            ("ARG B=node:22\nFROM $B AS base\nFROM base\n", "node:22"),
            (
                "FROM grafana/grafana AS g\nFROM debian:12\nCOPY --from=g /a /a\n",
                "debian:12",
            ),
        ] {
            let f = findings(R, text);
            assert_eq!(f.len(), 1, "{text}");
            assert!(
                f[0].2
                    .ends_with(&format!("no `USER` is set on base image `{image}`")),
                "{text}: {}",
                f[0].2
            );
        }
        // The root USER is judged whatever the base (the file itself sets root).
        assert_eq!(spans(R, "FROM grafana/grafana\nUSER root\n"), vec!["root"]);
        assert_eq!(spans(R, "FROM ghcr.io/x/y\nUSER +0\n"), vec!["+0"]);
    }

    #[test]
    fn root_user_values() {
        for (text, want) in [
            ("FROM alpine:3.20\nUSER root\n", "root"),
            ("FROM alpine:3.20\nUSER 0\n", "0"),
            ("FROM alpine:3.20\nUSER root:app\n", "root:app"),
            ("FROM alpine:3.20\nUSER 0:0\n", "0:0"),
            ("FROM alpine:3.20\nUSER app\nUSER root\n", "root"),
            ("FROM alpine:3.20\nARG UID=0\nUSER ${UID}\n", "${UID}"),
            ("FROM alpine:3.20\nUSER +0\n", "+0"),
            ("FROM alpine:3.20\nUSER 00:00\n", "00:00"),
            ("FROM alpine:3.20\nUSER -0\n", "-0"),
            ("FROM alpine:3.20\nUSER :0\n", ":0"),
            ("FROM alpine:3.20\nARG UID=+0\nUSER $UID:1\n", "$UID:1"),
            // quotes are removed as BuildKit removes them; blanks around the uid are trimmed
            ("FROM alpine:3.20\nUSER \" 0\"\n", "\" 0\""),
            ("FROM alpine:3.20\nUSER '0'\n", "'0'"),
            ("FROM alpine:3.20\nUSER \"0:0\"\n", "\"0:0\""),
            ("FROM alpine:3.20\nUSER 0:1000\n", "0:1000"),
            ("FROM alpine:3.20\nUSER root:root\n", "root:root"),
            // the user part alone decides: an unresolved group does not hide root
            ("FROM alpine:3.20\nUSER root:$GID\n", "root:$GID"),
            (
                "FROM alpine:3.20\nARG UID=0\nUSER ${UID}:${GID}\n",
                "${UID}:${GID}",
            ),
            ("FROM alpine:3.20\nUSER ${UID:-0}\n", "${UID:-0}"),
        ] {
            assert_eq!(spans(R, text), vec![want.to_string()], "{text}");
        }
        let f = findings(R, "FROM alpine:3.20\nARG UID=0\nUSER $UID\n");
        assert_eq!(f[0].2, "final stage runs as root: `USER $UID` is `0`");
        assert_eq!(f[0].1, "3:6-3:10");
    }

    #[test]
    fn builder_only_user_gets_a_label() {
        let text =
            "FROM golang:1.22 AS build\nUSER 10001\nFROM alpine:3.20\nCOPY --from=build /a /a\n";
        let d = diagnostics(R, text);
        assert_eq!(d.len(), 1);
        assert_eq!(&text[d[0].span.range()], "FROM alpine:3.20");
        assert_eq!(d[0].labels.len(), 1);
        assert_eq!(&text[d[0].labels[0].span.range()], "USER 10001");
        assert!(d[0].help.is_some());
    }

    #[test]
    fn inherited_root_user_points_at_parent_user() {
        let text = "FROM alpine:3.20 AS base\nUSER root\nFROM base AS final\nRUN id\n";
        let d = diagnostics(R, text);
        assert_eq!(d.len(), 1);
        assert_eq!(&text[d[0].span.range()], "root");
        assert_eq!(&text[d[0].labels[0].span.range()], "FROM base AS final");
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM alpine:3.20\nUSER 10001:10001\n",
            "FROM alpine:3.20\nUSER +10001\n",
            "FROM alpine:3.20\nUSER 1000\n",
            "FROM alpine:3.20\nUSER app\n",
            "FROM alpine:3.20\nUSER app:$GID\n",
            "FROM alpine:3.20\nUSER $UID:0\n",
            "FROM alpine:3.20 AS base\nUSER app\nFROM base\nRUN id\n",
            "FROM alpine:3.20\nARG UID\nUSER $UID\n",
            "FROM alpine:3.20\nUSER root\nRUN apk add curl\nUSER app\n",
            "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\n",
            "ARG UID=10001\nFROM alpine:3.20\nARG UID\nUSER ${UID}:${UID}\n",
            "",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }
}
