use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// Neither `pids_limit` nor `deploy.resources.limits.pids`.
pub struct MissingPidsLimit;

impl Rule for MissingPidsLimit {
    fn meta(&self) -> &'static RuleMeta {
        docs::MISSING_PIDS_LIMIT
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            super::check_limit(
                cx,
                service,
                "process limit",
                &[
                    ("pids_limit", service.pids_limit.as_ref()),
                    ("deploy.resources.limits.pids", service.limits.pids.as_ref()),
                ],
                "set a positive process limit, e.g. `pids_limit: 200`",
                "200",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "missing-pids-limit";

    #[test]
    fn missing_points_at_service_name() {
        let text = "services:\n  web:\n    image: nginx\n";
        assert_eq!(findings(RULE, text), vec![("SLC006", "web".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `web` sets no process limit"]
        );
    }

    #[test]
    fn unlimited_values_point_at_the_value() {
        let text = "services:\n  a:\n    image: nginx\n    pids_limit: -1\n  b:\n    image: nginx\n    deploy:\n      resources:\n        limits:\n          pids: 0\n  c:\n    image: nginx\n    pids_limit: 100\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC006", "-1".to_string()), ("SLC006", "0".to_string())]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `a` has an unlimited process limit (`pids_limit: -1`)")
        );
    }

    #[test]
    fn unknown_is_not_judged() {
        let text = "services:\n  a:\n    image: nginx\n    pids_limit: ${PIDS}\n";
        assert!(findings(RULE, text).is_empty());
    }
}
