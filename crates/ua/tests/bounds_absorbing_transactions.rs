//! Attack: a few dozen INVITEs refused with 486 and never ACKed, plus the calls that ring, used
//! to fill all 32 server-transaction slots (each refusal waits up to Timer H = 32 s for its ACK),
//! so every new request got 503. Transactions that only wait to absorb an ACK or a
//! retransmission never keep a live request out, and over a reliable transport (WebSocket)
//! Timers I and J are zero (those transactions end at the next timer run; a burst that arrives
//! before it is still answered in full).
mod common;
use common::*;
use ferrophone_ua::message::Message;

fn finals(sim: &mut Sim) -> Vec<u16> {
    sim.take_responses().iter().map(|r| r.status).filter(|s| *s >= 200).collect()
}

fn options(n: u32) -> Vec<u8> {
    format!("OPTIONS sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 10.0.0.9;branch=z9hG4bKabo{n}\r\nMax-Forwards: 70\r\nFrom: <sip:carol@y>;tag=c{n}\r\nTo: <sip:alice@y>\r\nCall-ID: ab-opt-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

#[test]
fn unacked_refusals_do_not_starve_live_requests() {
    let (mut sim, _reg) = registered_sim(440);
    sim.take_sent();
    let mut codes = std::collections::BTreeMap::new();
    for i in 0..60 {
        sim.deliver(&incoming_invite(&format!("z9hG4bKab{i}"), &format!("ab-{i}"), Some(OFFER), ""));
        for c in finals(&mut sim) {
            *codes.entry(c).or_insert(0u32) += 1;
        }
    }
    // max_calls (4) ring; the other 56 are refused with 486 and never ACKed.
    assert_eq!(sim.ua.calls().len(), 4);
    assert_eq!(codes.get(&486), Some(&56), "{codes:?}");
    assert_eq!(codes.get(&503), None, "{codes:?}");
    // A live request is still served, at once (no time passes).
    sim.deliver(&options(1));
    assert_eq!(finals(&mut sim), vec![200]);
    // A late ACK for an evicted refusal is harmless.
    sim.deliver(&in_dialog_from_bob("ACK", "ab-10", "whatever", 10, "z9hG4bKab10", None));
    assert!(sim.take_sent().is_empty());
    // The ringing calls are intact: answer one.
    let first = sim.ua.calls()[0].id.clone();
    sim.ua.answer(sim.now, &first).unwrap();
    sim.pump();
    sim.answer_media(ANSWER);
    assert_eq!(finals(&mut sim), vec![200]);
}

#[test]
fn a_burst_inside_one_host_task_is_all_answered() {
    let (mut sim, _reg) = registered_sim(441);
    sim.take_sent();
    // 300 requests, no time passing and no timer run in between (a burst inside one task).
    let mut codes = std::collections::BTreeMap::new();
    for n in 0..300 {
        sim.ua.handle_input(sim.now, ferrophone_ua::Input::Received(options(n)));
        loop {
            match sim.ua.poll_output() {
                ferrophone_ua::Output::Send(b) => {
                    if let Ok(Message::Response(r)) = ferrophone_ua::message::parse(&b) {
                        *codes.entry(r.status).or_insert(0u32) += 1;
                    }
                }
                ferrophone_ua::Output::Timeout(_) => break,
                _ => {}
            }
        }
    }
    assert_eq!(codes.get(&200), Some(&300), "{codes:?}");
}
