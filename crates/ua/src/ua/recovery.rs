//! Calls that survive the flow: what an established call does when the WebSocket breaks, and
//! the dialog refresh over the next flow (RFC 5626 §4.4 recovery).

use super::call_state::*;
use super::timer::Timer;
use super::UserAgent;
use crate::call::EndReason;
use crate::call::{CallState, MediaOp};
use crate::message::Method;
use crate::transaction::Millis;

/// How long an established call may wait for its dialog to be refreshed over a new flow.
pub(super) const CALL_RECOVERY_MS: Millis = 30_000;

impl UserAgent {
    /// The flow broke. Calls still being set up cannot continue (their transactions are gone);
    /// established calls keep their media (it does not use the WebSocket) and get
    /// `CALL_RECOVERY_MS` to be refreshed over a new flow.
    pub(super) fn calls_on_flow_lost(&mut self) {
        let now = self.now;
        let mut lost = Vec::new();
        for (id, c) in self.calls.iter_mut() {
            match c.state {
                CallState::Active | CallState::Held => {
                    c.needs_refresh = true;
                    c.timers.set_if_stopped(Timer::Recover, now + CALL_RECOVERY_MS);
                    c.reinvite_tx = None;
                    c.ok_bytes = None;
                    c.timers.stop(Timer::Retransmit2xx);
                    c.timers.stop(Timer::AckWait);
                    c.peer_reinvite_pending = None;
                }
                _ => lost.push(id.clone()),
            }
        }
        for id in lost {
            self.end_call(&id, EndReason::ConnectionLost);
        }
    }

    /// Registered again on a new flow: refresh every dialog the old flow carried with a
    /// re-INVITE (target refresh: the proxy learns the new connection from our Contact).
    /// Whether an established call is waiting to be refreshed over a new flow.
    pub(super) fn calls_waiting_for_flow(&self) -> bool {
        self.calls.values().any(|c| c.needs_refresh)
    }

    pub(super) fn calls_on_flow_restored(&mut self) {
        for mut d in std::mem::take(&mut self.orphan_byes) {
            let branch = self.rng.branch();
            let mut bye = d.request(Method::Bye, &branch, None);
            bye.headers.push("Reason", "SIP;cause=408;text=\"connection lost\"");
            self.log(&format!("sending the BYE of a call lost with the connection (Call-ID {})", d.call_id));
            self.txl.send_request(self.now, bye);
        }
        let ids: Vec<(String, bool)> = self
            .calls
            .values()
            .filter(|c| c.needs_refresh && c.oa.waiting.is_none() && c.reinvite_tx.is_none())
            .map(|c| (c.id.clone(), c.state == CallState::Held))
            .collect();
        for (id, hold) in ids {
            self.log(&format!("call {id}: refreshing the dialog over the new connection"));
            let direction = if hold { "sendonly" } else { "sendrecv" };
            self.media(&id, MediaOp::Reoffer { direction, ice_restart: false }, Some(Pending::OurReinvite { hold }));
        }
    }
}
