use crate::dockerfile::analysis;
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::semantics::{self, Scope, UserRef, UserState};
use crate::dockerfile::shell::Command;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD051: the final stage's `USER` is a name, not a numeric uid.
pub struct NonNumericUser;

/// Programs that create a user, with a uid option (`-u N`, `--uid N`, `--uid=N`).
const USER_ADDERS: &[&str] = &["useradd", "adduser"];

/// Built-in Windows accounts: a Windows image has no numeric users.
const WINDOWS_USERS: &[&str] = &["containeruser", "containeradministrator"];

impl Rule for NonNumericUser {
    fn meta(&self) -> &'static RuleMeta {
        docs::NON_NUMERIC_USER
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let Some(stage) = df.final_stage() else {
            return;
        };
        let eu = semantics::effective_user(df, stage);
        // Root is `root-user`'s; an unresolved user (`USER $APP_UID`) is not judged.
        if eu.state != UserState::NonRoot {
            return;
        }
        let (Some(ins), Some(user)) = (eu.instruction, &eu.user) else {
            return;
        };
        let UserRef::Name(name) = semantics::user_ref(&user.value) else {
            return;
        };
        if WINDOWS_USERS.contains(&name.to_ascii_lowercase().as_str()) || windows_base(df, stage) {
            return;
        }
        let raw = ins.user().map_or(user.value.as_str(), |u| u.written);
        let message = if raw == user.value {
            format!(
                "final stage runs as user name `{}`, not a numeric uid",
                analysis::snippet(&name, 40)
            )
        } else {
            format!(
                "final stage runs as user name `{}` (`USER {}`), not a numeric uid",
                analysis::snippet(&name, 24),
                analysis::snippet(raw, 30)
            )
        };
        let uid = created_uid(df, stage, &name);
        let help = match &uid {
            Some(uid) => {
                let group = (user.value.split_once(':'))
                    .map_or_else(String::new, |(_, g)| format!(":{}", analysis::snippet(g, 24)));
                format!(
                    "use the uid the Dockerfile gives `{}`: `USER {uid}{group}`, so that Kubernetes `runAsNonRoot` can verify it",
                    analysis::snippet(&name, 24)
                )
            }
            None => "use a numeric uid (and gid), e.g. `USER 10001:10001`, so that Kubernetes `runAsNonRoot` can verify it".to_string(),
        };
        let file = cx.file().clone();
        let d = cx.report(user.span, message);
        d.help(help);
        if eu.stage.index != stage.index {
            let stage_name = eu.stage.name.as_ref().map_or("", |n| n.value.as_str());
            d.label(
                &file,
                eu.from.span,
                format!(
                    "the final stage inherits the user of stage `{}`",
                    analysis::snippet(stage_name, 24)
                ),
            );
        }
    }
}

/// The root-most base image of `stage` is a Windows image (`mcr.microsoft.com/windows/...`,
/// `nanoserver`, `servercore` tags): its users are Windows accounts, never numbers.
fn windows_base(df: &Dockerfile, stage: &crate::dockerfile::model::Stage) -> bool {
    let root = semantics::root_stage(df, stage);
    let image = semantics::expand_with_args(df, &root.image.value, Scope::Global)
        .unwrap_or_else(|| root.image.value.clone())
        .to_ascii_lowercase();
    ["windows", "nanoserver", "servercore"]
        .iter()
        .any(|w| image.contains(w))
}

/// The numeric uid a `useradd`/`adduser` in the final stage's chain gives `name`, if one does.
fn created_uid(
    df: &Dockerfile,
    stage: &crate::dockerfile::model::Stage,
    name: &str,
) -> Option<i64> {
    let chain = semantics::stage_chain(df, stage);
    let mut found = None;
    analysis::for_each_run_command(df, &mut |run, cmd, _| {
        if found.is_some() || run.onbuild {
            return;
        }
        if !run
            .stage
            .is_some_and(|s| chain.iter().any(|c| c.index == s.index))
        {
            return;
        }
        found = uid_option(cmd, name);
    });
    found
}

