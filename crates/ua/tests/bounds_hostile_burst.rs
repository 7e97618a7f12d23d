//! Attack: ~2,000 malformed or hostile messages in 10 s over the one WebSocket flow, during a call.
//! Every message that can be answered is answered (400/4xx/5xx, never 503), no call comes out of
//! junk, the call in progress goes on, the flow is kept (the core never closes it because of junk
//! input — a stray CRLF frame used to make us expect keep-alive pongs the server never sends, and
//! the flow was dropped 35 s later), and a valid OPTIONS right after the burst gets 200.
mod common;
use common::*;
use ferrophone_ua::call::CallState;
use ferrophone_ua::message::Message;
use std::collections::BTreeMap;

const KINDS: usize = 14;

/// Message `n` of the burst: its bytes, its kind, and whether it can be answered.
fn hostile(n: usize, tag: &str) -> (Vec<u8>, &'static str, bool) {
    let b = format!("z9hG4bKhb{n}");
    let hdr = |method: &str, to_tag: &str, cid: &str, cseq: u32| {
        format!("{method} sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 10.6.6.6:443;branch={b}\r\nMax-Forwards: 70\r\nFrom: <sip:mallory@evil.example>;tag=m{n}\r\nTo: <sip:alice@example.com>{to_tag}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {method}\r\nContact: <sip:mallory@10.6.6.6>\r\n")
    };
    let with_body = |h: String, ct: &str, body: &str| {
        format!("{h}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    };
    let plain = |h: String| format!("{h}Content-Length: 0\r\n\r\n").into_bytes();
    let seq = 100 + n as u32;
    match n % KINDS {
        0 => (vec![0u8, 0xff, 0xfe, b'\n', (n % 251) as u8, 0x80], "garbage", false),
        1 => (b"\r\n".to_vec(), "crlf", false),
        2 => (format!("INVITE sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 10.6.6.6;branch={b}\r\nFrom: <sip:m@x>;tag=1\r\n").into_bytes(), "truncated", false),
        3 => (format!("{}Content-Length: 500\r\n\r\nshort", hdr("OPTIONS", "", &format!("hb-{n}"), 1)).into_bytes(), "bad-length", true),
        4 => (hdr("INFO", "", &format!("hb-{n}"), 1).replace("CSeq: 1 INFO", "CSeq: 1 BYE").into_bytes().into_iter().chain(b"Content-Length: 0\r\n\r\n".iter().copied()).collect(), "cseq-mismatch", true),
        5 => (with_body(hdr("MESSAGE", "", &format!("hb-{n}"), 1), "text/plain", &"x".repeat(70_000)), "oversize", true),
        6 => (with_body(hdr("INVITE", "", &format!("hb-{n}"), 1), "application/sdp", "v=0\r\nm=audio 0 RTP/AVP\r\n"), "bad-sdp-invite", true),
        7 => (plain(hdr("INVITE", "", &format!("hb-{n}"), 1).replace("Max-Forwards", "Require: evil\r\nMax-Forwards")), "unacked-invite", true),
        8 => (plain(hdr("BYE", ";tag=nosuch", &format!("hb-{n}"), 2)), "unknown-dialog", true),
        9 => (with_body(hdr("INVITE", ";tag=nosuch", &format!("hb-{n}"), 2), "application/sdp", OFFER), "unknown-dialog-invite", true),
        10 => {
            let h = hdr("INVITE", &format!(";tag={tag}"), "hb-call", seq).replace("tag=m", "tag=bobtag-was-");
            // In the call's dialog: From tag must be bob's.
            let h = h.replace(&format!("From: <sip:mallory@evil.example>;tag=bobtag-was-{n}"), "From: \"Bob\" <sip:bob@127.0.0.1>;tag=bobtag");
            (with_body(h, "application/sdp", OFFER), "reinvite-flood", true)
        }
        11 => {
            let h = hdr("INFO", &format!(";tag={tag}"), "hb-call", seq)
                .replace(&format!("From: <sip:mallory@evil.example>;tag=m{n}"), "From: \"Bob\" <sip:bob@127.0.0.1>;tag=bobtag");
            let body: String = (0..500).map(|i| format!("Signal={}\r\n", i % 10)).collect();
            (with_body(h, "application/dtmf-relay", &body), "info-digits", true)
        }
        12 => (format!("SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS abc.invalid;branch={b}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x{n}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").into_bytes(), "stray-response", false),
        _ => (plain(hdr("NOTIFY", "", &format!("hb-{n}"), 1).replace("Max-Forwards", "Event: talk\r\nMax-Forwards")), "out-of-dialog-notify", true),
    }
}

#[test]
fn two_thousand_hostile_messages_in_ten_seconds() {
    let (mut sim, call, tag) = answered_incoming(470, "hb-call", "");
    sim.take_sent();
    let connects = sim.connects.len();
    let events_before = sim.call_events.len();
    let mut kind_of: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut sent_by_kind: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut finals: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    let mut by_status: BTreeMap<u16, u32> = BTreeMap::new();
    const N: usize = 2_000;
    for n in 0..N {
        let (bytes, kind, answerable) = hostile(n, &tag);
        *sent_by_kind.entry(kind).or_insert(0) += 1;
        if answerable {
            kind_of.insert(format!("z9hG4bKhb{n}"), kind);
        }
        sim.deliver(&bytes);
        sim.advance(5); // 2,000 messages in 10 s; the host runs due timers in between
        for m in sim.take_sent() {
            if let Message::Response(r) = m {
                if r.status >= 200 {
                    let branch = r.headers.top_via().and_then(|v| v.branch().map(str::to_string)).unwrap_or_default();
                    finals.entry(branch).or_default().push(r.status);
                    *by_status.entry(r.status).or_insert(0) += 1;
                }
            }
        }
    }
    // The one re-INVITE that was let through is waiting for the media side: answer it now.
    sim.answer_media(ANSWER);
    for r in sim.take_responses().into_iter().filter(|r| r.status >= 200) {
        let branch = r.headers.top_via().and_then(|v| v.branch().map(str::to_string)).unwrap_or_default();
        finals.entry(branch).or_default().push(r.status);
        *by_status.entry(r.status).or_insert(0) += 1;
    }
    let mut replies_by_kind: BTreeMap<&str, BTreeMap<u16, u32>> = BTreeMap::new();
    let mut unanswered: BTreeMap<&str, u32> = BTreeMap::new();
    for (branch, kind) in &kind_of {
        match finals.get(branch).map(Vec::as_slice) {
            Some([code]) => *replies_by_kind.entry(kind).or_default().entry(*code).or_insert(0) += 1,
            _ => *unanswered.entry(kind).or_insert(0) += 1,
        }
    }
    println!("sent by kind: {sent_by_kind:?}");
    println!("final responses by kind: {replies_by_kind:?}");
    println!("final responses by status: {by_status:?}");
    println!("answerable without exactly one final response: {unanswered:?}");
    println!("calls: {}, flow closes: {:?}", sim.ua.calls().len(), sim.closes);
    assert!(unanswered.is_empty(), "every answerable message gets exactly one final response: {unanswered:?}");
    assert_eq!(by_status.get(&503), None, "no 503: {by_status:?}");
    assert!(finals.keys().all(|b| kind_of.contains_key(b)), "no reply to an unanswerable message");
    // What each kind gets.
    let only = |kind: &str, code: u16| {
        let m = &replies_by_kind[kind];
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![code], "{kind}: {m:?}");
    };
    only("bad-length", 400);
    only("cseq-mismatch", 400);
    only("oversize", 513);
    only("bad-sdp-invite", 488);
    only("unacked-invite", 420);
    only("unknown-dialog", 481);
    only("unknown-dialog-invite", 481);
    only("info-digits", 200);
    only("out-of-dialog-notify", 481);
    let flood = &replies_by_kind["reinvite-flood"];
    assert_eq!(flood.get(&200), Some(&1), "one re-INVITE at a time: {flood:?}");
    assert_eq!(flood.get(&500).copied().unwrap_or(0) + 1, sent_by_kind["reinvite-flood"], "{flood:?}");
    // Events: at most 8 digits per INFO; no call from junk; the call goes on.
    assert!(sim.dtmf.len() <= 8 * sent_by_kind["info-digits"] as usize);
    assert_eq!(sim.ua.calls().len(), 1, "no call from junk: {:?}", sim.ua.calls());
    assert!(sim.call_events[events_before..].iter().all(|c| c.id == call), "no call event from junk");
    assert_eq!(sim.ua.call(&call).unwrap().state, CallState::Active);
    // The flow is the same one.
    assert!(sim.closes.is_empty(), "the core closed the flow at {:?}", sim.closes);
    assert_eq!(sim.connects.len(), connects, "no reconnect");
    // A valid OPTIONS right after is answered 200.
    sim.deliver(b"OPTIONS sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 10.0.0.1;branch=z9hG4bKafter\r\nMax-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=p\r\nTo: <sip:alice@example.com>\r\nCall-ID: after-burst\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(sim.last_response().status, 200);
    // A minute later (keep-alive pings, a server that never pongs): still the same flow.
    sim.advance(60_000);
    assert!(
        sim.closes.is_empty(),
        "the core closed the flow at {:?}: {:?}",
        sim.closes,
        sim.logs.iter().rev().take(3).collect::<Vec<_>>()
    );
    assert_eq!(sim.connects.len(), connects);
}
