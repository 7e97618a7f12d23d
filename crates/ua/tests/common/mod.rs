//! Shared harness: a simulated clock driving one `UserAgent`, and a scripted registrar that
//! checks digest responses with its own (independent) hash code.
#![allow(dead_code)]

use ferrophone_ua::config::{Account, AccountRecord, Settings};
use ferrophone_ua::identity::Identity;
use ferrophone_ua::message::{self, Message, Request, Response};
use ferrophone_ua::{Event, Input, Output, RegistrationState, Status, UserAgent};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub fn account(server: &str, user: &str, password: &str) -> Account {
    let rec: AccountRecord = serde_json::from_value(serde_json::json!({
        "version": 1, "server": server, "username": user, "password": password,
    }))
    .unwrap();
    Account::from_record(&rec, None).unwrap()
}

/// The UA plus everything it produced, with a clock that only moves when told.
pub struct Sim {
    pub ua: UserAgent,
    pub now: u64,
    pub deadline: Option<u64>,
    /// Every SIP message sent (keep-alives excluded), parsed.
    pub sent: Vec<Message>,
    /// Raw non-SIP frames sent (keep-alive CRLFs).
    pub keepalives: Vec<u64>,
    pub connects: Vec<(u64, String)>,
    pub closes: Vec<u64>,
    pub statuses: Vec<Status>,
    pub identities: Vec<Identity>,
    pub logs: Vec<String>,
    pub media: Vec<ferrophone_ua::call::MediaRequest>,
    pub call_events: Vec<ferrophone_ua::call::CallInfo>,
    pub dtmf: Vec<(String, char)>,
    pub transfers: Vec<ferrophone_ua::TransferProgress>,
    /// Index into `sent` of the first message not yet taken by `take_sent`.
    cursor: usize,
    pub connected: bool,
}

impl Sim {
    pub fn new(seed: u64, identity: Option<Identity>) -> Sim {
        let mut s = Sim {
            ua: UserAgent::new(seed, identity),
            now: 1_000_000,
            deadline: None,
            sent: vec![],
            keepalives: vec![],
            connects: vec![],
            closes: vec![],
            statuses: vec![],
            identities: vec![],
            logs: vec![],
            media: vec![],
            call_events: vec![],
            dtmf: vec![],
            transfers: vec![],
            cursor: 0,
            connected: false,
        };
        s.pump();
        s
    }

    pub fn input(&mut self, i: Input) {
        self.ua.handle_input(self.now, i);
        self.pump();
    }

    pub fn configure(&mut self, account: Account, settings: Settings) {
        self.input(Input::Configure { account: Some(account), settings });
    }

    pub fn pump(&mut self) {
        loop {
            match self.ua.poll_output() {
                Output::Connect { url } => {
                    self.connects.push((self.now, url));
                    self.connected = false;
                }
                Output::Send(bytes) => {
                    if bytes.iter().all(|b| *b == b'\r' || *b == b'\n') {
                        self.keepalives.push(self.now);
                    } else {
                        let m = message::parse(&bytes).unwrap_or_else(|e| {
                            panic!("UA sent an unparseable message ({e}):\n{}", String::from_utf8_lossy(&bytes))
                        });
                        self.sent.push(m);
                    }
                }
                Output::Close => {
                    self.closes.push(self.now);
                    if self.connected {
                        self.connected = false;
                        self.ua.handle_input(self.now, Input::Disconnected { reason: "closed".into() });
                    }
                }
                Output::Event(Event::Status(s)) => self.statuses.push(s),
                Output::Event(Event::IdentityChanged(id)) => self.identities.push(id),
                Output::Event(Event::Log(l)) => self.logs.push(l),
                Output::Event(Event::Call(c)) => self.call_events.push(c),
                Output::Event(Event::Media(m)) => self.media.push(m),
                Output::Event(Event::Dtmf { call, digit }) => self.dtmf.push((call, digit)),
                Output::Event(Event::Transfer(t)) => self.transfers.push(t),
                Output::Timeout(d) => {
                    self.deadline = d;
                    break;
                }
            }
        }
    }

    /// The WebSocket opens.
    pub fn open(&mut self) {
        self.connected = true;
        self.input(Input::Connected);
    }

    /// The WebSocket drops.
    pub fn drop_flow(&mut self) {
        self.connected = false;
        self.input(Input::Disconnected { reason: "test".into() });
    }

