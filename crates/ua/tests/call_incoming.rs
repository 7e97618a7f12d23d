//! Incoming call: 100 + 180, ringing until `answer`, 200 with the media side's answer,
//! retransmitted until the ACK; reject → 486; CANCEL → 200 + 487; INVITE without SDP.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, Direction, MediaOp};

#[test]
fn incoming_call_rings_then_is_answered() {
    let (mut sim, _reg) = registered_sim(50);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKin1", "in-1", Some(OFFER), ""));
    let rs = sim.take_responses();
    assert_eq!(rs.iter().map(|r| r.status).collect::<Vec<_>>(), vec![100, 180]);
    let our_tag = rs[1].headers.to().unwrap().tag().unwrap().to_string();
    assert!(rs[1].headers.contacts()[0].uri.contains(".invalid;transport=ws;ob"));
    let call = sim.last_call_event();
    assert_eq!((call.direction, call.state), (Direction::Incoming, CallState::Ringing));
    assert_eq!(call.remote, "sip:bob@127.0.0.1");
    assert_eq!(call.remote_name.as_deref(), Some("Bob"));
    assert!(sim.has_media_op(&call.id, |op| *op == MediaOp::StartRing));

    // Nobody answers for a minute: it keeps ringing, nothing is sent.
    for _ in 0..6 {
        sim.advance(10_000);
        sim.deliver(b"\r\n");
    }
    assert!(sim.take_responses().is_empty());

    sim.ua.answer(sim.now, &call.id).unwrap();
    sim.pump();
    assert!(sim.has_media_op(&call.id, |op| *op == MediaOp::StopRing));
    assert!(sim.has_media_op(&call.id, |op| matches!(op, MediaOp::CreateAnswer { offer } if offer == OFFER)));
    sim.answer_media(ANSWER);
    let rs = sim.take_responses();
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, 200);
    assert_eq!(String::from_utf8_lossy(&rs[0].body), ANSWER);
    assert_eq!(rs[0].headers.to().unwrap().tag(), Some(our_tag.as_str()));
    assert_eq!(rs[0].headers.get_all("Record-Route").len(), 2);
    assert_eq!(sim.last_call_event().state, CallState::Active);

    // §13.3.1.4: the 2xx is retransmitted until the ACK arrives.
    sim.advance(600);
    assert_eq!(sim.take_responses().iter().filter(|r| r.status == 200).count(), 1);
    sim.deliver(&in_dialog_from_bob("ACK", "in-1", &our_tag, 10, "z9hG4bKack1", None));
    sim.advance(10_000);
    assert!(sim.take_responses().is_empty(), "no more retransmissions after the ACK");
    assert_eq!(sim.ua.calls()[0].state, CallState::Active);
}

#[test]
fn reject_sends_486() {
    let (mut sim, _reg) = registered_sim(51);
    sim.deliver(&incoming_invite("z9hG4bKin2", "in-2", Some(OFFER), ""));
    let id = sim.last_call_event().id;
    sim.take_sent();
    sim.ua.reject(sim.now, &id).unwrap();
    sim.pump();
    let rs = sim.take_responses();
    assert_eq!(rs[0].status, 486);
    assert_eq!(sim.last_call_event().end_reason.map(|r| r.to_string()).as_deref(), Some("rejected"));
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::StopRing));
}

#[test]
fn cancel_from_the_caller() {
    let (mut sim, _reg) = registered_sim(52);
    sim.deliver(&incoming_invite("z9hG4bKin3", "in-3", Some(OFFER), ""));
    let id = sim.last_call_event().id;
    sim.take_sent();
    let cancel = "CANCEL sip:alice@abc.invalid;transport=ws;ob SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKin3\r\nMax-Forwards: 69\r\nFrom: \"Bob\" <sip:bob@127.0.0.1>;tag=bobtag\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: in-3\r\nCSeq: 10 CANCEL\r\nContent-Length: 0\r\n\r\n";
    sim.deliver(cancel.as_bytes());
    let mut codes: Vec<(u16, String)> =
        sim.take_responses().iter().map(|r| (r.status, r.headers.cseq().unwrap().method.to_string())).collect();
    codes.sort();
    assert_eq!(codes, vec![(200, "CANCEL".into()), (487, "INVITE".into())]);
    assert_eq!(sim.last_call_event().end_reason.map(|r| r.to_string()).as_deref(), Some("cancelled"));
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::StopRing));
    assert!(sim.ua.calls().is_empty());
}

#[test]
fn invite_without_sdp_gets_our_offer_and_the_answer_comes_in_ack() {
    let (mut sim, _reg) = registered_sim(53);
    sim.deliver(&incoming_invite("z9hG4bKin4", "in-4", None, ""));
    let id = sim.last_call_event().id;
    let our_tag = sim.take_responses()[1].headers.to().unwrap().tag().unwrap().to_string();
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::CreateOffer));
    sim.answer_media(OFFER);
    let rs = sim.take_responses();
    assert_eq!((rs[0].status, String::from_utf8_lossy(&rs[0].body).to_string()), (200, OFFER.to_string()));
    sim.deliver(&in_dialog_from_bob("ACK", "in-4", &our_tag, 10, "z9hG4bKack4", Some(ANSWER)));
    assert!(sim
        .has_media_op(&id, |op| matches!(op, MediaOp::ApplyAnswer { final_answer: true, answer } if answer == ANSWER)));
    assert_eq!(sim.ua.calls()[0].state, CallState::Active);
}

#[test]
fn missing_ack_ends_the_call_with_bye() {
    let (mut sim, _reg) = registered_sim(54);
    sim.deliver(&incoming_invite("z9hG4bKin5", "in-5", Some(OFFER), ""));
    let id = sim.last_call_event().id;
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    sim.answer_media(ANSWER);
    sim.take_sent();
    for _ in 0..4 {
        sim.advance(9_000);
        sim.deliver(b"\r\n");
    }
    assert!(sim.requests_with_method("BYE").len() == 1);
    assert_eq!(sim.last_call_event().end_reason.map(|r| r.to_string()).as_deref(), Some("no-ack"));
}

#[test]
fn unsupported_requirement_and_call_limit() {
    let (mut sim, _reg) = registered_sim(55);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKin6", "in-6", Some(OFFER), "Require: 100rel\r\n"));
    let rs = sim.take_responses();
    assert_eq!(rs.last().unwrap().status, 420);
    assert_eq!(rs.last().unwrap().headers.get("Unsupported"), Some("100rel"));
    for i in 0..4 {
        sim.deliver(&incoming_invite(&format!("z9hG4bKlim{i}"), &format!("lim-{i}"), Some(OFFER), ""));
    }
    assert_eq!(sim.ua.calls().len(), 4);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKlim9", "lim-9", Some(OFFER), ""));
    assert_eq!(sim.take_responses().last().unwrap().status, 486);
}
