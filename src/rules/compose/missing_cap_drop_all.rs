use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// `cap_drop` lacks `ALL`.
pub struct MissingCapDropAll;

impl Rule for MissingCapDropAll {
    fn meta(&self) -> &'static RuleMeta {
        docs::MISSING_CAP_DROP_ALL
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            let mut unknown = false;
            let mut all = false;
            for cap in &service.cap_drop {
                match cap.value.known() {
                    Some(c) if c.trim().eq_ignore_ascii_case("all") => all = true,
                    Some(_) => {}
                    None => unknown = true,
                }
            }
            if all || unknown {
                continue;
            }
            let name = super::svc(service);
            let (span, message) = match super::key_span(service, "cap_drop") {
                Some(span) => (
                    span,
                    format!(
                        "service `{name}` does not drop all capabilities (no `ALL` in `cap_drop`)"
                    ),
                ),
                None => (
                    service.name.span,
                    format!("service `{name}` does not drop all capabilities (no `cap_drop`)"),
                ),
            };
            let fix = super::editable(cx, service.span.file).and_then(|f| {
                let edit =
                    super::add_to_seq(&f.text, service, "cap_drop", &service.cap_drop, &["ALL"]);
                super::fix_of(
                    &f,
                    crate::fix::Applicability::Unsafe,
                    "add `ALL` to `cap_drop`",
                    [edit],
                )
            });
            let d = cx.report(span, message);
            d.help("set `cap_drop: [ALL]` and add back only what the service needs with `cap_add`");
            super::attach(d, fix);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "missing-cap-drop-all";

    #[test]
    fn missing_points_at_service_name() {
        let text = "services:\n  web:\n    image: nginx\n";
        assert_eq!(findings(RULE, text), vec![("SLC012", "web".to_string())]);
        assert_eq!(
            messages(RULE, text),
            vec!["service `web` does not drop all capabilities (no `cap_drop`)"]
        );
    }

    #[test]
    fn partial_drop_points_at_key() {
        let text = "services:\n  web:\n    image: nginx\n    cap_drop:\n      - NET_RAW\n      - CAP_ALL\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC012", "cap_drop".to_string())]
        );
    }

    #[test]
    fn all_any_case_and_unknown() {
        let text = "services:\n  a:\n    image: nginx\n    cap_drop: [all]\n  b:\n    image: nginx\n    cap_drop: [ALL]\n  c:\n    image: nginx\n    cap_drop: [\"${DROP}\"]\n";
        assert!(findings(RULE, text).is_empty());
    }
}
