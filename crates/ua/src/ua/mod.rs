//! The user agent engine: one value that owns the flow (WebSocket connection) state, the
//! transaction layer, registration and keep-alive, and talks to its host only through
//! [`Input`] and [`Output`].

// The session engine, one concern per module.
mod call_state;
mod call_timers;
mod calls;
mod commands;
mod dtmf;
mod offer_answer;
mod recovery;
mod reinvite;
mod remote_control;
mod routing;
mod session_refresh;
mod session_timer;
mod shorthand;
mod transfer;
mod uac;
mod uas;

pub use transfer::TransferProgress;

use crate::call::{CallError, CallInfo, MediaRequest};
use crate::config::{Account, Settings};
use crate::identity::Identity;
use crate::message::{self, Message, Method, ParseError, Request, Response};
use crate::rand::Rng;
use crate::registration::{refresh_delay_ms, BuildCtx, Outcome, Registration, RegistrationState};
use crate::trace::{Direction, Trace, TraceEntry};
use crate::transaction::{Millis, Refused, TimerConfig, TransactionLayer, TxEvent};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// Methods this UA accepts (sent in `Allow`).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, NOTIFY, REFER";
/// Event packages we accept in NOTIFY: BroadSoft remote control (only when the user turned
/// server control on) and REFER progress.
pub const ALLOW_EVENTS: &str = "talk, hold, refer";
/// Event packages we accept while server control is off.
pub const ALLOW_EVENTS_NO_REMOTE_CONTROL: &str = "refer";
/// Option tags we support (sent in `Supported`).
pub const SUPPORTED: &str = "path, outbound, timer, replaces, answermode";
/// `User-Agent` / `Server` value.
pub const USER_AGENT: &str = concat!("Ferrophone/", env!("CARGO_PKG_VERSION"));

