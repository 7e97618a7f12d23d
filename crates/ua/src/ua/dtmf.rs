//! DTMF (RFC 4733 through the media side, or SIP INFO `application/dtmf-relay`): sending digits,
//! falling back to INFO, and digits the far end sends by INFO.

use super::call_state::TxRole;
use super::UserAgent;
use crate::call::{CallError, CallState, MediaOp};
use crate::message::{Headers, Method};

/// Most DTMF digits one INFO from the far end turns into events (the rest are dropped, logged).
pub(super) const MAX_INFO_DIGITS: usize = 8;

/// Most DTMF digits one `dtmf` command sends, and most waiting to be sent by SIP INFO on a call.
pub(super) const MAX_DTMF_DIGITS: usize = 64;

impl UserAgent {
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
    pub(super) fn dtmf_fallback(&mut self, id: &str, digits: &str, reason: &str) {
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
    pub(super) fn next_info_dtmf(&mut self, id: &str) {
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
        self.track_tx(tx, id, TxRole::Info);
        if let Some(c) = self.calls.get_mut(id) {
            c.info_tx = Some(tx);
        }
    }
}

/// The digits of a `dtmf` command, upper-cased and without white space, or why they are refused.
pub(super) fn dtmf_digits(digits: &str) -> Result<String, CallError> {
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
