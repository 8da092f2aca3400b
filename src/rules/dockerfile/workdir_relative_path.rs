use crate::dockerfile::analysis::Located;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::dockerfile::semantics;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD027: the first `WORKDIR` of a stage (and of the stages it builds on) is relative
/// (BuildKit's `WorkdirRelativePath`).
pub struct WorkdirRelativePath;

impl Rule for WorkdirRelativePath {
    fn meta(&self) -> &'static RuleMeta {
        docs::WORKDIR_RELATIVE_PATH
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        // whether a stage (with its ancestors) has set a `WORKDIR`: stages come in file order
        // and a parent before its child, so one pass answers it
        let mut set = vec![false; df.stages.len()];
        for stage in &df.stages {
            let mut workdir_set = semantics::parent_stage(df, stage).is_some_and(|p| set[p.index]);
            let first = stage.instructions.start;
            for (i, ins) in df.stage_instructions(stage).iter().enumerate() {
                if ins.kind != Keyword::Workdir {
                    continue;
                }
                let Some(path) = ins.paths().first().copied() else {
                    continue;
                };
                if !workdir_set {
                    let loc = Located {
                        ins,
                        stage: Some(stage),
                        index: first + i,
                        onbuild: false,
                    };
                    // a path whose variables have no known value is not judged
                    let expanded = semantics::expand_with_args(df, path.path, loc.scope());
                    if let Some(p) = expanded.filter(|p| !is_absolute(p)) {
                        let shown = crate::dockerfile::analysis::snippet(&p, 60);
                        cx.report(
                            path.span,
                            format!("relative `WORKDIR {shown}` depends on the base image's working directory"),
                        )
                        .help("start the stage's first `WORKDIR` with `/` (an absolute path)");
                    }
                }
                workdir_set = true;
            }
            set[stage.index] = workdir_set;
        }
    }
}

/// Absolute for a Linux build (`/…`); a Windows drive path (`C:\app`, `c:/app`) is taken as
/// absolute too (it is, on the Windows images that use it).
fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn first_workdir_of_a_stage_chain() {
        let text = "FROM a:1 AS one\nWORKDIR app\nWORKDIR more\nFROM one\nWORKDIR rel\nFROM b:1\nENV D=/srv\nWORKDIR $D\nWORKDIR x\nFROM c:1\nWORKDIR \"src\"\nFROM d:1\nWORKDIR $UNKNOWN\n";
        let f = findings("workdir-relative-path", text);
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["2:9-2:12", "11:9-11:14"]
        );
        assert_eq!(
            f[1].2,
            "relative `WORKDIR src` depends on the base image's working directory"
        );
    }
}
