//! The table of calls: lookup, state changes and events, ending a call, and what every call's
//! requests share (Contact, Via transport, credentials, the BYE).

use super::call_state::*;
use super::session_timer as st;
use super::{Event, Output, UserAgent};
use crate::auth::Credentials;
use crate::call::EndReason;
use crate::call::{CallInfo, CallState, Direction, MediaOp};
use crate::message::{Headers, Method};

impl UserAgent {
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

    pub(super) fn new_call_id(&mut self) -> String {
        loop {
            let id = format!("c{}", self.rng.token(8));
            if !self.calls.contains_key(&id) {
                return id;
            }
        }
    }

    pub(super) fn emit_call(&mut self, id: &str) {
        if let Some(c) = self.calls.get(id) {
            let info = c.info();
            self.out.push_back(Output::Event(Event::Call(info)));
        }
    }

    pub(super) fn set_state(&mut self, id: &str, state: CallState) {
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
    pub(super) fn end_for_user(&mut self, id: &str, reason: EndReason) {
        let Some(c) = self.calls.get_mut(id) else { return };
        if c.state == CallState::Ended {
            return;
        }
        c.state = CallState::Ended;
        c.end_reason = Some(reason);
        let info = c.info();
        self.media(id, MediaOp::Close, None);
        self.emit_call(id);
        if self.ended_calls.len() == 16 {
            self.ended_calls.pop_front();
        }
        self.ended_calls.push_back(info);
        self.log(&format!("call {id} ended: {reason} (CANCEL in progress)"));
    }

    pub(super) fn live_calls(&self) -> usize {
        self.calls.values().filter(|c| c.state != CallState::Ended).count()
    }

    /// Forget the call after telling everybody it ended.
    pub(super) fn end_call(&mut self, id: &str, reason: EndReason) {
        self.transferred_call_ended(id, reason);
        let Some(c) = self.calls.get_mut(id) else {
            return;
        };
        if c.state == CallState::Ended {
            // Already ended for the user (a CANCEL in progress): only the bookkeeping is left.
            self.calls.remove(id);
            self.tx_index.retain(|_, (c, _)| c != id);
            return;
        }
        let was_ringing_in = c.direction == Direction::Incoming && c.state == CallState::Ringing;
        c.state = CallState::Ended;
        c.end_reason = Some(reason);
        if was_ringing_in {
            self.media(id, MediaOp::StopRing, None);
        }
        self.media(id, MediaOp::Close, None);
        self.emit_call(id);
        self.tx_index.retain(|_, (c, _)| c != id);
        if let Some(c) = self.calls.remove(id) {
            if self.ended_calls.len() == 16 {
                self.ended_calls.pop_front();
            }
            self.ended_calls.push_back(c.info());
        }
        self.log(&format!("call {id} ended: {reason}"));
    }

    pub(super) fn hangup_with_reason(&mut self, id: &str, reason: EndReason) {
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
                        c.end_reason = Some(reason);
                    }
                    self.send_cancel(id);
                } else {
                    self.end_call(id, reason);
                }
            }
            _ => self.send_bye(id, reason),
        }
    }

    pub(super) fn contact_value(&self) -> String {
        let user = self.account.as_ref().map(|a| a.username.clone()).unwrap_or_default();
        format!("<sip:{user}@{};transport=ws;ob>", self.identity.contact_host)
    }

    pub(super) fn via_transport(&self) -> &'static str {
        match &self.account {
            Some(a) if !a.server.secure => "WS",
            _ => "WSS",
        }
    }

    pub(super) fn credentials(&self) -> Option<Credentials> {
        self.account.as_ref().map(|a| Credentials { username: a.auth_username.clone(), password: a.password.clone() })
    }

    pub(super) fn send_bye(&mut self, id: &str, reason: EndReason) {
        let branch = self.rng.branch();
        if let Some(dialog) = self.calls.get_mut(id).and_then(|c| c.dialog.as_mut()) {
            let mut bye = dialog.request(Method::Bye, &branch, None);
            if reason == EndReason::SessionExpired {
                bye.headers.push("Reason", st::EXPIRED_REASON);
            }
            self.txl.send_request(self.now, bye);
        }
        self.end_call(id, reason);
    }
}

pub(super) fn call_had_early(ua: &UserAgent, id: &str) -> bool {
    ua.calls.get(id).is_some_and(|c| c.oa.early_applied)
}

pub(super) fn sdp_body(headers: &Headers, body: &[u8]) -> Option<String> {
    let ct = headers.get("Content-Type").unwrap_or("");
    if body.is_empty() || !ct.to_ascii_lowercase().starts_with("application/sdp") {
        return None;
    }
    String::from_utf8(body.to_vec()).ok()
}

pub(super) fn set_sdp(headers: &mut Headers, body: &mut Vec<u8>, sdp: &str) {
    headers.set("Content-Type", "application/sdp");
    *body = sdp.as_bytes().to_vec();
}

/// The Via of a new INVITE (or one sent again with credentials or a new interval): our
/// transport and contact host, a fresh branch (RFC 3261 §8.1.1.7).
pub(super) fn new_via(transport: &str, contact_host: &str, rng: &mut crate::rand::Rng) -> String {
    format!("SIP/2.0/{transport} {contact_host};branch={};rport", rng.branch())
}
