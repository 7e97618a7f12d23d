//! Attack: the far end of an answered call transfers us (REFER) to a target outside the
//! account's domain (`sip:listener@evil.example`). By default only targets in the account's
//! domain (or numbers, routed through the account's server) are followed; `transferTargets`
//! widens it to `any` or turns transfers off (`never`). A refused transfer never places a call.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::{Message, Method};

fn refer(call_id: &str, tag: &str, cseq: u32, target: &str) -> Vec<u8> {
    String::from_utf8(in_dialog_from_bob("REFER", call_id, tag, cseq, &format!("z9hG4bKrt{cseq}"), None))
        .unwrap()
        .replacen("Content-Length: 0", &format!("Refer-To: <{target}>\r\nContent-Length: 0"), 1)
        .into_bytes()
}

fn answered_with(seed: u64, call_id: &str, transfer_targets: &str) -> (Sim, String) {
    let settings = Settings { transfer_targets: transfer_targets.into(), ..Settings::default() };
    let (mut sim, _reg) = registered_sim_with(seed, settings);
    let (_id, tag) = answer_incoming(&mut sim, call_id, "");
    sim.take_sent();
    (sim, tag)
}

fn invites_sent(sim: &Sim) -> Vec<String> {
    sim.sent
        .iter()
        .filter_map(|m| match m {
            Message::Request(r) if r.method == Method::Invite => Some(r.uri.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn foreign_domain_is_refused_by_default() {
    let (mut sim, tag) = answered_with(1211, "rt-1", "domain");
    let before = invites_sent(&sim).len();
    for (cseq, target) in [
        (11, "sip:listener@evil.example"),
        (12, "sips:listener@evil.example"),
        (13, "sip:1000@sip.example.com;maddr=evil.example"),
        (14, "sip:listener@sip.example.com.evil.example"),
    ] {
        sim.deliver(&refer("rt-1", &tag, cseq, target));
        assert_eq!(sim.last_response().status, 403, "{target} refused");
    }
    sim.advance(5_000);
    assert_eq!(invites_sent(&sim).len(), before, "no INVITE toward any refused target");
    assert_eq!(sim.ua.calls().len(), 1, "no new call");
    assert!(sim.transfers.is_empty(), "nothing reported as a transfer");
}

#[test]
fn account_domain_and_numbers_are_followed() {
    let (mut sim, tag) = answered_with(1212, "rt-2", "domain");
    sim.deliver(&refer("rt-2", &tag, 11, "sip:carol@SIP.example.com"));
    assert_eq!(sim.last_response().status, 202);
    let (mut sim2, tag2) = answered_with(1213, "rt-3", "domain");
    sim2.deliver(&refer("rt-3", &tag2, 11, "tel:+15550100"));
    assert_eq!(sim2.last_response().status, 202, "a number goes through the account's server");
    sim2.answer_media(OFFER);
    let uri = invites_sent(&sim2).pop().unwrap();
    assert!(uri.starts_with("sip:+15550100@sip.example.com"), "{uri}");
}

#[test]
fn any_follows_every_target_and_never_refuses_all() {
    let (mut sim, tag) = answered_with(1214, "rt-4", "any");
    sim.deliver(&refer("rt-4", &tag, 11, "sip:listener@elsewhere.example"));
    assert_eq!(sim.last_response().status, 202);

    let (mut sim, tag) = answered_with(1215, "rt-5", "never");
    sim.deliver(&refer("rt-5", &tag, 11, "sip:carol@sip.example.com"));
    assert_eq!(sim.last_response().status, 603);
    sim.advance(2_000);
    assert_eq!(sim.ua.calls().len(), 1);
}