/// How long to wait for the WebSocket to open before giving up on an attempt.
const CONNECT_TIMEOUT_MS: Millis = 10_000;
/// RFC 5626 §4.4.1: a pong must arrive within 10 s of the ping.
const PONG_TIMEOUT_MS: Millis = 10_000;
/// Reconnect backoff: full jitter over `min(cap, base * 2^attempt)`.
const BACKOFF_BASE_MS: Millis = 1_000;
const BACKOFF_CAP_MS: Millis = 30_000;
/// How long an un-REGISTER may take before we move on anyway (account change, shutdown).
const UNREGISTER_GRACE_MS: Millis = 4_000;
/// Backoff ceiling while an established call waits for a new flow (it has 30 s to be refreshed).
const CALL_RECOVERY_BACKOFF_CAP_MS: Millis = 3_000;
const MAX_SERVER_TRANSACTIONS: usize = 32;
/// Most bytes of the headers a reply echoes (Via, From, To, Call-ID, CSeq, Record-Route) that a
/// request may carry: half the input limit, so that a reply with our own headers and SDP stays
/// under `MAX_MESSAGE_SIZE` (a request beyond it gets 513).
const MAX_ECHOED: usize = message::MAX_MESSAGE_SIZE / 2;
const TRACE_CAPACITY: usize = 200;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionState {
    Idle,
    Connecting,
    Open,
    Waiting,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationStatus {
    pub state: RegistrationState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Idle,
    Connecting { deadline: Millis },
    Open,
    Waiting { until: Millis },
}

/// What to do once an un-REGISTER finished (or its grace time ran out).
#[derive(Debug, Clone)]
enum AfterUnregister {
    /// Stay connected, unregistered.
    Stay,
    /// Apply this (different) account.
    Switch(Option<Account>),
    Close,
}

pub struct UserAgent {
    now: Millis,
    rng: Rng,
    identity: Identity,
    account: Option<Account>,
    settings: Settings,
    flow: Flow,
    failures: u32,
    txl: TransactionLayer,
    reg: Registration,
    reg_state: RegistrationState,
    reg_reason: Option<String>,
    retry_register_at: Option<Millis>,
    unregistering: Option<(AfterUnregister, Millis)>,
    /// Keep-alive: next ping time, pending pong deadline, and whether this flow ever ponged.
    next_ping_at: Option<Millis>,
    pong_deadline: Option<Millis>,
    flow_pongs: bool,
    out: VecDeque<Output>,
    last_status: Option<Status>,
    /// Force a status event even if only the expiry moved (after a refresh).
    status_refreshed: bool,
    trace: Trace,
    calls: BTreeMap<String, call_state::Call>,
    /// The last calls that ended, so a command right after the end can still report them.
    ended_calls: VecDeque<CallInfo>,
    /// Dialogs of calls that ended while no flow was up: their BYE goes out on the next flow.
    orphan_byes: Vec<crate::dialog::Dialog>,
}

impl UserAgent {
    /// `seed` must come from a good entropy source in production (it seeds tags, branches,
    /// Call-IDs and cnonces); `identity` is what the host persisted earlier, if anything.
    pub fn new(seed: u64, identity: Option<Identity>) -> Self {
        let mut rng = Rng::new(seed);
        let fresh = identity.is_none();
        let identity = Identity::restore_or_generate(identity, &mut rng);
        let settings = Settings::default();
        let mut ua = UserAgent {
            now: 0,
            rng,
            identity,
            reg: Registration::new(settings.register_expires),
            account: None,
            settings,
            flow: Flow::Idle,
            failures: 0,
            txl: TransactionLayer::new(TimerConfig::default(), true, MAX_SERVER_TRANSACTIONS),
            reg_state: RegistrationState::Unconfigured,
            reg_reason: None,
            retry_register_at: None,
            unregistering: None,
            next_ping_at: None,
            pong_deadline: None,
            flow_pongs: false,
            out: VecDeque::new(),
            last_status: None,
            status_refreshed: false,
            trace: Trace::new(TRACE_CAPACITY),
            calls: BTreeMap::new(),
            ended_calls: VecDeque::new(),
            orphan_byes: Vec::new(),
        };
        if fresh {
            ua.out.push_back(Output::Event(Event::IdentityChanged(ua.identity.clone())));
        }
        ua
    }

    /// The settings in force (normalised).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Current status, with `expiresIn` / `retryIn` computed for `now`.
    pub fn status(&self, now: Millis) -> Status {
        let expires_in = match (self.reg_state, self.reg.registered_until) {
            (RegistrationState::Registered, Some(t)) => Some(t.saturating_sub(now) / 1000),
            _ => None,
        };
        let (state, retry_in) = match self.flow {
            Flow::Idle => (ConnectionState::Idle, None),
            Flow::Connecting { .. } => (ConnectionState::Connecting, None),
            Flow::Open => (ConnectionState::Open, self.retry_register_at.map(|t| t.saturating_sub(now).div_ceil(1000))),
            Flow::Waiting { until } => (ConnectionState::Waiting, Some(until.saturating_sub(now).div_ceil(1000))),
        };
        Status {
            registration: RegistrationStatus { state: self.reg_state, expires_in, reason: self.reg_reason.clone() },
            connection: ConnectionStatus {
                state,
                server: self.account.as_ref().map(|a| a.server.url()),
                retry_in,
                failures: self.failures,
            },
        }
    }

    /// The last SIP messages in and out, credentials masked.
    pub fn trace(&self) -> impl Iterator<Item = &TraceEntry> {
        self.trace.entries()
    }

    /// The one way in for everything that changes the engine: configuration, the transport,
    /// commands and media results. Then drain [`UserAgent::poll_output`].
    pub fn handle_input(&mut self, now: Millis, input: Input) -> Handled {
        self.now = self.now.max(now);
        let handled = match input {
            Input::Configure { account, settings } => {
                self.configure(account, settings);
                Handled::Done
            }
            Input::Connected => {
                self.on_connected();
                Handled::Done
            }
            Input::Disconnected { reason } => {
                self.on_disconnected(&reason);
                Handled::Done
            }
            Input::Received(bytes) => {
                self.on_received(bytes);
                Handled::Done
            }
            Input::Command(c) => self.on_command(c),
            Input::Media(m) => {
                self.on_media_result(m);
                Handled::Done
            }
        };
        self.emit_status_if_changed();
        handled
    }

    pub fn handle_timeout(&mut self, now: Millis) {
        self.now = self.now.max(now);
        let now = self.now;
        self.txl.handle_timeout(now);
        self.drain_tx_events();
        self.call_timers();
        match self.flow {
            Flow::Connecting { deadline } if now >= deadline => {
                self.log("WebSocket did not open in time");
                self.out.push_back(Output::Close);
                self.flow_failed("connection timed out");
            }
            Flow::Waiting { until } if now >= until => self.connect(),
            _ => {}
        }
        if let Some((_, deadline)) = &self.unregistering {
            if now >= *deadline {
                self.log("un-REGISTER took too long; moving on");
                self.finish_unregister();
            }
        }
        if self.flow == Flow::Open {
            if self.pong_deadline.is_some_and(|d| now >= d) {
                self.pong_deadline = None;
                if self.flow_pongs {
                    self.log("keep-alive pong missing: flow is dead");
                    self.out.push_back(Output::Close);
                    self.flow_failed("keep-alive lost");
                    self.emit_status_if_changed();
                    return;
                }
            }
            if self.next_ping_at.is_some_and(|t| now >= t) {
                self.send_bytes(b"\r\n\r\n".to_vec(), false);
                self.next_ping_at = Some(now + self.keepalive_ms());
                if self.pong_deadline.is_none() {
                    self.pong_deadline = Some(now + PONG_TIMEOUT_MS.min(self.keepalive_ms()));
                }
            }
            if self.reg.refresh_at.is_some_and(|t| now >= t) && !self.reg.in_progress() && self.unregistering.is_none()
            {
                self.reg.refresh_at = None;
                self.start_register();
            }
            if self.retry_register_at.is_some_and(|t| now >= t) && !self.reg.in_progress() {
                self.retry_register_at = None;
                self.start_register();
            }
            if self.reg_state == RegistrationState::Registered && self.reg.registered_until.is_some_and(|t| now >= t) {
                self.set_reg(RegistrationState::Registering, Some("registration expired".into()));
            }
        }
        self.emit_status_if_changed();
    }

    /// Next output. Call until it returns `Output::Timeout`.
    #[must_use]
    pub fn poll_output(&mut self) -> Output {
        if let Some(o) = self.out.pop_front() {
            return o;
        }
        while let Some(bytes) = self.txl.poll_transmit() {
            if bytes.len() > message::MAX_MESSAGE_SIZE {
                self.log(&oversize_line(&bytes));
                continue;
            }
            self.trace.record(self.now, Direction::Out, &bytes);
            self.out.push_back(Output::Send(bytes));
        }
        if let Some(o) = self.out.pop_front() {
            return o;
        }
        Output::Timeout(self.next_deadline())
    }

    fn next_deadline(&self) -> Option<Millis> {
        let mut d: Vec<Millis> = Vec::new();
        d.extend(self.txl.next_deadline());
        d.extend(self.call_deadline());
        match self.flow {
            Flow::Connecting { deadline } => d.push(deadline),
            Flow::Waiting { until } => d.push(until),
            Flow::Open => {
                d.extend(self.next_ping_at);
                d.extend(self.pong_deadline);
                d.extend(self.reg.refresh_at);
                d.extend(self.retry_register_at);
                if self.reg_state == RegistrationState::Registered {
                    d.extend(self.reg.registered_until);
                }
            }
            _ => {}
        }
        if let Some((_, t)) = &self.unregistering {
            d.push(*t);
        }
        d.into_iter().min()
    }

    /// Whether BroadSoft remote control (NOTIFY talk/hold) is honoured: only when the user turned
    /// server control on.
    pub(crate) fn remote_control_enabled(&self) -> bool {
        crate::auto_answer::Policy::from_setting(&self.settings.auto_answer) == crate::auto_answer::Policy::Headers
    }

    /// `Allow-Events` for what we accept under the current settings.
    pub(crate) fn allow_events(&self) -> &'static str {
        if self.remote_control_enabled() {
            ALLOW_EVENTS
        } else {
            ALLOW_EVENTS_NO_REMOTE_CONTROL
        }
    }

    fn keepalive_ms(&self) -> Millis {
        self.settings.keepalive_interval.clamp(5, 25) as Millis * 1000
    }

    fn log(&mut self, line: &str) {
        self.out.push_back(Output::Event(Event::Log(line.to_string())));
    }

    fn set_reg(&mut self, state: RegistrationState, reason: Option<String>) {
        self.reg_state = state;
        self.reg_reason = reason;
    }

    fn emit_status_if_changed(&mut self) {
        let mut s = self.status(self.now);
        // expiresIn / retryIn tick every second; only state changes are events.
        let key = |s: &mut Status| {
            s.registration.expires_in = s.registration.expires_in.map(|_| 0);
            s.connection.retry_in = s.connection.retry_in.map(|_| 0);
        };
        let mut cmp = s.clone();
        key(&mut cmp);
        let mut last = self.last_status.clone();
        if let Some(l) = last.as_mut() {
            key(l);
        }
        if last.as_ref() != Some(&cmp) || self.status_refreshed {
            self.status_refreshed = false;
            self.last_status = Some(s.clone());
            s = self.status(self.now);
            self.out.push_back(Output::Event(Event::Status(s)));
        }
    }
}

