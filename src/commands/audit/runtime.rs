//! The audit rules read from the inspect itself: `unbounded-restart-policy` (SLA002) and
//! `no-healthcheck` (SLA003), CIS Docker Benchmark 5.15 and 5.27.

use crate::config::Config;
use crate::diagnostic::{Diagnostic, StableHasher};
use crate::docs;
use crate::meta::RuleMeta;
use crate::sandbox::audit::Audited;
use crate::source::{FileRef, Span};

/// The most retries `on-failure` may have (CIS 5.15).
const MAX_RETRIES: i64 = 5;

/// Adds the findings of the inspect-only rules the config runs.
pub fn check(c: &Audited, doc: &FileRef, config: &Config, findings: &mut Vec<Diagnostic>) {
    let model = crate::compose::load(&doc.text, &crate::compose::Vars::default());
    let Some(service) = model.services.first() else {
        return;
    };
    let key = |k: &str| (service.keys.iter()).find(|s| s.value == k).map(|s| s.span);
    let (policy, retries) = (&c.restart.0, c.restart.1);
    let unbounded = match policy.as_str() {
        "always" | "unless-stopped" => Some(format!("`{policy}`")),
        "on-failure" if retries <= 0 => Some("`on-failure` without a retry limit".to_string()),
        "on-failure" if retries > MAX_RETRIES => Some(format!("`on-failure:{retries}`")),
        _ => None,
    };
    let mut add = |meta: &'static RuleMeta, span: Span, message: String, help: &str| {
        let Some(severity) = config.decide(meta, &doc.path, Some(&service.name.value)) else {
            return;
        };
        let mut d = Diagnostic::new(meta, doc.clone(), span, message);
        d.severity = severity;
        d.scope = Some(service.name.value.as_str().into());
        d.help(help.to_string());
        let mut h = StableHasher::new();
        h.part(meta.code);
        h.part(&doc.display);
        h.part(&service.name.value);
        d.fingerprint = h.hex();
        findings.push(d);
    };
    if let Some(how) = unbounded {
        add(
            docs::UNBOUNDED_RESTART_POLICY,
            key("restart").unwrap_or(service.name.span),
            format!(
                "service `{}` restarts without bound ({how})",
                service.name.value
            ),
            "bound the retries: `docker update --restart on-failure:5`, or `restart: on-failure:5` in its Compose file",
        );
    }
    if !c.healthcheck {
        add(
            docs::NO_HEALTHCHECK,
            service.name.span,
            format!(
                "service `{}` has no health check (neither its image nor its run gives one)",
                service.name.value
            ),
            "add a `HEALTHCHECK` to the image, or `healthcheck: { test: [...] }` to its Compose file",
        );
    }
    findings.sort_by_key(|d| (d.span.start, d.rule.code));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(restart: (&str, i64), healthcheck: bool) -> Vec<&'static str> {
        let document = "services:\n  web:\n    image: \"i\"\n    restart: \"x\"\n".to_string();
        let c = Audited {
            name: "web".to_string(),
            short_id: "0123456789ab".to_string(),
            image: "i".to_string(),
            running: true,
            compose: None,
            document: document.clone(),
            restart: (restart.0.to_string(), restart.1),
            healthcheck,
        };
        let doc = crate::source::SourceFile::virtual_file("container://web", document).into_ref();
        let mut findings = Vec::new();
        check(&c, &doc, &Config::default(), &mut findings);
        findings.iter().map(|d| d.rule.code).collect()
    }

    #[test]
    fn restart_policies() {
        for bounded in [("", 0), ("no", 0), ("on-failure", 1), ("on-failure", 5)] {
            assert_eq!(codes(bounded, true), Vec::<&str>::new(), "{bounded:?}");
        }
        for unbounded in [
            ("always", 0),
            ("unless-stopped", 0),
            ("on-failure", 0),
            ("on-failure", 6),
        ] {
            assert_eq!(codes(unbounded, true), ["SLA002"], "{unbounded:?}");
        }
    }

    #[test]
    fn missing_healthcheck() {
        assert_eq!(codes(("no", 0), false), ["SLA003"]);
    }
}
