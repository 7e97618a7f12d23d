//! Transfers: blind (REFER, progress from NOTIFY sipfrag, BYE on success), attended (REFER with
//! Replaces), being transferred (incoming REFER → we call the target and NOTIFY), and an
//! incoming INVITE with Replaces taking over one of our calls.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::message::{Message, Method, Response};

fn transfer_events(sim: &Sim) -> Vec<(u16, bool, bool)> {
    sim.transfers.iter().map(|t| (t.status, t.done, t.success)).collect()
}

#[test]
fn blind_transfer_reports_progress_and_ends_our_call() {
    let (mut sim, id, tag) = answered_incoming(130, "tr-1", "");
    sim.ua.transfer(sim.now, &id, "carol").unwrap();
    sim.pump();
    let refer = sim.take_request();
    assert_eq!(refer.method, Method::Refer);
    assert_eq!(refer.headers.get("Refer-To"), Some("<sip:carol@sip.example.com>"));
    assert_eq!(refer.headers.get("Referred-By"), Some("<sip:alice@sip.example.com>"));
    sim.deliver_response(&Response::for_request(&refer, 202, "Accepted", None));
    sim.deliver(&notify_sipfrag("tr-1", &tag, 11, "SIP/2.0 100 Trying\r\n"));
    sim.deliver(&notify_sipfrag("tr-1", &tag, 12, "SIP/2.0 180 Ringing\r\n"));
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
    sim.deliver(&notify_sipfrag("tr-1", &tag, 13, "SIP/2.0 200 OK\r\n"));
    assert_eq!(transfer_events(&sim), vec![(100, false, false), (180, false, false), (200, true, true)]);
    assert_eq!(sim.requests_with_method("BYE").len(), 1);
    assert_eq!(sim.ua.call(&id).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("transferred"));
}

#[test]
fn refused_transfer_keeps_the_call() {
    let (mut sim, id, _tag) = answered_incoming(131, "tr-2", "");
    sim.ua.transfer(sim.now, &id, "carol").unwrap();
    sim.pump();
    let refer = sim.take_request();
    sim.deliver_response(&Response::for_request(&refer, 403, "Forbidden", None));
    assert_eq!(transfer_events(&sim), vec![(403, true, false)]);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
}

#[test]
fn attended_transfer_refers_with_replaces() {
    let (mut sim, a, _tag, b, invite) = bob_and_carol(132, "tr-3");
    sim.ua.transfer_attended(sim.now, &a, &b).unwrap();
    sim.pump();
    let refer = sim.take_request();
    let refer_to = refer.headers.get("Refer-To").unwrap().to_string();
    let our_tag = invite.headers.from().unwrap().tag().unwrap().to_string();
    let call_id = invite.headers.call_id().unwrap().replace('@', "%40");
    assert!(refer_to.starts_with("<sip:carol@sip.example.com?Replaces="), "{refer_to}");
    assert!(refer_to.contains(&format!("Replaces={call_id}%3Bto-tag%3Dcaroltag%3Bfrom-tag%3D{our_tag}")), "{refer_to}");
}

#[test]
fn being_transferred_calls_the_target_and_notifies() {
    let (mut sim, old, tag) = answered_incoming(133, "tr-4", "");
    let refer =
        String::from_utf8(in_dialog_from_bob("REFER", "tr-4", &tag, 11, "z9hG4bKrefer", None)).unwrap().replacen(
            "Content-Length: 0",
            "Refer-To: <sip:carol@sip.example.com>\r\nReferred-By: <sip:bob@127.0.0.1>\r\nContent-Length: 0",
            1,
        );
    sim.deliver(refer.as_bytes());
    let sent = sim.take_sent();
    assert!(sent.iter().any(|m| matches!(m, Message::Response(r) if r.status == 202)));
    let trying = sent.iter().find_map(|m| match m {
        Message::Request(r) if r.method == Method::Notify => Some(r.clone()),
        _ => None,
    });
    let trying = trying.expect("NOTIFY 100 Trying");
    assert_eq!(trying.headers.get("Event"), Some("refer"));
    assert_eq!(String::from_utf8_lossy(&trying.body), "SIP/2.0 100 Trying\r\n");
    let new = sim.ua.calls().into_iter().find(|c| c.id != old).expect("a new call").id;
    assert!(sim.has_media_op(&new, |op| *op == MediaOp::CreateOffer));
    sim.answer_media(OFFER);
    let invite = sim.take_request_of(Method::Invite);
    assert_eq!(invite.uri, "sip:carol@sip.example.com");
    assert_eq!(invite.headers.get("Referred-By"), Some("<sip:bob@127.0.0.1>"));
    sim.deliver_response(&response_with_sdp(&invite, 200, "OK", "caroltag", Some(ANSWER)));
    let sent = sim.take_sent();
    let notify = sent
        .iter()
        .find_map(|m| match m {
            Message::Request(r) if r.method == Method::Notify => Some(r.clone()),
            _ => None,
        })
        .expect("final NOTIFY");
    assert_eq!(String::from_utf8_lossy(&notify.body), "SIP/2.0 200 OK\r\n");
    assert!(notify.headers.get("Subscription-State").unwrap().starts_with("terminated"));
    assert!(sent
        .iter()
        .any(|m| matches!(m, Message::Request(r) if r.method == Method::Bye && r.headers.call_id() == Some("tr-4"))));
    assert_eq!(sim.ua.call(&old).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("transferred"));
    assert_eq!(sim.ua.call(&new).unwrap().state, CallState::Active);
}

#[test]
fn invite_with_replaces_takes_over_the_call() {
    let (mut sim, old, tag) = answered_incoming(134, "tr-5", "");
    let replaces = format!("Replaces: tr-5;to-tag={tag};from-tag=bobtag\r\n");
    sim.deliver(&incoming_invite("z9hG4bKrep", "tr-5-new", Some(OFFER), &replaces));
    let new = sim.ua.calls().into_iter().find(|c| c.id != old).expect("the replacing call").id;
    assert!(sim.has_media_op(&new, |op| matches!(op, MediaOp::CreateAnswer { .. })), "answered without ringing");
    assert!(!sim.has_media_op(&new, |op| *op == MediaOp::StartRing));
    assert_eq!(sim.ua.call(&old).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("replaced"));
    // Unknown dialog → 481.
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKrep2", "tr-5-x", Some(OFFER), "Replaces: nope;to-tag=a;from-tag=b\r\n"));
    assert_eq!(sim.take_responses().pop().unwrap().status, 481);
}
