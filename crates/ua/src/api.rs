//! The one schema for every message that crosses a context: the public Command API (requests,
//! replies, events; docs/API.md) and the worker ↔ offscreen document media protocol
//! (docs/MEDIA.md). The JS side is typed from these definitions (`extension/schema.js`, checked
//! by `tsc`), and `tests/api_schema.rs` proves the two agree: every example in the docs
//! round-trips through these types, and every message name the JS uses exists here.
//!
//! Routing: a message's kind key says who it is for — `cmd` the worker (the Command API),
//! `type` the offscreen document (the media protocol), `event` everyone (broadcasts). No
//! message carries a separate routing field, so no routing field can be mistaken for an
//! argument (`dial {target}`).
//!
//! Requests are parsed by hand ([`parse_command`]): one pass over the object's keys, values of
//! the wrong type read as absent, and the errors are exactly the Command API's (`bad-request`
//! with the documented messages, `unknown-command`). Replies and events are plain `Serialize`
//! structs, no generic JSON value on the way out.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::config::{IceServer, Settings};

/// The schema version every request and event carries as `ferrophone`.
pub const VERSION: u32 = 1;

// --- literal fields ------------------------------------------------------------------------------

macro_rules! literal {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $value:expr, $expect:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$ty as Serialize>::serialize(&$value, s)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if <$ty as Deserialize>::deserialize(d)? == $value {
                    Ok($name)
                } else {
                    Err(de::Error::custom(concat!("expected ", $expect)))
                }
            }
        }
    };
}

literal!(
    /// `ferrophone: 1`.
    V1, u32, VERSION, "ferrophone: 1"
);
literal!(
    /// `ok: true`.
    True, bool, true, "ok: true"
);
literal!(
    /// `ok: false`.
    False, bool, false, "ok: false"
);

/// A fieldless enum written as its name (one string table instead of a derived `match` per enum).
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

// --- shared values ---------------------------------------------------------------------------------

/// A call as reported in `calls`, `call` events and call command replies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Call {
    pub id: String,
    pub direction: Direction,
    /// The far end's URI (`sip:…`).
    pub remote: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_name: Option<String>,
    pub state: CallState,
    pub auto_answer: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    pub muted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Outgoing,
    Incoming,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    Dialing,
    Ringing,
    Early,
    Active,
    Held,
    Ended,
}

names!(Direction { Outgoing => "outgoing", Incoming => "incoming" });
names!(CallState { Dialing => "dialing", Ringing => "ringing", Early => "early", Active => "active", Held => "held", Ended => "ended" });

impl From<&crate::call::CallInfo> for Call {
    fn from(c: &crate::call::CallInfo) -> Call {
        use crate::call::{CallState as S, Direction as D};
        Call {
            id: c.id.clone(),
            direction: match c.direction {
                D::Outgoing => Direction::Outgoing,
                D::Incoming => Direction::Incoming,
            },
            remote: c.remote.clone(),
            remote_name: c.remote_name.clone(),
            state: match c.state {
                S::Dialing => CallState::Dialing,
                S::Ringing => CallState::Ringing,
                S::Early => CallState::Early,
                S::Active => CallState::Active,
                S::Held => CallState::Held,
                S::Ended => CallState::Ended,
            },
            auto_answer: c.auto_answer,
            end_reason: c.end_reason.clone(),
            muted: c.muted,
        }
    }
}

/// `registration` of `status` and of `registration` events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    pub state: RegistrationState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationState {
    Unconfigured,
    Connecting,
    Registering,
    Registered,
    AuthFailed,
    Unreachable,
    Unregistered,
}

names!(RegistrationState {
    Unconfigured => "unconfigured",
    Connecting => "connecting",
    Registering => "registering",
    Registered => "registered",
    AuthFailed => "auth-failed",
    Unreachable => "unreachable",
    Unregistered => "unregistered",
});

