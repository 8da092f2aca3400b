use crate::compose::model::{ComposeFile, Service};
use crate::dockerfile::semantics::{UserState, effective_user, is_root_user, target_stage};
use crate::docs::{self, RuleMeta};
use crate::rules::well_known_images::{BaseUser, base_user};
use crate::rules::{Ctx, Rule};

/// The service runs as root: `user: root`/`0`, or no `user` and a built Dockerfile that ends as root.
pub struct ServiceRootUser;

const HELP: &str = "set a numeric non-root `user`, e.g. `user: \"10001:10001\"`";

/// The user the fix sets: the numeric non-root user of the help.
const NON_ROOT: &str = "10001:10001";

const FIX: &str = "set `user: \"10001:10001\"`";

impl Rule for ServiceRootUser {
    fn meta(&self) -> &'static RuleMeta {
        docs::SERVICE_ROOT_USER
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let name = super::svc(service);
            if let Some(user) = &service.user {
                let Some(text) = user.value.known() else {
                    continue;
                };
                if !text.trim().is_empty() {
                    if is_root_user(text) == Some(true) {
                        let fix = super::editable(cx, service.span.file).and_then(|f| {
                            let edit =
                                crate::compose::edit::scalar_text(&f.text, service, user.span)
                                    .and_then(|inner| {
                                        let quoted = matches!(
                                            f.text.as_bytes().get(user.span.start as usize),
                                            Some(b'"' | b'\'')
                                        );
                                        if quoted {
                                            crate::compose::edit::splice_scalar(
                                                &f.text,
                                                service,
                                                user.span,
                                                0,
                                                inner.len(),
                                                NON_ROOT,
                                            )
                                        } else {
                                            // plain: quoted, as `10001:10001` reads as a number to YAML 1.1
                                            (!inner.contains(['$', '#']))
                                                .then(|| (user.span, format!("\"{NON_ROOT}\"")))
                                        }
                                    });
                            super::fix_of(&f, crate::fix::Applicability::Unsafe, FIX, [edit])
                        });
                        let d = cx.report(
                            user.span,
                            format!(
                                "service `{name}` runs as root (`user: {}`)",
                                crate::source::clip(text.trim(), 24)
                            ),
                        );
                        d.help(HELP);
                        super::attach(d, fix);
                    }
                    continue;
                }
                // `user: ""` leaves the image's user in force.
            }
            check_built_image(cx, service);
        }
    }
}

