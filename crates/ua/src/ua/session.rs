//! INVITE sessions (RFC 3261 §13–15, RFC 3264 offer/answer through the host's media side):
//! outgoing and incoming calls, CANCEL, BYE, re-INVITE/UPDATE from the peer, our own
//! re-INVITE for hold/resume, 491 glare, digest on INVITE, 2xx retransmission until ACK.

use super::session_timer::{self as st, SessionTimer};
use super::{Event, MediaResult, Output, UserAgent};
use crate::auth::{self, Challenge, Credentials};
use crate::call::{
    end_reason_for_status, normalize_target, same_session, sdp_direction, sdp_origin, CallError, CallInfo, CallState,
    Direction, MediaOp, MediaRequest,
};
use crate::dialog::Dialog;
use crate::message::{Headers, Method, Request, Response};
use crate::transaction::{Millis, TxId};

/// Other forks of one INVITE that we end with a BYE when they answer too (more are only ACKed).
const MAX_OTHER_FORKS: usize = 8;
/// Give up ringing out after this long (the proxy usually ends it first).
const OUTGOING_RING_TIMEOUT_MS: Millis = 120_000;
/// An incoming call nobody answers is released after this long (480).
const INCOMING_RING_TIMEOUT_MS: Millis = 180_000;
/// How long an established call may wait for its dialog to be refreshed over a new flow.
const CALL_RECOVERY_MS: Millis = 30_000;
/// A CANCEL whose INVITE never gets a final answer: end the call anyway.
const CANCEL_GUARD_MS: Millis = 32_000;

/// What a call's client transaction is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TxRole {
    Invite,
    Reinvite,
    Refresh,
    Info,
    Refer,
}

/// What SDP a call is waiting for from the media side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Pending {
    /// Offer for our initial INVITE.
    InviteOffer,
    /// Answer to the incoming INVITE's offer, for the 200.
    InviteAnswer,
    /// Offer to put in our 200 (incoming INVITE without SDP); the answer comes in the ACK.
    OfferIn200,
    /// Answer to a re-INVITE / UPDATE from the peer.
    ReAnswer { tx: TxId, method: Method },
    /// Offer for a 200 to a re-INVITE without SDP.
    ReOfferIn200 { tx: TxId },
    /// Offer for our own re-INVITE (hold/resume).
    OurReinvite { hold: bool },
}

#[derive(Debug)]
pub(super) struct Call {
    pub id: String,
    pub direction: Direction,
    pub state: CallState,
    pub remote: String,
    pub remote_name: Option<String>,
    pub auto_answer: bool,
    pub end_reason: Option<String>,
    pub muted: bool,
    pub dialog: Option<Dialog>,
    pub media_req: u32,
    pub pending: Option<(u32, Pending)>,
    // --- UAC ---
    pub invite: Option<Request>,
    pub invite_tx: Option<TxId>,
    pub ack: Option<Vec<u8>>,
    pub got_provisional: bool,
    pub cancel_requested: bool,
    pub auth_answered: bool,
    pub ring_deadline: Option<Millis>,
    pub cancel_guard: Option<Millis>,
    pub early_sdp_applied: bool,
    /// To tags of other forks whose 2xx we ACKed and ended with a BYE (§13.2.2.4), bounded.
    pub other_forks: Vec<String>,
    // --- UAS ---
    pub server_tx: Option<TxId>,
    pub remote_offer: Option<String>,
    /// The 2xx we retransmit until the ACK arrives (§13.3.1.4), its timer and give-up time.
    pub ok_bytes: Option<Vec<u8>>,
    pub ok_retransmit_at: Option<Millis>,
    pub ok_interval: Millis,
    pub ok_deadline: Option<Millis>,
    pub expect_answer_in_ack: bool,
    // --- in dialog ---
    pub reinvite_tx: Option<TxId>,
    pub reinvite: Option<Request>,
    pub reinvite_hold: bool,
    pub reinvite_retry_at: Option<(Millis, bool)>,
    pub peer_reinvite_pending: Option<TxId>,
    /// The session as negotiated (RFC 3264): our SDP and the far end's, and our offer still
    /// waiting for its answer.
    pub local_sdp: Option<String>,
    pub remote_sdp: Option<String>,
    pub offered_sdp: Option<String>,
    /// Our re-INVITE in flight only refreshes the session (RFC 4028): it offers `local_sdp`
    /// unchanged and the browser has nothing pending.
    pub refresh_reinvite: bool,
    /// Automatic answer scheduled (server request or policy) and the RFC 5373 header to echo.
    pub auto_answer_at: Option<Millis>,
    /// Our SDP, ready before a delayed automatic answer is due (and whether it is an offer).
    pub prepared: Option<(String, bool)>,
    /// Our SDP was (or is being) prepared without the microphone: open it when the 200 goes out.
    pub mic_deferred: bool,
    pub answer_mode_echo: Option<(&'static str, &'static str)>,
    /// The flow carrying this dialog broke: refresh the dialog (re-INVITE, new Contact) over the
    /// next flow, or end the call when that has not worked by `recover_deadline`.
    pub needs_refresh: bool,
    pub recover_deadline: Option<Millis>,
    /// SIP INFO DTMF: digits still to send and the INFO in flight.
    pub dtmf_queue: std::collections::VecDeque<char>,
    pub info_tx: Option<TxId>,
    // --- RFC 4028 session timer ---
    pub timer: Option<SessionTimer>,
    /// When we refresh (we are the refresher).
    pub timer_deadline: Option<Millis>,
    /// When we give up on a session nobody refreshed (whoever the refresher is).
    pub expiry_deadline: Option<Millis>,
    /// Interval we asked for in our last refresh request (INVITE/UPDATE).
    pub asked_interval: Option<u32>,
    /// Timer to echo in our next 2xx as UAS.
    pub pending_uas_timer: Option<SessionTimer>,
    pub peer_timer_support: bool,
    pub peer_allows_update: bool,
    /// Our refreshing UPDATE in flight.
    pub refresh_tx: Option<TxId>,
    pub invite_422_retried: bool,
    // --- transfer ---
    /// Our REFER in flight, and whether a transfer we asked for is under way.
    pub refer_tx: Option<TxId>,
    pub transferring: bool,
    /// Attended transfer under way: the other call of ours whose dialog our REFER names in Replaces.
    pub replaces_call: Option<String>,
    /// This call was placed because call `referred_from` was transferred to us (REFER).
    pub referred_from: Option<String>,
    /// This call was placed because a far end asked (REFER), not the user: its digest
    /// credentials go only to the registrar's realms.
    pub placed_for_peer: bool,
    /// Headers our INVITE must carry (Referred-By, Replaces when following a REFER).
    pub extra_invite_headers: Vec<(&'static str, String)>,
}

impl Call {
    fn new(id: String, direction: Direction, remote: String) -> Call {
        Call {
            id,
            direction,
            state: if direction == Direction::Outgoing { CallState::Dialing } else { CallState::Ringing },
            remote,
            remote_name: None,
            auto_answer: false,
            end_reason: None,
            muted: false,
            dialog: None,
            media_req: 0,
            pending: None,
            invite: None,
            invite_tx: None,
            ack: None,
            got_provisional: false,
            cancel_requested: false,
            auth_answered: false,
            ring_deadline: None,
            cancel_guard: None,
            early_sdp_applied: false,
            other_forks: Vec::new(),
            server_tx: None,
            remote_offer: None,
            ok_bytes: None,
            ok_retransmit_at: None,
            ok_interval: 500,
            ok_deadline: None,
            expect_answer_in_ack: false,
            reinvite_tx: None,
            reinvite: None,
            reinvite_hold: false,
            reinvite_retry_at: None,
            peer_reinvite_pending: None,
            local_sdp: None,
            remote_sdp: None,
            offered_sdp: None,
            refresh_reinvite: false,
            auto_answer_at: None,
            prepared: None,
            mic_deferred: false,
            answer_mode_echo: None,
            needs_refresh: false,
            recover_deadline: None,
            dtmf_queue: std::collections::VecDeque::new(),
            info_tx: None,
            timer: None,
            timer_deadline: None,
            expiry_deadline: None,
            asked_interval: None,
            pending_uas_timer: None,
            peer_timer_support: false,
            peer_allows_update: false,
            refresh_tx: None,
            invite_422_retried: false,
            refer_tx: None,
            transferring: false,
            replaces_call: None,
            referred_from: None,
            placed_for_peer: false,
            extra_invite_headers: Vec::new(),
        }
    }

