use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// None of `cpus`, `deploy.resources.limits.cpus`, `cpu_quota`.
pub struct MissingCpuLimit;

impl Rule for MissingCpuLimit {
    fn meta(&self) -> &'static RuleMeta {
        docs::MISSING_CPU_LIMIT
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            super::check_limit(
                cx,
                service,
                "CPU limit",
                &[
                    ("cpus", service.cpus.as_ref()),
                    ("deploy.resources.limits.cpus", service.limits.cpus.as_ref()),
                    ("cpu_quota", service.cpu_quota.as_ref()),
                ],
                "set a CPU limit, e.g. `cpus: \"1.0\"` (or `deploy.resources.limits.cpus`)",
                "\"1.0\"",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "missing-cpu-limit";

    #[test]
    fn missing_points_at_service_name() {
        let text = "services:\n  web:\n    image: nginx\n    cpu_shares: 512\n";
        assert_eq!(findings(RULE, text), vec![("SLC005", "web".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `web` sets no CPU limit"]
        );
    }

    #[test]
    fn any_key_satisfies() {
        let text = "services:\n  a:\n    image: nginx\n    cpus: 0.5\n  b:\n    image: nginx\n    deploy:\n      resources:\n        limits:\n          cpus: '2'\n  c:\n    image: nginx\n    cpu_quota: 50000\n";
        assert!(findings(RULE, text).is_empty());
    }

    #[test]
    fn zero_and_minus_one_are_unlimited() {
        let text = "services:\n  a:\n    image: nginx\n    cpus: 0\n  b:\n    image: nginx\n    cpu_quota: -1\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC005", "0".to_string()), ("SLC005", "-1".to_string())]
        );
    }
}
