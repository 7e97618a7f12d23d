//! BroadSoft remote control: NOTIFY `Event: talk` answers a ringing call (and resumes a held
//! one); `Event: hold` holds an active call with a sendonly re-INVITE; unknown events → 489.
mod common;
use common::*;
use ferrophone_ua::call::{CallState, MediaOp};
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::{Message, Method, Response};

/// Remote control is honoured only when the user turned server control on.
fn server_control_on(seed: u64) -> Sim {
    registered_sim_with(seed, Settings { auto_answer: "headers".into(), ..Settings::default() }).0
}

fn notify(call_id: &str, tag: &str, cseq: u32, event: &str) -> Vec<u8> {
    let base =
        String::from_utf8(in_dialog_from_bob("NOTIFY", call_id, tag, cseq, &format!("z9hG4bKn{cseq}"), None)).unwrap();
    base.replacen("Content-Length: 0", &format!("Event: {event}\r\nContent-Length: 0"), 1).into_bytes()
}

#[test]
fn talk_answers_hold_holds_talk_resumes() {
    let mut sim = server_control_on(90);
    sim.take_sent();
    sim.deliver(&incoming_invite("z9hG4bKbs", "bs-1", Some(OFFER), ""));
    let tag = sim
        .take_sent()
        .into_iter()
        .find_map(|m| match m {
            Message::Response(r) if r.status == 180 => r.headers.to().unwrap().tag().map(str::to_string),
            _ => None,
        })
        .unwrap();
    let id = sim.last_call_event().id;
    // Without any header it rings and waits: no 200 for ten seconds.
    sim.advance(10_000);
    assert!(sim.take_sent().iter().all(|m| !matches!(m, Message::Response(r) if r.status == 200)));

    sim.deliver(&notify("bs-1", &tag, 11, "talk"));
    assert_eq!(sim.last_response().status, 200, "NOTIFY talk accepted");
    sim.answer_media(ANSWER);
    assert_eq!(sim.last_response().status, 200, "the INVITE is answered");
    sim.deliver(&in_dialog_from_bob("ACK", "bs-1", &tag, 10, "z9hG4bKbsack", None));
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
    // Answered without a user action: announced like any automatic answer.
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::StopRing), "the ringtone stops");
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::ZipTone), "the remote answer is announced");
    assert!(sim.ua.call(&id).unwrap().auto_answer);

    sim.deliver(&notify("bs-1", &tag, 12, "hold"));
    assert_eq!(sim.last_response().status, 200);
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Reoffer { direction: "sendonly", ice_restart: false }));
    sim.answer_media("v=0\r\nm=audio 1 RTP/AVP 0\r\na=sendonly\r\n");
    let reinvite = sim.take_request();
    assert_eq!(reinvite.method, Method::Invite);
    assert!(String::from_utf8_lossy(&reinvite.body).contains("a=sendonly"));
    sim.deliver_response(&Response::for_request(&reinvite, 200, "OK", None));
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Held);

    sim.take_sent();
    sim.deliver(&notify("bs-1", &tag, 13, "talk"));
    assert_eq!(sim.last_response().status, 200);
    assert!(sim.has_media_op(&id, |op| *op == MediaOp::Reoffer { direction: "sendrecv", ice_restart: false }));
    sim.answer_media("v=0\r\nm=audio 1 RTP/AVP 0\r\na=sendrecv\r\n");
    let resume = sim.take_request();
    assert!(String::from_utf8_lossy(&resume.body).contains("a=sendrecv"));
    sim.deliver_response(&Response::for_request(&resume, 200, "OK", None));
    assert_eq!(sim.ua.call(&id).unwrap().state, CallState::Active);
}

#[test]
fn unknown_event_is_489() {
    let mut sim = server_control_on(91);
    sim.deliver(&incoming_invite("z9hG4bKbs2", "bs-2", Some(OFFER), ""));
    let tag = sim
        .take_sent()
        .into_iter()
        .find_map(|m| match m {
            Message::Response(r) if r.status == 180 => r.headers.to().unwrap().tag().map(str::to_string),
            _ => None,
        })
        .unwrap();
    sim.deliver(&notify("bs-2", &tag, 11, "conference"));
    let r = sim.last_response();
    assert_eq!(r.status, 489);
    assert_eq!(r.headers.get("Allow-Events"), Some("talk, hold, refer"));
}
