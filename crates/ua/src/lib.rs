//! Ferrophone's SIP user agent core.
//!
//! **Fully deterministic, no networking code, no clock, no global randomness.** The host (the
//! browser adapter `ferrophone-web`, or a test) passes in bytes received on the WebSocket, the
//! current time in milliseconds, and commands; the core hands back bytes to send, events, and
//! the next instant at which it wants to be called again.
//!
//! ```text
//!        Input::Configure / Connected / Disconnected / Received(bytes) / Command(..) / Media(..)
//!   host ─────────────────────────────────────────────────────────────────────▶ UserAgent
//!   host ◀───────────────────────────────────────────────────────────────────── poll_output()
//!            Output::Connect{url} / Send(bytes) / Close / Event(..) / Timeout(next deadline)
//! ```
//!
//! # The contract (as quinn-proto's `Connection`)
//!
//! - **One way in.** Everything that changes the engine is an [`Input`] given to
//!   [`UserAgent::handle_input`] with the host's current time: configuration, the transport's
//!   events, every [`Command`] (dial, answer, hold, DTMF, transfer, …) and every media result
//!   ([`MediaResult`]). It answers [`Handled`]: done, the call concerned, or a [`call::CallError`]
//!   naming why the command was refused (nothing changed then). The methods `dial`, `answer`,
//!   `hold`, … are shorthands that build the `Command` and call `handle_input`.
//! - **Time** is only what the host says: [`UserAgent::handle_timeout`] at (or after) the
//!   deadline of the last `Output::Timeout`. Time never goes backwards inside the engine (an
//!   older `now` is taken as the newest seen).
//! - **Polling.** After every `handle_input`/`handle_timeout`, call [`UserAgent::poll_output`]
//!   until it returns `Output::Timeout(deadline)`: `Connect`/`Send`/`Close` are transport actions
//!   to perform in order, `Event`s are for the host (status to broadcast, identity to persist,
//!   call changes, media work — [`Event::Media`], which the host answers with
//!   [`Input::Media`] whatever its outcome — log lines); `Timeout(None)` means wait for input.
//!   Outputs are queued in the engine, bounded by what the inputs produced; nothing is lost if
//!   the host drains them later.
//! - **Decisions** are the engine's: what a failed media request means, when to retry, when a
//!   call ends and why ([`call::EndReason`]). The host only does I/O.
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
//!         Output::Event(_event) => { /* persist identity, broadcast status, do media work */ }
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
//! # Module map (one RFC concept per module)
//!
//! [`message`] (wire codec), [`transaction`] (RFC 3261 §17, one file per state machine, the
//! timer values in one place), [`auth`] (digest), [`registration`], [`identity`], [`config`],
//! [`call`] (the public call types), [`auto_answer`], [`sdp`], [`probe`], [`trace`], and the
//! engine in `ua/`:
//!
//! | module | concern |
//! |---|---|
//! | `ua/mod.rs` | the `UserAgent` value, `handle_input`/`handle_timeout`/`poll_output`, status |
//! | `ua/io.rs` | the engine surface: `Input`, `Command`, `MediaResult`, `Handled`, `Output`, `Event` |
//! | `ua/flow.rs`, `receive.rs`, `registering.rs`, `configure.rs` | the WebSocket flow and keep-alive (RFC 5626), what arrives on it, REGISTER, configuration and identity |
//! | `ua/call_state.rs`, `calls.rs`, `timer.rs`, `call_timers.rs` | one call's state, the table of calls, the `Timer` table and what each timer does |
//! | `ua/commands.rs`, `shorthand.rs` | what the user asks of a call |
//! | `ua/offer_answer.rs` | RFC 3264 as one state value per call, media requests and results |
//! | `ua/uac.rs`, `uas.rs`, `reinvite.rs`, `routing.rs` | RFC 3261 §13–14: outgoing and incoming INVITEs, re-INVITE/UPDATE, which call a message belongs to |
//! | `ua/dtmf.rs`, `remote_control.rs`, `transfer.rs`, `session_timer.rs`, `session_refresh.rs`, `recovery.rs` | RFC 4733/INFO DTMF, BroadSoft talk/hold, REFER/Replaces, RFC 4028, calls that survive a new flow |
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
pub mod vecmap;

pub use registration::RegistrationState;
pub use ua::{
    Command, ConnectionState, ConnectionStatus, Event, Handled, Input, MediaResult, Output, RegistrationStatus, Status,
    TransferProgress, UserAgent, ALLOW, ALLOW_EVENTS, ALLOW_EVENTS_NO_REMOTE_CONTROL, SUPPORTED, USER_AGENT,
};
