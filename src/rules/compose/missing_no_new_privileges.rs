use crate::compose::model::{ComposeFile, SValue};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};

/// `security_opt` lacks `no-new-privileges`.
pub struct MissingNoNewPrivileges;

const FIX: &str = "set `no-new-privileges:true` in `security_opt`";

const HELP: &str = "add `no-new-privileges:true` to the service's `security_opt`";

/// What a `security_opt` entry says about no-new-privileges.
#[derive(Debug, PartialEq, Eq)]
enum Nnp {
    /// Not a no-new-privileges entry.
    Other,
    On,
    Off,
    /// Depends on an unset variable, or a value the daemon would reject.
    Unknown,
}

fn classify(entry: &SValue) -> Nnp {
    let Some(text) = entry.value.known() else {
        return Nnp::Unknown;
    };
    let text = text.trim();
    let Some(rest) = text
        .get(..17)
        .filter(|p| p.eq_ignore_ascii_case("no-new-privileges"))
        .and_then(|_| text.get(17..))
    else {
        return Nnp::Other;
    };
    if rest.is_empty() {
        return Nnp::On;
    }
    let Some(value) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) else {
        return Nnp::Other;
    };
    // Go's strconv.ParseBool, which the daemon uses.
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Nnp::On,
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Nnp::Off,
        _ => Nnp::Unknown,
    }
}

impl Rule for MissingNoNewPrivileges {
    fn meta(&self) -> &'static RuleMeta {
        docs::MISSING_NO_NEW_PRIVILEGES
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let name = super::svc(service);
            // The daemon applies the entries in order: the last one wins.
            let last = service
                .security_opt
                .iter()
                .map(|e| (e, classify(e)))
                .rfind(|(_, c)| *c != Nnp::Other);
            match last {
                Some((_, Nnp::On | Nnp::Unknown)) => {}
                Some((entry, _)) => {
                    let fix = super::editable(cx, service.span.file).and_then(|f| {
                        let edit = crate::compose::edit::replace_scalar(
                            &f.text,
                            service,
                            entry,
                            "no-new-privileges:true",
                        );
                        super::fix_of(&f, Applicability::Safe, FIX, [edit])
                    });
                    let d = cx.report(
                        entry.span,
                        format!(
                            "service `{name}` allows privilege escalation (`{}`)",
                            crate::source::clip(entry.value.text(), 27)
                        ),
                    );
                    d.help("set `no-new-privileges:true`");
                    super::attach(d, fix);
                }
                None => {
                    let span =
                        super::key_span(service, "security_opt").unwrap_or(service.name.span);
                    let fix = super::editable(cx, service.span.file).and_then(|f| {
                        let edit = super::add_to_seq(
                            &f.text,
                            service,
                            "security_opt",
                            &service.security_opt,
                            &["no-new-privileges:true"],
                        );
                        super::fix_of(&f, Applicability::Safe, FIX, [edit])
                    });
                    let d = cx.report(
                        span,
                        format!("service `{name}` does not set `no-new-privileges`"),
                    );
                    d.help(HELP);
                    super::attach(d, fix);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "missing-no-new-privileges";

    #[test]
    fn missing_points_at_service_name() {
        let text = "services:\n  web:\n    image: nginx\n";
        assert_eq!(findings(RULE, text), vec![("SLC002", "web".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `web` does not set `no-new-privileges`"]
        );
    }

    #[test]
    fn other_options_point_at_security_opt_key() {
        let text =
            "services:\n  web:\n    image: nginx\n    security_opt:\n      - apparmor=unconfined\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC002", "security_opt".to_string())]
        );
    }

    #[test]
    fn accepted_spellings() {
        for opt in [
            "no-new-privileges",
            "no-new-privileges:true",
            "no-new-privileges=true",
            "\"no-new-privileges:1\"",
        ] {
            let text = format!("services:\n  web:\n    image: nginx\n    security_opt: [{opt}]\n");
            assert!(findings(RULE, &text).is_empty(), "{opt}");
        }
    }

    #[test]
    fn false_points_at_the_entry() {
        let text = "services:\n  web:\n    image: nginx\n    security_opt:\n      - no-new-privileges:false\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC002", "no-new-privileges:false".to_string())]
        );
    }

    #[test]
    fn last_entry_wins() {
        let text = "services:\n  a:\n    image: nginx\n    security_opt: [no-new-privileges:false, no-new-privileges:true]\n  b:\n    image: nginx\n    security_opt: [no-new-privileges:true, no-new-privileges=false]\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC002", "no-new-privileges=false".to_string())]
        );
    }

    #[test]
    fn unknown_entry_is_not_judged() {
        let text = "services:\n  web:\n    image: nginx\n    security_opt: [\"${SECOPT}\"]\n";
        assert!(findings(RULE, text).is_empty());
    }
}
