//! name-addr / addr-spec values (RFC 3261 §20.10, §25.1): From, To, Contact, Route, Refer-To...

use super::params::parse_generic_params;
use super::scan::{excerpt, is_token_char, is_ws, parse_quoted, quote, trim_start_ws, trim_ws};
use super::uri::check_absolute_uri;
use super::{HeaderError, NameAddr};

fn err(reason: impl Into<String>) -> HeaderError {
    HeaderError { header: "name-addr", reason: reason.into() }
}

pub(crate) fn parse(value: &str) -> Result<NameAddr, HeaderError> {
    let s = trim_ws(value);
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(err("empty value"));
    }
    if b[0] == b'"' {
        let (display, used) = parse_quoted(s).map_err(err)?;
        let rest = trim_start_ws(&s[used..]);
        if !rest.starts_with('<') {
            return Err(err("display-name not followed by '<'"));
        }
        return angle(Some(display), rest);
    }
    // Token display-name (`token *(LWS token)`) directly followed by `<`? RFC 4475 lwsdisp:
    // `caller<sip:...>` (no LWS before `<`) must be accepted.
    let mut i = 0;
    while i < b.len() && (is_token_char(b[i]) || is_ws(b[i])) {
        i += 1;
    }
    if i < b.len() && b[i] == b'<' {
        let display = trim_ws(&s[..i]);
        let display = (!display.is_empty()).then(|| display.to_string());
        return angle(display, &s[i..]);
    }
    addr_spec(s)
}

/// `<uri>` followed by header parameters; `s` starts with `<`.
fn angle(display_name: Option<String>, s: &str) -> Result<NameAddr, HeaderError> {
    let close = s.find('>').ok_or_else(|| err("unterminated '<'"))?;
    // `s` starts with '<' (ASCII), so 1 is a char boundary and 1 <= close.
    let uri = &s[1..close];
    if uri.is_empty() {
        return Err(err("empty URI"));
    }
    // RFC 3261 LAQUOT / RAQUOT carry no inner whitespace: `< sip:a@b >` is RFC 4475 badaspec.
    check_absolute_uri(uri).map_err(|e| err(e.reason))?;
    let params = parse_generic_params(&s[close + 1..]).map_err(err)?;
    Ok(NameAddr { display_name, uri: uri.to_string(), params })
}

/// addr-spec form: the URI has no parameters of its own; everything after the first `;` is a
/// header parameter (RFC 3261 §20). A `?headers` part is accepted liberally when there is no
/// ambiguity (RFC 4475 regbadct says an element may infer the missing `<>`).
fn addr_spec(s: &str) -> Result<NameAddr, HeaderError> {
    let end = s.find([';', ' ', '\t']).unwrap_or(s.len());
    let uri = &s[..end];
    check_absolute_uri(uri).map_err(|e| err(format!("{} (in {:?})", e.reason, excerpt(s))))?;
    let params = parse_generic_params(&s[end..]).map_err(err)?;
    Ok(NameAddr { display_name: None, uri: uri.to_string(), params })
}

pub(crate) fn fmt(na: &NameAddr, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    if let Some(d) = &na.display_name {
        write!(f, "{} ", quote(d))?;
    }
    write!(f, "<{}>{}", na.uri, na.params)
}
