//! How a command ends: its exit status, and the fatal usage, configuration or I/O error that
//! ends it with status 2.

/// How a command ended; `main` maps it to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: nothing at or above the failure threshold.
    Success,
    /// 1: findings at or above the threshold.
    Failure,
    /// 2: usage, configuration or I/O error.
    Error,
    /// Any other code: `sandlint run` returns the command's status, 124 on timeout, 137 when
    /// OOM-killed, 125 when sandlint or the daemon failed first.
    Code(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
            ExitStatus::Code(code) => code,
        }
    }
}

/// A fatal usage, configuration or I/O error (exit 2). Config errors carry the file and the span
/// of the offending key or value, rendered with a snippet. Boxed: it is returned through every
/// layer and is rare.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error(transparent)]
#[diagnostic(transparent)]
pub struct UsageError(Box<UsageErrorData>);

/// The contents of a [`UsageError`].
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{}{message}", location.as_deref().map(|l| format!("{l}: ")).unwrap_or_default())]
pub struct UsageErrorData {
    pub message: String,
    /// `path:line:col` when the error is in a file.
    pub location: Option<String>,
    #[source_code]
    pub source_code: Option<miette::NamedSource<String>>,
    #[label("here")]
    pub span: Option<miette::SourceSpan>,
}

impl std::ops::Deref for UsageError {
    type Target = UsageErrorData;

    fn deref(&self) -> &UsageErrorData {
        &self.0
    }
}

impl UsageError {
    /// An error without a location. The message is escaped for the terminal
    /// ([`crate::escape::line`]): it may quote paths or values from a hostile repository.
    pub fn new(message: impl Into<String>) -> Self {
        Self(Box::new(UsageErrorData {
            message: crate::escape::line(&message.into()).into_owned(),
            location: None,
            source_code: None,
            span: None,
        }))
    }

    /// An error at `span` (byte range) of the file `path` whose text is `text`. The name, the
    /// message and the snippet are escaped for the terminal; the span is mapped into the escaped
    /// snippet, and `line:col` counts in the original text.
    pub fn in_file(
        path: &std::path::Path,
        text: &str,
        message: impl Into<String>,
        span: Option<std::ops::Range<usize>>,
    ) -> Self {
        // Show paths below the working directory relative to it.
        let shown = std::env::current_dir()
            .ok()
            .and_then(|cwd| {
                path.strip_prefix(cwd)
                    .ok()
                    .map(std::path::Path::to_path_buf)
            })
            .unwrap_or_else(|| path.to_path_buf());
        let name = crate::escape::line(&crate::source::display_path(&shown)).into_owned();
        let file = crate::source::SourceFile::virtual_file(&name, text);
        let location = span.as_ref().map(|r| {
            let lc = file.line_col(u32::try_from(r.start).unwrap_or(u32::MAX));
            format!("{name}:{}:{}", lc.line, lc.column)
        });
        let view = crate::escape::View::new(text);
        let to_view = |o: usize| {
            let o = u32::try_from(o.min(text.len())).unwrap_or(u32::MAX);
            view.as_ref().map_or(o, |v| v.to_view(o)) as usize
        };
        let span = span.map(|r| {
            let (start, end) = (to_view(r.start), to_view(r.end.max(r.start)));
            miette::SourceSpan::new(start.into(), end - start)
        });
        Self(Box::new(UsageErrorData {
            message: crate::escape::line(&message.into()).into_owned(),
            location: location.or(Some(name.clone())),
            source_code: span.map(|_| {
                miette::NamedSource::new(
                    name,
                    view.as_ref()
                        .map_or_else(|| text.to_string(), |v| v.text.clone()),
                )
            }),
            span,
        }))
    }
}
