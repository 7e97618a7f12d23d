//! Offers inside an established dialog (RFC 3261 §14, RFC 3311): our re-INVITE for hold/resume
//! and its answer or glare (491), and the far end's re-INVITE/UPDATE.

use super::call_state::*;
use super::calls::*;
use super::offer_answer::Exchange;
use super::session_timer as st;
use super::timer::Timer;
use super::UserAgent;
use crate::call::EndReason;
use crate::call::{same_session, sdp_direction, sdp_origin, CallState, Direction, MediaOp};
use crate::message::{Method, Request, Response};
use crate::transaction::TxId;

impl UserAgent {
    /// Our re-INVITE offering `sdp`; `refresh_only` when it is the unchanged session (RFC 4028
    /// refresh) rather than an offer the browser made.
    pub(super) fn send_reinvite(&mut self, id: &str, sdp: String, hold: bool, refresh_only: bool) {
        let branch = self.rng.branch();
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(d) = call.dialog.as_mut() else {
            return;
        };
        let mut req = d.request(Method::Invite, &branch, None);
        req.headers.push("Allow", super::ALLOW);
        req.headers.push("Supported", super::SUPPORTED);
        if let Some(t) = call.timer {
            req.headers.push("Session-Expires", st::uac_header(&t));
            req.headers.push("Min-SE", st::MIN_SE.to_string());
            call.asked_interval = Some(t.interval);
        }
        set_sdp(&mut req.headers, &mut req.body, &sdp);
        call.reinvite = Some(req.clone());
        call.reinvite_hold = hold;
        call.oa.exchange = Exchange::OfferSent { offer: sdp, in_ack: false, refresh_only };
        let tx = self.txl.send_request(self.now, req);
        self.track_tx(tx, id, TxRole::Reinvite);
        if let Some(c) = self.calls.get_mut(id) {
            c.reinvite_tx = Some(tx);
        }
    }

