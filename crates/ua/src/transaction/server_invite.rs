//! INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1).

use super::{Ctx, Millis};
use crate::message::{Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Proceeding,
    /// Non-2xx final sent; waiting for the ACK (Timer G retransmits, Timer H gives up).
    Completed,
    /// ACK received; absorbing ACK retransmissions until Timer I.
    Confirmed,
    /// 2xx sent (RFC 6026): the TU retransmits the 2xx; INVITE retransmissions are absorbed
    /// and ACKs go up, until Timer L.
    Accepted,
    Terminated,
}

pub(crate) struct ServerInvite {
    pub request: Request,
    state: State,
    last_response: Option<Vec<u8>>,
    /// Timer G (unreliable only) and its interval.
    retransmit_at: Option<Millis>,
    interval: Millis,
    /// Timer H (Completed), I (Confirmed) or L (Accepted).
    end_at: Option<Millis>,
}

impl ServerInvite {
    /// Creating the transaction sends 100 Trying at once (§17.2.1: the TU may take longer
    /// than 200 ms, e.g. while the offscreen document gathers ICE candidates).
    pub fn start(ctx: &mut Ctx<'_>, request: Request) -> Self {
        let trying = Response::for_request(&request, 100, "Trying", None).to_bytes();
        ctx.send(&trying);
        ServerInvite {
            request,
            state: State::Proceeding,
            last_response: Some(trying),
            retransmit_at: None,
            interval: ctx.timers.t1,
            end_at: None,
        }
    }

    pub fn respond(&mut self, ctx: &mut Ctx<'_>, response: Response) {
        let bytes = response.to_bytes();
        match self.state {
            State::Proceeding => {
                ctx.send(&bytes);
                let code = response.status;
                self.last_response = Some(bytes);
                if (200..300).contains(&code) {
                    self.state = State::Accepted;
                    self.end_at = Some(ctx.now + ctx.timers.transaction_timeout());
                } else if code >= 300 {
                    self.state = State::Completed;
                    if !ctx.reliable {
                        self.retransmit_at = Some(ctx.now + self.interval);
                    }
                    self.end_at = Some(ctx.now + ctx.timers.transaction_timeout());
                }
            }
            // The TU retransmits its 2xx through here (§13.3.1.4).
            State::Accepted if (200..300).contains(&response.status) => ctx.send(&bytes),
            _ => {}
        }
    }

    pub fn on_retransmission(&mut self, ctx: &mut Ctx<'_>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            if let Some(r) = &self.last_response {
                ctx.send(r);
            }
        }
    }

    /// Returns true when the ACK belongs to the TU (ACK for a 2xx).
    pub fn on_ack(&mut self, ctx: &mut Ctx<'_>) -> bool {
        match self.state {
            State::Completed => {
                self.state = State::Confirmed;
                self.retransmit_at = None;
                let i = ctx.timers.timer_i(ctx.reliable);
                self.end_at = Some(ctx.now + i);
                false
            }
            State::Accepted => true,
            _ => false,
        }
    }

    /// Returns true when Timer H fired (no ACK for our final response).
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if let Some(at) = self.retransmit_at {
            if ctx.now >= at && self.state == State::Completed {
                if let Some(r) = &self.last_response {
                    ctx.send(r);
                }
                self.interval = (self.interval * 2).min(ctx.timers.t2);
                self.retransmit_at = Some(ctx.now + self.interval);
            }
        }
        if let Some(at) = self.end_at {
            if ctx.now >= at {
                let h_fired = self.state == State::Completed;
                self.state = State::Terminated;
                self.end_at = None;
                self.retransmit_at = None;
                return h_fired;
            }
        }
        false
    }

    pub fn deadline(&self) -> Option<Millis> {
        match (self.retransmit_at, self.end_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Only waiting to absorb an ACK or a retransmission (a final response was sent): may be
    /// evicted when the table is full. The TU retransmits its 2xx itself and an ACK for a 2xx
    /// reaches it without this transaction.
    pub fn absorbing(&self) -> bool {
        matches!(self.state, State::Completed | State::Confirmed | State::Accepted)
    }

    pub fn terminated(&self) -> bool {
        self.state == State::Terminated
    }
}
