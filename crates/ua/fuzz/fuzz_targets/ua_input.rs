//! The core's whole input path: a registered user agent receives arbitrary frames (and time
//! passes between them). It must never panic, and every byte it sends must be a message that
//! our own parser accepts (or a keep-alive).
#![no_main]

use ferrophone_ua::config::{Account, AccountRecord, Settings};
use ferrophone_ua::{Input, Output, UserAgent};
use libfuzzer_sys::fuzz_target;

fn drain(ua: &mut UserAgent) {
    for _ in 0..10_000 {
        match ua.poll_output() {
            Output::Send(bytes) => {
                if !bytes.iter().all(|b| *b == b'\r' || *b == b'\n') {
                    assert!(ferrophone_ua::message::parse(&bytes).is_ok(), "UA sent an unparseable message");
                }
            }
            Output::Event(ferrophone_ua::Event::Media(m)) if m.op.wants_sdp() => {
                let result = Ok(Some("v=0\r\nm=audio 9 RTP/AVP 0\r\n".into()));
                ua.handle_input(0, ferrophone_ua::Input::Media(ferrophone_ua::MediaResult::Done { request: m, result }));
            }
            Output::Timeout(_) => return,
            _ => {}
        }
    }
    panic!("poll_output never settles");
}

fuzz_target!(|data: &[u8]| {
    let rec: AccountRecord = serde_json::from_str(
        r#"{"version":1,"server":"wss://sip.example.com","username":"alice","password":"pw"}"#,
    )
    .expect("valid literal");
    let account = Account::from_record(&rec, None).expect("valid literal");
    let mut ua = UserAgent::new(1, None);
    let mut now = 1_000u64;
    ua.handle_input(now, Input::Configure { account: Some(account), settings: Settings::default() });
    drain(&mut ua);
    ua.handle_input(now, Input::Connected);
    drain(&mut ua);
    // Frames are separated by 0xFF; a frame starting with 0xFE advances time instead.
    for frame in data.split(|b| *b == 0xFF) {
        if let Some((&0xFE, rest)) = frame.split_first() {
            now += rest.first().copied().unwrap_or(0) as u64 * 1000;
            ua.handle_timeout(now);
        } else if frame.first() == Some(&0xFD) {
            // Exercise the call API on whatever calls exist.
            for c in ua.calls() {
                let _ = ua.answer(now, &c.id);
                let _ = ua.hangup(now, &c.id);
            }
            let _ = ua.dial(now, "bob");
        } else {
            ua.handle_input(now, Input::Received(frame.to_vec()));
        }
        drain(&mut ua);
    }
});
