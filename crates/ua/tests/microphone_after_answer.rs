//! The microphone opens only when the 200 OK goes out (PRIVACY.md "The microphone"): never while
//! a call rings, never during the delay of an automatic answer. A delayed automatic answer still
//! prepares its SDP early (so the 200 leaves on time), without the microphone; the microphone is
//! attached when the 200 goes out. An automatically answered call is announced (zip tone).
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::Response;
use ferrophone_ua::Input;

/// A registered UA that honours the server's auto-answer headers (set explicitly: the default
/// policy is "never").
fn honouring_sim(seed: u64) -> Sim {
    let (mut sim, _reg) = registered_sim(seed);
    let settings = Settings { auto_answer: "headers".into(), ..Settings::default() };
    sim.input(Input::Configure { account: Some(account("wss://sip.example.com/ws", "alice", "alicepw")), settings });
    sim.take_sent();
    sim
}

/// Media requests that open the microphone: a new call's offer or answer made with it, or the
/// microphone attached later.
fn opens_microphone(op: &MediaOp) -> bool {
    matches!(op, MediaOp::CreateOffer | MediaOp::CreateAnswer { .. } | MediaOp::OpenMicrophone)
}

fn mic_requests(sim: &Sim, id: &str) -> usize {
    sim.media.iter().filter(|m| m.call == id && opens_microphone(&m.op)).count()
}

fn oks(responses: &[Response]) -> usize {
    responses.iter().filter(|r| r.status == 200).count()
}

/// Answers the call's newest SDP request with `sdp`.
fn produce_sdp(sim: &mut Sim, id: &str, sdp: &str) {
    let m = sim.media.iter().rev().find(|m| m.call == id && m.op.wants_sdp()).cloned().expect("an SDP request");
    sim.media_done(&m, Ok(Some(sdp.into())));
    sim.pump();
}

#[test]
fn delayed_auto_answer_prepares_without_the_microphone_and_opens_it_with_the_200() {
    let mut sim = honouring_sim(1201);
    sim.deliver(&incoming_invite("z9hG4bKmic1", "mic-1", Some(OFFER), "Call-Info: <sip:127.0.0.1>;answer-after=2\r\n"));
    let id = sim.last_call_event().id;
    assert!(sim.last_call_event().auto_answer);
    // The answer is prepared at once (so the 200 leaves on the dot)...
    assert!(sim.has_media_op(&id, |op| matches!(op, MediaOp::PrepareAnswer { offer } if offer == OFFER)));
    assert_eq!(mic_requests(&sim, &id), 0, "no microphone during the automatic-answer delay");
    produce_sdp(&mut sim, &id, ANSWER);
    sim.advance(1900);
    assert_eq!(oks(&sim.take_responses()), 0, "not answered before the delay");
    assert_eq!(mic_requests(&sim, &id), 0, "still no microphone 1.9 s into a 2 s delay");
    assert!(!sim.has_media_op(&id, |op| *op == MediaOp::ZipTone));
    // ...and the microphone opens exactly when the 200 goes out.
    sim.advance(200);
    let responses = sim.take_responses();
    assert_eq!(oks(&responses), 1, "the 200 went out at the end of the delay");
    assert_eq!(responses.iter().find(|r| r.status == 200).unwrap().body, ANSWER.as_bytes(), "the prepared answer");
    assert_eq!(mic_requests(&sim, &id), 1, "the microphone opens with the 200");
    let ops: Vec<&MediaOp> = sim.media.iter().filter(|m| m.call == id).map(|m| &m.op).collect();
    let mic = ops.iter().position(|op| **op == MediaOp::OpenMicrophone).expect("OpenMicrophone");
    let zip = ops.iter().position(|op| **op == MediaOp::ZipTone).expect("the auto-answer is announced");
    assert!(mic < zip, "microphone, then the zip tone: {ops:?}");
    assert!(!ops.iter().any(|op| **op == MediaOp::StartRing), "an automatic answer does not ring");
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
}