/// No `user`: the Dockerfile the service builds decides, when sandlint can read it.
fn check_built_image(cx: &mut Ctx<'_>, service: &Service) {
    let name = super::svc(service);
    let Some(build) = &service.build else { return };
    if build
        .target
        .as_ref()
        .is_some_and(|t| t.value.known().is_none())
    {
        return;
    }
    let Some(built) = cx.build_of(&service.name.value) else {
        return;
    };
    let Some(stage) = target_stage(&built.dockerfile, built.target.as_deref()) else {
        return;
    };
    let eu = effective_user(&built.dockerfile, stage);
    if eu.state != UserState::Root {
        return;
    }
    let (message, span, label) = match (&eu.user, eu.instruction) {
        (Some(user), _) => (
            format!(
                "service `{name}` runs as root (its Dockerfile sets `USER {}`)",
                crate::source::clip(&user.value, 16)
            ),
            user.span,
            "the image's user is set to root here",
        ),
        (None, Some(ins)) => (
            format!("service `{name}` runs as root (its Dockerfile's `USER` is root)"),
            ins.span,
            "the image's user is set to root here",
        ),
        (None, None) => {
            // No USER in the chain: only a base image known to run as root decides here; an
            // unknown registry base is reported on the Dockerfile by `unknown-image-user`.
            let BaseUser::Root { image, .. } = base_user(&built.dockerfile, &eu) else {
                return;
            };
            (
                format!(
                    "service `{name}` runs as root (its Dockerfile sets no `USER` and base image `{}` runs as root)",
                    crate::source::clip(&image, 60)
                ),
                eu.from.span,
                "no `USER` in this stage or its parents, and this base image runs as root",
            )
        }
    };
    let fix = super::editable(cx, service.span.file).and_then(|f| {
        let value = crate::compose::edit::YValue::Scalar(format!("\"{NON_ROOT}\""));
        let edit = crate::compose::edit::insert_key(&f.text, service, "user", &value);
        super::fix_of(&f, crate::fix::Applicability::Unsafe, FIX, [edit])
    });
    let d = cx.report(service.name.span, message);
    d.label(&built.file, span, label).help(format!(
        "{HELP}, or add a non-root `USER` to the Dockerfile"
    ));
    super::attach(d, fix);
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};
    use crate::source::SourceFile;
    use crate::testing::{FileKind, Selection, lint_file};

    const RULE: &str = "service-root-user";

    #[test]
    fn explicit_root_spellings() {
        let text = "services:\n  a:\n    image: x\n    user: root\n  b:\n    image: x\n    user: \"0\"\n  c:\n    image: x\n    user: \"0:0\"\n  d:\n    image: x\n    user: root:staff\n  e:\n    image: x\n    user: \"10001:10001\"\n  f:\n    image: x\n    user: ${APP_UID}\n  g:\n    image: x\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC007", "root".to_string()),
                ("SLC007", "\"0\"".to_string()),
                ("SLC007", "\"0:0\"".to_string()),
                ("SLC007", "root:staff".to_string()),
            ]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `a` runs as root (`user: root`)")
        );
    }

    #[test]
    fn every_spelling_of_uid_0() {
        let text = "services:\n  a:\n    image: x\n    user: \"+0\"\n  b:\n    image: x\n    user: \"00:00\"\n  c:\n    image: x\n    user: \"-0\"\n  d:\n    image: x\n    user: \" 0\"\n  e:\n    image: x\n    user: \":0\"\n  f:\n    image: x\n    user: \"+1\"\n  g:\n    image: x\n    user: \"0x0\"\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC007", "\"+0\"".to_string()),
                ("SLC007", "\"00:00\"".to_string()),
                ("SLC007", "\"-0\"".to_string()),
                ("SLC007", "\" 0\"".to_string()),
                ("SLC007", "\":0\"".to_string()),
            ]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `a` runs as root (`user: +0`)")
        );
    }

    #[test]
    fn issue_13_spellings() {
        let text = "services:\n  a:\n    image: x\n    user: root:root\n  b:\n    image: x\n    user: \"0:1000\"\n  c:\n    image: x\n    user: ${UID:-0}\n  d:\n    image: x\n    user: \"${UID:-0}:${GID:-0}\"\n  e:\n    image: x\n    user: \"1000\"\n  f:\n    image: x\n    user: app\n  g:\n    image: x\n    user: \"+1000\"\n  h:\n    image: x\n    user: \"app:0\"\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC007", "root:root".to_string()),
                ("SLC007", "\"0:1000\"".to_string()),
                ("SLC007", "${UID:-0}".to_string()),
                ("SLC007", "\"${UID:-0}:${GID:-0}\"".to_string()),
            ]
        );
        assert_eq!(
            messages(RULE, text).get(2).map(String::as_str),
            Some("service `c` runs as root (`user: 0`)")
        );
    }

    #[test]
    fn default_from_interpolation() {
        let text = "services:\n  a:\n    image: x\n    user: ${APP_USER:-root}\n";
        assert_eq!(findings(RULE, text).len(), 1);
    }

    /// Lints `compose` in a temp dir holding `files`; returns `(span text, label file, label text)`.
    fn lint_project(compose: &str, files: &[(&str, &str)]) -> Vec<(String, Vec<(String, String)>)> {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let path = dir.path().join("compose.yaml");
        std::fs::write(&path, compose).unwrap();
        let file = SourceFile::new(path, "compose.yaml", compose.to_string()).into_ref();
        let result = lint_file(file, FileKind::Compose, &Selection::only(RULE));
        result
            .diagnostics
            .iter()
            .map(|d| {
                assert_eq!(d.rule.code, "SLC007");
                let labels = d
                    .labels
                    .iter()
                    .map(|l| {
                        let name = l
                            .file
                            .path
                            .file_name()
                            .unwrap()
                            .to_string_lossy()
                            .to_string();
                        (name, l.file.slice(l.span).to_string())
                    })
                    .collect();
                (compose.get(d.span.range()).unwrap().to_string(), labels)
            })
            .collect()
    }

    #[test]
    fn built_dockerfile_without_user() {
        let compose = "services:\n  app:\n    build: .\n";
        let found = lint_project(
            compose,
            &[("Dockerfile", "FROM alpine:3.20\nRUN echo hi\n")],
        );
        assert_eq!(
            found,
            vec![(
                "app".to_string(),
                vec![("Dockerfile".to_string(), "FROM alpine:3.20".to_string())]
            )]
        );
    }

    #[test]
    fn built_dockerfile_with_root_user_and_target() {
        let compose = "services:\n  app:\n    build:\n      context: ./svc\n      target: dev\n  prod:\n    build:\n      context: ./svc\n";
        let dockerfile =
            "FROM alpine:3.20 AS dev\nUSER root\n\nFROM alpine:3.20 AS prod\nUSER 10001\n";
        let found = lint_project(compose, &[("svc/Dockerfile", dockerfile)]);
        assert_eq!(
            found,
            vec![(
                "app".to_string(),
                vec![("Dockerfile".to_string(), "root".to_string())]
            )]
        );
    }

    #[test]
    fn non_root_dockerfile_user_and_compose_user_override() {
        let compose = "services:\n  a:\n    build: .\n  b:\n    build: ./root\n    user: \"10001\"\n  c:\n    image: nginx\n";
        let found = lint_project(
            compose,
            &[
                ("Dockerfile", "FROM alpine:3.20\nUSER 10001:10001\n"),
                ("root/Dockerfile", "FROM alpine\n"),
            ],
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn built_on_a_registry_base_with_unknown_or_non_root_user() {
        // issue 10 item 4: no `USER` on a base image that is not known to run as root is not
        // "runs as root"; only the Dockerfile's `unknown-image-user` (info) reports it.
        let compose =
            "services:\n  g:\n    build: ./g\n  x:\n    build: ./x\n  s:\n    build: ./s\n";
        let found = lint_project(
            compose,
            &[
                ("g/Dockerfile", "FROM grafana/grafana:11.1.0\nCOPY a /a\n"),
                ("x/Dockerfile", "FROM ghcr.io/acme/base:1\n"),
                ("s/Dockerfile", "FROM scratch\nCOPY app /app\n"),
            ],
        );
        assert_eq!(
            found,
            vec![(
                "s".to_string(),
                vec![("Dockerfile".to_string(), "FROM scratch".to_string())]
            )]
        );
    }

    #[test]
    fn missing_dockerfile_is_not_judged() {
        let found = lint_project("services:\n  a:\n    build: ./nowhere\n", &[]);
        assert!(found.is_empty());
    }
}