    /// Deliver bytes from the server.
    pub fn deliver(&mut self, bytes: &[u8]) {
        self.input(Input::Received(bytes.to_vec()));
    }

    pub fn deliver_response(&mut self, r: &Response) {
        self.deliver(&r.to_bytes());
    }

    /// Advance the clock by `ms`, firing every deadline on the way (the host's run loop).
    pub fn advance(&mut self, ms: u64) {
        let target = self.now + ms;
        while let Some(d) = self.deadline {
            if d > target {
                break;
            }
            self.now = self.now.max(d);
            self.ua.handle_timeout(self.now);
            self.pump();
        }
        self.now = target;
    }

    /// Messages sent since the last call.
    pub fn take_sent(&mut self) -> Vec<Message> {
        let v = self.sent[self.cursor..].to_vec();
        self.cursor = self.sent.len();
        v
    }

    /// The only request sent since the last call (panics otherwise).
    pub fn take_request(&mut self) -> Request {
        let mut v = self.take_sent();
        assert_eq!(v.len(), 1, "expected exactly one message, got {v:#?}");
        match v.remove(0) {
            Message::Request(r) => r,
            other => panic!("expected a request, got {other:#?}"),
        }
    }

    pub fn state(&self) -> RegistrationState {
        self.ua.status(self.now).registration.state
    }

    /// The last request sent with this method (owned).
    pub fn last_request(&self, method: &str) -> Request {
        (*self.requests_with_method(method).last().expect("no such request")).clone()
    }

