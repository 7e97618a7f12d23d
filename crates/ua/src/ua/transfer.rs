//! Call transfer (RFC 3515 REFER, RFC 3891 Replaces, RFC 3892 Referred-By, RFC 5589 flows):
//! blind and attended transfer as transferor, being transferred (incoming REFER), and an
//! incoming INVITE that replaces one of our calls.

use super::call_state::{Call, TxRole};
use super::timer::Timer;
use super::{Event, Output, UserAgent};
use crate::call::EndReason;
use crate::call::{normalize_target, CallError, CallState, Direction};
use crate::message::{Method, NameAddr, Request, Response};
use crate::transaction::TxId;

/// Progress of a transfer, reported to the host as an event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferProgress {
    /// The call being transferred (ours).
    pub call: String,
    /// SIP status of the transfer target's answer (from the NOTIFY sipfrag, or the REFER's own
    /// failure), e.g. 100, 180, 200, 486.
    pub status: u16,
    /// `true` once the outcome is known.
    pub done: bool,
    pub success: bool,
    /// When the far end transferred us: our call to the transfer target (placed for the REFER).
    pub new_call: Option<String>,
}

/// Percent-encode what goes inside a URI header (`?Replaces=...`).
fn escape_header_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'!' | b'*' | b'\'' | b'(' | b')' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn unescape(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(x) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `Replaces: call-id;to-tag=..;from-tag=..` → (call-id, to-tag, from-tag).
pub(super) fn parse_replaces(v: &str) -> Option<(String, String, String)> {
    let mut parts = v.split(';');
    let call_id = parts.next()?.trim().to_string();
    let (mut to, mut from) = (None, None);
    for p in parts {
        let (k, val) = p.split_once('=')?;
        match k.trim().to_ascii_lowercase().as_str() {
            "to-tag" => to = Some(val.trim().to_string()),
            "from-tag" => from = Some(val.trim().to_string()),
            _ => {}
        }
    }
    Some((call_id, to?, from?))
}

/// The status code of a `message/sipfrag` body (`SIP/2.0 180 Ringing`).
fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().next()?;
    let mut it = line.split_whitespace();
    (it.next()? == "SIP/2.0").then_some(())?;
    it.next()?.parse().ok()
}

impl UserAgent {
    /// Blind transfer: ask the far end of `id` to call `target` (REFER).
    pub(super) fn blind_transfer(&mut self, id: &str, target: &str) -> Result<(), CallError> {
        let domain = self.account.as_ref().map(|a| a.domain.clone()).ok_or(CallError::NotConnected)?;
        let uri = normalize_target(target, &domain)?;
        self.send_refer(id, format!("<{uri}>"))
    }

    /// Attended transfer: connect the far ends of `id` and `other` (REFER with Replaces to the
    /// far end of `id`, naming the dialog of `other`).
    pub(super) fn attended_transfer(&mut self, id: &str, other: &str) -> Result<(), CallError> {
        if id == other {
            return Err(CallError::WrongState("an attended transfer needs two different calls"));
        }
        let o = self.calls.get(other).ok_or(CallError::NoSuchCall)?;
        if !matches!(o.state, CallState::Active | CallState::Held) {
            return Err(CallError::WrongState("the other call must be established"));
        }
        let d = o.dialog.as_ref().ok_or(CallError::WrongState("the other call has no dialog"))?;
        let remote_tag = d.remote_tag.clone().unwrap_or_default();
        // RFC 3891 §3: to-tag / from-tag as the replaced dialog's far end sees it.
        let replaces = format!("{};to-tag={};from-tag={}", d.call_id, remote_tag, d.local_tag);
        let target = NameAddr::parse(&d.remote_uri).map(|n| n.uri).unwrap_or_else(|_| o.remote.clone());
        // The target URI must not carry headers already; strip any.
        let base = target.split('?').next().unwrap_or(&target).to_string();
        self.send_refer(id, format!("<{base}?Replaces={}>", escape_header_value(&replaces)))?;
        if let Some(c) = self.calls.get_mut(id) {
            c.replaces_call = Some(other.to_string());
        }
        Ok(())
    }

