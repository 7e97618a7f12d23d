//! INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2).

use super::{Ctx, Millis};
use crate::message::{Headers, Method, Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Calling,
    Proceeding,
    /// Non-2xx final received, ACK sent; absorbing retransmissions until Timer D.
    Completed,
    /// 2xx received; absorbing 2xx retransmissions (passed up for re-ACK) until Timer M.
    Accepted,
    Terminated,
}

pub(crate) struct ClientInvite {
    request: Request,
    bytes: Vec<u8>,
    state: State,
    /// Timer A (retransmit, unreliable transports only) and its current interval.
    retransmit_at: Option<Millis>,
    interval: Millis,
    /// Timer B (Calling), D (Completed) or M (Accepted).
    end_at: Option<Millis>,
    ack: Option<Vec<u8>>,
}

impl ClientInvite {
    pub fn start(ctx: &mut Ctx<'_>, request: Request) -> Self {
        let bytes = request.to_bytes();
        ctx.send(&bytes);
        let t1 = ctx.timers.t1;
        ClientInvite {
            request,
            bytes,
            state: State::Calling,
            retransmit_at: (!ctx.reliable).then_some(ctx.now + t1),
            interval: t1,
            end_at: Some(ctx.now + ctx.timers.transaction_timeout()),
            ack: None,
        }
    }

    /// Returns whether the response goes up to the TU.
    pub fn on_response(&mut self, ctx: &mut Ctx<'_>, resp: &Response) -> bool {
        let code = resp.status;
        match self.state {
            State::Calling | State::Proceeding => {
                self.retransmit_at = None;
                if code < 200 {
                    self.state = State::Proceeding;
                    // A provisional response ends Timer B's role: the TU decides how long to ring.
                    self.end_at = None;
                } else if code < 300 {
                    self.state = State::Accepted;
                    self.end_at = Some(ctx.now + ctx.timers.transaction_timeout());
                } else {
                    let ack = self.build_ack(resp).to_bytes();
                    ctx.send(&ack);
                    self.ack = Some(ack);
                    self.state = State::Completed;
                    let d = ctx.timers.timer_d(ctx.reliable);
                    self.end_at = Some(ctx.now + d);
                }
                true
            }
            State::Completed => {
                if code >= 300 {
                    if let Some(ack) = &self.ack {
                        ctx.send(ack);
                    }
                }
                false
            }
            // RFC 6026: 2xx retransmissions (possibly from other forks) go to the TU.
            State::Accepted => (200..300).contains(&code),
            State::Terminated => false,
        }
    }

    /// ACK for a non-2xx final response (§17.1.1.3): same Request-URI, Call-ID, From, CSeq
    /// number, top Via and Route as the INVITE; To from the response.
    fn build_ack(&self, resp: &Response) -> Request {
        let mut h = Headers::new();
        if let Some(via) = self.request.headers.get("Via") {
            // Only the top Via element.
            let top = crate::message::split_list(via).into_iter().next().unwrap_or_default();
            h.push("Via", top);
        }
        for r in self.request.headers.get_all("Route") {
            h.push("Route", r);
        }
        h.push("Max-Forwards", "70");
        if let Some(v) = self.request.headers.get("From") {
            h.push("From", v);
        }
        if let Some(v) = resp.headers.get("To") {
            h.push("To", v);
        }
        if let Some(v) = self.request.headers.get("Call-ID") {
            h.push("Call-ID", v);
        }
        let seq = self.request.headers.cseq().map(|c| c.seq).unwrap_or(1);
        h.push("CSeq", format!("{seq} ACK"));
        Request { method: Method::Ack, uri: self.request.uri.clone(), headers: h, body: Vec::new() }
    }

    /// Run due timers; returns true when Timer B fired (timeout for the TU).
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if let Some(at) = self.retransmit_at {
            if ctx.now >= at && self.state == State::Calling {
                ctx.send(&self.bytes);
                self.interval *= 2;
                self.retransmit_at = Some(ctx.now + self.interval);
            }
        }
        if let Some(at) = self.end_at {
            if ctx.now >= at {
                let was_calling = self.state == State::Calling;
                self.state = State::Terminated;
                self.end_at = None;
                self.retransmit_at = None;
                return was_calling;
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
        matches!(self.state, State::Calling | State::Proceeding)
    }

    pub fn terminated(&self) -> bool {
        self.state == State::Terminated
    }
}
