//! RFC 4028 as the UA does it: arming the session timer, refreshing (UPDATE or re-INVITE), and
//! the answers to our refreshes. The negotiation rules are in `session_timer`.

use super::call_state::*;
use super::session_timer::{self as st, SessionTimer};
use super::timer::Timer;
use super::UserAgent;
use crate::call::EndReason;
use crate::call::{CallState, MediaOp};
use crate::message::{Headers, Method, Response};

impl UserAgent {
    /// (Re)arm the session timer of a call after a negotiation.
    pub(super) fn arm_session_timer(&mut self, id: &str, timer: Option<SessionTimer>) {
        let now = self.now;
        if let Some(c) = self.calls.get_mut(id) {
            if timer.is_some() {
                c.timer = timer;
            }
            c.timers.stop(Timer::SessionRefresh);
            c.timers.stop(Timer::SessionExpiry);
            if let Some(t) = c.timer {
                if let Some(ms) = t.refresh_in_ms() {
                    c.timers.set(Timer::SessionRefresh, now + ms);
                }
                c.timers.set(Timer::SessionExpiry, now + t.give_up_in_ms());
            }
        }
    }

    /// Our turn to refresh: UPDATE without SDP when the peer allows it, else a re-INVITE that
    /// offers the session we have, unchanged (same SDP, same version: nothing for the browser or
    /// the far end to renegotiate).
    pub(super) fn refresh_session(&mut self, id: &str) {
        let branch = self.rng.branch();
        let Some(call) = self.calls.get_mut(id) else { return };
        let Some(timer) = call.timer else { return };
        if call.reinvite_tx.is_some() || call.refresh_tx.is_some() || call.oa.waiting.is_some() {
            // Something else is negotiating; try again shortly.
            call.timers.set(Timer::SessionRefresh, self.now + 2_000);
            return;
        }
        call.asked_interval = Some(timer.interval);
        if call.peer_allows_update {
            let Some(d) = call.dialog.as_mut() else { return };
            let mut req = d.request(Method::Update, &branch, None);
            req.headers.push("Session-Expires", st::uac_header(&timer));
            req.headers.push("Min-SE", st::MIN_SE.to_string());
            req.headers.push("Supported", super::SUPPORTED);
            let tx = self.txl.send_request(self.now, req);
            self.track_tx(tx, id, TxRole::Refresh);
            if let Some(c) = self.calls.get_mut(id) {
                c.refresh_tx = Some(tx);
                c.timers.stop(Timer::SessionRefresh);
            }
        } else {
            let hold = call.state == CallState::Held;
            call.timers.stop(Timer::SessionRefresh);
            match call.oa.local.clone() {
                Some(sdp) => self.send_reinvite(id, sdp, hold, true),
                None => {
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

    pub(super) fn on_refresh_response(&mut self, id: &str, resp: &Response) {
        let glare_delay = self.rng.below(2000);
        let Some(call) = self.calls.get_mut(id) else { return };
        call.refresh_tx = None;
        match resp.status {
            // Glare with a request of the peer's: try the same UPDATE again shortly (§14.1).
            491 => call.timers.set(Timer::SessionRefresh, self.now + glare_delay),
            200..=299 => {
                let timer = st::from_uac_response(&resp.headers, call.asked_interval);
                self.arm_session_timer(id, timer);
            }
            422 => {
                if let (Some(min), Some(t)) = (st::min_se(&resp.headers), call.timer.as_mut()) {
                    t.interval = min.max(t.interval);
                }
                self.refresh_session(id);
            }
            408 | 481 => self.send_bye(id, EndReason::DialogLost),
            _ => {
                // The peer does not like UPDATE after all: refresh with a re-INVITE instead.
                call.peer_allows_update = false;
                call.timers.set(Timer::SessionRefresh, self.now + 1_000);
            }
        }
    }
}

/// Whether an `Allow` header lists UPDATE (RFC 3311), so a session refresh can avoid SDP.
pub(super) fn allows_update(h: &Headers) -> bool {
    h.get_all("Allow").iter().flat_map(|v| crate::message::split_list(v)).any(|m| m.eq_ignore_ascii_case("UPDATE"))
}