/// `connection` of `status` and of `registration` events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Connection {
    pub state: ConnectionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Seconds until the next attempt (when `waiting`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_in: Option<u64>,
    pub failures: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionState {
    Idle,
    Connecting,
    Open,
    Waiting,
}

names!(ConnectionState { Idle => "idle", Connecting => "connecting", Open => "open", Waiting => "waiting" });

/// The body of `status` (and of the `registration` event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusBody {
    pub registration: Registration,
    pub connection: Connection,
}

impl StatusBody {
    /// Nothing started yet.
    pub fn unconfigured() -> StatusBody {
        StatusBody {
            registration: Registration { state: RegistrationState::Unconfigured, expires_in: None, reason: None },
            connection: Connection { state: ConnectionState::Idle, server: None, retry_in: None, failures: 0 },
        }
    }

    /// The core's status; `config_problem` (why the stored configuration is unusable) becomes
    /// the registration's `reason` when it has none.
    pub fn new(s: &crate::Status, config_problem: Option<&str>) -> StatusBody {
        use crate::RegistrationState as R;
        let r = &s.registration;
        let c = &s.connection;
        StatusBody {
            registration: Registration {
                state: match r.state {
                    R::Unconfigured => RegistrationState::Unconfigured,
                    R::Connecting => RegistrationState::Connecting,
                    R::Registering => RegistrationState::Registering,
                    R::Registered => RegistrationState::Registered,
                    R::AuthFailed => RegistrationState::AuthFailed,
                    R::Unreachable => RegistrationState::Unreachable,
                    R::Unregistered => RegistrationState::Unregistered,
                },
                expires_in: r.expires_in,
                reason: r.reason.clone().or_else(|| config_problem.map(str::to_string)),
            },
            connection: Connection {
                state: match c.state {
                    crate::ConnectionState::Idle => ConnectionState::Idle,
                    crate::ConnectionState::Connecting => ConnectionState::Connecting,
                    crate::ConnectionState::Open => ConnectionState::Open,
                    crate::ConnectionState::Waiting => ConnectionState::Waiting,
                },
                server: c.server.clone(),
                retry_in: c.retry_in,
                failures: c.failures,
            },
        }
    }
}

// --- requests (the Command API) -------------------------------------------------------------------

/// A call command that takes only the call's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallAction {
    Answer,
    Reject,
    Hangup,
    Hold,
    Resume,
    Mute,
    Unmute,
}

impl CallAction {
    pub fn name(self) -> &'static str {
        match self {
            CallAction::Answer => "answer",
            CallAction::Reject => "reject",
            CallAction::Hangup => "hangup",
            CallAction::Hold => "hold",
            CallAction::Resume => "resume",
            CallAction::Mute => "mute",
            CallAction::Unmute => "unmute",
        }
    }
}

/// Where `transfer` sends the far end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferTo {
    /// Blind: the far end calls `target`.
    Blind { target: String },
    /// Attended: the far end is connected to the far end of call `replaces`.
    Attended { replaces: String },
}

/// What the offscreen document reports about a call's media (`media-event`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaEventKind {
    Connected,
    Failed,
    TrackEnded,
}

names!(MediaEventKind { Connected => "connected", Failed => "failed", TrackEnded => "track-ended" });

/// `detail` of a `media-event` (docs/MEDIA.md "Notifications").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaEventDetail {
    /// `ice-failed`, `dtls-failed`, `microphone-ended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ice_state: Option<String>,
    /// The microphone's label (`track-ended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A request `{ ferrophone: 1, cmd: "<name>", ...arguments }` (docs/API.md "Commands").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Status,
    Calls,
    Dial {
        target: String,
    },
    Call {
        action: CallAction,
        id: String,
    },
    Transfer {
        id: String,
        to: TransferTo,
    },
    Dtmf {
        id: String,
        digits: String,
    },
    Register,
    Unregister,
    // Internal: this extension's own contexts only (refused with `unknown-command` from outside).
    /// The offscreen document's notification about a call's media. An unknown `event` is `None`
    /// (ignored, as every event but `failed` and `track-ended`).
    MediaEvent {
        call_id: String,
        event: Option<MediaEventKind>,
        detail: Option<MediaEventDetail>,
    },
    MicTest,
    /// The offscreen document asks for the ICE servers with their TURN passwords.
    IceServers,
    TestConnection {
        server: Option<String>,
    },
    Diagnostics,
}

