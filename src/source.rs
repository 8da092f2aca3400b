//! Source files, byte spans and line/column lookup.
//!
//! Every model node carries a [`Span`] (a byte range into one [`SourceFile`]).
//! Lines and columns are computed only when a finding is reported.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A half-open byte range `start..end` into a source file's text.
///
/// `file` says which file: 0 is the file being checked; other numbers index the files a
/// Compose project pulls in (override files, `extends`/`include` targets), listed in
/// `Facts::files`. Positions compare before files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
    pub file: u16,
}

/// `n` in decimal ASCII (the bytes of `n.to_string()`), written at the end of `buf`.
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        if let Some(d) = buf.get_mut(at) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(at..).unwrap_or_default()
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Self {
        Self {
            start,
            end,
            file: 0,
        }
    }

    /// The same range in file number `file`.
    pub const fn in_file(self, file: u16) -> Self {
        Self {
            start: self.start,
            end: self.end,
            file,
        }
    }

    /// Builds a span from `usize` offsets (files are limited to `u32::MAX` bytes when loaded).
    pub fn from_range(range: std::ops::Range<usize>) -> Self {
        Self::new(
            u32::try_from(range.start).unwrap_or(u32::MAX),
            u32::try_from(range.end).unwrap_or(u32::MAX),
        )
    }

    /// An empty span at `offset`.
    pub const fn at(offset: u32) -> Self {
        Self::new(offset, offset)
    }

    pub const fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub const fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The smallest span covering both (in `self`'s file).
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
            file: self.file,
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A value together with the span it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub const fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            value: f(self.value),
            span: self.span,
        }
    }

    pub fn as_ref(&self) -> Spanned<&T> {
        Spanned {
            value: &self.value,
            span: self.span,
        }
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// A 1-based line and column. Columns count Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// One loaded file: its path (as shown to the user) and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path used to read the file (may be absolute).
    pub path: PathBuf,
    /// The path shown in reports: relative to the working directory when possible, `/` separators.
    pub display: String,
    pub text: String,
    /// Byte offset and value of the first byte that was not valid UTF-8 (the text has it
    /// replaced by U+FFFD); reported as `SLE007 unreadable-file`.
    pub invalid_utf8: Option<(u32, u8)>,
    line_starts: Vec<u32>,
}

