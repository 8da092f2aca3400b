use crate::compose::devcontainer::Devcontainer;
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::curl_pipe_shell::downloads_run;
use crate::rules::{Ctx, Rule};

/// SLV002: a lifecycle command executes a download unverified (`curl … | sh`).
pub struct LifecycleCommandDownloads;

impl Rule for LifecycleCommandDownloads {
    fn meta(&self) -> &'static RuleMeta {
        docs::LIFECYCLE_COMMAND_DOWNLOADS
    }

    fn check_devcontainer(&self, cx: &mut Ctx<'_>, dc: &Devcontainer) {
        for c in &dc.commands {
            for run in &c.runs {
                let (script, span_of) = super::script_of(run, c.span);
                for ((s, e), prog) in downloads_run(&script) {
                    let span = span_of(s, e);
                    let text = cx.text().get(span.range()).unwrap_or("");
                    let snippet = crate::dockerfile::analysis::snippet(text, 60);
                    let key = &c.key.value;
                    let message = if c.on_host() {
                        format!(
                            "`{key}` executes a download with `{prog}` on the host when the \
                             folder is opened: `{snippet}`"
                        )
                    } else {
                        format!("`{key}` executes a download with `{prog}`: `{snippet}`")
                    };
                    cx.report(span, message).help(
                        "download to a file, check it against a pinned checksum \
                         (`sha256sum -c`), then run it; or install it in the Dockerfile or with \
                         a pinned feature",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{FileKind, Selection, lint_text};

    fn found(text: &str) -> Vec<String> {
        lint_text(
            FileKind::Devcontainer,
            "devcontainer.json",
            text,
            &Selection::only("SLV002"),
        )
        .into_iter()
        .map(|d| text[d.span.range()].to_string())
        .collect()
    }

    #[test]
    fn string_array_and_object_forms() {
        assert_eq!(
            found(r#"{ "postCreateCommand": "npm ci && curl -fsSL https://x.io/i.sh | bash" }"#),
            ["curl -fsSL https://x.io/i.sh | bash"]
        );
        assert_eq!(
            found(r#"{ "onCreateCommand": ["bash", "-c", "wget -qO- https://x.io/i | sh"] }"#),
            ["wget -qO- https://x.io/i | sh"]
        );
        assert_eq!(
            found(
                r#"{ "postStartCommand": { "a": "make", "b": "sh -c \"$(curl -fsSL https://x.io/i)\"" } }"#
            ),
            [r#""sh -c \"$(curl -fsSL https://x.io/i)\"""#]
        );
        assert_eq!(
            found(
                r#"{ "initializeCommand": "curl -fsSL https://x.io/i.sh -o i.sh && sha256sum -c i.sum && sh i.sh" }"#
            ),
            Vec::<String>::new()
        );
    }
}
