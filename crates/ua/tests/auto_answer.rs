//! Server-requested automatic answer: each dialect answers after the requested delay without
//! ringing; the `never` policy rings instead; RFC 5373 `;require` refused with 403 under `never`.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::Response;
use ferrophone_ua::Input;

/// Deliver an INVITE with `header`; return (ms until the 200 went out, whether it rang).
fn answer_delay(header: &str, policy: &str) -> (Option<u64>, bool, Option<Response>) {
    let (mut sim, _reg) = registered_sim(80);
    let settings = Settings { auto_answer: policy.into(), ..Settings::default() };
    sim.input(Input::Configure { account: Some(account("wss://sip.example.com/ws", "alice", "alicepw")), settings });
    sim.take_sent();
    let t0 = sim.now;
    sim.deliver(&incoming_invite("z9hG4bKaa", "aa-1", Some(OFFER), &format!("{header}\r\n")));
    let id = sim.last_call_event().id;
    let rang = sim.has_media_op(&id, |op| *op == MediaOp::StartRing);
    let mut ok = None;
    for _ in 0..100 {
        if let Some(m) = sim.media.iter().rev().find(|m| m.call == id && m.op.wants_sdp()).cloned() {
            if sim.ua.call(&id).is_some_and(|c| c.state == CallState::Ringing) {
                sim.media_done(&m, Ok(Some(ANSWER.into())));
                sim.pump();
            }
        }
        if let Some(r) = sim.take_responses().into_iter().find(|r| r.status == 200) {
            ok = Some(r);
            break;
        }
        sim.advance(100);
    }
    let at = ok.as_ref().map(|_| sim.now - t0);
    (at, rang, ok)
}

#[test]
fn every_dialect_answers_within_the_requested_delay() {
    for (header, want_ms) in [
        ("Call-Info: <sip:127.0.0.1>;answer-after=0", 0),
        ("Call-Info: <sip:127.0.0.1>;answer-after=2", 2000),
        ("Call-Info: <sip:127.0.0.1>;answerAfter=1", 1000),
        ("Alert-Info: <http://127.0.0.1/x>;info=alert-autoanswer", 0),
        ("Alert-Info: info=alert-autoanswer", 0),
        ("Alert-Info: Auto Answer", 0),
        ("Alert-Info: ;info=auto answer", 0),
        ("Alert-Info: <http://127.0.0.1/x>;info=alert-autoanswer;delay=1", 1000),
        ("Alert-Info: <http://127.0.0.1/x>;answer-after=2", 2000),
        ("Answer-Mode: Auto", 0),
        ("Priv-Answer-Mode: Auto;require", 0),
    ] {
        let (at, rang, ok) = answer_delay(header, "headers");
        let at = at.unwrap_or_else(|| panic!("{header}: never answered"));
        assert!(at >= want_ms && at <= want_ms + 300, "{header}: answered after {at} ms, wanted {want_ms}");
        assert!(!rang, "{header}: an automatically answered call does not ring");
        if header.contains("Answer-Mode") {
            let ok = ok.unwrap();
            let name = if header.starts_with("Priv") { "Priv-Answer-Mode" } else { "Answer-Mode" };
            assert_eq!(ok.headers.get(name), Some("Auto"), "RFC 5373: the 200 says how it was answered");
        }
    }
}

#[test]
fn never_policy_rings_instead() {
    let (at, rang, _) = answer_delay("Call-Info: <sip:127.0.0.1>;answer-after=0", "never");
    assert_eq!(at, None);
    assert!(rang);
}

#[test]
fn no_header_rings_and_always_policy_answers() {
    let (at, rang, _) = answer_delay("X-Nothing: 1", "headers");
    assert_eq!(at, None);
    assert!(rang);
    let (at, rang, _) = answer_delay("X-Nothing: 1", "always");
    assert_eq!(at, Some(0));
    assert!(!rang);
}

#[test]
fn required_auto_answer_refused_under_never_with_403() {
    let (mut sim, _reg) = registered_sim(81);
    let settings = Settings { auto_answer: "never".into(), ..Settings::default() };
    sim.input(Input::Configure { account: Some(account("wss://sip.example.com/ws", "alice", "alicepw")), settings });
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKreq", "req-1", Some(OFFER), "Answer-Mode: Auto;require\r\n"));
    assert_eq!(sim.take_responses().last().unwrap().status, 403);
    assert!(sim.ua.calls().is_empty());
}