impl Command {
    /// The `cmd` name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Status => "status",
            Command::Calls => "calls",
            Command::Dial { .. } => "dial",
            Command::Call { action, .. } => action.name(),
            Command::Transfer { .. } => "transfer",
            Command::Dtmf { .. } => "dtmf",
            Command::Register => "register",
            Command::Unregister => "unregister",
            Command::MediaEvent { .. } => "media-event",
            Command::MicTest => "mic-test",
            Command::IceServers => "ice-servers",
            Command::TestConnection { .. } => "test-connection",
            Command::Diagnostics => "diagnostics",
        }
    }

    /// The core's command for this request (`Err(self)`: a request the host answers itself).
    pub fn into_core(self) -> Result<crate::Command, Command> {
        use crate::Command as C;
        Ok(match self {
            Command::Dial { target } => C::Dial { target },
            Command::Call { action, id: call } => match action {
                CallAction::Answer => C::Answer { call },
                CallAction::Reject => C::Reject { call },
                CallAction::Hangup => C::Hangup { call },
                CallAction::Hold => C::Hold { call },
                CallAction::Resume => C::Resume { call },
                CallAction::Mute => C::Mute { call, muted: true },
                CallAction::Unmute => C::Mute { call, muted: false },
            },
            Command::Transfer { id: call, to: TransferTo::Blind { target } } => C::Transfer { call, to: target },
            Command::Transfer { id: call, to: TransferTo::Attended { replaces } } => {
                C::TransferAttended { call, replaces }
            }
            Command::Dtmf { id: call, digits } => C::Dtmf { call, digits },
            Command::Register => C::Register,
            Command::Unregister => C::Unregister,
            other => return Err(other),
        })
    }

    /// Only for this extension's own pages: another extension gets `unknown-command`.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Command::MediaEvent { .. }
                | Command::MicTest
                | Command::IceServers
                | Command::TestConnection { .. }
                | Command::Diagnostics
        )
    }
}

