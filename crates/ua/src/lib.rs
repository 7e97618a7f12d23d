//! Ferrophone's SIP user agent core.
//!
//! **Fully deterministic, no networking code, no clock, no global randomness.** The host (the
//! browser adapter `ferrophone-web`, or a test) passes in bytes received on the WebSocket, the
//! current time in milliseconds, and commands; the core hands back bytes to send, events, and
//! the next instant at which it wants to be called again.
//!
//! ```text
//!            Input::Received(bytes) / Connected / Disconnected / Configure / Command
//!   host ─────────────────────────────────────────────────────────────────────▶ UserAgent
//!   host ◀───────────────────────────────────────────────────────────────────── poll_output()
//!            Output::Connect{url} / Send(bytes) / Close / Event(..) / Timeout(next deadline)
//! ```
//!
//! # The run loop
//!
//! After every input — and whenever the deadline from the last `Output::Timeout` is reached —
//! call [`UserAgent::poll_output`] until it returns `Output::Timeout`, acting on each output,
//! then sleep until that deadline (or the next input) and call [`UserAgent::handle_timeout`].
//!
//! ```
//! use ferrophone_ua::{UserAgent, Input, Output};
//! use ferrophone_ua::config::{Account, AccountRecord, Settings};
//!
//! let rec: AccountRecord = serde_json::from_str(
//!     r#"{"version":1,"server":"wss://sip.example.com/ws","username":"1001","password":"s3cret"}"#,
//! ).unwrap();
//! let account = Account::from_record(&rec, None).unwrap();
//! let mut ua = UserAgent::new(42, None);
//! let mut now = 0u64; // the host's clock, in milliseconds
//! ua.handle_input(now, Input::Configure { account: Some(account), settings: Settings::default() });
//! let deadline = loop {
//!     match ua.poll_output() {
//!         Output::Connect { url } => assert_eq!(url, "wss://sip.example.com/ws"),
//!         Output::Send(_bytes) => { /* write to the WebSocket */ }
//!         Output::Close => { /* close the WebSocket */ }
//!         Output::Event(_event) => { /* persist identity, broadcast status */ }
//!         Output::Timeout(deadline) => break deadline,
//!     }
//! };
//! // ... the WebSocket opens:
//! ua.handle_input(now, Input::Connected);
//! // ... later, at `deadline` (if nothing else happened first):
//! now = deadline.unwrap_or(now);
//! ua.handle_timeout(now);
//! ```
//!
//! Module map (one RFC concept per module): [`message`] (wire codec, on rsip), [`transaction`]
//! (RFC 3261 §17), [`auth`] (digest), [`registration`], [`identity`], [`config`], [`trace`].
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod auto_answer;
pub mod call;
pub mod config;
mod dialog;
pub mod identity;
pub mod message;
pub mod probe;
pub mod rand;
pub mod registration;
pub mod sdp;
pub mod trace;
pub mod transaction;
pub(crate) mod ua;

pub use registration::RegistrationState;
pub use ua::{
    Command, ConnectionState, ConnectionStatus, Event, Handled, Input, MediaResult, Output, RegistrationStatus, Status,
    TransferProgress, UserAgent, ALLOW, ALLOW_EVENTS, ALLOW_EVENTS_NO_REMOTE_CONTROL, SUPPORTED, USER_AGENT,
};
