use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

use super::unknown_service_key::{SERVICE_KEYS, is_known_key};

/// An unknown service key that is a near miss of a security-relevant key (`read-only` for
/// `read_only`): the protection it was meant to turn on does not apply.
pub struct MisspelledSecurityKey;

/// Keys whose absence weakens the service.
const SECURITY_KEYS: &[&str] = &[
    "read_only",
    "security_opt",
    "cap_drop",
    "cap_add",
    "pids_limit",
    "mem_limit",
    "privileged",
    "user",
    "network_mode",
    "userns_mode",
];

/// The intended setting of a misspelled security key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Intended {
    /// A key of the specification.
    Key(&'static str),
    /// `no-new-privileges` written as a key (it is a `security_opt` entry).
    NoNewPrivileges,
}

/// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let (ai, bj) = (a.get(i - 1), b.get(j - 1));
            let cost = usize::from(ai != bj);
            let mut d = (prev.get(j).copied().unwrap_or(usize::MAX) + 1)
                .min(cur.get(j - 1).copied().unwrap_or(usize::MAX) + 1)
                .min(prev.get(j - 1).copied().unwrap_or(usize::MAX) + cost);
            if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                d = d.min(prev2.get(j - 2).copied().unwrap_or(usize::MAX) + 1);
            }
            if let Some(c) = cur.get_mut(j) {
                *c = d;
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev.get(b.len()).copied().unwrap_or(usize::MAX)
}

/// `Read-Only` -> `read_only`.
fn normalize(key: &str) -> String {
    key.trim()
        .to_ascii_lowercase()
        .replace(['-', ' ', '.'], "_")
}

/// How far a key may be from a known key to count as a misspelling of it.
fn max_distance(known: &str) -> usize {
    match known.len() {
        0..=4 => 1,
        5..=9 => 2,
        _ => 3,
    }
}

/// The known key closest to `key` (after normalizing case and separators), if it is close enough.
pub(super) fn closest_key(key: &str) -> Option<&'static str> {
    let norm = normalize(key);
    SERVICE_KEYS
        .iter()
        .map(|k| (distance(&norm, k), *k))
        .filter(|(d, k)| *d <= max_distance(k))
        .min_by_key(|(d, k)| (*d, !SECURITY_KEYS.contains(k)))
        .map(|(_, k)| k)
}

/// What an unknown key was meant to set, when it is a misspelled security key.
pub(super) fn misspelled_security_key(key: &str) -> Option<Intended> {
    if is_known_key(key) {
        return None;
    }
    let squashed: String = normalize(key).chars().filter(|&c| c != '_').collect();
    match squashed.as_str() {
        "nonewprivileges" | "nonewprivs" | "nonewpriv" => return Some(Intended::NoNewPrivileges),
        "userns" | "usernamespace" => return Some(Intended::Key("userns_mode")),
        "readonlyrootfs" | "readonlyrootfilesystem" => return Some(Intended::Key("read_only")),
        "memory" | "memorylimit" | "memlimits" => return Some(Intended::Key("mem_limit")),
        _ => {}
    }
    let known = closest_key(key)?;
    SECURITY_KEYS
        .contains(&known)
        .then_some(Intended::Key(known))
}

impl Rule for MisspelledSecurityKey {
    fn meta(&self) -> &'static RuleMeta {
        docs::MISSPELLED_SECURITY_KEY
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for key in &service.keys {
                let Some(intended) = misspelled_security_key(&key.value) else {
                    continue;
                };
                let help = match intended {
                    Intended::Key(k) => format!("rename to `{k}`"),
                    Intended::NoNewPrivileges => {
                        "replace with `security_opt: [\"no-new-privileges:true\"]`".to_string()
                    }
                };
                cx.report(
                    key.span,
                    format!(
                        "service `{}` has misspelled security key `{}`",
                        super::svc(service),
                        crate::source::clip(&key.value, 26)
                    ),
                )
                .help(help);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};
    use super::{Intended, closest_key, distance, misspelled_security_key};

    const RULE: &str = "misspelled-security-key";

    #[test]
    fn distances() {
        assert_eq!(distance("readonly", "read_only"), 1);
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("", "user"), 4);
        assert_eq!(distance("privileged", "privileged"), 0);
        assert_eq!(distance("priviledged", "privileged"), 1);
    }

    #[test]
    fn misspellings() {
        for (key, want) in [
            ("readonly", "read_only"),
            ("read-only", "read_only"),
            ("Read_Only", "read_only"),
            ("security-opt", "security_opt"),
            ("security_opts", "security_opt"),
            ("cap-drop", "cap_drop"),
            ("cap_drops", "cap_drop"),
            ("cap-add", "cap_add"),
            ("pids-limit", "pids_limit"),
            ("pid_limit", "pids_limit"),
            ("mem-limit", "mem_limit"),
            ("network-mode", "network_mode"),
            ("user_ns", "userns_mode"),
            ("userns-mode", "userns_mode"),
            ("priviledged", "privileged"),
            ("users", "user"),
            ("memory_limit", "mem_limit"),
        ] {
            assert_eq!(
                misspelled_security_key(key),
                Some(Intended::Key(want)),
                "{key}"
            );
        }
        for key in ["no_new_privileges", "no-new-privileges", "NoNewPrivileges"] {
            assert_eq!(
                misspelled_security_key(key),
                Some(Intended::NoNewPrivileges),
                "{key}"
            );
        }
        for key in [
            "read_only",
            "x-read-only",
            "enviroment",
            "mem-reservation",
            "log_driver",
            "uts",
            "cpu_limit",
        ] {
            assert_eq!(misspelled_security_key(key), None, "{key}");
        }
        assert_eq!(closest_key("mem-reservation"), Some("mem_reservation"));
        assert_eq!(closest_key("enviroment"), Some("environment"));
        assert_eq!(closest_key("log_driver"), None);
    }

    #[test]
    fn reports_key() {
        let text = "services:\n  web:\n    image: x:1\n    read-only: true\n    no-new-privileges: true\n    enviroment: {}\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC030", "read-only".to_string()),
                ("SLC030", "no-new-privileges".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text),
            vec![
                "service `web` has misspelled security key `read-only`",
                "service `web` has misspelled security key `no-new-privileges`",
            ]
        );
    }
}