/// Why a request was refused (before anything ran).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// Not `{ ferrophone: 1, cmd: "…" }`: not an object, no `ferrophone: 1`, or no `cmd` string.
    Envelope(&'static str),
    /// A known command without a required argument (the message says which).
    MissingArgument(&'static str),
    /// No command of this name. The name is kept so that a command defined outside this schema
    /// can still be recognised by the host.
    UnknownCommand(String),
}

impl RequestError {
    pub fn to_error(&self) -> ApiError {
        match self {
            RequestError::Envelope(m) => ApiError::new("bad-request", *m),
            RequestError::MissingArgument(m) => ApiError::new("bad-request", *m),
            RequestError::UnknownCommand(name) => unknown_command(name),
        }
    }
}

/// `unknown-command` for `name`.
pub fn unknown_command(name: &str) -> ApiError {
    ApiError::new("unknown-command", format!("unknown command {name:?}"))
}

/// Parse one request from any serde source (a JS object in the worker, JSON in tests).
pub fn parse_command<'de, D: Deserializer<'de>>(d: D) -> Result<Command, RequestError> {
    let f = d
        .deserialize_struct("Request", FIELDS, FieldsVisitor)
        .map_err(|_: D::Error| RequestError::Envelope(ENVELOPE))?;
    command_from_fields(f)
}

/// The typed command from a request's fields, however they were read (serde here; the worker
/// reads a JS object's fields directly, which costs less code than a deserialiser for it).
pub fn command_from_fields(f: RequestFields) -> Result<Command, RequestError> {
    if !f.v1 {
        return Err(RequestError::Envelope(ENVELOPE));
    }
    let Some(cmd) = f.cmd else { return Err(RequestError::Envelope("missing cmd")) };
    use RequestError::MissingArgument as Missing;
    let action = |action, needs| match f.id.clone() {
        Some(id) => Ok(Command::Call { action, id }),
        None => Err(Missing(needs)),
    };
    Ok(match cmd.as_str() {
        "status" => Command::Status,
        "calls" => Command::Calls,
        "dial" => Command::Dial { target: f.target.ok_or(Missing("dial needs a target"))? },
        "answer" => action(CallAction::Answer, "answer needs the call id")?,
        "reject" => action(CallAction::Reject, "reject needs the call id")?,
        "hangup" => action(CallAction::Hangup, "hangup needs the call id")?,
        "hold" => action(CallAction::Hold, "hold needs the call id")?,
        "resume" => action(CallAction::Resume, "resume needs the call id")?,
        "mute" => action(CallAction::Mute, "mute needs the call id")?,
        "unmute" => action(CallAction::Unmute, "unmute needs the call id")?,
        "transfer" => {
            let id = f.id.ok_or(Missing("transfer needs the call id"))?;
            let to = match (f.target, f.replaces) {
                (_, Some(replaces)) => TransferTo::Attended { replaces },
                (Some(target), None) => TransferTo::Blind { target },
                (None, None) => return Err(Missing("transfer needs a target (blind) or replaces (attended)")),
            };
            Command::Transfer { id, to }
        }
        "dtmf" => match (f.id, f.digits) {
            (Some(id), Some(digits)) => Command::Dtmf { id, digits },
            _ => return Err(Missing("dtmf needs the call id and digits")),
        },
        "register" => Command::Register,
        "unregister" => Command::Unregister,
        "media-event" => Command::MediaEvent {
            call_id: f.call_id.unwrap_or_default(),
            event: f.event.as_deref().and_then(|e| match e {
                "connected" => Some(MediaEventKind::Connected),
                "failed" => Some(MediaEventKind::Failed),
                "track-ended" => Some(MediaEventKind::TrackEnded),
                _ => None,
            }),
            detail: f.detail,
        },
        "mic-test" => Command::MicTest,
        "ice-servers" => Command::IceServers,
        "test-connection" => Command::TestConnection { server: f.server },
        "diagnostics" => Command::Diagnostics,
        _ => return Err(RequestError::UnknownCommand(cmd)),
    })
}

const ENVELOPE: &str = "expected { ferrophone: 1, cmd: ... }";

/// Every key a request may carry (a JS object is read only at these keys).
pub const FIELDS: &[&str] =
    &["ferrophone", "cmd", "target", "id", "digits", "replaces", "server", "callId", "event", "detail"];

/// The fields a request may carry, as read: a value of the wrong type is `None` (absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFields {
    /// `ferrophone: 1`.
    pub v1: bool,
    pub cmd: Option<String>,
    pub target: Option<String>,
    pub id: Option<String>,
    pub digits: Option<String>,
    pub replaces: Option<String>,
    pub server: Option<String>,
    pub call_id: Option<String>,
    pub event: Option<String>,
    /// `media-event`'s `detail`, when it is an object.
    pub detail: Option<MediaEventDetail>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Key {
    Ferrophone,
    Cmd,
    Target,
    Id,
    Digits,
    Replaces,
    Server,
    CallId,
    Event,
    Detail,
    #[serde(other)]
    Other,
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = RequestFields;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestFields, A::Error> {
        let mut f = RequestFields::default();
        while let Some(key) = map.next_key::<Key>()? {
            let slot = match key {
                Key::Ferrophone => {
                    f.v1 = map.next_value::<Loose<u64>>()?.0 == Some(VERSION as u64);
                    continue;
                }
                Key::Detail => {
                    f.detail = map.next_value::<Loose<MediaEventDetail>>()?.0;
                    continue;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Key::Cmd => &mut f.cmd,
                Key::Target => &mut f.target,
                Key::Id => &mut f.id,
                Key::Digits => &mut f.digits,
                Key::Replaces => &mut f.replaces,
                Key::Server => &mut f.server,
                Key::CallId => &mut f.call_id,
                Key::Event => &mut f.event,
            };
            *slot = map.next_value::<Loose<String>>()?.0;
        }
        Ok(f)
    }
}

/// A value read leniently: of the expected kind, or `None` (anything else, consumed whole).
struct Loose<T>(Option<T>);

struct LooseVisitor<T>(std::marker::PhantomData<T>);

macro_rules! none_for {
    ($($f:ident: $t:ty),*) => { $(fn $f<E: de::Error>(self, _: $t) -> Result<Self::Value, E> { Ok(Loose(None)) })* };
}

impl<'de> Deserialize<'de> for Loose<String> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor::<String>(std::marker::PhantomData))
    }
}

