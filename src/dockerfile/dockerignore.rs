//! `.dockerignore` patterns, matched as BuildKit does (moby `patternmatcher`).
//!
//! Lines starting with `#` are comments; each other line is trimmed, a leading `!` makes it an
//! exception, the pattern is cleaned like Go's `filepath.Clean` and a leading `/` is dropped.
//! `*` matches any run of characters except `/`, `?` one character except `/`, `[...]` a class,
//! `**` any number of directories (also none), `\` escapes. A path is excluded when it or one of
//! its parent directories matches; the last matching pattern wins. As in `patternmatcher`, a
//! pattern that is `**` followed by literal text only is a suffix test: `**.pem` matches
//! `certs/key.pem`, `**/x` matches `x` and `a/b/x`.

use crate::source::Span;

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Dockerignore {
    pub patterns: Vec<Pattern>,
}

/// One pattern line.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The cleaned pattern, without `!`.
    pub text: String,
    /// `!pattern`: re-includes what earlier patterns excluded.
    pub exclusion: bool,
    /// The line in the `.dockerignore` file (trimmed).
    pub span: Span,
    tokens: Vec<Token>,
    /// The cost of testing one path byte against the tokens (a class costs its ranges).
    weight: u64,
    /// `**` then literal text only: `patternmatcher`'s suffix match (the text after `**`).
    suffix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(char),
    /// `*`: any run of characters except `/`.
    Star,
    /// `?`: one character except `/`.
    Quest,
    /// `[...]`: `(negated, ranges)`.
    Class(bool, Vec<(char, char)>),
    /// `**` before more pattern: nothing, or anything ending with `/`.
    AnyDirs,
    /// `**` at the end: anything.
    AnyAll,
}

impl Dockerignore {
    /// Parses the file's text. Never fails: a malformed line is kept as literal text.
    pub fn parse(text: &str) -> Dockerignore {
        let mut patterns = Vec::new();
        let mut offset = 0usize;
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let line_start = offset;
            offset += raw.len();
            let mut line = raw.trim_end_matches(['\n', '\r']);
            let mut start = line_start;
            if i == 0
                && let Some(rest) = line.strip_prefix('\u{feff}')
            {
                line = rest;
                start += '\u{feff}'.len_utf8();
            }
            if line.starts_with('#') {
                continue;
            }
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let lead = line.len() - line.trim_start().len();
            let span = Span::from_range(start + lead..start + lead + trimmed.len());
            let (exclusion, body) = match trimmed.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, trimmed),
            };
            if body.is_empty() {
                continue;
            }
            let mut cleaned = clean(body);
            if cleaned.len() > 1
                && let Some(rest) = cleaned.strip_prefix('/')
            {
                cleaned = rest.to_string();
            }
            let tokens = compile(&cleaned);
            let weight = tokens
                .iter()
                .map(|t| match t {
                    Token::Class(_, ranges) => ranges.len() as u64 + 1,
                    _ => 1,
                })
                .sum();
            let suffix = cleaned
                .strip_prefix("**")
                .filter(|rest| !rest.contains(['*', '?', '[', ']', '\\']))
                .map(str::to_string);
            patterns.push(Pattern {
                text: cleaned,
                exclusion,
                span,
                tokens,
                weight,
                suffix,
            });
        }
        Dockerignore { patterns }
    }

    /// Whether some pattern is an exception (`!pattern`).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out of the build context.
    pub fn is_excluded(&self, path: &str) -> bool {
        self.deciding_pattern(path).is_some_and(|p| !p.exclusion)
    }

    /// The last pattern that matches `path` or one of its parent directories.
    pub fn deciding_pattern(&self, path: &str) -> Option<&Pattern> {
        let mut unlimited = u64::MAX;
        self.deciding_pattern_within(path, &mut unlimited).flatten()
    }

    /// [`Dockerignore::deciding_pattern`], charging each pattern test to `budget` (about one
    /// unit per pattern token and path byte); `None` when the budget runs out first.
    pub fn deciding_pattern_within(
        &self,
        path: &str,
        budget: &mut u64,
    ) -> Option<Option<&Pattern>> {
        let path = clean(path);
        let path = path.strip_prefix('/').unwrap_or(&path).to_string();
        // the parent directories: `a`, `a/b` of `a/b/c`
        let parents: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
        let mut found = None;
        let mut test = |p: &Pattern, s: &str| {
            let cost = (p.weight + 1).saturating_mul(s.len() as u64 + 1);
            *budget = budget.checked_sub(cost)?;
            Some(p.matches(s))
        };
        for p in &self.patterns {
            let mut hit = test(p, &path)?;
            for parent in &parents {
                if hit {
                    break;
                }
                hit = test(p, parent)?;
            }
            if hit {
                found = Some(p);
            }
        }
        Some(found)
    }
}