impl UserAgent {
    fn configure(&mut self, account: Option<Account>, settings: Settings) {
        let settings = settings.normalized();
        let events_before = self.allow_events();
        let expires_changed = settings.register_expires != self.settings.register_expires;
        self.settings = settings;
        // The registrar learns from our REGISTER which event packages we take (remote control).
        let events_changed = events_before != self.allow_events();
        if account == self.account {
            if (expires_changed || events_changed) && self.account.is_some() {
                self.reg.expires = self.settings.register_expires;
                if self.flow == Flow::Open && !self.reg.in_progress() && self.unregistering.is_none() {
                    self.start_register();
                }
            }
            return;
        }
        let registered_somewhere = self.flow == Flow::Open
            && (self.reg_state == RegistrationState::Registered || self.reg.in_progress())
            && self.account.is_some();
        if registered_somewhere {
            self.log("account changed: un-registering the old contact first");
            self.start_unregister(AfterUnregister::Switch(account));
        } else {
            self.apply_account(account);
        }
    }

    fn apply_account(&mut self, account: Option<Account>) {
        let server_changed = self.account.as_ref().map(|a| &a.server) != account.as_ref().map(|a| &a.server);
        self.identity_follows_account(account.as_ref());
        self.reg.abort();
        self.reg.forget_credentials();
        self.reg.expires = self.settings.register_expires;
        self.retry_register_at = None;
        self.account = account;
        self.failures = 0;
        if self.account.is_some() {
            // Whatever the old account's state was, it says nothing about the new one.
            self.set_reg(RegistrationState::Connecting, None);
        }
        match (&self.account, self.flow) {
            (None, Flow::Idle) => self.set_reg(RegistrationState::Unconfigured, None),
            (None, _) => {
                self.set_reg(RegistrationState::Unconfigured, None);
                self.close_flow();
            }
            (Some(_), Flow::Open) if !server_changed => self.start_register(),
            (Some(_), Flow::Idle | Flow::Waiting { .. }) => self.connect(),
            (Some(_), _) => {
                // Different server (or a half-open flow): start over on a new connection.
                self.close_flow();
                self.connect();
            }
        }
    }