    pub fn requests_with_method(&self, method: &str) -> Vec<&Request> {
        self.sent
            .iter()
            .filter_map(|m| match m {
                Message::Request(r) if r.method.as_str() == method => Some(r),
                _ => None,
            })
            .collect()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Test-side digest hash, written independently of `ferrophone_ua::auth`.
fn h(alg: &str, s: &str) -> String {
    match alg {
        "SHA-256" => hex(&Sha256::digest(s.as_bytes())),
        _ => hex(&Md5::digest(s.as_bytes())),
    }
}

/// Parse `Digest a="b", c=d` into a map (test side).
pub fn digest_params(v: &str) -> HashMap<String, String> {
    let rest = v.trim().strip_prefix("Digest").unwrap_or(v).trim();
    let mut out = HashMap::new();
    let mut cur = String::new();
    let mut in_q = false;
    let mut parts = vec![];
    for c in rest.chars() {
        match c {
            '"' => {
                in_q = !in_q;
                cur.push(c)
            }
            ',' if !in_q => {
                parts.push(std::mem::take(&mut cur));
            }
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    for p in parts {
        if let Some((k, v)) = p.trim().split_once('=') {
            out.insert(k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string());
        }
    }
    out
}

/// A scripted registrar with digest authentication.
pub struct Registrar {
    pub realm: String,
    pub users: HashMap<String, String>,
    /// `MD5` or `SHA-256`; `offer_both` sends an MD5 challenge too (RFC 8760 §2.4).
    pub algorithm: String,
    pub offer_both: bool,
    pub nonce_seq: u32,
    /// Nonces currently valid.
    pub valid_nonces: Vec<String>,
    /// Grant at most this many seconds.
    pub max_expires: u32,
    pub min_expires: Option<u32>,
    /// Registered contacts per AoR user: (uri, instance, expires).
    pub bindings: HashMap<String, Vec<(String, Option<String>, u32)>>,
    pub registers_seen: u32,
}

impl Registrar {
    pub fn new() -> Registrar {
        let mut users = HashMap::new();
        users.insert("alice".to_string(), "alicepw".to_string());
        Registrar {
            realm: "lab".into(),
            users,
            algorithm: "MD5".into(),
            offer_both: false,
            nonce_seq: 0,
            valid_nonces: vec![],
            max_expires: 3600,
            min_expires: None,
            bindings: HashMap::new(),
            registers_seen: 0,
        }
    }

    fn challenge(&mut self, req: &Request, stale: bool) -> Response {
        self.nonce_seq += 1;
        let nonce = format!("nonce{}", self.nonce_seq);
        self.valid_nonces.push(nonce.clone());
        let mut r = Response::for_request(req, 401, "Unauthorized", Some("srvtag"));
        let stale = if stale { ", stale=true" } else { "" };
        r.headers.push(
            "WWW-Authenticate",
            format!(
                "Digest realm=\"{}\", nonce=\"{nonce}\", qop=\"auth\", algorithm={}{stale}",
                self.realm, self.algorithm
            ),
        );
        if self.offer_both && self.algorithm != "MD5" {
            r.headers.push(
                "WWW-Authenticate",
                format!("Digest realm=\"{}\", nonce=\"{nonce}\", qop=\"auth\", algorithm=MD5", self.realm),
            );
        }
        r
    }

    /// Verify the Authorization header of `req`: Ok(user) / Err(stale?)
    fn verify(&self, req: &Request) -> Result<String, bool> {
        let Some(auth) = req.headers.get("Authorization") else {
            return Err(false);
        };
        let p = digest_params(auth);
        let user = p.get("username").cloned().unwrap_or_default();
        let Some(pw) = self.users.get(&user) else {
            return Err(false);
        };
        let alg = p.get("algorithm").cloned().unwrap_or_else(|| "MD5".into());
        let nonce = p.get("nonce").cloned().unwrap_or_default();
        let ha1 = h(&alg, &format!("{user}:{}:{pw}", self.realm));
        let ha2 = h(&alg, &format!("{}:{}", req.method.as_str(), p.get("uri").cloned().unwrap_or_default()));
        let expected = h(
            &alg,
            &format!(
                "{ha1}:{nonce}:{}:{}:auth:{ha2}",
                p.get("nc").cloned().unwrap_or_default(),
                p.get("cnonce").cloned().unwrap_or_default()
            ),
        );
        if p.get("response") != Some(&expected) {
            return Err(false);
        }
        if alg != self.algorithm && !(self.offer_both && alg == "MD5") {
            return Err(false);
        }
        if !self.valid_nonces.contains(&nonce) {
            return Err(true);
        }
        Ok(user)
    }

    /// Handle one REGISTER the way a registrar does.
    pub fn handle(&mut self, req: &Request) -> Response {
        self.registers_seen += 1;
        let user = match self.verify(req) {
            Ok(u) => u,
            Err(stale) => return self.challenge(req, stale),
        };
        let contacts = req.headers.contacts();
        let header_expires = req.headers.get("Expires").and_then(|v| v.parse::<u32>().ok()).unwrap_or(3600);
        let list = self.bindings.entry(user.clone()).or_default();
        for c in &contacts {
            let exp = c.params.get("expires").and_then(|v| v.parse::<u32>().ok()).unwrap_or(header_expires);
            if exp > 0 {
                if let Some(min) = self.min_expires {
                    if exp < min {
                        let mut r = Response::for_request(req, 423, "Interval Too Brief", Some("srvtag"));
                        r.headers.push("Min-Expires", min.to_string());
                        return r;
                    }
                }
            }
            let inst = c.params.get("+sip.instance").map(str::to_string);
            list.retain(|(u, i, _)| !(u == &c.uri || (inst.is_some() && i == &inst)));
            if exp > 0 {
                list.push((c.uri.clone(), inst, exp.min(self.max_expires)));
            }
        }
        let mut r = Response::for_request(req, 200, "OK", Some("srvtag"));
        for (uri, inst, exp) in list.iter() {
            let inst = inst.as_ref().map(|i| format!(";+sip.instance=\"{i}\"")).unwrap_or_default();
            r.headers.push("Contact", format!("<{uri}>;expires={exp}{inst}"));
        }
        r
    }
}

/// Drive registration to completion through `reg`, answering every REGISTER the UA sends.
pub fn serve_registers(sim: &mut Sim, reg: &mut Registrar) {
    for _ in 0..10 {
        let msgs = sim.take_sent();
        if msgs.is_empty() {
            return;
        }
        for m in msgs {
            if let Message::Request(req) = m {
                if req.method.as_str() == "REGISTER" {
                    let resp = reg.handle(&req);
                    sim.deliver_response(&resp);
                }
            }
        }
    }
}

/// A registered UA (alice, MD5) at `now`.
pub fn registered_sim(seed: u64) -> (Sim, Registrar) {
    registered_sim_with(seed, Settings::default())
}

/// As `registered_sim`, with these settings.
pub fn registered_sim_with(seed: u64, settings: Settings) -> (Sim, Registrar) {
    let mut sim = Sim::new(seed, None);
    let mut reg = Registrar::new();
    sim.configure(account("wss://sip.example.com/ws", "alice", "alicepw"), settings);
    sim.open();
    serve_registers(&mut sim, &mut reg);
    assert_eq!(sim.state(), RegistrationState::Registered);
    (sim, reg)
}

// ------------------------------------------------------------------ calls

use ferrophone_ua::call::{MediaOp, MediaRequest};

pub const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n";
pub const ANSWER: &str = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n";

impl Sim {
    /// Media requests emitted so far (all of them, in order).
    pub fn media_requests(&self) -> Vec<MediaRequest> {
        self.media.clone()
    }

    /// Report `request`'s outcome to the core, as the host does for every media request.
    pub fn media_done(&mut self, request: &MediaRequest, result: Result<Option<String>, String>) {
        let media = ferrophone_ua::MediaResult::Done { request: request.clone(), result };
        self.ua.handle_input(self.now, Input::Media(media));
        self.pump();
    }

    /// The last media request that wants SDP, answered with `sdp`.
    pub fn answer_media(&mut self, sdp: &str) -> MediaRequest {
        let m = self.media.iter().rev().find(|m| m.op.wants_sdp()).cloned().expect("no SDP request");
        self.media_done(&m, Ok(Some(sdp.to_string())));
        m
    }

    pub fn has_media_op(&self, call: &str, pred: impl Fn(&MediaOp) -> bool) -> bool {
        self.media.iter().any(|m| m.call == call && pred(&m.op))
    }

    /// Responses sent since the last `take_*` call.
    pub fn take_responses(&mut self) -> Vec<Response> {
        self.take_sent()
            .into_iter()
            .filter_map(|m| match m {
                Message::Response(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// The last response sent since the last `take_*` call (panics if none).
    pub fn last_response(&mut self) -> Response {
        self.take_responses().pop().expect("a response")
    }

    pub fn last_call_event(&self) -> ferrophone_ua::call::CallInfo {
        self.call_events.last().cloned().expect("no call event")
    }
}

/// A response to `req` with SDP body.
pub fn response_with_sdp(req: &Request, code: u16, reason: &str, tag: &str, sdp: Option<&str>) -> Response {
    let mut r = Response::for_request(req, code, reason, Some(tag));
    r.headers.push("Contact", "<sip:bob@10.0.0.2:5062;transport=udp>");
    if let Some(s) = sdp {
        r.headers.push("Content-Type", "application/sdp");
        r.body = s.as_bytes().to_vec();
    }
    r
}

/// An incoming INVITE as Kamailio would relay it to us.
pub fn incoming_invite(branch: &str, call_id: &str, sdp: Option<&str>, extra: &str) -> Vec<u8> {
    let body = sdp.unwrap_or("");
    let ct = if sdp.is_some() { "Content-Type: application/sdp\r\n" } else { "" };
    format!(
        "INVITE sip:alice@abc.invalid;transport=ws;ob SIP/2.0\r\n\
         Record-Route: <sip:127.0.0.1;transport=ws;r2=on;lr>\r\n\
         Record-Route: <sip:127.0.0.1;r2=on;lr>\r\n\
         Via: SIP/2.0/WSS 127.0.0.1:8443;branch={branch}\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKbob{branch};rport\r\n\
         Max-Forwards: 69\r\n\
         From: \"Bob\" <sip:bob@127.0.0.1>;tag=bobtag\r\n\
         To: <sip:alice@127.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 10 INVITE\r\n\
         Contact: <sip:bob@127.0.0.1:5062>\r\n\
         {extra}{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A request from the far end inside the dialog of an incoming call (To tag = ours).
pub fn in_dialog_from_bob(
    method: &str,
    call_id: &str,
    our_tag: &str,
    cseq: u32,
    branch: &str,
    sdp: Option<&str>,
) -> Vec<u8> {
    let body = sdp.unwrap_or("");
    let ct = if sdp.is_some() { "Content-Type: application/sdp\r\n" } else { "" };
    format!(
        "{method} sip:alice@abc.invalid;transport=ws;ob SIP/2.0\r\n\
         Via: SIP/2.0/WSS 127.0.0.1:8443;branch={branch}\r\n\
         Max-Forwards: 69\r\n\
         From: \"Bob\" <sip:bob@127.0.0.1>;tag=bobtag\r\n\
         To: <sip:alice@127.0.0.1>;tag={our_tag}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:bob@127.0.0.1:5062>\r\n\
         {ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An incoming call from bob (`call_id`, INVITE with `extra` headers) answered with ANSWER and
/// ACKed. Returns (sim, call id, our To tag).
pub fn answered_incoming(seed: u64, call_id: &str, extra: &str) -> (Sim, String, String) {
    let (mut sim, _reg) = registered_sim(seed);
    let (id, tag) = answer_incoming(&mut sim, call_id, extra);
    (sim, id, tag)
}

/// An incoming call from bob (`call_id`, INVITE with `extra` headers) answered with ANSWER: the
/// call id and our 200 OK, which nobody has ACKed yet.
pub fn answer_unacked(sim: &mut Sim, call_id: &str, extra: &str) -> (String, Response) {
    sim.take_sent();
    sim.deliver(&incoming_invite(&format!("z9hG4bK{call_id}"), call_id, Some(OFFER), extra));
    let id = sim.last_call_event().id;
    sim.ua.answer(sim.now, &id).unwrap();
    sim.pump();
    sim.answer_media(ANSWER);
    let ok = sim.take_responses().into_iter().find(|r| r.status == 200).unwrap();
    (id, ok)
}

/// As `answered_incoming`, on an existing (registered, maybe reconfigured) `sim`.
pub fn answer_incoming(sim: &mut Sim, call_id: &str, extra: &str) -> (String, String) {
    let (id, ok) = answer_unacked(sim, call_id, extra);
    let tag = ok.headers.to().unwrap().tag().unwrap().to_string();
    sim.deliver(&in_dialog_from_bob("ACK", call_id, &tag, 10, &format!("z9hG4bK{call_id}ack"), None));
    (id, tag)
}

/// Dial `target` and let the media side produce OFFER: returns (call id, the INVITE sent).
pub fn dial_out(sim: &mut Sim, target: &str) -> (String, Request) {
    let id = sim.ua.dial(sim.now, target).unwrap().id;
    sim.pump();
    sim.answer_media(OFFER);
    let invite = sim.take_request();
    (id, invite)
}

/// A registered UA with an outgoing call to bob that rings (180 with bob's tag).
pub fn ringing_out(seed: u64) -> (Sim, String, Request) {
    let (mut sim, _reg) = registered_sim(seed);
    let (id, invite) = dial_out(&mut sim, "bob");
    sim.deliver_response(&response_with_sdp(&invite, 180, "Ringing", "bobtag", None));
    (sim, id, invite)
}

impl Sim {
    /// The first request with `method` sent since the last `take_*` call (others are dropped).
    pub fn take_request_of(&mut self, method: ferrophone_ua::message::Method) -> Request {
        self.take_sent()
            .into_iter()
            .find_map(|m| match m {
                Message::Request(r) if r.method == method => Some(r),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {method} was sent"))
    }
}

/// An in-dialog NOTIFY from bob for the REFER subscription (RFC 3515) carrying the sipfrag `frag`.
pub fn notify_sipfrag(call_id: &str, tag: &str, cseq: u32, frag: &str) -> Vec<u8> {
    let base =
        String::from_utf8(in_dialog_from_bob("NOTIFY", call_id, tag, cseq, &format!("z9hG4bKnf{cseq}"), None)).unwrap();
    base.replacen(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Event: refer\r\nSubscription-State: active\r\nContent-Type: message/sipfrag;version=2.0\r\nContent-Length: {}\r\n\r\n{frag}",
            frag.len()
        ),
        1,
    )
    .into_bytes()
}

/// Two established calls: bob's incoming call (`call_id`, answered) and our call to carol (answered
/// 200 with to-tag `caroltag`). Returns (sim, bob's call id, our tag on it, carol's call id, our
/// INVITE to carol).
pub fn bob_and_carol(seed: u64, call_id: &str) -> (Sim, String, String, String, Request) {
    let (mut sim, a, tag) = answered_incoming(seed, call_id, "");
    let b = sim.ua.dial(sim.now, "carol").unwrap().id;
    sim.pump();
    sim.answer_media(OFFER);
    let invite = sim.take_request_of(message::Method::Invite);
    sim.deliver_response(&response_with_sdp(&invite, 200, "OK", "caroltag", Some(ANSWER)));
    sim.take_sent();
    (sim, a, tag, b, invite)
}
