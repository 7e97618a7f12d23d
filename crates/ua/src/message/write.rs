//! From [`Request`] / [`Response`] to bytes, through rsip's writer.
//!
//! Headers are handed to rsip as `Header::Other(name, value)` so it writes them exactly as we
//! hold them. Three things are done around rsip rather than by it:
//! - the body is appended as bytes: rsip's `Display` renders bodies with `from_utf8_lossy`,
//!   which would corrupt binary bodies (RFC 4475 mpart01);
//! - the status line uses `StatusCode::Other(code, reason)`: rsip's named variants write their
//!   Rust identifier as the reason phrase (`183 SessionProgress`) and drop ours;
//! - when rsip cannot represent the request line — an extension method (rsip's `Method` is a
//!   closed enum) or a Request-URI its `Uri` parser rejects or would rewrite — the request line is
//!   written here and only the header section comes from rsip.

use super::{same_header, Headers, Method, Request, Response};

/// CR and LF can never be part of a header line: a value holding one (only possible if built
/// by hand) would inject a header. They are written as spaces.
fn clean(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

fn rsip_headers(headers: &Headers, body_len: usize) -> rsip::Headers {
    let mut out: Vec<rsip::Header> = headers
        .iter()
        .filter(|h| !same_header(&h.name, "Content-Length"))
        .map(|h| rsip::Header::Other(clean(&h.name), clean(&h.value)))
        .collect();
    out.push(rsip::Header::Other("Content-Length".into(), body_len.to_string()));
    out.into()
}

fn rsip_method(method: &Method) -> Option<rsip::Method> {
    Some(match method {
        Method::Invite => rsip::Method::Invite,
        Method::Ack => rsip::Method::Ack,
        Method::Bye => rsip::Method::Bye,
        Method::Cancel => rsip::Method::Cancel,
        Method::Register => rsip::Method::Register,
        Method::Options => rsip::Method::Options,
        Method::Info => rsip::Method::Info,
        Method::Update => rsip::Method::Update,
        Method::Prack => rsip::Method::PRack,
        Method::Subscribe => rsip::Method::Subscribe,
        Method::Notify => rsip::Method::Notify,
        Method::Refer => rsip::Method::Refer,
        Method::Message => rsip::Method::Message,
        Method::Publish => rsip::Method::Publish,
        Method::Other(_) => return None,
    })
}

/// rsip's view of our Request-URI, only if it writes it back unchanged.
fn rsip_uri(uri: &str) -> Option<rsip::Uri> {
    let parsed = rsip::Uri::try_from(uri).ok()?;
    (parsed.to_string() == uri).then_some(parsed)
}

pub(super) fn request(req: &Request) -> Vec<u8> {
    let headers = rsip_headers(&req.headers, req.body.len());
    let mut out = match (rsip_method(&req.method), rsip_uri(&req.uri)) {
        (Some(method), Some(uri)) => {
            let message = rsip::Request { method, uri, version: rsip::Version::V2, headers, body: Vec::new() };
            message.to_string().into_bytes()
        }
        // Fallback: rsip cannot represent this request line (see the module docs).
        _ => format!("{} {} SIP/2.0\r\n{}\r\n", clean(req.method.as_str()), clean(&req.uri), headers).into_bytes(),
    };
    out.extend_from_slice(&req.body);
    out
}

pub(super) fn response(res: &Response) -> Vec<u8> {
    let message = rsip::Response {
        status_code: rsip::StatusCode::Other(res.status, clean(&res.reason)),
        version: rsip::Version::V2,
        headers: rsip_headers(&res.headers, res.body.len()),
        body: Vec::new(),
    };
    let mut out = message.to_string().into_bytes();
    out.extend_from_slice(&res.body);
    out
}
