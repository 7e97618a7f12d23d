//! The Command API's requests (`{ ferrophone: 1, cmd, ...arguments }`) and how they are read.

use super::*;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use std::fmt;

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

/// Internal commands the schema names but does not type: the worker's module for each reads
/// its arguments itself (`save-config`: crates/web/src/config_store.rs, whose forms and per-field
/// errors are read and built by hand). They reach the host as
/// [`RequestError::UnknownCommand`]; anything else of that kind is `unknown-command`.
pub const UNTYPED_COMMANDS: &[&str] = &["save-config"];

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
