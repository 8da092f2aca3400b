use crate::compose::model::{CommandLine, ComposeFile, EnvVar, SValue};
use crate::dockerfile::analysis;
use crate::dockerfile::model::{Arguments, Dockerfile, Keyword, Text};
use crate::docs::{self, RuleMeta};
use crate::rules::compose::credential_in_environment::{env_file_literal, literal_credential};
use crate::rules::dockerfile::literal_passwords;
use crate::rules::secrets::{is_literal_secret_value, is_secret_name};
use crate::rules::tokens::{self, TokenKind};
use crate::rules::{Ctx, Rule};
use crate::source::{Span, clip};

/// SLX004: a value has the shape of a real credential (an AWS access key ID, a GitHub, GitLab,
/// Slack, OpenAI, Anthropic, Stripe, Google, npm or PyPI token, a Slack webhook, a private key),
/// whatever name holds it, in a Dockerfile or a Compose file.
pub struct SecretTokenLiteral;

/// A token found: where it is, what to mask, what it is and where it was written.
struct Hit {
    span: Span,
    mask: Span,
    kind: TokenKind,
    place: String,
}

const DOCKERFILE_HELP: &str = "revoke it (it stays in the repository's history) and give the new one to the step that needs it with `RUN --mount=type=secret`, or set it at run time";
const COMPOSE_HELP: &str = "revoke it (it stays in the repository's history) and read the new one from a `secrets:` file, or interpolate it: `${VAR}` set outside the repository";

impl Rule for SecretTokenLiteral {
    fn meta(&self) -> &'static RuleMeta {
        docs::SECRET_TOKEN_LITERAL
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let pairs = dockerfile_pairs(df);
        // `literal-password-set` reports these words (`echo 'root:…' | chpasswd`)
        let passwords: Vec<Span> = literal_passwords(df).into_iter().map(|(s, _)| s).collect();
        let mut hits = Vec::new();
        for ins in &df.instructions {
            let prefix = match ins.onbuild.as_deref() {
                Some(t) => format!("ONBUILD {}", t.keyword.value.to_ascii_uppercase()),
                None => ins.keyword.value.to_ascii_uppercase(),
            };
            let prefix = clip(&prefix, 20);
            let place = |span: Span| -> Option<String> {
                if within(&passwords, span, |s| *s) {
                    return None;
                }
                let at = pairs.partition_point(|p| p.value.start <= span.start);
                let pair = (at.checked_sub(1).and_then(|i| pairs.get(i)))
                    .filter(|p| span.end <= p.value.end);
                match pair {
                    // `secret-in-env` reports this value (at its name)
                    Some(p) if p.claimed => None,
                    Some(p) => Some(format!("`{prefix} {}`", p.name)),
                    None => Some(format!("{} `{prefix}` instruction", article(&prefix))),
                }
            };
            match &ins.args {
                Arguments::Text { text, .. } => scan_text(text, &place, &mut hits),
                Arguments::Exec { span, .. } => {
                    if let Some(source) = cx.text().get(span.range()) {
                        scan_source(source, *span, &place, &mut hits);
                    }
                }
            }
            for h in &ins.heredocs {
                let heredoc = |span: Span| {
                    let a = article(&prefix);
                    place(span).map(|_| format!("a heredoc of {a} `{prefix}` instruction"))
                };
                scan_text(&h.body, &heredoc, &mut hits);
            }
        }
        report(cx, hits, DOCKERFILE_HELP);
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        let mut hits = Vec::new();
        for s in &compose.services {
            let name = clip(&s.name.value, 32);
            let mut values: Vec<(&SValue, String)> = Vec::new();
            values.extend(entries(&name, "environment", &s.environment, true));
            values.extend(entries(&name, "labels", &s.labels, false));
            if let Some(b) = &s.build {
                values.extend(entries(&name, "build.args", &b.args, true));
                values.extend(entries(&name, "build.labels", &b.labels, false));
                if let Some(v) = &b.dockerfile_inline {
                    values.push((v, format!("service `{name}`: `build.dockerfile_inline`")));
                }
            }
            for (key, line) in [("command", &s.command), ("entrypoint", &s.entrypoint)] {
                let items: Vec<&SValue> = match line {
                    Some(CommandLine::String(v)) => vec![v],
                    Some(CommandLine::List(items)) => items.iter().collect(),
                    None => Vec::new(),
                };
                values.extend(
                    items
                        .into_iter()
                        .map(|v| (v, format!("service `{name}`: `{key}`"))),
                );
            }
            if let Some(h) = &s.healthcheck {
                values.extend(
                    h.test
                        .iter()
                        .map(|v| (v, format!("service `{name}`: `healthcheck.test`"))),
                );
            }
            for (value, place) in values {
                if let Some(source) = compose_source(cx, value.span) {
                    scan_source(source, value.span, &|_| Some(place.clone()), &mut hits);
                }
            }
        }
        report(cx, hits, COMPOSE_HELP);
        env_files(cx);
    }
}

