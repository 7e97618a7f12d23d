//! DTMF both ways: RFC 4733 through the media side (default), SIP INFO `application/dtmf-relay`
//! one digit at a time when configured; INFO digits from the far end become events.
mod common;
use common::*;
use ferrophone_ua::call::{CallError, MediaOp};
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::{Method, Response};
use ferrophone_ua::Input;

fn active_call(seed: u64, dtmf_mode: &str) -> (Sim, String, String) {
    let (mut sim, _reg) = registered_sim(seed);
    let settings = Settings { dtmf_mode: dtmf_mode.into(), ..Settings::default() };
    sim.input(Input::Configure { account: Some(account("wss://sip.example.com/ws", "alice", "alicepw")), settings });
    let (id, tag) = answer_incoming(&mut sim, "dt-1", "");
    (sim, id, tag)
}

#[test]
fn rfc4733_goes_to_the_media_side() {
    let (mut sim, id, _) = active_call(110, "rfc4733");
    sim.ua.send_dtmf(sim.now, &id, "123#*").unwrap();
    sim.pump();
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Dtmf("123#*".into())));
    assert!(sim.take_sent().is_empty(), "no SIP for RFC 4733");
}

#[test]
fn invalid_digits_are_refused_and_nothing_is_sent() {
    for mode in ["rfc4733", "info"] {
        let (mut sim, id, _) = active_call(113, mode);
        let refused = |sim: &mut Sim, digits: &str| match sim.ua.send_dtmf(sim.now, &id, digits) {
            Err(e @ CallError::InvalidDigits(_)) => {
                assert_eq!(e.code(), "invalid-digits");
                e.to_string()
            }
            other => panic!("{mode}: {digits:?} gave {other:?}"),
        };
        assert_eq!(refused(&mut sim, "12x"), "'x' is not a DTMF digit: use 0-9, *, #, A-D");
        assert_eq!(refused(&mut sim, "1,2"), "',' is not a DTMF digit: use 0-9, *, #, A-D");
        assert_eq!(refused(&mut sim, "1\u{7}"), "'\\u{7}' is not a DTMF digit: use 0-9, *, #, A-D");
        assert_eq!(refused(&mut sim, " "), "no DTMF digits to send: use 0-9, *, #, A-D");
        assert_eq!(refused(&mut sim, &"1".repeat(65)), "too many DTMF digits at once (64 at most)");
        // The digits are checked before the call: a bad argument is named as such.
        assert!(matches!(sim.ua.send_dtmf(sim.now, "nope", "1"), Err(CallError::NoSuchCall)));
        assert!(matches!(sim.ua.send_dtmf(sim.now, "nope", "x"), Err(CallError::InvalidDigits(_))));
        sim.pump();
        assert!(!sim.has_media_op(&id, |op| matches!(op, MediaOp::Dtmf(_))), "{mode}: nothing for the media side");
        assert!(sim.take_sent().is_empty(), "{mode}: no SIP sent");
        // Lower case and spaces are fine.
        sim.ua.send_dtmf(sim.now, &id, " 1 a ").unwrap();
    }
}

#[test]
fn info_digits_waiting_to_be_sent_are_bounded() {
    let (mut sim, id, _) = active_call(114, "info");
    sim.ua.send_dtmf(sim.now, &id, &"1".repeat(64)).unwrap();
    sim.pump();
    let first = sim.take_request(); // in flight, unanswered: 63 digits wait
    assert_eq!(first.method, Method::Info);
    sim.ua.send_dtmf(sim.now, &id, "2").unwrap();
    match sim.ua.send_dtmf(sim.now, &id, "3") {
        Err(e @ CallError::WrongState(_)) => assert_eq!(e.code(), "wrong-state"),
        other => panic!("a 65th waiting digit gave {other:?}"),
    }
    sim.deliver_response(&Response::for_request(&first, 200, "OK", None));
    sim.ua.send_dtmf(sim.now, &id, "3").unwrap();
}

#[test]
fn info_mode_sends_one_info_per_digit_in_order() {
    let (mut sim, id, _) = active_call(111, "info");
    sim.ua.send_dtmf(sim.now, &id, "12#").unwrap();
    sim.pump();
    let mut sent = vec![];
    for _ in 0..3 {
        let info = sim.take_request();
        assert_eq!(info.method, Method::Info);
        assert_eq!(info.headers.get("Content-Type"), Some("application/dtmf-relay"));
        let body = String::from_utf8(info.body.clone()).unwrap();
        sent.push(body.lines().next().unwrap().to_string());
        sim.deliver_response(&Response::for_request(&info, 200, "OK", None));
    }
    assert_eq!(sent, vec!["Signal=1", "Signal=2", "Signal=#"]);
    assert!(sim.take_sent().is_empty());
}

#[test]
fn incoming_info_dtmf_is_reported() {
    let (mut sim, id, tag) = active_call(112, "rfc4733");
    let info = String::from_utf8(in_dialog_from_bob("INFO", "dt-1", &tag, 11, "z9hG4bKinfo", None)).unwrap().replacen(
        "Content-Length: 0\r\n\r\n",
        "Content-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n",
        1,
    );
    sim.deliver(info.as_bytes());
    assert_eq!(sim.dtmf, vec![(id, '5')]);
}
