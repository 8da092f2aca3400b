use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use super::credential_in_environment::{Literal, literal_credential};

/// A secret-like `build.args` entry with a literal value (or a URL with a literal password).
pub struct SecretInBuildArgs;

impl Rule for SecretInBuildArgs {
    fn meta(&self) -> &'static RuleMeta {
        docs::SECRET_IN_BUILD_ARGS
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        let file = cx.file().clone();
        for service in &compose.services {
            let Some(build) = &service.build else {
                continue;
            };
            for arg in &build.args {
                let Some(kind) = literal_credential(arg) else {
                    continue;
                };
                let key = crate::source::clip(&arg.key.value, 20);
                let name = super::svc(service);
                let message = match kind {
                    Literal::Secret => {
                        format!("service `{name}` passes build arg `{key}` a literal value")
                    }
                    Literal::UrlPassword => {
                        format!("service `{name}` build arg `{key}` has a password in a URL")
                    }
                };
                let d = cx.report(arg.key.span, message).help(
                    "pass it as a build secret (`build.secrets` and `RUN --mount=type=secret`); build args stay in the image history",
                );
                if let Some(value) = &arg.value {
                    d.label(&file, value.span, "literal value written here")
                        .secret(&file, value.span);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "secret-in-build-args";

    #[test]
    fn flags_literal_secret_args() {
        let text = "services:\n  app:\n    build:\n      context: .\n      args:\n        NPM_TOKEN: npm_abc\n        NODE_VERSION: \"22\"\n        GH_TOKEN: ${GH_TOKEN}\n        PIP_INDEX_URL: https://u:pw@pypi.example.com/simple\n  b:\n    build:\n      context: .\n      args:\n        - API_KEY=xyz\n        - SECRET\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC025", "NPM_TOKEN".to_string()),
                ("SLC025", "PIP_INDEX_URL".to_string()),
                ("SLC025", "API_KEY".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `app` passes build arg `NPM_TOKEN` a literal value")
        );
    }
}
