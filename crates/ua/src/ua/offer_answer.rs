//! RFC 3264 offer/answer through the host's media side: media requests out, their results in,
//! and what a failed one means for the call.

use super::call_state::*;
use super::timer::Timer;
use super::{Event, MediaResult, Output, UserAgent};
use crate::call::EndReason;
use crate::call::{MediaOp, MediaRequest};
use crate::message::{Method, Response};

/// One call's RFC 3264 state: the session as negotiated, the one exchange in progress, and the
/// media request whose SDP it waits for. Our offer is handed back as an owned value
/// ([`OurOffer`]) when its answer (or its failure) arrives, so it cannot be used twice.
#[derive(Debug, Default)]
pub(super) struct OfferAnswer {
    /// Our SDP and the far end's as last agreed (`remote` also holds a 183's early answer).
    pub local: Option<String>,
    pub remote: Option<String>,
    /// The exchange in progress.
    pub exchange: Exchange,
    /// The media request we wait on for SDP, and what that SDP is for.
    pub waiting: Option<(u32, Pending)>,
    /// The number of the last media request (the host quotes it back).
    pub last_req: u32,
    /// Our SDP made ahead of a delayed automatic answer (and whether it is an offer).
    pub prepared: Option<(String, bool)>,
    /// Our SDP was (or is being) prepared without the microphone: open it when the 200 goes out.
    pub mic_deferred: bool,
    /// A 183's SDP was applied (early media); later ones are not.
    pub early_applied: bool,
}

/// The offer/answer exchange of a call that has not completed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum Exchange {
    /// None: the session is as agreed.
    #[default]
    Idle,
    /// Our offer is out (INVITE, re-INVITE, or our 2xx to an INVITE without SDP); its answer
    /// comes in the response, or in the ACK (`in_ack`).
    OfferSent { offer: String, in_ack: bool, refresh_only: bool },
    /// The far end's offer in its INVITE, waiting for our answer.
    OfferReceived { offer: String },
}

/// Our offer, handed back when the exchange it opened ends.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct OurOffer {
    pub sdp: String,
    /// A session refresh (RFC 4028) offering the session unchanged: the browser has nothing
    /// pending.
    pub refresh_only: bool,
}

impl OfferAnswer {
    /// Our offer in flight, taken (the exchange is over); `None` if we have none out.
    pub fn take_offer(&mut self) -> Option<OurOffer> {
        match std::mem::take(&mut self.exchange) {
            Exchange::OfferSent { offer, refresh_only, .. } => Some(OurOffer { sdp: offer, refresh_only }),
            other => {
                self.exchange = other;
                None
            }
        }
    }

    /// The far end's offer still waiting for our answer.
    pub fn remote_offer(&self) -> Option<&String> {
        match &self.exchange {
            Exchange::OfferReceived { offer } => Some(offer),
            _ => None,
        }
    }

    /// The far end's offer, taken because our answer goes out now.
    pub fn take_remote_offer(&mut self) -> Option<String> {
        match std::mem::take(&mut self.exchange) {
            Exchange::OfferReceived { offer } => Some(offer),
            other => {
                self.exchange = other;
                None
            }
        }
    }

    /// Whether the ACK must carry the answer to the offer in our 2xx.
    pub fn expects_answer_in_ack(&self) -> bool {
        matches!(self.exchange, Exchange::OfferSent { in_ack: true, .. })
    }
}

impl UserAgent {
    pub(super) fn media(&mut self, id: &str, op: MediaOp, pending: Option<Pending>) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        call.oa.last_req += 1;
        let req = call.oa.last_req;
        if let Some(p) = pending {
            call.oa.waiting = Some((req, p));
        }
        self.out.push_back(Output::Event(Event::Media(MediaRequest { call: id.to_string(), req, op })));
    }

    /// The media side's answer to a request that wanted SDP (see [`MediaOp::wants_sdp`]).
    pub(super) fn sdp_result(&mut self, id: &str, req: u32, result: Result<String, String>) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let pending = match call.oa.waiting.take() {
            Some((r, p)) if r == req => p,
            other => {
                call.oa.waiting = other;
                return; // stale or unknown request
            }
        };
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
                        c.oa.prepared = Some((sdp, offer_in_200))
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
            self.hangup_with_reason(id, EndReason::MediaFailed);
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
                self.refuse_incoming(id, 488, "Not Acceptable Here", EndReason::MediaFailed)
            }
            Pending::InviteOffer => self.end_call(id, EndReason::MediaFailed),
        }
    }
}
