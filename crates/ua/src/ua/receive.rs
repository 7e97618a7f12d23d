//! Everything that arrives on the flow: parsing, refusing what is malformed or too large, the
//! transaction layer's events, and the dispatch of requests.

use super::*;
use crate::message::{self, Message, Method, ParseError, Request, Response};
use crate::trace::Direction;
use crate::transaction::{Refused, TxEvent};

pub(super) const MAX_SERVER_TRANSACTIONS: usize = 32;

/// Most bytes of the headers a reply echoes (Via, From, To, Call-ID, CSeq, Record-Route) that a
/// request may carry: half the input limit, so that a reply with our own headers and SDP stays
/// under `MAX_MESSAGE_SIZE` (a request beyond it gets 513).
pub(super) const MAX_ECHOED: usize = message::MAX_MESSAGE_SIZE / 2;

impl UserAgent {
    pub(super) fn on_received(&mut self, bytes: Vec<u8>) {
        if self.flow != Flow::Open {
            return;
        }
        // Any traffic proves the flow alive.
        let ping_outstanding = self.pong_deadline.take().is_some();
        if bytes.iter().all(|b| *b == b'\r' || *b == b'\n') {
            if bytes.is_empty() {
                return;
            }
            if bytes == b"\r\n\r\n" {
                // The server pings us (RFC 5626 §3.5.1): pong.
                self.send_bytes(b"\r\n".to_vec(), false);
            } else if bytes == b"\r\n" && ping_outstanding {
                // A pong to our ping: from now on a missing pong means a dead flow. Only a CRLF
                // that answers a ping counts: stray CRLF frames (junk) must not make us expect
                // pongs from a server that never sends them, and then drop its flow.
                self.flow_pongs = true;
            }
            return;
        }
        self.trace.record(self.now, Direction::In, &bytes);
        match message::parse(&bytes) {
            Ok(Message::Request(req)) if echoed_size(&req.headers) > MAX_ECHOED => self.refuse_too_large(&req),
            Ok(msg) => {
                let is_request = matches!(msg, Message::Request(_));
                let copy = if is_request { Some(msg.clone()) } else { None };
                match self.txl.receive(self.now, msg) {
                    Ok(()) => {}
                    Err(Refused::Overloaded) => {
                        if let Some(Message::Request(req)) = copy {
                            if req.method != Method::Ack {
                                let mut r = Response::for_request(&req, 503, "Service Unavailable", None);
                                r.headers.push("Retry-After", "5");
                                self.send_bytes(r.to_bytes(), true);
                            }
                        }
                    }
                }
                self.drain_tx_events();
            }
            Err(e) => self.on_malformed(&bytes, &e),
        }
    }

    /// A request whose headers every reply must echo (Via, From, To, Call-ID, CSeq) or that a
    /// dialog-creating reply echoes (Record-Route) are too large for a reply to stay under the
    /// input limit once our own headers and SDP are added: refuse it with a 513 that carries only
    /// what a response must, before any transaction or call exists.
    pub(super) fn refuse_too_large(&mut self, req: &Request) {
        let size = echoed_size(&req.headers);
        self.log(&format!(
            "refused a {} whose reply would be too large ({size} bytes of headers to echo, {MAX_ECHOED} at most)",
            req.method
        ));
        if req.method == Method::Ack {
            return;
        }
        let mut r = Response::for_request(req, 513, "Message Too Large", None);
        r.headers.push("Warning", "399 ferrophone \"headers too large to answer\"");
        self.send_bytes(r.to_bytes(), true);
    }

    pub(super) fn on_malformed(&mut self, bytes: &[u8], e: &ParseError) {
        self.log(&format!("dropped malformed message: {e}"));
        if let Some(req) = message::salvage_for_reply(bytes) {
            if req.method == Method::Ack {
                return;
            }
            let (code, reason) = match e {
                ParseError::TooLarge { .. } => (513, "Message Too Large"),
                ParseError::UnsupportedVersion(_) => (505, "Version Not Supported"),
                _ => (400, "Bad Request"),
            };
            let mut r = Response::for_request(&req, code, reason, None);
            let warning: String = e.to_string().chars().filter(|c| *c != '"' && !c.is_control()).take(120).collect();
            r.headers.push("Warning", format!("399 ferrophone \"{warning}\""));
            let bytes = r.to_bytes();
            // Echoed headers may be the broken part: a reply we could not parse ourselves would
            // not be matched by the peer either, so it is not sent.
            if message::parse(&bytes).is_ok() {
                self.send_bytes(bytes, true);
            } else {
                self.log("no reply: the malformed request cannot be answered with a well-formed response");
            }
        }
    }

