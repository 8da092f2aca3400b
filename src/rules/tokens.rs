//! Credentials recognised by their value whatever the name they are stored under
//! (`secret-token-literal`): access keys and API tokens with a vendor prefix and a fixed shape,
//! Slack webhook URLs and PEM private keys. Formats as gitleaks' and the vendors' documentation
//! define them (the table in `rules/secret-token-literal.md`).
//!
//! [`scan`] makes one pass over the text: a token must start a word (the byte before it is not
//! `[A-Za-z0-9_-]`), so each word is tried once, and every matcher reads a bounded number of
//! bytes or the word it starts (the one unbounded look-ahead, a private key's `-----END` line, is
//! searched for once per text).

/// What a recognised token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    AwsAccessKeyId,
    GithubToken,
    GithubFineGrainedToken,
    GitlabToken,
    SlackToken,
    SlackWebhook,
    OpenaiKey,
    AnthropicKey,
    StripeKey,
    GoogleApiKey,
    NpmToken,
    PypiToken,
    PrivateKey,
}

impl TokenKind {
    /// The name in a finding's message, with its article.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TokenKind::AwsAccessKeyId => "an AWS access key ID",
            TokenKind::GithubToken => "a GitHub token",
            TokenKind::GithubFineGrainedToken => "a GitHub fine-grained personal access token",
            TokenKind::GitlabToken => "a GitLab personal access token",
            TokenKind::SlackToken => "a Slack token",
            TokenKind::SlackWebhook => "a Slack webhook URL",
            TokenKind::OpenaiKey => "an OpenAI API key",
            TokenKind::AnthropicKey => "an Anthropic API key",
            TokenKind::StripeKey => "a Stripe live secret key",
            TokenKind::GoogleApiKey => "a Google API key",
            TokenKind::NpmToken => "an npm access token",
            TokenKind::PypiToken => "a PyPI API token",
            TokenKind::PrivateKey => "a private key",
        }
    }
}

/// A token found in a text: byte ranges of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// The token itself (for a private key: its `BEGIN` line up to its `END` line when the text
    /// holds it, else the `BEGIN` line).
    pub range: std::ops::Range<usize>,
    /// What must never be printed: the token, or for a private key without an `END` line the
    /// rest of the text.
    pub mask: std::ops::Range<usize>,
}

/// A byte that continues a word: tokens start and end at word boundaries.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// The length of the longest prefix of `s` whose bytes all satisfy `f`.
fn run_len(s: &[u8], f: impl Fn(u8) -> bool) -> usize {
    s.iter().position(|&b| !f(b)).unwrap_or(s.len())
}

/// Whether a token can start with `b`: the first byte of every format's prefix (`AKIA`, `ASIA`,
/// `AIza`, `gh?_`, `github_pat_`, `glpat-`, `xox`, `sk-`, `sk_live_`, `rk_live_`, `npm_`,
/// `pypi-`, `[http[s]://]hooks.slack.com/`, `-----BEGIN `). Most words start otherwise and are
/// skipped whole (`recognises_each_format` and `private_keys` fail when a format is missing).
fn may_start(b: u8) -> bool {
    matches!(
        b,
        b'A' | b'g' | b'x' | b's' | b'r' | b'n' | b'p' | b'h' | b'-'
    )
}

/// Every token in `text`, in order, non-overlapping. Linear in the length of `text`.
pub(crate) fn scan(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut end_cache = EndCache::default();
    let mut i = 0;
    while i < bytes.len() {
        let at_start = bytes.get(i).copied().is_some_and(is_word)
            && (i == 0 || bytes.get(i - 1).is_none_or(|&b| !is_word(b)));
        if !at_start {
            i += 1;
            continue;
        }
        let word = &bytes[i..i + run_len(&bytes[i..], is_word)];
        if !may_start(bytes[i]) {
            i += word.len().max(1);
            continue;
        }
        let found = match_word(word)
            .map(|(kind, len)| (kind, i..i + len, i..i + len))
            .or_else(|| slack_webhook(bytes, i))
            .or_else(|| private_key(bytes, i, &mut end_cache));
        match found {
            Some((kind, range, mask)) => {
                i = mask.end.max(i + 1);
                out.push(Token { kind, range, mask });
            }
            None => i += word.len().max(1),
        }
    }
    out
}

