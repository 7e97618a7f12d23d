//! The Command API's replies: `{ ok: true, ...result }` or `{ ok: false, error: { code, message } }`.

use super::*;

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