const ENV_FILE_HELP: &str = "revoke it (it stays in the repository's history), add the file to `.gitignore` and give the service the new one from a `secrets:` file";

/// Tokens in the values of the `env_file`s a service reads that git does not ignore (such a file
/// is committed with them). Entries `credential-in-environment` reports are its; comments and
/// lines that are not `KEY=value` are not read by Compose.
fn env_files(cx: &mut Ctx<'_>) {
    let file = cx.file().clone();
    let envs: Vec<crate::rules::EnvFile> = (cx.facts().env_files().iter())
        .filter(|e| !e.git_ignored)
        .cloned()
        .collect();
    for env in envs {
        let text = env.file.text.as_str();
        let found = tokens::scan(text);
        if found.is_empty() {
            continue;
        }
        let entries = crate::compose::dotenv::entries(text);
        let masks: Vec<Span> = if found.len().saturating_mul(found.len()) > MASK_BUDGET {
            // hostile input: one span covering them all (masking more is safe)
            let first = found.first().map_or(0, |f| f.mask.start);
            let last = found.last().map_or(0, |l| l.mask.end);
            vec![Span::from_range(first..last)]
        } else {
            found
                .iter()
                .map(|t| Span::from_range(t.mask.clone()))
                .collect()
        };
        let service = clip(&env.service, 20);
        let file_name = (env.file.path.file_name()).map(|n| n.to_string_lossy().into_owned());
        let env_name = clip(file_name.as_deref().unwrap_or(&env.file.display), 28);
        for t in &found {
            let start = offset(t.range.start);
            let value = |e: &&crate::compose::dotenv::Entry| {
                let v = e.raw_value.span;
                v.start <= start && start < v.end.max(v.start + 1)
            };
            let Some(entry) = entries.iter().find(value) else {
                continue;
            };
            if env_file_literal(&entry.key.value, &entry.raw_value.value) {
                continue;
            }
            let key = clip(&entry.key.value, 40);
            let span = Span::from_range(t.range.clone());
            let message = format!(
                "`{env_name}` (env_file of `{service}`) entry `{key}` holds {}; git does not ignore it",
                t.kind.name()
            );
            let d = cx
                .report_in(&env.file, span, message)
                .help(ENV_FILE_HELP)
                .label(&file, env.entry, "the service reads it here")
                .secret(&env.file, Span::from_range(t.mask.clone()));
            for &m in &masks {
                d.secret(&env.file, m);
            }
        }
    }
}

/// The values of `environment`-like entries, with where they are. `skip_claimed`: the entries
/// that `credential-in-environment` and `secret-in-build-args` report (a literal under a secret
/// name, a URL with a literal password, at the name) are theirs.
fn entries<'a>(
    service: &str,
    list: &str,
    vars: &'a [EnvVar],
    skip_claimed: bool,
) -> Vec<(&'a SValue, String)> {
    vars.iter()
        .filter(|v| !(skip_claimed && literal_credential(v).is_some()))
        .filter_map(|v| {
            let key = clip(&v.key.value, 40);
            let place = format!("service `{service}`: `{list}` entry `{key}`");
            Some((v.value.as_ref()?, place))
        })
        .collect()
}

