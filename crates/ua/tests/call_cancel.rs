//! Hanging up an outgoing call before it is answered: CANCEL (only after a provisional response,
//! RFC 3261 §9.1), 487 ends it; a 200 that crosses the CANCEL is ACKed and then BYEd.
mod common;
use common::*;
use ferrophone_ua::call::CallState;
use ferrophone_ua::message::{Method, Response};

#[test]
fn cancel_waits_for_a_provisional_response() {
    let (mut sim, _reg) = registered_sim(60);
    let (id, invite) = dial_out(&mut sim, "bob");
    sim.ua.hangup(sim.now, &id).unwrap();
    sim.pump();
    assert!(sim.take_sent().is_empty(), "no CANCEL before a provisional response");
    sim.deliver_response(&response_with_sdp(&invite, 180, "Ringing", "bobtag", None));
    let cancel = sim.take_request();
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(cancel.headers.top_via().unwrap().branch(), invite.headers.top_via().unwrap().branch());
    assert_eq!(cancel.headers.cseq().unwrap().seq, invite.headers.cseq().unwrap().seq);
    assert_eq!(cancel.uri, invite.uri);
    sim.deliver_response(&Response::for_request(&cancel, 200, "OK", None));
    sim.deliver_response(&Response::for_request(&invite, 487, "Request Terminated", Some("bobtag")));
    let ack = sim.take_request();
    assert_eq!(ack.method, Method::Ack);
    let end = sim.last_call_event();
    assert_eq!((end.state, end.end_reason.map(|r| r.to_string()).as_deref()), (CallState::Ended, Some("cancelled")));
}

#[test]
fn cancel_right_after_ringing() {
    let (mut sim, id, _invite) = ringing_out(61);
    sim.ua.hangup(sim.now, &id).unwrap();
    sim.pump();
    assert_eq!(sim.take_request().method, Method::Cancel);
}

#[test]
fn a_200_crossing_the_cancel_is_acked_then_byed() {
    let (mut sim, id, invite) = ringing_out(62);
    sim.ua.hangup(sim.now, &id).unwrap();
    sim.pump();
    sim.take_sent();
    sim.deliver_response(&response_with_sdp(&invite, 200, "OK", "bobtag", Some(ANSWER)));
    let methods: Vec<Method> = sim
        .take_sent()
        .into_iter()
        .filter_map(|m| match m {
            ferrophone_ua::message::Message::Request(r) => Some(r.method),
            _ => None,
        })
        .collect();
    assert_eq!(methods, vec![Method::Ack, Method::Bye]);
    assert_eq!(sim.last_call_event().state, CallState::Ended);
}

#[test]
fn hangup_while_preparing_the_offer_sends_nothing() {
    let (mut sim, _reg) = registered_sim(63);
    let id = sim.ua.dial(sim.now, "bob").unwrap().id;
    sim.pump();
    sim.take_sent();
    sim.ua.hangup(sim.now, &id).unwrap();
    sim.pump();
    // The late offer is ignored.
    sim.answer_media(OFFER);
    assert!(sim.take_sent().is_empty());
    assert_eq!(sim.last_call_event().end_reason.map(|r| r.to_string()).as_deref(), Some("cancelled"));
}

/// Hanging up releases the microphone and reports `ended` at once, even if the far end's 487
/// never arrives in a usable form; a second hangup is refused instead of sending another CANCEL.
#[test]
fn hangup_ends_for_the_user_before_the_487() {
    let (mut sim, id, invite) = ringing_out(64);
    sim.ua.hangup(sim.now, &id).unwrap();
    sim.pump();
    assert_eq!(sim.take_request().method, Method::Cancel);
    let end = sim.last_call_event();
    assert_eq!((end.state, end.end_reason.map(|r| r.to_string()).as_deref()), (CallState::Ended, Some("cancelled")));
    assert!(sim.has_media_op(&id, |op| *op == ferrophone_ua::call::MediaOp::Close));
    assert!(sim.ua.calls().is_empty());
    assert!(sim.ua.hangup(sim.now, &id).is_err());
    assert!(sim.take_sent().is_empty(), "no second CANCEL");
    // The 487 arrives later: ACKed, no second `ended` event.
    let events = sim.call_events.len();
    sim.deliver_response(&Response::for_request(&invite, 487, "Request Terminated", Some("bobtag")));
    assert_eq!(sim.take_request().method, Method::Ack);
    assert_eq!(sim.call_events.len(), events);
}