#[test]
fn delayed_auto_answer_of_an_invite_without_sdp_prepares_an_offer_without_the_microphone() {
    let mut sim = honouring_sim(1202);
    sim.deliver(&incoming_invite("z9hG4bKmic2", "mic-2", None, "Call-Info: <sip:127.0.0.1>;answer-after=1\r\n"));
    let id = sim.last_call_event().id;
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::PrepareOffer));
    assert_eq!(mic_requests(&sim, &id), 0);
    produce_sdp(&mut sim, &id, OFFER);
    sim.advance(900);
    assert_eq!(mic_requests(&sim, &id), 0);
    assert_eq!(oks(&sim.take_responses()), 0);
    sim.advance(200);
    assert_eq!(oks(&sim.take_responses()), 1);
    assert_eq!(mic_requests(&sim, &id), 1);
}

#[test]
fn the_user_answering_during_the_delay_opens_the_microphone_with_the_200() {
    let mut sim = honouring_sim(1203);
    sim.deliver(&incoming_invite("z9hG4bKmic3", "mic-3", Some(OFFER), "Call-Info: <sip:127.0.0.1>;answer-after=5\r\n"));
    let id = sim.last_call_event().id;
    // The user answers while the media side is still preparing: the 200 waits for the SDP.
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    assert_eq!(mic_requests(&sim, &id), 0);
    assert_eq!(oks(&sim.take_responses()), 0);
    produce_sdp(&mut sim, &id, ANSWER);
    assert_eq!(oks(&sim.take_responses()), 1);
    assert_eq!(mic_requests(&sim, &id), 1, "OpenMicrophone with the 200");
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::OpenMicrophone));
}

#[test]
fn a_call_cancelled_during_the_delay_never_opens_the_microphone() {
    let mut sim = honouring_sim(1204);
    sim.deliver(&incoming_invite("z9hG4bKmic4", "mic-4", Some(OFFER), "Call-Info: <sip:127.0.0.1>;answer-after=2\r\n"));
    let id = sim.last_call_event().id;
    produce_sdp(&mut sim, &id, ANSWER);
    sim.advance(500);
    let cancel = "CANCEL sip:alice@abc.invalid;transport=ws;ob SIP/2.0\r\n\
         Via: SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bKmic4\r\n\
         Max-Forwards: 69\r\n\
         From: \"Bob\" <sip:bob@127.0.0.1>;tag=bobtag\r\n\
         To: <sip:alice@127.0.0.1>\r\n\
         Call-ID: mic-4\r\n\
         CSeq: 10 CANCEL\r\n\
         Content-Length: 0\r\n\r\n";
    sim.deliver(cancel.as_bytes());
    sim.advance(3000);
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Ended);
    assert_eq!(mic_requests(&sim, &id), 0, "never opened");
    assert!(!sim.has_media_op(&id, |op| *op == MediaOp::ZipTone));
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Close));
}

#[test]
fn a_ringing_call_opens_the_microphone_only_when_answered_and_is_not_announced() {
    let (mut sim, _reg) = registered_sim(1205);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKmic5", "mic-5", Some(OFFER), ""));
    let id = sim.last_call_event().id;
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::StartRing));
    sim.advance(10_000);
    assert_eq!(mic_requests(&sim, &id), 0, "no microphone while ringing");
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    assert!(sim.has_media_op(&id, |op| matches!(op, MediaOp::CreateAnswer { offer } if offer == OFFER)));
    produce_sdp(&mut sim, &id, ANSWER);
    assert_eq!(oks(&sim.take_responses()), 1);
    assert_eq!(mic_requests(&sim, &id), 1, "one microphone, opened by the answer itself");
    assert!(!sim.has_media_op(&id, |op| *op == MediaOp::ZipTone), "a call the user answered is not announced");
}

#[test]
fn an_immediate_auto_answer_is_announced() {
    let mut sim = honouring_sim(1206);
    sim.deliver(&incoming_invite("z9hG4bKmic6", "mic-6", Some(OFFER), "Call-Info: <sip:127.0.0.1>;answer-after=0\r\n"));
    let id = sim.last_call_event().id;
    produce_sdp(&mut sim, &id, ANSWER);
    assert_eq!(oks(&sim.take_responses()), 1);
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::ZipTone));
    assert_eq!(mic_requests(&sim, &id), 1);
}
