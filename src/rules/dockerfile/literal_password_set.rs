use crate::dockerfile::analysis;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::shell::{Command, Element, Pipeline, Word};
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::Span;

use crate::dockerfile::analysis::Origin;
use crate::rules::secrets::is_literal_secret_value;

/// SLD011: a password set from a literal with `chpasswd`, `passwd`, `useradd -p`, `usermod -p`.
pub struct LiteralPasswordSet;

/// Password values that lock or disable the password instead of setting one.
const NOT_PASSWORDS: &[&str] = &["*", "!", "!!", "x", "!*"];

/// The literal text an `echo`/`printf` writes, and the word holding the most of it. `None` when
/// the text comes from variables (or the command is something else).
fn fed_text(cmd: &Command) -> Option<(String, &Word)> {
    let prog = cmd.program()?;
    let args: Vec<&Word> = match prog {
        "echo" => cmd
            .args()
            .iter()
            .skip_while(|w| matches!(w.value.as_str(), "-e" | "-n" | "-E" | "-ne" | "-en"))
            .collect(),
        "printf" => {
            let args: Vec<&Word> = cmd.args().iter().collect();
            if args.iter().skip(1).any(|w| w.value.contains('$')) {
                return None;
            }
            args
        }
        _ => return None,
    };
    let word = args.iter().max_by_key(|w| w.value.len())?;
    let text = args
        .iter()
        .map(|w| w.value.as_str())
        .collect::<Vec<_>>()
        .join(" ")
        .replace("\\n", "\n");
    Some((text, word))
}

/// `user:password` lines with a literal password: the first user.
fn chpasswd_user(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (user, rest) = line.trim().split_once(':')?;
        let pw = rest.split(':').next().unwrap_or(rest);
        (is_password(pw) && !user.is_empty()).then(|| analysis::snippet(user, 30))
    })
}

fn is_password(value: &str) -> bool {
    let v = value.trim();
    // Command substitutions read the password from somewhere else.
    if v.contains("$(") || v.contains('`') {
        return false;
    }
    !NOT_PASSWORDS.contains(&v) && (is_crypt_hash(v) || is_literal_secret_value(v))
}

/// A crypt(3) hash (`$6$salt$hash`, `$y$j9T$…`, `$2b$12$…`), which looks like variables.
fn is_crypt_hash(v: &str) -> bool {
    let mut parts = v.split('$');
    parts.next() == Some("")
        && parts.next().is_some_and(|id| {
            !id.is_empty() && id.len() <= 2 && id.chars().all(|c| c.is_ascii_alphanumeric())
        })
        && v.matches('$').count() >= 3
}

/// The last operand (the user name) of a command.
fn last_operand(cmd: &Command) -> Option<String> {
    cmd.args()
        .iter()
        .rev()
        .find(|w| !w.value.starts_with('-'))
        .map(|w| analysis::snippet(&w.value, 30))
}

/// `-p VALUE`/`--password VALUE`/`--password=VALUE` of `useradd`/`usermod`: the value word.
fn password_option(cmd: &Command) -> Option<(&Word, String)> {
    let args = cmd.args();
    for (i, w) in args.iter().enumerate() {
        let v = w.value.as_str();
        if v == "-p" || v == "--password" {
            let value = args.get(i + 1)?;
            return Some((value, value.value.clone()));
        }
        if let Some(value) = v.strip_prefix("--password=") {
            return Some((w, value.to_string()));
        }
    }
    None
}

/// The value is literal, or a substitution hashing a literal (`$(openssl passwd -1 secret)`).
fn is_literal_password_value(word: &Word, value: &str) -> bool {
    if word.substitutions.is_empty() {
        return is_password(value);
    }
    word.substitutions.iter().any(|s| {
        s.script.any_command(&|c| {
            matches!(c.program(), Some("openssl" | "mkpasswd"))
                && c.args()
                    .iter()
                    .rev()
                    .find(|w| !w.value.starts_with('-'))
                    .is_some_and(|w| w.value != "passwd" && is_password(&w.value))
        })
    })
}

fn check_pipeline(p: &Pipeline, origin: Origin<'_>, out: &mut Vec<(Span, String)>) {
    let mut feeder: Option<(String, &Word)> = None;
    for el in &p.elements {
        let Element::Simple(cmd) = el else {
            feeder = None;
            continue;
        };
        match cmd.program() {
            Some("chpasswd") => {
                let here = cmd
                    .redirects
                    .iter()
                    .find(|r| r.op == "<<<")
                    .and_then(|r| r.target.as_ref())
                    .map(|t| (t.value.clone(), t));
                if let Some((text, word)) = here.or_else(|| feeder.clone())
                    && let Some(user) = chpasswd_user(&text)
                {
                    out.push((
                        origin.word(word),
                        format!("literal password for `{user}` set with `chpasswd`"),
                    ));
                }
            }
            Some("passwd") => {
                if let Some((text, word)) = feeder.clone()
                    && text.lines().any(is_password)
                {
                    let user = last_operand(cmd).unwrap_or_else(|| "root".to_string());
                    out.push((
                        origin.word(word),
                        format!("literal password for `{user}` set with `passwd`"),
                    ));
                }
            }
            Some(prog @ ("useradd" | "usermod" | "adduser")) => {
                if let Some((word, value)) = password_option(cmd)
                    && is_literal_password_value(word, &value)
                {
                    let user = last_operand(cmd).unwrap_or_default();
                    out.push((
                        origin.word(word),
                        format!("literal password for `{user}` set with `{prog} -p`"),
                    ));
                }
            }
            _ => {}
        }
        feeder = fed_text(cmd);
    }
}

