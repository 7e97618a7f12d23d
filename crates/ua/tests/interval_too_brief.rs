//! 423 Interval Too Brief: retry with the server's Min-Expires.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::RegistrationState;

#[test]
fn follows_min_expires() {
    let mut sim = Sim::new(8, None);
    let mut reg = Registrar::new();
    reg.min_expires = Some(1800);
    sim.configure(account("wss://sip.example.com", "alice", "alicepw"), Settings::default());
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    let last = sim.last_request("REGISTER");
    assert_eq!(last.headers.get("Expires"), Some("1800"));
    assert_eq!(sim.ua.status(sim.now).registration.expires_in, Some(1800));
}

#[test]
fn a_423_without_min_expires_is_a_failure_not_a_loop() {
    let mut sim = Sim::new(9, None);
    sim.configure(account("wss://sip.example.com", "alice", "alicepw"), Settings::default());
    sim.open();
    let r = sim.take_request();
    sim.deliver_response(&ferrophone_ua::message::Response::for_request(&r, 423, "Interval Too Brief", Some("t")));
    assert_eq!(sim.state(), RegistrationState::Unregistered);
    assert!(sim.take_sent().is_empty());
}
