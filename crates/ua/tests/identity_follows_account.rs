//! Attack (linkability): after "forget everything" and a new account, or any change of server or
//! user, the REGISTER carried the same `+sip.instance` and contact host, so two accounts could be
//! linked to one browser. The device identity (instance id, contact host, REGISTER Call-ID)
//! belongs to one account on one server; a new one starts with a fresh identity, and the old one
//! is never written back. A password change keeps it (same binding).
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::Request;
use ferrophone_ua::{Input, RegistrationState};

fn instance(r: &Request) -> String {
    let c = r.headers.get("Contact").unwrap();
    let v = c.split("+sip.instance=").nth(1).unwrap();
    v.trim_start_matches(['"', '<']).trim_start_matches("urn:uuid:").split(['>', '"']).next().unwrap().to_string()
}

fn contact_host(r: &Request) -> String {
    let c = r.headers.get("Contact").unwrap();
    c.split('@').nth(1).unwrap().split([';', '>']).next().unwrap().to_string()
}

fn ids(r: &Request) -> (String, String, String) {
    (instance(r), contact_host(r), r.headers.call_id().unwrap().to_string())
}

#[test]
fn forget_everything_then_a_new_account_gets_a_new_identity() {
    let (mut sim, mut reg) = registered_sim(1241);
    let first = ids(&sim.last_request("REGISTER"));
    sim.input(Input::Configure { account: None, settings: Settings::default() });
    let unreg = sim.take_request();
    sim.deliver_response(&reg.handle(&unreg));
    sim.pump();
    let identity_after_forget = sim.identities.last().unwrap().clone();
    assert_ne!(identity_after_forget.instance_id, first.0, "the forgotten identity is not the last one written");
    // A new account (here: even the same one typed again) on the same browser.
    reg.users.insert("carol".into(), "carolpw".into());
    sim.configure(account("wss://sip.example.com/ws", "carol", "carolpw"), Settings::default());
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    let second = ids(&sim.last_request("REGISTER"));
    assert_ne!(second.0, first.0, "new +sip.instance");
    assert_ne!(second.1, first.1, "new contact host");
    assert_ne!(second.2, first.2, "new REGISTER Call-ID");
    assert!(sim.identities.iter().rev().take_while(|i| i.instance_id != first.0).count() > 0);
    assert_eq!(sim.identities.last().unwrap().instance_id, second.0, "the new identity is what is persisted");
}

#[test]
fn changing_user_or_server_gets_a_new_identity_and_the_old_binding_is_removed_with_the_old_one() {
    let (mut sim, mut reg) = registered_sim(1242);
    let first = ids(&sim.last_request("REGISTER"));
    reg.users.insert("bob".into(), "bobpw".into());
    sim.take_sent();
    sim.configure(account("wss://sip.example.com/ws", "bob", "bobpw"), Settings::default());
    let unreg = sim.take_request();
    // The un-REGISTER still speaks for the old identity, so the old binding goes away.
    assert_eq!(ids(&unreg), first);
    sim.deliver_response(&reg.handle(&unreg));
    serve_registers(&mut sim, &mut reg);
    let second = ids(&sim.last_request("REGISTER"));
    assert_ne!(second.0, first.0);
    assert_ne!(second.1, first.1);
    assert_ne!(second.2, first.2);

    // Other server, same user.
    sim.take_sent();
    sim.configure(account("wss://other.example.com/ws", "bob", "bobpw"), Settings::default());
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.connects.last().unwrap().1, "wss://other.example.com/ws");
    // (The harness reports the old socket's close to the new attempt: let the retry connect.)
    let attempts = sim.connects.len();
    while sim.connects.len() == attempts {
        sim.advance(1_000);
    }
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    let third = ids(&sim.last_request("REGISTER"));
    assert_ne!(third.0, second.0);
}

#[test]
fn a_password_change_keeps_the_identity() {
    let (mut sim, mut reg) = registered_sim(1243);
    let first = ids(&sim.last_request("REGISTER"));
    reg.users.insert("alice".into(), "newpw".into());
    sim.take_sent();
    sim.configure(account("wss://sip.example.com/ws", "alice", "newpw"), Settings::default());
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    let second = ids(&sim.last_request("REGISTER"));
    assert_eq!(second.0, first.0);
    assert_eq!(second.1, first.1);
}

#[test]
fn an_identity_restored_for_another_account_is_not_reused() {
    let (sim, _reg) = registered_sim(1244);
    let stored = sim.identities.last().unwrap().clone();
    // The worker restarts after the account was replaced while it was not running.
    let mut sim = Sim::new(1245, Some(stored.clone()));
    let mut reg = Registrar::new();
    reg.users.insert("dave".into(), "davepw".into());
    sim.configure(account("wss://sip.example.com/ws", "dave", "davepw"), Settings::default());
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_ne!(instance(&sim.last_request("REGISTER")), stored.instance_id);
    // The same account restores it (no ghost binding after a worker restart).
    let mut sim = Sim::new(1246, Some(stored.clone()));
    let mut reg = Registrar::new();
    sim.configure(account("wss://sip.example.com/ws", "alice", "alicepw"), Settings::default());
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(instance(&sim.last_request("REGISTER")), stored.instance_id);
}