/// Whether `text` holds a token.
pub(crate) fn holds_token(text: &str) -> bool {
    !scan(text).is_empty()
}

/// The token a word starts with, and its length (it ends at a word boundary or where the
/// format's alphabet ends).
fn match_word(word: &[u8]) -> Option<(TokenKind, usize)> {
    let after = |prefix: &[u8]| word.strip_prefix(prefix);
    // a fixed-length body: `len` bytes of the alphabet, then not `[A-Za-z0-9_]`
    let fixed = |body: &[u8], len: usize, alphabet: fn(u8) -> bool| {
        let n = run_len(body, alphabet);
        let next = body.get(len).copied();
        (n >= len && next.is_none_or(|b| !(is_alnum(b) || b == b'_')))
            .then_some(len)
            .filter(|_| !is_placeholder(&body[..len]))
    };
    if let Some(body) = after(b"AKIA").or_else(|| after(b"ASIA")) {
        // base32: AWS key IDs have no 0, 1, 8 or 9
        let n = fixed(body, 16, |b| {
            b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
        })?;
        return Some((TokenKind::AwsAccessKeyId, 4 + n));
    }
    for p in [b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"] {
        if let Some(body) = after(p) {
            return Some((TokenKind::GithubToken, 4 + fixed(body, 36, is_alnum)?));
        }
    }
    if let Some(body) = after(b"github_pat_") {
        let n = fixed(body, 82, |b| is_alnum(b) || b == b'_')?;
        return Some((TokenKind::GithubFineGrainedToken, 11 + n));
    }
    if let Some(body) = after(b"glpat-") {
        let n = run_len(body, is_word);
        return (n >= 20 && !is_placeholder(&body[..n])).then_some((TokenKind::GitlabToken, 6 + n));
    }
    if word.starts_with(b"xox") {
        return slack_token(word).map(|n| (TokenKind::SlackToken, n));
    }
    if let Some(body) = after(b"sk-ant-") {
        return anthropic(body).map(|n| (TokenKind::AnthropicKey, 7 + n));
    }
    if let Some(body) = after(b"sk-") {
        return openai(body).map(|n| (TokenKind::OpenaiKey, 3 + n));
    }
    for p in [b"sk_live_", b"rk_live_"] {
        if let Some(body) = after(p) {
            let n = run_len(body, is_alnum);
            let next = body.get(n).copied();
            let ok = n >= 24 && next != Some(b'_') && !is_placeholder(&body[..n]);
            return ok.then_some((TokenKind::StripeKey, p.len() + n));
        }
    }
    if let Some(body) = after(b"AIza") {
        // 35 bytes of `[A-Za-z0-9_-]`, and the word ends there
        let ok = body.len() == 35 && !is_placeholder(body) && has_classes(body, 2);
        return ok.then_some((TokenKind::GoogleApiKey, word.len()));
    }
    if let Some(body) = after(b"npm_") {
        return Some((TokenKind::NpmToken, 4 + fixed(body, 36, is_alnum)?));
    }
    if let Some(body) = after(b"pypi-AgEIcHlwaS5vcmc") {
        // the base64 of the macaroon's location, `pypi.org`, then the rest of the macaroon
        let ok = body.len() >= 50 && !is_placeholder(body);
        return ok.then_some((TokenKind::PypiToken, word.len()));
    }
    None
}

