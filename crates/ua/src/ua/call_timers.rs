//! Every call's deadlines ([`TimerTable`]), and what happens when one passes.

use super::call_state::*;
use super::timer::Timer;
use super::UserAgent;
use crate::call::EndReason;
use crate::call::{CallState, Direction, MediaOp};
use crate::transaction::Millis;

impl UserAgent {
    /// Fire every call timer that is due, in [`Timer::ALL`] order, call by call.
    pub(super) fn call_timers(&mut self) {
        let now = self.now;
        let ids: Vec<String> = self.calls.keys().cloned().collect();
        for id in ids {
            // Each timer fires at most once per tick; a handler may end the call.
            for _ in 0..Timer::ALL.len() {
                let Some(call) = self.calls.get_mut(&id) else { break };
                let waiting_for_flow = call.needs_refresh;
                let Some(timer) = call.timers.take_expired(now, |t| !(waiting_for_flow && t.waits_for_flow())) else {
                    break;
                };
                self.on_call_timer(&id, timer);
            }
        }
        self.emit_status_if_changed();
    }

    fn on_call_timer(&mut self, id: &str, timer: Timer) {
        let now = self.now;
        let t2 = self.txl.timers().t2;
        let Some(call) = self.calls.get_mut(id) else { return };
        match timer {
            Timer::AckWait => {
                call.timers.stop(Timer::Retransmit2xx);
                call.ok_bytes = None;
                self.log(&format!("call {id}: no ACK for our 200"));
                self.send_bye(id, EndReason::NoAck);
            }
            Timer::Retransmit2xx => {
                if let Some(b) = call.ok_bytes.clone() {
                    call.ok_interval = (call.ok_interval * 2).min(t2);
                    call.timers.set(Timer::Retransmit2xx, now + call.ok_interval);
                    self.txl.send_raw(b);
                }
            }
            Timer::CancelGuard => {
                let reason = call.end_reason.unwrap_or(EndReason::Cancelled);
                self.end_call(id, reason);
            }
            Timer::Ring => {
                if call.direction == Direction::Incoming {
                    self.refuse_incoming(id, 480, "Temporarily Unavailable", EndReason::NoAnswer);
                } else {
                    self.hangup_with_reason(id, EndReason::NoAnswer);
                }
            }
            Timer::SessionExpiry => {
                call.timers.stop(Timer::SessionRefresh);
                self.log(&format!("call {id}: the session was not refreshed in time (RFC 4028)"));
                self.send_bye(id, EndReason::SessionExpired);
            }
            Timer::SessionRefresh => self.refresh_session(id),
            Timer::Recover => {
                let dialog = call.dialog.clone();
                self.log(&format!("call {id}: not recovered after the connection loss"));
                if self.flow == super::Flow::Open {
                    self.send_bye(id, EndReason::ConnectionLost);
                } else {
                    // No flow to send the BYE on: end it here now, and tell the far end as soon as
                    // a flow is back, so it does not keep a call we no longer have.
                    if let Some(d) = dialog {
                        if self.orphan_byes.len() < 16 {
                            self.orphan_byes.push(d);
                        }
                    }
                    self.end_call(id, EndReason::ConnectionLost);
                }
            }
            Timer::AutoAnswer => {
                let _ = self.answer_call(id);
            }
            Timer::ReinviteRetry => {
                let hold = call.reinvite_retry_hold;
                let expected = if hold { CallState::Active } else { CallState::Held };
                if call.state == expected {
                    let direction = if hold { "sendonly" } else { "sendrecv" };
                    self.media(
                        id,
                        MediaOp::Reoffer { direction, ice_restart: false },
                        Some(Pending::OurReinvite { hold }),
                    );
                }
            }
        }
    }

    /// The earliest deadline of any call.
    pub(super) fn call_deadline(&self) -> Option<Millis> {
        self.calls.values().filter_map(|c| c.next_timeout()).min()
    }
}
