use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};

/// SLD032: `FROM … as …` / `from … AS …` (BuildKit's `FromAsCasing`).
pub struct FromAsCasing;

impl Rule for FromAsCasing {
    fn meta(&self) -> &'static RuleMeta {
        docs::FROM_AS_CASING
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        for ins in df.instructions.iter().filter(|i| i.kind == Keyword::From) {
            let [_, as_word, _, ..] = ins.words() else {
                continue;
            };
            let from = ins.keyword.value.as_str();
            let word = as_word.value.as_str();
            // a mixed-case `From` is `consistent-instruction-casing`'s
            let want_lower = if from == from.to_lowercase() {
                true
            } else if from == from.to_uppercase() {
                false
            } else {
                continue;
            };
            let matches = if want_lower {
                word == word.to_lowercase()
            } else {
                word == word.to_uppercase()
            };
            if !matches {
                let shown = crate::dockerfile::analysis::snippet(word, 20);
                let fix = if want_lower { "as" } else { "AS" };
                let d = cx
                    .report(
                        as_word.span,
                        format!("`{shown}` does not match the casing of `{from}`"),
                    )
                    .help(format!("write `{from} … {fix} …`"))
                    .label(&file, ins.keyword.span, "keyword written here");
                // the word as written is the keyword (not `a\<newline>s`)
                if file.slice(as_word.span) == word {
                    d.fix(super::fix_of(
                        &file,
                        Applicability::Safe,
                        format!("write `{fix}`"),
                        [(as_word.span, fix.to_owned())],
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_mismatched_as() {
        let f = findings(
            "from-as-casing",
            "FROM a:1 as one\nfrom b:1 AS two\nFROM c:1 AS three\nfrom d:1 as four\nFrom e:1 as five\n",
        );
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["1:10-1:12", "2:10-2:12"]
        );
        assert_eq!(f[0].2, "`as` does not match the casing of `FROM`");
    }
}
