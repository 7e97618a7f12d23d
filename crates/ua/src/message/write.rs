//! From [`Request`] / [`Response`] to bytes, written directly (one buffer, no intermediate
//! message type, nothing re-parsed).
//!
//! The layout is exactly the one rsip's writer produced before (so the bytes on the wire did not
//! change when it was dropped): start line, then every header as `Name: value` in order, then
//! `Content-Length` (always present, always equal to the body length; any existing one is
//! dropped), an empty line, and the body as bytes (binary bodies survive: RFC 4475 mpart01).
//! The Request-URI, method and reason phrase are written as held: nothing is re-parsed.

use super::{same_header, Headers, Request, Response};

/// CR and LF can never be part of a start or header line: a value holding one (only possible if
/// built by hand) would inject a header. They are written as spaces.
fn push_clean(out: &mut Vec<u8>, s: &str) {
    let start = out.len();
    out.extend_from_slice(s.as_bytes());
    for c in &mut out[start..] {
        if *c == b'\r' || *c == b'\n' {
            *c = b' ';
        }
    }
}

fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn size_hint(headers: &Headers, body: &[u8]) -> usize {
    64 + body.len() + headers.iter().map(|h| h.name.len() + h.value.len() + 4).sum::<usize>()
}

/// Headers, Content-Length, the empty line and the body.
fn finish(out: &mut Vec<u8>, headers: &Headers, body: &[u8]) {
    for h in headers.iter().filter(|h| !same_header(&h.name, "Content-Length")) {
        push_clean(out, &h.name);
        out.extend_from_slice(b": ");
        push_clean(out, &h.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    push_decimal(out, body.len());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
}

pub(super) fn request(req: &Request) -> Vec<u8> {
    let mut out = Vec::with_capacity(size_hint(&req.headers, &req.body) + req.uri.len());
    push_clean(&mut out, req.method.as_str());
    out.push(b' ');
    push_clean(&mut out, &req.uri);
    out.extend_from_slice(b" SIP/2.0\r\n");
    finish(&mut out, &req.headers, &req.body);
    out
}

pub(super) fn response(res: &Response) -> Vec<u8> {
    let mut out = Vec::with_capacity(size_hint(&res.headers, &res.body) + res.reason.len());
    out.extend_from_slice(b"SIP/2.0 ");
    push_decimal(&mut out, usize::from(res.status));
    out.push(b' ');
    push_clean(&mut out, &res.reason);
    out.extend_from_slice(b"\r\n");
    finish(&mut out, &res.headers, &res.body);
    out
}
