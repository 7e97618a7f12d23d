//! RFC 3264 offer/answer through the host's media side: media requests out, their results in,
//! and what a failed one means for the call.

use super::call_state::*;
use super::timer::Timer;
use super::{Event, MediaResult, Output, UserAgent};
use crate::call::{MediaOp, MediaRequest};
use crate::message::{Method, Response};

impl UserAgent {
    pub(super) fn media(&mut self, id: &str, op: MediaOp, pending: Option<Pending>) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        call.media_req += 1;
        let req = call.media_req;
        if let Some(p) = pending {
            call.pending = Some((req, p));
        }
        self.out.push_back(Output::Event(Event::Media(MediaRequest { call: id.to_string(), req, op })));
    }

    /// The media side's answer to a request that wanted SDP (see [`MediaOp::wants_sdp`]).
    pub(super) fn sdp_result(&mut self, id: &str, req: u32, result: Result<String, String>) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let pending = match &call.pending {
            Some((r, p)) if *r == req => p.clone(),
            _ => return, // stale or unknown request
        };
        call.pending = None;
        let sdp = match result {
            Ok(s) => s,
            Err(reason) => {
                self.log(&format!("call {id}: media failed: {reason}"));
                self.media_failed_for(id, pending);
                self.emit_status_if_changed();
                return;
            }
        };
        match pending {
            Pending::InviteOffer => self.send_invite(id, sdp),
            Pending::InviteAnswer | Pending::OfferIn200 => {
                let offer_in_200 = pending == Pending::OfferIn200;
                let now = self.now;
                match self.calls.get_mut(id) {
                    // Prepared ahead of a delayed automatic answer: wait for the requested moment.
                    Some(c) if c.timers.get(Timer::AutoAnswer).is_some_and(|t| t > now) => {
                        c.prepared = Some((sdp, offer_in_200))
                    }
                    _ => self.send_200_to_invite(id, sdp, offer_in_200),
                }
            }
            Pending::ReAnswer { tx, method } => self.answer_reoffer(id, tx, method, Some(sdp), false),
            Pending::ReOfferIn200 { tx } => self.answer_reoffer(id, tx, Method::Invite, Some(sdp), true),
            Pending::OurReinvite { hold } => self.send_reinvite(id, sdp, hold, false),
        }
        self.emit_status_if_changed();
    }

    /// The media side lost the call (ICE/DTLS failed, microphone gone): end it.
    pub(super) fn media_lost(&mut self, id: &str, reason: &str) {
        if self.calls.contains_key(id) {
            self.log(&format!("call {id}: media failure: {reason}"));
            self.hangup_with_reason(id, "media-failed");
        }
    }

    /// Every media result comes back here, success or failure; what it means is decided here.
    pub(super) fn on_media_result(&mut self, m: MediaResult) {
        let (request, result) = match m {
            MediaResult::Lost { call, reason } => return self.media_lost(&call, &reason),
            MediaResult::Done { request, result } => (request, result),
        };
        let id = request.call.as_str();
        if request.op.wants_sdp() {
            let sdp = result.and_then(|sdp| sdp.ok_or_else(|| "no SDP in the reply".to_string()));
            return self.sdp_result(id, request.req, sdp);
        }
        let Err(reason) = result else { return };
        match &request.op {
            // A failed remote description means no media; a microphone that cannot open means the
            // far end would hear nothing: end the call.
            MediaOp::ApplyAnswer { .. } | MediaOp::OpenMicrophone => self.media_lost(id, &reason),
            // RFC 4733 impossible on this call: send the digits as SIP INFO.
            MediaOp::Dtmf(digits) => self.dtmf_fallback(id, digits, &reason),
            op => self.log(&format!("call {id}: media {} failed: {reason}", op.name())),
        }
    }

    pub(super) fn media_failed_for(&mut self, id: &str, pending: Pending) {
        match pending {
            Pending::ReAnswer { tx, .. } | Pending::ReOfferIn200 { tx } => {
                if let Some(req) = self.txl.server_request(tx).cloned() {
                    let r = Response::for_request(&req, 488, "Not Acceptable Here", None);
                    self.txl.respond(self.now, tx, r);
                }
                if let Some(c) = self.calls.get_mut(id) {
                    c.peer_reinvite_pending = None;
                }
            }
            Pending::OurReinvite { .. } => {}
            Pending::InviteAnswer | Pending::OfferIn200 => {
                self.refuse_incoming(id, 488, "Not Acceptable Here", "media-failed")
            }
            Pending::InviteOffer => self.end_call(id, "media-failed"),
        }
    }
}
