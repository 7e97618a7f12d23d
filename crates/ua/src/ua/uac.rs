//! Outgoing calls (RFC 3261 §13.2, UAC core): the INVITE, its responses (provisional, forks,
//! 2xx and ACK, failures), digest on INVITE for trusted realms only, 422, CANCEL.

use super::call_state::*;
use super::calls::*;
use super::offer_answer::Exchange;
use super::session_refresh::*;
use super::session_timer as st;
use super::timer::Timer;
use super::UserAgent;
use crate::auth::{self, Challenge};
use crate::call::{CallState, EndReason, MediaOp};
use crate::dialog::Dialog;
use crate::message::{Headers, Method, Request, Response};
use crate::transaction::Millis;

/// Give up ringing out after this long (the proxy usually ends it first).
pub(super) const OUTGOING_RING_TIMEOUT_MS: Millis = 120_000;

/// A CANCEL whose INVITE never gets a final answer: end the call anyway.
pub(super) const CANCEL_GUARD_MS: Millis = 32_000;

impl UserAgent {
    pub(super) fn send_invite(&mut self, id: &str, sdp: String) {
        let Some(account) = self.account.clone() else {
            return self.end_call(id, EndReason::NotConnected);
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
        h.push("Via", new_via(self.via_transport(), &self.identity.contact_host, &mut self.rng));
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
        self.track_tx(tx, id, TxRole::Invite);
        if let Some(c) = self.calls.get_mut(id) {
            c.invite = Some(req);
            c.invite_tx = Some(tx);
            c.asked_interval = Some(st::DEFAULT_INTERVAL);
            c.oa.exchange = Exchange::OfferSent { offer: sdp, in_ack: false, refresh_only: false };
        }
    }

    /// 422 Session Interval Too Small to our INVITE: once, ask again with the server's Min-SE.
    pub(super) fn resend_invite_for_422(&mut self, id: &str, resp: &Response) -> bool {
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
        req.headers.set("Via", new_via(self.via_transport(), &self.identity.contact_host, &mut self.rng));
        let tx = self.txl.send_request(self.now, req.clone());
        self.track_tx(tx, id, TxRole::Invite);
        if let Some(c) = self.calls.get_mut(id) {
            c.invite = Some(req);
            c.invite_tx = Some(tx);
            c.invite_422_retried = true;
            c.asked_interval = Some(min);
            c.got_provisional = false;
        }
        true
    }

    /// Re-send our INVITE with credentials after 401/407 (same offer, CSeq+1, new branch).
    /// The realm of a 401/407 to our INVITE when we must not answer it: credentials go only to
    /// the realms the registrar challenged with, the account's domain and the realms the user
    /// listed — and, for a call placed because a far end asked (REFER), only to the registrar's.
    pub(super) fn untrusted_realm(&self, id: &str, resp: &Response) -> Option<String> {
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

    pub(super) fn resend_invite_with_auth(&mut self, id: &str, resp: &Response) -> bool {
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
        req.headers.set("Via", new_via(self.via_transport(), &self.identity.contact_host, &mut self.rng));
        let cnonce = self.rng.token(16);
        let (hname, value) = auth::authorization(&ch, &creds, "INVITE", &req.uri, &req.body, 1, &cnonce);
        req.headers.push(hname, value);
        let tx = self.txl.send_request(self.now, req.clone());
        self.track_tx(tx, id, TxRole::Invite);
        if let Some(c) = self.calls.get_mut(id) {
            c.invite = Some(req);
            c.invite_tx = Some(tx);
            c.auth_answered = true;
            c.got_provisional = false;
        }
        true
    }

    pub(super) fn send_cancel(&mut self, id: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(invite) = call.invite.clone() else {
            return;
        };
        call.cancel_requested = false;
        call.timers.set(Timer::CancelGuard, self.now + CANCEL_GUARD_MS);
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
        let reason = self.calls.get(id).and_then(|c| c.end_reason).unwrap_or(EndReason::Cancelled);
        self.end_for_user(id, reason);
    }

    pub(super) fn on_invite_response(&mut self, id: &str, resp: &Response) {
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
                    Some(sdp) if !self.calls.get(id).is_some_and(|c| c.oa.early_applied) => {
                        if let Some(c) = self.calls.get_mut(id) {
                            c.oa.early_applied = true;
                            c.oa.remote = Some(sdp.clone());
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
                None => return self.end_call(id, EndReason::ProtocolError),
            };
            let branch = self.rng.branch();
            let seq = invite.headers.cseq().map(|c| c.seq).unwrap_or(1);
            let ack = dialog.request(Method::Ack, &branch, Some(seq));
            let ack_bytes = ack.to_bytes();
            self.txl.send_raw(ack_bytes.clone());
            let answer = sdp_body(&resp.headers, &resp.body);
            let cancelled = call.cancel_requested || call.timers.is_set(Timer::CancelGuard);
            call.ack = Some(ack_bytes);
            call.dialog = Some(dialog);
            call.timers.stop(Timer::Ring);
            call.peer_allows_update = allows_update(&resp.headers);
            call.oa.local = call.oa.take_offer().map(|o| o.sdp);
            if let Some(a) = &answer {
                call.oa.remote = Some(a.clone());
            }
            let timer = st::from_uac_response(&resp.headers, call.asked_interval);
            self.arm_session_timer(id, timer);
            let Some(call) = self.calls.get_mut(id) else { return };
            if cancelled {
                // The 200 crossed our CANCEL: confirm, then hang up (§9.1).
                let reason = call.end_reason.unwrap_or(EndReason::Cancelled);
                return self.send_bye(id, reason);
            }
            match answer {
                Some(sdp) => self.media(id, MediaOp::ApplyAnswer { answer: sdp, final_answer: true }, None),
                None => {
                    if !call_had_early(self, id) {
                        self.log(&format!("call {id}: 200 OK without SDP answer"));
                        return self.send_bye(id, EndReason::ProtocolError);
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
                self.end_call(id, EndReason::UntrustedRealm);
                return;
            }
            if self.resend_invite_with_auth(id, resp) {
                return;
            }
        }
        let reason = match self.calls.get(id) {
            Some(c) if c.timers.is_set(Timer::CancelGuard) && code == 487 => {
                c.end_reason.unwrap_or(EndReason::Cancelled)
            }
            _ => EndReason::for_status(code),
        };
        self.transferred_call_progress(id, code, &resp.reason);
        self.end_call(id, reason);
    }

    /// RFC 3261 §13.2.2.4: a 2xx from another fork of our INVITE (a different To tag) after the
    /// call was established with the first one: ACK it and end that dialog with a BYE, without
    /// touching the call (no media, no event). Retransmissions of it are ACKed again only.
    pub(super) fn end_other_fork(&mut self, id: &str, invite: &Request, resp: &Response) {
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
}