impl<'de> Visitor<'de> for LooseVisitor<String> {
    type Value = Loose<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose(Some(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose(Some(v)))
    }
    none_for!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_bytes: &[u8]);
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose(None))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose(None))
    }
}

impl<'de> Deserialize<'de> for Loose<u64> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor::<u64>(std::marker::PhantomData))
    }
}

impl<'de> Visitor<'de> for LooseVisitor<u64> {
    type Value = Loose<u64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Loose(Some(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose(u64::try_from(v).ok()))
    }
    none_for!(visit_bool: bool, visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose(None))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose(None))
    }
}

/// `media-event`'s `detail`: an object whose string fields are read, anything else ignored.
impl<'de> Deserialize<'de> for Loose<MediaEventDetail> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Loose<MediaEventDetail>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("anything")
            }
            none_for!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut d = MediaEventDetail::default();
                while let Some(k) = m.next_key::<DetailKey>()? {
                    let slot = match k {
                        DetailKey::Reason => &mut d.reason,
                        DetailKey::Message => &mut d.message,
                        DetailKey::IceState => &mut d.ice_state,
                        DetailKey::Label => &mut d.label,
                        DetailKey::Other => {
                            m.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = m.next_value::<Loose<String>>()?.0;
                }
                Ok(Loose(Some(d)))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum DetailKey {
    Reason,
    Message,
    IceState,
    Label,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_command(d).map_err(|e| de::Error::custom(e.to_error().message))
    }
}

impl Serialize for Command {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("ferrophone", &VERSION)?;
        m.serialize_entry("cmd", self.name())?;
        match self {
            Command::Dial { target } => m.serialize_entry("target", target)?,
            Command::Call { id, .. } => m.serialize_entry("id", id)?,
            Command::Transfer { id, to } => {
                m.serialize_entry("id", id)?;
                match to {
                    TransferTo::Blind { target } => m.serialize_entry("target", target)?,
                    TransferTo::Attended { replaces } => m.serialize_entry("replaces", replaces)?,
                }
            }
            Command::Dtmf { id, digits } => {
                m.serialize_entry("id", id)?;
                m.serialize_entry("digits", digits)?;
            }
            Command::MediaEvent { call_id, event, detail } => {
                m.serialize_entry("callId", call_id)?;
                if let Some(e) = event {
                    m.serialize_entry("event", e)?;
                }
                if let Some(d) = detail {
                    m.serialize_entry("detail", d)?;
                }
            }
            Command::TestConnection { server: Some(server) } => m.serialize_entry("server", server)?,
            _ => {}
        }
        m.end()
    }
}

// --- replies ---------------------------------------------------------------------------------------

/// `error` of a failed reply: a kebab-case `code` and a human `message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError { code: code.to_string(), message: message.into() }
    }
}

/// `{ ok: false, error: { code, message } }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReply {
    pub ok: False,
    pub error: ApiError,
}

/// `{ ok: true }` with nothing else.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OkReply {
    pub ok: True,
}

/// `status`, `register`, `unregister`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReply {
    pub ok: True,
    pub registration: Registration,
    pub connection: Connection,
}

impl From<StatusBody> for StatusReply {
    fn from(b: StatusBody) -> StatusReply {
        StatusReply { ok: True, registration: b.registration, connection: b.connection }
    }
}

/// `calls`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsReply {
    pub ok: True,
    pub calls: Vec<Call>,
}

/// `dial`, `answer`, `hangup`, … : the call after the command (`null` if it is already gone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallReply {
    pub ok: True,
    pub call: Option<Call>,
}

/// `ice-servers` (internal): the ICE servers with their TURN passwords.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IceServersReply {
    pub ok: True,
    pub ice_servers: Vec<IceServer>,
}

