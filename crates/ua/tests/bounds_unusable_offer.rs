//! Attack: INVITEs whose SDP offer we cannot use (not SDP at all, no audio, port 0, no payload
//! types, no connection address, no version line) used to ring like any call. They are refused
//! with 488 Not Acceptable Here and never become a call.
mod common;
use common::*;

const BAD: &[(&str, &str)] = &[
    ("garbage", "hello world\r\n"),
    ("empty lines", "\r\n\r\n"),
    ("no audio", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n"),
    ("port 0", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"),
    ("no payload", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP\r\n"),
    ("bad payload", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP x1\r\n"),
    ("bad port", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n"),
    ("no c=", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
    ("no v=", "o=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
    ("no o=", "v=0\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
    ("no s=", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
    ("only DTMF", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n"),
];

#[test]
fn unusable_offers_are_refused_with_488() {
    let (mut sim, _reg) = registered_sim(450);
    sim.take_sent();
    for (i, (what, sdp)) in BAD.iter().enumerate() {
        sim.deliver(&incoming_invite(&format!("z9hG4bKuo{i}"), &format!("uo-{i}"), Some(sdp), ""));
        let finals: Vec<u16> = sim.take_responses().iter().map(|r| r.status).filter(|s| *s >= 200).collect();
        assert_eq!(finals, vec![488], "{what}");
    }
    assert!(sim.ua.calls().is_empty(), "no call from an unusable offer: {:?}", sim.ua.calls());
    assert!(sim.call_events.is_empty());
    assert!(sim.media.is_empty(), "nothing for the media side");

    // A usable offer, including one with the connection line per m= line, still rings; so does
    // an INVITE without an offer (the offer goes in our 200).
    let per_media_c = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0 8 101\r\nc=IN IP4 10.0.0.1\r\na=rtpmap:101 telephone-event/8000\r\n";
    for (i, sdp) in [Some(OFFER), Some(per_media_c), None].into_iter().enumerate() {
        sim.deliver(&incoming_invite(&format!("z9hG4bKok{i}"), &format!("ok-{i}"), sdp, ""));
        let codes: Vec<u16> = sim.take_responses().iter().map(|r| r.status).collect();
        assert_eq!(codes, vec![100, 180], "usable offer {i}");
    }
    assert_eq!(sim.ua.calls().len(), 3);
}

#[test]
fn an_unusable_reoffer_is_refused_and_the_call_goes_on() {
    let (mut sim, id, tag) = answered_incoming(451, "uo-re", "");
    sim.take_sent();
    sim.deliver(&in_dialog_from_bob("INVITE", "uo-re", &tag, 11, "z9hG4bKuore", Some("hello\r\n")));
    assert_eq!(sim.last_response().status, 488);
    assert!(sim.ua.call(&id).is_some_and(|c| c.state == ferrophone_ua::call::CallState::Active));
    // The next, valid, re-offer is handled.
    sim.deliver(&in_dialog_from_bob("ACK", "uo-re", &tag, 11, "z9hG4bKuoreack", None));
    sim.deliver(&in_dialog_from_bob("INVITE", "uo-re", &tag, 12, "z9hG4bKuore2", Some(OFFER)));
    sim.answer_media(ANSWER);
    assert_eq!(sim.last_response().status, 200);
}
