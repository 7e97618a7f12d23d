//! "Test connection": one OPTIONS request to the server over a fresh WebSocket, to tell the user
//! whether the address speaks SIP, before (or without) registering.

use crate::config::ServerUrl;
use crate::message::{self, Headers, Message, Method, Request};
use crate::rand::Rng;

/// The OPTIONS request to send once the probe socket is open.
pub fn options_request(server: &ServerUrl, rng: &mut Rng) -> (Request, String) {
    let host = format!("{}.invalid", rng.token(12));
    let call_id = rng.token(22);
    let domain = if server.host.contains(':') { format!("[{}]", server.host) } else { server.host.clone() };
    let transport = if server.secure { "WSS" } else { "WS" };
    let mut h = Headers::new();
    h.push("Via", format!("SIP/2.0/{transport} {host};branch={};rport", rng.branch()));
    h.push("Max-Forwards", "70");
    h.push("To", format!("<sip:{domain}>"));
    h.push("From", format!("<sip:probe@{domain}>;tag={}", rng.token(10)));
    h.push("Call-ID", call_id.clone());
    h.push("CSeq", "1 OPTIONS");
    h.push("Accept", "application/sdp");
    h.push("User-Agent", crate::USER_AGENT);
    (Request { method: Method::Options, uri: format!("sip:{domain}"), headers: h, body: Vec::new() }, call_id)
}

/// If `bytes` is the response to the probe with `call_id`, its status line (`"200 OK"`).
pub fn answer(bytes: &[u8], call_id: &str) -> Option<String> {
    match message::parse(bytes).ok()? {
        Message::Response(r) if r.headers.call_id() == Some(call_id) && r.status >= 200 => {
            Some(format!("{} {}", r.status, r.reason))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_its_answer() {
        let server = ServerUrl::parse("wss://pbx.example.com:8089/ws").unwrap();
        let (req, call_id) = options_request(&server, &mut Rng::new(1));
        let bytes = req.to_bytes();
        let Message::Request(parsed) = message::parse(&bytes).unwrap() else { panic!() };
        let resp = crate::message::Response::for_request(&parsed, 407, "Proxy Authentication Required", Some("x"));
        assert_eq!(answer(&resp.to_bytes(), &call_id).as_deref(), Some("407 Proxy Authentication Required"));
        assert_eq!(answer(&resp.to_bytes(), "other"), None);
        assert_eq!(answer(b"garbage", &call_id), None);
    }
}
