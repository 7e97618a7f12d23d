//! `sipcheck FILE`: parse one SIP message from FILE (raw bytes) with Ferrophone's message layer
//! and print one JSON line describing it.
//!
//! Valid message (exit 0):
//! `{"ok":true,"kind":"request","method":"INVITE","call_id":"…","cseq":[1,"INVITE"],
//!   "from_tag":"…"|null,"to_tag":"…"|null,"via_branch":"…"|null,"content_length":0,"body_len":0}`
//! (responses carry `"status":200` instead of `"method"`; `content_length` is the Content-Length
//! header value if present, else the body length).
//!
//! Invalid message or unreadable file (exit 1): `{"ok":false,"error":"…"}`.
//! Wrong usage (exit 2): the same error shape.

use ferrophone_ua::message::{parse, Message};
use serde_json::{json, Map, Value};
use std::process::ExitCode;

fn fail(error: String, code: u8) -> ExitCode {
    println!("{}", json!({ "ok": false, "error": error }));
    ExitCode::from(code)
}

fn describe(message: &Message) -> Value {
    let headers = message.headers();
    let mut out = Map::new();
    out.insert("ok".into(), json!(true));
    let body_len = match message {
        Message::Request(r) => {
            out.insert("kind".into(), json!("request"));
            out.insert("method".into(), json!(r.method.as_str()));
            r.body.len()
        }
        Message::Response(r) => {
            out.insert("kind".into(), json!("response"));
            out.insert("status".into(), json!(r.status));
            r.body.len()
        }
    };
    out.insert("call_id".into(), json!(headers.call_id()));
    out.insert("cseq".into(), headers.cseq().map_or(Value::Null, |c| json!([c.seq, c.method.as_str()])));
    out.insert("from_tag".into(), json!(headers.from().and_then(|f| f.tag().map(str::to_string))));
    out.insert("to_tag".into(), json!(headers.to().and_then(|t| t.tag().map(str::to_string))));
    out.insert("via_branch".into(), json!(headers.top_via().and_then(|v| v.branch().map(str::to_string))));
    out.insert("content_length".into(), json!(headers.content_length().unwrap_or(body_len)));
    out.insert("body_len".into(), json!(body_len));
    Value::Object(out)
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        return fail("usage: sipcheck FILE".into(), 2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => return fail(format!("cannot read {}: {e}", path.to_string_lossy()), 1),
    };
    match parse(&bytes) {
        Ok(message) => {
            println!("{}", describe(&message));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.to_string(), 1),
    }
}
