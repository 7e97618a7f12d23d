//! Attack: a caller answers its own call. Through a proxy (Kamailio, OpenSIPS) a caller's own
//! `Call-Info: <…>;answer-after=0` and its in-dialog `NOTIFY Event: talk` reach us unchanged, so
//! "the server asked" cannot be told from "the caller asked". Server control of the phone is
//! therefore off by default (`autoAnswer: "never"`): such a call keeps ringing, the NOTIFY is
//! refused, and the microphone is never asked for.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::Message;

fn notify(call_id: &str, tag: &str, cseq: u32, event: &str) -> Vec<u8> {
    String::from_utf8(in_dialog_from_bob("NOTIFY", call_id, tag, cseq, &format!("z9hG4bKcn{cseq}"), None))
        .unwrap()
        .replacen("Content-Length: 0", &format!("Event: {event}\r\nContent-Length: 0"), 1)
        .into_bytes()
}

fn no_answer(sim: &mut Sim, id: &str) {
    assert!(sim.sent.iter().all(|m| !matches!(m, Message::Response(r) if r.status == 200 && r.headers.cseq().is_some_and(|c| c.method.as_str() == "INVITE"))), "no 200 to the INVITE");
    assert!(
        sim.media_requests().iter().all(|m| !matches!(m.op, MediaOp::CreateAnswer { .. } | MediaOp::CreateOffer)),
        "the microphone side was never asked for an answer"
    );
    let c = sim.ua.call(id).unwrap();
    assert_eq!(c.state, CallState::Ringing);
    assert!(!c.auto_answer);
}

#[test]
fn default_policy_is_never() {
    assert_eq!(Settings::default().auto_answer, "never");
    // An unknown value falls back to the safe one too.
    let s = Settings { auto_answer: "sometimes".into(), ..Settings::default() }.normalized();
    assert_eq!(s.auto_answer, "never");
}

#[test]
fn callers_answer_after_header_rings_under_the_default() {
    let (mut sim, _reg) = registered_sim(1221);
    sim.take_sent();
    sim.deliver(&incoming_invite(
        "z9hG4bKca1",
        "own-answer-1",
        Some(OFFER),
        "Call-Info: <sip:127.0.0.1>;answer-after=0\r\nAlert-Info: <http://x>;info=alert-autoanswer\r\n",
    ));
    let id = sim.last_call_event().id;
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::StartRing), "it rings");
    sim.advance(5_000);
    no_answer(&mut sim, &id);
}

#[test]
fn callers_notify_talk_is_refused_under_the_default() {
    let (mut sim, _reg) = registered_sim(1222);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKca2", "own-answer-2", Some(OFFER), ""));
    let ringing = sim.take_responses().into_iter().find(|r| r.status == 180).unwrap();
    // We do not advertise remote control we do not honour.
    assert_eq!(ringing.headers.get("Allow-Events"), Some("refer"));
    let tag = ringing.headers.to().unwrap().tag().unwrap().to_string();
    let id = sim.last_call_event().id;
    sim.deliver(&notify("own-answer-2", &tag, 11, "talk"));
    let r = sim.last_response();
    assert_eq!(r.status, 403, "NOTIFY talk refused");
    sim.deliver(&notify("own-answer-2", &tag, 12, "hold"));
    assert_eq!(sim.last_response().status, 403, "NOTIFY hold refused");
    sim.advance(5_000);
    no_answer(&mut sim, &id);
    // The user can still answer it.
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    assert!(sim.has_media_op(&id, |op| matches!(op, MediaOp::CreateAnswer { .. })));
}

#[test]
fn notify_hold_on_an_answered_call_is_refused_under_the_default() {
    let (mut sim, _id, tag) = answered_incoming(1223, "own-answer-3", "");
    sim.take_sent();
    sim.deliver(&notify("own-answer-3", &tag, 11, "hold"));
    assert_eq!(sim.last_response().status, 403);
    assert!(sim.sent.iter().all(|m| !matches!(m, Message::Request(r) if r.method.as_str() == "INVITE" && r.headers.to().and_then(|t| t.tag().map(str::to_string)).is_some())), "no hold re-INVITE");
}

#[test]
fn the_register_advertises_remote_control_only_when_turned_on() {
    let (sim, _reg) = registered_sim(1224);
    assert_eq!(sim.last_request("REGISTER").headers.get("Allow-Events"), Some("refer"));
    let (sim, _reg) = registered_sim_with(1225, Settings { auto_answer: "headers".into(), ..Settings::default() });
    assert_eq!(sim.last_request("REGISTER").headers.get("Allow-Events"), Some("talk, hold, refer"));
}