    fn send_refer(&mut self, id: &str, refer_to: String) -> Result<(), CallError> {
        let aor = self.account.as_ref().map(|a| a.aor()).ok_or(CallError::NotConnected)?;
        let branch = self.rng.branch();
        let call = self.calls.get_mut(id).ok_or(CallError::NoSuchCall)?;
        if !matches!(call.state, CallState::Active | CallState::Held) {
            return Err(CallError::WrongState("only an established call can be transferred"));
        }
        if call.refer_tx.is_some() {
            return Err(CallError::WrongState("a transfer of this call is already in progress"));
        }
        let d = call.dialog.as_mut().ok_or(CallError::WrongState("no dialog"))?;
        let mut req = d.request(Method::Refer, &branch, None);
        req.headers.push("Refer-To", refer_to);
        req.headers.push("Referred-By", format!("<{aor}>"));
        req.headers.push("Allow", super::ALLOW);
        let tx = self.txl.send_request(self.now, req);
        self.track_tx(tx, id, TxRole::Refer);
        if let Some(c) = self.calls.get_mut(id) {
            c.refer_tx = Some(tx);
            c.transferring = true;
        }
        Ok(())
    }

    pub(super) fn report_transfer(&mut self, id: &str, status: u16) {
        let done = status >= 200;
        let success = (200..300).contains(&status);
        self.out.push_back(Output::Event(Event::Transfer(TransferProgress {
            call: id.to_string(),
            status,
            done,
            success,
            new_call: None,
        })));
        if done {
            let replaced = self.calls.get_mut(id).and_then(|c| {
                c.transferring = false;
                c.replaces_call.take()
            });
            if success {
                // RFC 5589 §6: the transferor ends its call once the transfer succeeded.
                self.send_bye(id, EndReason::Transferred);
                // Attended: the target should have ended the replaced call when it accepted the
                // INVITE with Replaces (RFC 3891 §3) — the 200 in the sipfrag says it did accept.
                // A target that ignores Replaces (baresip 1.0 does) would leave that call up with
                // nobody behind it on our side: end it too.
                if let Some(other) = replaced {
                    if self.calls.get(&other).is_some_and(|c| matches!(c.state, CallState::Active | CallState::Held)) {
                        self.log(&format!("call {other}: still up after the attended transfer succeeded; ending it"));
                        self.send_bye(&other, EndReason::Transferred);
                    }
                }
            }
        }
    }

    /// Response to our REFER.
    pub(super) fn on_refer_response(&mut self, id: &str, resp: &Response) {
        if resp.status < 200 {
            return;
        }
        if let Some(c) = self.calls.get_mut(id) {
            c.refer_tx = None;
        }
        if resp.status >= 300 {
            self.log(&format!("call {id}: transfer refused ({} {})", resp.status, resp.reason));
            self.report_transfer(id, resp.status);
        }
    }

    /// NOTIFY `Event: refer` in the dialog of a call we transfer: progress in a sipfrag.
    pub(super) fn on_refer_notify(&mut self, id: &str, tx: TxId, req: &Request) {
        let status = sipfrag_status(&req.body);
        let r = Response::for_request(
            req,
            if status.is_some() { 200 } else { 400 },
            if status.is_some() { "OK" } else { "Bad Request" },
            None,
        );
        self.txl.respond(self.now, tx, r);
        let transferring = self.calls.get(id).is_some_and(|c| c.transferring);
        if let (Some(status), true) = (status, transferring) {
            self.report_transfer(id, status);
        }
    }

