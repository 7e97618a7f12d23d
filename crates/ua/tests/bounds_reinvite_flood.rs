//! Attack: a peer floods its own dialog with re-INVITEs and never ACKs our refusals. One
//! offer/answer is pending at a time (RFC 3261 §14.2): every other re-INVITE gets 500 with
//! Retry-After. The refused ones used to keep a server-transaction slot each for Timer H (32 s)
//! waiting for their ACK, so after ~31 of them every request for everybody got 503. Now a
//! transaction that only waits for an ACK never keeps a live request out.
mod common;
use common::*;
use ferrophone_ua::call::MediaOp;
use ferrophone_ua::message::Message;

#[test]
fn one_pending_reinvite_per_dialog_and_the_flood_starves_nobody() {
    let (mut sim, id, tag) = answered_incoming(410, "rf-1", "");
    sim.take_sent();
    let answers_before = sim.media.iter().filter(|m| matches!(m.op, MediaOp::CreateAnswer { .. })).count();
    for i in 0..100u32 {
        sim.deliver(&in_dialog_from_bob("INVITE", "rf-1", &tag, 11 + i, &format!("z9hG4bKrf{i}"), Some(OFFER)));
    }
    let mut finals = std::collections::BTreeMap::new();
    for m in sim.take_sent() {
        if let Message::Response(r) = m {
            if r.status >= 200 {
                *finals.entry(r.status).or_insert(0u32) += 1;
                if r.status == 500 {
                    assert!(r.headers.get("Retry-After").is_some(), "500 carries Retry-After");
                }
            }
        }
    }
    assert_eq!(finals.get(&503), None, "no 503 during the flood: {finals:?}");
    assert_eq!(finals.get(&500), Some(&99), "every re-INVITE but the first is refused with 500: {finals:?}");
    let answers = sim.media.iter().filter(|m| matches!(m.op, MediaOp::CreateAnswer { .. })).count();
    assert_eq!(answers - answers_before, 1, "only one offer reaches the media side");

    // Somebody else is still served: an OPTIONS and a new call.
    let options = "OPTIONS sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 10.0.0.9;branch=z9hG4bKrfopt\r\nMax-Forwards: 70\r\nFrom: <sip:carol@y>;tag=c1\r\nTo: <sip:alice@y>\r\nCall-ID: rf-opt\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    sim.deliver(options.as_bytes());
    assert_eq!(sim.last_response().status, 200);
    sim.deliver(&incoming_invite("z9hG4bKrfnew", "rf-2", Some(OFFER), ""));
    let codes: Vec<u16> = sim.take_responses().iter().map(|r| r.status).collect();
    assert_eq!(codes, vec![100, 180], "a new call still rings");

    // The pending re-INVITE completes normally; the call is intact.
    sim.answer_media(ANSWER);
    assert!(sim.take_responses().iter().any(|r| r.status == 200 && r.headers.cseq().unwrap().seq == 11));
    assert!(sim.ua.call(&id).is_some_and(|c| c.state == ferrophone_ua::call::CallState::Active));
}
