use crate::compose::model::{ComposeFile, Service, VolumeKind};
use crate::dockerfile::model::{Instruction, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// Paths that programs commonly write to at run time.
const WRITABLE: &[&str] = &["/tmp", "/var/tmp", "/run", "/var/run", "/var/cache"];

/// A read-only service whose image writes somewhere nothing writable is mounted.
pub struct ReadOnlyWithoutWritablePaths;

impl Rule for ReadOnlyWithoutWritablePaths {
    fn meta(&self) -> &'static RuleMeta {
        docs::READ_ONLY_WITHOUT_WRITABLE_PATHS
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for s in &compose.services {
            let Some(ro) = &s.read_only else { continue };
            if ro.value.as_bool() != Some(true) {
                continue;
            }
            let Some(built) = cx.build_of(&s.name.value) else {
                continue;
            };
            let df = &built.dockerfile;
            let Some(stage) = semantics::target_stage(df, built.target.as_deref()) else {
                continue;
            };
            let mut reported: Vec<String> = Vec::new();
            for st in semantics::stage_chain(df, stage) {
                for ins in df.stage_instructions(st) {
                    for (path, word_span) in written_paths(ins) {
                        if mounted(compose, s, &path) || reported.contains(&path) {
                            continue;
                        }
                        reported.push(path.clone());
                        let service = crate::source::clip(&s.name.value, 30);
                        let shown = crate::source::clip(&path, 40);
                        let what = if ins.kind == Keyword::Volume {
                            "declares `VOLUME "
                        } else {
                            "uses `"
                        };
                        cx.report(
                            ro.span,
                            format!(
                                "service `{service}` is read-only but its image {what}{shown}`"
                            ),
                        )
                        .help(format!(
                            "mount a tmpfs or a volume at `{shown}` (e.g. `tmpfs: [\"{shown}\"]`)"
                        ))
                        .label(
                            &built.file,
                            word_span,
                            "written here at run time",
                        );
                    }
                }
            }
        }
    }
}

/// Paths an instruction says the container writes at run time: `VOLUME` paths (Docker gives
/// them anonymous writable volumes), a `WORKDIR` under a well-known writable directory, and
/// such directories that a `RUN` prepares with `mkdir`, `chown`, `chmod`, `touch` or `install`
/// (an image makes a directory its user owns because the program writes there). Reading a path
/// (`/run/secrets/...` in an `ENV`) says nothing.
fn written_paths(ins: &Instruction) -> Vec<(String, crate::source::Span)> {
    let mut out = Vec::new();
    match ins.kind {
        Keyword::Volume => {
            for w in ins.words() {
                let p = w
                    .value
                    .trim_matches(|c| c == '"' || c == '\'' || c == '[' || c == ']' || c == ',');
                if p.starts_with('/') {
                    out.push((p.trim_end_matches('/').to_string(), w.span));
                }
            }
        }
        Keyword::Workdir | Keyword::Run => {
            let prepares = ins.kind == Keyword::Workdir
                || ins.words().iter().any(|w| {
                    matches!(
                        w.value.as_str(),
                        "mkdir" | "chown" | "chmod" | "touch" | "install"
                    )
                });
            if !prepares {
                return out;
            }
            for w in ins.words() {
                if w.value.starts_with("/run/secrets") {
                    continue;
                }
                let v = w.value.rsplit('=').next().unwrap_or(&w.value);
                for base in WRITABLE {
                    let hit =
                        v == *base || v.strip_prefix(base).is_some_and(|r| r.starts_with('/'));
                    if hit {
                        out.push(((*base).to_string(), w.span));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// Whether the service mounts something writable at or above `path` (a named volume that
/// binds a host path read-only, `o: bind,ro`, is not writable).
fn mounted(compose: &ComposeFile, s: &Service, path: &str) -> bool {
    let covers = |target: &str| {
        let t = target.trim_end_matches('/');
        path == t || path.strip_prefix(t).is_some_and(|r| r.starts_with('/')) || t.is_empty()
    };
    let tmpfs = s.tmpfs.iter().any(|t| {
        let target = t.value.text().split(':').next().unwrap_or("");
        covers(target)
    });
    let volume = s.volumes.iter().any(|v| {
        !v.mount(compose).read_only
            && v.kind != VolumeKind::Unknown
            && v.target.as_ref().is_some_and(|t| covers(t.value.text()))
    });
    tmpfs || volume
}
