use crate::compose::devcontainer::Devcontainer;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLV001: `initializeCommand` runs on the host.
pub struct InitializeCommandOnHost;

impl Rule for InitializeCommandOnHost {
    fn meta(&self) -> &'static RuleMeta {
        docs::INITIALIZE_COMMAND_ON_HOST
    }

    fn check_devcontainer(&self, cx: &mut Ctx<'_>, dc: &Devcontainer) {
        for c in dc.commands.iter().filter(|c| c.on_host()) {
            let text = cx.text().get(c.span.range()).unwrap_or("");
            let message = format!(
                "`initializeCommand` runs on the host, as you, whenever the folder is opened: `{}`",
                crate::dockerfile::analysis::snippet(text, 60)
            );
            cx.report(c.span, message).help(
                "run it in the container instead (`onCreateCommand`, `postCreateCommand`), or \
                 make it a script that people run knowingly",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{FileKind, Selection, lint_text};

    fn found(text: &str) -> Vec<(String, String)> {
        lint_text(
            FileKind::Devcontainer,
            "devcontainer.json",
            text,
            &Selection::only("SLV001"),
        )
        .into_iter()
        .map(|d| (d.rule.code.to_string(), text[d.span.range()].to_string()))
        .collect()
    }

    #[test]
    fn every_form_on_the_value() {
        assert_eq!(
            found("{ \"initializeCommand\": \"make prep\" }"),
            vec![("SLV001".to_string(), "\"make prep\"".to_string())]
        );
        assert_eq!(
            found("{ \"initializeCommand\": { \"a\": [\"x\"] } }"),
            vec![("SLV001".to_string(), "{ \"a\": [\"x\"] }".to_string())]
        );
        assert!(found("{ \"postCreateCommand\": \"make prep\" }").is_empty());
    }
}
