//! Changing the account un-registers the old contact first, then registers the new one on
//! the same flow (same server) or a new flow (other server).
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::message::Message;
use ferrophone_ua::{Command, Input, RegistrationState};

#[test]
fn switch_user_on_the_same_server() {
    let (mut sim, mut reg) = registered_sim(24);
    reg.users.insert("bob".into(), "bobpw".into());
    sim.take_sent();
    sim.configure(account("wss://sip.example.com/ws", "bob", "bobpw"), Settings::default());
    let unreg = sim.take_request();
    assert_eq!(unreg.headers.get("Expires"), Some("0"));
    assert!(unreg.headers.get("To").unwrap().contains("alice"));
    let r = reg.handle(&unreg);
    sim.deliver_response(&r);
    serve_registers(&mut sim, &mut reg);
    assert!(reg.bindings["alice"].is_empty(), "old contact removed");
    assert_eq!(reg.bindings["bob"].len(), 1);
    assert_eq!(sim.state(), RegistrationState::Registered);
    assert_eq!(sim.connects.len(), 1, "same server: same flow");
    let last = sim.last_request("REGISTER");
    assert!(last.headers.get("To").unwrap().contains("bob"));
}

#[test]
fn switch_server_opens_a_new_flow_after_unregistering() {
    let (mut sim, mut reg) = registered_sim(25);
    sim.take_sent();
    sim.configure(account("wss://other.example.com/ws", "alice", "alicepw"), Settings::default());
    let unreg = sim.take_request();
    let r = reg.handle(&unreg);
    sim.deliver_response(&r);
    serve_registers(&mut sim, &mut reg);
    assert!(reg.bindings["alice"].is_empty());
    assert_eq!(sim.connects.last().unwrap().1, "wss://other.example.com/ws");
    assert_eq!(sim.closes.len(), 1);
}

#[test]
fn removing_the_account_unregisters_and_closes() {
    let (mut sim, mut reg) = registered_sim(26);
    sim.take_sent();
    sim.input(Input::Configure { account: None, settings: Settings::default() });
    let unreg = sim.take_request();
    assert_eq!(unreg.headers.get("Expires"), Some("0"));
    let r = reg.handle(&unreg);
    sim.deliver_response(&r);
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Unconfigured);
    assert_eq!(sim.closes.len(), 1);
}

#[test]
fn unregister_that_gets_no_answer_does_not_block_the_switch() {
    let (mut sim, _reg) = registered_sim(27);
    sim.take_sent();
    sim.configure(account("wss://other.example.com/ws", "alice", "alicepw"), Settings::default());
    sim.advance(5_000);
    assert_eq!(sim.connects.last().unwrap().1, "wss://other.example.com/ws");
}

#[test]
fn shutdown_unregisters() {
    let (mut sim, mut reg) = registered_sim(28);
    sim.take_sent();
    sim.input(Input::Command(Command::Shutdown));
    let msgs = sim.take_sent();
    let Message::Request(unreg) = &msgs[0] else { panic!() };
    let r = reg.handle(unreg);
    sim.deliver_response(&r);
    assert!(reg.bindings["alice"].is_empty());
    assert_eq!(sim.state(), RegistrationState::Unregistered);
}

#[test]
fn status_never_says_registered_for_an_account_that_is_not() {
    let (mut sim, mut reg) = registered_sim(29);
    let before = sim.statuses.len();
    sim.configure(account("wss://sip.example.com/ws", "dave", "wrong"), Settings::default());
    let unreg = sim.take_request();
    let r = reg.handle(&unreg);
    sim.deliver_response(&r);
    serve_registers(&mut sim, &mut reg);
    let states: Vec<RegistrationState> = sim.statuses[before..].iter().map(|s| s.registration.state).collect();
    assert!(!states.contains(&RegistrationState::Registered), "{states:?}");
    assert_eq!(sim.state(), RegistrationState::AuthFailed);
}
