//! A refresh that reuses an expired nonce gets `stale=true` and is retried silently.
mod common;
use common::*;
use ferrophone_ua::RegistrationState;

#[test]
fn stale_nonce_is_retried_without_failing() {
    let (mut sim, mut reg) = registered_sim(6);
    let before = reg.registers_seen;
    // The server forgets its nonces (they expired).
    reg.valid_nonces.clear();
    let mut seen_states = vec![];
    sim.advance(541_000);
    for _ in 0..5 {
        serve_registers(&mut sim, &mut reg);
        seen_states.push(sim.state());
    }
    assert_eq!(sim.state(), RegistrationState::Registered);
    assert!(!seen_states.contains(&RegistrationState::AuthFailed));
    assert!(sim.statuses.iter().all(|s| s.registration.state != RegistrationState::AuthFailed));
    // Refresh with the old nonce (pre-emptive), stale challenge, answer: exactly 2 more.
    assert_eq!(reg.registers_seen - before, 2);
    let regs = sim.requests_with_method("REGISTER");
    let n = regs.len();
    let p1 = digest_params(regs[n - 2].headers.get("Authorization").unwrap());
    let p2 = digest_params(regs[n - 1].headers.get("Authorization").unwrap());
    assert_ne!(p1["nonce"], p2["nonce"]);
}

#[test]
fn preemptive_credentials_increment_nonce_count() {
    let (mut sim, mut reg) = registered_sim(7);
    sim.advance(541_000);
    serve_registers(&mut sim, &mut reg);
    let regs = sim.requests_with_method("REGISTER");
    let last = digest_params(regs.last().unwrap().headers.get("Authorization").unwrap());
    assert_eq!(last["nc"], "00000002", "the refresh reuses the nonce with nc=2");
    assert_eq!(sim.state(), RegistrationState::Registered);
}
