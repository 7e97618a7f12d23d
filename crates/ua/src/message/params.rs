//! `;name=value` parameter lists: header parameters (generic-param, RFC 3261 §25.1, with SWS
//! around `;` and `=` and quoted-string values) and SIP-URI parameters (no whitespace, no quotes).

use super::scan::{is_token_char, parse_quoted, skip_ws, take_while};
use super::uri::{is_param_char, take_escaped_run};
use super::{Param, Params};

/// Characters of an unquoted generic-param value: `token / host` (host adds `:` `[` `]` for
/// IPv6 references, and bare IPv6 addresses appear in Via `received`).
fn is_gen_value_char(b: u8) -> bool {
    is_token_char(b) || b == b':' || b == b'[' || b == b']'
}

/// Parse `*( SEMI generic-param )`. `s` is what follows the value's main part; it must be empty
/// or whitespace, or start (after optional whitespace) with `;`.
pub(crate) fn parse_generic_params(s: &str) -> Result<Params, String> {
    let b = s.as_bytes();
    let mut params = Vec::new();
    let mut i = 0;
    loop {
        i = skip_ws(b, i);
        if i == b.len() {
            return Ok(Params(params));
        }
        if b[i] != b';' {
            return Err(format!("unexpected {:?} where ';' was expected", char::from(b[i])));
        }
        i = skip_ws(b, i + 1);
        let name_end = take_while(b, i, is_token_char);
        if name_end == i {
            return Err("empty parameter name".into());
        }
        let name = s[i..name_end].to_string();
        i = skip_ws(b, name_end);
        if i < b.len() && b[i] == b'=' {
            i = skip_ws(b, i + 1);
            if i < b.len() && b[i] == b'"' {
                let (value, used) = parse_quoted(&s[i..])?;
                params.push(Param { name, value: Some(value), quoted: true });
                i += used;
            } else {
                let end = take_while(b, i, is_gen_value_char);
                if end == i {
                    return Err(format!("parameter {name:?} has an empty value"));
                }
                params.push(Param { name, value: Some(s[i..end].to_string()), quoted: false });
                i = end;
            }
        } else {
            params.push(Param { name, value: None, quoted: false });
        }
    }
}

/// Parse SIP-URI `uri-parameters` starting at `s[i]` (which is `;` or the end). Stops at `?` or
/// at the end and returns the index reached.
pub(crate) fn parse_uri_params(s: &str, i: usize) -> Result<(Params, usize), String> {
    let mut params = Vec::new();
    let end = walk_uri_params(s, i, |name, value| {
        params.push(Param { name: name.to_string(), value: value.map(str::to_string), quoted: false })
    })?;
    Ok((Params(params), end))
}

/// [`parse_uri_params`] without building anything: each parameter is handed to `each`.
pub(crate) fn walk_uri_params<'a>(
    s: &'a str,
    mut i: usize,
    mut each: impl FnMut(&'a str, Option<&'a str>),
) -> Result<usize, String> {
    let b = s.as_bytes();
    while i < b.len() && b[i] == b';' {
        let name_end = take_escaped_run(b, i + 1, is_param_char)?;
        if name_end == i + 1 {
            return Err("empty URI parameter name".into());
        }
        let name = &s[i + 1..name_end];
        i = name_end;
        if i < b.len() && b[i] == b'=' {
            let value_end = take_escaped_run(b, i + 1, is_param_char)?;
            if value_end == i + 1 {
                return Err(format!("URI parameter {name:?} has an empty value"));
            }
            each(name, Some(&s[i + 1..value_end]));
            i = value_end;
        } else {
            each(name, None);
        }
    }
    Ok(i)
}
