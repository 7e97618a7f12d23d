//! Incoming calls (RFC 3261 §13.3, UAS core): a new INVITE, ringing, the 2xx and its
//! retransmission until the ACK, refusing, CANCEL.

use super::call_state::*;
use super::calls::*;
use super::offer_answer::Exchange;
use super::session_refresh::*;
use super::session_timer as st;
use super::timer::Timer;
use super::UserAgent;
use crate::call::EndReason;
use crate::call::{CallState, Direction, MediaOp};
use crate::dialog::Dialog;
use crate::message::{Request, Response};
use crate::transaction::{Millis, TxId};

/// An incoming call nobody answers is released after this long (480).
pub(super) const INCOMING_RING_TIMEOUT_MS: Millis = 180_000;

impl UserAgent {
    pub(super) fn on_new_invite(&mut self, tx: TxId, req: &Request) {
        let reply = |ua: &mut UserAgent, code: u16, phrase: &str, extra: &[(&str, &str)]| {
            let mut r = Response::for_request(req, code, phrase, Some(&ua.rng.token(10)));
            for (n, v) in extra {
                r.headers.push(n, *v);
            }
            ua.txl.respond(ua.now, tx, r);
        };
        if self.account.is_none() {
            return reply(self, 480, "Temporarily Unavailable", &[]);
        }
        // RFC 3261 §8.2.2.3: extensions we do not support.
        let unsupported: Vec<String> = req
            .headers
            .get_all("Require")
            .iter()
            .flat_map(|v| crate::message::split_list(v))
            .filter(|t| !super::SUPPORTED.split(", ").any(|s| s.eq_ignore_ascii_case(t)))
            .collect();
        if !unsupported.is_empty() {
            let u = unsupported.join(", ");
            return reply(self, 420, "Bad Extension", &[("Unsupported", &u)]);
        }
        if self.live_calls() >= self.settings.max_calls as usize {
            return reply(self, 486, "Busy Here", &[]);
        }
        let offer = sdp_body(&req.headers, &req.body);
        if !req.body.is_empty() && offer.is_none() {
            return reply(self, 415, "Unsupported Media Type", &[("Accept", "application/sdp")]);
        }
        // An offer that cannot possibly work never rings the user (nor is auto-answered).
        if let Some(Err(why)) = offer.as_deref().map(crate::sdp::check_offer) {
            self.log(&format!("refusing an INVITE with an unusable offer: {why}"));
            let warning = format!("399 ferrophone \"{why}\"");
            return reply(self, 488, "Not Acceptable Here", &[("Warning", &warning)]);
        }
        let uas_timer = match st::negotiate_uas(&req.headers, None) {
            Ok(t) => t,
            Err(min) => return reply(self, 422, "Session Interval Too Small", &[("Min-SE", &min.to_string())]),
        };
        // RFC 3891: an INVITE that replaces one of our calls (attended transfer towards us).
        let replaces = match self.replaced_call(req) {
            Ok(r) => r,
            Err((code, reason)) => return reply(self, code, reason, &[]),
        };
        let policy = crate::auto_answer::Policy::from_setting(&self.settings.auto_answer);
        let decision = crate::auto_answer::decide(&req.headers, policy, self.settings.auto_answer_delay_ms as u64);
        if let crate::auto_answer::Decision::Refuse { status, reason } = decision {
            self.log(&format!("refusing an INVITE that requires automatic answer ({status})"));
            return reply(self, status, reason, &[]);
        }
        let local_tag = self.rng.token(10);
        let contact = self.contact_value();
        let transport = self.via_transport();
        let via_host = self.identity.contact_host.clone();
        let Some(dialog) = Dialog::from_uas(req, &local_tag, &contact, &via_host, transport, &mut self.rng) else {
            let mut r = Response::for_request(req, 400, "Bad Request", Some(&local_tag));
            r.headers.push("Warning", "399 ferrophone \"INVITE without a usable Contact\"");
            self.txl.respond(self.now, tx, r);
            return;
        };
        let from = req.headers.from();
        let id = self.new_call_id();
        let mut call =
            Call::new(id.clone(), Direction::Incoming, from.as_ref().map(|f| f.uri.clone()).unwrap_or_default());
        call.remote_name = from.and_then(|f| f.display_name);
        call.dialog = Some(dialog);
        call.server_tx = Some(tx);
        if let Some(offer) = offer {
            call.oa.exchange = Exchange::OfferReceived { offer };
        }
        call.pending_uas_timer = uas_timer;
        call.peer_timer_support = st::peer_supports(&req.headers);
        call.peer_allows_update = allows_update(&req.headers);
        call.timers.set(Timer::Ring, self.now + INCOMING_RING_TIMEOUT_MS);
        let auto = match decision {
            crate::auto_answer::Decision::Auto { delay_ms, dialect, answer_mode } => {
                call.auto_answer = true;
                call.timers.set(Timer::AutoAnswer, self.now + delay_ms);
                call.answer_mode_echo = answer_mode;
                Some((delay_ms, dialect))
            }
            _ => None,
        };
        self.calls.insert(id.clone(), call);
        let mut ringing = Response::for_request(req, 180, "Ringing", Some(&local_tag));
        ringing.headers.push("Contact", contact);
        ringing.headers.push("Allow-Events", self.allow_events());
        for rr in req.headers.get_all("Record-Route") {
            ringing.headers.push("Record-Route", rr);
        }
        self.txl.respond(self.now, tx, ringing);
        self.emit_call(&id);
        if let Some(old) = replaces {
            self.take_over(&id, &old);
            self.emit_status_if_changed();
            return;
        }
        match auto {
            // An automatically answered call does not ring.
            Some((delay_ms, dialect)) => {
                self.log(&format!("call {id}: automatic answer in {delay_ms} ms ({dialect})"));
                if delay_ms > 0 {
                    // Prepare the media now, so the 200 leaves exactly when the delay is over.
                    self.prepare_answer(&id);
                }
            }
            None => self.media(&id, MediaOp::StartRing, None),
        }
        if auto.is_some_and(|(d, _)| d == 0) {
            let _ = self.answer_call(&id);
        }
        self.emit_status_if_changed();
    }

