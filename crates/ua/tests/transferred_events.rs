//! Being transferred (an incoming REFER): the host learns about it. Every sipfrag we NOTIFY the
//! transferor is also a `transfer` event for the call being transferred (the old one): 100 when we
//! start calling the target, its provisional answers, and the outcome (done, success or not), so
//! a host that sees its call end as `transferred` — or stay up after a failed transfer — knows why.
//! A target that never answers at all still ends the transferor's subscription (final NOTIFY 408).
mod common;
use common::*;
use ferrophone_ua::call::CallState;
use ferrophone_ua::message::Method;

fn refer_from_bob(call_id: &str, tag: &str) -> Vec<u8> {
    String::from_utf8(in_dialog_from_bob("REFER", call_id, tag, 11, "z9hG4bKrefer", None))
        .unwrap()
        .replacen(
            "Content-Length: 0",
            "Refer-To: <sip:carol@sip.example.com>\r\nReferred-By: <sip:bob@127.0.0.1>\r\nContent-Length: 0",
            1,
        )
        .into_bytes()
}

fn events(sim: &Sim) -> Vec<(String, u16, bool, bool)> {
    sim.transfers.iter().map(|t| (t.call.clone(), t.status, t.done, t.success)).collect()
}

#[test]
fn a_successful_transfer_of_our_call_is_reported_on_the_old_call() {
    let (mut sim, old, tag) = answered_incoming(140, "trev-1", "");
    sim.deliver(&refer_from_bob("trev-1", &tag));
    assert_eq!(events(&sim), vec![(old.clone(), 100, false, false)], "accepted: we call the target");
    sim.answer_media(OFFER);
    let invite = sim.take_request_of(Method::Invite);
    sim.deliver_response(&response_with_sdp(&invite, 180, "Ringing", "caroltag", None));
    sim.deliver_response(&response_with_sdp(&invite, 200, "OK", "caroltag", Some(ANSWER)));
    assert_eq!(
        events(&sim),
        vec![(old.clone(), 100, false, false), (old.clone(), 180, false, false), (old.clone(), 200, true, true)]
    );
    assert_eq!(sim.ua.call(&old).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("transferred"));
    // Every event names our new call to the target, so a host can follow the call that replaced it.
    let new_calls: Vec<Option<String>> = sim.transfers.iter().map(|t| t.new_call.clone()).collect();
    let new_id = new_calls[0].clone().expect("the 100 already names the new call");
    assert!(new_calls.iter().all(|n| n.as_deref() == Some(new_id.as_str())), "{new_calls:?}");
    assert_eq!(sim.ua.call(&new_id).unwrap().remote, "sip:carol@sip.example.com");
}

#[test]
fn a_failed_transfer_of_our_call_is_reported_and_the_old_call_stays() {
    let (mut sim, old, tag) = answered_incoming(141, "trev-2", "");
    sim.deliver(&refer_from_bob("trev-2", &tag));
    sim.answer_media(OFFER);
    let invite = sim.take_request_of(Method::Invite);
    sim.deliver_response(&response_with_sdp(&invite, 486, "Busy Here", "caroltag", None));
    assert_eq!(events(&sim), vec![(old.clone(), 100, false, false), (old.clone(), 486, true, false)]);
    assert_eq!(sim.ua.call(&old).unwrap().state, CallState::Active, "the old call goes on");
}

#[test]
fn a_transfer_target_that_never_answers_ends_the_subscription_with_a_final_notify() {
    let (mut sim, old, tag) = answered_incoming(142, "trev-3", "");
    sim.deliver(&refer_from_bob("trev-3", &tag));
    sim.answer_media(OFFER);
    let invite = sim.take_request_of(Method::Invite);
    assert_eq!(invite.uri, "sip:carol@sip.example.com");
    // Nobody answers the INVITE at all (Timer B).
    sim.advance(40_000);
    let notifies: Vec<String> = sim
        .requests_with_method("NOTIFY")
        .iter()
        .map(|n| String::from_utf8_lossy(&n.body).trim().to_string())
        .collect();
    assert_eq!(notifies.first().map(String::as_str), Some("SIP/2.0 100 Trying"));
    let last = sim.requests_with_method("NOTIFY").last().cloned().cloned().unwrap();
    assert_eq!(String::from_utf8_lossy(&last.body), "SIP/2.0 408 Request Timeout\r\n", "NOTIFYs: {notifies:?}");
    assert!(last.headers.get("Subscription-State").unwrap().starts_with("terminated"));
    assert_eq!(events(&sim), vec![(old.clone(), 100, false, false), (old.clone(), 408, true, false)]);
    assert_eq!(sim.ua.call(&old).unwrap().state, CallState::Active, "the old call goes on");
}