    pub(super) fn on_reinvite_response(&mut self, id: &str, resp: &Response) {
        let code = resp.status;
        if code < 200 {
            return;
        }
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let hold = call.reinvite_hold;
        call.reinvite_tx = None;
        let offered = call.oa.take_offer();
        let refresh_only = offered.as_ref().is_some_and(|o| o.refresh_only);
        if (200..300).contains(&code) {
            if let Some(o) = offered {
                call.oa.local = Some(o.sdp);
            }
            if call.timer.is_some() {
                let timer = st::from_uac_response(&resp.headers, call.asked_interval);
                self.arm_session_timer(id, timer);
            }
            let Some(call) = self.calls.get_mut(id) else { return };
            let branch = self.rng.branch();
            let Some(d) = call.dialog.as_mut() else {
                return;
            };
            d.refresh_target(&resp.headers);
            let seq = call.reinvite.as_ref().and_then(|r| r.headers.cseq()).map(|c| c.seq).unwrap_or(d.local_cseq);
            let ack = d.request(Method::Ack, &branch, Some(seq));
            self.txl.send_raw(ack.to_bytes());
            let answer = sdp_body(&resp.headers, &resp.body);
            if refresh_only {
                // We offered the session unchanged; the browser has no offer pending and needs no
                // answer, unless the far end changed its side (a new o= version): then the
                // browser must learn it through an offer/answer of its own. The same version is
                // the same description even when a media relay rewrote other lines of it (an
                // answer says `a=setup:passive` where the offer said `actpass`).
                let unchanged = match (&answer, &call.oa.remote) {
                    (None, _) => true,
                    (Some(a), Some(current)) => sdp_origin(a).is_some() && sdp_origin(a) == sdp_origin(current),
                    (Some(_), None) => false,
                };
                if !unchanged {
                    self.log(&format!("call {id}: the far end changed its session in a refresh; renegotiating"));
                    let direction = if hold { "sendonly" } else { "sendrecv" };
                    self.media(
                        id,
                        MediaOp::Reoffer { direction, ice_restart: false },
                        Some(Pending::OurReinvite { hold }),
                    );
                }
            } else if let Some(sdp) = answer {
                call.oa.remote = Some(sdp.clone());
                self.media(id, MediaOp::ApplyAnswer { answer: sdp, final_answer: true }, None);
            }
            if let Some(c) = self.calls.get_mut(id) {
                if c.needs_refresh {
                    c.needs_refresh = false;
                    c.timers.stop(Timer::Recover);
                    self.log(&format!("call {id}: dialog refreshed over the new connection"));
                }
            }
            self.set_state(id, if hold { CallState::Held } else { CallState::Active });
            return;
        }
        if refresh_only {
            match code {
                // Glare: refresh again shortly (§14.1, we may not own the Call-ID: 0-2 s).
                491 => {
                    let delay = self.rng.below(2000);
                    if let Some(c) = self.calls.get_mut(id) {
                        c.timers.set(Timer::SessionRefresh, self.now + delay);
                    }
                }
                481 | 408 => self.send_bye(id, EndReason::DialogLost),
                // Refused: the session is not refreshed, and ends at its give-up deadline unless
                // the far end refreshes it meanwhile.
                _ => self.log(&format!("call {id}: session refresh refused with {code}")),
            }
            return;
        }
        self.media(id, MediaOp::Rollback, None);
        if code == 491 {
            // §14.1: retry after 2.1–4 s if we own the Call-ID (we sent the INVITE), else 0–2 s.
            let owner = self.calls.get(id).is_some_and(|c| c.direction == Direction::Outgoing);
            let delay = if owner { 2100 + self.rng.below(1900) } else { self.rng.below(2000) };
            if let Some(c) = self.calls.get_mut(id) {
                c.timers.set(Timer::ReinviteRetry, self.now + delay);
                c.reinvite_retry_hold = hold;
            }
            return;
        }
        if code == 481 || code == 408 {
            // The dialog is gone on the other side (§12.2.1.2).
            return self.send_bye(id, EndReason::DialogLost);
        }
        self.log(&format!("call {id}: re-INVITE refused with {code}"));
        // The far end answered over the new flow, so the dialog is alive there: a refusal of the
        // refresh offer (488, 500, ...) must not end the call when the recovery window closes.
        if let Some(c) = self.calls.get_mut(id) {
            if c.needs_refresh {
                c.needs_refresh = false;
                c.timers.stop(Timer::Recover);
            }
        }
    }

    /// Answer a peer's re-INVITE/UPDATE (with our SDP when we have one).
    pub(super) fn answer_reoffer(
        &mut self,
        id: &str,
        tx: TxId,
        method: Method,
        sdp: Option<String>,
        offer_in_200: bool,
    ) {
        let contact = self.contact_value();
        let Some(req) = self.txl.server_request(tx).cloned() else {
            return;
        };
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        // The browser numbers every description it makes anew; an answer that describes the
        // session we already have goes out as it went before, version included (RFC 3264 §8), so
        // the far end sees no change.
        let sdp = sdp.map(|s| match &call.oa.local {
            Some(current) if !offer_in_200 && same_session(current, &s) => current.clone(),
            _ => s,
        });
        if let Some(s) = &sdp {
            if offer_in_200 {
                call.oa.exchange =
                    Exchange::OfferSent { offer: s.clone(), in_ack: method == Method::Invite, refresh_only: false };
            } else {
                call.oa.local = Some(s.clone());
            }
        }
        let mut r = Response::for_request(&req, 200, "OK", None);
        r.headers.push("Contact", contact);
        r.headers.push("Allow", super::ALLOW);
        r.headers.push("Supported", super::SUPPORTED);
        if let Some(sdp) = &sdp {
            set_sdp(&mut r.headers, &mut r.body, sdp);
        }
        let timer = call.pending_uas_timer.take();
        if let Some(t) = timer {
            r.headers.push("Session-Expires", st::uas_header(&t));
            if call.peer_timer_support {
                r.headers.push("Require", "timer");
            }
        }
        if method == Method::Invite {
            call.retransmit_2xx(r.to_bytes(), self.now, &self.txl.timers());
            if !offer_in_200 {
                call.oa.exchange = Exchange::Idle;
            }
        }
        call.peer_reinvite_pending = None;
        self.txl.respond(self.now, tx, r);
        // Any refresh request from the peer restarts the timer (§10).
        self.arm_session_timer(id, timer);
    }