    pub(super) fn drain_tx_events(&mut self) {
        while let Some(ev) = self.txl.poll_event() {
            match ev.clone() {
                TxEvent::Response { tx, response } => {
                    if self.reg.tx == Some(tx) {
                        self.on_register_response(&response);
                    } else {
                        self.on_call_response(tx, &response);
                    }
                }
                TxEvent::Timeout { tx } | TxEvent::TransportError { tx } => {
                    let transport = matches!(ev, TxEvent::TransportError { .. });
                    if self.on_call_tx_failure(tx, transport) {
                        continue;
                    }
                    if self.reg.tx == Some(tx) {
                        self.reg.abort();
                        if self.unregistering.is_some() {
                            self.finish_unregister();
                        } else if self.flow == Flow::Open {
                            // The registrar did not answer on a flow that looks open: treat the
                            // flow as broken and reconnect (RFC 5626 §4.4: flow recovery).
                            self.log("REGISTER timed out: reconnecting");
                            self.out.push_back(Output::Close);
                            self.flow_failed("registrar did not answer");
                        }
                    }
                }
                TxEvent::Request { tx, request } => {
                    if !self.on_call_request(tx, &request) {
                        self.on_request(tx, request);
                    }
                }
                TxEvent::AckFor2xx { request } => self.on_call_ack(&request),
                TxEvent::AckTimeout { .. } => {}
                TxEvent::StrayResponse { response } => {
                    let line = format!("stray response {} {} dropped", response.status, response.reason);
                    self.log(&line);
                }
            }
        }
    }

    pub(super) fn on_request(&mut self, tx: u64, req: Request) {
        // RFC 3261 §12.2.2: a request with a To tag belongs to a dialog; the calls did not claim
        // it, so that dialog does not exist (whatever the method, INVITE included).
        let in_dialog = req.headers.to().is_some_and(|t| t.tag().is_some());
        if in_dialog && req.method != Method::Ack {
            let r = Response::for_request(&req, 481, "Call/Transaction Does Not Exist", None);
            self.txl.respond(self.now, tx, r);
            return;
        }
        let resp = match &req.method {
            Method::Options => {
                let mut r = Response::for_request(&req, 200, "OK", Some(&self.rng.token(10)));
                r.headers.push("Allow", ALLOW);
                r.headers.push("Accept", "application/sdp");
                r.headers.push("Supported", SUPPORTED);
                r.headers.push("Server", USER_AGENT);
                r
            }
            // Calls arrive with the session layer; until then we are not available for them.
            Method::Invite => {
                let mut r = Response::for_request(&req, 480, "Temporarily Unavailable", Some(&self.rng.token(10)));
                r.headers.push("Allow", ALLOW);
                r
            }
            Method::Bye
            | Method::Cancel
            | Method::Info
            | Method::Update
            | Method::Prack
            | Method::Notify
            | Method::Refer => Response::for_request(&req, 481, "Call/Transaction Does Not Exist", None),
            Method::Ack => return,
            Method::Other(_) => {
                let mut r = Response::for_request(&req, 501, "Not Implemented", None);
                r.headers.push("Allow", ALLOW);
                r
            }
            _ => {
                let mut r = Response::for_request(&req, 405, "Method Not Allowed", None);
                r.headers.push("Allow", ALLOW);
                r
            }
        };
        self.txl.respond(self.now, tx, resp);
    }
}

/// Bytes of the header lines a reply to a request with these headers copies.
pub(super) fn echoed_size(headers: &message::Headers) -> usize {
    headers
        .iter()
        .filter(|h| {
            ["Via", "From", "To", "Call-ID", "CSeq", "Record-Route"].iter().any(|n| message::same_header(&h.name, n))
        })
        .map(|h| h.name.len() + h.value.len() + 4)
        .sum()
}

/// The log line for a message we built but do not send: it would be larger than what we accept.
pub(super) fn oversize_line(bytes: &[u8]) -> String {
    let first = bytes.split(|b| *b == b'\r').next().unwrap_or_default();
    let first: String = String::from_utf8_lossy(first).chars().take(60).collect();
    format!(
        "not sent: a {}-byte message ({first}) is too large (limit {} bytes)",
        bytes.len(),
        message::MAX_MESSAGE_SIZE
    )
}
