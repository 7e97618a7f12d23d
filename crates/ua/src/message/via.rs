//! `Via: SIP/2.0/WSS host[:port];params` (RFC 3261 §20.42, §25.1), with SWS allowed around the
//! `/`, `:`, `;` and `=` separators (RFC 4475 `wsinv`).

use super::params::parse_generic_params;
use super::scan::{excerpt, is_token_char, is_ws, skip_ws, take_while, trim_ws};
use super::{HeaderError, Via};

fn err(reason: impl Into<String>) -> HeaderError {
    HeaderError { header: "Via", reason: reason.into() }
}

pub(crate) fn parse(value: &str) -> Result<Via, HeaderError> {
    let s = trim_ws(value);
    let b = s.as_bytes();

    let name_end = take_while(b, 0, is_token_char);
    let i = skip_ws(b, name_end);
    if i >= b.len() || b[i] != b'/' {
        return Err(err(format!("expected SIP/2.0/<transport>, got {:?}", excerpt(s))));
    }
    let version_start = skip_ws(b, i + 1);
    let version_end = take_while(b, version_start, is_token_char);
    let i = skip_ws(b, version_end);
    if i >= b.len() || b[i] != b'/' {
        return Err(err(format!("expected SIP/2.0/<transport>, got {:?}", excerpt(s))));
    }
    let transport_start = skip_ws(b, i + 1);
    let transport_end = take_while(b, transport_start, is_token_char);
    if !s[..name_end].eq_ignore_ascii_case("SIP") || &s[version_start..version_end] != "2.0" {
        return Err(err(format!("unsupported protocol {:?}", excerpt(&s[..version_end]))));
    }
    if transport_end == transport_start {
        return Err(err("missing transport"));
    }
    let transport = s[transport_start..transport_end].to_ascii_uppercase();

    // LWS is mandatory between sent-protocol and sent-by.
    let host_start = skip_ws(b, transport_end);
    if host_start == transport_end || host_start == b.len() {
        return Err(err("missing sent-by host"));
    }
    let host_end = if b[host_start] == b'[' {
        let close =
            b[host_start..].iter().position(|&c| c == b']').ok_or_else(|| err("unterminated IPv6 reference"))?;
        let inner = &b[host_start + 1..host_start + close];
        if inner.len() < 2 || !inner.iter().all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return Err(err("invalid IPv6 reference"));
        }
        host_start + close + 1
    } else {
        take_while(b, host_start, |c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_')
    };
    if host_end == host_start {
        return Err(err(format!("invalid sent-by host in {:?}", excerpt(s))));
    }
    let host = s[host_start..host_end].to_string();

    let mut i = skip_ws(b, host_end);
    let mut port = None;
    if i < b.len() && b[i] == b':' {
        let digits_start = skip_ws(b, i + 1);
        let digits_end = take_while(b, digits_start, |c| c.is_ascii_digit());
        let digits = &s[digits_start..digits_end];
        if digits.is_empty() || digits.len() > 5 {
            return Err(err("invalid port"));
        }
        port = Some(digits.parse::<u16>().map_err(|_| err("port out of range"))?);
        i = digits_end;
    } else if i < b.len() && !is_ws(b[i]) && b[i] != b';' {
        return Err(err(format!("unexpected text after host: {:?}", excerpt(&s[i..]))));
    }
    let params = parse_generic_params(&s[i..]).map_err(err)?;
    Ok(Via { transport, host, port, params })
}

pub(crate) fn fmt(via: &Via, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "SIP/2.0/{} {}", via.transport, via.host)?;
    if let Some(port) = via.port {
        write!(f, ":{port}")?;
    }
    write!(f, "{}", via.params)
}