    /// re-INVITE or UPDATE from the peer (hold/resume/codec or address change).
    pub(super) fn on_reoffer(&mut self, id: &str, tx: TxId, req: &Request) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        // §14.2 / RFC 3311 §5.2: one offer/answer at a time.
        let ours_pending =
            call.reinvite_tx.is_some() || matches!(call.oa.waiting, Some((_, Pending::OurReinvite { .. })));
        if ours_pending {
            let r = Response::for_request(req, 491, "Request Pending", None);
            self.txl.respond(self.now, tx, r);
            return;
        }
        if call.peer_reinvite_pending.is_some()
            || call.oa.waiting.is_some()
            || (req.method == Method::Invite && call.timers.is_set(Timer::Retransmit2xx))
        {
            let mut r = Response::for_request(req, 500, "Server Internal Error", None);
            r.headers.push("Retry-After", "1");
            self.txl.respond(self.now, tx, r);
            return;
        }
        let established = matches!(call.state, CallState::Active | CallState::Held);
        if !established && req.method == Method::Invite {
            let r = Response::for_request(req, 491, "Request Pending", None);
            self.txl.respond(self.now, tx, r);
            return;
        }
        // An offer we cannot use is refused before it changes anything (RFC 3261 §14.2: the
        // session goes on as it was).
        if let Some(Err(why)) = sdp_body(&req.headers, &req.body).map(|o| crate::sdp::check_offer(&o)) {
            self.log(&format!("call {id}: refusing an unusable re-offer: {why}"));
            let mut r = Response::for_request(req, 488, "Not Acceptable Here", None);
            r.headers.push("Warning", format!("399 ferrophone \"{why}\""));
            self.txl.respond(self.now, tx, r);
            return;
        }
        if let Some(d) = self.calls.get_mut(id).and_then(|c| c.dialog.as_mut()) {
            d.refresh_target(&req.headers);
        }
        let current_timer = self.calls.get(id).and_then(|c| c.timer);
        match st::negotiate_uas(&req.headers, current_timer) {
            Err(min) => {
                let mut r = Response::for_request(req, 422, "Session Interval Too Small", None);
                r.headers.push("Min-SE", min.to_string());
                self.txl.respond(self.now, tx, r);
                return;
            }
            Ok(t) => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.pending_uas_timer = t;
                    c.peer_timer_support = st::peer_supports(&req.headers);
                }
            }
        }
        match sdp_body(&req.headers, &req.body) {
            Some(offer) => {
                let remote_dir = sdp_direction(&offer);
                self.log(&format!("call {id}: peer re-offer ({}; direction {remote_dir})", req.method));
                if let Some(c) = self.calls.get_mut(id) {
                    c.peer_reinvite_pending = Some(tx);
                    c.oa.remote = Some(offer.clone());
                }
                self.media(
                    id,
                    MediaOp::CreateAnswer { offer },
                    Some(Pending::ReAnswer { tx, method: req.method.clone() }),
                );
            }
            None if req.method == Method::Invite => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.peer_reinvite_pending = Some(tx);
                }
                let dir = if self.calls.get(id).is_some_and(|c| c.state == CallState::Held) {
                    "sendonly"
                } else {
                    "sendrecv"
                };
                self.media(
                    id,
                    MediaOp::Reoffer { direction: dir, ice_restart: false },
                    Some(Pending::ReOfferIn200 { tx }),
                );
            }
            // UPDATE without SDP: a session refresh.
            None => self.answer_reoffer(id, tx, Method::Update, None, false),
        }
    }
}
