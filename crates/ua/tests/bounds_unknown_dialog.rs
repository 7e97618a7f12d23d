//! Attack/defect: an in-dialog request (To tag present) for a dialog we do not know must get
//! 481 Call/Transaction Does Not Exist (RFC 3261 §12.2.2). An INVITE with a To tag used to get
//! 480 Temporarily Unavailable, as if it were a new call.
mod common;
use common::*;
use ferrophone_ua::message::Message;

fn request(method: &str, to_tag: Option<&str>, n: u32) -> Vec<u8> {
    let tt = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let (ct, body) = if method == "INVITE" { ("Content-Type: application/sdp\r\n", OFFER) } else { ("", "") };
    format!(
        "{method} sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 10.0.0.1;branch=z9hG4bKud{n}\r\nMax-Forwards: 70\r\nFrom: <sip:mallory@y>;tag=m{n}\r\nTo: <sip:alice@y>{tt}\r\nCall-ID: ud-{n}\r\nCSeq: 5 {method}\r\nContact: <sip:mallory@10.0.0.1>\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn every_request_for_an_unknown_dialog_gets_481() {
    let (mut sim, _reg) = registered_sim(420);
    sim.take_sent();
    for (n, method) in
        ["INVITE", "BYE", "INFO", "UPDATE", "NOTIFY", "REFER", "OPTIONS", "MESSAGE", "FOO"].iter().enumerate()
    {
        sim.deliver(&request(method, Some("nosuchtag"), n as u32));
        let finals: Vec<u16> = sim.take_responses().iter().map(|r| r.status).filter(|s| *s >= 200).collect();
        assert_eq!(finals, vec![481], "{method} with an unknown To tag");
    }
    assert!(sim.ua.calls().is_empty(), "no call from an in-dialog INVITE");
    assert!(sim.call_events.is_empty());
    // The ACK for the 481 to the INVITE is absorbed silently.
    let ack = String::from_utf8(request("ACK", Some("nosuchtag"), 0)).unwrap();
    sim.deliver(ack.as_bytes());
    assert!(sim.take_sent().is_empty());
    // Out of dialog, the same requests are still served as before.
    sim.deliver(&request("OPTIONS", None, 50));
    assert!(matches!(sim.take_sent().last(), Some(Message::Response(r)) if r.status == 200));
}
