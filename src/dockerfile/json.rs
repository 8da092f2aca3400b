//! The JSON (exec) form of instruction arguments: `["a", "b"]`, decoded like Go's
//! `encoding/json` as BuildKit's `parseJSON` does (strings with every escape and surrogate pairs;
//! any other value is recognised so that a non-string item can be reported). Works on the bytes
//! of one logical line; knows nothing of instructions.

/// Why the text at an offset is not a JSON array of strings.
pub(super) enum JsonErr {
    /// Not JSON at all: the arguments are shell form.
    Invalid,
    /// A JSON array with an item that is not a string (BuildKit rejects the instruction).
    NotStrings,
}

/// The decoded items of a JSON array of strings, each with its byte range (quotes included).
pub(super) type Items = Vec<(String, usize, usize)>;

/// Decodes a JSON array of strings starting at `b[a] == '['` (trailing text is ignored, like
/// Go's `json.Decoder`): each item's value and byte range (quotes included), and the offset just
/// after the closing `]`.
pub(super) fn string_array(b: &[u8], a: usize) -> Result<(Items, usize), JsonErr> {
    if b.get(a) != Some(&b'[') {
        return Err(JsonErr::Invalid);
    }
    let mut i = skip_ws(b, a + 1);
    let mut items = Vec::new();
    let mut not_strings = false;
    if b.get(i) == Some(&b']') {
        return Ok((items, i + 1));
    }
    loop {
        if b.get(i) == Some(&b'"') {
            let (v, end) = json_string(b, i).ok_or(JsonErr::Invalid)?;
            items.push((v, i, end));
            i = end;
        } else {
            i = skip_value(b, i).ok_or(JsonErr::Invalid)?;
            not_strings = true;
        }
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => break,
            _ => return Err(JsonErr::Invalid),
        }
    }
    if not_strings {
        return Err(JsonErr::NotStrings);
    }
    Ok((items, i + 1))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let s = std::str::from_utf8(b.get(i..i + 4)?).ok()?;
    if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// A JSON string at `b[i] == '"'`: its decoded value and the offset after the closing quote.
fn json_string(b: &[u8], i: usize) -> Option<(String, usize)> {
    let mut out: Vec<u8> = Vec::new();
    let mut j = i + 1;
    loop {
        let c = *b.get(j)?;
        match c {
            b'"' => return Some((String::from_utf8_lossy(&out).into_owned(), j + 1)),
            0..=0x1f => return None,
            b'\\' => {
                let e = *b.get(j + 1)?;
                j += 2;
                let ch = match e {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let u = hex4(b, j)?;
                        j += 4;
                        if (0xD800..0xDC00).contains(&u)
                            && b.get(j) == Some(&b'\\')
                            && b.get(j + 1) == Some(&b'u')
                            && let Some(lo) = hex4(b, j + 2)
                            && (0xDC00..0xE000).contains(&lo)
                        {
                            j += 6;
                            char::from_u32(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00))
                                .unwrap_or('\u{fffd}')
                        } else {
                            char::from_u32(u).unwrap_or('\u{fffd}')
                        }
                    }
                    _ => return None,
                };
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            _ => {
                out.push(c);
                j += 1;
            }
        }
    }
}

fn skip_number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |b: &[u8], mut i: usize| {
        let s = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > s).then_some(i)
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i)?,
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i = digits(b, i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(b, i)?;
    }
    Some(i)
}

/// Validates any JSON value at `i` (iteratively: deep nesting cannot overflow the stack).
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut stack: Vec<u8> = Vec::new();
    loop {
        if stack.len() > 10_000 {
            return None;
        }
        i = skip_ws(b, i);
        match *b.get(i)? {
            b'"' => i = json_string(b, i)?.1,
            b'[' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    stack.push(b'[');
                    continue;
                }
            }
            b'{' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    stack.push(b'{');
                    i = object_key(b, i)?;
                    continue;
                }
            }
            b't' => i = literal(b, i, b"true")?,
            b'f' => i = literal(b, i, b"false")?,
            b'n' => i = literal(b, i, b"null")?,
            _ => i = skip_number(b, i)?,
        }
        // After a value: close containers or move to the next element.
        loop {
            let Some(&top) = stack.last() else {
                return Some(i);
            };
            i = skip_ws(b, i);
            match (*b.get(i)?, top) {
                (b',', b'[') => {
                    i += 1;
                    break;
                }
                (b',', _) => {
                    i = object_key(b, skip_ws(b, i + 1))?;
                    break;
                }
                (b']', b'[') | (b'}', b'{') => {
                    stack.pop();
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

/// `"key" :` at `i`; returns the offset after the colon.
fn object_key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(b, json_string(b, i)?.1);
    (b.get(i) == Some(&b':')).then_some(i + 1)
}

fn literal(b: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
    (b.get(i..i + lit.len()) == Some(lit)).then_some(i + lit.len())
}
