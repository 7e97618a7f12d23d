//! Requests the UA does not handle: OPTIONS → 200 with Allow/Accept/Supported; unknown
//! methods → 501 with Allow; known but unsupported → 405; stray in-dialog requests → 481.
mod common;
use common::*;
use ferrophone_ua::message::{Message, Response};

fn ask(sim: &mut Sim, method: &str, to_tag: bool) -> Response {
    let tt = if to_tag { ";tag=zz" } else { "" };
    let m = format!("{method} sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 10.0.0.1;branch=z9hG4bK{method}1\r\nMax-Forwards: 70\r\nFrom: <sip:x@y>;tag=a\r\nTo: <sip:alice@y>{tt}\r\nCall-ID: q-{method}\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n");
    sim.take_sent();
    sim.deliver(m.as_bytes());
    let sent = sim.take_sent();
    assert_eq!(sent.len(), 1, "{method}: {sent:?}");
    match sent.into_iter().next().unwrap() {
        Message::Response(r) => r,
        m => panic!("{m:?}"),
    }
}

#[test]
fn options_is_answered_with_capabilities() {
    let (mut sim, _) = registered_sim(29);
    let r = ask(&mut sim, "OPTIONS", false);
    assert_eq!(r.status, 200);
    assert!(r.headers.get("Allow").unwrap().contains("INVITE"));
    assert_eq!(r.headers.get("Accept"), Some("application/sdp"));
    assert!(r.headers.get("Supported").unwrap().contains("outbound"));
    assert!(r.headers.to().unwrap().tag().is_some());
}

#[test]
fn unknown_method_is_501_with_allow() {
    let (mut sim, _) = registered_sim(30);
    let r = ask(&mut sim, "FOOBAR", false);
    assert_eq!(r.status, 501);
    assert!(r.headers.get("Allow").is_some());
}

#[test]
fn unsupported_known_method_is_405_with_allow() {
    let (mut sim, _) = registered_sim(31);
    for m in ["SUBSCRIBE", "PUBLISH", "REGISTER", "MESSAGE"] {
        let r = ask(&mut sim, m, false);
        assert_eq!(r.status, 405, "{m}");
        assert!(r.headers.get("Allow").is_some());
    }
}

#[test]
fn in_dialog_request_for_unknown_dialog_is_481() {
    let (mut sim, _) = registered_sim(32);
    let r = ask(&mut sim, "BYE", true);
    assert_eq!(r.status, 481);
}
