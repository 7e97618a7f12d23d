//! DTMF both ways: RFC 4733 through the media side (default), SIP INFO `application/dtmf-relay`
//! one digit at a time when configured; INFO digits from the far end become events.
mod common;
use common::*;
use ferrophone_ua::call::MediaOp;
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
    assert!(sim.ua.send_dtmf(sim.now, &id, "12x").is_err());
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
