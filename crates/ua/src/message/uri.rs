//! SIP, SIPS and tel URIs (RFC 3261 §19.1 and §25.1, RFC 3966) and the generic absolute-URI
//! check used for the Request-URI and name-addr URIs of other schemes.

use super::params::{parse_uri_params, walk_uri_params};
use super::scan::{excerpt, is_ws, take_while};
use super::{HeaderError, SipUri};

fn err(reason: impl Into<String>) -> HeaderError {
    HeaderError { header: "URI", reason: reason.into() }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// `user` characters: unreserved / user-unreserved (escaped is handled by the caller).
fn is_user_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,;?/".contains(&b)
}

fn is_password_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,".contains(&b)
}

/// `paramchar` (without `escaped`).
pub(crate) fn is_param_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/:&+$".contains(&b)
}

/// Characters of the `?h=v&...` part: hnv-unreserved / unreserved, plus the `=` and `&`
/// separators.
fn is_headers_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/?:+$=&".contains(&b)
}

/// Hostname / IPv4 characters. `_` is not in RFC 3261's hostname rule but is common enough in
/// deployed host names that refusing it would only hurt.
fn is_host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'
}

/// Index past the run starting at `i` of bytes accepted by `f` or `%HEX HEX` escapes.
pub(crate) fn take_escaped_run(b: &[u8], mut i: usize, f: impl Fn(u8) -> bool) -> Result<usize, String> {
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err("'%' not followed by two hex digits".into());
            }
            i += 3;
        } else if f(b[i]) {
            i += 1;
        } else {
            break;
        }
    }
    Ok(i)
}

/// `scheme ":" rest` with RFC 3986 scheme syntax; returns (scheme, rest).
pub(crate) fn split_scheme(uri: &str) -> Result<(&str, &str), HeaderError> {
    let b = uri.as_bytes();
    let colon = b.iter().position(|&c| c == b':').ok_or_else(|| err("missing scheme"))?;
    let scheme = &uri[..colon];
    let sb = scheme.as_bytes();
    let valid = !sb.is_empty()
        && sb[0].is_ascii_alphabetic()
        && sb.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.');
    if !valid {
        return Err(err(format!("invalid scheme {:?}", excerpt(scheme))));
    }
    Ok((scheme, &uri[colon + 1..]))
}

/// A URI as it may appear inside `<...>`, as an addr-spec or as a Request-URI: an absolute URI
/// with no whitespace or delimiter characters; `sip:`, `sips:` and `tel:` URIs must parse (and
/// are returned as a borrowed view, so that a caller needing more does not parse them again).
/// Allocates nothing unless the URI is invalid.
pub(crate) fn check_absolute_uri(uri: &str) -> Result<Option<UriView<'_>>, HeaderError> {
    if uri.bytes().any(|c| is_ws(c) || c < 0x20 || c == 0x7f || b"<>\"".contains(&c)) {
        return Err(err(format!("invalid character in URI {:?}", excerpt(uri))));
    }
    let (scheme, rest) = split_scheme(uri)?;
    if rest.is_empty() {
        return Err(err("empty URI after the scheme"));
    }
    if ["sip", "sips", "tel"].iter().any(|s| scheme.eq_ignore_ascii_case(s)) {
        return view(uri).map(Some);
    }
    Ok(None)
}

/// A validated `sip:`/`sips:`/`tel:` URI as slices of its text; [`parse`] makes a [`SipUri`] of it.
pub(crate) struct UriView<'a> {
    scheme: &'a str,
    user: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
    /// The `;...` uri-parameters, validated.
    params: &'a str,
    pub(crate) headers: Option<&'a str>,
}

pub(crate) fn parse(value: &str) -> Result<SipUri, HeaderError> {
    let v = view(value)?;
    let (params, _) = parse_uri_params(v.params, 0).map_err(err)?;
    Ok(SipUri {
        scheme: v.scheme.to_ascii_lowercase(),
        user: v.user.map(str::to_string),
        host: v.host.to_string(),
        port: v.port,
        params,
        headers: v.headers.map(str::to_string),
    })
}

fn view(value: &str) -> Result<UriView<'_>, HeaderError> {
    let (scheme, rest) = split_scheme(value)?;
    if scheme.eq_ignore_ascii_case("tel") {
        view_tel(scheme, rest)
    } else if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        view_sip(scheme, rest)
    } else {
        Err(err(format!("unsupported scheme {:?}", excerpt(&scheme.to_ascii_lowercase()))))
    }
}