/// `mic-test` (internal), the offscreen document's `mic-probe` reply passed on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MicProbeReply {
    pub ok: True,
    pub audio_tracks: u32,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
}

/// `test-connection` (internal).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionTestReply {
    pub ok: True,
    pub reachable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sip: Option<bool>,
    /// The status line's code and phrase, `"200 OK"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `diagnostics` (internal). Never the password; TURN passwords read `<set>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiagnosticsReply {
    pub ok: True,
    pub version: Option<String>,
    pub account: Option<DiagnosticsAccount>,
    pub config_problem: Option<String>,
    pub settings: Settings,
    pub ua: Option<DiagnosticsUa>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiagnosticsAccount {
    pub server: String,
    pub username: String,
    pub auth_username: String,
    pub domain: String,
    pub display_name: Option<String>,
    pub aor: String,
    pub password_stored: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiagnosticsUa {
    pub instance_id: String,
    pub status: DiagnosticsStatus,
    pub trace: Vec<TraceLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsStatus {
    pub registration: Registration,
    pub connection: Connection,
}

/// One SIP message of the diagnostics trace (`Authorization` masked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceLine {
    pub at: u64,
    /// `in` or `out`.
    pub direction: String,
    pub text: String,
}

impl From<&crate::trace::TraceEntry> for TraceLine {
    fn from(e: &crate::trace::TraceEntry) -> TraceLine {
        let direction = match e.direction {
            crate::trace::Direction::In => "in",
            crate::trace::Direction::Out => "out",
        };
        TraceLine { at: e.at, direction: direction.to_string(), text: e.text.clone() }
    }
}

/// The context menu's link dial waits for the user's "Call" (docs/HEADLESS.md); the reply of
/// that browser surface, not of a runtime message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfirmReply {
    pub ok: True,
    pub confirm: LinkConfirm,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkConfirm {
    pub notification_id: String,
    pub target: String,
    pub expires_in_ms: u64,
}

/// The user pressed "Cancel" on a link dial's confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelledReply {
    pub ok: True,
    pub cancelled: bool,
}

/// Every reply the worker sends, serialised as the variant's own shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Reply {
    Error(ErrorReply),
    Ok(OkReply),
    Status(StatusReply),
    Calls(CallsReply),
    Call(CallReply),
    IceServers(IceServersReply),
    MicProbe(MicProbeReply),
    ConnectionTest(ConnectionTestReply),
    Diagnostics(Box<DiagnosticsReply>),
    LinkConfirm(LinkConfirmReply),
    Cancelled(CancelledReply),
}

impl Reply {
    pub fn error(code: &str, message: impl Into<String>) -> Reply {
        Reply::Error(ErrorReply { ok: False, error: ApiError::new(code, message) })
    }
    pub fn is_ok(&self) -> bool {
        !matches!(self, Reply::Error(_))
    }
    /// The error's message, if this is an error.
    pub fn error_message(&self) -> Option<&str> {
        match self {
            Reply::Error(e) => Some(&e.error.message),
            _ => None,
        }
    }
}

impl From<ApiError> for Reply {
    fn from(error: ApiError) -> Reply {
        Reply::Error(ErrorReply { ok: False, error })
    }
}

// --- events ------------------------------------------------------------------------------------------

/// `{ ferrophone: 1, event: "registration", state, expiresIn?, reason?, registration, connection }`:
/// the registration's fields also at the top level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationEvent {
    pub ferrophone: V1,
    pub state: RegistrationState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub registration: Registration,
    pub connection: Connection,
}

impl From<StatusBody> for RegistrationEvent {
    fn from(b: StatusBody) -> RegistrationEvent {
        RegistrationEvent {
            ferrophone: V1,
            state: b.registration.state,
            expires_in: b.registration.expires_in,
            reason: b.registration.reason.clone(),
            registration: b.registration,
            connection: b.connection,
        }
    }
}

/// `{ ferrophone: 1, event: "call", call }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallEvent {
    pub ferrophone: V1,
    pub call: Call,
}

