//! Non-INVITE client transaction (RFC 3261 §17.1.2).

use super::{Ctx, Millis};
use crate::message::{Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

pub(crate) struct ClientNonInvite {
    bytes: Vec<u8>,
    state: State,
    /// Timer E (unreliable only) and its interval.
    retransmit_at: Option<Millis>,
    interval: Millis,
    /// Timer F (Trying/Proceeding) or K (Completed).
    end_at: Option<Millis>,
}

impl ClientNonInvite {
    pub fn start(ctx: &mut Ctx<'_>, request: Request) -> Self {
        let bytes = request.to_bytes();
        ctx.send(&bytes);
        let t1 = ctx.timers.t1;
        ClientNonInvite {
            bytes,
            state: State::Trying,
            retransmit_at: (!ctx.reliable).then_some(ctx.now + t1),
            interval: t1,
            end_at: Some(ctx.now + ctx.timers.transaction_timeout()),
        }
    }

    pub fn on_response(&mut self, ctx: &mut Ctx<'_>, resp: &Response) -> bool {
        match self.state {
            State::Trying | State::Proceeding => {
                if resp.status < 200 {
                    self.state = State::Proceeding;
                    true
                } else {
                    self.state = State::Completed;
                    self.retransmit_at = None;
                    let k = ctx.timers.timer_k(ctx.reliable);
                    self.end_at = Some(ctx.now + k);
                    true
                }
            }
            // Retransmitted finals are absorbed.
            State::Completed | State::Terminated => false,
        }
    }

    /// Returns true when Timer F fired.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if let Some(at) = self.retransmit_at {
            if ctx.now >= at && matches!(self.state, State::Trying | State::Proceeding) {
                ctx.send(&self.bytes);
                self.interval =
                    if self.state == State::Trying { (self.interval * 2).min(ctx.timers.t2) } else { ctx.timers.t2 };
                self.retransmit_at = Some(ctx.now + self.interval);
            }
        }
        if let Some(at) = self.end_at {
            if ctx.now >= at {
                let timed_out = matches!(self.state, State::Trying | State::Proceeding);
                self.state = State::Terminated;
                self.end_at = None;
                self.retransmit_at = None;
                return timed_out;
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

    pub fn awaiting_final(&self) -> bool {
        matches!(self.state, State::Trying | State::Proceeding)
    }

    pub fn terminated(&self) -> bool {
        self.state == State::Terminated
    }
}