    /// Incoming REFER in the dialog of call `id`: we are being transferred.
    pub(super) fn on_refer(&mut self, id: &str, tx: TxId, req: &Request) {
        let refuse = |ua: &mut UserAgent, code: u16, phrase: &str, why: &str| {
            ua.log(&format!("call {id}: transfer (REFER) refused: {why}"));
            let mut r = Response::for_request(req, code, phrase, None);
            r.headers.push("Warning", format!("399 ferrophone \"{why}\""));
            ua.txl.respond(ua.now, tx, r);
        };
        // A transfer only makes sense for a call the user answered (or placed and the far end
        // answered): in an early dialog a caller could otherwise open our microphone toward a
        // target of its choosing without anyone picking up (RFC 3515 leaves acceptance to us).
        if !self.calls.get(id).is_some_and(Call::answered_and_confirmed) {
            return refuse(self, 403, "Forbidden", "a call is transferred only once it is answered");
        }
        if self.settings.transfer_targets == "never" {
            return refuse(self, 603, "Declined", "being transferred is turned off");
        }
        let Some(refer_to) = req.headers.get("Refer-To").and_then(|v| NameAddr::parse(v).ok()) else {
            let r = Response::for_request(req, 400, "Bad Request", None);
            self.txl.respond(self.now, tx, r);
            return;
        };
        let (uri, headers) = match refer_to.uri.split_once('?') {
            Some((u, h)) => (u.to_string(), Some(h.to_string())),
            None => (refer_to.uri.clone(), None),
        };
        let replaces = headers.as_deref().and_then(|h| {
            h.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                k.eq_ignore_ascii_case("replaces").then(|| unescape(v))
            })
        });
        let lower = uri.to_ascii_lowercase();
        if !(lower.starts_with("sip:") || lower.starts_with("sips:") || lower.starts_with("tel:")) {
            let r = Response::for_request(req, 416, "Unsupported URI Scheme", None);
            self.txl.respond(self.now, tx, r);
            return;
        }
        if !self.transfer_target_allowed(&uri) {
            return refuse(self, 403, "Forbidden", "transfer target outside the account's domain");
        }
        let r = Response::for_request(req, 202, "Accepted", None);
        self.txl.respond(self.now, tx, r);
        let referred_by = req.headers.get("Referred-By").map(str::to_string);
        match self.start_call(&uri) {
            Ok(info) => {
                self.log(&format!("call {id}: transferred to {uri} (new call {})", info.id));
                if let Some(c) = self.calls.get_mut(&info.id) {
                    c.referred_from = Some(id.to_string());
                    c.placed_for_peer = true;
                    c.extra_invite_headers = [("Referred-By", referred_by), ("Replaces", replaces)]
                        .into_iter()
                        .filter_map(|(k, v)| v.map(|v| (k, v)))
                        .collect();
                }
                // The subscription's first NOTIFY (RFC 3515 §2.4.4), naming the new call.
                self.send_refer_notify(id, 100, "Trying");
            }
            Err(e) => {
                self.log(&format!("call {id}: cannot follow the transfer to {uri}: {e}"));
                self.send_refer_notify(id, 503, "Service Unavailable");
            }
        }
    }

    /// Whether a far end may send us to `uri` (`settings.transferTargets`): `any`, or by default
    /// only targets in the account's domain (the server's host counts too) and telephone
    /// numbers, which go through the account's server like any number the user dials.
    fn transfer_target_allowed(&self, uri: &str) -> bool {
        if self.settings.transfer_targets == "any" {
            return true;
        }
        if uri.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("tel:")) {
            return true;
        }
        let Some(account) = self.account.as_ref() else { return false };
        let Ok(parsed) = crate::message::SipUri::parse(uri) else { return false };
        // `maddr` would send the request somewhere other than the host the check looked at.
        if parsed.params.has("maddr") {
            return false;
        }
        let host = parsed.host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let domain = account.domain.to_ascii_lowercase();
        let domain_host = match domain.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => h.to_string(),
            _ => domain.clone(),
        };
        let domain_host = domain_host.trim_start_matches('[').trim_end_matches(']');
        host == domain_host || host == account.server.host
    }

    /// NOTIFY the transferor of the progress of the call we placed for it, and tell the host:
    /// the same progress is a `transfer` event of the call being transferred (`old`).
    pub(super) fn send_refer_notify(&mut self, old: &str, status: u16, reason: &str) {
        let branch = self.rng.branch();
        let new_call =
            self.calls.iter().find(|(_, c)| c.referred_from.as_deref() == Some(old)).map(|(id, _)| id.clone());
        let Some(d) = self.calls.get_mut(old).and_then(|c| c.dialog.as_mut()) else { return };
        self.out.push_back(Output::Event(Event::Transfer(TransferProgress {
            call: old.to_string(),
            status,
            done: status >= 200,
            success: (200..300).contains(&status),
            new_call,
        })));
        let mut n = d.request(Method::Notify, &branch, None);
        n.headers.push("Event", "refer");
        let state = if status >= 200 { "terminated;reason=noresource" } else { "active;expires=60" };
        n.headers.push("Subscription-State", state);
        n.headers.push("Content-Type", "message/sipfrag;version=2.0");
        n.body = format!("SIP/2.0 {status} {reason}\r\n").into_bytes();
        self.txl.send_request(self.now, n);
    }

    /// A call placed because of a REFER moved on: tell the transferor, end the old call.
    pub(super) fn transferred_call_progress(&mut self, new: &str, status: u16, reason: &str) {
        let Some(old) = self.calls.get(new).and_then(|c| c.referred_from.clone()) else { return };
        if status < 200 && status != 180 && status != 183 {
            return;
        }
        self.send_refer_notify(&old, status, reason);
        if status >= 200 {
            if let Some(c) = self.calls.get_mut(new) {
                c.referred_from = None;
            }
            if (200..300).contains(&status) {
                self.send_bye(&old, EndReason::Transferred);
            }
        }
    }

    /// A call placed for a transfer ends without a final answer from the target (no response at
    /// all, the connection or the media failed): the transferor still gets its final NOTIFY.
    pub(super) fn transferred_call_ended(&mut self, new: &str, reason: EndReason) {
        let Some(old) = self.calls.get_mut(new).and_then(|c| c.referred_from.take()) else { return };
        let (status, phrase) = match reason {
            EndReason::Timeout | EndReason::NoAnswer => (408, "Request Timeout"),
            _ => (503, "Service Unavailable"),
        };
        self.send_refer_notify(&old, status, phrase);
    }

    /// An incoming INVITE with `Replaces` (RFC 3891): the call it names, if we have it.
    pub(super) fn replaced_call(&self, req: &Request) -> Result<Option<String>, (u16, &'static str)> {
        let Some(v) = req.headers.get("Replaces") else { return Ok(None) };
        let Some((call_id, to_tag, from_tag)) = parse_replaces(v) else { return Err((400, "Bad Request")) };
        // to-tag is ours (we are the recipient), from-tag is the far end's.
        let found = self.calls.values().find(|c: &&Call| {
            c.dialog.as_ref().is_some_and(|d| {
                d.call_id == call_id && d.local_tag == to_tag && d.remote_tag.as_deref() == Some(from_tag.as_str())
            }) && c.state != CallState::Ended
        });
        match found {
            Some(c) if c.direction == Direction::Incoming && c.state == CallState::Ringing => {
                Err((481, "Call/Transaction Does Not Exist"))
            }
            Some(c) => Ok(Some(c.id.clone())),
            None => Err((481, "Call/Transaction Does Not Exist")),
        }
    }

    /// Answer the replacing call at once and hang up the one it replaces.
    pub(super) fn take_over(&mut self, new: &str, old: &str) {
        self.log(&format!("call {new} replaces call {old}"));
        if let Some(c) = self.calls.get_mut(new) {
            c.auto_answer = true;
            c.timers.stop(Timer::AutoAnswer);
        }
        // The replaced call goes first, so answering does not put it on hold (call waiting).
        self.send_bye(old, EndReason::Replaced);
        let _ = self.answer_call(new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_round_trip() {
        let v = "abc@x;to-tag=t1;from-tag=f1";
        let esc = escape_header_value(v);
        assert_eq!(esc, "abc%40x%3Bto-tag%3Dt1%3Bfrom-tag%3Df1");
        assert_eq!(parse_replaces(&unescape(&esc)), Some(("abc@x".into(), "t1".into(), "f1".into())));
        assert_eq!(sipfrag_status(b"SIP/2.0 180 Ringing\r\n"), Some(180));
        assert_eq!(sipfrag_status(b"garbage"), None);
    }
}