impl Pattern {
    /// The pattern matches exactly `path` (not its children).
    pub fn matches(&self, path: &str) -> bool {
        if let Some(suffix) = &self.suffix {
            return path.ends_with(suffix.as_str())
                || suffix.strip_prefix('/').is_some_and(|s| path == s);
        }
        matches_tokens(&self.tokens, &path.chars().collect::<Vec<_>>())
    }
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

fn compile(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0usize;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i >= chars.len() {
                    Token::AnyAll
                } else {
                    Token::AnyDirs
                });
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::Quest),
            '\\' => match chars.get(i) {
                Some(&n) => {
                    i += 1;
                    tokens.push(Token::Lit(n));
                }
                None => tokens.push(Token::Lit('\\')),
            },
            '[' => {
                let mut j = i;
                let negated = matches!(chars.get(j), Some('^'));
                if negated {
                    j += 1;
                }
                let mut ranges = Vec::new();
                let mut closed = false;
                let mut first = true;
                while let Some(&d) = chars.get(j) {
                    if d == ']' && !first {
                        closed = true;
                        j += 1;
                        break;
                    }
                    first = false;
                    let lo = if d == '\\' {
                        j += 1;
                        chars.get(j).copied().unwrap_or('\\')
                    } else {
                        d
                    };
                    j += 1;
                    if chars.get(j) == Some(&'-') && chars.get(j + 1).is_some_and(|&e| e != ']') {
                        let hi = chars.get(j + 1).copied().unwrap_or(lo);
                        ranges.push((lo, hi));
                        j += 2;
                    } else {
                        ranges.push((lo, lo));
                    }
                }
                if closed {
                    tokens.push(Token::Class(negated, ranges));
                    i = j;
                } else {
                    tokens.push(Token::Lit('['));
                }
            }
            c => tokens.push(Token::Lit(c)),
        }
    }
    tokens
}

