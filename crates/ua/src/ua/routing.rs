//! Which call a transaction, a response or an in-dialog request belongs to, and the dispatch to
//! the module that handles it.

use super::call_state::*;
use super::dtmf::*;
use super::{Event, Output, UserAgent};
use crate::call::Direction;
use crate::call::EndReason;
use crate::message::{Method, Request, Response};
use crate::transaction::TxId;

impl UserAgent {
    /// A response for one of our call-related client transactions. Returns false if not ours.
    /// Which call a client transaction belongs to, and what it is for.
    /// Remember that client transaction `tx` is call `id`'s `role` (replacing the one before).
    pub(super) fn track_tx(&mut self, tx: TxId, id: &str, role: TxRole) {
        self.tx_index.retain(|_, (c, r)| !(c == id && *r == role));
        self.tx_index.insert(tx, (id.to_string(), role));
    }

    /// The call and role of client transaction `tx`: one index lookup, checked against the call
    /// (an entry the call has moved on from is dropped).
    pub(super) fn call_for_tx(&mut self, tx: TxId) -> Option<(String, TxRole)> {
        let (id, role) = self.tx_index.get(&tx).cloned()?;
        let current = self.calls.get(&id).is_some_and(|c| c.tx_for(role) == Some(tx));
        if !current {
            self.tx_index.remove(&tx);
            return None;
        }
        Some((id, role))
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

    /// A client transaction of a call timed out or lost its transport.
    /// A client transaction of a call timed out or lost its transport.
    pub(super) fn on_call_tx_failure(&mut self, tx: TxId, transport: bool) -> bool {
        let Some((id, role)) = self.call_for_tx(tx) else { return false };
        match role {
            // The initial INVITE got no final answer: the call never happened.
            TxRole::Invite if self.calls.get(&id).is_some_and(|c| c.ack.is_none()) => {
                self.end_call(&id, if transport { EndReason::ConnectionLost } else { EndReason::Timeout });
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
                    self.send_bye(&id, EndReason::Timeout);
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

    pub(super) fn on_in_dialog_request(&mut self, id: &str, tx: TxId, req: &Request) {
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
                    self.refuse_incoming(id, 487, "Request Terminated", EndReason::RemoteHangup);
                } else {
                    self.end_call(id, EndReason::RemoteHangup);
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
}
