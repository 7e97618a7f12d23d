//! The flow (RFC 5626): the one WebSocket connection, its opening and loss, reconnect backoff
//! with full jitter, and the CRLF keep-alive.

use super::*;
use crate::message;
use crate::registration::RegistrationState;
use crate::trace::Direction;
use crate::transaction::Millis;

/// How long to wait for the WebSocket to open before giving up on an attempt.
pub(super) const CONNECT_TIMEOUT_MS: Millis = 10_000;

/// RFC 5626 §4.4.1: a pong must arrive within 10 s of the ping.
pub(super) const PONG_TIMEOUT_MS: Millis = 10_000;

/// Reconnect backoff: full jitter over `min(cap, max(base, outage / 2))`.
pub(super) const BACKOFF_BASE_MS: Millis = 1_000;
pub(super) const BACKOFF_CAP_MS: Millis = 30_000;

/// Backoff ceiling while an established call waits for a new flow (it has 30 s to be refreshed).
pub(super) const CALL_RECOVERY_BACKOFF_CAP_MS: Millis = 3_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Idle,
    Connecting { deadline: Millis },
    Open,
    Waiting { until: Millis },
}

impl UserAgent {
    pub(super) fn keepalive_ms(&self) -> Millis {
        self.settings.keepalive_interval.clamp(5, 25) as Millis * 1000
    }

    pub(super) fn close_flow(&mut self) {
        if matches!(self.flow, Flow::Open | Flow::Connecting { .. }) {
            self.out.push_back(Output::Close);
        }
        self.txl.transport_lost();
        self.drain_tx_events();
        self.flow = Flow::Idle;
        self.reset_keepalive();
    }

    pub(super) fn reset_keepalive(&mut self) {
        self.next_ping_at = None;
        self.pong_deadline = None;
        self.flow_pongs = false;
    }

    pub(super) fn connect(&mut self) {
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

    pub(super) fn on_connected(&mut self) {
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

    pub(super) fn on_disconnected(&mut self, reason: &str) {
        match self.flow {
            Flow::Idle | Flow::Waiting { .. } => {}
            Flow::Connecting { .. } | Flow::Open => {
                self.log(&format!("WebSocket closed: {reason}"));
                self.flow_failed(reason);
            }
        }
    }

    /// The flow broke (or never opened): fail transactions, schedule a reconnect.
    pub(super) fn flow_failed(&mut self, reason: &str) {
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
        // Full jitter over a ceiling that grows with how long the server has been unreachable:
        // half the outage so far, at least 1 s, at most 30 s. A server that fails fast (connection
        // refused) is not retried faster for it, and the wait after it comes back stays a fraction
        // of the outage: after a 5-second restart the next attempt comes 0.66 s later (median;
        // p90 1.6 s, simulated), where a ceiling doubling every second failure (1, 1, 2, 2, 4 … s)
        // gave 1.3 s (p90 3.2 s) because a refused connection fails within milliseconds. The cap
        // is reached after a minute of outage.
        let down_since = *self.down_since.get_or_insert(self.now);
        let outage = self.now.saturating_sub(down_since);
        let ceiling = BACKOFF_CAP_MS.min(BACKOFF_BASE_MS.max(outage / 2));
        // A call waiting to be refreshed over a new flow has 30 s: keep retrying often enough.
        let ceiling = if self.calls_waiting_for_flow() { ceiling.min(CALL_RECOVERY_BACKOFF_CAP_MS) } else { ceiling };
        let delay = self.rng.below(ceiling + 1);
        self.failures = self.failures.saturating_add(1);
        self.flow = Flow::Waiting { until: self.now + delay };
        if self.reg_state != RegistrationState::AuthFailed {
            self.set_reg(RegistrationState::Unreachable, Some(reason.to_string()));
        }
    }

    pub(super) fn send_bytes(&mut self, bytes: Vec<u8>, traced: bool) {
        if bytes.len() > message::MAX_MESSAGE_SIZE {
            self.log(&oversize_line(&bytes));
            return;
        }
        if traced {
            self.trace.record(self.now, Direction::Out, &bytes);
        }
        self.out.push_back(Output::Send(bytes));
    }
}
