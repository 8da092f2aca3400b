use crate::compose::model::ComposeFile;
use crate::dockerfile::model::Dockerfile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};
use crate::source::{SourceFile, Span};

/// SLE007: a file that could not be read (not a regular file, too large, an I/O error), or was
/// read with bytes that are not valid UTF-8.
pub struct UnreadableFile;

impl UnreadableFile {
    fn refused(cx: &mut Ctx<'_>) {
        for r in cx.facts().refused() {
            if !r.outside {
                cx.report(r.span, r.message.clone()).help(r.help.clone());
            }
        }
    }

    /// The first invalid byte of file number `n` of the check, if any.
    fn invalid_utf8(cx: &mut Ctx<'_>, file: &SourceFile, n: u16) {
        let Some((at, byte)) = file.invalid_utf8 else {
            return;
        };
        // the byte was replaced by U+FFFD (3 bytes) in the text
        let span = Span::new(at, at.saturating_add(3)).in_file(n);
        cx.report(
            span,
            format!(
                "not valid UTF-8 (first invalid byte 0x{byte:02X}); checked with invalid bytes replaced"
            ),
        )
        .help("save the file as UTF-8");
    }
}

impl Rule for UnreadableFile {
    fn meta(&self) -> &'static RuleMeta {
        docs::UNREADABLE_FILE
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, _df: &Dockerfile) {
        let file = cx.file().clone();
        Self::invalid_utf8(cx, &file, 0);
        Self::refused(cx);
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        let files = cx.facts().files().to_vec();
        for (n, f) in files.iter().enumerate() {
            Self::invalid_utf8(cx, f, u16::try_from(n).unwrap_or(u16::MAX));
        }
        for e in &compose.unreadable {
            let d = cx.report(e.span, e.message.clone());
            if let Some(help) = &e.help {
                d.help(help.clone());
            }
        }
        Self::refused(cx);
    }
}
