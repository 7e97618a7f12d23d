//! What the user asks of a call: dial, answer, reject, hang up, hold/resume, mute, and the
//! keyboard shortcuts that pick the call they act on.

use super::call_state::*;
use super::timer::Timer;
use super::uac::*;
use super::UserAgent;
use crate::call::EndReason;
use crate::call::{normalize_target, CallError, CallInfo, CallState, Direction, MediaOp};

impl UserAgent {
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
        call.timers.set(Timer::Ring, self.now + OUTGOING_RING_TIMEOUT_MS);
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
        call.timers.stop(Timer::AutoAnswer);
        // Media prepared in advance (delayed automatic answer): answer right now.
        if let Some((sdp, offer_in_200)) = call.oa.prepared.take() {
            self.send_200_to_invite(id, sdp, offer_in_200);
            return Ok(());
        }
        if call.oa.waiting.is_some() {
            return Ok(()); // the media side is preparing; the 200 goes out as soon as it is ready
        }
        let offer = call.oa.remote_offer().cloned();
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
    pub(super) fn prepare_answer(&mut self, id: &str) {
        let Some(call) = self.calls.get_mut(id) else { return };
        call.oa.mic_deferred = true;
        match call.oa.remote_offer().cloned() {
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
        self.refuse_incoming(id, 486, "Busy Here", EndReason::Rejected);
        Ok(())
    }

    /// End a call in whatever state it is: CANCEL, reject, or BYE.
    pub(super) fn hangup_call(&mut self, id: &str) -> Result<(), CallError> {
        let call = self.calls.get_mut(id).ok_or(CallError::NoSuchCall)?;
        match (call.direction, call.state) {
            (_, CallState::Ended) => return Err(CallError::WrongState("the call has ended")),
            (Direction::Incoming, CallState::Ringing) if call.ok_bytes.is_none() => {
                self.refuse_incoming(id, 486, "Busy Here", EndReason::Rejected);
            }
            (Direction::Outgoing, CallState::Dialing | CallState::Ringing | CallState::Early)
                if call.dialog_confirmed() =>
            {
                self.send_bye(id, EndReason::LocalHangup);
            }
            (Direction::Outgoing, CallState::Dialing | CallState::Ringing | CallState::Early) => {
                if call.invite_tx.is_none() {
                    // Still preparing the offer: nothing went out yet.
                    self.end_call(id, EndReason::Cancelled);
                } else if call.got_provisional {
                    self.send_cancel(id);
                } else {
                    // §9.1: CANCEL only after a provisional response; send it when one comes.
                    call.cancel_requested = true;
                    call.timers.set(Timer::CancelGuard, self.now + CANCEL_GUARD_MS);
                    self.end_for_user(id, EndReason::Cancelled);
                }
            }
            _ => self.send_bye(id, EndReason::LocalHangup),
        }
        self.emit_status_if_changed();
        Ok(())
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
        if call.reinvite_tx.is_some() || call.oa.waiting.is_some() || call.peer_reinvite_pending.is_some() {
            return Err(CallError::WrongState("another offer/answer exchange is in progress; try again"));
        }
        let direction = if hold { "sendonly" } else { "sendrecv" };
        self.media(id, MediaOp::Reoffer { direction, ice_restart: false }, Some(Pending::OurReinvite { hold }));
        Ok(())
    }

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