    /// The device identity (instance id, contact host, REGISTER Call-ID) belongs to one account
    /// on one server: removing the account, or changing its server or address of record, starts
    /// a new one, so two accounts can never be linked through it. A password change keeps it.
    fn identity_follows_account(&mut self, next: Option<&Account>) {
        let key = |a: &Account| (a.aor(), a.server.url());
        let next_key = next.map(key);
        let account_changed = self.account.is_some() && self.account.as_ref().map(key) != next_key;
        // At start-up the restored identity may belong to an account removed while the worker was
        // not running.
        let stored_for_other = match (&self.identity.register, &next_key) {
            (Some(r), Some((aor, server))) => &r.aor != aor || &r.server != server,
            _ => false,
        };
        if account_changed || stored_for_other {
            self.identity = Identity::generate(&mut self.rng);
            self.log("new device identity for this account");
            self.out.push_back(Output::Event(Event::IdentityChanged(self.identity.clone())));
        }
    }

    fn close_flow(&mut self) {
        if matches!(self.flow, Flow::Open | Flow::Connecting { .. }) {
            self.out.push_back(Output::Close);
        }
        self.txl.transport_lost();
        self.drain_tx_events();
        self.flow = Flow::Idle;
        self.reset_keepalive();
    }

    fn reset_keepalive(&mut self) {
        self.next_ping_at = None;
        self.pong_deadline = None;
        self.flow_pongs = false;
    }

    fn connect(&mut self) {
        let Some(account) = &self.account else {
            self.flow = Flow::Idle;
            return;
        };
        let url = account.server.url();
        self.flow = Flow::Connecting { deadline: self.now + CONNECT_TIMEOUT_MS };
        if self.failures == 0 {
            self.set_reg(RegistrationState::Connecting, None);
        }
        self.out.push_back(Output::Connect { url });
    }

