use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use crate::compose::keys::{Intended, misspelled_security_key};

/// An unknown service key that is a near miss of a security-relevant key (`read-only` for
/// `read_only`): the protection it was meant to turn on does not apply.
pub struct MisspelledSecurityKey;

impl Rule for MisspelledSecurityKey {
    fn meta(&self) -> &'static RuleMeta {
        docs::MISSPELLED_SECURITY_KEY
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for key in &service.keys {
                let Some(intended) = misspelled_security_key(&key.value) else {
                    continue;
                };
                let help = match intended {
                    Intended::Key(k) => format!("rename to `{k}`"),
                    Intended::NoNewPrivileges => {
                        "replace with `security_opt: [\"no-new-privileges:true\"]`".to_string()
                    }
                };
                cx.report(
                    key.span,
                    format!(
                        "service `{}` has misspelled security key `{}`",
                        super::svc(service),
                        crate::source::clip(&key.value, 26)
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

    const RULE: &str = "misspelled-security-key";

    #[test]
    fn reports_key() {
        let text = "services:\n  web:\n    image: x:1\n    read-only: true\n    no-new-privileges: true\n    enviroment: {}\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC030", "read-only".to_string()),
                ("SLC030", "no-new-privileges".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `web` has misspelled security key `read-only`",
                "service `web` has misspelled security key `no-new-privileges`",
            ]
        );
    }
}