/// Files are shared between the findings that point into them.
pub type FileRef = Arc<SourceFile>;

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, display: impl Into<String>, text: String) -> Self {
        let mut line_starts = vec![0u32];
        // `match_indices` of a `char` finds the line ends with memchr, not byte by byte
        line_starts.extend(
            (text.match_indices('\n')).map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        Self {
            path: path.into(),
            display: display.into(),
            text,
            invalid_utf8: None,
            line_starts,
        }
    }

    /// A file whose text was decoded with replacement characters: `invalid_utf8` is the byte
    /// offset and value of the first invalid byte (see [`crate::fsread::read`]).
    pub fn with_invalid_utf8(
        path: impl Into<PathBuf>,
        display: impl Into<String>,
        text: String,
        invalid_utf8: Option<(usize, u8)>,
    ) -> Self {
        let mut f = Self::new(path, display, text);
        f.invalid_utf8 = invalid_utf8.map(|(at, b)| (u32::try_from(at).unwrap_or(u32::MAX), b));
        f
    }

    /// A file that was not read from disk (tests, stdin, doc examples).
    pub fn virtual_file(name: &str, text: impl Into<String>) -> Self {
        Self::new(PathBuf::from(name), name.to_string(), text.into())
    }

    pub fn into_ref(self) -> FileRef {
        Arc::new(self)
    }

    /// The file without its text (same path and display path): what a report needs of a file
    /// no finding points into, so that its text can be freed as soon as it is checked.
    pub fn name_only(&self) -> FileRef {
        Self::new(self.path.clone(), self.display.clone(), String::new()).into_ref()
    }

    pub fn len(&self) -> u32 {
        u32::try_from(self.text.len()).unwrap_or(u32::MAX)
    }

    /// Where each line starts and ends (the end excludes its `\n` and a `\r` before it), from
    /// the line index; the empty text after a final `\n` is not a line.
    pub fn lines(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let bytes = self.text.as_bytes();
        let n = self.line_starts.len();
        (0..n).filter_map(move |i| {
            let start = self.line_starts[i];
            match self.line_starts.get(i + 1) {
                Some(&next) => {
                    let nl = next - 1;
                    let cr = nl > start && bytes.get(nl as usize - 1) == Some(&b'\r');
                    Some((start, if cr { nl - 1 } else { nl }))
                }
                None => ((start as usize) < bytes.len()).then(|| (start, self.len())),
            }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The text under `span`, clamped to the file and to char boundaries.
    pub fn slice(&self, span: Span) -> &str {
        let start = floor_char_boundary(&self.text, span.start as usize);
        let end = floor_char_boundary(&self.text, (span.end as usize).max(start));
        &self.text[start..end]
    }

    /// 1-based line and column of a byte offset (clamped to the file).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.len());
        let line_idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0) as usize;
        let end = floor_char_boundary(&self.text, offset as usize);
        let start = line_start.min(end);
        let column = self.text[start..end].chars().count() + 1;
        LineCol {
            line: u32::try_from(line_idx + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    /// Byte offset where 1-based `line` starts, if the line exists.
    pub fn line_start(&self, line: u32) -> Option<u32> {
        self.line_starts
            .get(usize::try_from(line).ok()?.checked_sub(1)?)
            .copied()
    }

    /// The directory holding the file (`.` for a bare name).
    pub fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Formats a path for reports: `/` separators, no leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.to_string()
}

/// A byte string that sorts as `path` does (`Path`'s order: component by component): each
/// component a tag (root, `.`, `..`, a name) then its bytes, components separated by a 0 (a
/// name holds no 0 byte). For sorting many paths: built once per path, compared as bytes,
/// where `Path::cmp` walks the components of both paths at every comparison.
pub fn order_key(path: &Path) -> Vec<u8> {
    use std::path::Component;
    let mut key = Vec::with_capacity(path.as_os_str().len() + 8);
    for (i, c) in path.components().enumerate() {
        if i > 0 {
            key.push(0);
        }
        match c {
            Component::Prefix(p) => {
                key.push(1);
                key.extend_from_slice(p.as_os_str().as_encoded_bytes());
            }
            Component::RootDir => key.push(2),
            Component::CurDir => key.push(3),
            Component::ParentDir => key.push(4),
            Component::Normal(name) => {
                key.push(5);
                key.extend_from_slice(name.as_encoded_bytes());
            }
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`order_key`] orders paths as `Path::cmp` does, over every pair of paths of up to three
    /// segments drawn from names that sort around `/`, `.` and each other, `.`, `..` and empty
    /// segments, relative, absolute and `./`-led.
    #[test]
    fn order_key_sorts_as_paths_do() {
        let parts = ["a", "ab", "a-b", "-", "..", ".", "", "...", ".a"];
        let paths: Vec<String> = (crate::testing::joined_paths(&parts, 3).into_iter())
            .flat_map(|p| [format!("/{p}"), format!("./{p}"), p])
            .collect();
        let keys: Vec<Vec<u8>> = paths.iter().map(|p| order_key(Path::new(p))).collect();
        for (a, ka) in paths.iter().zip(&keys) {
            for (b, kb) in paths.iter().zip(&keys) {
                assert_eq!(ka.cmp(kb), Path::new(a).cmp(Path::new(b)), "{a:?} vs {b:?}");
            }
        }
    }

    /// The byte form of `normalize` against the component-wise one, over every path of up to
    /// five segments drawn from names, `.`, `..`, empty segments (`//`) and `...`, with and
    /// without a leading and a trailing `/`.
    #[cfg(unix)]
    #[test]
    fn normalize_bytes_agrees_with_components() {
        let parts = ["", ".", "..", "a", "b", "..."];
        let mut paths = vec![String::new()];
        let mut frontier = vec![Vec::<&str>::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for p in &frontier {
                for part in parts {
                    let mut q = p.clone();
                    q.push(part);
                    next.push(q);
                }
            }
            for q in &next {
                let joined = q.join("/");
                for (lead, trail) in [("", ""), ("/", ""), ("", "/"), ("/", "/")] {
                    paths.push(format!("{lead}{joined}{trail}"));
                }
            }
            frontier = next;
        }
        assert!(paths.len() > 30_000);
        for p in &paths {
            let path = Path::new(p);
            assert_eq!(
                normalize_bytes(path),
                normalize_components(path),
                "normalize({p:?})"
            );
        }
        assert_eq!(normalize(Path::new("/a/./b/../../..")), Path::new("/"));
        assert_eq!(normalize(Path::new("a/../..")), Path::new(".."));
        assert_eq!(normalize(Path::new("")), Path::new("."));
    }

    /// `SourceFile::lines` against a plain byte scan, over every text of up to six bytes from
    /// `a`, `\r` and `\n` (CRLF, a lone `\r`, a `\r` at the end, empty lines, a final `\n`).
    #[test]
    fn lines_come_from_the_line_index() {
        fn scan(text: &str) -> Vec<(u32, u32)> {
            let (mut out, mut start) = (Vec::new(), 0usize);
            for (i, b) in text.bytes().enumerate() {
                if b == b'\n' {
                    let cr = i > start && text.as_bytes()[i - 1] == b'\r';
                    out.push((start as u32, (if cr { i - 1 } else { i }) as u32));
                    start = i + 1;
                }
            }
            if start < text.len() {
                out.push((start as u32, text.len() as u32));
            }
            out
        }
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = (texts.iter())
                .flat_map(|t| ["a", "\r", "\n"].map(|c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
            texts.dedup();
        }
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 1093);
        for t in &texts {
            let f = SourceFile::virtual_file("x", t.as_str());
            assert_eq!(f.lines().collect::<Vec<_>>(), scan(t), "lines of {t:?}");
        }
    }

    #[test]
    fn line_col_counts_chars() {
        let f = SourceFile::virtual_file("x", "ab\nc♥d\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // byte 7 is after the 3-byte heart
        assert_eq!(f.line_col(7), LineCol { line: 2, column: 3 });
        assert_eq!(f.line_col(100), LineCol { line: 3, column: 1 });
    }
}

// Small text and path helpers shared by every layer.

/// Removes `.` and resolvable `..` components without touching the filesystem.
///
/// On Unix this works on the bytes: asked for every path the run touches, `Path::components`
/// (and looking back at the last component for every `..`) had been a few thousand
/// instructions per call. The component-wise form, kept for other systems, is the reference
/// the tests compare it with.
pub fn normalize(path: &Path) -> PathBuf {
    #[cfg(unix)]
    {
        normalize_bytes(path)
    }
    #[cfg(not(unix))]
    {
        normalize_components(path)
    }
}

/// [`normalize`] on a Unix path's bytes: segments between `/` (empty ones and `.` dropped), a
/// `..` removing the segment before it when that is a name, dropped at the root, kept otherwise.
#[cfg(unix)]
fn normalize_bytes(path: &Path) -> PathBuf {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = path.as_os_str().as_bytes();
    let rooted = bytes.first() == Some(&b'/');
    let mut segments: Vec<&[u8]> = Vec::with_capacity(16);
    for seg in bytes.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => match segments.last() {
                Some(last) if *last != b".." => {
                    segments.pop();
                }
                None if rooted => {}
                _ => segments.push(seg),
            },
            _ => segments.push(seg),
        }
    }
    let mut out = Vec::with_capacity(bytes.len().max(1));
    if rooted {
        out.push(b'/');
    }
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(seg);
    }
    if out.is_empty() {
        out.push(b'.');
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// [`normalize`] through `Path::components`.
#[cfg_attr(unix, allow(dead_code))]
fn normalize_components(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else if !matches!(out.components().next_back(), Some(Component::RootDir)) {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// A short, lowercase description of an I/O error.
pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            // "Is a directory (os error 21)" -> "is a directory (os error 21)"
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// Values longer than this many characters are clipped in messages; shorter ones are shown
/// whole, so a name in a message (a service, an image, a path) can be pasted into a fix.
pub const CLIP_LIMIT: usize = 200;

/// `s` for a message: whole, unless it is longer than [`CLIP_LIMIT`] characters; then its first
/// characters followed by `… (clipped, N characters)`, so a reader knows it was cut.
///
/// `_hint` is the width a caller once clipped to; names are no longer cut short to fit a line.
pub fn clip(s: &str, _hint: usize) -> String {
    let n = s.chars().count();
    if n <= CLIP_LIMIT {
        return s.to_string();
    }
    let mut out: String = s.chars().take(CLIP_LIMIT).collect();
    out.push_str(&format!("… (clipped, {n} characters)"));
    out
}

#[cfg(test)]
mod clip_tests {
    use super::{CLIP_LIMIT, clip};

    #[test]
    fn names_are_never_cut_short() {
        let image = "docker.all-hands.dev/all-hands-ai/runtime:0.59-nikolaik";
        assert_eq!(clip(image, 24), image);
        let exact = "x".repeat(CLIP_LIMIT);
        assert_eq!(clip(&exact, 8), exact);
    }

    #[test]
    fn huge_values_are_clipped_and_say_so() {
        let huge = "é".repeat(CLIP_LIMIT + 50);
        let shown = clip(&huge, 8);
        assert_eq!(
            shown,
            format!("{}… (clipped, 250 characters)", "é".repeat(CLIP_LIMIT))
        );
    }
}
