//! RFC 4028 session timers: we answer 422 to too-small intervals, echo the negotiated timer,
//! refresh when we are the refresher (UPDATE when allowed, else re-INVITE), and end the call when
//! the peer's refreshes stop.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::message::{Message, Method, Response};

/// Incoming call with `extra` headers, answered and ACKed. Returns (sim, id, our tag, the 200).
fn answered(seed: u64, extra: &str) -> (Sim, String, String, Response) {
    let (mut sim, _reg) = registered_sim(seed);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKst", "st-1", Some(OFFER), extra));
    let id = sim.last_call_event().id;
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    sim.answer_media(ANSWER);
    let ok = sim.take_responses().into_iter().find(|r| r.status == 200).unwrap();
    let tag = ok.headers.to().unwrap().tag().unwrap().to_string();
    sim.deliver(&in_dialog_from_bob("ACK", "st-1", &tag, 10, "z9hG4bKstack", None));
    (sim, id, tag, ok)
}

#[test]
fn too_small_interval_gets_422() {
    let (mut sim, _reg) = registered_sim(120);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKst0", "st-0", Some(OFFER), "Session-Expires: 60\r\nSupported: timer\r\n"));
    let r = sim.take_responses().pop().unwrap();
    assert_eq!(r.status, 422);
    assert_eq!(r.headers.get("Min-SE"), Some("90"));
    assert!(sim.ua.calls().is_empty());
}

#[test]
fn peer_refreshes_and_the_call_ends_when_it_stops() {
    let (mut sim, id, tag, ok) = answered(121, "Session-Expires: 120;refresher=uac\r\nSupported: timer\r\n");
    assert_eq!(ok.headers.get("Session-Expires"), Some("120;refresher=uac"));
    assert_eq!(ok.headers.get("Require"), Some("timer"));
    // The peer refreshes at 60 s with an UPDATE: the call goes on past 120 s.
    sim.advance(60_000);
    let up = String::from_utf8(in_dialog_from_bob("UPDATE", "st-1", &tag, 12, "z9hG4bKstup2", None)).unwrap().replacen(
        "Content-Length: 0",
        "Session-Expires: 120;refresher=uac\r\nSupported: timer\r\nContent-Length: 0",
        1,
    );
    sim.deliver(up.as_bytes());
    let r = sim.take_responses().pop().unwrap();
    assert_eq!((r.status, r.headers.get("Session-Expires")), (200, Some("120;refresher=uac")));
    sim.advance(80_000);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active, "refreshed at 60 s: alive at 140 s");
    // Then the refreshes stop: BYE before the session expires (120 - 32 = 88 s after the last).
    sim.advance(10_000);
    assert!(sim.requests_with_method("BYE").len() == 1);
    assert_eq!(sim.ua.call(&id).unwrap().end_reason.as_deref(), Some("session-expired"));
}

#[test]
fn we_refresh_with_reinvite_when_the_peer_cannot() {
    // No `Supported: timer` from the peer: we must refresh (and it does not allow UPDATE).
    let (mut sim, id, _tag, ok) = answered(122, "Session-Expires: 120\r\n");
    assert_eq!(ok.headers.get("Session-Expires"), Some("120;refresher=uas"));
    assert_eq!(ok.headers.get("Require"), None);
    sim.take_sent();
    sim.advance(61_000);
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Reoffer { direction: "sendrecv", ice_restart: false }));
    sim.answer_media(OFFER);
    let reinvite = sim.take_request();
    assert_eq!(reinvite.method, Method::Invite);
    assert_eq!(reinvite.headers.get("Session-Expires"), Some("120;refresher=uac"));
    sim.deliver_response(&Response::for_request(&reinvite, 200, "OK", None));
    assert_eq!(sim.take_request().method, Method::Ack);
    let offers = sim.media_requests().iter().filter(|m| m.op.wants_sdp()).count();
    sim.advance(61_000);
    let after = sim.media_requests().iter().filter(|m| m.op.wants_sdp()).count();
    assert_eq!(after, offers + 1, "the next refresh starts 60 s later");
}

#[test]
fn outgoing_call_follows_422_and_refreshes_with_update() {
    let (mut sim, _reg) = registered_sim(123);
    let id = sim.ua.dial(sim.now, "bob").unwrap().id;
    sim.pump();
    sim.answer_media(OFFER);
    let invite = sim.take_request();
    assert_eq!(invite.headers.get("Session-Expires"), Some("1800"));
    assert_eq!(invite.headers.get("Min-SE"), Some("90"));
    let mut too_small = Response::for_request(&invite, 422, "Session Interval Too Small", Some("t"));
    too_small.headers.push("Min-SE", "3600");
    sim.deliver_response(&too_small);
    let again = sim
        .take_sent()
        .into_iter()
        .find_map(|m| match m {
            Message::Request(r) if r.method == Method::Invite => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(again.headers.get("Session-Expires"), Some("3600"));
    let mut ok = response_with_sdp(&again, 200, "OK", "bobtag", Some(ANSWER));
    ok.headers.push("Session-Expires", "120;refresher=uac");
    ok.headers.push("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE");
    sim.deliver_response(&ok);
    sim.take_sent();
    sim.advance(60_000);
    let update = sim.take_request();
    assert_eq!(update.method, Method::Update);
    assert_eq!(update.headers.get("Session-Expires"), Some("120;refresher=uac"));
    assert!(update.body.is_empty(), "a refresh UPDATE carries no SDP");
    let mut r = Response::for_request(&update, 200, "OK", None);
    r.headers.push("Session-Expires", "120;refresher=uac");
    sim.deliver_response(&r);
    sim.advance(60_000);
    assert_eq!(sim.requests_with_method("UPDATE").len(), 2);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
}
