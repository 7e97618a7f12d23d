//! Reconnect with exponential backoff and full jitter: first retry ≤ 1 s, cap 30 s, reset after
//! a successful registration; status says "unreachable" with the retry time meanwhile.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::RegistrationState;

#[test]
fn backoff_grows_to_the_cap_and_resets() {
    let mut sim = Sim::new(14, None);
    let mut reg = Registrar::new();
    sim.configure(account("wss://sip.example.com", "alice", "alicepw"), Settings::default());
    let mut gaps = vec![];
    for _ in 0..12 {
        let before = sim.connects.len();
        let t = sim.now;
        sim.drop_flow(); // connection refused
        assert_eq!(sim.state(), RegistrationState::Unreachable);
        let retry = sim.ua.status(sim.now).connection.retry_in.unwrap();
        assert!(retry <= 30);
        let mut waited = 0;
        while sim.connects.len() == before && waited <= 31_000 {
            sim.advance(50);
            waited += 50;
        }
        assert_eq!(sim.connects.len(), before + 1);
        gaps.push(sim.connects.last().unwrap().0 - t);
    }
    assert!(gaps[0] <= 1_000, "{gaps:?}");
    assert!(gaps[1] <= 2_000, "{gaps:?}");
    assert!(gaps.iter().all(|g| *g <= 30_000), "{gaps:?}");
    assert!(gaps[6..].iter().any(|g| *g > 4_000), "grows: {gaps:?}");
    // Success resets the backoff.
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    assert_eq!(sim.ua.status(sim.now).connection.failures, 0);
    let t = sim.now;
    sim.drop_flow();
    sim.advance(1_000);
    assert!(sim.connects.last().unwrap().0 - t <= 1_000);
    // And after reconnecting it registers again by itself.
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    assert_eq!(reg.bindings["alice"].len(), 1, "same instance: the binding is replaced, not added");
}

#[test]
fn connect_timeout_counts_as_a_failure() {
    let mut sim = Sim::new(15, None);
    sim.configure(account("wss://sip.example.com", "alice", "alicepw"), Settings::default());
    sim.advance(10_000);
    assert_eq!(sim.closes.len(), 1);
    assert_eq!(sim.state(), RegistrationState::Unreachable);
}
