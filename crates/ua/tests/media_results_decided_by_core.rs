//! The host hands back every media result, success or failure; what it means for the call is the
//! core's decision: a remote description or a microphone that fails ends the call
//! (`media-failed`, BYE), an SDP request answered without SDP is a failure, a ring tone that
//! cannot play changes nothing, and a call the media side lost on its own ends.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp, MediaRequest};
use ferrophone_ua::message::Method;
use ferrophone_ua::{Input, MediaResult};

fn last_request_of(sim: &Sim, call: &str, pred: impl Fn(&MediaOp) -> bool) -> MediaRequest {
    sim.media_requests().into_iter().rev().find(|m| m.call == call && pred(&m.op)).expect("such a media request")
}

fn ended_with(sim: &Sim, id: &str) -> Option<String> {
    let end = sim.last_call_event();
    assert_eq!(end.id, id);
    (end.state == CallState::Ended).then(|| end.end_reason.map(|r| r.to_string())).flatten()
}

#[test]
fn a_remote_description_that_fails_ends_the_call_with_a_bye() {
    let (mut sim, id, _tag) = answered_incoming(300, "mr-1", "");
    sim.take_sent();
    // The far end's answer to our hold re-INVITE cannot be applied.
    let apply = MediaRequest {
        call: id.clone(),
        req: 99,
        op: MediaOp::ApplyAnswer { answer: OFFER.into(), final_answer: true },
    };
    sim.media_done(&apply, Err("setRemoteDescription failed".into()));
    assert_eq!(sim.take_request().method, Method::Bye);
    assert_eq!(ended_with(&sim, &id).as_deref(), Some("media-failed"));
}

#[test]
fn a_microphone_that_cannot_open_ends_the_call() {
    let (mut sim, id, _tag) = answered_incoming(301, "mr-2", "");
    sim.take_sent();
    let mic = MediaRequest { call: id.clone(), req: 98, op: MediaOp::OpenMicrophone };
    sim.media_done(&mic, Err("NotReadableError".into()));
    assert_eq!(sim.take_request().method, Method::Bye);
    assert_eq!(ended_with(&sim, &id).as_deref(), Some("media-failed"));
}

#[test]
fn a_ring_tone_that_cannot_play_changes_nothing() {
    let (mut sim, _reg) = registered_sim(302);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKmr3", "mr-3", Some(OFFER), ""));
    let id = sim.last_call_event().id;
    let ring = last_request_of(&sim, &id, |op| *op == MediaOp::StartRing);
    sim.take_sent(); // 100 and 180
    sim.media_done(&ring, Err("no audio output".into()));
    assert!(sim.take_sent().is_empty(), "nothing on the wire");
    assert_eq!(sim.ua.call(&id).map(|c| c.state), Some(CallState::Ringing));
    // and the call can still be answered
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    sim.answer_media(ANSWER);
    assert!(sim.take_responses().iter().any(|r| r.status == 200));
}

#[test]
fn an_sdp_request_answered_without_sdp_is_a_failure() {
    let (mut sim, _reg) = registered_sim(303);
    sim.take_sent();
    let id = sim.ua.dial(sim.now, "bob").unwrap().id;
    sim.pump();
    let offer = last_request_of(&sim, &id, |op| *op == MediaOp::CreateOffer);
    sim.media_done(&offer, Ok(None));
    assert!(sim.take_sent().is_empty(), "no INVITE without an offer");
    assert_eq!(ended_with(&sim, &id).as_deref(), Some("media-failed"));
}

#[test]
fn a_stale_result_is_ignored() {
    let (mut sim, _reg) = registered_sim(304);
    sim.take_sent();
    let id = sim.ua.dial(sim.now, "bob").unwrap().id;
    sim.pump();
    let mut offer = last_request_of(&sim, &id, |op| *op == MediaOp::CreateOffer);
    offer.req += 7; // a request the core never made
    sim.media_done(&offer, Ok(Some(OFFER.into())));
    assert!(sim.take_sent().is_empty());
    assert_eq!(sim.ua.call(&id).map(|c| c.state), Some(CallState::Dialing));
}

#[test]
fn a_call_the_media_side_lost_ends_with_a_bye() {
    let (mut sim, id, _tag) = answered_incoming(305, "mr-6", "");
    sim.take_sent();
    let lost = MediaResult::Lost { call: id.clone(), reason: "ICE failed".into() };
    sim.ua.handle_input(sim.now, Input::Media(lost));
    sim.pump();
    assert_eq!(sim.take_request().method, Method::Bye);
    assert_eq!(ended_with(&sim, &id).as_deref(), Some("media-failed"));
    // and a report for a call that is gone changes nothing
    sim.ua.handle_input(sim.now, Input::Media(MediaResult::Lost { call: id, reason: "late".into() }));
    sim.pump();
    assert!(sim.take_sent().is_empty());
}
