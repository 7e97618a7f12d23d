//! Benchmark entry points for `bench/run.mjs` (node loads the shipped wasm and calls these).
//! They loop inside wasm so the JS↔wasm boundary is not what gets measured, and they drive the
//! core the way `host.rs` does, with a scripted server: REGISTER gets a 200, a CRLF ping gets a
//! pong. No I/O, no clock: time is simulated. Tiny on purpose, because they ship.

use ferrophone_ua::config::{Account, AccountRecord, Settings};
use ferrophone_ua::message::{self, Message, Response};
use ferrophone_ua::{Event, Input, Output, UserAgent};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

const ANSWER: &str = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n";

struct Bench {
    ua: UserAgent,
    now: u64,
    deadline: Option<u64>,
    /// Bytes of every SIP message the UA sent, summed (the checksum).
    sent: u32,
    /// The last SIP message the UA sent, and the call events / media requests since the last take.
    last: Vec<u8>,
    calls: Vec<String>,
    media: Vec<ferrophone_ua::call::MediaRequest>,
}

thread_local! {
    static UA: RefCell<Option<Bench>> = const { RefCell::new(None) };
}

impl Bench {
    fn new() -> Bench {
        let rec = serde_json::json!({"version": 1, "server": "wss://sip.example.com/ws", "username": "alice", "password": "bench"});
        let account =
            serde_json::from_value::<AccountRecord>(rec).ok().and_then(|r| Account::from_record(&r, None).ok());
        let mut b = Bench {
            ua: UserAgent::new(7, None),
            now: 1_000_000,
            deadline: None,
            sent: 0,
            last: Vec::new(),
            calls: Vec::new(),
            media: Vec::new(),
        };
        b.input(Input::Configure { account, settings: Settings::default() });
        b.input(Input::Connected);
        b
    }

    fn input(&mut self, input: Input) {
        self.ua.handle_input(self.now, input);
        self.pump();
    }

    /// Drain the outputs, answering what the scripted server answers, until `Timeout`.
    fn pump(&mut self) {
        let mut replies: Vec<Vec<u8>> = Vec::new();
        loop {
            match self.ua.poll_output() {
                Output::Send(bytes) if bytes.iter().all(|&c| c == b'\r' || c == b'\n') => {
                    replies.push(b"\r\n".to_vec())
                }
                Output::Send(bytes) => {
                    self.sent = self.sent.wrapping_add(bytes.len() as u32);
                    if bytes.starts_with(b"REGISTER ") {
                        if let Ok(Message::Request(req)) = message::parse(&bytes) {
                            let mut ok = Response::for_request(&req, 200, "OK", Some("reg"));
                            if let Some(contact) = req.headers.get("Contact") {
                                ok.headers.push("Contact", contact);
                            }
                            replies.push(ok.to_bytes());
                        }
                    }
                    self.last = bytes;
                }
                Output::Event(Event::Call(c)) => self.calls.push(c.id),
                Output::Event(Event::Media(m)) if m.op.wants_sdp() => self.media.push(m),
                Output::Timeout(d) => {
                    self.deadline = d;
                    if replies.is_empty() {
                        return;
                    }
                    for r in replies.drain(..) {
                        self.ua.handle_input(self.now, Input::Received(r));
                    }
                }
                _ => {}
            }
        }
    }

    /// Let `ms` of simulated time pass, firing every deadline on the way (the host's run loop).
    fn advance(&mut self, ms: u64) {
        let target = self.now + ms;
        while let Some(d) = self.deadline.filter(|&d| d <= target) {
            self.now = self.now.max(d);
            self.ua.handle_timeout(self.now);
            self.pump();
        }
        self.now = target;
    }
}

fn with_bench<R>(f: impl FnOnce(&mut Bench) -> R) -> R {
    UA.with(|cell| f(cell.borrow_mut().get_or_insert_with(Bench::new)))
}

/// Overwrite the last 8 bytes of the value after `key` (up to `;`, CR or end) with `n` in hex,
/// so that every request is a new transaction.
fn stamp(msg: &mut [u8], key: &[u8], n: u32) {
    let Some(at) = msg.windows(key.len()).position(|w| w == key) else { return };
    let start = at + key.len();
    let end = msg[start..].iter().position(|&c| c == b';' || c == b'\r').map_or(msg.len(), |e| start + e);
    if end - start < 8 {
        return;
    }
    for (i, c) in msg[end - 8..end].iter_mut().enumerate() {
        *c = b"0123456789abcdef"[((n >> (28 - 4 * i)) & 15) as usize];
    }
}

