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
    let byes = sim.requests_with_method("BYE");
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].headers.get("Reason"), Some("SIP;cause=408;text=\"Session expired\""));
    assert_eq!(sim.ua.call(&id).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("session-expired"));
}

#[test]
fn we_refresh_with_reinvite_when_the_peer_cannot() {
    // No `Supported: timer` from the peer: we must refresh (and it does not allow UPDATE).
    let (mut sim, id, _tag, ok) = answered(122, "Session-Expires: 120\r\n");
    assert_eq!(ok.headers.get("Session-Expires"), Some("120;refresher=uas"));
    assert_eq!(ok.headers.get("Require"), None);
    sim.take_sent();
    let negotiations = |sim: &Sim| {
        sim.media_requests().iter().filter(|m| m.op.wants_sdp() || matches!(m.op, MediaOp::ApplyAnswer { .. })).count()
    };
    let before = negotiations(&sim);
    sim.advance(61_000);
    let reinvite = sim.take_request();
    assert_eq!(reinvite.method, Method::Invite);
    assert_eq!(reinvite.headers.get("Session-Expires"), Some("120;refresher=uac"));
    assert_eq!(reinvite.body, ok.body, "a refresh re-INVITE offers the session we have, unchanged");
    // The far end's session is unchanged too (same o= version; a media relay may still have
    // rewritten it as an answer): nothing for the media side to do.
    let relayed = OFFER.replace("a=sendrecv", "a=sendrecv\r\na=setup:passive");
    sim.deliver_response(&response_with_sdp(&reinvite, 200, "OK", "bobtag", Some(&relayed)));
    assert_eq!(sim.take_request().method, Method::Ack);
    sim.advance(61_000);
    assert_eq!(sim.take_request().method, Method::Invite, "the next refresh starts 60 s later");
    assert_eq!(negotiations(&sim), before, "the refreshes never touched the media");
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
}

#[test]
fn refresh_answered_with_a_changed_session_is_renegotiated() {
    let (mut sim, id, _tag, _ok) = answered(124, "Session-Expires: 90;refresher=uas\r\nSupported: timer\r\n");
    sim.take_sent();
    sim.advance(45_000);
    let refresh = sim.take_request();
    assert_eq!(refresh.method, Method::Invite);
    // The far end answers with a new session version (it moved its media): the browser must learn it,
    // through a real offer/answer of its own.
    let moved = OFFER.replace("o=- 1 1", "o=- 1 2").replace("40000", "40002");
    sim.deliver_response(&response_with_sdp(&refresh, 200, "OK", "bobtag", Some(&moved)));
    assert_eq!(sim.take_request().method, Method::Ack);
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Reoffer { direction: "sendrecv", ice_restart: false }));
    let fresh = ANSWER.replace("o=- 2 2", "o=- 2 3").replace("a=sendrecv", "a=sendrecv\r\na=rtpmap:0 PCMU/8000");
    sim.answer_media(&fresh);
    let reinvite = sim.take_request();
    assert_eq!((reinvite.method.clone(), reinvite.body.clone()), (Method::Invite, fresh.as_bytes().to_vec()));
    sim.deliver_response(&response_with_sdp(&reinvite, 200, "OK", "bobtag", Some(&moved)));
    assert!(sim.has_media_op(&id, |op| matches!(op, MediaOp::ApplyAnswer { answer, .. } if *answer == moved)));
    // The next refresh offers the renegotiated session.
    sim.take_sent();
    sim.advance(45_000);
    assert_eq!(sim.take_request().body, fresh.as_bytes());
}

#[test]
fn unchanged_reoffer_is_answered_with_our_unchanged_sdp() {
    let (mut sim, id, tag, ok) = answered(125, "Session-Expires: 90;refresher=uas\r\nSupported: timer\r\n");
    // The far end refreshes with its SDP unchanged (same o= version); the browser answers the same
    // session with a new version number, which must not reach the far end as a change.
    let reinvite = String::from_utf8(in_dialog_from_bob("INVITE", "st-1", &tag, 11, "z9hG4bKstre", Some(OFFER)))
        .unwrap()
        .replacen("Content-Type", "Session-Expires: 90;refresher=uas\r\nSupported: timer\r\nContent-Type", 1);
    sim.deliver(reinvite.as_bytes());
    assert!(sim.has_media_op(&id, |op| matches!(op, MediaOp::CreateAnswer { offer } if offer == OFFER)));
    sim.answer_media(&ANSWER.replace("o=- 2 2", "o=- 2 3"));
    let r = sim.take_responses().into_iter().find(|r| r.status == 200).unwrap();
    assert_eq!(r.body, ok.body, "same session, same SDP, same version (RFC 3264 §8)");
    assert_eq!(r.headers.get("Session-Expires"), Some("90;refresher=uas"));
    // A real change keeps the browser's new version.
    sim.deliver(&in_dialog_from_bob("ACK", "st-1", &tag, 11, "z9hG4bKstreack", None));
    let held = OFFER.replace("o=- 1 1", "o=- 1 2").replace("a=sendrecv", "a=sendonly");
    sim.deliver(&in_dialog_from_bob("INVITE", "st-1", &tag, 12, "z9hG4bKsthold", Some(&held)));
    let recvonly = ANSWER.replace("o=- 2 2", "o=- 2 4").replace("a=sendrecv", "a=recvonly");
    sim.answer_media(&recvonly);
    let r = sim.take_responses().into_iter().find(|r| r.status == 200).unwrap();
    assert_eq!(r.body, recvonly.as_bytes());
}

