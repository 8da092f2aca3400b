use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `logging: { driver: none }`.
pub struct LoggingDisabled;

impl Rule for LoggingDisabled {
    fn meta(&self) -> &'static RuleMeta {
        docs::LOGGING_DISABLED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let Some(driver) = &service.logging_driver else {
                continue;
            };
            if driver.value.known().map(str::trim) != Some("none") {
                continue;
            }
            cx.report(
                driver.span,
                format!(
                    "service `{}` discards its logs (`logging.driver: none`)",
                    super::svc(service)
                ),
            )
            .help("use a logging driver (e.g. `local` or `json-file` with `max-size`) so incidents leave a trace");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "logging-disabled";

    #[test]
    fn flags_none_only() {
        let text = "services:\n  a:\n    image: x:1\n    logging:\n      driver: none\n  b:\n    image: x:1\n    logging:\n      driver: local\n  c:\n    image: x:1\n    logging:\n      options:\n        max-size: 10m\n";
        assert_eq!(findings(RULE, text), vec![("SLC028", "none".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `a` discards its logs (`logging.driver: none`)"]
        );
    }
}
