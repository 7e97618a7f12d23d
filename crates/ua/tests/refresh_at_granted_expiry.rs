//! The refresh is scheduled from what the server granted, not what we asked for.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::RegistrationState;

#[test]
fn refreshes_before_the_granted_expiry() {
    let mut sim = Sim::new(10, None);
    let mut reg = Registrar::new();
    reg.max_expires = 120;
    sim.configure(account("wss://sip.example.com", "alice", "alicepw"), Settings::default());
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.ua.status(sim.now).registration.expires_in, Some(120));
    let count = sim.requests_with_method("REGISTER").len();
    sim.advance(59_000);
    assert_eq!(sim.requests_with_method("REGISTER").len(), count, "too early");
    sim.advance(2_000);
    assert_eq!(sim.requests_with_method("REGISTER").len(), count + 1, "refresh at 60 s of 120");
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    // Keeps refreshing for an hour without ever lapsing.
    for _ in 0..60 {
        sim.advance(60_000);
        serve_registers(&mut sim, &mut reg);
        assert_eq!(sim.state(), RegistrationState::Registered);
    }
}

#[test]
fn registration_lapses_when_refresh_gets_no_answer_on_a_live_flow() {
    let mut sim = Sim::new(11, None);
    let mut reg = Registrar::new();
    reg.max_expires = 120;
    sim.configure(account("wss://sip.example.com", "alice", "alicepw"), Settings::default());
    sim.open();
    serve_registers(&mut sim, &mut reg);
    sim.advance(61_000);
    // The refresh is never answered: Timer F (32 s) → the flow is considered broken.
    sim.take_sent();
    sim.advance(33_000);
    assert_ne!(sim.state(), RegistrationState::Registered);
    assert!(!sim.closes.is_empty());
}
