//! Non-INVITE server transaction (RFC 3261 §17.2.2).

use super::{Ctx, Millis};
use crate::message::{Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

pub(crate) struct ServerNonInvite {
    pub request: Request,
    state: State,
    last_response: Option<Vec<u8>>,
    /// Timer J.
    end_at: Option<Millis>,
}

impl ServerNonInvite {
    pub fn start(request: Request) -> Self {
        ServerNonInvite { request, state: State::Trying, last_response: None, end_at: None }
    }

    pub fn respond(&mut self, ctx: &mut Ctx<'_>, response: Response) {
        if matches!(self.state, State::Completed | State::Terminated) {
            return;
        }
        let bytes = response.to_bytes();
        ctx.send(&bytes);
        self.last_response = Some(bytes);
        if response.status < 200 {
            self.state = State::Proceeding;
        } else {
            self.state = State::Completed;
            let j = ctx.timers.timer_j(ctx.reliable);
            self.end_at = Some(ctx.now + j);
        }
    }

    pub fn on_retransmission(&mut self, ctx: &mut Ctx<'_>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            if let Some(r) = &self.last_response {
                ctx.send(r);
            }
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(at) = self.end_at {
            if ctx.now >= at {
                self.state = State::Terminated;
                self.end_at = None;
            }
        }
    }

    pub fn deadline(&self) -> Option<Millis> {
        self.end_at
    }

    /// Only absorbing retransmissions (Completed): may be evicted when the table is full.
    pub fn absorbing(&self) -> bool {
        self.state == State::Completed
    }

    pub fn terminated(&self) -> bool {
        self.state == State::Terminated
    }
}