/// A `KEY=value` of an `ENV`, `ARG` or `LABEL` (or their `ONBUILD` triggers).
struct Pair {
    /// The value as written.
    value: Span,
    /// The key, as shown in messages.
    name: String,
    /// `secret-in-env` (SLD006) reports this value.
    claimed: bool,
}

/// Every pair with a value, sorted by where the value starts.
fn dockerfile_pairs(df: &Dockerfile) -> Vec<Pair> {
    let mut out: Vec<Pair> = Vec::new();
    for kind in [Keyword::Env, Keyword::Arg, Keyword::Label] {
        for loc in analysis::instructions_of(df, kind) {
            for kv in loc.ins.args.pairs() {
                let (Some(value), Some(raw)) = (&kv.value, &kv.raw_value) else {
                    continue;
                };
                out.push(Pair {
                    value: raw.span,
                    name: analysis::snippet(&kv.key.value, 50),
                    claimed: kind != Keyword::Label
                        && is_secret_name(&kv.key.value)
                        && is_literal_secret_value(value),
                });
            }
        }
    }
    out.sort_by_key(|p| p.value.start);
    out
}

/// `a` or `an` before an instruction's keyword (`an ONBUILD RUN`, `a USER`).
fn article(keyword: &str) -> &'static str {
    match keyword.bytes().next() {
        Some(b'A' | b'E' | b'I' | b'O') => "an",
        _ => "a",
    }
}

/// Whether `span` lies within the last of `sorted` (sorted by start, disjoint) that starts at or
/// before it.
fn within<T>(sorted: &[T], span: Span, of: impl Fn(&T) -> Span) -> bool {
    let at = sorted.partition_point(|t| of(t).start <= span.start);
    (at.checked_sub(1).and_then(|i| sorted.get(i))).is_some_and(|t| span.end <= of(t).end)
}

