//! Secret-shaped names and literal values, shared by the Dockerfile and Compose rules
//! (`secret-in-env`, `credential-in-environment`, `secret-in-build-args`).

/// Name parts that mean "this is a secret".
const SECRET_PARTS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "CREDENTIALS",
    "CREDENTIAL",
    "APIKEY",
];
/// Adjacent part pairs that mean "this is a secret" (`API_KEY`, `AWS_SECRET_ACCESS_KEY`).
const SECRET_PAIRS: &[(&str, &str)] = &[("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY")];
/// Parts that count only as the last part (`BASIC_AUTH`, not `AUTH_METHOD`).
const SECRET_LAST: &[&str] = &["AUTH"];
/// Suffixes of a part that mean a secret (`DBPASSWORD`, `GITHUBTOKEN`).
const SECRET_SUFFIXES: &[&str] = &["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY"];
/// Last parts that name something about a secret, not the secret itself.
const NOT_SECRET_LAST: &[&str] = &[
    "FILE",
    "FILES",
    "PATH",
    "DIR",
    "DIRECTORY",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "HOSTNAME",
    "PORT",
    "SERVER",
    "LENGTH",
    "LEN",
    "NAME",
    "USER",
    "USERNAME",
    "LOGIN",
    "ID",
    "TYPE",
    "METHOD",
    "MODE",
    "ENABLED",
    "ENABLE",
    "DISABLED",
    "DISABLE",
    "REQUIRED",
    "HEADER",
    "PROVIDER",
    "EXPIRY",
    "EXPIRES",
    "EXPIRATION",
    "TTL",
    "TIMEOUT",
    "LIFETIME",
    "AGE",
    "DAYS",
    "POLICY",
    "SIZE",
    "MIN",
    "MAX",
    "COUNT",
    "FORMAT",
    "ALGORITHM",
    "ALGO",
    "REALM",
    "SCOPE",
    "SCOPES",
    "FIELD",
    "PARAM",
    "VERSION",
    "PREFIX",
    "LOCATION",
    "COMMAND",
    "CMD",
    "SCRIPT",
    "HELPER",
    "STORE",
    "BACKEND",
    "ISSUER",
    "AUDIENCE",
    "REFRESH",
    "RESET",
    "CHANGE",
    "HINT",
    "PROMPT",
    "REGEX",
    "PATTERN",
    "ROUNDS",
    "HASH",
    "STRENGTH",
    "COMPLEXITY",
    "TIME",
    "EMAIL",
    "ADDRESS",
    "ATTEMPTS",
    "RETRIES",
    "INTERVAL",
    "DURATION",
    "SECONDS",
    "LIMIT",
];
/// Values that are switches, not secrets.
const NOT_SECRET_VALUES: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null", "nil", "enabled",
    "disabled",
];

/// The variable name looks like it holds a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let parts: Vec<&str> = upper
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    let Some(last) = parts.last() else {
        return false;
    };
    if NOT_SECRET_LAST.contains(last) {
        return false;
    }
    let part_hit = parts.iter().any(|p| {
        SECRET_PARTS.contains(p)
            || SECRET_SUFFIXES
                .iter()
                .any(|s| p.len() > s.len() && p.ends_with(s))
    });
    let pair_hit = parts
        .windows(2)
        .any(|w| matches!(w, [a, b] if SECRET_PAIRS.contains(&(*a, *b))));
    let last_hit = SECRET_LAST.contains(last);
    part_hit || pair_hit || last_hit
}

/// The value is a literal (not empty, not only variable references, not a switch or a path).
pub(crate) fn is_literal_secret_value(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || NOT_SECRET_VALUES.iter().any(|n| v.eq_ignore_ascii_case(n)) {
        return false;
    }
    if v.starts_with('/') || v.starts_with("./") || v.starts_with("../") || v.starts_with("~/") {
        return !v.contains(char::is_whitespace)
            && v.contains('$')
            && strip_references(v).is_some_and(|r| r.is_empty());
    }
    match strip_references(v) {
        Some(rest) => !rest.is_empty(),
        None => true,
    }
}

