//! Keyboard shortcuts act on the right call: answer the ringing one, hang up the connected one
//! first, mute toggles the active call.
mod common;
use common::*;
use ferrophone_ua::call::{CallError, CallState};

#[test]
fn shortcuts_pick_the_expected_call() {
    let (mut sim, _reg) = registered_sim(95);
    assert_eq!(sim.ua.answer_ringing(sim.now).unwrap_err(), CallError::NoCurrentCall);
    assert_eq!(sim.ua.hangup_current(sim.now).unwrap_err(), CallError::NoCurrentCall);
    sim.deliver(&incoming_invite("z9hG4bKk1", "k-1", Some(OFFER), ""));
    let ringing = sim.last_call_event().id;
    let answered = sim.ua.answer_ringing(sim.now).unwrap();
    assert_eq!(answered.id, ringing);
    sim.pump();
    sim.answer_media(ANSWER);
    assert_eq!(sim.ua.call(&ringing).unwrap().state, CallState::Active);
    // A second call rings while the first is active: hang-up ends the active one.
    sim.deliver(&incoming_invite("z9hG4bKk2", "k-2", Some(OFFER), ""));
    let second = sim.last_call_event().id;
    assert!(sim.ua.toggle_mute_current(sim.now).unwrap().muted);
    assert!(!sim.ua.toggle_mute_current(sim.now).unwrap().muted);
    let ended = sim.ua.hangup_current(sim.now).unwrap();
    assert_eq!((ended.id.as_str(), ended.state), (ringing.as_str(), CallState::Ended));
    // Now only the ringing one is left: hang-up rejects it.
    let ended = sim.ua.hangup_current(sim.now).unwrap();
    assert_eq!((ended.id, ended.end_reason.map(|r| r.to_string()).as_deref()), (second, Some("rejected")));
}
