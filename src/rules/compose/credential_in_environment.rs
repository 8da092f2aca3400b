use crate::compose::model::{ComposeFile, EnvVar};
use crate::docs::{self, RuleMeta};
use crate::rules::secrets::{has_url_credentials, is_literal_secret_value, is_secret_name};
use crate::rules::{Ctx, Rule};

/// A credential-shaped `environment` key with a literal value, or a URL with a literal password.
pub struct CredentialInEnvironment;

/// What is literal about an entry (judged on the text as written, before interpolation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Literal {
    /// A secret-like name with a literal value.
    Secret,
    /// A URL or connection string with a literal password.
    UrlPassword,
}

/// Values of a `..._AUTH` setting that name an authentication scheme, not a secret
/// (`REGISTRY_AUTH=htpasswd`).
const AUTH_SCHEMES: &[&str] = &[
    "htpasswd",
    "basic",
    "bearer",
    "token",
    "oauth",
    "oauth2",
    "oidc",
    "ldap",
    "jwt",
    "none",
    "silly",
    "trust",
    "md5",
    "scram-sha-256",
    "password",
    "plain",
    "digest",
    "saml",
];

/// A name whose secret part is a trailing `AUTH`, set to the name of a scheme.
fn is_auth_scheme(name: &str, value: &str) -> bool {
    name.to_ascii_uppercase().ends_with("AUTH")
        && AUTH_SCHEMES
            .iter()
            .any(|s| value.trim().eq_ignore_ascii_case(s))
}

pub(crate) fn literal_credential(var: &EnvVar) -> Option<Literal> {
    let raw = var.raw.as_deref()?;
    if is_secret_name(&var.key.value)
        && is_literal_secret_value(raw)
        && !is_auth_scheme(&var.key.value, raw)
    {
        Some(Literal::Secret)
    } else if has_url_credentials(raw) {
        Some(Literal::UrlPassword)
    } else {
        None
    }
}

/// Whether this rule reports the `env_file` entry `key=raw` (a literal under a secret name, or a
/// URL with a literal password): `secret-token-literal` leaves these to it.
pub(crate) fn env_file_literal(key: &str, raw: &str) -> bool {
    (is_secret_name(key) && is_literal_secret_value(raw) && !is_auth_scheme(key, raw))
        || has_url_credentials(raw)
}

impl Rule for CredentialInEnvironment {
    fn meta(&self) -> &'static RuleMeta {
        docs::CREDENTIAL_IN_ENVIRONMENT
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        let file = cx.file().clone();
        for service in &compose.services {
            for var in &service.environment {
                let Some(kind) = literal_credential(var) else {
                    continue;
                };
                let key = crate::source::clip(&var.key.value, 26);
                let name = super::svc(service);
                let message = match kind {
                    Literal::Secret => format!("service `{name}` sets `{key}` to a literal value"),
                    Literal::UrlPassword => {
                        format!("service `{name}` has a password in the URL in `{key}`")
                    }
                };
                let d = cx
                    .report(var.key.span, message)
                    .help("read it from a `secrets:` file, or interpolate it: `${VAR}` set outside the repository");
                if let Some(value) = &var.value {
                    d.label(&file, value.span, "literal value written here")
                        .secret(&file, value.span);
                }
            }
        }
        // `env_file`s: read for this check only (never for interpolation). One that git does
        // not ignore will be committed with its secrets.
        for env in cx.facts().env_files() {
            if env.git_ignored {
                continue;
            }
            for entry in crate::compose::dotenv::entries(&env.file.text) {
                if !env_file_literal(&entry.key.value, &entry.raw_value.value) {
                    continue;
                }
                let name = crate::source::clip(&env.service, 20);
                let key = crate::source::clip(&entry.key.value, 24);
                let file_name = env
                    .file
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                let env_name =
                    crate::source::clip(file_name.as_deref().unwrap_or(&env.file.display), 28);
                cx.report_in(
                    &env.file,
                    entry.key.span,
                    format!("`{env_name}` (env_file of `{name}`) sets `{key}` literally; git does not ignore it"),
                )
                .help("add the file to `.gitignore` (and rotate the secret if it was committed), or use `secrets:`")
                .label(&file, env.entry, "the service reads it here")
                .secret(&env.file, entry.raw_value.span);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};
    use super::literal_credential;

    const RULE: &str = "credential-in-environment";

    #[test]
    fn secret_names_with_literals() {
        let text = "services:\n  db:\n    image: postgres:17\n    environment:\n      POSTGRES_PASSWORD: hunter2\n      POSTGRES_USER: app\n      API_TOKEN: \"${API_TOKEN}\"\n      PASSWORD_FILE: /run/secrets/pw\n      EMPTY_PASSWORD: \"\"\n      DEFAULTED_SECRET: ${S:-changeme}\n      BARE_TOKEN:\n  web:\n    image: web:1\n    environment:\n      - SECRET_KEY=abc123\n      - GITHUB_TOKEN=$GITHUB_TOKEN\n      - NPM_TOKEN\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC024", "POSTGRES_PASSWORD".to_string()),
                ("SLC024", "DEFAULTED_SECRET".to_string()),
                ("SLC024", "SECRET_KEY".to_string())
            ]
        );
        let m = messages(RULE, text);
        assert_eq!(
            m.first().map(String::as_str),
            Some("service `db` sets `POSTGRES_PASSWORD` to a literal value")
        );
        assert!(
            m.iter()
                .all(|m| !m.contains("hunter2") && !m.contains("abc123"))
        );
    }

    #[test]
    fn urls() {
        let text = "services:\n  app:\n    image: app:1\n    environment:\n      DATABASE_URL: postgres://app:s3cret@db/app\n      CACHE_URL: redis://:${REDIS_PASSWORD}@cache\n      BROKER: amqp://guest:guest@mq\n      PLAIN: https://example.com/x\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC024", "DATABASE_URL".to_string()),
                ("SLC024", "BROKER".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `app` has a password in the URL in `DATABASE_URL`")
        );
        assert!(messages(RULE, text).iter().all(|m| !m.contains("s3cret")));
    }

    #[test]
    fn auth_scheme_names_are_not_secrets() {
        let text = "services:\n  registry:\n    image: registry:2\n    environment:\n      REGISTRY_AUTH: htpasswd\n      BASIC_AUTH: \"admin:s3cret\"\n";
        assert_eq!(
            findings(RULE, text),
            vec![("SLC024", "BASIC_AUTH".to_string())]
        );
    }

    #[test]
    fn interpolated_from_dotenv_is_not_literal() {
        // the value as written is a reference, whatever `.env` fills in
        let text = "services:\n  app:\n    image: app:1\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n";
        assert!(findings(RULE, text).is_empty());
        let vars = crate::compose::parse_dotenv("DB_PASSWORD=from-dotenv\nPW=p\n");
        let list = "services:\n  app:\n    image: app:1\n    environment:\n      - DB_PASSWORD=${DB_PASSWORD}\n      - URL=postgres://u:${PW}@db\n";
        for text in [text, list] {
            let file = crate::compose::load(text, &vars);
            for service in &file.services {
                for var in &service.environment {
                    assert_eq!(
                        var.value
                            .as_ref()
                            .and_then(|v| v.value.known())
                            .map(|v| v.contains('$')),
                        Some(false)
                    );
                    assert_eq!(literal_credential(var), None, "{:?}", var.raw);
                }
            }
        }
    }
}
