//! BroadSoft remote control (NOTIFY `Event: talk` / `Event: hold`), honoured only when the
//! user turned server control on.

use super::UserAgent;
use crate::call::{CallState, Direction};
use crate::message::{Request, Response};
use crate::transaction::TxId;

impl UserAgent {
    /// BroadSoft remote control (access-side extensions): NOTIFY `Event: talk` answers a ringing
    /// call or resumes a held one; `Event: hold` holds an active one. Unknown events: 489.
    pub(super) fn on_remote_control(&mut self, id: &str, tx: TxId, req: &Request) {
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
}
