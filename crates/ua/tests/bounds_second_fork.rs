//! RFC 3261 §13.2.2.4: a 2xx from a second fork of our INVITE (another To tag) must be ACKed and
//! then ended with a BYE, and must not disturb the call established with the first fork. It used
//! to be "re-ACKed" with the first fork's ACK (wrong To tag) and left up at the far end.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::message::{Message, Method};

#[test]
fn a_second_forks_200_gets_ack_then_bye() {
    let (mut sim, _reg) = registered_sim(430);
    let (id, invite) = dial_out(&mut sim, "bob");
    sim.deliver_response(&response_with_sdp(&invite, 180, "Ringing", "forka", None));
    sim.deliver_response(&response_with_sdp(&invite, 200, "OK", "forka", Some(ANSWER)));
    let ack_a = sim.take_request_of(Method::Ack);
    assert_eq!(ack_a.headers.to().unwrap().tag(), Some("forka"));
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
    let media_before = sim.media.len();
    let events_before = sim.call_events.len();

    // Fork B answers too.
    let mut b = response_with_sdp(&invite, 200, "OK", "forkb", Some(ANSWER));
    b.headers.set("Contact", "<sip:bob2@10.0.0.3:5064>");
    sim.deliver_response(&b);
    let sent: Vec<_> = sim
        .take_sent()
        .into_iter()
        .filter_map(|m| match m {
            Message::Request(r) => Some(r),
            _ => None,
        })
        .collect();
    let methods: Vec<&str> = sent.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, vec!["ACK", "BYE"], "fork B: ACK then BYE");
    for r in &sent {
        assert_eq!(r.headers.to().unwrap().tag(), Some("forkb"), "{} goes to fork B", r.method);
        assert_eq!(r.headers.call_id(), invite.headers.call_id());
        assert_eq!(r.uri, "sip:bob2@10.0.0.3:5064", "{} goes to fork B's Contact", r.method);
    }
    assert_eq!(sent[0].headers.cseq().unwrap().seq, invite.headers.cseq().unwrap().seq);
    // The call with fork A is untouched: no media operation, no call event, still active.
    assert_eq!(sim.media.len(), media_before, "no media op for fork B");
    assert!(!sim.media[media_before..].iter().any(|m| matches!(m.op, MediaOp::ApplyAnswer { .. })));
    assert_eq!(sim.call_events.len(), events_before);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
    // Fork B's BYE answered; a retransmitted 200 from A is still re-ACKed towards A.
    let bye_b = sent[1].clone();
    sim.deliver_response(&ferrophone_ua::message::Response::for_request(&bye_b, 200, "OK", None));
    sim.deliver_response(&response_with_sdp(&invite, 200, "OK", "forka", Some(ANSWER)));
    let again = sim.take_request_of(Method::Ack);
    assert_eq!(again.headers.to().unwrap().tag(), Some("forka"));
    // Hanging up ends the call with fork A.
    sim.ua.hangup(sim.now, &id).unwrap();
    sim.pump();
    let bye = sim.take_request_of(Method::Bye);
    assert_eq!(bye.headers.to().unwrap().tag(), Some("forka"));
}
