//! RFC 8760: a SHA-256 challenge is answered with SHA-256; when MD5 is offered too, the
//! stronger algorithm wins.
mod common;
use common::*;
use ferrophone_ua::config::Settings;
use ferrophone_ua::RegistrationState;

fn run(offer_both: bool) {
    let mut sim = Sim::new(5, None);
    let mut reg = Registrar::new();
    reg.algorithm = "SHA-256".into();
    reg.offer_both = offer_both;
    sim.configure(account("wss://sip.example.com", "alice", "alicepw"), Settings::default());
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    let last = sim.requests_with_method("REGISTER").last().unwrap().headers.get("Authorization").unwrap().to_string();
    assert!(last.contains("algorithm=SHA-256"), "{last}");
    let response = digest_params(&last)["response"].clone();
    assert_eq!(response.len(), 64, "a SHA-256 digest is 64 hex digits");
}

#[test]
fn answers_sha256_challenge() {
    run(false);
}

#[test]
fn prefers_sha256_over_md5() {
    run(true);
}
