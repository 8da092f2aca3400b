use crate::compose::model::{ComposeFile, SValue};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `security_opt` entries that switch off seccomp, AppArmor, SELinux or the masked paths.
pub struct ConfinementDisabled;

/// What a `security_opt` entry switches off: `(what, help)`.
fn disabled(entry: &SValue) -> Option<(&'static str, &'static str)> {
    let text = entry.value.known()?.trim().to_ascii_lowercase();
    let at = text.find([':', '='])?;
    let key = text.get(..at)?.trim();
    let value = text.get(at + 1..)?.trim();
    match (key, value) {
        ("seccomp", "unconfined") => Some((
            "seccomp",
            "remove it; if one syscall is missing, use a custom seccomp profile that allows just that",
        )),
        ("apparmor", "unconfined") => Some((
            "AppArmor",
            "remove it; if the default profile is too strict, load a custom AppArmor profile",
        )),
        ("label", "disable") => Some((
            "SELinux labeling",
            "remove it; relabel bind mounts with `:z` or `:Z` instead",
        )),
        ("label", "type:spc_t") => Some((
            "SELinux confinement",
            "remove it; relabel bind mounts with `:z` or `:Z` instead",
        )),
        ("systempaths", "unconfined") => Some((
            "path masking",
            "remove it; mount only the specific path the service needs",
        )),
        _ => None,
    }
}

impl Rule for ConfinementDisabled {
    fn meta(&self) -> &'static RuleMeta {
        docs::CONFINEMENT_DISABLED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for entry in &service.security_opt {
                let Some((what, help)) = disabled(entry) else {
                    continue;
                };
                cx.report(
                    entry.span,
                    format!(
                        "service `{}` disables {what} (`{}`)",
                        super::svc(service),
                        crate::source::clip(entry.value.text().trim(), 22)
                    ),
                )
                .help(help);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "confinement-disabled";

    #[test]
    fn flags_each_form() {
        for entry in [
            "seccomp:unconfined",
            "seccomp=unconfined",
            "apparmor:unconfined",
            "apparmor=unconfined",
            "label:disable",
            "label=disable",
            "label=type:spc_t",
            "systempaths=unconfined",
            "Seccomp = Unconfined",
        ] {
            let text = format!(
                "services:\n  a:\n    image: x:1\n    security_opt:\n      - \"{entry}\"\n"
            );
            assert_eq!(
                findings(RULE, &text),
                vec![("SLC017", format!("\"{entry}\""))],
                "{entry}"
            );
        }
    }

    #[test]
    fn not_flagged() {
        let text = "services:\n  a:\n    image: x:1\n    security_opt:\n      - no-new-privileges:true\n      - seccomp:./profile.json\n      - apparmor:docker-default\n      - label:type:container_t\n      - ${OPT}\n";
        assert!(findings(RULE, text).is_empty());
    }

    #[test]
    fn message() {
        let text = "services:\n  a:\n    image: x:1\n    security_opt: [seccomp:unconfined]\n";
        assert_eq!(
            messages(RULE, text),
            vec!["service `a` disables seccomp (`seccomp:unconfined`)"]
        );
    }
}