/// `xoxb-`/`xoxp-`/`xoxs-`/`xoxo-`/`xoxe-` + digits + `-` ... (bot, user, legacy tokens), or
/// `xoxa-`/`xoxr-` + (`\d-`)? + 8 or more alphanumerics (app and refresh tokens); 20 bytes at
/// least, `[A-Za-z0-9-]` only.
fn slack_token(word: &[u8]) -> Option<usize> {
    let kind = *word.get(3)?;
    let body = word.strip_prefix(b"xox")?.get(1..)?.strip_prefix(b"-")?;
    let n = run_len(body, |b| is_alnum(b) || b == b'-');
    let body = &body[..n];
    if 5 + n < 20 || word.get(5 + n) == Some(&b'_') || is_placeholder(body) {
        return None;
    }
    let ok = match kind {
        b'b' | b'p' | b's' | b'o' | b'e' => {
            let first = run_len(body, |b| b.is_ascii_digit());
            first >= 6 && body.get(first) == Some(&b'-')
        }
        b'a' | b'r' => {
            let rest = match body {
                [d, b'-', rest @ ..] if d.is_ascii_digit() => rest,
                _ => body,
            };
            run_len(rest, is_alnum) >= 8 && has_classes(rest, 2)
        }
        _ => false,
    };
    ok.then_some(5 + n)
}

/// `sk-ant-` + `api03-`/`admin01-`/... + 80 or more `[A-Za-z0-9_-]`.
fn anthropic(body: &[u8]) -> Option<usize> {
    let letters = run_len(body, |b| b.is_ascii_lowercase());
    let digits = run_len(body.get(letters..)?, |b| b.is_ascii_digit());
    let head = letters + digits;
    if letters == 0 || digits == 0 || body.get(head) != Some(&b'-') {
        return None;
    }
    let tail = body.get(head + 1..)?;
    (tail.len() >= 80 && !is_placeholder(tail) && has_classes(tail, 3)).then_some(body.len())
}

/// `sk-` (or `sk-proj-`, `sk-svcacct-`, `sk-admin-`) + 32 or more `[A-Za-z0-9_-]` with upper
/// and lower case letters and digits (a word such as `sk-learn-…` or a placeholder is not one).
fn openai(body: &[u8]) -> Option<usize> {
    let key = [&b"proj-"[..], b"svcacct-", b"admin-"]
        .iter()
        .find_map(|p| body.strip_prefix(*p))
        .unwrap_or(body);
    (key.len() >= 32 && !is_placeholder(key) && has_classes(key, 3)).then_some(body.len())
}

/// `[https://]hooks.slack.com/services/T…/B…/…` starting at `i`: the range and mask.
fn slack_webhook(
    bytes: &[u8],
    i: usize,
) -> Option<(TokenKind, std::ops::Range<usize>, std::ops::Range<usize>)> {
    const HOST: &[u8] = b"hooks.slack.com/services/";
    let rest = bytes.get(i..)?;
    let scheme = if rest.starts_with(b"https://") {
        8
    } else if rest.starts_with(b"http://") {
        7
    } else {
        0
    };
    let host_at = i + scheme;
    let after = bytes.get(host_at..)?.strip_prefix(HOST)?;
    let upper = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let segment = |s: &[u8], lead: u8| -> Option<usize> {
        let s = s.strip_prefix(&[lead])?;
        let n = run_len(s, upper);
        ((8..=12).contains(&n) && s.get(n) == Some(&b'/') && !is_placeholder(&s[..n]))
            .then_some(n + 2)
    };
    let t = segment(after, b'T')?;
    let b = segment(after.get(t..)?, b'B')?;
    let secret = after.get(t + b..)?;
    let n = run_len(secret, is_alnum);
    if !(20..=32).contains(&n) || secret.get(n).copied().is_some_and(is_word) {
        return None;
    }
    if is_placeholder(&secret[..n]) {
        return None;
    }
    let end = host_at + HOST.len() + t + b + n;
    Some((TokenKind::SlackWebhook, i..end, i..end))
}

/// Where the next `-----END ` is, looked up once per text: headers come in order, so a search
/// that found nothing (or found a line before the current header) is not repeated from its start.
#[derive(Default)]
struct EndCache {
    /// `Some(None)`: no `-----END ` after `searched_from`.
    found: Option<Option<usize>>,
    searched_from: usize,
}

