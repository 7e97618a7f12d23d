//! Every call's deadlines, and what happens when one passes.

use super::call_state::*;
use super::UserAgent;
use crate::call::{CallState, Direction, MediaOp};
use crate::transaction::Millis;

impl UserAgent {
    /// Call timers: 2xx retransmission, ring timeouts, CANCEL guard, 491 retry.
    pub(super) fn call_timers(&mut self) {
        let now = self.now;
        let ids: Vec<String> = self.calls.keys().cloned().collect();
        for id in ids {
            let Some(call) = self.calls.get_mut(&id) else {
                continue;
            };
            if call.ok_deadline.is_some_and(|t| now >= t) {
                call.ok_deadline = None;
                call.ok_retransmit_at = None;
                call.ok_bytes = None;
                self.log(&format!("call {id}: no ACK for our 200"));
                self.send_bye(&id, "no-ack");
                continue;
            }
            if call.ok_retransmit_at.is_some_and(|t| now >= t) {
                if let Some(b) = call.ok_bytes.clone() {
                    call.ok_interval = (call.ok_interval * 2).min(4000);
                    call.ok_retransmit_at = Some(now + call.ok_interval);
                    self.txl.send_raw(b);
                }
            }
            let Some(call) = self.calls.get_mut(&id) else {
                continue;
            };
            if call.cancel_guard.is_some_and(|t| now >= t) {
                call.cancel_guard = None;
                let reason = call.end_reason.clone().unwrap_or_else(|| "cancelled".into());
                self.end_call(&id, &reason);
                continue;
            }
            if call.ring_deadline.is_some_and(|t| now >= t) {
                call.ring_deadline = None;
                if call.direction == Direction::Incoming {
                    self.refuse_incoming(&id, 480, "Temporarily Unavailable", "no-answer");
                } else {
                    self.hangup_with_reason(&id, "no-answer");
                }
                continue;
            }
            if call.expiry_deadline.is_some_and(|t| now >= t) && !call.needs_refresh {
                call.expiry_deadline = None;
                call.timer_deadline = None;
                self.log(&format!("call {id}: the session was not refreshed in time (RFC 4028)"));
                self.send_bye(&id, "session-expired");
                continue;
            }
            if call.timer_deadline.is_some_and(|t| now >= t) && !call.needs_refresh {
                call.timer_deadline = None;
                self.refresh_session(&id);
                continue;
            }
            if call.recover_deadline.is_some_and(|t| now >= t) {
                call.recover_deadline = None;
                let dialog = call.dialog.clone();
                self.log(&format!("call {id}: not recovered after the connection loss"));
                if self.flow == super::Flow::Open {
                    self.send_bye(&id, "connection-lost");
                } else {
                    // No flow to send the BYE on: end it here now, and tell the far end as soon as
                    // a flow is back, so it does not keep a call we no longer have.
                    if let Some(d) = dialog {
                        if self.orphan_byes.len() < 16 {
                            self.orphan_byes.push(d);
                        }
                    }
                    self.end_call(&id, "connection-lost");
                }
                continue;
            }
            if call.auto_answer_at.is_some_and(|t| now >= t) {
                call.auto_answer_at = None;
                let _ = self.answer_call(&id);
                continue;
            }
            let Some(call) = self.calls.get_mut(&id) else {
                continue;
            };
            if let Some((t, hold)) = call.reinvite_retry_at {
                if now >= t {
                    call.reinvite_retry_at = None;
                    let expected = if hold { CallState::Active } else { CallState::Held };
                    if call.state == expected {
                        let direction = if hold { "sendonly" } else { "sendrecv" };
                        self.media(
                            &id,
                            MediaOp::Reoffer { direction, ice_restart: false },
                            Some(Pending::OurReinvite { hold }),
                        );
                    }
                }
            }
        }
        self.emit_status_if_changed();
    }

    pub(super) fn call_deadline(&self) -> Option<Millis> {
        self.calls.values().flat_map(|c| c.deadlines()).min()
    }
}