/// `value` without its `$NAME`/`${NAME}` references (a `${NAME:-default}` default stays, as it is a
/// literal); `None` if a `${` is not closed.
pub(crate) fn strip_references(value: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        out.push_str(rest.get(..pos)?);
        let after = rest.get(pos + 1..)?;
        if let Some(inner) = after.strip_prefix('{') {
            let close = inner.find('}')?;
            let body = inner.get(..close)?;
            let name_len = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(body.len());
            let op = body.get(name_len..)?;
            let default = op
                .strip_prefix(":-")
                .or_else(|| op.strip_prefix('-'))
                .or_else(|| op.strip_prefix(":="))
                .or_else(|| op.strip_prefix('='))
                .unwrap_or("");
            out.push_str(default);
            rest = inner.get(close + 1..)?;
        } else {
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if name_len == 0 {
                out.push('$');
            }
            rest = after.get(name_len..)?;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// Whether `value`, as written (before interpolation), holds a URL or connection string with a
/// literal password: `scheme://user:password@host`, where the password is not empty and not
/// only `$VAR`/`${VAR}` references (a `${VAR:-default}` default counts as literal).
pub(crate) fn has_url_credentials(value: &str) -> bool {
    let mut rest = value;
    while let Some(pos) = rest.find("://") {
        let scheme_ok = rest
            .get(..pos)
            .and_then(|s| s.chars().next_back())
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let after = rest.get(pos + 3..).unwrap_or("");
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = after.get(..end).unwrap_or("");
        if scheme_ok
            && let Some(at) = authority.rfind('@')
            && let Some((_, password)) = authority.get(..at).and_then(|u| u.split_once(':'))
            && strip_references(password).is_some_and(|p| !p.is_empty())
        {
            return true;
        }
        rest = after;
    }
    false
}

/// BuildKit's `SecretsUsedInArgOrEnv` name test (`docker build --check`): a `_`-separated part
/// of the name is, ignoring case, one of [`BUILDKIT_SECRET_PARTS`], and none is one of
/// [`BUILDKIT_ALLOWED_PARTS`]. Looser than [`is_secret_name`] (`GPG_KEY`, `KEY_DIR` and
/// `AUTH_METHOD` pass it); the rule that uses it says so.
pub(crate) fn is_buildkit_secret_name(name: &str) -> bool {
    let has = |set: &[&str]| {
        name.split('_')
            .any(|p| set.iter().any(|s| p.eq_ignore_ascii_case(s)))
    };
    has(BUILDKIT_SECRET_PARTS) && !has(BUILDKIT_ALLOWED_PARTS)
}

/// The name parts BuildKit's check treats as secret.
pub(crate) const BUILDKIT_SECRET_PARTS: &[&str] = &[
    "apikey",
    "auth",
    "credential",
    "credentials",
    "key",
    "password",
    "pword",
    "passwd",
    "secret",
    "token",
];
/// The name parts that clear a name in BuildKit's check.
pub(crate) const BUILDKIT_ALLOWED_PARTS: &[&str] = &["public", "file", "version"];

/// The variable names `value` refers to (`$NAME`, `${NAME}`, `${NAME:-default}`, ...), in order.
pub(crate) fn referenced_names(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        let after = &rest[pos + 1..];
        let body = after.strip_prefix('{').unwrap_or(after);
        let len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        if len > 0 && !body.starts_with(|c: char| c.is_ascii_digit()) {
            out.push(&body[..len]);
        }
        rest = &body[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::has_url_credentials;

    #[test]
    fn url_credentials() {
        for v in [
            "postgres://app:hunter2@db:5432/app",
            "https://user:ghp_abc@github.com/org/repo.git",
            "amqp://guest:guest@rabbitmq",
            "redis://:s3cret@cache:6379/0",
            "mongodb://root:${PW:-example}@mongo",
            "jdbc:mysql://u:p@h/db",
            "first http://x and postgres://a:b@c",
        ] {
            assert!(has_url_credentials(v), "{v}");
        }
        for v in [
            "postgres://app:${DB_PASSWORD}@db:5432/app",
            "postgres://app:$DB_PASSWORD@db/app",
            "postgres://app@db/app",
            "redis://:@cache",
            "https://example.com/a:b@c",
            "http://host:8080/path",
            "${DATABASE_URL}",
            "user:pass@host",
            "",
        ] {
            assert!(!has_url_credentials(v), "{v}");
        }
    }
}