    fn on_connected(&mut self) {
        if !matches!(self.flow, Flow::Connecting { .. }) {
            // A stale socket we no longer want.
            self.out.push_back(Output::Close);
            return;
        }
        self.flow = Flow::Open;
        self.log("WebSocket open");
        self.reset_keepalive();
        self.next_ping_at = Some(self.now + self.keepalive_ms());
        if self.account.is_some() {
            self.start_register();
        }
    }

    fn on_disconnected(&mut self, reason: &str) {
        match self.flow {
            Flow::Idle | Flow::Waiting { .. } => {}
            Flow::Connecting { .. } | Flow::Open => {
                self.log(&format!("WebSocket closed: {reason}"));
                self.flow_failed(reason);
            }
        }
    }

    /// The flow broke (or never opened): fail transactions, schedule a reconnect.
    fn flow_failed(&mut self, reason: &str) {
        self.txl.transport_lost();
        self.reg.abort();
        self.retry_register_at = None;
        self.reset_keepalive();
        self.drain_tx_events();
        self.calls_on_flow_lost();
        if let Some((after, _)) = self.unregistering.take() {
            // Nobody to un-register with any more; carry on with what was asked.
            self.flow = Flow::Idle;
            self.after_unregister(after);
            return;
        }
        if self.account.is_none() {
            self.flow = Flow::Idle;
            return;
        }
        // Full jitter over a ceiling that doubles every second failure (×√2 per attempt):
        // 1, 1, 2, 2, 4, 4, 8, 8, 16, 16, 30 s. Doubling at every attempt would leave a client
        // waiting ~3 s (median; p90 7.7 s) after a 5-second server restart; this schedule gives
        // 1.3 s (p90 3.3 s) and still backs off to the cap within ~1.5 minutes of failures.
        let ceiling = BACKOFF_CAP_MS.min(BACKOFF_BASE_MS.saturating_mul(1u64 << (self.failures / 2).min(16)));
        // A call waiting to be refreshed over a new flow has 30 s: keep retrying often enough.
        let ceiling = if self.calls_waiting_for_flow() { ceiling.min(CALL_RECOVERY_BACKOFF_CAP_MS) } else { ceiling };
        let delay = self.rng.below(ceiling + 1);
        self.failures = self.failures.saturating_add(1);
        self.flow = Flow::Waiting { until: self.now + delay };
        if self.reg_state != RegistrationState::AuthFailed {
            self.set_reg(RegistrationState::Unreachable, Some(reason.to_string()));
        }
    }

    fn on_received(&mut self, bytes: Vec<u8>) {
        if self.flow != Flow::Open {
            return;
        }
        // Any traffic proves the flow alive.
        let ping_outstanding = self.pong_deadline.take().is_some();
        if bytes.iter().all(|b| *b == b'\r' || *b == b'\n') {
            if bytes.is_empty() {
                return;
            }
            if bytes == b"\r\n\r\n" {
                // The server pings us (RFC 5626 §3.5.1): pong.
                self.send_bytes(b"\r\n".to_vec(), false);
            } else if bytes == b"\r\n" && ping_outstanding {
                // A pong to our ping: from now on a missing pong means a dead flow. Only a CRLF
                // that answers a ping counts: stray CRLF frames (junk) must not make us expect
                // pongs from a server that never sends them, and then drop its flow.
                self.flow_pongs = true;
            }
            return;
        }
        self.trace.record(self.now, Direction::In, &bytes);
        match message::parse(&bytes) {
            Ok(Message::Request(req)) if echoed_size(&req.headers) > MAX_ECHOED => self.refuse_too_large(&req),
            Ok(msg) => {
                let is_request = matches!(msg, Message::Request(_));
                let copy = if is_request { Some(msg.clone()) } else { None };
                match self.txl.receive(self.now, msg) {
                    Ok(()) => {}
                    Err(Refused::Overloaded) => {
                        if let Some(Message::Request(req)) = copy {
                            if req.method != Method::Ack {
                                let mut r = Response::for_request(&req, 503, "Service Unavailable", None);
                                r.headers.push("Retry-After", "5");
                                self.send_bytes(r.to_bytes(), true);
                            }
                        }
                    }
                }
                self.drain_tx_events();
            }
            Err(e) => self.on_malformed(&bytes, &e),
        }
    }

