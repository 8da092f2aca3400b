use crate::dockerfile::analysis;
use crate::dockerfile::edit::{self, TextEdit};
use crate::dockerfile::model::{Dockerfile, Instruction, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD003: `ADD` of local files where `COPY` does.
pub struct AddInsteadOfCopy;

/// Extensions of archives that `ADD` unpacks (tar, possibly compressed) and of compressed files
/// whose content `ADD` may detect as a tar archive.
const ARCHIVES: &[&str] = &[
    ".tar", ".tgz", ".taz", ".tbz", ".tbz2", ".tb2", ".txz", ".tlz", ".tzst", ".tzs", ".gz",
    ".bz2", ".xz", ".lz", ".lzma", ".zst", ".z",
];

/// A source that `ADD` may unpack.
pub(crate) fn is_archive(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    let lower = lower.trim_end_matches('/');
    ARCHIVES.iter().any(|ext| lower.ends_with(ext))
}

/// The flags `COPY` takes as `ADD` does: with another flag the keyword alone cannot change.
const COPY_FLAGS: &[&str] = &["chown", "chmod", "link", "exclude"];

/// `ADD` → `COPY` (in the keyword's case). Safe when every source is written as a directory
/// (`dir/`, `.`): `ADD` unpacks a local tar archive found by its content, whatever its name, but
/// never a directory's files. Unsafe otherwise: a source without an archive name may still be a
/// tar that `ADD` unpacks today. `None` with a flag `COPY` lacks.
fn copy_fix(ins: &Instruction, sources: &[(String, Span)]) -> Option<(Applicability, TextEdit)> {
    if !ins
        .flags
        .iter()
        .all(|f| COPY_FLAGS.contains(&f.name.value.as_str()))
    {
        return None;
    }
    let dirs = sources
        .iter()
        .all(|(s, _)| s.ends_with('/') || matches!(s.as_str(), "." | "./") || s.ends_with("/."));
    let applicability = if dirs {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    let copy = edit::keyword_in_case_of(ins, "COPY");
    Some((applicability, edit::replace_keyword(ins, &copy)))
}

impl Rule for AddInsteadOfCopy {
    fn meta(&self) -> &'static RuleMeta {
        docs::ADD_INSTEAD_OF_COPY
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for add in analysis::instructions_of(df, Keyword::Add) {
            if add.ins.flag("checksum").is_some() || add.ins.flag("keep-git-dir").is_some() {
                continue;
            }
            let sources = analysis::add_sources(add.ins);
            if sources.is_empty() {
                continue;
            }
            let mut locals = Vec::new();
            let mut all_local = true;
            for (src, _) in &sources {
                let Some(value) = semantics::expand_with_args(df, src, add.scope()) else {
                    all_local = false;
                    break;
                };
                if value.contains("://") || analysis::is_git_url(&value) || is_archive(&value) {
                    all_local = false;
                    break;
                }
                locals.push(value);
            }
            if !all_local {
                continue;
            }
            let first = locals.first().map_or("", String::as_str);
            let more = match locals.len() {
                0 | 1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            let prefix = if add.onbuild {
                "`ONBUILD ADD`"
            } else {
                "`ADD`"
            };
            let message = format!(
                "{prefix} used for local source `{}`{more}",
                analysis::snippet(first, 50)
            );
            let fix = copy_fix(add.ins, &sources);
            let d = cx
                .report(add.ins.keyword.span, message)
                .help("use `COPY`: it copies without unpacking archives or fetching URLs");
            if let Some((applicability, edit)) = fix {
                d.fix(super::fix_of(&file, applicability, "write `COPY`", [edit]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "add-instead-of-copy";

    #[test]
    fn flags_local_sources() {
        let text = "FROM alpine:3.20\nADD --chown=1:1 app.py lib/ /srv/\nONBUILD add [\"conf.ini\", \"/etc/\"]\n";
        assert_eq!(
            findings(R, text),
            vec![
                (
                    "SLD003",
                    "2:1-2:4".to_string(),
                    "`ADD` used for local source `app.py` and 1 more".to_string()
                ),
                (
                    "SLD003",
                    "3:9-3:12".to_string(),
                    "`ONBUILD ADD` used for local source `conf.ini`".to_string()
                ),
            ]
        );
        assert_eq!(spans(R, "FROM a:1\nARG F=app.py\nADD $F /x\n"), vec!["ADD"]);
    }

    #[test]
    fn not_flagged() {
        for text in [
            "FROM alpine:3.20\nCOPY app.py /srv/\n",
            "FROM alpine:3.20\nADD rootfs.tar.gz /\n",
            "FROM alpine:3.20\nADD vendor.TGZ /opt/\n",
            "FROM alpine:3.20\nADD dist/*.tar.xz /opt/\n",
            "FROM alpine:3.20\nADD https://example.com/a.sh /a.sh\n",
            "FROM alpine:3.20\nADD git@github.com:org/repo.git /src\n",
            "FROM alpine:3.20\nADD https://github.com/org/repo.git#v1 /src\n",
            "FROM alpine:3.20\nADD $SRC /x\n",
            "FROM alpine:3.20\nADD <<EOF /x\nhello\nEOF\n",
        ] {
            assert_eq!(findings(R, text), vec![], "{text}");
        }
    }
}
