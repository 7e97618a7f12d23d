//! In-dialog offers: the peer's re-INVITE (hold) and UPDATE are answered; our own hold/resume
//! re-INVITE; 491 on glare and the randomized retry.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::message::{Method, Response};

const HOLD_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=sendonly\r\n";

/// An answered incoming call; returns (sim, call id, our tag).
fn active_call(seed: u64) -> (Sim, String, String) {
    answered_incoming(seed, "ri-1", "")
}

#[test]
fn peer_reinvite_hold_is_answered() {
    let (mut sim, id, tag) = active_call(70);
    sim.deliver(&in_dialog_from_bob("INVITE", "ri-1", &tag, 11, "z9hG4bKre1", Some(HOLD_OFFER)));
    assert!(sim.has_media_op(&id, |op| matches!(op, MediaOp::CreateAnswer { offer } if offer == HOLD_OFFER)));
    sim.answer_media("v=0\r\nm=audio 1 RTP/AVP 0\r\na=recvonly\r\n");
    let r = sim.last_response();
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("recvonly"));
    sim.deliver(&in_dialog_from_bob("ACK", "ri-1", &tag, 11, "z9hG4bKre1ack", None));
    assert_eq!(sim.ua.calls()[0].state, CallState::Active);
}

#[test]
fn peer_update_is_answered() {
    let (mut sim, id, tag) = active_call(71);
    sim.deliver(&in_dialog_from_bob("UPDATE", "ri-1", &tag, 11, "z9hG4bKup1", Some(OFFER)));
    assert!(sim.has_media_op(&id, |op| matches!(op, MediaOp::CreateAnswer { .. })));
    sim.answer_media(ANSWER);
    assert_eq!(sim.last_response().status, 200);
    // UPDATE without SDP refreshes the session: plain 200.
    sim.deliver(&in_dialog_from_bob("UPDATE", "ri-1", &tag, 12, "z9hG4bKup2", None));
    assert_eq!(sim.last_response().status, 200);
}

#[test]
fn out_of_order_cseq_gets_500() {
    let (mut sim, _id, tag) = active_call(72);
    sim.deliver(&in_dialog_from_bob("INFO", "ri-1", &tag, 5, "z9hG4bKold", None));
    assert_eq!(sim.last_response().status, 500);
}

#[test]
fn our_hold_and_resume() {
    let (mut sim, id, tag) = active_call(73);
    sim.ua.hold(sim.now, &id).unwrap();
    sim.pump();
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Reoffer { direction: "sendonly", ice_restart: false }));
    sim.answer_media(HOLD_OFFER);
    let reinvite = sim.take_request();
    assert_eq!(reinvite.method, Method::Invite);
    assert_eq!(reinvite.headers.to().unwrap().tag(), Some("bobtag"));
    assert_eq!(reinvite.headers.from().unwrap().tag(), Some(tag.as_str()));
    assert_eq!(reinvite.uri, "sip:bob@127.0.0.1:5062", "remote target = bob's Contact");
    assert_eq!(reinvite.headers.get_all("Route").len(), 2);

    // Glare: bob re-INVITEs while ours is pending → 491 for him.
    sim.deliver(&in_dialog_from_bob("INVITE", "ri-1", &tag, 11, "z9hG4bKglare", Some(OFFER)));
    assert_eq!(sim.last_response().status, 491);

    let mut ok = Response::for_request(&reinvite, 200, "OK", None);
    ok.headers.push("Content-Type", "application/sdp");
    ok.body = b"v=0\r\nm=audio 1 RTP/AVP 0\r\na=recvonly\r\n".to_vec();
    sim.deliver_response(&ok);
    assert_eq!(sim.take_request().method, Method::Ack);
    assert_eq!(sim.ua.calls()[0].state, CallState::Held);

    sim.ua.resume(sim.now, &id).unwrap();
    sim.pump();
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Reoffer { direction: "sendrecv", ice_restart: false }));
    sim.answer_media(OFFER);
    let re2 = sim.take_request();
    sim.deliver_response(&Response::for_request(&re2, 200, "OK", None));
    assert_eq!(sim.ua.calls()[0].state, CallState::Active);
}

#[test]
fn our_reinvite_refused_with_491_is_retried() {
    let (mut sim, id, _tag) = active_call(74);
    sim.ua.hold(sim.now, &id).unwrap();
    sim.pump();
    sim.answer_media(HOLD_OFFER);
    let reinvite = sim.take_request();
    sim.deliver_response(&Response::for_request(&reinvite, 491, "Request Pending", None));
    assert_eq!(sim.take_request().method, Method::Ack);
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Rollback));
    let offers_before = sim.media_requests().iter().filter(|m| m.op.wants_sdp()).count();
    // We did not send the initial INVITE (incoming call): retry within 0–2 s.
    sim.advance(2_000);
    let offers_after = sim.media_requests().iter().filter(|m| m.op.wants_sdp()).count();
    assert_eq!(offers_after, offers_before + 1, "a new hold offer is requested");
}
