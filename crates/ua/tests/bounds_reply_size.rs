//! Attack: a request just under our 64 KiB input limit whose echoed headers (Via, From, To,
//! Record-Route, ...) are huge made us answer with a response larger than the limit we enforce on
//! input — a message we would refuse ourselves. A request whose echoed part exceeds half the limit
//! is refused with a small 513 (only the headers a response must carry), before any transaction or
//! call exists; a reply that still cannot fit is not sent at all (logged). No reply is ever larger
//! than `MAX_MESSAGE_SIZE`.
mod common;
use common::*;
use ferrophone_ua::message::{Message, MAX_MESSAGE_SIZE};
use ferrophone_ua::{Input, Output};

/// Feed raw bytes and collect the raw frames the UA sends (the harness would panic on an
/// oversize one before we could measure it).
fn exchange(sim: &mut Sim, bytes: Vec<u8>) -> Vec<Vec<u8>> {
    sim.ua.handle_input(sim.now, Input::Received(bytes));
    let mut out = vec![];
    loop {
        match sim.ua.poll_output() {
            Output::Send(b) => out.push(b),
            Output::Event(ferrophone_ua::Event::Call(c)) => sim.call_events.push(c),
            Output::Event(ferrophone_ua::Event::Log(l)) => sim.logs.push(l),
            Output::Timeout(_) => break,
            _ => {}
        }
    }
    out
}

fn vias(total: usize, tag: &str) -> String {
    let one = |i: usize| {
        format!("Via: SIP/2.0/WSS proxy{i}.example.com:8443;branch=z9hG4bK{tag}{i:05}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n")
    };
    let mut s = String::new();
    let mut i = 0;
    while s.len() + one(i).len() < total {
        s.push_str(&one(i));
        i += 1;
    }
    s
}

fn status_of(b: &[u8]) -> u16 {
    match ferrophone_ua::message::parse(b) {
        Ok(Message::Response(r)) => r.status,
        other => panic!("unparseable or not a response: {other:?}"),
    }
}

#[test]
fn options_with_64k_of_via_gets_no_oversize_200() {
    let (mut sim, _reg) = registered_sim(460);
    sim.take_sent();
    // Via up to the last few bytes of the limit: the request fits, a 200 with Allow, Accept,
    // Supported and Server would not.
    let rest =
        "From: <sip:x@y>;tag=a\r\nTo: <sip:alice@y>\r\nCall-ID: rs-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let start = "OPTIONS sip:alice@abc.invalid SIP/2.0\r\n";
    let mut via = vias(MAX_MESSAGE_SIZE - start.len() - rest.len() - 30, "a");
    let pad = MAX_MESSAGE_SIZE - start.len() - rest.len() - via.len() - "Subject: \r\n".len();
    via.push_str(&format!("Subject: {}\r\n", "s".repeat(pad)));
    let msg = format!("{start}{via}{rest}");
    assert_eq!(msg.len(), MAX_MESSAGE_SIZE);
    let sent = exchange(&mut sim, msg.into_bytes());
    for b in &sent {
        assert!(b.len() <= MAX_MESSAGE_SIZE, "a {}-byte reply (limit {MAX_MESSAGE_SIZE})", b.len());
        assert_eq!(status_of(b), 513);
    }
    assert!(sim.logs.iter().any(|l| l.contains("too large")), "{:?}", sim.logs);
}

#[test]
fn invite_with_huge_record_route_is_refused_with_a_small_513() {
    let (mut sim, _reg) = registered_sim(461);
    sim.take_sent();
    // 24 KiB of Via and 38 KiB of Record-Route: a 180 or 200 echoing both would pass 64 KiB.
    let rr: String = (0..380)
        .map(|i| format!("Record-Route: <sip:hop{i:04}.example.com;lr;r2=on;ftag=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx>\r\n"))
        .collect();
    let invite = String::from_utf8(incoming_invite("z9hG4bKrs2", "rs-2", Some(OFFER), "")).unwrap();
    let invite = invite.replacen(
        "Record-Route: <sip:127.0.0.1;transport=ws;r2=on;lr>\r\n",
        &format!("{rr}{}", vias(24_000, "b")),
        1,
    );
    assert!(invite.len() <= MAX_MESSAGE_SIZE, "{}", invite.len());
    let sent = exchange(&mut sim, invite.into_bytes());
    assert_eq!(sent.len(), 1, "one reply");
    assert!(sent[0].len() <= MAX_MESSAGE_SIZE, "{}", sent[0].len());
    assert!(sent[0].len() < 32 * 1024, "the 513 carries no Record-Route: {} bytes", sent[0].len());
    assert_eq!(status_of(&sent[0]), 513);
    assert!(sim.ua.calls().is_empty(), "no call");
    assert!(sim.call_events.is_empty());
    // A normal INVITE afterwards rings.
    sim.pump();
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKrs3", "rs-3", Some(OFFER), ""));
    let codes: Vec<u16> = sim.take_responses().iter().map(|r| r.status).collect();
    assert_eq!(codes, vec![100, 180]);
}

#[test]
fn an_oversize_request_is_answered_513_only_when_the_513_fits() {
    let (mut sim, _reg) = registered_sim(462);
    sim.take_sent();
    // 70 KB, mostly Via: refused before parsing; its salvaged headers alone pass the limit.
    let msg = format!(
        "OPTIONS sip:alice@abc.invalid SIP/2.0\r\n{}From: <sip:x@y>;tag=a\r\nTo: <sip:alice@y>\r\nCall-ID: rs-4\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        vias(70_000, "c")
    );
    for b in exchange(&mut sim, msg.into_bytes()) {
        assert!(b.len() <= MAX_MESSAGE_SIZE, "{}", b.len());
    }
    // 70 KB of body: a small 513.
    let body = "x".repeat(70_000);
    let msg = format!("MESSAGE sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 10.0.0.1;branch=z9hG4bKrs5\r\nFrom: <sip:x@y>;tag=a\r\nTo: <sip:alice@y>\r\nCall-ID: rs-5\r\nCSeq: 1 MESSAGE\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    let sent = exchange(&mut sim, msg.into_bytes());
    assert_eq!(sent.len(), 1);
    assert_eq!(status_of(&sent[0]), 513);
}
