use std::collections::HashMap;

use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD028: two stages with the same name (BuildKit's `DuplicateStageName`).
pub struct DuplicateStageName;

impl Rule for DuplicateStageName {
    fn meta(&self) -> &'static RuleMeta {
        docs::DUPLICATE_STAGE_NAME
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        let mut first = HashMap::new();
        for stage in &df.stages {
            let Some(name) = &stage.name else { continue };
            match first.get(name.value.as_str()) {
                None => {
                    first.insert(name.value.as_str(), name.span);
                }
                Some(&earlier) => {
                    let shown = crate::dockerfile::analysis::snippet(&name.value, 60);
                    cx.report(name.span, format!("stage name `{shown}` is used twice"))
                        .help("give each stage its own name: `COPY --from` and `--target` take the first stage of that name")
                        .label(&file, earlier, "first used here");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_later_uses() {
        let f = findings(
            "duplicate-stage-name",
            "FROM a:1 AS build\nFROM b:1 AS Build\nFROM c:1 AS other\nFROM d:1 as build\n",
        );
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["2:13-2:18", "4:13-4:18"]
        );
        assert_eq!(f[0].2, "stage name `build` is used twice");
    }
}
