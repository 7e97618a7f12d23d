//! Attended transfer, after the transferee reports success (NOTIFY sipfrag 200): we end the
//! transferred call (BYE, "transferred") and, if the target did not end the replaced call itself
//! (a target that ignores Replaces), that one too; if the target did end it, no second BYE.
mod common;
use common::*;
use ferrophone_ua::call::CallState;
use ferrophone_ua::message::{Method, Request, Response};

/// bob's call A (incoming, answered), carol's call B (outgoing, answered), REFER A with Replaces=B
/// accepted 202. Returns (sim, a, bob's tag for A, b, carol's INVITE for B).
fn two_calls_and_refer(seed: u64, call_id: &str) -> (Sim, String, String, String, Request) {
    let (mut sim, a, tag, b, invite) = bob_and_carol(seed, call_id);
    sim.ua.transfer_attended(sim.now, &a, &b).unwrap();
    sim.pump();
    let refer = sim.take_request();
    assert_eq!(refer.method, Method::Refer);
    sim.deliver_response(&Response::for_request(&refer, 202, "Accepted", None));
    sim.deliver(&notify_sipfrag(call_id, &tag, 11, "SIP/2.0 100 Trying\r\n"));
    sim.take_sent();
    (sim, a, tag, b, invite)
}

#[test]
fn target_ignoring_replaces_leaves_nothing_up() {
    let (mut sim, a, tag, b, invite_b) = two_calls_and_refer(140, "ta-1");
    sim.deliver(&notify_sipfrag("ta-1", &tag, 12, "SIP/2.0 200 OK\r\n"));
    let byes: Vec<String> =
        sim.requests_with_method("BYE").iter().map(|r| r.headers.call_id().unwrap().to_string()).collect();
    assert_eq!(byes.len(), 2, "BYE for both calls: {byes:?}");
    assert!(byes.contains(&"ta-1".to_string()));
    assert!(byes.contains(&invite_b.headers.call_id().unwrap().to_string()));
    assert_eq!(sim.ua.call(&a).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("transferred"));
    assert_eq!(sim.ua.call(&b).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("transferred"));
}

#[test]
fn target_that_replaced_the_call_gets_no_second_bye() {
    let (mut sim, a, tag, b, invite_b) = two_calls_and_refer(141, "ta-2");
    // The target honours Replaces: it ends call B itself (BYE from carol) before the NOTIFY 200.
    let our_tag = invite_b.headers.from().unwrap().tag().unwrap().to_string();
    let bye = format!(
        "BYE sip:alice@abc.invalid;transport=ws;ob SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKcarolbye\r\n\
         Max-Forwards: 69\r\nFrom: <sip:carol@sip.example.com>;tag=caroltag\r\nTo: <sip:carol@sip.example.com>;tag={our_tag}\r\n\
         Call-ID: {}\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n",
        invite_b.headers.call_id().unwrap()
    );
    sim.deliver(bye.as_bytes());
    assert_eq!(sim.ua.call(&b).map(|c| c.state), Some(CallState::Ended), "carol's BYE ended call B");
    sim.take_sent();
    sim.deliver(&notify_sipfrag("ta-2", &tag, 12, "SIP/2.0 200 OK\r\n"));
    let byes = sim.requests_with_method("BYE");
    assert_eq!(byes.len(), 1, "only call A gets our BYE");
    assert_eq!(byes[0].headers.call_id(), Some("ta-2"));
    assert_eq!(sim.ua.call(&a).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("transferred"));
}

#[test]
fn failed_attended_transfer_keeps_both_calls() {
    let (mut sim, a, tag, b, _) = two_calls_and_refer(142, "ta-3");
    sim.deliver(&notify_sipfrag("ta-3", &tag, 12, "SIP/2.0 486 Busy Here\r\n"));
    assert!(sim.requests_with_method("BYE").is_empty());
    assert_eq!(sim.ua.call(&a).unwrap().state, CallState::Active);
    assert_eq!(sim.ua.call(&b).unwrap().state, CallState::Active);
}