impl EndCache {
    fn next_end(&mut self, bytes: &[u8], from: usize) -> Option<usize> {
        const END: &[u8] = b"-----END ";
        match self.found {
            Some(None) if from >= self.searched_from => return None,
            Some(Some(at)) if at >= from => return Some(at),
            _ => {}
        }
        let start = from.max(self.searched_from);
        let at = bytes
            .get(start..)?
            .windows(END.len())
            .position(|w| w == END)
            .map(|p| start + p);
        self.searched_from = at.map_or(bytes.len(), |a| a + 1);
        self.found = Some(at);
        at
    }
}

/// `-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]PRIVATE KEY[ BLOCK]-----` followed by key
/// material (a run of 40 or more base64 bytes within 256 bytes): the block up to its `END` line,
/// or the header when the text holds no `END` line (the rest of the text masked).
fn private_key(
    bytes: &[u8],
    i: usize,
    ends: &mut EndCache,
) -> Option<(TokenKind, std::ops::Range<usize>, std::ops::Range<usize>)> {
    let mut rest = bytes.get(i..)?.strip_prefix(b"-----BEGIN ")?;
    for kind in [
        &b"RSA "[..],
        b"EC ",
        b"DSA ",
        b"OPENSSH ",
        b"ENCRYPTED ",
        b"PGP ",
    ] {
        if let Some(r) = rest.strip_prefix(kind) {
            rest = r;
            break;
        }
    }
    rest = rest.strip_prefix(b"PRIVATE KEY")?;
    rest = rest.strip_prefix(b" BLOCK").unwrap_or(rest);
    rest = rest.strip_prefix(b"-----")?;
    let header_end = bytes.len() - rest.len();
    if !has_key_material(rest) {
        return None;
    }
    let range = match ends.next_end(bytes, header_end) {
        Some(at) => {
            // `-----END … PRIVATE KEY[ BLOCK]-----`: to its closing dashes (within 40 bytes)
            let line = bytes.get(at + 9..)?;
            let close = line
                .iter()
                .take(40)
                .position(|&b| b == b'-')
                .filter(|&p| line.get(p..p + 5) == Some(b"-----"));
            match close {
                Some(p) => i..at + 9 + p + 5,
                None => i..header_end,
            }
        }
        None => i..header_end,
    };
    let mask = if range.end == header_end {
        i..bytes.len()
    } else {
        range.clone()
    };
    Some((TokenKind::PrivateKey, range, mask))
}

/// A run of 40 or more base64 bytes starts within the first 256 bytes of `rest` (after a header,
/// `Proc-Type:`/`DEK-Info:` lines, `\n` escapes), and it is not a placeholder.
fn has_key_material(rest: &[u8]) -> bool {
    let b64 = |b: u8| is_alnum(b) || b == b'+' || b == b'/' || b == b'=';
    let window = &rest[..rest.len().min(256)];
    let mut j = 0;
    while j < window.len() {
        let n = run_len(&rest[j..rest.len().min(j + 128)], b64);
        if n >= 40 {
            let run = &rest[j..j + n];
            return distinct(run) >= 10 && !has_placeholder_word(run);
        }
        j += n.max(1);
    }
    false
}

/// How many different bytes `s` holds.
fn distinct(s: &[u8]) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in s {
        let slot = &mut seen[usize::from(b)];
        if !*slot {
            *slot = true;
            n += 1;
        }
    }
    n
}

/// Whether `s` has at least `k` of: an upper case letter, a lower case letter, a digit.
fn has_classes(s: &[u8], k: usize) -> bool {
    let upper = s.iter().any(u8::is_ascii_uppercase);
    let lower = s.iter().any(u8::is_ascii_lowercase);
    let digit = s.iter().any(u8::is_ascii_digit);
    usize::from(upper) + usize::from(lower) + usize::from(digit) >= k
}

/// Words of documentation placeholders (compared ignoring case).
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"example",
    b"xxxx",
    b"changeme",
    b"your",
    b"placeholder",
    b"redacted",
    b"dummy",
    b"sample",
    b"fake",
    b"replace",
    b"insert",
];

