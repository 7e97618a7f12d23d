//! A restarted worker restores the identity: same instance, same Call-ID, CSeq continues, so
//! the registrar refreshes the binding instead of adding a second contact.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::RegistrationState;

#[test]
fn restart_continues_the_same_registration() {
    let (sim, mut reg) = registered_sim(23);
    let saved = sim.identities.last().unwrap().clone();
    let old_register = sim.last_request("REGISTER");
    drop(sim);

    let mut sim = Sim::new(999, Some(saved.clone()));
    assert!(sim.identities.is_empty(), "a restored identity is not re-announced");
    sim.configure(account("wss://sip.example.com/ws", "alice", "alicepw"), Settings::default());
    sim.open();
    let first = sim.take_request();
    assert_eq!(first.headers.call_id(), old_register.headers.call_id());
    assert!(first.headers.cseq().unwrap().seq > old_register.headers.cseq().unwrap().seq);
    assert_eq!(
        first.headers.contacts()[0].params.get("+sip.instance"),
        old_register.headers.contacts()[0].params.get("+sip.instance")
    );
    assert_eq!(first.headers.contacts()[0].uri, old_register.headers.contacts()[0].uri);
    let r = reg.handle(&first);
    sim.deliver_response(&r);
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    assert_eq!(reg.bindings["alice"].len(), 1);
}

#[test]
fn a_corrupt_stored_identity_is_replaced() {
    let mut bad = ferrophone_ua::identity::Identity {
        instance_id: "not-a-uuid".into(),
        contact_host: "x.invalid".into(),
        register: None,
    };
    let sim = Sim::new(1, Some(bad.clone()));
    assert_ne!(sim.ua.identity().instance_id, bad.instance_id);
    bad.contact_host = "evil host\r\nX: y".into();
    let sim = Sim::new(1, Some(bad));
    assert!(sim.ua.identity().contact_host.ends_with(".invalid"));
}