/// Parse `bytes` `iterations` times through `ferrophone_ua::message::parse`; returns a checksum
/// (header count plus body length per success) so the work cannot be optimised away.
#[wasm_bindgen]
pub fn bench_parse(bytes: &[u8], iterations: u32) -> u32 {
    let mut sum = 0u32;
    for _ in 0..iterations {
        if let Ok(m) = message::parse(bytes) {
            let body = match &m {
                Message::Request(r) => r.body.len(),
                Message::Response(r) => r.body.len(),
            };
            sum = sum.wrapping_add((m.headers().0.len() + body) as u32);
        }
    }
    sum
}

/// Feed the OPTIONS request `bytes` `iterations` times (a new branch and Call-ID each time) to a
/// configured, connected, registered `UserAgent` (one per worker, kept between calls), 1 ms of
/// simulated time apart. Returns the bytes the UA sent, summed.
#[wasm_bindgen]
pub fn bench_ua_options(bytes: &[u8], iterations: u32) -> u32 {
    with_bench(|b| {
        let before = b.sent;
        let mut msg = bytes.to_vec();
        for _ in 0..iterations {
            let n = b.now as u32;
            stamp(&mut msg, b"branch=", n);
            stamp(&mut msg, b"Call-ID: ", n);
            b.input(Input::Received(msg.clone()));
            b.advance(1);
        }
        b.sent.wrapping_sub(before)
    })
}

/// `n` incoming calls, each: INVITE with SDP → answer → (media answers) 200 → ACK → BYE → 200,
/// one second of simulated time apart. Returns the number of calls that ended cleanly.
#[wasm_bindgen]
pub fn bench_call_cycles(invite: &[u8], n: u32) -> u32 {
    with_bench(|b| {
        let mut done = 0;
        let mut msg = invite.to_vec();
        for _ in 0..n {
            let k = b.now as u32;
            stamp(&mut msg, b"branch=", k);
            stamp(&mut msg, b"Call-ID: ", k);
            b.calls.clear();
            b.input(Input::Received(msg.clone()));
            let Some(id) = b.calls.first().cloned() else { continue };
            b.media.clear();
            if b.ua.answer(b.now, &id).is_err() {
                continue;
            }
            b.pump();
            let Some(request) = b.media.pop() else { continue };
            let result = Ok(Some(ANSWER.to_string()));
            b.ua.handle_input(b.now, Input::Media(ferrophone_ua::MediaResult::Done { request, result }));
            b.pump();
            let Ok(Message::Response(ok)) = message::parse(&b.last) else { continue };
            let Some(to) = ok.headers.get("To") else { continue };
            for (method, seq) in [("ACK", "102"), ("BYE", "103")] {
                let text = format!(
                    "{method} sip:alice@df7jal23ls0d.invalid;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS 192.0.2.10:8443;branch=z9hG4bK{method}{k:08x}\r\nMax-Forwards: 69\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n",
                    ok.headers.get("From").unwrap_or_default(),
                    ok.headers.call_id().unwrap_or_default(),
                );
                b.input(Input::Received(text.into_bytes()));
            }
            if b.last.starts_with(b"SIP/2.0 200") && b.ua.calls().is_empty() {
                done += 1;
            }
            b.advance(1_000);
        }
        done
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_paths_do_what_they_say() {
        let options = include_bytes!("../../../bench/corpus/06-options.sip");
        assert!(bench_ua_options(options, 3) > 0);
        with_bench(|b| assert!(b.last.starts_with(b"SIP/2.0 200 OK\r\n"), "{}", String::from_utf8_lossy(&b.last)));
        assert_eq!(bench_call_cycles(include_bytes!("../../../bench/corpus/01-invite.sip"), 5), 5);
        for name in std::fs::read_dir("../../bench/corpus").unwrap() {
            let path = name.unwrap().path();
            if path.extension().is_some_and(|e| e == "sip") {
                assert!(bench_parse(&std::fs::read(&path).unwrap(), 1) > 0, "{path:?}");
            }
        }
    }
}
