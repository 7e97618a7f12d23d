//! Attack: a callee (or a REFER target) answers our INVITE with `407 realm="evil.example"` to
//! obtain a digest of the user's password it can crack offline. Credentials are computed only
//! for the realms the registrar challenged with, the account's domain and realms the user listed
//! (`trustedRealms`); for a call placed because a far end asked (REFER), only for the
//! registrar's. Otherwise the call ends `untrusted-realm` and no credentials leave.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::{Message, Method, Request, Response};

fn challenge(invite: &Request, realm: &str) -> Response {
    let mut r = response_with_sdp(invite, 407, "Proxy Authentication Required", "evtag", None);
    r.headers
        .push("Proxy-Authenticate", format!("Digest realm=\"{realm}\", nonce=\"n0nce\", qop=\"auth\", algorithm=MD5"));
    r
}

fn credentials_sent(sim: &Sim) -> usize {
    sim.sent
        .iter()
        .filter(|m| {
            matches!(m, Message::Request(r) if r.method == Method::Invite
            && (r.headers.get("Proxy-Authorization").is_some() || r.headers.get("Authorization").is_some()))
        })
        .count()
}

#[test]
fn foreign_realm_gets_no_credentials() {
    let (mut sim, _reg) = registered_sim(1231);
    let (id, invite) = dial_out(&mut sim, "bob");
    sim.deliver_response(&challenge(&invite, "evil.example"));
    assert_eq!(credentials_sent(&sim), 0, "no Proxy-Authorization for evil.example");
    let sent = sim.take_sent();
    assert!(sent.iter().any(|m| matches!(m, Message::Request(r) if r.method == Method::Ack)), "the 407 is ACKed");
    assert!(sent.iter().all(|m| !matches!(m, Message::Request(r) if r.method == Method::Invite)), "no second INVITE");
    assert_eq!(sim.ua.call(&id).unwrap().end_reason.map(|r| r.to_string()).as_deref(), Some("untrusted-realm"));
    assert!(sim.logs.iter().any(|l| l.contains("evil.example") && l.contains("not a trusted realm")));
}

#[test]
fn registrar_realm_account_domain_and_listed_realms_get_credentials() {
    for (seed, realm, listed) in [
        (1232, "lab", vec![]),
        (1233, "sip.example.com", vec![]),
        (1234, "partner.example", vec!["partner.example".to_string()]),
    ] {
        let settings = Settings { trusted_realms: listed, ..Settings::default() };
        let (mut sim, _reg) = registered_sim_with(seed, settings);
        let (_id, invite) = dial_out(&mut sim, "bob");
        sim.deliver_response(&challenge(&invite, realm));
        assert_eq!(credentials_sent(&sim), 1, "realm {realm} is trusted");
    }
}

#[test]
fn a_call_placed_for_a_refer_answers_only_the_registrars_realm() {
    // The far end of an answered call transfers us to a target in our domain that challenges
    // with the account's domain as realm, which the registrar never used ("lab" here).
    let (mut sim, _old, tag) = answered_incoming(1235, "dg-1", "");
    let refer = String::from_utf8(in_dialog_from_bob("REFER", "dg-1", &tag, 11, "z9hG4bKdgr", None)).unwrap().replacen(
        "Content-Length: 0",
        "Refer-To: <sip:carol@sip.example.com>\r\nContent-Length: 0",
        1,
    );
    sim.deliver(refer.as_bytes());
    assert_eq!(sim.last_response().status, 202);
    sim.answer_media(OFFER);
    let invite = sim.take_request_of(Method::Invite);
    sim.deliver_response(&challenge(&invite, "sip.example.com"));
    assert_eq!(credentials_sent(&sim), 0, "no digest for a realm the registrar did not use");
    let new = sim.ua.calls().into_iter().find(|c| c.id != _old);
    assert!(new.is_none() || new.unwrap().end_reason.map(|r| r.to_string()).as_deref() == Some("untrusted-realm"));
    let ended = sim
        .call_events
        .iter()
        .rev()
        .find(|c| c.end_reason.map(|r| r.to_string()).as_deref() == Some("untrusted-realm"));
    assert!(ended.is_some(), "the transferred call ended untrusted-realm");

    // The registrar's own realm is answered for such a call.
    let (mut sim, old, tag) = answered_incoming(1236, "dg-2", "");
    let refer = String::from_utf8(in_dialog_from_bob("REFER", "dg-2", &tag, 11, "z9hG4bKdgr2", None))
        .unwrap()
        .replacen("Content-Length: 0", "Refer-To: <sip:carol@sip.example.com>\r\nContent-Length: 0", 1);
    sim.deliver(refer.as_bytes());
    sim.answer_media(OFFER);
    let invite = sim.take_request_of(Method::Invite);
    sim.deliver_response(&challenge(&invite, "lab"));
    assert_eq!(credentials_sent(&sim), 1);
    let _ = old;
}
