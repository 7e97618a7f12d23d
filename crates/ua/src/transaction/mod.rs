//! RFC 3261 §17 transactions (with the RFC 6026 "Accepted" states for INVITE 2xx).
//!
//! Four state machines, one file each: [`client_invite`], [`client_non_invite`],
//! [`server_invite`], [`server_non_invite`]. The [`TransactionLayer`] matches messages to them
//! (§17.1.3 for responses, §17.2.3 for requests), runs their timers from the time the host passes
//! in, and hands the transaction user (the UA core) [`TxEvent`]s.
//!
//! Over a reliable transport (WebSocket) the retransmission timers A, E and G are not started
//! and D, I, J, K are zero, exactly as §17 prescribes (such a transaction ends at the next timer
//! run, so a retransmission in the same burst is still answered from it); B, F, H, L and M still
//! run.
//!
//! Bounded: at most `max_server_transactions` server transactions. A transaction that only waits
//! to absorb an ACK or a retransmission (a final response was sent) never keeps a new request
//! out: when the table is full the oldest of them is evicted; only when every slot holds a
//! request still waiting for its final response is the new one refused (503).

mod client_invite;
mod client_non_invite;
mod server_invite;
mod server_non_invite;

use crate::message::{Message, Method, Request, Response};
use crate::vecmap::VecMap;
use std::collections::VecDeque;

pub(crate) use client_invite::ClientInvite;
pub(crate) use client_non_invite::ClientNonInvite;
pub(crate) use server_invite::ServerInvite;
pub(crate) use server_non_invite::ServerNonInvite;

/// Milliseconds on the host's clock.
pub type Millis = u64;

/// Timer base values (RFC 3261 §17.1.1.1 and Table 4).
#[derive(Clone, Copy, Debug)]
pub struct TimerConfig {
    /// RTT estimate; retransmission base (default 500 ms).
    pub t1: Millis,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s).
    pub t2: Millis,
    /// Maximum duration a message remains in the network (default 5 s).
    pub t4: Millis,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig { t1: 500, t2: 4000, t4: 5000 }
    }
}

/// RFC 3261's timer values (§17, Table 4), all from T1, T2 and T4. Over a reliable transport
/// (WebSocket, RFC 7118) nothing is retransmitted and the wait-for-retransmissions timers D, I,
/// J and K are zero.
impl TimerConfig {
    /// Timers B, F, H, J (unreliable), L and M: 64*T1.
    pub fn transaction_timeout(&self) -> Millis {
        64 * self.t1
    }

    /// §13.3.1.4: how long a UAS retransmits its 2xx waiting for the ACK: 64*T1.
    pub fn ack_wait(&self) -> Millis {
        64 * self.t1
    }

    /// Timer D (client INVITE, Completed): at least 32 s unreliable, zero reliable.
    pub fn timer_d(&self, reliable: bool) -> Millis {
        if reliable {
            0
        } else {
            32_000.max(self.transaction_timeout() / 2)
        }
    }

    /// Timer I (server INVITE, Confirmed): T4 unreliable, zero reliable.
    pub fn timer_i(&self, reliable: bool) -> Millis {
        if reliable {
            0
        } else {
            self.t4
        }
    }

    /// Timer J (server non-INVITE, Completed): 64*T1 unreliable, zero reliable.
    pub fn timer_j(&self, reliable: bool) -> Millis {
        if reliable {
            0
        } else {
            self.transaction_timeout()
        }
    }

    /// Timer K (client non-INVITE, Completed): T4 unreliable, zero reliable.
    pub fn timer_k(&self, reliable: bool) -> Millis {
        if reliable {
            0
        } else {
            self.t4
        }
    }
}

/// Handle of a transaction, unique for the life of a [`TransactionLayer`].
pub type TxId = u64;

