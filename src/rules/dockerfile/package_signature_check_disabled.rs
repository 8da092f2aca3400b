use crate::dockerfile::analysis;
use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::shell::Command;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

use crate::dockerfile::analysis::Origin;

/// SLD009: package manager signature checks turned off.
pub struct PackageSignatureCheckDisabled;

const APT: &[&str] = &["apt", "apt-get", "aptitude"];
/// Flags that turn signature checks off, for any program that has them.
const FLAGS: &[&str] = &[
    "--allow-untrusted",
    "--nogpgcheck",
    "--no-gpg-checks",
    "--no-gpgcheck",
    "--nosignature",
    "--nodigest",
];
/// apt-only flags.
const APT_FLAGS: &[&str] = &[
    "--allow-unauthenticated",
    "--force-yes",
    "--allow-insecure-repositories",
];
/// apt options whose `true` value turns checks off (`-o APT::Get::AllowUnauthenticated=true`,
/// also written to `apt.conf.d`).
const APT_OPTIONS: &[&str] = &[
    "apt::get::allowunauthenticated",
    "acquire::allowinsecurerepositories",
    "acquire::allowdowngradetoinsecurerepositories",
];

/// `[trusted=yes]` (apt sources option) in `text`: its byte range.
fn find_trusted_yes(text: &str) -> Option<(usize, usize)> {
    if !analysis::contains_ignore_ascii_case(text, "trusted=yes") {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower.get(from..).and_then(|r| r.find("trusted=yes")) {
        let start = from + pos;
        let before = lower[..start].chars().next_back();
        let after = lower[start + 11..].chars().next();
        // A local repository (`file:`/`copy:` URI) holds packages built in this build: nothing
        // travels over a network.
        let local = lower.contains(" file:") || lower.contains(" copy:");
        if before.is_some_and(|c| matches!(c, '[' | ' ' | ',' | '\t'))
            && after.is_none_or(|c| matches!(c, ']' | ' ' | ',' | '\t'))
            && !local
        {
            return Some((start, start + 11));
        }
        from = start + 11;
    }
    None
}

/// An apt option set to true inside `text` (`APT::Get::AllowUnauthenticated=true`,
/// `APT::Get::AllowUnauthenticated "true";`).
fn apt_option_on(text: &str) -> bool {
    // every option is `<group>::<name>`: words without `::` (nearly all) need no lowered copy
    if !text.as_bytes().windows(2).any(|w| w == b"::") {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    APT_OPTIONS.iter().any(|o| {
        lower.find(o).is_some_and(|pos| {
            let value = lower[pos + o.len()..].trim_start_matches(|c: char| {
                c == '=' || c == '"' || c == '\'' || c.is_whitespace()
            });
            ["true", "1", "yes"].iter().any(|v| {
                value
                    .strip_prefix(v)
                    .is_some_and(|r| r.chars().next().is_none_or(|c| !c.is_ascii_alphanumeric()))
            })
        })
    })
}

fn check_command(cmd: &Command, origin: Origin<'_>, out: &mut Vec<(Span, String)>) {
    let Some(prog) = cmd.program() else { return };
    for w in cmd.args() {
        let v = w.value.as_str();
        let flag = v.split_once('=').map_or(v, |(f, _)| f);
        if FLAGS.contains(&flag) || (APT.contains(&prog) && APT_FLAGS.contains(&flag)) {
            out.push((origin.word(w), format!("{prog} {v}")));
            continue;
        }
        let text = if prog == "sed" {
            analysis::sed_replacement(v)
        } else {
            v
        };
        let base = (text.as_ptr() as usize).saturating_sub(v.as_ptr() as usize);
        if apt_option_on(text) {
            out.push((origin.word(w), v.to_string()));
        } else if let Some((s, e)) = find_trusted_yes(text) {
            out.push((
                origin.word_part(w, base + s, base + e),
                "[trusted=yes]".to_string(),
            ));
        } else if let Some((s, e)) = analysis::find_key_off(text, "gpgcheck") {
            out.push((
                origin.word_part(w, base + s, base + e),
                text.get(s..e).unwrap_or("gpgcheck=0").to_string(),
            ));
        }
    }
}

impl Rule for PackageSignatureCheckDisabled {
    fn meta(&self) -> &'static RuleMeta {
        docs::PACKAGE_SIGNATURE_CHECK_DISABLED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let mut found: Vec<(Span, String)> = Vec::new();
        analysis::for_each_run_command(df, &mut |_, cmd, origin| {
            check_command(cmd, origin, &mut found);
        });
        for line in analysis::heredoc_lines(df) {
            let lower = line.text.to_ascii_lowercase();
            let hit = if let Some((key, value)) = analysis::ini_pair(line.text) {
                key == "gpgcheck" && analysis::is_off(&value)
            } else if let Some(value) = lower.strip_prefix("trusted:") {
                value.trim() == "yes"
            } else {
                (lower.starts_with("deb ") || lower.starts_with("deb-src "))
                    && find_trusted_yes(line.text).is_some()
                    || apt_option_on(line.text) && lower.starts_with("apt")
                    || apt_option_on(line.text) && lower.starts_with("acquire")
            };
            if hit
                && !found
                    .iter()
                    .any(|(s, _)| s.start <= line.span.start && line.span.end <= s.end)
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
                    "`{}` disables package signature checks",
                    analysis::snippet(&what, 60)
                ),
            )
            .help(
                "keep signature checks on: import the repository's signing key (`signed-by=` keyring for apt, `rpm --import` for rpm, the key in /etc/apk/keys for apk)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "package-signature-check-disabled";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM debian:12\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(R, "FROM a:1\nRUN apk add --allow-untrusted /tmp/x.apk\n"),
            vec![(
                "SLD009",
                "2:13-2:30".to_string(),
                "`apk --allow-untrusted` disables package signature checks".to_string()
            )]
        );
    }

    #[test]
    fn flagged_commands() {
        for (cmd, want) in [
            (
                "apt-get install -y --allow-unauthenticated x",
                "--allow-unauthenticated",
            ),
            ("apt-get install -y --force-yes x", "--force-yes"),
            (
                "apt-get -o APT::Get::AllowUnauthenticated=true install x",
                "APT::Get::AllowUnauthenticated=true",
            ),
            (
                "echo 'APT::Get::AllowUnauthenticated \"true\";' > /etc/apt/apt.conf.d/99x",
                "'APT::Get::AllowUnauthenticated \"true\";'",
            ),
            (
                "echo 'deb [trusted=yes] http://r.example.com ./' > /etc/apt/sources.list.d/r.list",
                "trusted=yes",
            ),
            (
                "echo \"deb [arch=amd64 trusted=yes] http://r ./\" > /x.list",
                "trusted=yes",
            ),
            ("yum install -y --nogpgcheck x", "--nogpgcheck"),
            ("dnf --setopt=*.gpgcheck=0 install x", "gpgcheck=0"),
            ("zypper --no-gpg-checks install -y x", "--no-gpg-checks"),
            ("rpm -i --nosignature x.rpm", "--nosignature"),
            ("rpm -i --nodigest x.rpm", "--nodigest"),
            (
                "sed -i 's/gpgcheck=1/gpgcheck=0/g' /etc/yum.repos.d/x.repo",
                "gpgcheck=0",
            ),
            ("echo gpgcheck=0 >> /etc/yum.repos.d/x.repo", "gpgcheck=0"),
        ] {
            assert_eq!(run(cmd), vec![want.to_string()], "{cmd}");
        }
    }

    #[test]
    fn heredocs() {
        assert_eq!(
            spans(
                R,
                "FROM a:1\nCOPY <<EOF /etc/yum.repos.d/x.repo\n[x]\ngpgcheck = 0\nrepo_gpgcheck=0\nEOF\n"
            ),
            vec!["gpgcheck = 0"]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nRUN cat <<EOF > /etc/apt/sources.list.d/x.list\ndeb [trusted=yes] http://r ./\nEOF\n"
            ),
            vec!["deb [trusted=yes] http://r ./"]
        );
        assert_eq!(
            spans(
                R,
                "FROM a:1\nRUN <<EOF\napk add --allow-untrusted x.apk\nEOF\n"
            ),
            vec!["--allow-untrusted"]
        );
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "apt-get install -y --no-install-recommends x",
            "echo 'deb [signed-by=/k.gpg] http://r ./' > /x.list",
            "echo repo_gpgcheck=0 >> /x.repo",
            "sed -i 's/gpgcheck=0/gpgcheck=1/' /x.repo",
            "dnf install -y --setopt=gpgcheck=1 x",
            "apt-get -o APT::Get::AllowUnauthenticated=false install x",
            "echo trusted=yes",
            "echo \"deb [ trusted=yes ] file://$tempDir ./\" > /etc/apt/sources.list.d/temp.list",
            "pip install --force-yes x",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
