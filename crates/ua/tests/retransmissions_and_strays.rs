//! A retransmitted request is answered from its transaction (the TU sees it once); a stray
//! response changes nothing.
mod common;
use common::*;
use ferrophone_ua::message::{Message, Response};
use ferrophone_ua::RegistrationState;

const OPTIONS: &str = "OPTIONS sip:alice@abc.invalid;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS 10.0.0.1:8443;branch=z9hG4bKretx1\r\nMax-Forwards: 69\r\nFrom: <sip:probe@example.com>;tag=p1\r\nTo: <sip:alice@example.com>\r\nCall-ID: retx-1\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n";

#[test]
fn retransmitted_options_gets_the_same_answer() {
    let (mut sim, _reg) = registered_sim(16);
    sim.take_sent();
    sim.deliver(OPTIONS.as_bytes());
    let first = sim.take_sent();
    assert_eq!(first.len(), 1);
    sim.deliver(OPTIONS.as_bytes());
    let second = sim.take_sent();
    assert_eq!(second, first, "the retransmission is answered with the identical response");
    let Message::Response(r) = &first[0] else { panic!() };
    assert_eq!(r.status, 200);
}

#[test]
fn stray_response_is_dropped() {
    let (mut sim, _reg) = registered_sim(17);
    let status_before = sim.ua.status(sim.now);
    let mut h = ferrophone_ua::message::Headers::new();
    h.push("Via", "SIP/2.0/WSS abc.invalid;branch=z9hG4bKnobodyknows");
    h.push("From", "<sip:alice@example.com>;tag=x");
    h.push("To", "<sip:alice@example.com>;tag=y");
    h.push("Call-ID", "unknown");
    h.push("CSeq", "99 REGISTER");
    let stray = Response { status: 200, reason: "OK".into(), headers: h, body: vec![] };
    sim.take_sent();
    sim.deliver_response(&stray);
    assert!(sim.take_sent().is_empty());
    assert_eq!(sim.ua.status(sim.now), status_before);
    assert_eq!(sim.state(), RegistrationState::Registered);
    assert!(sim.logs.iter().any(|l| l.contains("stray")));
}

#[test]
fn late_duplicate_200_for_register_changes_nothing() {
    let (mut sim, mut reg) = registered_sim(18);
    // Re-deliver the last 200 OK (a retransmission through a proxy).
    let last = sim.last_request("REGISTER");
    let ok = reg.handle(&last);
    sim.take_sent();
    sim.deliver_response(&ok);
    assert!(sim.take_sent().is_empty());
    assert_eq!(sim.state(), RegistrationState::Registered);
}