    pub fn info(&self) -> CallInfo {
        CallInfo {
            id: self.id.clone(),
            direction: self.direction,
            remote: self.remote.clone(),
            remote_name: self.remote_name.clone(),
            state: self.state,
            auto_answer: self.auto_answer,
            end_reason: self.end_reason.clone(),
            muted: self.muted,
        }
    }

    pub fn deadlines(&self) -> impl Iterator<Item = Millis> {
        [
            self.ring_deadline,
            self.cancel_guard,
            self.ok_retransmit_at,
            self.ok_deadline,
            self.reinvite_retry_at.map(|r| r.0),
            self.auto_answer_at,
            self.recover_deadline,
            self.timer_deadline,
            self.expiry_deadline,
        ]
        .into_iter()
        .flatten()
    }
}

fn sdp_body(headers: &Headers, body: &[u8]) -> Option<String> {
    let ct = headers.get("Content-Type").unwrap_or("");
    if body.is_empty() || !ct.to_ascii_lowercase().starts_with("application/sdp") {
        return None;
    }
    String::from_utf8(body.to_vec()).ok()
}

fn set_sdp(headers: &mut Headers, body: &mut Vec<u8>, sdp: &str) {
    headers.set("Content-Type", "application/sdp");
    *body = sdp.as_bytes().to_vec();
}

impl UserAgent {
    // ---------------------------------------------------------------- public call API

    /// All calls that have not ended.
    pub fn calls(&self) -> Vec<CallInfo> {
        self.calls.values().filter(|c| c.state != CallState::Ended).map(Call::info).collect()
    }

    /// A call by id, including one that ended recently (its final state and reason).
    pub fn call(&self, id: &str) -> Option<CallInfo> {
        self.calls
            .get(id)
            .filter(|c| c.state != CallState::Ended)
            .map(Call::info)
            .or_else(|| self.ended_calls.iter().rev().find(|c| c.id == id).cloned())
    }

    /// Place a call. `target`: a number, `user@domain`, a `sip:` URI or a `tel:` number.
    pub(super) fn start_call(&mut self, target: &str) -> Result<CallInfo, CallError> {
        let account = self.account.as_ref().ok_or(CallError::NotConnected)?;
        let uri = normalize_target(target, &account.domain)?;
        if self.flow != super::Flow::Open {
            return Err(CallError::NotConnected);
        }
        if self.live_calls() >= self.settings.max_calls as usize {
            return Err(CallError::TooManyCalls);
        }
        let id = self.new_call_id();
        let mut call = Call::new(id.clone(), Direction::Outgoing, uri);
        call.ring_deadline = Some(self.now + OUTGOING_RING_TIMEOUT_MS);
        let info = call.info();
        self.calls.insert(id.clone(), call);
        self.emit_call(&id);
        self.media(&id, MediaOp::CreateOffer, Some(Pending::InviteOffer));
        self.emit_status_if_changed();
        Ok(info)
    }

    /// Answer a ringing incoming call.
    pub(super) fn answer_call(&mut self, id: &str) -> Result<(), CallError> {
        let call = self.calls.get(id).ok_or(CallError::NoSuchCall)?;
        if call.direction != Direction::Incoming || call.state != CallState::Ringing || call.ok_bytes.is_some() {
            return Err(CallError::WrongState("only a ringing incoming call can be answered"));
        }
        // Call waiting: answering a second call puts the one we are talking on on hold.
        let talking: Vec<String> =
            self.calls.values().filter(|c| c.id != id && c.state == CallState::Active).map(|c| c.id.clone()).collect();
        for other in talking {
            if let Err(e) = self.reinvite_direction(&other, true) {
                self.log(&format!("call {other}: could not hold it to answer {id}: {e}"));
            }
        }
        let Some(call) = self.calls.get_mut(id) else { return Err(CallError::NoSuchCall) };
        call.auto_answer_at = None;
        // Media prepared in advance (delayed automatic answer): answer right now.
        if let Some((sdp, offer_in_200)) = call.prepared.take() {
            self.send_200_to_invite(id, sdp, offer_in_200);
            return Ok(());
        }
        if call.pending.is_some() {
            return Ok(()); // the media side is preparing; the 200 goes out as soon as it is ready
        }
        let offer = call.remote_offer.clone();
        let was_ringing_aloud = !call.auto_answer;
        if was_ringing_aloud {
            self.media(id, MediaOp::StopRing, None);
        }
        match offer {
            Some(offer) => self.media(id, MediaOp::CreateAnswer { offer }, Some(Pending::InviteAnswer)),
            None => self.media(id, MediaOp::CreateOffer, Some(Pending::OfferIn200)),
        }
        Ok(())
    }

    /// Ask the media side for our answer (or offer) to an incoming INVITE without answering yet,
    /// and without the microphone: it opens when the 200 goes out (`send_200_to_invite`), never
    /// during the delay of an automatic answer.
    fn prepare_answer(&mut self, id: &str) {
        let Some(call) = self.calls.get_mut(id) else { return };
        call.mic_deferred = true;
        match call.remote_offer.clone() {
            Some(offer) => self.media(id, MediaOp::PrepareAnswer { offer }, Some(Pending::InviteAnswer)),
            None => self.media(id, MediaOp::PrepareOffer, Some(Pending::OfferIn200)),
        }
    }

    /// Refuse a ringing incoming call with 486 Busy Here.
    pub(super) fn reject_call(&mut self, id: &str) -> Result<(), CallError> {
        let call = self.calls.get(id).ok_or(CallError::NoSuchCall)?;
        if call.direction != Direction::Incoming || call.state != CallState::Ringing || call.ok_bytes.is_some() {
            return Err(CallError::WrongState("only a ringing incoming call can be rejected"));
        }
        self.refuse_incoming(id, 486, "Busy Here", "rejected");
        Ok(())
    }

    /// End a call in whatever state it is: CANCEL, reject, or BYE.
    pub(super) fn hangup_call(&mut self, id: &str) -> Result<(), CallError> {
        let call = self.calls.get_mut(id).ok_or(CallError::NoSuchCall)?;
        match (call.direction, call.state) {
            (_, CallState::Ended) => return Err(CallError::WrongState("the call has ended")),
            (Direction::Incoming, CallState::Ringing) if call.ok_bytes.is_none() => {
                self.refuse_incoming(id, 486, "Busy Here", "rejected");
            }
            (Direction::Outgoing, CallState::Dialing | CallState::Ringing | CallState::Early)
                if call.dialog_confirmed() =>
            {
                self.send_bye(id, "local-hangup");
            }
            (Direction::Outgoing, CallState::Dialing | CallState::Ringing | CallState::Early) => {
                if call.invite_tx.is_none() {
                    // Still preparing the offer: nothing went out yet.
                    self.end_call(id, "cancelled");
                } else if call.got_provisional {
                    self.send_cancel(id);
                } else {
                    // §9.1: CANCEL only after a provisional response; send it when one comes.
                    call.cancel_requested = true;
                    call.cancel_guard = Some(self.now + CANCEL_GUARD_MS);
                    self.end_for_user(id, "cancelled");
                }
            }
            _ => self.send_bye(id, "local-hangup"),
        }
        self.emit_status_if_changed();
        Ok(())
    }