/// `{ ferrophone: 1, event: "dtmf", callId, digit }`: a digit received by SIP INFO.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DtmfEvent {
    pub ferrophone: V1,
    pub call_id: String,
    pub digit: String,
}

/// `{ ferrophone: 1, event: "transfer", callId, status, done, success, newCallId? }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferEvent {
    pub ferrophone: V1,
    pub call_id: String,
    pub status: u16,
    pub done: bool,
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_call_id: Option<String>,
}

impl From<&crate::TransferProgress> for TransferEvent {
    fn from(t: &crate::TransferProgress) -> TransferEvent {
        TransferEvent {
            ferrophone: V1,
            call_id: t.call.clone(),
            status: t.status,
            done: t.done,
            success: t.success,
            new_call_id: t.new_call.clone(),
        }
    }
}

/// Every event the worker broadcasts (docs/API.md "Events"), tagged by `event`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Registration(RegistrationEvent),
    Call(CallEvent),
    Dtmf(DtmfEvent),
    Transfer(TransferEvent),
}

// --- the media protocol (worker → offscreen document) ----------------------------------------------

/// A media request `{ ferrophone: 1, type: "<kind>", callId, ...arguments }` (docs/MEDIA.md).
/// Serialised by hand (the common fields written once: half the code of the derived form).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum MediaMessage {
    /// A new call that we offer.
    #[serde(rename_all = "camelCase")]
    MediaOffer {
        ferrophone: V1,
        call_id: String,
        /// The ICE servers WITHOUT their TURN passwords (a request reaches every page of the
        /// extension); `ice_credentials` says the document must fetch them (`ice-servers`).
        ice_servers: Vec<IceServer>,
        ice_credentials: bool,
        gathering_timeout_ms: u32,
        /// `false`: prepare the SDP without opening the microphone (delayed automatic answer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        microphone: Option<bool>,
    },
    /// Answer the far end's offer (`sdp`): a new call, or a re-offer on an existing one.
    #[serde(rename_all = "camelCase")]
    MediaAnswer {
        ferrophone: V1,
        call_id: String,
        /// The far end's offer.
        sdp: String,
        ice_servers: Vec<IceServer>,
        ice_credentials: bool,
        gathering_timeout_ms: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        microphone: Option<bool>,
    },
    #[serde(rename_all = "camelCase")]
    MediaMicrophone { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    ToneZip { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    MediaRemote {
        ferrophone: V1,
        call_id: String,
        /// The far end's answer.
        sdp: String,
        /// `false`: a provisional answer (183, early media).
        #[serde(rename = "final")]
        final_answer: bool,
    },
    #[serde(rename_all = "camelCase")]
    MediaReoffer { ferrophone: V1, call_id: String, direction: String, ice_restart: bool, gathering_timeout_ms: u32 },
    #[serde(rename_all = "camelCase")]
    MediaRollback { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    MediaClose { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    MediaMute { ferrophone: V1, call_id: String, muted: bool },
    #[serde(rename_all = "camelCase")]
    MediaDtmf {
        ferrophone: V1,
        call_id: String,
        digits: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gap_ms: Option<u32>,
    },
    #[serde(rename_all = "camelCase")]
    RingStart { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    RingStop { ferrophone: V1, call_id: String },
    /// Diagnostics and tests: the call's counters and measured audio.
    #[serde(rename_all = "camelCase")]
    MediaStats { ferrophone: V1, call_id: String },
    /// Diagnostics and tests: every call the document holds.
    MediaCalls { ferrophone: V1 },
    /// `mic-test`: open the microphone, report, release it.
    MicProbe { ferrophone: V1 },
}

impl MediaMessage {
    /// The `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            MediaMessage::MediaOffer { .. } => "media-offer",
            MediaMessage::MediaAnswer { .. } => "media-answer",
            MediaMessage::MediaMicrophone { .. } => "media-microphone",
            MediaMessage::ToneZip { .. } => "tone-zip",
            MediaMessage::MediaRemote { .. } => "media-remote",
            MediaMessage::MediaReoffer { .. } => "media-reoffer",
            MediaMessage::MediaRollback { .. } => "media-rollback",
            MediaMessage::MediaClose { .. } => "media-close",
            MediaMessage::MediaMute { .. } => "media-mute",
            MediaMessage::MediaDtmf { .. } => "media-dtmf",
            MediaMessage::RingStart { .. } => "ring-start",
            MediaMessage::RingStop { .. } => "ring-stop",
            MediaMessage::MediaStats { .. } => "media-stats",
            MediaMessage::MediaCalls { .. } => "media-calls",
            MediaMessage::MicProbe { .. } => "mic-probe",
        }
    }
}

impl MediaMessage {
    /// The call the request is about (all but the document-wide ones).
    pub fn call_id(&self) -> Option<&str> {
        use MediaMessage as M;
        match self {
            M::MediaOffer { call_id, .. }
            | M::MediaAnswer { call_id, .. }
            | M::MediaMicrophone { call_id, .. }
            | M::ToneZip { call_id, .. }
            | M::MediaRemote { call_id, .. }
            | M::MediaReoffer { call_id, .. }
            | M::MediaRollback { call_id, .. }
            | M::MediaClose { call_id, .. }
            | M::MediaMute { call_id, .. }
            | M::MediaDtmf { call_id, .. }
            | M::RingStart { call_id, .. }
            | M::RingStop { call_id, .. }
            | M::MediaStats { call_id, .. } => Some(call_id),
            M::MediaCalls { .. } | M::MicProbe { .. } => None,
        }
    }
}

impl Serialize for MediaMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use MediaMessage as M;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", self.kind())?;
        m.serialize_entry("ferrophone", &VERSION)?;
        if let Some(id) = self.call_id() {
            m.serialize_entry("callId", id)?;
        }
        let (sdp, ice) = match self {
            M::MediaOffer { ice_servers, ice_credentials, gathering_timeout_ms, microphone, .. } => {
                (None, Some((ice_servers, ice_credentials, gathering_timeout_ms, microphone)))
            }
            M::MediaAnswer { sdp, ice_servers, ice_credentials, gathering_timeout_ms, microphone, .. } => {
                (Some(sdp), Some((ice_servers, ice_credentials, gathering_timeout_ms, microphone)))
            }
            M::MediaRemote { sdp, final_answer, .. } => {
                m.serialize_entry("final", final_answer)?;
                (Some(sdp), None)
            }
            M::MediaReoffer { direction, ice_restart, gathering_timeout_ms, .. } => {
                m.serialize_entry("direction", direction)?;
                m.serialize_entry("iceRestart", ice_restart)?;
                m.serialize_entry("gatheringTimeoutMs", gathering_timeout_ms)?;
                (None, None)
            }
            M::MediaMute { muted, .. } => {
                m.serialize_entry("muted", muted)?;
                (None, None)
            }
            M::MediaDtmf { digits, duration_ms, gap_ms, .. } => {
                m.serialize_entry("digits", digits)?;
                if let Some(d) = duration_ms {
                    m.serialize_entry("durationMs", d)?;
                }
                if let Some(g) = gap_ms {
                    m.serialize_entry("gapMs", g)?;
                }
                (None, None)
            }
            _ => (None, None),
        };
        if let Some(sdp) = sdp {
            m.serialize_entry("sdp", sdp)?;
        }
        if let Some((servers, credentials, gathering, microphone)) = ice {
            m.serialize_entry("iceServers", servers)?;
            m.serialize_entry("iceCredentials", credentials)?;
            m.serialize_entry("gatheringTimeoutMs", gathering)?;
            if let Some(mic) = microphone {
                m.serialize_entry("microphone", mic)?;
            }
        }
        m.end()
    }
}

/// What the worker reads of any media reply: success, the SDP (for requests that make one), the
/// error. Fields of the wrong type make the whole reply unreadable (a failure).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaReply {
    pub ok: bool,
    pub sdp: Option<String>,
    pub error: Option<ApiError>,
    // `mic-probe`:
    pub audio_tracks: Option<u32>,
    pub label: Option<String>,
    pub sample_rate: Option<u32>,
}