impl Rule for LiteralPasswordSet {
    fn meta(&self) -> &'static RuleMeta {
        docs::LITERAL_PASSWORD_SET
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        for (span, message) in literal_passwords(df) {
            let file = cx.file().clone();
            cx.report(span, message).secret(&file, span).help(
                "don't bake passwords into the image: lock the account (`passwd -l`), use key-based auth, or set the password at run time from a secret",
            );
        }
    }
}

/// The words that set a literal password (this rule's findings), in order: `secret-token-literal`
/// does not report a token in them again.
pub(crate) fn literal_passwords(df: &Dockerfile) -> Vec<(Span, String)> {
    let mut found: Vec<(Span, String)> = Vec::new();
    for run in analysis::instructions_of(df, Keyword::Run) {
        for (script, origin) in analysis::run_scripts(df, &run) {
            script.for_each_pipeline(&mut |p| check_pipeline(p, origin, &mut found));
            // `chpasswd <<EOF` reading a Dockerfile heredoc.
            if let Origin::Text(_) = origin {
                script.for_each_command(&mut |c| {
                    if c.program() != Some("chpasswd") {
                        return;
                    }
                    for r in c
                        .redirects
                        .iter()
                        .filter(|r| r.op.starts_with("<<") && r.op != "<<<")
                    {
                        let Some(t) = &r.target else { continue };
                        if let Some(h) = run.ins.heredocs.iter().find(|h| h.name.value == t.value)
                            && let Some(user) = chpasswd_user(&h.body.value)
                        {
                            let len = u32::try_from(h.body.value.trim_end().len()).unwrap_or(0);
                            found.push((
                                h.body.source_span(0, len),
                                format!("literal password for `{user}` set with `chpasswd`"),
                            ));
                        }
                    }
                });
            }
        }
    }
    found.sort_by_key(|(s, _)| (s.start, s.end));
    found.dedup_by_key(|(s, _)| (s.start, s.end));
    found
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{diagnostics, findings, spans};

    const R: &str = "literal-password-set";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM debian:12\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        let text = "FROM a:1\nRUN echo 'root:hunter2' | chpasswd\n";
        assert_eq!(
            findings(R, text),
            vec![(
                "SLD011",
                "2:10-2:24".to_string(),
                "literal password for `root` set with `chpasswd`".to_string()
            )]
        );
        assert!(
            diagnostics(R, text)
                .iter()
                .all(|d| !d.message.contains("hunter2"))
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("echo \"app:s3cret\" | chpasswd", "\"app:s3cret\""),
            ("printf 'root:toor\\n' | chpasswd", "'root:toor\\n'"),
            ("chpasswd <<< 'root:toor'", "'root:toor'"),
            ("echo s3cret | passwd --stdin app", "s3cret"),
            ("echo -e 'pw1\\npw1' | passwd", "'pw1\\npw1'"),
            ("useradd -m -p '$6$salt$hash' app", "'$6$salt$hash'"),
            ("usermod --password=abc app", "--password=abc"),
            (
                "useradd -p \"$(openssl passwd -1 s3cret)\" app",
                "\"$(openssl passwd -1 s3cret)\"",
            ),
            ("sh -c \"echo 'root:x1' | chpasswd\"", "'root:x1'"),
        ] {
            assert_eq!(run(cmd), vec![want.to_string()], "{cmd}");
        }
        assert_eq!(
            spans(R, "FROM a:1\nRUN chpasswd <<EOF\nroot:toor\nEOF\n"),
            vec!["root:toor"]
        );
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "echo \"root:$ROOT_PASSWORD\" | chpasswd",
            "echo \"$USER:${PASS}\" | chpasswd",
            "printf 'root:%s\\n' \"$PW\" | chpasswd",
            "cat /run/secrets/pw | chpasswd",
            "passwd -l root",
            "passwd -d app",
            "usermod -p '*' app",
            "usermod -p \"$HASH\" app",
            "useradd -m app",
            "echo 'root:x' > /tmp/notes",
            "chpasswd < /run/secrets/users",
            "echo \"root:$(cat /run/secrets/pw)\" | chpasswd",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