    /// Send DTMF digits (`0-9`, `*`, `#`, `A-D`) on an established call: RFC 4733 through the media
    /// side, or SIP INFO (`application/dtmf-relay`, one request per digit) per `settings.dtmfMode`.
    /// Nothing is sent unless every digit is valid.
    pub(super) fn dtmf_call(&mut self, id: &str, digits: &str) -> Result<(), CallError> {
        let digits = dtmf_digits(digits)?;
        let call = self.calls.get(id).ok_or(CallError::NoSuchCall)?;
        if !matches!(call.state, CallState::Active | CallState::Held) {
            return Err(CallError::WrongState("DTMF needs an established call"));
        }
        if self.settings.dtmf_mode == "info" {
            // Bounded like everything else: digits wait while the INFO before them is answered.
            if call.dtmf_queue.len() + digits.len() > MAX_DTMF_DIGITS {
                return Err(CallError::WrongState(
                    "too many DTMF digits are still waiting to be sent by SIP INFO; try again once they are sent",
                ));
            }
            if let Some(c) = self.calls.get_mut(id) {
                c.dtmf_queue.extend(digits.chars());
            }
            self.next_info_dtmf(id);
        } else {
            self.media(id, MediaOp::Dtmf(digits), None);
        }
        Ok(())
    }

    /// The media side could not send `digits` as RFC 4733 events (no telephone-event negotiated, not
    /// sending now, or telephone-event only at a clock rate the browser cannot time for the codec
    /// it sends): send them as SIP INFO instead, so the digits are not lost.
    fn dtmf_fallback(&mut self, id: &str, digits: &str, reason: &str) {
        let Some(call) = self.calls.get_mut(id) else { return };
        if !matches!(call.state, CallState::Active | CallState::Held) {
            return;
        }
        let valid: Vec<char> = digits.chars().filter(|c| c.is_ascii_digit() || "*#ABCD".contains(*c)).collect();
        let room = MAX_DTMF_DIGITS.saturating_sub(call.dtmf_queue.len());
        call.dtmf_queue.extend(valid.iter().take(room));
        let dropped = valid.len().saturating_sub(room);
        self.log(&format!("call {id}: DTMF on the media path unavailable ({reason}); sending {digits} as SIP INFO"));
        if dropped > 0 {
            self.log(&format!(
                "call {id}: {dropped} DTMF digit(s) dropped: too many are waiting to be sent by SIP INFO"
            ));
        }
        self.next_info_dtmf(id);
    }

    /// Send the next queued INFO digit if none is in flight (one INFO at a time keeps order).
    fn next_info_dtmf(&mut self, id: &str) {
        let branch = self.rng.branch();
        let Some(call) = self.calls.get_mut(id) else { return };
        if call.info_tx.is_some_and(|tx| self.txl.client_exists(tx)) {
            return;
        }
        call.info_tx = None;
        let Some(digit) = call.dtmf_queue.pop_front() else { return };
        let Some(d) = call.dialog.as_mut() else { return };
        let mut req = d.request(Method::Info, &branch, None);
        req.headers.set("Content-Type", "application/dtmf-relay");
        req.body = format!("Signal={digit}\r\nDuration=160\r\n").into_bytes();
        let tx = self.txl.send_request(self.now, req);
        if let Some(c) = self.calls.get_mut(id) {
            c.info_tx = Some(tx);
        }
    }

    /// Mute or unmute our microphone on a call (local only, no signalling).
    pub(super) fn mute_call(&mut self, id: &str, muted: bool) -> Result<(), CallError> {
        let call = self.calls.get_mut(id).ok_or(CallError::NoSuchCall)?;
        call.muted = muted;
        self.media(id, MediaOp::Mute(muted), None);
        self.emit_call(id);
        Ok(())
    }

    pub(super) fn reinvite_direction(&mut self, id: &str, hold: bool) -> Result<(), CallError> {
        let call = self.calls.get(id).ok_or(CallError::NoSuchCall)?;
        let ok_state = if hold { call.state == CallState::Active } else { call.state == CallState::Held };
        if !ok_state {
            return Err(CallError::WrongState(if hold {
                "only an active call can be held"
            } else {
                "only a held call can be resumed"
            }));
        }
        if call.reinvite_tx.is_some() || call.pending.is_some() || call.peer_reinvite_pending.is_some() {
            return Err(CallError::WrongState("another offer/answer exchange is in progress; try again"));
        }
        let direction = if hold { "sendonly" } else { "sendrecv" };
        self.media(id, MediaOp::Reoffer { direction, ice_restart: false }, Some(Pending::OurReinvite { hold }));
        Ok(())
    }

