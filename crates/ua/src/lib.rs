//! Ferrophone's SIP user agent core. Fully deterministic, no networking code, no clock, no
//! global randomness: bytes, time and commands in; bytes, events and the next deadline out.
#![forbid(unsafe_code)]

pub mod message;
pub mod auth;
pub mod rand;
pub mod transaction;
