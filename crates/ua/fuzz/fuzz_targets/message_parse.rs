//! Fuzz `message::parse`, the serialize/re-parse round trip and `salvage_for_reply`.
//!
//! Properties checked on every input:
//! - nothing panics (parse, typed views, to_bytes, salvage, Response::for_request);
//! - whatever parses serializes to bytes that parse again into the same message, Content-Length
//!   aside (it is always rewritten to the body length);
//! - a salvaged request yields a 400 that serializes.
#![no_main]

use ferrophone_ua::message::{parse, salvage_for_reply, Message, Response};
use libfuzzer_sys::fuzz_target;

fn without_content_length(m: &Message) -> Message {
    let mut m = m.clone();
    match &mut m {
        Message::Request(r) => r.headers.remove("Content-Length"),
        Message::Response(r) => r.headers.remove("Content-Length"),
    }
    m
}

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = parse(data) {
        let h = message.headers();
        let _ = (
            h.top_via(),
            h.from(),
            h.to(),
            h.cseq(),
            h.contacts(),
            h.content_length(),
        );
        let _ = h.get_all("Route");
        let wire = message.to_bytes();
        let again = match parse(&wire) {
            Ok(again) => again,
            Err(e) => panic!("re-parse failed: {e}\n{}", String::from_utf8_lossy(&wire)),
        };
        assert_eq!(
            without_content_length(&again),
            without_content_length(&message)
        );
    }
    if let Some(request) = salvage_for_reply(data) {
        let _ = Response::for_request(&request, 400, "Bad Request", Some("fuzz")).to_bytes();
    }
});
