//! REGISTER over WSS: RFC 7118 Via/Contact, RFC 5626 outbound parameters, 401 → 200, state is
//! what the server granted.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::RegistrationState;

#[test]
fn registers_with_outbound_contact_after_one_challenge() {
    let mut sim = Sim::new(1, None);
    let mut reg = Registrar::new();
    sim.configure(account("wss://sip.example.com:8443/ws", "alice", "alicepw"), Settings::default());
    assert_eq!(sim.connects.last().unwrap().1, "wss://sip.example.com:8443/ws");
    assert_eq!(sim.state(), RegistrationState::Connecting);
    sim.open();

    let first = sim.take_request();
    assert_eq!(first.method.as_str(), "REGISTER");
    assert_eq!(first.uri, "sip:sip.example.com");
    let via = first.headers.top_via().unwrap();
    assert_eq!(via.transport, "WSS");
    assert!(via.host.ends_with(".invalid"), "{via:?}");
    assert!(via.branch().unwrap().starts_with("z9hG4bK"));
    assert!(via.params.has("rport"));
    let contact = &first.headers.contacts()[0];
    assert!(contact.uri.starts_with("sip:alice@") && contact.uri.contains(".invalid;transport=ws"), "{}", contact.uri);
    assert!(contact.uri.ends_with(";ob"), "{}", contact.uri);
    let instance = contact.params.get("+sip.instance").unwrap();
    assert!(instance.starts_with("<urn:uuid:") && instance.len() == 47, "{instance}");
    assert_eq!(contact.params.get("reg-id"), Some("1"));
    assert_eq!(first.headers.get("Expires"), Some("600"));
    assert!(first.headers.get("Authorization").is_none());
    assert_eq!(sim.state(), RegistrationState::Registering);

    let challenge = reg.handle(&first);
    assert_eq!(challenge.status, 401);
    sim.deliver_response(&challenge);
    let second = sim.take_request();
    assert_eq!(second.headers.call_id(), first.headers.call_id());
    assert_eq!(second.headers.cseq().unwrap().seq, first.headers.cseq().unwrap().seq + 1);
    assert_ne!(second.headers.top_via().unwrap().branch(), first.headers.top_via().unwrap().branch());
    assert_eq!(second.headers.from().unwrap().tag(), first.headers.from().unwrap().tag());
    assert!(second.headers.get("Authorization").unwrap().contains("username=\"alice\""));
    // Registering is not registered: nothing has been granted yet.
    assert_eq!(sim.state(), RegistrationState::Registering);

    let ok = reg.handle(&second);
    assert_eq!(ok.status, 200);
    sim.deliver_response(&ok);
    let st = sim.ua.status(sim.now);
    assert_eq!(st.registration.state, RegistrationState::Registered);
    assert_eq!(st.registration.expires_in, Some(600));
    assert_eq!(sim.statuses.last().unwrap().registration.state, RegistrationState::Registered);
    // The CSeq that was used is persisted for a worker restart.
    let id = sim.identities.last().unwrap();
    assert_eq!(id.register.as_ref().unwrap().cseq, second.headers.cseq().unwrap().seq);
    assert_eq!(reg.bindings["alice"].len(), 1);
}

#[test]
fn plain_ws_uses_ws_via_transport() {
    let mut sim = Sim::new(2, None);
    sim.configure(account("ws://127.0.0.1:8080", "alice", "alicepw"), Settings::default());
    assert_eq!(sim.connects[0].1, "ws://127.0.0.1:8080/");
    sim.open();
    let r = sim.take_request();
    assert_eq!(r.headers.top_via().unwrap().transport, "WS");
    assert_eq!(r.uri, "sip:127.0.0.1");
}