/// The text of a Compose span in the file it points into (`Span::file`).
fn compose_source<'a>(cx: &'a Ctx<'_>, span: Span) -> Option<&'a str> {
    file_text(cx, span.file)?.get(span.range())
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Tokens of a [`Text`] (continuation lines joined), mapped back to the source.
fn scan_text(text: &Text, place: &dyn Fn(Span) -> Option<String>, hits: &mut Vec<Hit>) {
    for t in tokens::scan(&text.value) {
        let span = text.source_span(offset(t.range.start), offset(t.range.end));
        let mask = text.source_span(offset(t.mask.start), offset(t.mask.end));
        if let Some(place) = place(span) {
            hits.push(Hit {
                span,
                mask: mask.cover(span),
                kind: t.kind,
                place,
            });
        }
    }
}

/// Tokens of `source`, the text of the file at `at`.
fn scan_source(
    source: &str,
    at: Span,
    place: &dyn Fn(Span) -> Option<String>,
    hits: &mut Vec<Hit>,
) {
    let file_span = |r: std::ops::Range<usize>| {
        Span::new(
            at.start.saturating_add(offset(r.start)),
            at.start.saturating_add(offset(r.end)),
        )
        .in_file(at.file)
    };
    for t in tokens::scan(source) {
        let span = file_span(t.range);
        if let Some(place) = place(span) {
            hits.push(Hit {
                span,
                mask: file_span(t.mask),
                kind: t.kind,
                place,
            });
        }
    }
}

/// Reports the hits. A snippet shows the lines around a token, which may hold other tokens that
/// no running rule marks (a value that a name rule reports when that rule is off, a comment):
/// every token of the files shown is masked in each finding.
fn report(cx: &mut Ctx<'_>, mut hits: Vec<Hit>, help: &'static str) {
    hits.sort_by_key(|h| (h.span.file, h.span.start, h.span.end));
    hits.dedup_by_key(|h| (h.span.file, h.span.start, h.span.end));
    let mut files: Vec<u16> = hits.iter().map(|h| h.span.file).collect();
    files.dedup();
    let mut others: Vec<Span> = Vec::new();
    for n in files {
        let Some(text) = file_text(cx, n) else {
            continue;
        };
        let found: Vec<Span> = tokens::scan(text)
            .into_iter()
            .map(|t| Span::from_range(t.mask).in_file(n))
            .collect();
        // hostile input: past a budget, one span covering them all (masking more is safe)
        match (found.first(), found.last()) {
            (Some(first), Some(last)) if found.len().saturating_mul(hits.len()) > MASK_BUDGET => {
                others.push(first.cover(*last));
            }
            _ => others.extend(found),
        }
    }
    let file = cx.file().clone();
    for h in hits {
        let d = cx
            .report(h.span, format!("{} holds {}", h.place, h.kind.name()))
            .help(help)
            .secret(&file, h.mask);
        for &other in &others {
            d.secret(&file, other);
        }
    }
}

/// How many masks (findings × tokens) a check attaches one by one.
const MASK_BUDGET: usize = 4096;

/// The text of file number `n` of the check (0: the checked file; a Compose project's
/// included and override files: [`crate::rules::Facts::files`]).
fn file_text<'a>(cx: &'a Ctx<'_>, n: u16) -> Option<&'a str> {
    match n {
        0 => Some(cx.text()),
        n => Some(&cx.facts().files().get(usize::from(n))?.text),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::compose::test_util;
    use crate::rules::dockerfile::test_util::{diagnostics, findings, spans};

    const R: &str = "secret-token-literal";
    const GH: &str = concat!("ghp", "_0123456789abcdefghijklmnopqrstuvwxyz");
    const AWS: &str = "AKIAZ2K4M6P3Q7R5T2WX";

    #[test]
    fn dockerfile_values_anywhere() {
        let text = format!(
            "FROM a:1\nENV AWS_ACCESS_KEY_ID={AWS} \\\n    X=1\nLABEL token=\"{GH}\"\nRUN git clone https://x:{GH}@github.com/o/r && \\\n    echo ok\nCMD [\"run\", \"--key\", \"{AWS}\"]\nONBUILD ARG K={AWS}\n"
        );
        assert_eq!(
            findings(R, &text),
            vec![
                (
                    "SLX004",
                    "2:23-2:43".to_string(),
                    "`ENV AWS_ACCESS_KEY_ID` holds an AWS access key ID".to_string()
                ),
                (
                    "SLX004",
                    "4:14-4:54".to_string(),
                    "`LABEL token` holds a GitHub token".to_string()
                ),
                (
                    "SLX004",
                    "5:25-5:65".to_string(),
                    "a `RUN` instruction holds a GitHub token".to_string()
                ),
                (
                    "SLX004",
                    "7:23-7:43".to_string(),
                    "a `CMD` instruction holds an AWS access key ID".to_string()
                ),
                (
                    "SLX004",
                    "8:15-8:35".to_string(),
                    "`ONBUILD ARG K` holds an AWS access key ID".to_string()
                ),
            ]
        );
        let d = diagnostics(R, &text);
        for d in &d {
            // its own token first, then every token of the file (a snippet shows other lines)
            assert_eq!(d.secrets.len(), 6);
            assert_eq!(d.secrets[0].1, d.span);
            assert!(!d.message.contains("AKIA") && !d.message.contains("ghp_"));
        }
    }

    #[test]
    fn heredocs_and_private_keys() {
        let body = "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB";
        let text = format!(
            "FROM a:1\nRUN <<EOF\nmkdir -p /root/.ssh\ncat > /root/.ssh/id_rsa <<KEY\n{}RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\nKEY\nEOF\n",
            concat!("-----", "BEGIN ")
        );
        let s = spans(R, &text);
        assert_eq!(s.len(), 1);
        assert!(s[0].starts_with(concat!("-----", "BEGIN RSA PRIVATE KEY-----\nMIIE")));
        assert!(s[0].ends_with("-----END RSA PRIVATE KEY-----"));
        assert_eq!(
            diagnostics(R, &text)[0].message,
            "a heredoc of a `RUN` instruction holds a private key"
        );
    }

    /// `secret-in-env` reports a literal under a secret name: not this rule.
    #[test]
    fn yields_to_name_rules() {
        let text = format!(
            "FROM a:1\nENV GITHUB_TOKEN={GH} AWS_SECRET_ACCESS_KEY={AWS}\nARG GH_TOKEN={GH}\nENV AWS_ACCESS_KEY_ID={AWS}\n"
        );
        assert_eq!(spans(R, &text), vec![AWS]);
        // the values left to the name rules are masked all the same: the snippet shows them
        // when those rules do not run
        let d = diagnostics(R, &text);
        let masked: Vec<&str> = d[0].secrets.iter().map(|(_, s)| &text[s.range()]).collect();
        assert_eq!(masked.iter().filter(|m| **m == GH).count(), 2, "{masked:?}");
        let compose = format!(
            "services:\n  app:\n    image: a\n    environment:\n      GITHUB_TOKEN: {GH}\n      AWS_ACCESS_KEY_ID: {AWS}\n    build:\n      context: .\n      args:\n        - NPM_TOKEN={GH}\n        - CLONE_URL=https://x:{GH}@github.com/o/r\n        - REPO=https://{GH}@github.com/o/r\n"
        );
        // the URL with a literal password is `secret-in-build-args`'s (`CLONE_URL`); `REPO` has
        // the token as the user name, which no name rule sees
        let f = test_util::findings(R, &compose);
        assert_eq!(
            f,
            vec![("SLX004", AWS.to_string()), ("SLX004", GH.to_string())]
        );
    }

    /// `literal-password-set` reports the password word: not this rule.
    #[test]
    fn yields_to_literal_password_set() {
        let text = format!("FROM a:1\nRUN echo \"root:{GH}\" | chpasswd && echo {GH}\n");
        assert_eq!(
            findings(R, &text),
            vec![(
                "SLX004",
                "2:77-2:117".to_string(),
                "a `RUN` instruction holds a GitHub token".to_string()
            )]
        );
    }

    #[test]
    fn compose_places() {
        let text = format!(
            "services:\n  app:\n    image: a\n    environment:\n      - KEY_ID={AWS}\n      - OTHER=\"{AWS}\"\n    labels:\n      com.example.token: \"{GH}\"\n    command: [\"serve\", \"--token={GH}\"]\n    entrypoint: run {AWS}\n    healthcheck:\n      test: [\"CMD-SHELL\", \"curl -H 'x: {GH}' localhost\"]\n    build:\n      context: .\n      labels: [\"k={AWS}\"]\n"
        );
        assert_eq!(
            test_util::messages(R, &text),
            vec![
                "service `app`: `environment` entry `KEY_ID` holds an AWS access key ID",
                "service `app`: `environment` entry `OTHER` holds an AWS access key ID",
                "service `app`: `labels` entry `com.example.token` holds a GitHub token",
                "service `app`: `command` holds a GitHub token",
                "service `app`: `entrypoint` holds an AWS access key ID",
                "service `app`: `healthcheck.test` holds a GitHub token",
                "service `app`: `build.labels` entry `k` holds an AWS access key ID",
            ]
        );
        let f = test_util::findings(R, &text);
        assert!(f.iter().all(|(_, s)| s == AWS || s == GH), "{f:?}");
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM a:1\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
            "FROM a:1\nRUN pip install scikit-learn sk-learn\n",
            "FROM a:1\nENV OPENAI_KEY=${OPENAI_KEY} T=ghp_${X}\n",
            "FROM a:1\n# ENV K=AKIAZ2K4M6P3Q7R5T2WX\nUSER app\n",
            "FROM a:1\nRUN test -n \"$KEY\" || echo '-----BEGIN OPENSSH PRIVATE KEY-----' missing\n",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }
}
