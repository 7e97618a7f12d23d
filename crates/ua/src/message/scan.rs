//! Byte-level helpers shared by the header parsers.
//!
//! Every parser here walks the UTF-8 text byte by byte and only ever slices at the position of an
//! ASCII byte it has just looked at. ASCII bytes are always char boundaries in UTF-8, so no slice
//! in this module (or in the parsers built on it) can panic, whatever the input.

/// RFC 3261 `token` characters.
pub(crate) fn is_token_char(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~')
}

pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// SP or HTAB: the only whitespace SIP knows (after folding has been undone).
pub(crate) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

// The trims look at bytes, not chars: SP and HTAB are ASCII, so the slice boundaries they
// return are char boundaries (and this is several times faster than a char pattern).
pub(crate) fn trim_ws(s: &str) -> &str {
    trim_end_ws(trim_start_ws(s))
}

pub(crate) fn trim_start_ws(s: &str) -> &str {
    let start = s.bytes().position(|c| !is_ws(c)).unwrap_or(s.len());
    s.get(start..).unwrap_or("")
}

pub(crate) fn trim_end_ws(s: &str) -> &str {
    let end = s.bytes().rposition(|c| !is_ws(c)).map_or(0, |i| i + 1);
    s.get(..end).unwrap_or("")
}

/// Index of the first byte at or after `i` that is not SP/HTAB.
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// Index just past the run of bytes satisfying `f` that starts at `i`.
pub(crate) fn take_while(b: &[u8], mut i: usize, f: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && f(b[i]) {
        i += 1;
    }
    i
}

/// Parse the quoted-string that starts at the beginning of `s` (which must start with `"`).
/// Returns the unescaped content and the number of bytes consumed (quotes included).
///
/// qdtext excludes control characters other than HTAB: those can only appear as quoted-pairs
/// (RFC 3261 §25.1), e.g. the `\<NUL>` of RFC 4475 `intmeth`.
pub(crate) fn parse_quoted(s: &str) -> Result<(String, usize), String> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return Err("expected '\"'".into());
    }
    let mut out: Vec<u8> = Vec::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                // Only ASCII bytes were skipped or escaped: `out` is valid UTF-8 because `s` was.
                let text = String::from_utf8(out).map_err(|_| "invalid UTF-8 in quoted-string")?;
                return Ok((text, i + 1));
            }
            b'\\' => {
                let next = *b.get(i + 1).ok_or("dangling '\\' in quoted-string")?;
                if next > 0x7f || next == b'\r' || next == b'\n' {
                    return Err("invalid quoted-pair".into());
                }
                out.push(next);
                i += 2;
            }
            c if (c < 0x20 && c != b'\t') || c == 0x7f => {
                return Err("control character in quoted-string".into());
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err("unterminated quoted-string".into())
}

/// Write `s` as a quoted-string, escaping what qdtext cannot carry. CR and LF cannot be carried
/// at all (not even as quoted-pairs) and become spaces.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            '\t' => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Split on top-level commas (outside quoted-strings and `<...>`), keeping empty elements.
/// Elements are trimmed of SP/HTAB.
pub(crate) fn split_list_raw(value: &str) -> Vec<&str> {
    let b = value.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if in_quotes => i += 1, // skip the escaped byte (an ASCII one if valid)
            b'"' => in_quotes = !in_quotes,
            b'<' if !in_quotes => in_angle = true,
            b'>' if !in_quotes => in_angle = false,
            b',' if !in_quotes && !in_angle => {
                out.push(trim_ws(&value[start..i]));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    // `i` may have stepped past the end after a trailing backslash: clamp before slicing.
    out.push(trim_ws(value.get(start..).unwrap_or("")));
    out
}

/// Shorten untrusted text for an error message (at most 40 chars, never splitting a char).
pub(crate) fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_trims_are_the_char_trims() {
        for s in ["", " ", "\t \t", " a ", "\ta\t b \t", "é ", " é", "a", " \u{a0} "] {
            assert_eq!(trim_ws(s), s.trim_matches([' ', '\t']), "{s:?}");
            assert_eq!(trim_start_ws(s), s.trim_start_matches([' ', '\t']), "{s:?}");
            assert_eq!(trim_end_ws(s), s.trim_end_matches([' ', '\t']), "{s:?}");
        }
    }
}
