//! The user agent engine: one value that owns the flow (WebSocket connection) state, the
//! transaction layer, registration and keep-alive, and talks to its host only through
//! [`Input`] and [`Output`].

// The session engine, one concern per module.
mod call_state;
mod call_timers;
mod calls;
mod commands;
mod configure;
mod dtmf;
mod flow;
mod io;
mod offer_answer;
mod receive;
mod recovery;
mod registering;
mod reinvite;
mod remote_control;
mod routing;
mod session_refresh;
mod session_timer;
mod shorthand;
mod timer;
mod transfer;
mod uac;
mod uas;

use flow::{Flow, PONG_TIMEOUT_MS};
pub use io::{
    Command, ConnectionState, ConnectionStatus, Event, Handled, Input, MediaResult, Output, RegistrationStatus, Status,
};
use receive::{oversize_line, MAX_SERVER_TRANSACTIONS};
use registering::AfterUnregister;
pub use transfer::TransferProgress;

use crate::call::{CallError, CallInfo};
use crate::config::{Account, Settings};
use crate::identity::Identity;
use crate::message;
use crate::rand::Rng;
use crate::registration::{Registration, RegistrationState};
use crate::trace::{Direction, Trace, TraceEntry};
use crate::transaction::{Millis, TimerConfig, TransactionLayer, TxId};
use crate::vecmap::VecMap;
use std::collections::VecDeque;

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

const TRACE_CAPACITY: usize = 200;

impl Handled {}

pub struct UserAgent {
    now: Millis,
    rng: Rng,
    identity: Identity,
    account: Option<Account>,
    settings: Settings,
    flow: Flow,
    failures: u32,
    /// When the server became unreachable (the first failure since the last registration).
    down_since: Option<Millis>,
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
    calls: VecMap<String, call_state::Call>,
    /// Which call (and for what) each of our client transactions is: no scan of every call.
    tx_index: VecMap<TxId, (String, call_state::TxRole)>,
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
            down_since: None,
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
            calls: VecMap::new(),
            tx_index: VecMap::new(),
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

    fn log(&mut self, line: &str) {
        self.out.push_back(Output::Event(Event::Log(line.to_string())));
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
}