#[test]
fn refresher_whose_refreshes_fail_hangs_up_before_the_session_expires() {
    let (mut sim, id, _tag, _ok) = answered(126, "Session-Expires: 90;refresher=uas\r\nSupported: timer\r\n");
    sim.take_sent();
    sim.advance(45_000);
    let refresh = sim.take_request();
    assert_eq!(refresh.method, Method::Invite);
    sim.deliver_response(&Response::for_request(&refresh, 500, "Server Internal Error", Some("bobtag")));
    assert_eq!(sim.take_request().method, Method::Ack);
    assert!(!sim.has_media_op(&id, |op| *op == MediaOp::Rollback), "no offer of the browser's to withdraw");
    sim.advance(14_000);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active, "still within the session");
    // 90 - min(32, 30) = 60 s after the last successful negotiation.
    sim.advance(1_000);
    let bye = sim.take_request();
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.headers.get("Reason"), Some("SIP;cause=408;text=\"Session expired\""));
    assert_eq!(sim.ua.call(&id).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("session-expired"));
}

#[test]
fn refresh_reinvite_in_glare_is_retried() {
    let (mut sim, id, _tag, _ok) = answered(127, "Session-Expires: 90;refresher=uas\r\nSupported: timer\r\n");
    sim.take_sent();
    sim.advance(45_000);
    let refresh = sim.take_request();
    sim.deliver_response(&Response::for_request(&refresh, 491, "Request Pending", Some("bobtag")));
    assert_eq!(sim.take_request().method, Method::Ack);
    sim.advance(2_000);
    let again = sim.take_request();
    assert_eq!(again.method, Method::Invite, "the refresh is tried again within 2 s (RFC 3261 §14.1)");
    assert_eq!(again.body, refresh.body);
    sim.deliver_response(&response_with_sdp(&again, 200, "OK", "bobtag", Some(OFFER)));
    sim.advance(40_000);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
}

#[test]
fn too_small_interval_without_timer_support_is_not_refused() {
    // RFC 4028 §9: only a UAC that supports timers may get a 422; we refresh for the others.
    let (mut sim, _reg) = registered_sim(128);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKst8", "st-8", Some(OFFER), "Session-Expires: 60\r\n"));
    assert!(sim.take_responses().iter().all(|r| r.status != 422));
    let id = sim.last_call_event().id;
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    sim.answer_media(ANSWER);
    let ok = sim.take_responses().into_iter().find(|r| r.status == 200).unwrap();
    assert_eq!(ok.headers.get("Session-Expires"), Some("90;refresher=uas"));
}

#[test]
fn peer_refresh_without_session_expires_keeps_the_timer() {
    let (mut sim, id, tag, _ok) = answered(129, "Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n");
    sim.advance(40_000);
    // An UPDATE that says nothing about the timer still refreshes the session, and our 200 states it.
    let up = String::from_utf8(in_dialog_from_bob("UPDATE", "st-1", &tag, 12, "z9hG4bKstup9", None)).unwrap().replacen(
        "Content-Length: 0",
        "Supported: timer\r\nContent-Length: 0",
        1,
    );
    sim.deliver(up.as_bytes());
    let r = sim.take_responses().pop().unwrap();
    assert_eq!((r.status, r.headers.get("Session-Expires")), (200, Some("90;refresher=uac")));
    assert_eq!(r.headers.get("Require"), Some("timer"));
    sim.advance(55_000);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active, "refreshed at 40 s: alive at 95 s");
    sim.advance(6_000);
    assert_eq!(sim.ua.call(&id).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("session-expired"));
}

#[test]
fn refresh_update_in_glare_is_retried_as_update() {
    let (mut sim, _id, _tag) = answered_incoming(
        130,
        "st-10",
        "Session-Expires: 90;refresher=uas\r\nSupported: timer\r\nAllow: INVITE, ACK, BYE, UPDATE\r\n",
    );
    sim.take_sent();
    sim.advance(45_000);
    let update = sim.take_request();
    assert_eq!(update.method, Method::Update);
    sim.deliver_response(&Response::for_request(&update, 491, "Request Pending", Some("bobtag")));
    sim.advance(2_000);
    assert_eq!(sim.take_request().method, Method::Update, "491 is glare, not a refusal of UPDATE");
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
