//! The values replies and events carry: calls, registration and connection status, trace lines.

// The values are the core's own types (crate::call, crate::ua::io, crate::registration): one
// definition each, serialised as the Command API documents them.
pub use crate::call::{CallInfo as Call, CallState, Direction};
pub use crate::{
    ConnectionState, ConnectionStatus as Connection, RegistrationState, RegistrationStatus as Registration,
};

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
        let mut registration = s.registration.clone();
        if registration.reason.is_none() {
            registration.reason = config_problem.map(str::to_string);
        }
        StatusBody { registration, connection: s.connection.clone() }
    }
}
