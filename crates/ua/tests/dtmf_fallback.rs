//! RFC 4733 mode, but the media side cannot send the events (no telephone-event negotiated, or
//! only at a clock rate the browser cannot time): the digits go out as SIP INFO instead, in order,
//! one at a time; nothing happens for a call that is gone or not established.
mod common;
use common::*;
use ferrophone_ua::call::{MediaOp, MediaRequest};
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::{Message, Method, Response};
use ferrophone_ua::Input;

#[test]
fn media_unavailable_falls_back_to_info() {
    let (mut sim, _reg) = registered_sim(120);
    let settings = Settings { dtmf_mode: "rfc4733".into(), ..Settings::default() };
    sim.input(Input::Configure { account: Some(account("wss://sip.example.com/ws", "alice", "alicepw")), settings });
    let (id, _tag) = answer_incoming(&mut sim, "df-1", "");
    sim.ua.send_dtmf(sim.now, &id, "1#*").unwrap();
    sim.pump();
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Dtmf("1#*".into())));
    assert!(sim.take_sent().is_empty(), "nothing on the SIP side yet");

    // The offscreen document refuses: telephone-event/8000 with Opus.
    let request = sim.media_requests().into_iter().rev().find(|m| m.op == MediaOp::Dtmf("1#*".into())).unwrap();
    sim.media_done(&request, Err("telephone-event is negotiated at 8000 Hz but opus runs at 48000 Hz".into()));
    sim.pump();
    let mut signals = vec![];
    for _ in 0..3 {
        let info = sim.take_request();
        assert_eq!(info.method, Method::Info);
        assert_eq!(info.headers.get("Content-Type"), Some("application/dtmf-relay"));
        let body = String::from_utf8(info.body.clone()).unwrap();
        signals.push(body.lines().next().unwrap().to_string());
        assert!(sim.take_sent().is_empty(), "one INFO at a time");
        sim.deliver_response(&Response::for_request(&info, 200, "OK", None));
    }
    assert_eq!(signals, vec!["Signal=1", "Signal=#", "Signal=*"]);
    assert!(sim.take_sent().is_empty());
}

#[test]
fn no_fallback_for_an_unknown_or_ended_call() {
    let (mut sim, _reg) = registered_sim(121);
    let (id, _tag) = answer_incoming(&mut sim, "df-2", "");
    sim.media_done(&dtmf_request("no-such-call", "1"), Err("gone".into()));
    sim.pump();
    assert!(sim.take_sent().is_empty());
    sim.ua.hangup(sim.now, &id).unwrap();
    sim.pump();
    let bye = sim.take_request();
    assert_eq!(bye.method, Method::Bye);
    sim.deliver_response(&Response::for_request(&bye, 200, "OK", None));
    sim.media_done(&dtmf_request(&id, "1"), Err("closed".into()));
    sim.pump();
    let infos =
        sim.take_sent().into_iter().filter(|m| matches!(m, Message::Request(r) if r.method == Method::Info)).count();
    assert_eq!(infos, 0, "no INFO after the call ended");
}

/// A DTMF media request for `call` as the core would have emitted it.
fn dtmf_request(call: &str, digits: &str) -> MediaRequest {
    MediaRequest { call: call.to_string(), req: 1, op: MediaOp::Dtmf(digits.to_string()) }
}