/// What the transaction layer tells its user.
#[derive(Debug, Clone, PartialEq)]
pub enum TxEvent {
    /// A response for a client transaction (provisional, or the first final; for INVITE also
    /// every 2xx retransmission while Accepted, so the TU can re-ACK).
    Response { tx: TxId, response: Response },
    /// Timer B / F fired: no final response.
    Timeout { tx: TxId },
    /// The transport went away while the client transaction waited for a final response.
    TransportError { tx: TxId },
    /// A new request arrived and created a server transaction (never ACK).
    Request { tx: TxId, request: Request },
    /// An ACK that matches no server transaction: the ACK for a 2xx, for the dialog layer.
    AckFor2xx { request: Request },
    /// Timer H fired: our non-2xx final response to an INVITE was never acknowledged.
    AckTimeout { tx: TxId },
    /// A response that matched no transaction (logged and dropped by the TU).
    StrayResponse { response: Response },
}

/// State shared by the four machines: how to send and when.
pub(crate) struct Ctx<'a> {
    pub now: Millis,
    pub reliable: bool,
    pub timers: TimerConfig,
    pub out: &'a mut VecDeque<Vec<u8>>,
}

impl Ctx<'_> {
    pub fn send(&mut self, bytes: &[u8]) {
        self.out.push_back(bytes.to_vec());
    }
}

/// Server transaction key per §17.2.3: branch + sent-by, with ACK folded onto INVITE.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ServerKey {
    branch: String,
    sent_by: String,
    method: String,
}

fn server_key(req: &Request) -> Option<ServerKey> {
    let via = req.headers.top_via()?;
    let sent_by = format!("{}:{}", via.host.to_ascii_lowercase(), via.port.unwrap_or(0));
    let branch = match via.branch() {
        Some(b) if b.starts_with("z9hG4bK") => b.to_string(),
        // RFC 2543 peers: no magic cookie. Fall back to the fields that identify a request.
        other => format!(
            "2543:{}:{}:{}:{}:{}",
            other.unwrap_or(""),
            req.uri,
            req.headers.call_id().unwrap_or(""),
            req.headers.from().and_then(|f| f.tag().map(str::to_string)).unwrap_or_default(),
            req.headers.cseq().map(|c| c.seq).unwrap_or(0)
        ),
    };
    let method = match req.method {
        Method::Ack => "INVITE".to_string(),
        ref m => m.as_str().to_string(),
    };
    Some(ServerKey { branch, sent_by, method })
}

enum Client {
    Invite(ClientInvite),
    NonInvite(ClientNonInvite),
}

enum Server {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

/// All transactions of one UA.
pub struct TransactionLayer {
    timers: TimerConfig,
    reliable: bool,
    next_id: TxId,
    clients: VecMap<TxId, Client>,
    /// (branch, CSeq method) → id, §17.1.3.
    client_index: VecMap<(String, String), TxId>,
    servers: VecMap<TxId, Server>,
    server_index: VecMap<ServerKey, TxId>,
    max_server_transactions: usize,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<TxEvent>,
}

/// Why a new server transaction was not created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Too many server transactions at once: the caller answers 503.
    Overloaded,
}

