use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::rules::secrets::{
    BUILDKIT_ALLOWED_PARTS, is_buildkit_secret_name, is_literal_secret_value, is_secret_name,
    referenced_names,
};
use crate::rules::tokens::holds_token;
use crate::rules::{Ctx, Rule};

/// SLD024: an `ARG`/`ENV` in a stage named like a secret (BuildKit's `SecretsUsedInArgOrEnv`),
/// whatever its value, and an `ENV` that copies a secret-named variable into the image.
pub struct SecretNamedArgOrEnv;

impl Rule for SecretNamedArgOrEnv {
    fn meta(&self) -> &'static RuleMeta {
        docs::SECRET_NAMED_ARG_OR_ENV
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        let mut all = analysis::instructions_of(df, Keyword::Arg);
        all.extend(analysis::instructions_of(df, Keyword::Env));
        all.sort_by_key(|l| l.ins.span.start);
        for loc in all {
            // As BuildKit: an `ARG` before the first `FROM` is not in any image.
            if loc.stage.is_none() && !loc.onbuild {
                continue;
            }
            let env = loc.ins.kind == Keyword::Env;
            let keyword = if env { "ENV" } else { "ARG" };
            let prefix = if loc.onbuild { "ONBUILD " } else { "" };
            for kv in loc.ins.args.pairs() {
                let key = &kv.key.value;
                // `secret-in-env` reports a literal secret under a secret name (an error)
                let literal = kv
                    .value
                    .as_deref()
                    .is_some_and(|v| is_secret_name(key) && is_literal_secret_value(v));
                // `secret-token-literal` reports a token in the value (an error)
                if literal || kv.raw_value.as_ref().is_some_and(|r| holds_token(&r.value)) {
                    continue;
                }
                let name = analysis::snippet(key, 50);
                // a deliberate narrowing of BuildKit's check: `ENV GPG_KEY 0D96DF4D…` (the
                // fingerprint of a public key, in most official images) is not a secret
                if is_buildkit_secret_name(key) && !kv.value.as_deref().is_some_and(is_fingerprints)
                {
                    let help = if env {
                        "give the secret to the step that needs it with `RUN --mount=type=secret,id=…,env=…`, or set it at run time"
                    } else {
                        "use a build secret (`RUN --mount=type=secret,id=…`): a build argument's value is recorded in the image history"
                    };
                    let d = cx.report(
                        kv.key.span,
                        format!("`{prefix}{keyword} {name}` is named like a secret"),
                    );
                    d.help(help);
                    // the value may be the secret: the snippet masks it
                    if let (Some(value), Some(raw)) = (&kv.value, &kv.raw_value)
                        && is_literal_secret_value(value)
                    {
                        d.secret(&file, raw.span);
                    }
                    continue;
                }
                // `ENV PM2_PUBLIC_KEY=$PM2_KEY`: the name says what is stored is not secret
                let Some(value) = kv
                    .value
                    .as_deref()
                    .filter(|_| env && !has_allowed_part(key))
                else {
                    continue;
                };
                if let Some(source) = referenced_names(value)
                    .into_iter()
                    .find(|n| is_secret_name(n) || is_buildkit_secret_name(n))
                {
                    let source = analysis::snippet(source, 50);
                    let raw = kv.raw_value.as_ref().map_or(kv.key.span, |r| r.span);
                    cx.report(
                        kv.key.span,
                        format!(
                            "`{prefix}ENV {name}` copies `${source}` into the image's environment"
                        ),
                    )
                    .help("an `ENV` value is stored in the image configuration: read the secret in the `RUN` step that needs it (`RUN --mount=type=secret`) instead")
                    .label(&file, raw, "stored in the image");
                }
            }
        }
    }
}

/// A `_`-separated part of `name` is one of BuildKit's allowed parts (`public`, `file`,
/// `version`).
fn has_allowed_part(name: &str) -> bool {
    (name.split('_')).any(|p| {
        BUILDKIT_ALLOWED_PARTS
            .iter()
            .any(|a| p.eq_ignore_ascii_case(a))
    })
}