    /// The media side's answer to a request that wanted SDP (see [`MediaOp::wants_sdp`]).
    fn sdp_result(&mut self, id: &str, req: u32, result: Result<String, String>) {
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
                    Some(c) if c.auto_answer_at.is_some_and(|t| t > now) => c.prepared = Some((sdp, offer_in_200)),
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
    fn media_lost(&mut self, id: &str, reason: &str) {
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

    // ---------------------------------------------------------------- internals

    fn new_call_id(&mut self) -> String {
        loop {
            let id = format!("c{}", self.rng.token(8));
            if !self.calls.contains_key(&id) {
                return id;
            }
        }
    }

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

    pub(super) fn emit_call(&mut self, id: &str) {
        if let Some(c) = self.calls.get(id) {
            let info = c.info();
            self.out.push_back(Output::Event(Event::Call(info)));
        }
    }

    fn set_state(&mut self, id: &str, state: CallState) {
        if let Some(c) = self.calls.get_mut(id) {
            if c.state != state {
                c.state = state;
                self.emit_call(id);
            }
        }
    }

    /// The user hung up a call that is still being cancelled: it ends for the user now (event,
    /// microphone released) while the record stays until the INVITE transaction settles, so a
    /// crossing 200 can still be ACKed and BYEd (RFC 3261 §9.1).
    fn end_for_user(&mut self, id: &str, reason: &str) {
        let Some(c) = self.calls.get_mut(id) else { return };
        if c.state == CallState::Ended {
            return;
        }
        c.state = CallState::Ended;
        c.end_reason = Some(reason.to_string());
        let info = c.info();
        self.media(id, MediaOp::Close, None);
        self.emit_call(id);
        if self.ended_calls.len() == 16 {
            self.ended_calls.pop_front();
        }
        self.ended_calls.push_back(info);
        self.log(&format!("call {id} ended: {reason} (CANCEL in progress)"));
    }

    fn live_calls(&self) -> usize {
        self.calls.values().filter(|c| c.state != CallState::Ended).count()
    }

    /// Forget the call after telling everybody it ended.
    pub(super) fn end_call(&mut self, id: &str, reason: &str) {
        self.transferred_call_ended(id, reason);
        let Some(c) = self.calls.get_mut(id) else {
            return;
        };
        if c.state == CallState::Ended {
            // Already ended for the user (a CANCEL in progress): only the bookkeeping is left.
            self.calls.remove(id);
            return;
        }
        let was_ringing_in = c.direction == Direction::Incoming && c.state == CallState::Ringing;
        c.state = CallState::Ended;
        c.end_reason = Some(reason.to_string());
        if was_ringing_in {
            self.media(id, MediaOp::StopRing, None);
        }
        self.media(id, MediaOp::Close, None);
        self.emit_call(id);
        if let Some(c) = self.calls.remove(id) {
            if self.ended_calls.len() == 16 {
                self.ended_calls.pop_front();
            }
            self.ended_calls.push_back(c.info());
        }
        self.log(&format!("call {id} ended: {reason}"));
    }

    fn hangup_with_reason(&mut self, id: &str, reason: &str) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        match (call.direction, call.state) {
            (Direction::Incoming, CallState::Ringing) if call.ok_bytes.is_none() => {
                self.refuse_incoming(id, 480, "Temporarily Unavailable", reason)
            }
            (Direction::Outgoing, CallState::Dialing | CallState::Ringing | CallState::Early)
                if !call.dialog_confirmed() =>
            {
                if call.got_provisional {
                    if let Some(c) = self.calls.get_mut(id) {
                        c.end_reason = Some(reason.to_string());
                    }
                    self.send_cancel(id);
                } else {
                    self.end_call(id, reason);
                }
            }
            _ => self.send_bye(id, reason),
        }
    }

    fn media_failed_for(&mut self, id: &str, pending: Pending) {
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

    fn contact_value(&self) -> String {
        let user = self.account.as_ref().map(|a| a.username.clone()).unwrap_or_default();
        format!("<sip:{user}@{};transport=ws;ob>", self.identity.contact_host)
    }

    fn via_transport(&self) -> &'static str {
        match &self.account {
            Some(a) if !a.server.secure => "WS",
            _ => "WSS",
        }
    }

    fn credentials(&self) -> Option<Credentials> {
        self.account.as_ref().map(|a| Credentials { username: a.auth_username.clone(), password: a.password.clone() })
    }

    fn send_invite(&mut self, id: &str, sdp: String) {
        let Some(account) = self.account.clone() else {
            return self.end_call(id, "not-connected");
        };
        let Some(call) = self.calls.get(id) else {
            return;
        };
        if call.state == CallState::Ended {
            return;
        }
        let target = call.remote.clone();
        let display =
            account.display_name.as_ref().map(|d| format!("\"{}\" ", d.replace(['"', '\\'], ""))).unwrap_or_default();
        let mut h = Headers::new();
        h.push(
            "Via",
            format!(
                "SIP/2.0/{} {};branch={};rport",
                self.via_transport(),
                self.identity.contact_host,
                self.rng.branch()
            ),
        );
        h.push("Max-Forwards", "70");
        h.push("From", format!("{display}<{}>;tag={}", account.aor(), self.rng.token(10)));
        h.push("To", format!("<{target}>"));
        h.push("Call-ID", self.rng.token(24));
        h.push("CSeq", "1 INVITE");
        h.push("Contact", self.contact_value());
        h.push("Allow", super::ALLOW);
        h.push("Supported", super::SUPPORTED);
        h.push("User-Agent", super::USER_AGENT);
        h.push("Session-Expires", st::DEFAULT_INTERVAL.to_string());
        h.push("Min-SE", st::MIN_SE.to_string());
        for (name, value) in &call.extra_invite_headers {
            h.push(name, value.clone());
        }
        let mut req = Request { method: Method::Invite, uri: target, headers: h, body: Vec::new() };
        set_sdp(&mut req.headers, &mut req.body, &sdp);
        let tx = self.txl.send_request(self.now, req.clone());
        if let Some(c) = self.calls.get_mut(id) {
            c.invite = Some(req);
            c.invite_tx = Some(tx);
            c.asked_interval = Some(st::DEFAULT_INTERVAL);
            c.offered_sdp = Some(sdp);
        }
    }

    /// 422 Session Interval Too Small to our INVITE: once, ask again with the server's Min-SE.
    fn resend_invite_for_422(&mut self, id: &str, resp: &Response) -> bool {
        let Some(min) = st::min_se(&resp.headers) else { return false };
        let Some(call) = self.calls.get(id) else { return false };
        if call.invite_422_retried || min > 86_400 {
            return false;
        }
        let Some(mut req) = call.invite.clone() else { return false };
        let seq = req.headers.cseq().map(|c| c.seq).unwrap_or(1) + 1;
        req.headers.set("CSeq", format!("{seq} INVITE"));
        req.headers.set("Session-Expires", min.to_string());
        req.headers.set("Min-SE", min.to_string());
        let via = format!(
            "SIP/2.0/{} {};branch={};rport",
            self.via_transport(),
            self.identity.contact_host,
            self.rng.branch()
        );
        req.headers.set("Via", via);
        let tx = self.txl.send_request(self.now, req.clone());
        if let Some(c) = self.calls.get_mut(id) {
            c.invite = Some(req);
            c.invite_tx = Some(tx);
            c.invite_422_retried = true;
            c.asked_interval = Some(min);
            c.got_provisional = false;
        }
        true
    }

    fn on_refresh_response(&mut self, id: &str, resp: &Response) {
        let glare_delay = self.rng.below(2000);
        let Some(call) = self.calls.get_mut(id) else { return };
        call.refresh_tx = None;
        match resp.status {
            // Glare with a request of the peer's: try the same UPDATE again shortly (§14.1).
            491 => call.timer_deadline = Some(self.now + glare_delay),
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
            408 | 481 => self.send_bye(id, "dialog-lost"),
            _ => {
                // The peer does not like UPDATE after all: refresh with a re-INVITE instead.
                call.peer_allows_update = false;
                call.timer_deadline = Some(self.now + 1_000);
            }
        }
    }

    /// (Re)arm the session timer of a call after a negotiation.
    fn arm_session_timer(&mut self, id: &str, timer: Option<SessionTimer>) {
        let now = self.now;
        if let Some(c) = self.calls.get_mut(id) {
            if timer.is_some() {
                c.timer = timer;
            }
            c.timer_deadline = c.timer.and_then(|t| t.refresh_in_ms()).map(|ms| now + ms);
            c.expiry_deadline = c.timer.map(|t| now + t.give_up_in_ms());
        }
    }

    /// Our turn to refresh: UPDATE without SDP when the peer allows it, else a re-INVITE that
    /// offers the session we have, unchanged (same SDP, same version: nothing for the browser or
    /// the far end to renegotiate).
    fn refresh_session(&mut self, id: &str) {
        let branch = self.rng.branch();
        let Some(call) = self.calls.get_mut(id) else { return };
        let Some(timer) = call.timer else { return };
        if call.reinvite_tx.is_some() || call.refresh_tx.is_some() || call.pending.is_some() {
            // Something else is negotiating; try again shortly.
            call.timer_deadline = Some(self.now + 2_000);
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
            if let Some(c) = self.calls.get_mut(id) {
                c.refresh_tx = Some(tx);
                c.timer_deadline = None;
            }
        } else {
            let hold = call.state == CallState::Held;
            call.timer_deadline = None;
            match call.local_sdp.clone() {
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

    /// Re-send our INVITE with credentials after 401/407 (same offer, CSeq+1, new branch).
    /// The realm of a 401/407 to our INVITE when we must not answer it: credentials go only to
    /// the realms the registrar challenged with, the account's domain and the realms the user
    /// listed — and, for a call placed because a far end asked (REFER), only to the registrar's.
    fn untrusted_realm(&self, id: &str, resp: &Response) -> Option<String> {
        let proxy = resp.status == 407;
        let name = if proxy { "Proxy-Authenticate" } else { "WWW-Authenticate" };
        let values: Vec<&str> =
            resp.headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str()).collect();
        // An unusable challenge is refused later anyway (no credentials are computed for it).
        let ch = Challenge::pick(values.iter().copied(), proxy).ok()?;
        let for_peer = self.calls.get(id).is_some_and(|c| c.placed_for_peer);
        let realm = ch.realm.as_str();
        if self.reg.challenged_realms().any(|r| r == realm) {
            return None;
        }
        if !for_peer {
            let same = |a: &str| a.trim().eq_ignore_ascii_case(realm.trim());
            let domain = self.account.as_ref().map(|a| a.domain.clone()).unwrap_or_default();
            let domain_host = domain.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()).map(|(h, _)| h);
            if same(&domain) || domain_host.is_some_and(same) || self.settings.trusted_realms.iter().any(|r| same(r)) {
                return None;
            }
        }
        Some(realm.chars().filter(|c| !c.is_control() && *c != '"').take(80).collect())
    }

    fn resend_invite_with_auth(&mut self, id: &str, resp: &Response) -> bool {
        let Some(creds) = self.credentials() else {
            return false;
        };
        let Some(call) = self.calls.get(id) else {
            return false;
        };
        if call.auth_answered {
            return false;
        }
        let Some(mut req) = call.invite.clone() else {
            return false;
        };
        let proxy = resp.status == 407;
        let name = if proxy { "Proxy-Authenticate" } else { "WWW-Authenticate" };
        let values: Vec<String> =
            resp.headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.clone()).collect();
        let Ok(ch) = Challenge::pick(values.iter().map(String::as_str), proxy) else {
            return false;
        };
        let seq = req.headers.cseq().map(|c| c.seq).unwrap_or(1) + 1;
        req.headers.set("CSeq", format!("{seq} INVITE"));
        req.headers.remove("Authorization");
        req.headers.remove("Proxy-Authorization");
        let via = format!(
            "SIP/2.0/{} {};branch={};rport",
            self.via_transport(),
            self.identity.contact_host,
            self.rng.branch()
        );
        req.headers.set("Via", via);
        let cnonce = self.rng.token(16);
        let (hname, value) = auth::authorization(&ch, &creds, "INVITE", &req.uri, &req.body, 1, &cnonce);
        req.headers.push(hname, value);
        let tx = self.txl.send_request(self.now, req.clone());
        if let Some(c) = self.calls.get_mut(id) {
            c.invite = Some(req);
            c.invite_tx = Some(tx);
            c.auth_answered = true;
            c.got_provisional = false;
        }
        true
    }

    fn send_cancel(&mut self, id: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(invite) = call.invite.clone() else {
            return;
        };
        call.cancel_requested = false;
        call.cancel_guard = Some(self.now + CANCEL_GUARD_MS);
        // §9.1: same Request-URI, Call-ID, From, To, CSeq number and the top Via (same branch).
        let mut h = Headers::new();
        if let Some(v) = invite.headers.get("Via") {
            h.push("Via", crate::message::split_list(v).into_iter().next().unwrap_or_default());
        }
        for r in invite.headers.get_all("Route") {
            h.push("Route", r);
        }
        h.push("Max-Forwards", "70");
        for name in ["From", "To", "Call-ID"] {
            if let Some(v) = invite.headers.get(name) {
                h.push(name, v);
            }
        }
        let seq = invite.headers.cseq().map(|c| c.seq).unwrap_or(1);
        h.push("CSeq", format!("{seq} CANCEL"));
        h.push("Reason", "SIP;cause=487;text=\"Call cancelled\"");
        let cancel = Request { method: Method::Cancel, uri: invite.uri.clone(), headers: h, body: Vec::new() };
        self.txl.send_request(self.now, cancel);
        let reason = self.calls.get(id).and_then(|c| c.end_reason.clone()).unwrap_or_else(|| "cancelled".into());
        self.end_for_user(id, &reason);
    }

    pub(super) fn send_bye(&mut self, id: &str, reason: &str) {
        let branch = self.rng.branch();
        if let Some(dialog) = self.calls.get_mut(id).and_then(|c| c.dialog.as_mut()) {
            let mut bye = dialog.request(Method::Bye, &branch, None);
            if reason == "session-expired" {
                bye.headers.push("Reason", st::EXPIRED_REASON);
            }
            self.txl.send_request(self.now, bye);
        }
        self.end_call(id, reason);
    }

    /// Refuse an incoming call that has not been answered.
    fn refuse_incoming(&mut self, id: &str, code: u16, phrase: &str, reason: &str) {
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

    fn send_200_to_invite(&mut self, id: &str, sdp: String, offer_in_200: bool) {
        let contact = self.contact_value();
        let t1 = self.txl_t1();
        let allow_events = self.allow_events();
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let (Some(tx), Some(d)) = (call.server_tx, call.dialog.as_ref()) else {
            return;
        };
        let Some(req) = self.txl.server_request(tx).cloned() else {
            // The caller cancelled meanwhile.
            return self.end_call(id, "cancelled");
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
        if offer_in_200 {
            call.offered_sdp = Some(sdp);
        } else {
            call.local_sdp = Some(sdp);
            call.remote_sdp = call.remote_offer.clone();
        }
        let bytes = r.to_bytes();
        call.ok_bytes = Some(bytes);
        call.ok_interval = t1;
        call.ok_retransmit_at = Some(self.now + call.ok_interval);
        call.ok_deadline = Some(self.now + 64 * t1);
        call.expect_answer_in_ack = offer_in_200;
        call.ring_deadline = None;
        let timer = call.pending_uas_timer.take();
        // Prepared without the microphone (delayed automatic answer): it opens now, with the 200.
        let open_mic = std::mem::take(&mut call.mic_deferred);
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

    fn txl_t1(&self) -> Millis {
        crate::transaction::TimerConfig::default().t1
    }

    /// Our re-INVITE offering `sdp`; `refresh_only` when it is the unchanged session (RFC 4028
    /// refresh) rather than an offer the browser made.
    fn send_reinvite(&mut self, id: &str, sdp: String, hold: bool, refresh_only: bool) {
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
        call.offered_sdp = Some(sdp);
        call.refresh_reinvite = refresh_only;
        let tx = self.txl.send_request(self.now, req);
        if let Some(c) = self.calls.get_mut(id) {
            c.reinvite_tx = Some(tx);
        }
    }

    /// Answer a peer's re-INVITE/UPDATE (with our SDP when we have one).
    fn answer_reoffer(&mut self, id: &str, tx: TxId, method: Method, sdp: Option<String>, offer_in_200: bool) {
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
        let sdp = sdp.map(|s| match &call.local_sdp {
            Some(current) if !offer_in_200 && same_session(current, &s) => current.clone(),
            _ => s,
        });
        if let Some(s) = &sdp {
            if offer_in_200 {
                call.offered_sdp = Some(s.clone());
            } else {
                call.local_sdp = Some(s.clone());
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
            call.ok_bytes = Some(r.to_bytes());
            call.ok_interval = 500;
            call.ok_retransmit_at = Some(self.now + 500);
            call.ok_deadline = Some(self.now + 32_000);
            call.expect_answer_in_ack = offer_in_200;
        }
        call.peer_reinvite_pending = None;
        self.txl.respond(self.now, tx, r);
        // Any refresh request from the peer restarts the timer (§10).
        self.arm_session_timer(id, timer);
    }

    // ---------------------------------------------------------------- from the transaction layer

    /// A response for one of our call-related client transactions. Returns false if not ours.
    /// Which call a client transaction belongs to, and what it is for.
    fn call_for_tx(&self, tx: TxId) -> Option<(String, TxRole)> {
        self.calls.values().find_map(|c| {
            let role = if c.invite_tx == Some(tx) {
                TxRole::Invite
            } else if c.reinvite_tx == Some(tx) {
                TxRole::Reinvite
            } else if c.refresh_tx == Some(tx) {
                TxRole::Refresh
            } else if c.info_tx == Some(tx) {
                TxRole::Info
            } else if c.refer_tx == Some(tx) {
                TxRole::Refer
            } else {
                return None;
            };
            Some((c.id.clone(), role))
        })
    }

    /// A response for one of our call-related client transactions. Returns false if not ours.
    pub(super) fn on_call_response(&mut self, tx: TxId, resp: &Response) -> bool {
        let Some((id, role)) = self.call_for_tx(tx) else { return false };
        match role {
            TxRole::Invite => self.on_invite_response(&id, resp),
            TxRole::Reinvite => self.on_reinvite_response(&id, resp),
            TxRole::Refresh if resp.status >= 200 => self.on_refresh_response(&id, resp),
            TxRole::Info if resp.status >= 200 => {
                if let Some(c) = self.calls.get_mut(&id) {
                    c.info_tx = None;
                }
                if resp.status >= 300 {
                    self.log(&format!("call {id}: INFO DTMF refused with {}", resp.status));
                }
                self.next_info_dtmf(&id);
            }
            TxRole::Refer => self.on_refer_response(&id, resp),
            TxRole::Refresh | TxRole::Info => {}
        }
        self.emit_status_if_changed();
        true
    }

    fn on_invite_response(&mut self, id: &str, resp: &Response) {
        let code = resp.status;
        let contact = self.contact_value();
        let transport = self.via_transport();
        let via_host = self.identity.contact_host.clone();
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(invite) = call.invite.clone() else {
            return;
        };
        if code < 200 && call.state == CallState::Ended && !call.cancel_requested {
            return; // cancelled for the user; only the final response matters now
        }
        if code < 200 {
            if code > 100 {
                call.got_provisional = true;
                if code == 180 || code == 183 {
                    self.transferred_call_progress(id, code, &resp.reason);
                }
                let Some(call) = self.calls.get_mut(id) else { return };
                if call.dialog.is_none() && resp.headers.to().and_then(|t| t.tag().map(str::to_string)).is_some() {
                    call.dialog = Dialog::from_uac(&invite, resp, &contact, &via_host, transport);
                }
                let early_sdp = sdp_body(&resp.headers, &resp.body);
                let cancel_now = call.cancel_requested;
                if cancel_now {
                    self.send_cancel(id);
                    return;
                }
                match early_sdp {
                    Some(sdp) if !self.calls.get(id).is_some_and(|c| c.early_sdp_applied) => {
                        if let Some(c) = self.calls.get_mut(id) {
                            c.early_sdp_applied = true;
                            c.remote_sdp = Some(sdp.clone());
                        }
                        self.media(id, MediaOp::ApplyAnswer { answer: sdp, final_answer: false }, None);
                        self.set_state(id, CallState::Early);
                    }
                    _ => {
                        if self.calls.get(id).is_some_and(|c| c.state == CallState::Dialing) {
                            self.set_state(id, CallState::Ringing);
                        }
                    }
                }
            }
            return;
        }
        if (200..300).contains(&code) {
            // First 2xx establishes the dialog; its retransmissions are re-ACKed.
            if let Some(ack) = call.ack.clone() {
                let tag = resp.headers.to().and_then(|t| t.tag().map(str::to_string));
                let same_fork = call.dialog.as_ref().is_some_and(|d| d.remote_tag == tag);
                if same_fork {
                    self.txl.send_raw(ack);
                } else {
                    self.end_other_fork(id, &invite, resp);
                }
                return;
            }
            let mut dialog = match Dialog::from_uac(&invite, resp, &contact, &via_host, transport) {
                Some(d) => d,
                None => return self.end_call(id, "protocol-error"),
            };
            let branch = self.rng.branch();
            let seq = invite.headers.cseq().map(|c| c.seq).unwrap_or(1);
            let ack = dialog.request(Method::Ack, &branch, Some(seq));
            let ack_bytes = ack.to_bytes();
            self.txl.send_raw(ack_bytes.clone());
            let answer = sdp_body(&resp.headers, &resp.body);
            let cancelled = call.cancel_requested || call.cancel_guard.is_some();
            call.ack = Some(ack_bytes);
            call.dialog = Some(dialog);
            call.ring_deadline = None;
            call.peer_allows_update = allows_update(&resp.headers);
            call.local_sdp = call.offered_sdp.take();
            if let Some(a) = &answer {
                call.remote_sdp = Some(a.clone());
            }
            let timer = st::from_uac_response(&resp.headers, call.asked_interval);
            self.arm_session_timer(id, timer);
            let Some(call) = self.calls.get_mut(id) else { return };
            if cancelled {
                // The 200 crossed our CANCEL: confirm, then hang up (§9.1).
                let reason = call.end_reason.clone().unwrap_or_else(|| "cancelled".into());
                return self.send_bye(id, &reason);
            }
            match answer {
                Some(sdp) => self.media(id, MediaOp::ApplyAnswer { answer: sdp, final_answer: true }, None),
                None => {
                    if !call_had_early(self, id) {
                        self.log(&format!("call {id}: 200 OK without SDP answer"));
                        return self.send_bye(id, "protocol-error");
                    }
                }
            }
            self.set_state(id, CallState::Active);
            self.transferred_call_progress(id, code, &resp.reason);
            return;
        }
        if code == 422 && self.resend_invite_for_422(id, resp) {
            return;
        }
        if code == 401 || code == 407 {
            if let Some(realm) = self.untrusted_realm(id, resp) {
                // A callee (or whatever a REFER pointed us at) must not obtain a digest of the
                // user's password for a realm of its choosing: it could crack it offline.
                self.log(&format!(
                    "call {id}: {code} challenge for realm \"{realm}\" not answered: not a trusted realm (no credentials sent)"
                ));
                self.transferred_call_progress(id, code, &resp.reason);
                self.end_call(id, "untrusted-realm");
                return;
            }
            if self.resend_invite_with_auth(id, resp) {
                return;
            }
        }
        let reason = match self.calls.get(id) {
            Some(c) if c.cancel_guard.is_some() && code == 487 => {
                c.end_reason.clone().unwrap_or_else(|| "cancelled".into())
            }
            _ => end_reason_for_status(code),
        };
        self.transferred_call_progress(id, code, &resp.reason);
        self.end_call(id, &reason);
    }

    /// RFC 3261 §13.2.2.4: a 2xx from another fork of our INVITE (a different To tag) after the
    /// call was established with the first one: ACK it and end that dialog with a BYE, without
    /// touching the call (no media, no event). Retransmissions of it are ACKed again only.
    fn end_other_fork(&mut self, id: &str, invite: &Request, resp: &Response) {
        let contact = self.contact_value();
        let transport = self.via_transport();
        let via_host = self.identity.contact_host.clone();
        let Some(mut dialog) = Dialog::from_uac(invite, resp, &contact, &via_host, transport) else {
            return self.log(&format!("call {id}: 2xx from another fork without a usable To: dropped"));
        };
        let Some(tag) = dialog.remote_tag.clone() else { return };
        let ack_branch = self.rng.branch();
        let bye_branch = self.rng.branch();
        let seq = invite.headers.cseq().map(|c| c.seq).unwrap_or(1);
        let ack = dialog.request(Method::Ack, &ack_branch, Some(seq));
        self.txl.send_raw(ack.to_bytes());
        let Some(call) = self.calls.get_mut(id) else { return };
        if call.other_forks.contains(&tag) || call.other_forks.len() >= MAX_OTHER_FORKS {
            return;
        }
        call.other_forks.push(tag);
        let bye = dialog.request(Method::Bye, &bye_branch, None);
        self.log(&format!("call {id}: another fork answered too; ACK and BYE to it (RFC 3261 §13.2.2.4)"));
        self.txl.send_request(self.now, bye);
    }

    fn on_reinvite_response(&mut self, id: &str, resp: &Response) {
        let code = resp.status;
        if code < 200 {
            return;
        }
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let hold = call.reinvite_hold;
        call.reinvite_tx = None;
        let refresh_only = std::mem::take(&mut call.refresh_reinvite);
        let offered = call.offered_sdp.take();
        if (200..300).contains(&code) {
            if offered.is_some() {
                call.local_sdp = offered;
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
                let unchanged = match (&answer, &call.remote_sdp) {
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
                call.remote_sdp = Some(sdp.clone());
                self.media(id, MediaOp::ApplyAnswer { answer: sdp, final_answer: true }, None);
            }
            if let Some(c) = self.calls.get_mut(id) {
                if c.needs_refresh {
                    c.needs_refresh = false;
                    c.recover_deadline = None;
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
                        c.timer_deadline = Some(self.now + delay);
                    }
                }
                481 | 408 => self.send_bye(id, "dialog-lost"),
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
                c.reinvite_retry_at = Some((self.now + delay, hold));
            }
            return;
        }
        if code == 481 || code == 408 {
            // The dialog is gone on the other side (§12.2.1.2).
            return self.send_bye(id, "dialog-lost");
        }
        self.log(&format!("call {id}: re-INVITE refused with {code}"));
        // The far end answered over the new flow, so the dialog is alive there: a refusal of the
        // refresh offer (488, 500, ...) must not end the call when the recovery window closes.
        if let Some(c) = self.calls.get_mut(id) {
            if c.needs_refresh {
                c.needs_refresh = false;
                c.recover_deadline = None;
            }
        }
    }

    /// A client transaction of a call timed out or lost its transport.
    /// A client transaction of a call timed out or lost its transport.
    pub(super) fn on_call_tx_failure(&mut self, tx: TxId, transport: bool) -> bool {
        let Some((id, role)) = self.call_for_tx(tx) else { return false };
        match role {
            // The initial INVITE got no final answer: the call never happened.
            TxRole::Invite if self.calls.get(&id).is_some_and(|c| c.ack.is_none()) => {
                self.end_call(&id, if transport { "connection-lost" } else { "timeout" });
            }
            TxRole::Info => {
                if let Some(c) = self.calls.get_mut(&id) {
                    c.info_tx = None;
                    c.dtmf_queue.clear();
                }
            }
            TxRole::Refer => {
                if let Some(c) = self.calls.get_mut(&id) {
                    c.refer_tx = None;
                }
                self.report_transfer(&id, 408);
            }
            _ => {
                if let Some(c) = self.calls.get_mut(&id) {
                    c.reinvite_tx = c.reinvite_tx.filter(|t| *t != tx);
                    c.refresh_tx = c.refresh_tx.filter(|t| *t != tx);
                }
                // An in-dialog request that times out means the dialog is gone (§12.2.1.2); a
                // lost transport is the flow-recovery logic's business.
                if !transport {
                    self.send_bye(&id, "timeout");
                }
            }
        }
        true
    }

    /// A new request from the transaction layer that belongs to calls. Returns false if not.
    pub(super) fn on_call_request(&mut self, tx: TxId, req: &Request) -> bool {
        let has_to_tag = req.headers.to().and_then(|t| t.tag().map(str::to_string)).is_some();
        match req.method {
            Method::Invite if !has_to_tag => {
                self.on_new_invite(tx, req);
                true
            }
            Method::Cancel => {
                self.on_cancel(tx, req);
                true
            }
            _ if has_to_tag => {
                let Some(id) = self
                    .calls
                    .iter()
                    .find(|(_, c)| c.dialog.as_ref().is_some_and(|d| d.matches_request(req)))
                    .map(|(id, _)| id.clone())
                else {
                    return false;
                };
                self.on_in_dialog_request(&id, tx, req);
                true
            }
            Method::Bye => {
                // BYE from the caller before our 200 (early dialog, no To tag known to it)?
                false
            }
            _ => false,
        }
    }

    fn on_new_invite(&mut self, tx: TxId, req: &Request) {
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
        call.remote_offer = offer;
        call.pending_uas_timer = uas_timer;
        call.peer_timer_support = st::peer_supports(&req.headers);
        call.peer_allows_update = allows_update(&req.headers);
        call.ring_deadline = Some(self.now + INCOMING_RING_TIMEOUT_MS);
        let auto = match decision {
            crate::auto_answer::Decision::Auto { delay_ms, dialect, answer_mode } => {
                call.auto_answer = true;
                call.auto_answer_at = Some(self.now + delay_ms);
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

    fn on_cancel(&mut self, tx: TxId, cancel: &Request) {
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
            self.refuse_incoming(&id, 487, "Request Terminated", "cancelled");
        }
        self.emit_status_if_changed();
    }

    fn on_in_dialog_request(&mut self, id: &str, tx: TxId, req: &Request) {
        let in_order =
            self.calls.get_mut(id).and_then(|c| c.dialog.as_mut()).is_some_and(|d| d.accept_remote_cseq(req));
        if !in_order {
            let r = Response::for_request(req, 500, "Server Internal Error", None);
            self.txl.respond(self.now, tx, r);
            return;
        }
        match req.method {
            Method::Bye => {
                let r = Response::for_request(req, 200, "OK", None);
                self.txl.respond(self.now, tx, r);
                let unanswered_incoming =
                    self.calls.get(id).is_some_and(|c| c.direction == Direction::Incoming && c.ok_bytes.is_none());
                if unanswered_incoming {
                    self.refuse_incoming(id, 487, "Request Terminated", "remote-hangup");
                } else {
                    self.end_call(id, "remote-hangup");
                }
            }
            Method::Invite | Method::Update => self.on_reoffer(id, tx, req),
            Method::Notify => {
                let event =
                    req.headers.get("Event").unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                if event == "refer" {
                    self.on_refer_notify(id, tx, req);
                } else {
                    self.on_remote_control(id, tx, req);
                }
            }
            Method::Refer => self.on_refer(id, tx, req),
            Method::Info => {
                let digits = dtmf_from_info(&req.headers, &req.body);
                let r = Response::for_request(req, 200, "OK", None);
                self.txl.respond(self.now, tx, r);
                // A real keypad sends one digit per INFO: a request carrying more is bounded, so one
                // message cannot turn into thousands of events (each a broadcast by the host).
                if digits.len() > MAX_INFO_DIGITS {
                    let dropped = digits.len() - MAX_INFO_DIGITS;
                    self.log(&format!(
                        "call {id}: INFO carried {} DTMF digits; {dropped} dropped ({MAX_INFO_DIGITS} at most per INFO)",
                        digits.len()
                    ));
                }
                for digit in digits.into_iter().take(MAX_INFO_DIGITS) {
                    self.out.push_back(Output::Event(Event::Dtmf { call: id.to_string(), digit }));
                }
            }
            Method::Options => {
                let r = Response::for_request(req, 200, "OK", None);
                self.txl.respond(self.now, tx, r);
            }
            _ => {
                let mut r = Response::for_request(req, 405, "Method Not Allowed", None);
                r.headers.push("Allow", super::ALLOW);
                self.txl.respond(self.now, tx, r);
            }
        }
        self.emit_status_if_changed();
    }

    /// BroadSoft remote control (access-side extensions): NOTIFY `Event: talk` answers a ringing
    /// call or resumes a held one; `Event: hold` holds an active one. Unknown events: 489.
    fn on_remote_control(&mut self, id: &str, tx: TxId, req: &Request) {
        let event = req
            .headers
            .get("Event")
            .map(|e| e.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default();
        // Through a proxy, a caller's own NOTIFY reaches us like the server's: remote control is
        // honoured only when the user turned server control on (`autoAnswer: "headers"`).
        if matches!(event.as_str(), "talk" | "hold") && !self.remote_control_enabled() {
            self.log(&format!("call {id}: remote control (NOTIFY {event}) refused: server control is off"));
            let mut r = Response::for_request(req, 403, "Forbidden", None);
            r.headers.push("Warning", "399 ferrophone \"remote control is turned off\"");
            self.txl.respond(self.now, tx, r);
            return;
        }
        let state = self.calls.get(id).map(|c| (c.direction, c.state, c.ok_bytes.is_some()));
        let handled = match (event.as_str(), state) {
            ("talk", Some((Direction::Incoming, CallState::Ringing, false))) => {
                self.log(&format!("call {id}: remote answer (NOTIFY talk)"));
                let answered = self.answer_call(id).is_ok();
                // Answered without a user action: announced like any automatic answer (after
                // `answer`, which stopped the ringtone as for a call that rang aloud).
                if let Some(c) = self.calls.get_mut(id).filter(|_| answered) {
                    c.auto_answer = true;
                }
                answered
            }
            ("talk", Some((_, CallState::Held, _))) => {
                self.log(&format!("call {id}: remote resume (NOTIFY talk)"));
                self.reinvite_direction(id, false).is_ok()
            }
            ("talk", Some(_)) => true, // already talking
            ("hold", Some((_, CallState::Active, _))) => {
                self.log(&format!("call {id}: remote hold (NOTIFY hold)"));
                self.reinvite_direction(id, true).is_ok()
            }
            ("hold", Some((_, CallState::Held, _))) => true,
            ("hold", Some(_)) => false,
            _ => {
                let mut r = Response::for_request(req, 489, "Bad Event", None);
                r.headers.push("Allow-Events", self.allow_events());
                self.txl.respond(self.now, tx, r);
                return;
            }
        };
        let r = if handled {
            Response::for_request(req, 200, "OK", None)
        } else {
            let mut r = Response::for_request(req, 500, "Server Internal Error", None);
            r.headers.push("Retry-After", "1");
            r
        };
        self.txl.respond(self.now, tx, r);
    }

    /// re-INVITE or UPDATE from the peer (hold/resume/codec or address change).
    fn on_reoffer(&mut self, id: &str, tx: TxId, req: &Request) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        // §14.2 / RFC 3311 §5.2: one offer/answer at a time.
        let ours_pending = call.reinvite_tx.is_some() || matches!(call.pending, Some((_, Pending::OurReinvite { .. })));
        if ours_pending {
            let r = Response::for_request(req, 491, "Request Pending", None);
            self.txl.respond(self.now, tx, r);
            return;
        }
        if call.peer_reinvite_pending.is_some()
            || call.pending.is_some()
            || (req.method == Method::Invite && call.ok_retransmit_at.is_some())
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
                    c.remote_sdp = Some(offer.clone());
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
        call.ok_retransmit_at = None;
        call.ok_deadline = None;
        if call.expect_answer_in_ack {
            call.expect_answer_in_ack = false;
            match sdp_body(&req.headers, &req.body) {
                Some(answer) => {
                    call.remote_sdp = Some(answer.clone());
                    call.local_sdp = call.offered_sdp.take();
                    self.media(&id, MediaOp::ApplyAnswer { answer, final_answer: true }, None)
                }
                None => {
                    self.log(&format!("call {id}: ACK without the SDP answer"));
                    self.send_bye(&id, "protocol-error");
                }
            }
        }
    }

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
                    c.recover_deadline.get_or_insert(now + CALL_RECOVERY_MS);
                    c.reinvite_tx = None;
                    c.ok_bytes = None;
                    c.ok_retransmit_at = None;
                    c.ok_deadline = None;
                    c.peer_reinvite_pending = None;
                }
                _ => lost.push(id.clone()),
            }
        }
        for id in lost {
            self.end_call(&id, "connection-lost");
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
            .filter(|c| c.needs_refresh && c.pending.is_none() && c.reinvite_tx.is_none())
            .map(|c| (c.id.clone(), c.state == CallState::Held))
            .collect();
        for (id, hold) in ids {
            self.log(&format!("call {id}: refreshing the dialog over the new connection"));
            let direction = if hold { "sendonly" } else { "sendrecv" };
            self.media(&id, MediaOp::Reoffer { direction, ice_restart: false }, Some(Pending::OurReinvite { hold }));
        }
    }
}

fn call_had_early(ua: &UserAgent, id: &str) -> bool {
    ua.calls.get(id).is_some_and(|c| c.early_sdp_applied)
}

impl Call {
    /// A 2xx was received (outgoing): the dialog is confirmed.
    pub fn dialog_confirmed(&self) -> bool {
        self.ack.is_some()
    }

    /// The call was answered and its dialog confirmed on both sides: our 2xx was ACKed
    /// (incoming) or we ACKed the far end's 2xx (outgoing). Early dialogs never qualify.
    pub fn answered_and_confirmed(&self) -> bool {
        let confirmed = match self.direction {
            Direction::Outgoing => self.ack.is_some(),
            Direction::Incoming => self.server_tx.is_some() && self.ok_bytes.is_none() && self.local_sdp.is_some(),
        };
        confirmed && matches!(self.state, CallState::Active | CallState::Held)
    }
}

/// Keyboard-command helpers: which call a global shortcut acts on.
impl UserAgent {
    /// `answer` shortcut: the oldest ringing incoming call.
    pub(super) fn answer_ringing_call(&mut self) -> Result<CallInfo, CallError> {
        let id = self
            .calls
            .values()
            .find(|c| c.direction == Direction::Incoming && c.state == CallState::Ringing && c.ok_bytes.is_none())
            .map(|c| c.id.clone())
            .ok_or(CallError::NoCurrentCall)?;
        self.answer_call(&id)?;
        self.call(&id).ok_or(CallError::NoSuchCall)
    }

    /// `hangup` shortcut: the connected call if there is one (active before held), else a call
    /// ringing out, else a call ringing in (rejected).
    pub(super) fn hangup_current_call(&mut self) -> Result<CallInfo, CallError> {
        let rank = |c: &Call| match (c.state, c.direction) {
            (CallState::Active, _) => 0,
            (CallState::Held, _) => 1,
            (CallState::Early | CallState::Ringing | CallState::Dialing, Direction::Outgoing) => 2,
            (CallState::Ringing, Direction::Incoming) => 3,
            _ => 9,
        };
        let id = self
            .calls
            .values()
            .filter(|c| rank(c) < 9)
            .min_by_key(|c| rank(c))
            .map(|c| c.id.clone())
            .ok_or(CallError::NoCurrentCall)?;
        self.hangup_call(&id)?;
        self.call(&id).ok_or(CallError::NoSuchCall)
    }

    /// `mute` shortcut: toggle the microphone of the active call.
    pub(super) fn toggle_mute_current_call(&mut self) -> Result<CallInfo, CallError> {
        let (id, muted) = self
            .calls
            .values()
            .find(|c| c.state == CallState::Active)
            .map(|c| (c.id.clone(), c.muted))
            .ok_or(CallError::NoCurrentCall)?;
        self.mute_call(&id, !muted)?;
        self.call(&id).ok_or(CallError::NoSuchCall)
    }
}

/// Most DTMF digits one INFO from the far end turns into events (the rest are dropped, logged).
pub(super) const MAX_INFO_DIGITS: usize = 8;

/// Most DTMF digits one `dtmf` command sends, and most waiting to be sent by SIP INFO on a call.
const MAX_DTMF_DIGITS: usize = 64;

/// The digits of a `dtmf` command, upper-cased and without white space, or why they are refused.
fn dtmf_digits(digits: &str) -> Result<String, CallError> {
    let digits: String = digits.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(bad) = digits.chars().find(|c| !(c.is_ascii_digit() || "*#ABCDabcd".contains(*c))) {
        let shown: String = if bad.is_control() { bad.escape_unicode().collect() } else { bad.to_string() };
        return Err(CallError::InvalidDigits(format!("'{shown}' is not a DTMF digit: use 0-9, *, #, A-D")));
    }
    if digits.is_empty() {
        return Err(CallError::InvalidDigits("no DTMF digits to send: use 0-9, *, #, A-D".into()));
    }
    if digits.len() > MAX_DTMF_DIGITS {
        return Err(CallError::InvalidDigits(format!("too many DTMF digits at once ({MAX_DTMF_DIGITS} at most)")));
    }
    Ok(digits.to_ascii_uppercase())
}

/// DTMF digits carried by an INFO body: `application/dtmf-relay` (`Signal=5`) or
/// `application/dtmf` (just the digit). Anything else carries none.
pub(super) fn dtmf_from_info(headers: &Headers, body: &[u8]) -> Vec<char> {
    let ct = headers.get("Content-Type").unwrap_or("").to_ascii_lowercase();
    let text = String::from_utf8_lossy(body);
    let valid = |c: char| c.is_ascii_digit() || "*#ABCD".contains(c);
    let from = |s: &str| -> Option<char> {
        let s = s.trim();
        match s {
            "10" => Some('*'),
            "11" => Some('#'),
            _ => s.chars().next().map(|c| c.to_ascii_uppercase()).filter(|c| valid(*c) && s.chars().count() == 1),
        }
    };
    if ct.starts_with("application/dtmf-relay") {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case("signal"))
            .filter_map(|(_, v)| from(v))
            .collect()
    } else if ct.starts_with("application/dtmf") {
        from(&text).into_iter().collect()
    } else {
        Vec::new()
    }
}

/// Whether an `Allow` header lists UPDATE (RFC 3311), so a session refresh can avoid SDP.
fn allows_update(h: &Headers) -> bool {
    h.get_all("Allow").iter().flat_map(|v| crate::message::split_list(v)).any(|m| m.eq_ignore_ascii_case("UPDATE"))
}
