use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// A published host port (or a port of a published range) below 1024.
pub struct PrivilegedPortPublished;

/// The lowest port of `80` or `80-90`, when it is a number.
fn lowest_port(published: &str) -> Option<u32> {
    let first = published.split('-').next()?.trim();
    first.parse().ok()
}

impl Rule for PrivilegedPortPublished {
    fn meta(&self) -> &'static RuleMeta {
        docs::PRIVILEGED_PORT_PUBLISHED
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for port in &service.ports {
                let Some(published) = &port.published else {
                    continue;
                };
                let Some(text) = published.value.known() else {
                    continue;
                };
                // 0 asks for a random host port
                if !lowest_port(text).is_some_and(|p| (1..1024).contains(&p)) {
                    continue;
                }
                cx.report(
                    published.span,
                    format!(
                        "service `{}` publishes privileged host port {}",
                        super::svc(service),
                        crate::source::clip(text.trim(), 12)
                    ),
                )
                .help("publish a host port of 1024 or above (e.g. `8080:80`), and put a reverse proxy in front if port 80/443 is needed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "privileged-port-published";

    #[test]
    fn short_long_and_ranges() {
        let text = "services:\n  a:\n    image: x:1\n    ports:\n      - \"80:8080\"\n      - \"127.0.0.1:443:8443\"\n      - \"1000-1100:1000-1100\"\n      - \"8080:80\"\n      - \"53\"\n      - \"0:53\"\n      - \"${P}:80\"\n      - target: 22\n        published: 22\n      - target: 80\n        published: \"8081\"\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC021", "80".to_string()),
                ("SLC021", "443".to_string()),
                ("SLC021", "1000-1100".to_string()),
                ("SLC021", "22".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `a` publishes privileged host port 80")
        );
    }
}
