//! The events the worker broadcasts to every extension context (`{ ferrophone: 1, event, ... }`).

use super::*;

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