fn view_tel<'a>(scheme: &'a str, rest: &'a str) -> Result<UriView<'a>, HeaderError> {
    let b = rest.as_bytes();
    let end = take_escaped_run(b, 0, |c| c.is_ascii_alphanumeric() || b"+-.()*#".contains(&c)).map_err(err)?;
    if end == 0 {
        return Err(err("empty telephone number"));
    }
    let i = walk_uri_params(rest, end, |_, _| {}).map_err(err)?;
    if i != b.len() {
        return Err(err(format!("unexpected text in tel URI: {:?}", excerpt(&rest[i..]))));
    }
    Ok(UriView { scheme, user: Some(&rest[..end]), host: "", port: None, params: &rest[end..i], headers: None })
}

fn view_sip<'a>(scheme: &'a str, rest: &'a str) -> Result<UriView<'a>, HeaderError> {
    let b = rest.as_bytes();
    // userinfo cannot contain a raw '@' and neither can anything after the host, so the first
    // '@' (if any) ends the userinfo. The user part may contain ';', '?' and ',' (RFC 4475
    // semiuri, intmeth), so no other delimiter may be looked for first.
    let (user, mut i) = match b.iter().position(|&c| c == b'@') {
        Some(at) => {
            let info = &rest[..at];
            let ib = info.as_bytes();
            let user_end = take_escaped_run(ib, 0, is_user_char).map_err(err)?;
            if user_end == 0 {
                return Err(err("empty user part"));
            }
            if user_end < ib.len() {
                if ib[user_end] != b':' {
                    return Err(err(format!("invalid character in user part: {:?}", excerpt(info))));
                }
                let pw_end = take_escaped_run(ib, user_end + 1, is_password_char).map_err(err)?;
                if pw_end != ib.len() {
                    return Err(err(format!("invalid character in password: {:?}", excerpt(info))));
                }
            }
            (Some(info), at + 1)
        }
        None => (None, 0),
    };

    let host_start = i;
    if b.get(i) == Some(&b'[') {
        let close = b[i..].iter().position(|&c| c == b']').ok_or_else(|| err("unterminated IPv6 reference"))?;
        let inner = &b[i + 1..i + close];
        let valid = inner.len() >= 2
            && inner.contains(&b':')
            && inner.iter().all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
        if !valid {
            return Err(err("invalid IPv6 reference"));
        }
        i += close + 1;
    } else {
        i = take_while(b, i, is_host_char);
        if i == host_start {
            return Err(err("empty host"));
        }
    }
    let host = &rest[host_start..i];

    let mut port = None;
    if b.get(i) == Some(&b':') {
        let end = take_while(b, i + 1, |c| c.is_ascii_digit());
        let digits = &rest[i + 1..end];
        if digits.is_empty() || digits.len() > 5 {
            return Err(err("invalid port"));
        }
        port = Some(digits.parse::<u16>().map_err(|_| err("port out of range"))?);
        i = end;
    }

    let params_start = i;
    let mut i = walk_uri_params(rest, i, |_, _| {}).map_err(err)?;
    let params = &rest[params_start..i];
    let mut headers = None;
    if b.get(i) == Some(&b'?') {
        let end = take_escaped_run(b, i + 1, is_headers_char).map_err(err)?;
        headers = Some(&rest[i + 1..end]);
        i = end;
    }
    if i != b.len() {
        return Err(err(format!("unexpected text in URI: {:?}", excerpt(&rest[i..]))));
    }
    Ok(UriView { scheme, user, host, port, params, headers })
}

pub(crate) fn fmt(uri: &SipUri, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{}:", uri.scheme)?;
    if uri.scheme == "tel" {
        f.write_str(uri.user.as_deref().unwrap_or(""))?;
        return write!(f, "{}", uri.params);
    }
    if let Some(user) = &uri.user {
        write!(f, "{user}@")?;
    }
    f.write_str(&uri.host)?;
    if let Some(port) = uri.port {
        write!(f, ":{port}")?;
    }
    write!(f, "{}", uri.params)?;
    if let Some(h) = &uri.headers {
        write!(f, "?{h}")?;
    }
    Ok(())
}
