use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD010: `COPY`/`ADD` of a file that holds credentials, named explicitly.
pub struct SecretFileCopied;

/// File names that hold credentials.
const NAMES: &[&str] = &[
    ".env",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_ecdsa_sk",
    "id_ed25519_sk",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".git-credentials",
    "kubeconfig",
    ".ssh",
];
/// Path suffixes that hold credentials.
const PATHS: &[&str] = &[".kube/config", ".aws/credentials", ".docker/config.json"];
/// `.env.<suffix>` files that are templates, not secrets.
const ENV_TEMPLATES: &[&str] = &[
    "example", "sample", "template", "tmpl", "tpl", "dist", "defaults", "default", "schema",
    "test", "ci",
];
/// Name parts that mark a `.pem`/`.key` file as public material (certificates, public keys).
const PUBLIC_PARTS: &[&str] = &[
    "cert",
    "crt",
    "ca",
    "chain",
    "fullchain",
    "bundle",
    "pub",
    "public",
    "root",
    "gpg",
    "pgp",
    "asc",
    "signing",
    "archive",
    "keyring",
    "release",
    "repo",
    "apt",
    "rpm",
];

/// Why `path` (a `COPY`/`ADD` source as written) is a secret file, if it is one.
pub(crate) fn secret_kind(path: &str) -> Option<&'static str> {
    let trimmed = path.trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    if base.contains('$') || base.is_empty() {
        return None;
    }
    if let Some(rest) = base.strip_prefix(".env.") {
        return (!ENV_TEMPLATES.contains(&rest) && !rest.contains('*'))
            .then_some("environment file");
    }
    if NAMES.contains(&base) {
        return Some(match base {
            ".env" => "environment file",
            ".ssh" => "SSH directory",
            "kubeconfig" => "kubeconfig",
            b if b.starts_with("id_") => "SSH private key",
            _ => "credentials file",
        });
    }
    if base.ends_with(".kubeconfig") {
        return Some("kubeconfig");
    }
    if PATHS
        .iter()
        .any(|p| lower == *p || lower.ends_with(&format!("/{p}")))
    {
        return Some("credentials file");
    }
    let stem = base
        .strip_suffix(".pem")
        .or_else(|| base.strip_suffix(".key"))?;
    let public = stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| PUBLIC_PARTS.contains(&part));
    (!public && !stem.is_empty()).then_some("private key")
}

impl Rule for SecretFileCopied {
    fn meta(&self) -> &'static RuleMeta {
        docs::SECRET_FILE_COPIED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let mut all = analysis::instructions_of(df, Keyword::Copy);
        all.extend(analysis::instructions_of(df, Keyword::Add));
        all.sort_by_key(|l| l.ins.span.start);
        for loc in all {
            let keyword = if loc.ins.kind == Keyword::Copy {
                "COPY"
            } else {
                "ADD"
            };
            for (src, span) in analysis::add_sources(loc.ins) {
                if analysis::is_http_url(&src) || analysis::is_git_url(&src) {
                    continue;
                }
                let Some(kind) = secret_kind(&src) else {
                    continue;
                };
                cx.report(
                    span,
                    format!(
                        "`{keyword}` puts {kind} `{}` into the image",
                        analysis::snippet(&src, 50)
                    ),
                )
                .help(
                    "don't copy credentials into an image: use `RUN --mount=type=secret` (or `type=ssh`) for build steps, and add the file to .dockerignore",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::secret_kind;
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "secret-file-copied";

    #[test]
    fn kinds() {
        for p in [
            ".env",
            "./.env",
            "app/.env.production",
            "id_rsa",
            "/root/.ssh/id_ed25519",
            "server.key",
            "privkey.pem",
            "tls/server-key.pem",
            ".npmrc",
            ".pypirc",
            ".netrc",
            ".git-credentials",
            "kubeconfig",
            "prod.kubeconfig",
            ".kube/config",
            "home/.aws/credentials",
            ".docker/config.json",
            ".ssh/",
        ] {
            assert!(secret_kind(p).is_some(), "{p}");
        }
        for p in [
            ".env.example",
            ".env.sample",
            ".env.template",
            "env.py",
            ".envrc.d",
            "id_rsa.pub",
            "ca.pem",
            "cert.pem",
            "fullchain.pem",
            "ca-bundle.pem",
            "nodesource.gpg.key",
            "repo.key",
            "config.json",
            "kube/config.yaml",
            "*.pem.txt",
            "$KEY_FILE",
            ".environment",
        ] {
            assert!(secret_kind(p).is_none(), "{p}");
        }
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(R, "FROM a:1\nCOPY package.json .env ./\n"),
            vec![(
                "SLD010",
                "2:19-2:23".to_string(),
                "`COPY` puts environment file `.env` into the image".to_string()
            )]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nADD --chown=app [\"id_rsa\", \"/home/app/.ssh/\"]\nONBUILD COPY .npmrc /app/\n"
            ),
            vec!["\"id_rsa\"", ".npmrc"]
        );
        assert_eq!(
            spans(R, "FROM a:1\nCOPY --from=build /root/.aws/credentials /x\n"),
            vec!["/root/.aws/credentials"]
        );
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1\nCOPY . .\n",
            "FROM a:1\nCOPY .env.example .env\n",
            "FROM a:1\nCOPY <<EOF /app/.env\nA=1\nEOF\n",
            "FROM a:1\nADD https://example.com/server.key /x\n",
            "FROM a:1\nCOPY certs/ca.pem /usr/local/share/ca-certificates/\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
