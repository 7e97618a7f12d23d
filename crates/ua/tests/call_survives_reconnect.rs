//! An established call survives a WebSocket drop: after reconnecting and registering again the
//! dialog is refreshed with a re-INVITE over the new flow. If the flow does not come back in
//! time, the call ends cleanly ("connection-lost") — no zombie call.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::message::{Method, Response};

fn active_outgoing(seed: u64) -> (Sim, Registrar, String) {
    let (mut sim, reg) = registered_sim(seed);
    let (id, invite) = dial_out(&mut sim, "bob");
    sim.deliver_response(&response_with_sdp(&invite, 200, "OK", "bobtag", Some(ANSWER)));
    sim.take_sent();
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
    (sim, reg, id)
}

#[test]
fn call_is_refreshed_over_the_new_flow() {
    let (mut sim, mut reg, id) = active_outgoing(100);
    sim.drop_flow();
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active, "media goes on meanwhile");
    assert!(!sim.has_media_op(&id, |op| *op == MediaOp::Close));
    sim.advance(1_000);
    sim.open();
    serve_registers(&mut sim, &mut reg);
    // The re-INVITE needs a fresh offer from the media side first.
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Reoffer { direction: "sendrecv", ice_restart: false }));
    sim.answer_media(OFFER);
    let reinvite = sim.take_request_of(Method::Invite);
    assert_eq!(reinvite.headers.to().unwrap().tag(), Some("bobtag"));
    let mut ok = Response::for_request(&reinvite, 200, "OK", None);
    ok.headers.push("Content-Type", "application/sdp");
    ok.body = ANSWER.as_bytes().to_vec();
    sim.deliver_response(&ok);
    assert_eq!(sim.take_request().method, Method::Ack);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
    // Well past the recovery window: the call is still up.
    for _ in 0..6 {
        sim.advance(10_000);
        sim.deliver(b"\r\n");
    }
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
}

#[test]
fn call_ends_cleanly_when_the_flow_does_not_come_back() {
    let (mut sim, _reg, id) = active_outgoing(101);
    sim.drop_flow();
    // Every reconnect attempt fails.
    for _ in 0..40 {
        sim.advance(1_000);
        if sim.connects.len() > 1 && !sim.connected {
            sim.input(ferrophone_ua::Input::Disconnected { reason: "refused".into() });
        }
    }
    let c = sim.ua.call(&id).unwrap();
    assert_eq!((c.state, c.end_reason.map(|r| r.to_string()).as_deref()), (CallState::Ended, Some("connection-lost")));
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Close), "microphone released");
    assert!(sim.ua.calls().is_empty());
    // The server comes back: the far end learns the call is over (BYE on the new flow).
    let mut reg = Registrar::new();
    let attempts = sim.connects.len();
    while sim.connects.len() == attempts {
        sim.advance(100);
    }
    sim.open();
    serve_registers(&mut sim, &mut reg);
    let byes = sim.requests_with_method("BYE");
    assert_eq!(byes.len(), 1, "exactly one BYE, sent once a flow exists");
    assert_eq!(byes[0].headers.to().unwrap().tag(), Some("bobtag"));
}

#[test]
fn a_ringing_incoming_call_is_lost_with_the_flow() {
    let (mut sim, _reg) = registered_sim(102);
    sim.deliver(&incoming_invite("z9hG4bKlost", "lost-1", Some(OFFER), ""));
    let id = sim.last_call_event().id;
    sim.drop_flow();
    assert_eq!(sim.ua.call(&id).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("connection-lost"));
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::StopRing));
}

/// While a call waits to be refreshed, reconnect attempts stay at most 3 s apart, so a server
/// that is back within the 30 s window is found in time.
#[test]
fn reconnects_often_while_a_call_waits() {
    let (mut sim, _reg, _id) = active_outgoing(103);
    sim.drop_flow();
    let mut last = sim.now;
    for _ in 0..8 {
        let n = sim.connects.len();
        while sim.connects.len() == n {
            sim.advance(50);
        }
        let at = sim.connects.last().unwrap().0;
        assert!(at - last <= 3_050, "connect attempts {} ms apart", at - last);
        // The attempt fails at once (connection refused).
        sim.input(ferrophone_ua::Input::Disconnected { reason: "refused".into() });
        last = sim.now;
        assert!(sim.ua.status(sim.now).connection.retry_in.unwrap_or(0) <= 3);
    }
}

/// A refresh re-INVITE the far end refuses (488) still proves the dialog alive over the new flow:
/// the call is not ended when the recovery window closes.
#[test]
fn a_refused_refresh_still_recovers_the_call() {
    let (mut sim, mut reg, id) = active_outgoing(104);
    sim.drop_flow();
    sim.advance(1_000);
    sim.open();
    serve_registers(&mut sim, &mut reg);
    sim.answer_media(OFFER);
    let reinvite = sim.take_request_of(Method::Invite);
    sim.deliver_response(&Response::for_request(&reinvite, 488, "Not Acceptable Here", None));
    for _ in 0..4 {
        sim.advance(10_000);
        sim.deliver(b"\r\n");
    }
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
}
