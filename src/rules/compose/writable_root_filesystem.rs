use crate::compose::model::{ComposeFile, Service};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// `read_only` is not true.
pub struct WritableRootFilesystem;

const HELP: &str =
    "set `read_only: true` and mount `tmpfs` or volumes where the service must write";

const FIX: &str = "set `read_only: true`, with a tmpfs at `/tmp`";

/// The tmpfs at `/tmp` the fix adds with `read_only: true` (most programs write temporary
/// files there): `Some(None)` when the service already mounts something at `/tmp`, `None`
/// when the tmpfs cannot be placed (then the fix is not offered).
fn tmp_edit(text: &str, service: &Service) -> Option<Option<(Span, String)>> {
    let at_tmp = |t: &str| {
        t.trim()
            .split(':')
            .next()
            .is_some_and(|p| p.trim_end_matches('/') == "/tmp")
    };
    let mounted = service
        .tmpfs
        .iter()
        .any(|t| t.value.known().is_some_and(at_tmp))
        || (service.volumes.iter()).any(|v| {
            v.target
                .as_ref()
                .and_then(|t| t.value.known())
                .is_some_and(at_tmp)
        });
    if mounted {
        return Some(None);
    }
    if service.keys.iter().any(|k| k.value == "tmpfs") && service.tmpfs.is_empty() {
        // `tmpfs: /tmp` as a string, or unknown: not ours to rewrite
        return None;
    }
    super::add_to_seq(text, service, "tmpfs", &service.tmpfs, &["/tmp"]).map(Some)
}

impl Rule for WritableRootFilesystem {
    fn meta(&self) -> &'static RuleMeta {
        docs::WRITABLE_ROOT_FILESYSTEM
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let name = super::svc(service);
            match &service.read_only {
                None => {
                    let fix = super::editable(cx, service.span.file).and_then(|f| {
                        let ro = crate::compose::edit::insert_key(
                            &f.text,
                            service,
                            "read_only",
                            &crate::compose::edit::YValue::Scalar("true".into()),
                        );
                        super::fix_of(
                            &f,
                            Applicability::Unsafe,
                            FIX,
                            std::iter::once(ro).chain(tmp_edit(&f.text, service)?.map(Some)),
                        )
                    });
                    let d = cx.report(
                        service.name.span,
                        format!(
                            "service `{name}` has a writable root filesystem (`read_only` not set)"
                        ),
                    );
                    d.help(HELP);
                    super::attach(d, fix);
                }
                Some(v) if v.value.as_bool() == Some(false) => {
                    let fix = super::editable(cx, service.span.file).and_then(|f| {
                        let ro = crate::compose::edit::replace_scalar(&f.text, service, v, "true");
                        super::fix_of(
                            &f,
                            Applicability::Unsafe,
                            FIX,
                            std::iter::once(ro).chain(tmp_edit(&f.text, service)?.map(Some)),
                        )
                    });
                    let d = cx.report(
                        v.span,
                        format!(
                            "service `{name}` has a writable root filesystem (`read_only: {}`)",
                            crate::source::clip(v.value.text(), 12)
                        ),
                    );
                    d.help(HELP);
                    super::attach(d, fix);
                }
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    const RULE: &str = "writable-root-filesystem";

    #[test]
    fn missing_and_false() {
        let text = "services:\n  a:\n    image: nginx\n  b:\n    image: nginx\n    read_only: false\n  c:\n    image: nginx\n    read_only: true\n  d:\n    image: nginx\n    read_only: ${RO}\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC003", "a".to_string()), ("SLC003", "false".to_string())]
        );
    }
}
