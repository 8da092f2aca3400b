use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics;
use crate::dockerfile::shell::Command;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

use crate::dockerfile::analysis::Origin;

/// SLD008: TLS certificate verification turned off for a download tool or package manager.
pub struct TlsVerificationDisabled;

/// An environment variable and whether a value of it turns verification off.
type EnvCheck = (&'static str, fn(&str) -> bool);

/// Environment variables that turn verification off, and whether a value does.
const ENV_VARS: &[EnvCheck] = &[
    ("GIT_SSL_NO_VERIFY", |v| !v.is_empty()),
    ("NODE_TLS_REJECT_UNAUTHORIZED", |v| v.trim() == "0"),
    ("PYTHONHTTPSVERIFY", |v| v.trim() == "0"),
    ("PIP_TRUSTED_HOST", |v| !v.trim().is_empty()),
    ("NPM_CONFIG_STRICT_SSL", analysis::is_off),
];

/// Config keys (in command words and config file lines) whose "off" value disables verification.
const OFF_KEYS: &[&str] = &["sslverify", "strict-ssl"];

/// curl short options that take an argument (the rest of a cluster after them is that argument).
const CURL_ARG_LETTERS: &str = "bcdeoruwxACDEFHKPQTUXYmtyz";

/// The environment variable `name=value` disables verification.
fn env_disables(name: &str, value: &str) -> bool {
    ENV_VARS
        .iter()
        .any(|(n, pred)| n.eq_ignore_ascii_case(name) && pred(value))
}

/// `(span, what)` of each finding in one command.
fn check_command(cmd: &Command, origin: Origin<'_>, out: &mut Vec<(Span, String)>) {
    for w in analysis::env_assignments(cmd) {
        if let Some((name, value)) = w.value.split_once('=')
            && !value.contains('$')
            && env_disables(name, value)
        {
            out.push((origin.word(w), w.value.clone()));
        }
    }
    let Some(prog) = cmd.program() else { return };
    let args = cmd.args();
    let flagged = |pred: &dyn Fn(&str) -> bool| args.iter().find(|w| pred(&w.value));
    let hit = match prog {
        "curl" => flagged(&|v| {
            matches!(v, "--insecure" | "--proxy-insecure")
                || v.strip_prefix('-').is_some_and(|c| {
                    !c.starts_with('-')
                        && c.chars()
                            .take_while(|ch| !CURL_ARG_LETTERS.contains(*ch))
                            .any(|ch| ch == 'k')
                })
        }),
        "wget" => flagged(&|v| v == "--no-check-certificate"),
        p if is_pip_like(p) => flagged(&|v| {
            v == "--trusted-host"
                || v.starts_with("--trusted-host=")
                || v.ends_with(".trusted-host")
        }),
        "npm" | "yarn" | "pnpm" => npm_config_set(args).or_else(|| {
            args.iter().enumerate().find_map(|(i, w)| {
                let v = w.value.as_str();
                let off = v == "--no-strict-ssl"
                    || v.strip_prefix("--strict-ssl=")
                        .is_some_and(analysis::is_off)
                    || (v == "--strict-ssl"
                        && args.get(i + 1).is_some_and(|n| analysis::is_off(&n.value)));
                off.then_some(w)
            })
        }),
        "git" => git_config_set(args),
        _ => None,
    };
    if let Some(w) = hit {
        let span = origin.word(w);
        // `npm config set strict-ssl false`, `git config http.sslVerify false`: the whole command.
        let config = matches!(prog, "npm" | "yarn" | "pnpm" | "git")
            && args.iter().any(|a| a.value == "config" || a.value == "set");
        let what = if config {
            let from = cmd.program_index().unwrap_or(0);
            cmd.words
                .iter()
                .skip(from)
                .map(|a| a.value.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            format!("{prog} {}", w.value)
        };
        out.push((span, what));
    }
    // `sslverify=0` / `strict-ssl=false` anywhere in a word: `--setopt=sslverify=0`,
    // `git -c http.sslVerify=false`, `echo sslverify=0 >> /etc/yum.conf`.
    for w in &cmd.words {
        let text = if prog == "sed" {
            analysis::sed_replacement(&w.value)
        } else {
            &w.value
        };
        // `text` is a slice of the word's value: its offset there.
        let base = (text.as_ptr() as usize).saturating_sub(w.value.as_ptr() as usize);
        for key in OFF_KEYS {
            if let Some((s, e)) = analysis::find_key_off(text, key) {
                let span = origin.word_part(w, base + s, base + e);
                if !out
                    .iter()
                    .any(|(o, _)| o.start <= span.start && span.end <= o.end)
                {
                    out.push((span, text.get(s..e).unwrap_or(key).to_string()));
                }
            }
        }
    }
}

fn is_pip_like(prog: &str) -> bool {
    prog.starts_with("pip") || prog.starts_with("python") || matches!(prog, "uv" | "pipenv")
}

/// `npm config set strict-ssl false`, `npm set strict-ssl false`, `yarn config set strict-ssl
/// false`, `yarn config set enableStrictSsl false`: the key word.
fn npm_config_set(
    args: &[crate::dockerfile::shell::Word],
) -> Option<&crate::dockerfile::shell::Word> {
    let set = args.iter().position(|w| w.value == "set")?;
    let rest: Vec<_> = args
        .iter()
        .skip(set + 1)
        .filter(|w| !w.value.starts_with('-'))
        .collect();
    let key = rest.first()?;
    let k = key.value.to_ascii_lowercase();
    let is_key = |k: &str| k == "strict-ssl" || k == "enablestrictssl";
    if let Some((name, value)) = k.split_once('=') {
        return (is_key(name) && analysis::is_off(value)).then_some(*key);
    }
    (is_key(&k) && rest.get(1).is_some_and(|v| analysis::is_off(&v.value))).then_some(*key)
}

/// `git config [--global] http.sslVerify false` (also `http.<url>.sslVerify`): the key word.
fn git_config_set(
    args: &[crate::dockerfile::shell::Word],
) -> Option<&crate::dockerfile::shell::Word> {
    let config = args.iter().position(|w| w.value == "config")?;
    let rest: Vec<_> = args
        .iter()
        .skip(config + 1)
        .filter(|w| !w.value.starts_with('-'))
        .collect();
    let key = rest.first()?;
    let k = key.value.to_ascii_lowercase();
    (k.starts_with("http.")
        && k.ends_with(".sslverify")
        && rest.get(1).is_some_and(|v| analysis::is_off(&v.value)))
    .then_some(*key)
}

impl Rule for TlsVerificationDisabled {
    fn meta(&self) -> &'static RuleMeta {
        docs::TLS_VERIFICATION_DISABLED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let mut found: Vec<(Span, String)> = Vec::new();
        analysis::for_each_run_command(df, &mut |_, cmd, origin| {
            check_command(cmd, origin, &mut found);
        });
        let mut all = analysis::instructions_of(df, Keyword::Arg);
        all.extend(analysis::instructions_of(df, Keyword::Env));
        for loc in all {
            let keyword = if loc.ins.kind == Keyword::Env {
                "ENV"
            } else {
                "ARG"
            };
            for kv in loc.ins.args.pairs() {
                let Some(value) = &kv.value else { continue };
                let value = if value.contains('$') {
                    let Some(raw) = &kv.raw_value else { continue };
                    match semantics::expand_with_args(df, &raw.value, loc.scope()) {
                        Some(v) => v,
                        None => continue,
                    }
                } else {
                    value.clone()
                };
                if env_disables(&kv.key.value, &value) {
                    let written = cx.text().get(kv.span.range()).unwrap_or(&kv.key.value);
                    found.push((kv.span, format!("{keyword} {written}")));
                }
            }
        }
        for line in analysis::heredoc_lines(df) {
            if let Some((key, value)) = analysis::ini_pair(line.text)
                && OFF_KEYS.contains(&key.as_str())
                && analysis::is_off(&value)
                && !found.iter().any(|(s, _)| *s == line.span)
            {
                found.push((line.span, line.text.to_string()));
            }
        }
        found.sort_by_key(|(s, _)| (s.start, s.end));
        found.dedup_by_key(|(s, _)| (s.start, s.end));
        for (span, what) in found {
            cx.report(
                span,
                format!(
                    "`{}` disables TLS certificate verification",
                    analysis::snippet(&what, 60)
                ),
            )
            .help(
                "keep verification on: install the CA certificate that signs the server's certificate (e.g. into /usr/local/share/ca-certificates, then run update-ca-certificates)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "tls-verification-disabled";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM alpine:3.20\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(R, "FROM a:1\nRUN curl -fsSLk https://x -o /x\n"),
            vec![(
                "SLD008",
                "2:10-2:16".to_string(),
                "`curl -fsSLk` disables TLS certificate verification".to_string()
            )]
        );
    }

    #[test]
    fn flagged_commands() {
        for (cmd, want) in [
            ("curl --insecure https://x", "--insecure"),
            ("curl -k -o /x https://x", "-k"),
            (
                "wget --no-check-certificate https://x",
                "--no-check-certificate",
            ),
            (
                "pip install --trusted-host pypi.example.com x",
                "--trusted-host",
            ),
            (
                "python3 -m pip install --trusted-host=pypi.example.com x",
                "--trusted-host=pypi.example.com",
            ),
            (
                "pip config set global.trusted-host example.com",
                "global.trusted-host",
            ),
            ("npm config set strict-ssl false", "strict-ssl"),
            ("yarn config set strict-ssl false -g", "strict-ssl"),
            ("npm install --strict-ssl=false", "--strict-ssl=false"),
            (
                "GIT_SSL_NO_VERIFY=true git clone https://x",
                "GIT_SSL_NO_VERIFY=true",
            ),
            (
                "export NODE_TLS_REJECT_UNAUTHORIZED=0",
                "NODE_TLS_REJECT_UNAUTHORIZED=0",
            ),
            (
                "env PYTHONHTTPSVERIFY=0 python3 x.py",
                "PYTHONHTTPSVERIFY=0",
            ),
            (
                "git -c http.sslVerify=false clone https://x",
                "sslVerify=false",
            ),
            ("git config --global http.sslverify false", "http.sslverify"),
            ("dnf install -y --setopt=sslverify=0 x", "sslverify=0"),
            ("echo 'sslverify=False' >> /etc/yum.conf", "sslverify=False"),
            (
                "sed -i 's/sslverify=1/sslverify=0/' /etc/yum.conf",
                "sslverify=0",
            ),
            ("sh -c 'curl -k https://x'", "-k"),
        ] {
            assert_eq!(run(cmd), vec![want.to_string()], "{cmd}");
        }
    }

    #[test]
    fn env_arg_and_heredocs() {
        assert_eq!(
            spans(
                R,
                "FROM a:1\nENV NODE_TLS_REJECT_UNAUTHORIZED=0 X=1\nARG GIT_SSL_NO_VERIFY=1\n"
            ),
            vec!["NODE_TLS_REJECT_UNAUTHORIZED=0", "GIT_SSL_NO_VERIFY=1"]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nARG V=0\nENV PYTHONHTTPSVERIFY=$V\nENV npm_config_strict_ssl false\n"
            ),
            vec!["PYTHONHTTPSVERIFY=$V", "npm_config_strict_ssl false"]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nCOPY <<EOF /etc/yum.repos.d/x.repo\n[x]\nbaseurl=https://x\n  sslverify = 0\nEOF\n"
            ),
            vec!["sslverify = 0"]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nONBUILD RUN wget --no-check-certificate https://x\n"
            ),
            vec!["--no-check-certificate"]
        );
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "curl -fsSL https://x -o /x",
            "curl -o kubectl https://x",
            "curl -okubectl https://x",
            "curl -H 'X-Key: -k' https://x",
            "wget -q https://x",
            "pip install x",
            "npm config set registry https://r",
            "npm config set strict-ssl true",
            "git config --global http.sslVerify true",
            "echo NODE_TLS_REJECT_UNAUTHORIZED is 0",
            "NODE_TLS_REJECT_UNAUTHORIZED=1 node x",
            "GIT_SSL_NO_VERIFY=$X git clone https://x",
            "sed -i 's/sslverify=0/sslverify=1/' /etc/yum.conf",
            "echo ssl_sslverify=0",
            "kubectl --insecure-skip-tls-verify get x",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
        for text in [
            "FROM a:1\nARG GIT_SSL_NO_VERIFY\n",
            "FROM a:1\nARG GIT_SSL_NO_VERIFY=\n",
            "FROM a:1\nENV NODE_TLS_REJECT_UNAUTHORIZED=1\n",
            "FROM a:1\nENV PYTHONHTTPSVERIFY=$UNKNOWN\n",
        ] {
            assert_eq!(spans(R, text), Vec::<String>::new(), "{text}");
        }
    }
}