    /// A request whose headers every reply must echo (Via, From, To, Call-ID, CSeq) or that a
    /// dialog-creating reply echoes (Record-Route) are too large for a reply to stay under the
    /// input limit once our own headers and SDP are added: refuse it with a 513 that carries only
    /// what a response must, before any transaction or call exists.
    fn refuse_too_large(&mut self, req: &Request) {
        let size = echoed_size(&req.headers);
        self.log(&format!(
            "refused a {} whose reply would be too large ({size} bytes of headers to echo, {MAX_ECHOED} at most)",
            req.method
        ));
        if req.method == Method::Ack {
            return;
        }
        let mut r = Response::for_request(req, 513, "Message Too Large", None);
        r.headers.push("Warning", "399 ferrophone \"headers too large to answer\"");
        self.send_bytes(r.to_bytes(), true);
    }

    fn on_malformed(&mut self, bytes: &[u8], e: &ParseError) {
        self.log(&format!("dropped malformed message: {e}"));
        if let Some(req) = message::salvage_for_reply(bytes) {
            if req.method == Method::Ack {
                return;
            }
            let (code, reason) = match e {
                ParseError::TooLarge { .. } => (513, "Message Too Large"),
                ParseError::UnsupportedVersion(_) => (505, "Version Not Supported"),
                _ => (400, "Bad Request"),
            };
            let mut r = Response::for_request(&req, code, reason, None);
            let warning: String = e.to_string().chars().filter(|c| *c != '"' && !c.is_control()).take(120).collect();
            r.headers.push("Warning", format!("399 ferrophone \"{warning}\""));
            let bytes = r.to_bytes();
            // Echoed headers may be the broken part: a reply we could not parse ourselves would
            // not be matched by the peer either, so it is not sent.
            if message::parse(&bytes).is_ok() {
                self.send_bytes(bytes, true);
            } else {
                self.log("no reply: the malformed request cannot be answered with a well-formed response");
            }
        }
    }

    fn send_bytes(&mut self, bytes: Vec<u8>, traced: bool) {
        if bytes.len() > message::MAX_MESSAGE_SIZE {
            self.log(&oversize_line(&bytes));
            return;
        }
        if traced {
            self.trace.record(self.now, Direction::Out, &bytes);
        }
        self.out.push_back(Output::Send(bytes));
    }

    fn drain_tx_events(&mut self) {
        while let Some(ev) = self.txl.poll_event() {
            match ev.clone() {
                TxEvent::Response { tx, response } => {
                    if self.reg.tx == Some(tx) {
                        self.on_register_response(&response);
                    } else {
                        self.on_call_response(tx, &response);
                    }
                }
                TxEvent::Timeout { tx } | TxEvent::TransportError { tx } => {
                    let transport = matches!(ev, TxEvent::TransportError { .. });
                    if self.on_call_tx_failure(tx, transport) {
                        continue;
                    }
                    if self.reg.tx == Some(tx) {
                        self.reg.abort();
                        if self.unregistering.is_some() {
                            self.finish_unregister();
                        } else if self.flow == Flow::Open {
                            // The registrar did not answer on a flow that looks open: treat the
                            // flow as broken and reconnect (RFC 5626 §4.4: flow recovery).
                            self.log("REGISTER timed out: reconnecting");
                            self.out.push_back(Output::Close);
                            self.flow_failed("registrar did not answer");
                        }
                    }
                }
                TxEvent::Request { tx, request } => {
                    if !self.on_call_request(tx, &request) {
                        self.on_request(tx, request);
                    }
                }
                TxEvent::AckFor2xx { request } => self.on_call_ack(&request),
                TxEvent::AckTimeout { .. } => {}
                TxEvent::StrayResponse { response } => {
                    let line = format!("stray response {} {} dropped", response.status, response.reason);
                    self.log(&line);
                }
            }
        }
    }