/// The value is one or more public-key fingerprints or key IDs: 16 or 40 hex digits each
/// (`0x` allowed), separated by white space.
fn is_fingerprints(value: &str) -> bool {
    let mut ids = value.split_whitespace().peekable();
    ids.peek().is_some()
        && ids.all(|id| {
            let hex = id.strip_prefix("0x").unwrap_or(id);
            matches!(hex.len(), 16 | 40) && hex.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{diagnostics, findings};
    use crate::rules::secrets::{is_buildkit_secret_name, referenced_names};

    const R: &str = "secret-named-arg-or-env";

    /// The names of BuildKit's own `SecretsUsedInArgOrEnv` test (moby/buildkit
    /// `frontend/dockerfile/dockerfile_check_test.go`), flagged and not.
    #[test]
    fn buildkit_names() {
        for n in [
            "SECRET_PASSPHRASE",
            "SUPER_Secret",
            "password",
            "secret",
            "super_duper_secret_token",
            "auth",
            "apikey",
            "git_key",
        ] {
            assert!(is_buildkit_secret_name(n), "{n}");
        }
        for n in [
            "sunflower",
            "PUBLIC_KEY",
            "public_token",
            "SECRET_PASSPHRASE_FILE",
            "password_file",
            "secret_File",
            "AUTH_MODULE_VERSION",
            "API-KEY",
            "MONKEY",
        ] {
            assert!(!is_buildkit_secret_name(n), "{n}");
        }
        assert_eq!(
            referenced_names("a$B-${C_1:-x}$${1}$_d $"),
            ["B", "C_1", "_d"]
        );
    }

    #[test]
    fn a_literal_value_is_masked() {
        let text = "FROM a:1\nENV GIT_KEY=s3cr3tvalue\n";
        let d = diagnostics(R, text);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].secrets.len(), 1);
        assert_eq!(&text[d[0].secrets[0].1.range()], "s3cr3tvalue");
        assert!(!d[0].message.contains("s3cr3t"));
    }

    /// A token in the value is `secret-token-literal`'s (an error): one finding, not two.
    #[test]
    fn yields_to_secret_token_literal() {
        let text = concat!(
            "FROM a:1\nENV GIT_KEY=ghp_0123456789abcdefghijklmnopqrstuvwxyz\n",
            "ARG GIT_KEY=ghp_not-a-token\n"
        );
        assert_eq!(
            findings(R, text),
            vec![(
                "SLD024",
                "3:5-3:12".to_string(),
                "`ARG GIT_KEY` is named like a secret".to_string()
            )]
        );
    }

    #[test]
    fn flags_names_whatever_the_value_and_copies() {
        let text = "ARG GLOBAL_TOKEN\nFROM a:1\nARG NPM_TOKEN\nENV GPG_KEY=ABCD DB_PASSWORD=hunter2 TINI_GPG_KEY=595E85A6B1B4779EA4DAAEC70B588DFF0527A9B7 GPG_KEYS=\"0x1234567890ABCDEF 1234567890abcdef\"\nARG PW=x\nENV X=${NPM_TOKEN} Y=$PW PATH=$PATH:/x PUBLIC_K=$NPM_TOKEN\nONBUILD ARG AUTH\n";
        assert_eq!(
            findings(R, text),
            vec![
                (
                    "SLD024",
                    "3:5-3:14".to_string(),
                    "`ARG NPM_TOKEN` is named like a secret".to_string()
                ),
                (
                    "SLD024",
                    "4:5-4:12".to_string(),
                    "`ENV GPG_KEY` is named like a secret".to_string()
                ),
                (
                    "SLD024",
                    "6:5-6:6".to_string(),
                    "`ENV X` copies `$NPM_TOKEN` into the image's environment".to_string()
                ),
                (
                    "SLD024",
                    "7:13-7:17".to_string(),
                    "`ONBUILD ARG AUTH` is named like a secret".to_string()
                ),
            ]
        );
    }
}
