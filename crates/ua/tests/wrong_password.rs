//! A wrong password ends as "authentication failed" after exactly one authenticated attempt.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::RegistrationState;

#[test]
fn wrong_password_is_auth_failed_without_a_loop() {
    let mut sim = Sim::new(3, None);
    let mut reg = Registrar::new();
    sim.configure(account("wss://sip.example.com", "alice", "WRONG"), Settings::default());
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::AuthFailed);
    assert_eq!(reg.registers_seen, 2, "one unauthenticated REGISTER, one answer to the challenge");
    let reason = sim.ua.status(sim.now).registration.reason.unwrap();
    assert!(reason.starts_with("401"), "{reason}");
    // Ten minutes later: still no new attempt, still auth-failed, flow kept alive.
    sim.advance(600_000);
    serve_registers(&mut sim, &mut reg);
    assert_eq!(reg.registers_seen, 2);
    assert_eq!(sim.state(), RegistrationState::AuthFailed);
    assert!(sim.keepalives.len() >= 20);
}

#[test]
fn forbidden_is_auth_failed_too() {
    let mut sim = Sim::new(4, None);
    sim.configure(account("wss://sip.example.com", "alice", "x"), Settings::default());
    sim.open();
    let r = sim.take_request();
    let resp = ferrophone_ua::message::Response::for_request(&r, 403, "Forbidden", Some("t"));
    sim.deliver_response(&resp);
    assert_eq!(sim.state(), RegistrationState::AuthFailed);
    sim.advance(300_000);
    assert!(sim.requests_with_method("REGISTER").len() == 1);
}