    fn on_request(&mut self, tx: u64, req: Request) {
        // RFC 3261 §12.2.2: a request with a To tag belongs to a dialog; the calls did not claim
        // it, so that dialog does not exist (whatever the method, INVITE included).
        let in_dialog = req.headers.to().is_some_and(|t| t.tag().is_some());
        if in_dialog && req.method != Method::Ack {
            let r = Response::for_request(&req, 481, "Call/Transaction Does Not Exist", None);
            self.txl.respond(self.now, tx, r);
            return;
        }
        let resp = match &req.method {
            Method::Options => {
                let mut r = Response::for_request(&req, 200, "OK", Some(&self.rng.token(10)));
                r.headers.push("Allow", ALLOW);
                r.headers.push("Accept", "application/sdp");
                r.headers.push("Supported", SUPPORTED);
                r.headers.push("Server", USER_AGENT);
                r
            }
            // Calls arrive with the session layer; until then we are not available for them.
            Method::Invite => {
                let mut r = Response::for_request(&req, 480, "Temporarily Unavailable", Some(&self.rng.token(10)));
                r.headers.push("Allow", ALLOW);
                r
            }
            Method::Bye
            | Method::Cancel
            | Method::Info
            | Method::Update
            | Method::Prack
            | Method::Notify
            | Method::Refer => Response::for_request(&req, 481, "Call/Transaction Does Not Exist", None),
            Method::Ack => return,
            Method::Other(_) => {
                let mut r = Response::for_request(&req, 501, "Not Implemented", None);
                r.headers.push("Allow", ALLOW);
                r
            }
            _ => {
                let mut r = Response::for_request(&req, 405, "Method Not Allowed", None);
                r.headers.push("Allow", ALLOW);
                r
            }
        };
        self.txl.respond(self.now, tx, resp);
    }