impl TransactionLayer {
    pub fn new(timers: TimerConfig, reliable: bool, max_server_transactions: usize) -> Self {
        TransactionLayer {
            timers,
            reliable,
            next_id: 1,
            clients: VecMap::new(),
            client_index: VecMap::new(),
            servers: VecMap::new(),
            server_index: VecMap::new(),
            max_server_transactions,
            out: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn ctx(&mut self, now: Millis) -> Ctx<'_> {
        Ctx { now, reliable: self.reliable, timers: self.timers, out: &mut self.out }
    }

    /// Start a client transaction for `request` (which must carry a Via with a fresh branch and
    /// a CSeq). The request is sent at once. ACK is never a transaction: use [`Self::send_raw`].
    pub fn send_request(&mut self, now: Millis, request: Request) -> TxId {
        let id = self.next_id;
        self.next_id += 1;
        let branch = request.headers.top_via().and_then(|v| v.branch().map(str::to_string)).unwrap_or_default();
        let method = request.method.as_str().to_string();
        self.client_index.insert((branch, method), id);
        let mut ctx = Ctx { now, reliable: self.reliable, timers: self.timers, out: &mut self.out };
        let tx = if request.method == Method::Invite {
            Client::Invite(ClientInvite::start(&mut ctx, request))
        } else {
            Client::NonInvite(ClientNonInvite::start(&mut ctx, request))
        };
        self.clients.insert(id, tx);
        id
    }

    /// Send bytes outside any transaction (ACK for 2xx, 2xx retransmissions, keep-alives).
    pub fn send_raw(&mut self, bytes: Vec<u8>) {
        self.out.push_back(bytes);
    }

    /// Send a response within server transaction `tx`. Returns false if it no longer exists.
    pub fn respond(&mut self, now: Millis, tx: TxId, response: Response) -> bool {
        let mut ctx = Ctx { now, reliable: self.reliable, timers: self.timers, out: &mut self.out };
        let found = match self.servers.get_mut(&tx) {
            Some(Server::Invite(s)) => {
                s.respond(&mut ctx, response);
                true
            }
            Some(Server::NonInvite(s)) => {
                s.respond(&mut ctx, response);
                true
            }
            None => false,
        };
        if found {
            self.reap();
        }
        found
    }

    /// The original request of a server transaction.
    pub fn server_request(&self, tx: TxId) -> Option<&Request> {
        match self.servers.get(&tx)? {
            Server::Invite(s) => Some(&s.request),
            Server::NonInvite(s) => Some(&s.request),
        }
    }

    /// The INVITE server transaction a CANCEL refers to (§9.2: same branch and sent-by).
    pub fn invite_server_for_cancel(&self, cancel: &Request) -> Option<TxId> {
        let mut key = server_key(cancel)?;
        key.method = "INVITE".into();
        self.server_index.get(&key).copied()
    }

    /// Whether client transaction `tx` still exists (it may have been terminated).
    pub fn client_exists(&self, tx: TxId) -> bool {
        self.clients.contains_key(&tx)
    }

    /// Feed one parsed message from the transport.
    pub fn receive(&mut self, now: Millis, msg: Message) -> Result<(), Refused> {
        match msg {
            Message::Response(resp) => {
                self.receive_response(now, resp);
                Ok(())
            }
            Message::Request(req) => self.receive_request(now, req),
        }
    }

    fn receive_response(&mut self, now: Millis, resp: Response) {
        let key = match (resp.headers.top_via(), resp.headers.cseq()) {
            (Some(via), Some(cseq)) => via.branch().map(|b| (b.to_string(), cseq.method.as_str().to_string())),
            _ => None,
        };
        let id = key.and_then(|k| self.client_index.get(&k).copied());
        let Some(id) = id else {
            self.events.push_back(TxEvent::StrayResponse { response: resp });
            return;
        };
        let mut ctx = Ctx { now, reliable: self.reliable, timers: self.timers, out: &mut self.out };
        let pass_up = match self.clients.get_mut(&id) {
            Some(Client::Invite(c)) => c.on_response(&mut ctx, &resp),
            Some(Client::NonInvite(c)) => c.on_response(&mut ctx, &resp),
            None => false,
        };
        if pass_up {
            self.events.push_back(TxEvent::Response { tx: id, response: resp });
        }
        self.reap();
    }

    fn receive_request(&mut self, now: Millis, req: Request) -> Result<(), Refused> {
        let Some(key) = server_key(&req) else {
            // parse() guarantees a Via; nothing to match without one.
            return Ok(());
        };
        if let Some(&id) = self.server_index.get(&key) {
            let mut ctx = Ctx { now, reliable: self.reliable, timers: self.timers, out: &mut self.out };
            match self.servers.get_mut(&id) {
                Some(Server::Invite(s)) => {
                    if req.method == Method::Ack {
                        if s.on_ack(&mut ctx) {
                            // ACK for a 2xx that reached the Accepted state: the dialog's business.
                            self.events.push_back(TxEvent::AckFor2xx { request: req });
                        }
                    } else {
                        s.on_retransmission(&mut ctx);
                    }
                }
                Some(Server::NonInvite(s)) => s.on_retransmission(&mut ctx),
                None => {}
            }
            self.reap();
            return Ok(());
        }
        if req.method == Method::Ack {
            self.events.push_back(TxEvent::AckFor2xx { request: req });
            return Ok(());
        }
        if self.servers.len() >= self.max_server_transactions && !self.evict_absorbing() {
            return Err(Refused::Overloaded);
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut ctx = self.ctx(now);
        let tx = if req.method == Method::Invite {
            Server::Invite(ServerInvite::start(&mut ctx, req.clone()))
        } else {
            Server::NonInvite(ServerNonInvite::start(req.clone()))
        };
        self.servers.insert(id, tx);
        self.server_index.insert(key, id);
        self.events.push_back(TxEvent::Request { tx: id, request: req });
        Ok(())
    }

    /// Drop the oldest server transaction that only absorbs an ACK or retransmissions.
    fn evict_absorbing(&mut self) -> bool {
        let oldest = self
            .servers
            .iter()
            .find(|(_, s)| match s {
                Server::Invite(s) => s.absorbing(),
                Server::NonInvite(s) => s.absorbing(),
            })
            .map(|(id, _)| *id);
        match oldest {
            Some(id) => {
                self.servers.remove(&id);
                self.server_index.retain(|_, v| *v != id);
                true
            }
            None => false,
        }
    }

    /// The transport is gone: every client transaction still waiting for a final response
    /// fails with a transport error (§17.1.4); server transactions can no longer answer.
    pub fn transport_lost(&mut self) {
        let waiting: Vec<TxId> = self
            .clients
            .iter()
            .filter(|(_, c)| match c {
                Client::Invite(c) => c.awaiting_final(),
                Client::NonInvite(c) => c.awaiting_final(),
            })
            .map(|(id, _)| *id)
            .collect();
        for id in waiting {
            self.events.push_back(TxEvent::TransportError { tx: id });
        }
        self.clients.clear();
        self.client_index.clear();
        self.servers.clear();
        self.server_index.clear();
        self.out.clear();
    }

    /// Run every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        let mut ctx = Ctx { now, reliable: self.reliable, timers: self.timers, out: &mut self.out };
        for (id, c) in self.clients.iter_mut() {
            let timed_out = match c {
                Client::Invite(c) => c.on_timer(&mut ctx),
                Client::NonInvite(c) => c.on_timer(&mut ctx),
            };
            if timed_out {
                self.events.push_back(TxEvent::Timeout { tx: *id });
            }
        }
        for (id, s) in self.servers.iter_mut() {
            let ack_timeout = match s {
                Server::Invite(s) => s.on_timer(&mut ctx),
                Server::NonInvite(s) => {
                    s.on_timer(&mut ctx);
                    false
                }
            };
            if ack_timeout {
                self.events.push_back(TxEvent::AckTimeout { tx: *id });
            }
        }
        self.reap();
    }

    /// Earliest timer of any transaction.
    /// The RFC 3261 timer values this layer runs with.
    pub fn timers(&self) -> TimerConfig {
        self.timers
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        let c = self.clients.values().filter_map(|c| match c {
            Client::Invite(c) => c.deadline(),
            Client::NonInvite(c) => c.deadline(),
        });
        let s = self.servers.values().filter_map(|s| match s {
            Server::Invite(s) => s.deadline(),
            Server::NonInvite(s) => s.deadline(),
        });
        c.chain(s).min()
    }

    fn reap(&mut self) {
        let dead: Vec<TxId> = self
            .clients
            .iter()
            .filter(|(_, c)| match c {
                Client::Invite(c) => c.terminated(),
                Client::NonInvite(c) => c.terminated(),
            })
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            self.clients.remove(&id);
            self.client_index.retain(|_, v| *v != id);
        }
        let dead: Vec<TxId> = self
            .servers
            .iter()
            .filter(|(_, s)| match s {
                Server::Invite(s) => s.terminated(),
                Server::NonInvite(s) => s.terminated(),
            })
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            self.servers.remove(&id);
            self.server_index.retain(|_, v| *v != id);
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<TxEvent> {
        self.events.pop_front()
    }

    /// Number of live transactions (client, server), for limits and tests.
    pub fn counts(&self) -> (usize, usize) {
        (self.clients.len(), self.servers.len())
    }
}
