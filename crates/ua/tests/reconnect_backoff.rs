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

/// The retry ceiling follows the outage, not the number of refused connections: a server that
/// refuses at once (restarting) is retried within half the time it has been gone (at least 1 s),
/// so after a 5-second restart the next attempt comes within ~3 s at worst.
#[test]
fn ceiling_follows_the_outage() {
    for seed in 20..40 {
        let mut sim = Sim::new(seed, None);
        sim.configure(account("wss://sip.example.com", "alice", "alicepw"), Settings::default());
        let start = sim.now;
        sim.drop_flow(); // refused at once, again and again
        let mut last_failure = sim.now;
        while sim.now - start < 70_000 {
            let before = sim.connects.len();
            sim.advance(10);
            if sim.connects.len() > before {
                let gap = sim.now - last_failure;
                let outage = last_failure - start;
                assert!(gap <= 1_000.max(outage / 2) + 10, "seed {seed}: gap {gap} ms after {outage} ms of outage");
                sim.drop_flow();
                last_failure = sim.now;
            }
        }
        let retry = sim.ua.status(sim.now).connection.retry_in.unwrap();
        assert!(retry <= 30, "capped at 30 s");
    }
}
