use crate::dockerfile::analysis;
use crate::dockerfile::edit::TextEdit;
use crate::dockerfile::model::KeyValue;
use crate::dockerfile::model::{Dockerfile, Keyword};
use crate::docs::{self, RuleMeta};
use crate::fix::Applicability;
use crate::rules::{Ctx, Rule};
use crate::source::Span;

/// SLD035: `ENV key value` / `LABEL key value` (BuildKit's `LegacyKeyValueFormat`).
pub struct LegacyKeyValueFormat;

impl Rule for LegacyKeyValueFormat {
    fn meta(&self) -> &'static RuleMeta {
        docs::LEGACY_KEY_VALUE_FORMAT
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let file = cx.file().clone();
        let text = file.text.as_bytes();
        // as BuildKit: the instructions a build dispatches (`ONBUILD` triggers run elsewhere)
        for stage in &df.stages {
            for ins in df.stage_instructions(stage) {
                let name = match ins.kind {
                    Keyword::Env => "ENV",
                    Keyword::Label => "LABEL",
                    _ => continue,
                };
                // the legacy form is one pair whose key is not followed by `=`
                let legacy = ins.args.pairs().iter().find(|kv| {
                    kv.raw_value.is_some() && text.get(kv.key.span.end as usize) != Some(&b'=')
                });
                if let Some(kv) = legacy {
                    let key = analysis::snippet(&kv.key.value, 40);
                    let d = cx
                        .report(
                            kv.span,
                            format!("`{name} {key} …` uses the legacy `key value` form"),
                        )
                        .help(format!(
                            "write `{name} {key}=\"…\"`: the legacy form takes the rest of the line as one value"
                        ));
                    if let Some(edit) = equals_for_gap(&file.text, kv) {
                        d.fix(super::fix_of(
                            &file,
                            Applicability::Safe,
                            format!("write `{name} {key}=…`"),
                            [edit],
                        ));
                    }
                }
            }
        }
    }
}

/// `key value` → `key=value` when the value is one word of one line, written as it is read (no
/// whitespace, so the new form reads the same one word): the blanks between become `=`.
fn equals_for_gap(text: &str, kv: &KeyValue) -> Option<TextEdit> {
    let raw = kv.raw_value.as_ref()?;
    let gap = text.get(kv.key.span.end as usize..raw.span.start as usize)?;
    let value = text.get(raw.span.range())?;
    let one_word = value == raw.value && !value.is_empty() && !value.contains(char::is_whitespace);
    let blanks = !gap.is_empty() && gap.bytes().all(|b| b == b' ' || b == b'\t');
    (one_word && blanks).then(|| (Span::new(kv.key.span.end, raw.span.start), "=".to_owned()))
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn flags_space_separated_pairs() {
        let text =
            "FROM a:1\nENV PATH /x:$PATH\nENV A=1 B=2\nLABEL maintainer Jo\nLABEL a=b\nARG X\n";
        let f = findings("legacy-key-value-format", text);
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["2:5-2:18", "4:7-4:20"]
        );
        assert_eq!(f[0].2, "`ENV PATH …` uses the legacy `key value` form");
    }
}