    /// Run `f` on the registration with what building a REGISTER needs (disjoint borrows).
    fn with_reg<R>(&mut self, f: impl FnOnce(&mut Registration, &mut BuildCtx<'_>) -> R) -> Option<R> {
        let allow_events = self.allow_events();
        let account = self.account.as_ref()?;
        let mut ctx = BuildCtx {
            account,
            identity: &mut self.identity,
            rng: &mut self.rng,
            user_agent: USER_AGENT,
            allow: ALLOW,
            allow_events,
        };
        Some(f(&mut self.reg, &mut ctx))
    }

    fn start_register(&mut self) {
        if self.flow != Flow::Open || self.reg.in_progress() {
            return;
        }
        let expires = self.reg.expires;
        let Some(req) = self.with_reg(|reg, ctx| reg.begin(expires, ctx)) else {
            return;
        };
        if self.reg_state != RegistrationState::Registered {
            self.set_reg(RegistrationState::Registering, None);
        }
        self.send_register(req);
    }

    fn send_register(&mut self, req: Request) {
        let tx = self.txl.send_request(self.now, req);
        self.reg.tx = Some(tx);
        self.out.push_back(Output::Event(Event::IdentityChanged(self.identity.clone())));
    }

    fn on_register_response(&mut self, resp: &Response) {
        let unregistering = self.unregistering.is_some();
        let Some((outcome, retry)) = self.with_reg(|reg, ctx| reg.on_response(resp, ctx)) else {
            return;
        };
        if let Some(req) = retry {
            self.send_register(req);
            return;
        }
        match outcome {
            Outcome::Pending | Outcome::Resent => {}
            Outcome::Registered { granted_secs } => {
                let until = self.now + granted_secs as Millis * 1000;
                self.reg.registered_until = Some(until);
                self.reg.refresh_at = Some(self.now + refresh_delay_ms(granted_secs));
                self.failures = 0;
                self.set_reg(RegistrationState::Registered, None);
                self.status_refreshed = true;
                self.calls_on_flow_restored();
                self.log(&format!("registered for {granted_secs} s"));
            }
            Outcome::Unregistered => {
                if unregistering {
                    self.finish_unregister();
                } else {
                    self.set_reg(RegistrationState::Unregistered, None);
                }
            }
            Outcome::AuthFailed { reason } => {
                self.reg.registered_until = None;
                self.reg.refresh_at = None;
                if unregistering {
                    self.finish_unregister();
                } else {
                    self.log(&format!("authentication failed: {reason}"));
                    self.set_reg(RegistrationState::AuthFailed, Some(reason));
                }
            }
            Outcome::Failed { reason, retry_after_secs } => {
                if unregistering {
                    self.finish_unregister();
                    return;
                }
                self.reg.registered_until = None;
                self.reg.refresh_at = None;
                self.log(&format!("registration failed: {reason}"));
                self.set_reg(RegistrationState::Unregistered, Some(reason));
                self.retry_register_at = retry_after_secs.map(|s| self.now + s as Millis * 1000);
            }
        }
    }

    fn start_unregister(&mut self, after: AfterUnregister) {
        if self.flow != Flow::Open || self.account.is_none() {
            self.after_unregister(after);
            return;
        }
        // Abandon an in-flight REGISTER: its transaction may still answer, but we no longer care.
        self.reg.abort();
        self.retry_register_at = None;
        if matches!(after, AfterUnregister::Switch(_)) {
            // The old binding is going away and the new one does not exist yet.
            self.set_reg(RegistrationState::Registering, Some("switching account".into()));
        }
        self.unregistering = Some((after, self.now + UNREGISTER_GRACE_MS));
        let Some(req) = self.with_reg(|reg, ctx| reg.begin(0, ctx)) else {
            return;
        };
        self.send_register(req);
    }

    fn finish_unregister(&mut self) {
        self.reg.abort();
        if let Some((after, _)) = self.unregistering.take() {
            self.after_unregister(after);
        }
    }

    fn after_unregister(&mut self, after: AfterUnregister) {
        match after {
            AfterUnregister::Stay => self.set_reg(RegistrationState::Unregistered, None),
            AfterUnregister::Switch(account) => self.apply_account(account),
            AfterUnregister::Close => {
                self.close_flow();
                self.set_reg(
                    if self.account.is_some() {
                        RegistrationState::Unregistered
                    } else {
                        RegistrationState::Unconfigured
                    },
                    None,
                );
            }
        }
    }

    fn on_command(&mut self, c: Command) -> Handled {
        let call = |r: Result<(), CallError>, ua: &Self, id: &str| match r {
            Ok(()) => ua.call(id).map_or(Handled::Done, Handled::Call),
            Err(e) => Handled::Refused(e),
        };
        let found = |r: Result<CallInfo, CallError>| match r {
            Ok(c) => Handled::Call(c),
            Err(e) => Handled::Refused(e),
        };
        match c {
            Command::Dial { target } => found(self.start_call(&target)),
            Command::Answer { call: id } => call(self.answer_call(&id), self, &id),
            Command::Reject { call: id } => call(self.reject_call(&id), self, &id),
            Command::Hangup { call: id } => call(self.hangup_call(&id), self, &id),
            Command::Hold { call: id } => call(self.reinvite_direction(&id, true), self, &id),
            Command::Resume { call: id } => call(self.reinvite_direction(&id, false), self, &id),
            Command::Mute { call: id, muted } => call(self.mute_call(&id, muted), self, &id),
            Command::Dtmf { call: id, digits } => call(self.dtmf_call(&id, &digits), self, &id),
            Command::Transfer { call: id, to } => call(self.blind_transfer(&id, &to), self, &id),
            Command::TransferAttended { call: id, replaces } => call(self.attended_transfer(&id, &replaces), self, &id),
            Command::AnswerRinging => found(self.answer_ringing_call()),
            Command::HangupCurrent => found(self.hangup_current_call()),
            Command::ToggleMuteCurrent => found(self.toggle_mute_current_call()),
            c => {
                self.on_flow_command(c);
                Handled::Done
            }
        }
    }

    fn on_flow_command(&mut self, c: Command) {
        match c {
            Command::Register => {
                self.reg_reason = None;
                match self.flow {
                    Flow::Open => {
                        self.retry_register_at = None;
                        self.start_register();
                    }
                    Flow::Idle | Flow::Waiting { .. } => {
                        self.failures = 0;
                        self.connect();
                    }
                    _ => {}
                }
            }
            Command::Unregister => self.start_unregister(AfterUnregister::Stay),
            Command::Shutdown => self.start_unregister(AfterUnregister::Close),
            _ => {}
        }
    }
}

/// Bytes of the header lines a reply to a request with these headers copies.
fn echoed_size(headers: &message::Headers) -> usize {
    headers
        .iter()
        .filter(|h| {
            ["Via", "From", "To", "Call-ID", "CSeq", "Record-Route"].iter().any(|n| message::same_header(&h.name, n))
        })
        .map(|h| h.name.len() + h.value.len() + 4)
        .sum()
}

/// The log line for a message we built but do not send: it would be larger than what we accept.
fn oversize_line(bytes: &[u8]) -> String {
    let first = bytes.split(|b| *b == b'\r').next().unwrap_or_default();
    let first: String = String::from_utf8_lossy(first).chars().take(60).collect();
    format!(
        "not sent: a {}-byte message ({first}) is too large (limit {} bytes)",
        bytes.len(),
        message::MAX_MESSAGE_SIZE
    )
}