fn has_placeholder_word(s: &[u8]) -> bool {
    PLACEHOLDER_WORDS
        .iter()
        .any(|w| s.windows(w.len()).any(|win| win.eq_ignore_ascii_case(w)))
}

/// A token body that is a placeholder, not a key: a placeholder word (`EXAMPLE`, `xxxx`,
/// `changeme`, `your`, …), five equal bytes in a row (`0000000000`), or too few different bytes
/// for a random string (fewer than 6, or 10 in 30 bytes and more).
fn is_placeholder(body: &[u8]) -> bool {
    if has_placeholder_word(body) {
        return true;
    }
    let repeated = body.windows(5).any(|w| w.iter().all(|&b| b == w[0]));
    let need = if body.len() >= 30 { 10 } else { 6 };
    repeated || distinct(body) < need
}

#[cfg(test)]
mod tests {
    use super::{TokenKind, scan};

    /// 36 alphanumerics that are not a placeholder.
    const B36: &str = "0123456789abcdefghijklmnopqrstuvwxyz";
    /// A private key header's start (split so that no scanner takes this file for a key).
    const BEGIN: &str = concat!("-----", "BEGIN ");

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        scan(text)
            .into_iter()
            .map(|t| (t.kind, &text[t.range]))
            .collect()
    }

    #[test]
    fn recognises_each_format() {
        let gh = format!("ghp_{B36}");
        let pat = format!("github_pat_{B36}{B36}ABCDEFGHIJ");
        let cases: Vec<(String, TokenKind)> = vec![
            ("AKIAZ2K4M6P3Q7R5T2WX".into(), TokenKind::AwsAccessKeyId),
            ("ASIAZ2K4M6P3Q7R5T2WX".into(), TokenKind::AwsAccessKeyId),
            (gh.clone(), TokenKind::GithubToken),
            (format!("ghs_{B36}"), TokenKind::GithubToken),
            (pat, TokenKind::GithubFineGrainedToken),
            (
                concat!("glpat", "-a1B2c3D4e5F6g7H8i9J0").into(),
                TokenKind::GitlabToken,
            ),
            (
                concat!("xoxb", "-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx").into(),
                TokenKind::SlackToken,
            ),
            (
                concat!("xoxa", "-2-AbCdEf123456GhIjKl").into(),
                TokenKind::SlackToken,
            ),
            (
                concat!(
                    "https://hooks.slack.com/services/",
                    "T01AB2CD3/B04EF5GH6/",
                    "aBcDeFgHiJkLmNoPqRsTuVwX"
                )
                .into(),
                TokenKind::SlackWebhook,
            ),
            (format!("sk-{B36}ABCD"), TokenKind::OpenaiKey),
            (format!("sk-proj-{B36}AB_CD-EF"), TokenKind::OpenaiKey),
            (
                format!("sk-ant-api03-{B36}{B36}ABCDEFGHIJ-_AbCdEfGhIj"),
                TokenKind::AnthropicKey,
            ),
            (
                concat!("sk_", "live_0123456789abcdefGHIJKLMN").into(),
                TokenKind::StripeKey,
            ),
            (
                concat!("rk_", "live_0123456789abcdefGHIJKLMN").into(),
                TokenKind::StripeKey,
            ),
            (
                concat!("AIza", "SyA0123456789abcdefghijklmnopq_-XYZ").into(),
                TokenKind::GoogleApiKey,
            ),
            (format!("npm_{B36}"), TokenKind::NpmToken),
            (
                format!("pypi-{}CJDAx{B36}{B36}", "AgEIcHlwaS5vcmc"),
                TokenKind::PypiToken,
            ),
        ];
        for (token, kind) in &cases {
            for text in [
                token.clone(),
                format!("X={token}"),
                format!("\"{token}\" rest"),
                format!("curl -H 'Authorization: Bearer {token}' x"),
            ] {
                assert_eq!(kinds(&text), vec![(*kind, token.as_str())], "{text}");
            }
        }
        assert_eq!(kinds("AIzaSyA0123456789abcdefghijklmnop_-XY").len(), 0);
    }

    #[test]
    fn token_boundaries_and_lengths() {
        for text in [
            format!("xghp_{B36}"),
            format!("ghp_{B36}a"),
            format!("ghp_{B36}_"),
            format!("ghp_{}", &B36[1..]),
            "AKIAZ2K4M6P3Q7R5T2WXY".to_string(),
            "AKIAZ2K4M6P3Q7R5T2W".to_string(),
            "xAKIAZ2K4M6P3Q7R5T2WX".to_string(),
            "AKIA0123456789ABCDEF".to_string(),
            format!("task-{B36}ABC"),
            format!("my-sk-{B36}ABC"),
            format!("sk_{B36}ABC"),
            "sk-learn-0.24.2".to_string(),
            "scikit-learn sk-learn==1.4".to_string(),
            format!("disk-{B36}XY"),
            format!("sk-{}", "a".repeat(40)),
            "sk-this-is-my-openai-key-for-the-local-dev-box".to_string(),
            "xoxb-not-a-real-token-this-will-not-work".to_string(),
            "xoxb-12345".to_string(),
            format!("npm_{B36}{B36}"),
            "glpat-short".to_string(),
        ] {
            assert_eq!(kinds(&text), vec![], "{text}");
        }
    }

    #[test]
    fn placeholders_are_not_tokens() {
        for text in [
            "AKIAIOSFODNN7EXAMPLE",
            "ASIAEXAMPLE234567ABC",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "ghp_000000000000000000000000000000000000",
            "ghp_abababababababababababababababababab",
            "ghp_YourGitHubPersonalAccessTokenHere12",
            "glpat-xxxxxxxxxxxxxxxxxxxx",
            "sk-proj-YOUR_OPENAI_API_KEY_GOES_HERE_123",
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/abcdefghijklmnopqrstuvwx",
            "npm_${NPM_TOKEN}",
            "ghp_${TOKEN}",
            "<ghp_token>",
            "-----BEGIN RSA PRIVATE KEY-----\n<your key here>\n-----END RSA PRIVATE KEY-----",
            "grep -q '-----BEGIN OPENSSH PRIVATE KEY-----' id",
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0123456789\n",
        ] {
            assert_eq!(kinds(text), vec![], "{text}");
        }
    }

    #[test]
    fn private_keys() {
        let body = "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB";
        let block = format!("{BEGIN}RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----");
        let text = format!("RUN echo '{block}' > /k && chmod 600 /k");
        let t = scan(&text);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].kind, TokenKind::PrivateKey);
        assert_eq!(&text[t[0].range.clone()], block);
        assert_eq!(t[0].mask, t[0].range);
        // escaped newlines, no END line: the header is the token, the rest is masked
        let text = format!("KEY=\"{BEGIN}OPENSSH PRIVATE KEY-----\\n{body}\\n\" X=1");
        let t = scan(&text);
        assert_eq!(
            &text[t[0].range.clone()],
            "-----BEGIN OPENSSH PRIVATE KEY-----"
        );
        assert_eq!(t[0].mask.end, text.len());
        let pgp = format!(
            "{BEGIN}PGP PRIVATE KEY BLOCK-----\nVersion: x\n\n{body}\n-----END PGP PRIVATE KEY BLOCK-----"
        );
        assert_eq!(kinds(&pgp), vec![(TokenKind::PrivateKey, pgp.as_str())]);
        let two = format!("{block}\n{block}");
        assert_eq!(scan(&two).len(), 2);
    }

    /// Megabytes of near-misses: one pass (a quadratic scan would not finish).
    #[test]
    fn hostile_input_is_linear() {
        for unit in [
            "sk-",
            "-----BEGIN PRIVATE KEY-----",
            concat!(
                "-----",
                "BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7"
            ),
            "hooks.slack.com/services/T01234567/",
            "xoxb-1234567-",
            "a",
            " ghp_",
        ] {
            let text = unit.repeat(1_000_000 / unit.len());
            assert!(scan(&text).len() <= 1, "{unit}");
        }
    }
}