    /// Refuse an incoming call that has not been answered.
    pub(super) fn refuse_incoming(&mut self, id: &str, code: u16, phrase: &str, reason: EndReason) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        if let (Some(tx), Some(d)) = (call.server_tx, call.dialog.as_ref()) {
            if let Some(req) = self.txl.server_request(tx).cloned() {
                let r = Response::for_request(&req, code, phrase, Some(&d.local_tag));
                self.txl.respond(self.now, tx, r);
            }
        }
        self.end_call(id, reason);
    }

    pub(super) fn send_200_to_invite(&mut self, id: &str, sdp: String, offer_in_200: bool) {
        let contact = self.contact_value();
        let timers = self.txl.timers();
        let allow_events = self.allow_events();
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let (Some(tx), Some(d)) = (call.server_tx, call.dialog.as_ref()) else {
            return;
        };
        let Some(req) = self.txl.server_request(tx).cloned() else {
            // The caller cancelled meanwhile.
            return self.end_call(id, EndReason::Cancelled);
        };
        let mut r = Response::for_request(&req, 200, "OK", Some(&d.local_tag));
        for rr in req.headers.get_all("Record-Route") {
            r.headers.push("Record-Route", rr);
        }
        r.headers.push("Contact", contact);
        r.headers.push("Allow", super::ALLOW);
        r.headers.push("Supported", super::SUPPORTED);
        r.headers.push("Server", super::USER_AGENT);
        r.headers.push("Allow-Events", allow_events);
        if let Some((name, value)) = call.answer_mode_echo {
            r.headers.push(name, value);
        }
        if let Some(t) = call.pending_uas_timer {
            r.headers.push("Session-Expires", st::uas_header(&t));
            if call.peer_timer_support {
                r.headers.push("Require", "timer");
            }
        }
        set_sdp(&mut r.headers, &mut r.body, &sdp);
        call.retransmit_2xx(r.to_bytes(), self.now, &timers);
        if offer_in_200 {
            call.oa.exchange = Exchange::OfferSent { offer: sdp, in_ack: true, refresh_only: false };
        } else {
            call.oa.remote = call.oa.take_remote_offer();
            call.oa.local = Some(sdp);
        }
        call.timers.stop(Timer::Ring);
        let timer = call.pending_uas_timer.take();
        // Prepared without the microphone (delayed automatic answer): it opens now, with the 200.
        let open_mic = std::mem::take(&mut call.oa.mic_deferred);
        let announce = call.auto_answer;
        self.txl.respond(self.now, tx, r);
        if open_mic {
            self.media(id, MediaOp::OpenMicrophone, None);
        }
        if announce {
            // Answered without a user action: the user must hear and see it (zip tone, notification).
            self.media(id, MediaOp::ZipTone, None);
        }
        self.arm_session_timer(id, timer);
        self.set_state(id, CallState::Active);
    }

    pub(super) fn on_cancel(&mut self, tx: TxId, cancel: &Request) {
        let invite_tx = self.txl.invite_server_for_cancel(cancel);
        let id = invite_tx
            .and_then(|itx| self.calls.iter().find(|(_, c)| c.server_tx == Some(itx)).map(|(id, _)| id.clone()));
        let Some(id) = id else {
            let r = Response::for_request(cancel, 481, "Call/Transaction Does Not Exist", None);
            self.txl.respond(self.now, tx, r);
            return;
        };
        let r = Response::for_request(cancel, 200, "OK", None);
        self.txl.respond(self.now, tx, r);
        let unanswered = self.calls.get(&id).is_some_and(|c| c.ok_bytes.is_none());
        if unanswered {
            self.refuse_incoming(&id, 487, "Request Terminated", EndReason::Cancelled);
        }
        self.emit_status_if_changed();
    }

    /// ACK for one of our 2xx responses (initial INVITE or re-INVITE).
    pub(super) fn on_call_ack(&mut self, req: &Request) {
        let Some(id) = self
            .calls
            .iter()
            .find(|(_, c)| c.dialog.as_ref().is_some_and(|d| d.matches_request(req)))
            .map(|(id, _)| id.clone())
        else {
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.ok_bytes = None;
        call.timers.stop(Timer::Retransmit2xx);
        call.timers.stop(Timer::AckWait);
        if call.oa.expects_answer_in_ack() {
            let offer = call.oa.take_offer();
            match sdp_body(&req.headers, &req.body) {
                Some(answer) => {
                    call.oa.remote = Some(answer.clone());
                    call.oa.local = offer.map(|o| o.sdp);
                    self.media(&id, MediaOp::ApplyAnswer { answer, final_answer: true }, None)
                }
                None => {
                    self.log(&format!("call {id}: ACK without the SDP answer"));
                    self.send_bye(&id, EndReason::ProtocolError);
                }
            }
        }
    }
}
