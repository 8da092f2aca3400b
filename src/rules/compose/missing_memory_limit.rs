use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// Neither `mem_limit` nor `deploy.resources.limits.memory`.
pub struct MissingMemoryLimit;

impl Rule for MissingMemoryLimit {
    fn meta(&self) -> &'static RuleMeta {
        docs::MISSING_MEMORY_LIMIT
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            super::check_limit(
                cx,
                service,
                "memory limit",
                &[
                    ("mem_limit", service.mem_limit.as_ref()),
                    (
                        "deploy.resources.limits.memory",
                        service.limits.memory.as_ref(),
                    ),
                ],
                "set a memory limit, e.g. `mem_limit: 512m` (or `deploy.resources.limits.memory`)",
                "512m",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "missing-memory-limit";

    /// With a `deploy` block the limit goes into it, at its deepest written level (Compose
    /// rejects a service-level `mem_limit` beside a `deploy` block that does not match it).
    #[test]
    fn deploy_blocks_get_the_limit() {
        let text = "services:\n  a:\n    image: x\n    deploy:\n      replicas: 2\n  b:\n    image: x\n    deploy:\n      resources:\n        reservations: {memory: 1g}\n  c:\n    image: x\n    deploy:\n      resources:\n        limits:\n          cpus: '0.5' # half\n  d:\n    image: x\n    deploy: {replicas: 1}\n  e:\n    image: x\n    deploy:\n  f:\n    image: x\n";
        assert_eq!(
            super::super::test_util::fixed(RULE, text),
            "services:\n  a:\n    image: x\n    deploy:\n      replicas: 2\n      resources:\n        limits:\n          memory: 512m\n  b:\n    image: x\n    deploy:\n      resources:\n        reservations: {memory: 1g}\n        limits:\n          memory: 512m\n  c:\n    image: x\n    deploy:\n      resources:\n        limits:\n          cpus: '0.5' # half\n          memory: 512m\n  d:\n    image: x\n    deploy: {replicas: 1, resources: {limits: {memory: 512m}}}\n  e:\n    image: x\n    deploy:\n  f:\n    image: x\n    mem_limit: 512m\n"
        );
    }

    #[test]
    fn missing_points_at_service_name() {
        let text = "services:\n  web:\n    image: nginx\n";
        assert_eq!(findings(RULE, text), vec![("SLC004", "web".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `web` sets no memory limit"]
        );
    }

    /// Issue 13: with a `deploy` block, the missing limit belongs in it: the finding points at
    /// the deepest of `deploy`/`resources`/`limits` written.
    #[test]
    fn missing_points_into_the_deploy_block() {
        let text = "services:\n  a:\n    image: nginx\n    deploy:\n      resources:\n        limits:\n          cpus: \"1\"\n  b:\n    image: nginx\n    deploy:\n      replicas: 2\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC004", "limits".to_string()),
                ("SLC004", "deploy".to_string())
            ]
        );
    }

    #[test]
    fn either_key_satisfies() {
        let text = "services:\n  a:\n    image: nginx\n    mem_limit: 512m\n  b:\n    image: nginx\n    deploy:\n      resources:\n        limits:\n          memory: 1G\n  c:\n    image: nginx\n    mem_limit: ${MEM}\n";
        assert!(findings(RULE, text).is_empty());
    }

    #[test]
    fn zero_is_unlimited() {
        let text = "services:\n  web:\n    image: nginx\n    mem_limit: 0\n";
        assert_eq!(findings(RULE, text), vec![("SLC004", "0".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `web` has an unlimited memory limit (`mem_limit: 0`)"]
        );
    }

    #[test]
    fn reservation_is_not_a_limit() {
        let text = "services:\n  web:\n    image: nginx\n    mem_reservation: 256m\n";
        assert_eq!(findings(RULE, text), vec![("SLC004", "web".to_string())]);
    }
}
