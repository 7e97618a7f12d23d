//! Attack: a caller rings us, then sends REFER in the early dialog (nobody answered) to make us
//! call a target of its choosing — our microphone would open toward it with no user action.
//! A REFER is followed only in a confirmed dialog of an answered call; anywhere else it is
//! refused and no call is placed.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::message::{Message, Method};

fn refer(call_id: &str, tag: &str, cseq: u32, target: &str) -> Vec<u8> {
    String::from_utf8(in_dialog_from_bob("REFER", call_id, tag, cseq, &format!("z9hG4bKrf{cseq}"), None))
        .unwrap()
        .replacen("Content-Length: 0", &format!("Refer-To: <{target}>\r\nContent-Length: 0"), 1)
        .into_bytes()
}

fn no_call_placed(sim: &Sim, ringing_id: &str) {
    assert_eq!(sim.ua.calls().len(), 1, "no new call");
    assert!(sim.sent.iter().all(|m| !matches!(m, Message::Request(r) if r.method == Method::Invite)), "no INVITE");
    assert!(
        sim.media_requests().iter().all(|m| !matches!(m.op, MediaOp::CreateOffer | MediaOp::CreateAnswer { .. })),
        "the media side (microphone) was never asked for anything"
    );
    assert_eq!(sim.ua.call(ringing_id).unwrap().state, CallState::Ringing, "the call keeps ringing");
}

#[test]
fn refer_while_our_phone_rings_is_refused() {
    let (mut sim, _reg) = registered_sim(1201);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKer1", "early-refer-1", Some(OFFER), ""));
    let tag = sim.take_responses().into_iter().find(|r| r.status == 180).unwrap().headers.to().unwrap();
    let tag = tag.tag().unwrap().to_string();
    let id = sim.last_call_event().id;

    // Same domain as the account: refused anyway, the call was not answered.
    sim.deliver(&refer("early-refer-1", &tag, 11, "sip:listener@sip.example.com"));
    let r = sim.last_response();
    assert_eq!(r.status, 403, "REFER in an early dialog is refused");
    assert!(r.headers.get("Warning").is_some_and(|w| w.contains("answered")));
    sim.deliver(&refer("early-refer-1", &tag, 12, "sip:listener@evil.example"));
    assert_eq!(sim.last_response().status, 403);
    sim.advance(5_000);
    no_call_placed(&sim, &id);
}

#[test]
fn refer_before_the_ack_of_our_200_is_refused() {
    let (mut sim, _reg) = registered_sim(1202);
    let (_id, ok) = answer_unacked(&mut sim, "early-refer-2", "");
    let tag = ok.headers.to().unwrap().tag().unwrap().to_string();
    // The 200 is out but not ACKed: the dialog is not confirmed on both sides yet.
    sim.deliver(&refer("early-refer-2", &tag, 11, "sip:carol@sip.example.com"));
    assert_eq!(sim.last_response().status, 403);
    assert_eq!(sim.ua.calls().len(), 1);
    // After the ACK the same REFER is accepted (a transfer of an answered call).
    sim.deliver(&in_dialog_from_bob("ACK", "early-refer-2", &tag, 10, "z9hG4bKearly-refer-2ack", None));
    sim.deliver(&refer("early-refer-2", &tag, 12, "sip:carol@sip.example.com"));
    assert_eq!(sim.last_response().status, 202);
    assert_eq!(sim.ua.calls().len(), 2, "the transfer places the call");
}

#[test]
fn refer_from_a_callee_that_only_rang_is_refused() {
    let (mut sim, id, invite) = ringing_out(1203);
    sim.take_sent();
    let media_before = sim.media_requests().len();
    // The callee's early dialog (To tag bobtag): it sends REFER instead of answering.
    let callid = invite.headers.call_id().unwrap().to_string();
    let from_tag = invite.headers.from().unwrap().tag().unwrap().to_string();
    let req = format!(
        "REFER sip:alice@abc.invalid;transport=ws;ob SIP/2.0\r\n\
         Via: SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKrfout\r\n\
         Max-Forwards: 69\r\n\
         From: <sip:bob@sip.example.com>;tag=bobtag\r\n\
         To: <sip:alice@sip.example.com>;tag={from_tag}\r\n\
         Call-ID: {callid}\r\n\
         CSeq: 1 REFER\r\n\
         Contact: <sip:bob@127.0.0.1:5062>\r\n\
         Refer-To: <sip:listener@sip.example.com>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    sim.deliver(req.as_bytes());
    let status = sim.last_response().status;
    assert!(status == 403 || status == 481, "refused, got {status}");
    assert_eq!(sim.ua.calls().len(), 1);
    assert_eq!(sim.media_requests().len(), media_before, "no media asked for");
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Ringing);
}
