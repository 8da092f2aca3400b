use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use crate::compose::keys::{closest_key, is_known_key, misspelled_security_key};

/// A service key that the Compose specification does not define (and that is not `x-*`).
pub struct UnknownServiceKey;

impl Rule for UnknownServiceKey {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNKNOWN_SERVICE_KEY
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for key in &service.keys {
                let k = key.value.as_str();
                // `misspelled-security-key` reports those
                if is_known_key(k) || misspelled_security_key(k).is_some() {
                    continue;
                }
                let help = match closest_key(k) {
                    Some(known) => format!("rename to `{known}`"),
                    None => "remove the key, or prefix it with `x-` to mark it as an extension"
                        .to_string(),
                };
                cx.report(
                    key.span,
                    format!(
                        "service `{}` has unknown key `{}`",
                        super::svc(service),
                        crate::source::clip(k, 36)
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

    const RULE: &str = "unknown-service-key";

    #[test]
    fn flags_unknown_keys() {
        let text = "services:\n  a:\n    image: x:1\n    enviroment: {A: b}\n    x-note: ok\n    read-only: true\n    log_driver: syslog\n    restart: always\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC031", "enviroment".to_string()),
                ("SLC031", "log_driver".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `a` has unknown key `enviroment`",
                "service `a` has unknown key `log_driver`",
            ]
        );
    }
}