/// Dynamic programming over (token, char): `ok[j]` = the tokens from `i` on match `s[j..]`.
fn matches_tokens(tokens: &[Token], s: &[char]) -> bool {
    let n = s.len();
    let mut next = vec![false; n + 1];
    next[n] = true;
    let mut cur = vec![false; n + 1];
    for t in tokens.iter().rev() {
        cur.fill(false);
        match t {
            Token::Star | Token::AnyAll => {
                for j in (0..=n).rev() {
                    let step = j < n && (matches!(t, Token::AnyAll) || s[j] != '/') && cur[j + 1];
                    cur[j] = next[j] || step;
                }
            }
            Token::AnyDirs => {
                // Empty, or any string ending in `/` followed by the rest.
                let mut later = false;
                for j in (0..=n).rev() {
                    if j < n && s[j] == '/' && next[j + 1] {
                        later = true;
                    }
                    cur[j] = next[j] || later;
                }
            }
            _ => {
                for j in 0..n {
                    if !next[j + 1] {
                        continue;
                    }
                    let c = s[j];
                    cur[j] = match t {
                        Token::Lit(l) => *l == c,
                        Token::Quest => c != '/',
                        Token::Class(neg, ranges) => {
                            ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *neg
                        }
                        _ => false,
                    };
                }
            }
        }
        std::mem::swap(&mut next, &mut cur);
        // no suffix of `s` matches the tokens so far: nothing before them can help
        if !next.contains(&true) {
            return false;
        }
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(ignore: &str, path: &str) -> bool {
        Dockerignore::parse(ignore).is_excluded(path)
    }

    #[test]
    fn globs() {
        assert!(excluded(".git", ".git"));
        assert!(excluded(".git", ".git/HEAD"));
        assert!(excluded(".git/", ".git/objects/ab"));
        assert!(excluded("/.git", ".git"));
        assert!(excluded("./.env", ".env"));
        assert!(excluded("*", ".env"));
        assert!(excluded(".env*", ".env"));
        assert!(excluded(".env*", ".env.local"));
        assert!(excluded("*.pem", "key.pem"));
        assert!(!excluded("*.pem", "certs/key.pem"));
        assert!(excluded("**/*.pem", "certs/key.pem"));
        assert!(excluded("**/*.pem", "key.pem"));
        assert!(excluded("**/.git", ".git"));
        assert!(excluded("**", "a/b/c"));
        assert!(excluded("a/**/b", "a/b"));
        assert!(excluded("a/**/b", "a/x/y/b"));
        assert!(!excluded("a/**/b", "a/xb"));
        assert!(excluded("?.txt", "a.txt"));
        assert!(!excluded("?.txt", "ab.txt"));
        assert!(excluded("[a-c].txt", "b.txt"));
        assert!(!excluded("[^a-c].txt", "b.txt"));
        assert!(excluded("\\*.txt", "*.txt"));
        assert!(!excluded("\\*.txt", "a.txt"));
        assert!(!excluded("node_modules", "src/node_modules"));
        assert!(excluded("*/node_modules", "src/node_modules"));
        assert!(!excluded(".gitignore", ".git"));
    }

    #[test]
    fn leading_double_star_then_literal_is_a_suffix() {
        // patternmatcher's `suffixMatch`: `**` then literal text tests the path's end
        assert!(excluded("**.pem", "certs/key.pem"));
        assert!(excluded("**.pem", "key.pem"));
        assert!(excluded("**foo", "barfoo"));
        assert!(excluded("**/foo", "foo"));
        assert!(excluded("**/foo", "a/b/foo"));
        assert!(!excluded("**/foo", "a/barfoo"));
        assert!(excluded("**/a/b", "x/a/b/c"));
        assert!(excluded("**", "x"));
        // with a wildcard after `**` it is a glob again
        assert!(!excluded("**/*.pem", "a/key.pem.txt"));
        assert!(excluded("**/*.pem", "a/b/key.pem"));
        assert!(!Dockerignore::parse("a\n").has_exceptions());
        let d = Dockerignore::parse("x\ny/z\n");
        // `x` on `a/b` and `a`, `y/z` on both: (1+1)*(3+1) + 2*2 + (3+1)*4 + 4*2 = 36
        assert!(d.deciding_pattern_within("a/b", &mut 35).is_none());
        assert_eq!(
            d.deciding_pattern_within("a/b", &mut 36)
                .map(|p| p.is_none()),
            Some(true)
        );
        assert!(Dockerignore::parse("*\n!a\n").has_exceptions());
    }

    #[test]
    fn negation_and_order() {
        assert!(!excluded("*\n!.env", ".env"));
        assert!(excluded("*\n!src\n", ".git"));
        assert!(!excluded("*\n!src\n", "src/main.rs"));
        assert!(excluded("!.env\n.env", ".env"));
        assert!(excluded(
            "docs\n!docs/README.md\ndocs/README.md",
            "docs/README.md"
        ));
    }

    #[test]
    fn comments_and_spacing() {
        let d = Dockerignore::parse("\u{feff}# comment\n  .git  \r\n\n # not a comment\n! .env\n");
        let texts: Vec<(&str, bool)> = d
            .patterns
            .iter()
            .map(|p| (p.text.as_str(), p.exclusion))
            .collect();
        assert_eq!(
            texts,
            vec![(".git", false), ("# not a comment", false), (".env", true)]
        );
        let text = "\u{feff}# c\n  .git  \n";
        let d = Dockerignore::parse(text);
        assert_eq!(&text[d.patterns[0].span.range()], ".git");
    }

    #[test]
    fn cleans_paths() {
        assert_eq!(clean("a//b/./c/"), "a/b/c");
        assert_eq!(clean("a/../../b"), "../b");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("./"), ".");
        assert_eq!(clean(""), ".");
    }
}
