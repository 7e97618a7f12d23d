//! RFC 5626 §4.4.1 CRLF keep-alive: pings every ≤ 25 s; when pongs stop, the flow is dead,
//! it is closed and a reconnect is scheduled.
mod common;
use common::*;
use ferrophone_ua::{ConnectionState, RegistrationState};

#[test]
fn pings_every_25_seconds_and_detects_a_dead_flow() {
    let (mut sim, _reg) = registered_sim(12);
    let t0 = sim.now;
    sim.advance(25_000);
    assert_eq!(sim.keepalives.len(), 1, "one ping by 25 s");
    assert!(sim.keepalives[0] - t0 <= 25_000);
    // The server pongs: the flow is healthy, nothing happens.
    sim.deliver(b"\r\n");
    sim.advance(25_000);
    sim.deliver(b"\r\n");
    assert_eq!(sim.keepalives.len(), 2);
    assert!(sim.closes.is_empty());
    assert_eq!(sim.state(), RegistrationState::Registered);
    // Now the server freezes: the next ping gets no pong.
    let ping_at = sim.now + 25_000;
    sim.advance(25_000 + 10_000);
    assert_eq!(sim.closes.len(), 1, "flow closed after the pong timeout");
    assert!(sim.closes[0] <= ping_at + 10_000 + 1, "dead within one interval + 10 s");
    assert_eq!(sim.state(), RegistrationState::Unreachable);
    assert_eq!(sim.ua.status(sim.now).connection.state, ConnectionState::Waiting);
    // First reconnect comes within a second (full jitter over 1 s).
    let n = sim.connects.len();
    sim.advance(1_000);
    assert_eq!(sim.connects.len(), n + 1);
}

#[test]
fn answers_a_server_ping_with_a_pong() {
    let (mut sim, _reg) = registered_sim(13);
    sim.deliver(b"\r\n\r\n");
    assert_eq!(sim.keepalives, vec![sim.now]);
}
