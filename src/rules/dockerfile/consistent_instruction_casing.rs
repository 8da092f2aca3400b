use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};

/// SLD036: an instruction keyword not in the casing of the file's majority (BuildKit's
/// `ConsistentInstructionCasing`).
pub struct ConsistentInstructionCasing;

impl Rule for ConsistentInstructionCasing {
    fn meta(&self) -> &'static RuleMeta {
        docs::CONSISTENT_INSTRUCTION_CASING
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        // as BuildKit: the instructions of the stages (not the `ARG`s before the first `FROM`)
        let start = df.stages.first().map_or(df.instructions.len(), |s| s.from);
        let keywords = df.instructions.get(start..).unwrap_or(&[]);
        let (mut lower, mut upper) = (0usize, 0usize);
        for ins in keywords {
            let k = ins.keyword.value.as_str();
            if k == k.to_lowercase() {
                lower += 1;
            } else if k == k.to_uppercase() {
                upper += 1;
            }
        }
        // ties go to upper case, as in BuildKit
        let majority_lower = lower > upper;
        for ins in keywords {
            let k = ins.keyword.value.as_str();
            let (ok, want, fixed) = if majority_lower {
                (k == k.to_lowercase(), "lowercase", k.to_lowercase())
            } else {
                (k == k.to_uppercase(), "uppercase", k.to_uppercase())
            };
            if !ok {
                let shown = crate::dockerfile::analysis::snippet(k, 20);
                cx.report(
                    ins.keyword.span,
                    format!("`{shown}` is not {want} as most instructions of the file are"),
                )
                .help(format!(
                    "write `{}`",
                    crate::dockerfile::analysis::snippet(&fixed, 20)
                ))
                .fix(super::fix_of(
                    &file,
                    Applicability::Safe,
                    format!(
                        "write `{}`",
                        crate::dockerfile::analysis::snippet(&fixed, 20)
                    ),
                    [crate::dockerfile::edit::replace_keyword(ins, &fixed)],
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    const R: &str = "consistent-instruction-casing";

    #[test]
    fn flags_the_minority() {
        let f = findings(R, "arg X=1\nFROM a:1\nrun x\nRUN y\nCopy . .\n");
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["3:1-3:4", "5:1-5:5"]
        );
        assert_eq!(
            f[0].2,
            "`run` is not uppercase as most instructions of the file are"
        );
        let f = findings(R, "from a:1\nrun x\nRUN y\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].1, "3:1-3:4");
    }
}
