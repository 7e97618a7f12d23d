//! The values replies and events carry: calls, registration and connection status, trace lines.

use super::*;

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
    pub end_reason: Option<crate::call::EndReason>,
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
            end_reason: c.end_reason,
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
