//! The engine's surface: what the host hands in ([`Input`], [`Command`], [`MediaResult`]) and
//! what it drains ([`Output`], [`Event`]), and the status it reports.

use super::*;
use crate::call::{CallError, CallInfo, MediaRequest};
use crate::config::{Account, Settings};
use crate::identity::Identity;
use crate::registration::RegistrationState;
use crate::transaction::Millis;
use serde::Serialize;

/// Input from the host.
// Inputs are consumed at once, never stored in bulk: the size of `Configure` does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Input {
    /// New configuration (from storage). `None` account = not configured.
    Configure {
        account: Option<Account>,
        settings: Settings,
    },
    /// The WebSocket asked for by [`Output::Connect`] is open.
    Connected,
    /// The WebSocket closed or failed (also after [`Output::Close`]).
    Disconnected {
        reason: String,
    },
    /// One WebSocket message (text or binary frame payload).
    Received(Vec<u8>),
    Command(Command),
    /// What became of a media request ([`Event::Media`]), or of a call's media.
    Media(MediaResult),
}

/// What the user (or a program acting for them) asks of the phone. Each one is answered by
/// [`UserAgent::handle_input`] with [`Handled`]: done, the call it concerns, or why it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Register now (e.g. after auth failure, when the user asks to retry).
    Register,
    /// Un-register and stay connected but unregistered.
    Unregister,
    /// Un-register and close the flow (extension suspend / account removal).
    Shutdown,
    /// Place a call: a number, `user@domain`, a `sip:`/`sips:` URI or a `tel:` number.
    Dial { target: String },
    /// Answer a ringing incoming call.
    Answer { call: String },
    /// Refuse a ringing incoming call (486).
    Reject { call: String },
    /// End any call: CANCEL, 486 or BYE as its state requires.
    Hangup { call: String },
    /// Put an active call on hold (re-INVITE `a=sendonly`).
    Hold { call: String },
    /// Resume a held call (re-INVITE `a=sendrecv`).
    Resume { call: String },
    /// Stop (or restart) sending our microphone; no signalling.
    Mute { call: String, muted: bool },
    /// Send DTMF digits on an established call.
    Dtmf { call: String, digits: String },
    /// Blind transfer: ask the far end (REFER) to call `to`.
    Transfer { call: String, to: String },
    /// Attended transfer: connect the far end of `call` to the far end of `replaces`.
    TransferAttended { call: String, replaces: String },
    /// Keyboard shortcut: answer the oldest ringing incoming call.
    AnswerRinging,
    /// Keyboard shortcut: hang up the current call.
    HangupCurrent,
    /// Keyboard shortcut: toggle the microphone of the active call.
    ToggleMuteCurrent,
}

/// The host's report on media work. The host passes back EVERY result, success or failure;
/// the core decides what it means (end the call, fall back to SIP INFO, retry, log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaResult {
    /// The outcome of `request` (as the core emitted it): `Ok(Some(sdp))` for a request that
    /// produces SDP ([`crate::call::MediaOp::wants_sdp`]), `Ok(None)` for the others, `Err` with
    /// the media side's reason when it failed.
    Done { request: MediaRequest, result: Result<Option<String>, String> },
    /// The media side lost the call on its own (ICE/DTLS failed, the microphone track ended, the
    /// media document vanished).
    Lost { call: String, reason: String },
}

/// What [`UserAgent::handle_input`] did with an input. Transport inputs are always `Done`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Accepted; nothing to report.
    Done,
    /// Accepted; the call the command concerns, as it is now.
    Call(CallInfo),
    /// Refused, and why (the call and the flow are unchanged).
    Refused(CallError),
}

impl Handled {
    /// As a `Result`: `Ok(Some(call))`, `Ok(None)` or `Err(why)`.
    pub fn into_result(self) -> Result<Option<CallInfo>, CallError> {
        match self {
            Handled::Done => Ok(None),
            Handled::Call(c) => Ok(Some(c)),
            Handled::Refused(e) => Err(e),
        }
    }
}

/// Output for the host, drained by [`UserAgent::poll_output`] until it returns `Timeout`.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open a WebSocket (subprotocol `sip`) to this URL, replacing any current one.
    Connect {
        url: String,
    },
    /// Send one WebSocket text message.
    Send(Vec<u8>),
    /// Close the WebSocket; answer with [`Input::Disconnected`].
    Close,
    Event(Event),
    /// Nothing more to do until this time (host's clock, ms); call `handle_timeout` then.
    /// `None`: wait for input.
    Timeout(Option<Millis>),
}

/// Events for the host.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Registration or connection status changed; the host broadcasts it.
    Status(Status),
    /// Identity changed (CSeq moved on, new Call-ID, ...): persist it.
    IdentityChanged(Identity),
    /// Diagnostic line (never contains credentials).
    Log(String),
    /// A call changed state (also sent once with `state: ended`, after which it is gone).
    Call(CallInfo),
    /// A call needs something from the media side; the host answers every request with
    /// [`Input::Media`] ([`MediaResult::Done`]).
    Media(MediaRequest),
    /// Progress of a transfer we asked for (REFER): the transfer target's status.
    Transfer(TransferProgress),
    /// A DTMF digit the far end sent by SIP INFO.
    Dtmf { call: String, digit: char },
}

/// Connection (flow) state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionState {
    Idle,
    Connecting,
    Open,
    Waiting,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationStatus {
    pub state: RegistrationState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Seconds until the next connection attempt (when waiting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in: Option<u64>,
    /// Failed attempts since the last successful registration.
    pub failures: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub registration: RegistrationStatus,
    pub connection: ConnectionStatus,
}