/// `-u N` / `-uN` / `--uid N` / `--uid=N` of a `useradd`/`adduser` command that names `name`.
fn uid_option(cmd: &Command, name: &str) -> Option<i64> {
    let prog = cmd.program()?;
    if !USER_ADDERS.contains(&prog) {
        return None;
    }
    let args = cmd.args();
    if !args.iter().any(|w| w.value == name) {
        return None;
    }
    let mut it = args.iter().map(|w| w.value.as_str());
    while let Some(a) = it.next() {
        let value = match a {
            "-u" | "--uid" => it.next(),
            _ => a
                .strip_prefix("--uid=")
                .or_else(|| a.strip_prefix("-u").filter(|v| !v.is_empty())),
        };
        if let Some(uid) = value.and_then(semantics::go_atoi).filter(|u| *u > 0) {
            return Some(uid);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{diagnostics, findings, spans};

    const R: &str = "non-numeric-user";

    #[test]
    fn a_name_is_flagged_at_the_user_word() {
        assert_eq!(
            findings(R, "FROM alpine:3.20\nUSER app\n"),
            vec![(
                "SLD051",
                "2:6-2:9".to_string(),
                "final stage runs as user name `app`, not a numeric uid".to_string()
            )]
        );
        for (text, want) in [
            ("FROM alpine:3.20\nUSER app:app\n", "app:app"),
            ("FROM alpine:3.20\nUSER nobody\n", "nobody"),
            ("FROM alpine:3.20\nUSER node:1000\n", "node:1000"),
            ("FROM alpine:3.20\nUSER 10001\nUSER app\n", "app"),
            ("FROM alpine:3.20\nUSER \"app\"\n", "\"app\""),
            ("FROM alpine:3.20\nARG U=app\nUSER ${U}\n", "${U}"),
            ("FROM alpine:3.20\nENV U=app\nUSER $U:$U\n", "$U:$U"),
            // only the user part decides: the kubelet never looks at the group
            ("FROM alpine:3.20\nUSER app:$GID\n", "app:$GID"),
        ] {
            assert_eq!(spans(R, text), vec![want.to_string()], "{text}");
        }
        let f = findings(R, "FROM alpine:3.20\nARG U=app\nUSER ${U}\n");
        assert_eq!(
            f[0].2,
            "final stage runs as user name `app` (`USER ${U}`), not a numeric uid"
        );
    }

    #[test]
    fn inherited_user_points_at_the_parent_user() {
        let text = "FROM alpine:3.20 AS base\nUSER app\nFROM base AS final\nRUN id\n";
        let d = diagnostics(R, text);
        assert_eq!(d.len(), 1);
        assert_eq!(&text[d[0].span.range()], "app");
        assert_eq!(&text[d[0].labels[0].span.range()], "FROM base AS final");
    }

    #[test]
    fn help_names_the_uid_the_file_creates() {
        let help = |text: &str| diagnostics(R, text)[0].help.clone().unwrap_or_default();
        assert_eq!(
            help(
                "FROM alpine:3.20\nRUN addgroup -S app && adduser -S -D -u 10001 -G app app\nUSER app:app\n"
            ),
            "use the uid the Dockerfile gives `app`: `USER 10001:app`, so that Kubernetes `runAsNonRoot` can verify it"
        );
        assert!(
            help("FROM debian:12\nRUN useradd --system --uid=999 --no-create-home svc\nUSER svc\n")
                .contains("`USER 999`")
        );
        assert!(
            help("FROM debian:12\nRUN useradd -u 4321 other && useradd svc\nUSER svc\n")
                .contains("e.g. `USER 10001:10001`")
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM alpine:3.20\nUSER 10001\n",
            "FROM alpine:3.20\nUSER 10001:10001\n",
            "FROM alpine:3.20\nUSER 10001:app\n",
            "FROM alpine:3.20\nUSER +10001\n",
            "FROM alpine:3.20\nUSER root\n",
            "FROM alpine:3.20\nUSER 0:0\n",
            "FROM alpine:3.20\nUSER :app\n",
            "FROM alpine:3.20\nARG APP_USER\nUSER $APP_USER\n",
            "FROM alpine:3.20\nUSER ${APP_UID}\n",
            "FROM alpine:3.20\nARG U=10001\nUSER $U:$U\n",
            "FROM alpine:3.20\nRUN id\n",
            "FROM alpine:3.20 AS build\nUSER builder\nFROM alpine:3.20\nUSER 10001\n",
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nUSER ContainerAdministrator\n",
            "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nUSER app\n",
            "FROM example/win-base:1\nUSER ContainerUser\n",
            "",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }
}
