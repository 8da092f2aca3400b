use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::rules::secrets::{is_literal_secret_value, is_secret_name};
use crate::rules::{Ctx, Rule};

/// SLD006: `ARG`/`ENV` with a secret-like name and a literal value.
pub struct SecretInEnv;

impl Rule for SecretInEnv {
    fn meta(&self) -> &'static RuleMeta {
        docs::SECRET_IN_ENV
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        let mut all = analysis::instructions_of(df, Keyword::Arg);
        all.extend(analysis::instructions_of(df, Keyword::Env));
        all.sort_by_key(|l| l.ins.span.start);
        for loc in all {
            let keyword = if loc.ins.kind == Keyword::Env {
                "ENV"
            } else {
                "ARG"
            };
            let prefix = if loc.onbuild { "ONBUILD " } else { "" };
            for kv in loc.ins.args.pairs() {
                let (Some(value), Some(raw)) = (&kv.value, &kv.raw_value) else {
                    continue;
                };
                if !is_secret_name(&kv.key.value) || !is_literal_secret_value(value) {
                    continue;
                }
                let name = analysis::snippet(&kv.key.value, 50);
                let message = format!("`{prefix}{keyword} {name}` hard-codes a secret-like value");
                let help = if keyword == "ENV" {
                    "pass the secret at run time, or to the build step that needs it with `RUN --mount=type=secret`"
                } else {
                    "drop the default and pass the secret with `RUN --mount=type=secret` (build secrets)"
                };
                cx.report(kv.key.span, message)
                    .help(help)
                    .label(&file, raw.span, "literal value stored in the image")
                    .secret(&file, raw.span);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_literal_secret_value, is_secret_name};
    use crate::rules::dockerfile::test_util::{diagnostics, findings, spans};

    const R: &str = "secret-in-env";

    #[test]
    fn secret_names() {
        for n in [
            "PASSWORD",
            "DB_PASSWORD",
            "mysql_root_password",
            "DBPASSWORD",
            "RABBITMQ_DEFAULT_PASS",
            "GITHUB_TOKEN",
            "API_KEY",
            "STRIPE_APIKEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY",
            "SSH_PRIVATE_KEY",
            "SECRET_KEY_BASE",
            "CLIENT_SECRET",
            "NPM_AUTH",
            "REGISTRY_CREDENTIALS",
            "GPG_PASSPHRASE",
            "auth-token",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "PASSWORD_MIN_LENGTH",
            "TOKEN_ENDPOINT",
            "TOKEN_EXPIRATION_TIME",
            "RESET_PASSWORD_EMAIL",
            "MYSQL_PASSWORD_FILE",
            "SECRETS_DIR",
            "TOKEN_URL",
            "PWD",
            "BYPASS",
            "COMPASS_VERSION",
            "GPG_KEY",
            "AUTH_METHOD",
            "AUTH_ENABLED",
            "DB_USER",
            "PASSWORD_USER",
            "KEY",
            "AWS_ACCESS_KEY_ID",
            "OAUTH_CLIENT_ID",
            "TOKENIZERS_PARALLELISM",
            "PATH",
            "SECRET_NAME",
            "PASSWORD_HASH",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn literal_values() {
        for v in ["hunter2", "${PW:-changeme}", "abc$X", "a b"] {
            assert!(is_literal_secret_value(v), "{v}");
        }
        for v in [
            "",
            "$PW",
            "${PW}",
            "${A}${B}",
            "true",
            "0",
            "/run/secrets/db",
            "./secret.txt",
            "${X:-}",
        ] {
            assert!(!is_literal_secret_value(v), "{v}");
        }
    }

    #[test]
    fn flags_key_and_labels_value() {
        let text =
            "FROM alpine:3.20\nENV APP=1 DB_PASSWORD=\"hunter2\"\nARG GITHUB_TOKEN=ghp_abc\n";
        assert_eq!(
            findings(R, text),
            vec![
                (
                    "SLD006",
                    "2:11-2:22".to_string(),
                    "`ENV DB_PASSWORD` hard-codes a secret-like value".to_string()
                ),
                (
                    "SLD006",
                    "3:5-3:17".to_string(),
                    "`ARG GITHUB_TOKEN` hard-codes a secret-like value".to_string()
                ),
            ]
        );
        let d = diagnostics(R, text);
        assert_eq!(&text[d[0].labels[0].span.range()], "\"hunter2\"");
        assert!(
            d.iter()
                .all(|d| !d.message.contains("hunter2") && !d.message.contains("ghp_abc"))
        );
        assert_eq!(spans(R, "FROM a:1\nENV API_KEY abc123\n"), vec!["API_KEY"]);
        assert_eq!(spans(R, "ARG NPM_TOKEN=x\nFROM a:1\n"), vec!["NPM_TOKEN"]);
        assert_eq!(
            spans(R, "FROM a:1\nONBUILD ENV SECRET=s3cr3t\n"),
            vec!["SECRET"]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1\nARG NPM_TOKEN\n",
            "FROM a:1\nARG NPM_TOKEN=\n",
            "FROM a:1\nARG DB_PASSWORD\nENV DB_PASSWORD=${DB_PASSWORD}\n",
            "FROM a:1\nENV PASSWORD_MIN_LENGTH=12 TOKEN_ENDPOINT=https://auth/token\n",
            "FROM a:1\nENV MYSQL_PASSWORD_FILE=/run/secrets/db\n",
            "FROM a:1\nENV GPG_KEY=0D96DF4D4110E5C43FBFB17F2D347EA6AA65421D\n",
            "FROM a:1\nENV REQUIRE_PASSWORD=true\n",
            "FROM a:1\nLABEL PASSWORD=x\n",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }
}
