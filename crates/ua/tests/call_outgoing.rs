//! Outgoing call: offer from the media side, INVITE, 407 → authenticated INVITE, 180, 200 →
//! ACK along the route set, answer to the media side, BYE either way.
mod common;
use common::*;
use ferrophone_ua::call::{CallError, CallState, MediaOp};
use ferrophone_ua::message::{Message, Method, Response};

fn proxy_auth_challenge(req: &ferrophone_ua::message::Request) -> Response {
    let mut r = Response::for_request(req, 407, "Proxy Authentication Required", Some("p1"));
    r.headers.push("Proxy-Authenticate", "Digest realm=\"lab\", nonce=\"inv1\", qop=\"auth\", algorithm=MD5");
    r
}

#[test]
fn outgoing_call_connects_and_hangs_up() {
    let (mut sim, _reg) = registered_sim(40);
    sim.take_sent();
    let info = sim.ua.dial(sim.now, "bob").unwrap();
    sim.pump();
    assert_eq!(info.state, CallState::Dialing);
    assert_eq!(info.remote, "sip:bob@sip.example.com");
    let id = info.id.clone();
    assert!(sim.take_sent().is_empty(), "no INVITE before the offer exists");
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::CreateOffer));
    sim.answer_media(OFFER);

    let invite = sim.take_request();
    assert_eq!(invite.method, Method::Invite);
    assert_eq!(invite.uri, "sip:bob@sip.example.com");
    assert_eq!(String::from_utf8_lossy(&invite.body), OFFER);
    assert_eq!(invite.headers.get("Content-Type"), Some("application/sdp"));
    assert!(invite.headers.contacts()[0].uri.contains(".invalid;transport=ws;ob"));

    // The proxy challenges: exactly one authenticated retry, same Call-ID, CSeq + 1.
    sim.deliver_response(&proxy_auth_challenge(&invite));
    let sent = sim.take_sent();
    let invite2 = sent
        .iter()
        .find_map(|m| match m {
            Message::Request(r) if r.method == Method::Invite => Some(r.clone()),
            _ => None,
        })
        .expect("authenticated INVITE");
    assert!(invite2.headers.get("Proxy-Authorization").unwrap().contains("username=\"alice\""));
    assert_eq!(invite2.headers.call_id(), invite.headers.call_id());
    assert_eq!(invite2.headers.cseq().unwrap().seq, 2);

    sim.deliver_response(&Response::for_request(&invite2, 100, "Trying", None));
    let mut ringing = response_with_sdp(&invite2, 180, "Ringing", "bobtag", None);
    ringing.headers.push("Record-Route", "<sip:127.0.0.1;r2=on;lr>, <sip:127.0.0.1;transport=ws;r2=on;lr>");
    sim.deliver_response(&ringing);
    assert_eq!(sim.last_call_event().state, CallState::Ringing);

    let mut ok = response_with_sdp(&invite2, 200, "OK", "bobtag", Some(ANSWER));
    ok.headers.push("Record-Route", "<sip:127.0.0.1;r2=on;lr>, <sip:127.0.0.1;transport=ws;r2=on;lr>");
    sim.deliver_response(&ok);
    let ack = sim.take_request();
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, "sip:bob@10.0.0.2:5062;transport=udp", "ACK goes to the remote target");
    assert_eq!(ack.headers.get_all("Route"), vec!["<sip:127.0.0.1;transport=ws;r2=on;lr>", "<sip:127.0.0.1;r2=on;lr>"]);
    assert_eq!(ack.headers.cseq().unwrap().seq, 2);
    assert!(sim
        .has_media_op(&id, |op| matches!(op, MediaOp::ApplyAnswer { final_answer: true, answer } if answer == ANSWER)));
    assert_eq!(sim.last_call_event().state, CallState::Active);

    // A retransmitted 200 is answered with the same ACK, nothing else.
    sim.deliver_response(&ok);
    let again = sim.take_request();
    assert_eq!(again, ack);

    sim.ua.hangup(sim.now, &id).unwrap();
    sim.pump();
    let bye = sim.take_request();
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.headers.cseq().unwrap().seq, 3);
    assert_eq!(bye.headers.to().unwrap().tag(), Some("bobtag"));
    let end = sim.last_call_event();
    assert_eq!((end.state, end.end_reason.map(|r| r.to_string()).as_deref()), (CallState::Ended, Some("local-hangup")));
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Close));
    assert!(sim.ua.calls().is_empty());
}

#[test]
fn remote_bye_ends_the_call() {
    let (mut sim, _reg) = registered_sim(41);
    let id = sim.ua.dial(sim.now, "sip:bob@127.0.0.1").unwrap().id;
    sim.pump();
    sim.answer_media(OFFER);
    sim.take_sent();
    let invite = sim.last_request("INVITE");
    sim.deliver_response(&response_with_sdp(&invite, 200, "OK", "bobtag", Some(ANSWER)));
    sim.take_sent();
    let from_tag = invite.headers.from().unwrap().tag().unwrap().to_string();
    let bye = format!(
        "BYE sip:alice@x.invalid;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKbye1\r\nFrom: <sip:bob@127.0.0.1>;tag=bobtag\r\nTo: <sip:alice@sip.example.com>;tag={from_tag}\r\nCall-ID: {}\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n",
        invite.headers.call_id().unwrap()
    );
    sim.deliver(bye.as_bytes());
    let Message::Response(r) = &sim.take_sent()[0] else { panic!() };
    assert_eq!(r.status, 200);
    let end = sim.last_call_event();
    assert_eq!(
        (end.id.as_str(), end.end_reason.map(|r| r.to_string()).as_deref()),
        (id.as_str(), Some("remote-hangup"))
    );
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Close));
}

#[test]
fn failures_map_to_clear_reasons() {
    for (code, reason) in
        [(486, "busy"), (603, "declined"), (404, "not-found"), (480, "unavailable"), (488, "incompatible-media")]
    {
        let (mut sim, _reg) = registered_sim(42);
        let id = sim.ua.dial(sim.now, "bob").unwrap().id;
        sim.pump();
        sim.answer_media(OFFER);
        let invite = sim.take_request();
        sim.deliver_response(&Response::for_request(&invite, code, "X", Some("t")));
        let ack = sim.take_request();
        assert_eq!(ack.method, Method::Ack);
        let end = sim.last_call_event();
        assert_eq!((end.id, end.end_reason.map(|r| r.to_string()).as_deref()), (id, Some(reason)));
    }
}

#[test]
fn no_response_at_all_times_out() {
    let (mut sim, _reg) = registered_sim(43);
    sim.ua.dial(sim.now, "bob").unwrap();
    sim.pump();
    sim.answer_media(OFFER);
    // The server does answer keep-alives, but never the INVITE.
    for _ in 0..4 {
        sim.advance(9_000);
        sim.deliver(b"\r\n");
    }
    assert_eq!(sim.last_call_event().end_reason.map(|r| r.to_string()).as_deref(), Some("timeout"));
}

#[test]
fn dial_errors() {
    let (mut sim, _reg) = registered_sim(44);
    assert!(matches!(sim.ua.dial(sim.now, "a\r\nb"), Err(CallError::InvalidTarget(_))));
    let mut fresh = Sim::new(45, None);
    assert_eq!(fresh.ua.dial(fresh.now, "bob").unwrap_err(), CallError::NotConnected);
    fresh.pump();
    for _ in 0..4 {
        sim.ua.dial(sim.now, "bob").unwrap();
    }
    assert_eq!(sim.ua.dial(sim.now, "bob").unwrap_err(), CallError::TooManyCalls);
}
