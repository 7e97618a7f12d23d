//! Calls as the host and the Command API see them, and the media requests a call makes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Direction of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Outgoing,
    Incoming,
}

/// Call state (DESIGN.md "Public interfaces").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    /// Outgoing: preparing the offer / INVITE sent, no ringing yet.
    Dialing,
    /// Outgoing: the far end rings (180). Incoming: ringing here, waiting for `answer`.
    Ringing,
    /// Outgoing: early media (183 with SDP).
    Early,
    Active,
    /// We put the call on hold.
    Held,
    Ended,
}

/// Why a call ended: the `endReason` of the Command API (docs/API.md), kebab-case on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// We hung up.
    LocalHangup,
    /// The far end hung up (BYE).
    RemoteHangup,
    /// The caller (or we) cancelled before an answer.
    Cancelled,
    /// We refused the incoming call.
    Rejected,
    /// The call was transferred (REFER) and ended here.
    Transferred,
    /// Another call replaced it (RFC 3891).
    Replaced,
    /// RFC 4028: the session was not refreshed in time.
    SessionExpired,
    /// The far end no longer knows the call (481).
    DialogLost,
    /// 486/600.
    Busy,
    /// 603/607.
    Declined,
    /// 404/604.
    NotFound,
    /// 480.
    Unavailable,
    /// Nobody answered in time (408, our ring timeout).
    NoAnswer,
    /// No final response at all.
    Timeout,
    /// 488/606, or no usable offer.
    IncompatibleMedia,
    /// 401/403/407 we could not answer.
    AuthFailed,
    /// The far end asked for credentials for a realm we do not trust.
    UntrustedRealm,
    /// The media side failed (ICE/DTLS, microphone, remote description).
    MediaFailed,
    /// The flow broke and the dialog was not recovered.
    ConnectionLost,
    /// Our 2xx was never acknowledged.
    NoAck,
    /// 484.
    AddressIncomplete,
    /// The far end broke the protocol (no answer where one was required, unusable 2xx).
    ProtocolError,
    /// No flow to place the call on.
    NotConnected,
    /// A 5xx final response (`server-error-503`).
    ServerError(u16),
    /// Any other final failure (`failed-<code>`).
    Failed(u16),
}

impl EndReason {
    /// The reason for a final failure response to our INVITE.
    pub fn for_status(code: u16) -> EndReason {
        match code {
            486 | 600 => EndReason::Busy,
            603 | 607 => EndReason::Declined,
            404 | 604 => EndReason::NotFound,
            480 => EndReason::Unavailable,
            408 => EndReason::NoAnswer,
            487 => EndReason::Cancelled,
            401 | 407 | 403 => EndReason::AuthFailed,
            488 | 606 => EndReason::IncompatibleMedia,
            484 => EndReason::AddressIncomplete,
            500..=599 => EndReason::ServerError(code),
            _ => EndReason::Failed(code),
        }
    }

    fn name(self) -> Option<&'static str> {
        Some(match self {
            EndReason::LocalHangup => "local-hangup",
            EndReason::RemoteHangup => "remote-hangup",
            EndReason::Cancelled => "cancelled",
            EndReason::Rejected => "rejected",
            EndReason::Transferred => "transferred",
            EndReason::Replaced => "replaced",
            EndReason::SessionExpired => "session-expired",
            EndReason::DialogLost => "dialog-lost",
            EndReason::Busy => "busy",
            EndReason::Declined => "declined",
            EndReason::NotFound => "not-found",
            EndReason::Unavailable => "unavailable",
            EndReason::NoAnswer => "no-answer",
            EndReason::Timeout => "timeout",
            EndReason::IncompatibleMedia => "incompatible-media",
            EndReason::AuthFailed => "auth-failed",
            EndReason::UntrustedRealm => "untrusted-realm",
            EndReason::MediaFailed => "media-failed",
            EndReason::ConnectionLost => "connection-lost",
            EndReason::NoAck => "no-ack",
            EndReason::AddressIncomplete => "address-incomplete",
            EndReason::ProtocolError => "protocol-error",
            EndReason::NotConnected => "not-connected",
            EndReason::ServerError(_) | EndReason::Failed(_) => return None,
        })
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self) {
            (Some(name), _) => f.write_str(name),
            (None, EndReason::ServerError(code)) => write!(f, "server-error-{code}"),
            (None, EndReason::Failed(code)) => write!(f, "failed-{code}"),
            (None, _) => Ok(()),
        }
    }
}

impl std::str::FromStr for EndReason {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let code = |rest: &str| rest.parse::<u16>().map_err(|_| ());
        Ok(match s {
            "local-hangup" => EndReason::LocalHangup,
            "remote-hangup" => EndReason::RemoteHangup,
            "cancelled" => EndReason::Cancelled,
            "rejected" => EndReason::Rejected,
            "transferred" => EndReason::Transferred,
            "replaced" => EndReason::Replaced,
            "session-expired" => EndReason::SessionExpired,
            "dialog-lost" => EndReason::DialogLost,
            "busy" => EndReason::Busy,
            "declined" => EndReason::Declined,
            "not-found" => EndReason::NotFound,
            "unavailable" => EndReason::Unavailable,
            "no-answer" => EndReason::NoAnswer,
            "timeout" => EndReason::Timeout,
            "incompatible-media" => EndReason::IncompatibleMedia,
            "auth-failed" => EndReason::AuthFailed,
            "untrusted-realm" => EndReason::UntrustedRealm,
            "media-failed" => EndReason::MediaFailed,
            "connection-lost" => EndReason::ConnectionLost,
            "no-ack" => EndReason::NoAck,
            "address-incomplete" => EndReason::AddressIncomplete,
            "protocol-error" => EndReason::ProtocolError,
            "not-connected" => EndReason::NotConnected,
            _ => match (s.strip_prefix("server-error-"), s.strip_prefix("failed-")) {
                (Some(rest), _) => EndReason::ServerError(code(rest)?),
                (_, Some(rest)) => EndReason::Failed(code(rest)?),
                _ => return Err(()),
            },
        })
    }
}

impl Serialize for EndReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EndReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(|_| serde::de::Error::custom(format!("unknown end reason {s:?}")))
    }
}

/// A call as reported in `calls` and `call` events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallInfo {
    pub id: String,
    pub direction: Direction,
    /// The far end's URI (`sip:…`).
    pub remote: String,
    /// The far end's display name, if it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_name: Option<String>,
    pub state: CallState,
    pub auto_answer: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    pub muted: bool,
}

/// What a call needs from the media side (the offscreen document). Requests that produce SDP
/// (and all others) are answered with [`crate::Input::Media`] quoting the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaOp {
    /// Create a local offer (new call, or an offer in a 200 to an INVITE without SDP).
    CreateOffer,
    /// Answer this remote offer (new call or re-INVITE/UPDATE on an existing one). A new call's
    /// answer opens the microphone.
    CreateAnswer {
        offer: String,
    },
    /// Prepare the answer to a new call's offer WITHOUT opening the microphone (a delayed
    /// automatic answer: the SDP is ready when the 200 must leave, the microphone is not open
    /// during the delay). [`MediaOp::OpenMicrophone`] follows when the 200 goes out.
    PrepareAnswer {
        offer: String,
    },
    /// As [`MediaOp::PrepareAnswer`] for an INVITE without SDP: our offer, without the microphone.
    PrepareOffer,
    /// The 200 of a call prepared without the microphone went out: open it and send it now.
    OpenMicrophone,
    /// The call was answered without a user action: announce it (the zip tone; the host also
    /// shows a notification naming the caller).
    ZipTone,
    /// Apply the far end's answer to our offer; `final_answer` false for early media (183).
    ApplyAnswer {
        answer: String,
        final_answer: bool,
    },
    /// Create a new offer on an existing call with this direction (hold/resume/ICE restart).
    Reoffer {
        direction: &'static str,
        ice_restart: bool,
    },
    /// Our re-offer was refused (491/488): roll the local description back.
    Rollback,
    /// Stop the microphone, close the peer connection.
    Close,
    StartRing,
    StopRing,
    Mute(bool),
    Dtmf(String),
}

impl MediaOp {
    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            MediaOp::CreateOffer => "offer",
            MediaOp::CreateAnswer { .. } => "answer",
            MediaOp::PrepareOffer => "offer (no microphone)",
            MediaOp::PrepareAnswer { .. } => "answer (no microphone)",
            MediaOp::OpenMicrophone => "microphone",
            MediaOp::ZipTone => "zip tone",
            MediaOp::ApplyAnswer { .. } => "remote",
            MediaOp::Reoffer { .. } => "reoffer",
            MediaOp::Rollback => "rollback",
            MediaOp::Close => "close",
            MediaOp::StartRing => "ring-start",
            MediaOp::StopRing => "ring-stop",
            MediaOp::Mute(_) => "mute",
            MediaOp::Dtmf(_) => "dtmf",
        }
    }

    /// Whether the host must answer with an SDP (`Input::Media`).
    pub fn wants_sdp(&self) -> bool {
        matches!(
            self,
            MediaOp::CreateOffer
                | MediaOp::CreateAnswer { .. }
                | MediaOp::PrepareAnswer { .. }
                | MediaOp::PrepareOffer
                | MediaOp::Reoffer { .. }
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRequest {
    pub call: String,
    pub req: u32,
    pub op: MediaOp,
}

/// Why a call command failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    NoSuchCall,
    /// A shortcut found no call to act on.
    NoCurrentCall,
    InvalidTarget(String),
    /// A `dtmf` command's digits are not DTMF digits (the text says what is wrong).
    InvalidDigits(String),
    NotConnected,
    TooManyCalls,
    /// The command does not apply in the call's current state.
    WrongState(&'static str),
}

impl CallError {
    /// The Command API's error code.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::NoSuchCall | CallError::NoCurrentCall => "no-such-call",
            CallError::InvalidTarget(_) => "invalid-target",
            CallError::InvalidDigits(_) => "invalid-digits",
            CallError::NotConnected => "not-connected",
            CallError::TooManyCalls => "too-many-calls",
            CallError::WrongState(_) => "wrong-state",
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::NoSuchCall => write!(f, "no call with that id"),
            CallError::NoCurrentCall => write!(f, "there is no call to act on"),
            CallError::InvalidTarget(t) => {
                write!(f, "cannot call {t:?}: expected a number, user@domain, sip: or tel: URI")
            }
            CallError::InvalidDigits(why) => write!(f, "{why}"),
            CallError::NotConnected => write!(f, "not connected to the SIP server"),
            CallError::TooManyCalls => write!(f, "too many calls at once"),
            CallError::WrongState(s) => write!(f, "{s}"),
        }
    }
}

/// Normalise what a user typed into a SIP URI, against the account's domain:
/// `1000` → `sip:1000@domain`; `+1 (555) 010-0000` → `sip:+15550100000@domain;user=phone`;
/// `bob@example.com` → `sip:bob@example.com`; `sip:`/`sips:` URIs as they are;
/// `tel:+1-555-0100` → `sip:+15550100@domain;user=phone`.
pub fn normalize_target(input: &str, domain: &str) -> Result<String, CallError> {
    let bad = || CallError::InvalidTarget(input.chars().take(100).collect());
    let t = input.trim();
    if t.is_empty() || t.len() > 256 || t.chars().any(|c| c.is_control()) {
        return Err(bad());
    }
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        let uri = crate::message::SipUri::parse(t).map_err(|_| bad())?;
        if uri.host.is_empty() {
            return Err(bad());
        }
        return Ok(uri.to_string());
    }
    let phone = |s: &str| -> Option<String> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        let body = digits.strip_prefix('+').unwrap_or(&digits);
        (!body.is_empty() && body.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#')).then_some(digits)
    };
    if let Some(rest) = lower.strip_prefix("tel:") {
        let num = rest.split(';').next().unwrap_or("");
        let n = phone(num).ok_or_else(bad)?;
        return Ok(format!("sip:{}@{domain};user=phone", n.replace('#', "%23")));
    }
    if let Some((user, host)) = t.split_once('@') {
        let uri = format!("sip:{user}@{host}");
        let parsed = crate::message::SipUri::parse(&uri).map_err(|_| bad())?;
        return Ok(parsed.to_string());
    }
    if let Some(n) = phone(t) {
        let n = n.replace('#', "%23");
        return Ok(if n.starts_with('+') {
            format!("sip:{n}@{domain};user=phone")
        } else {
            format!("sip:{n}@{domain}")
        });
    }
    // A user name (letters allowed, e.g. "bob").
    let uri = format!("sip:{t}@{domain}");
    crate::message::SipUri::parse(&uri).map(|u| u.to_string()).map_err(|_| bad())
}

/// The dial target in a link (`tel:`, `sip:`, `sips:`, `callto:`), or `None` for other links.
pub fn target_from_link(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let decoded = |s: &str| -> String {
        // Minimal percent-decoding of what appears in phone links (%20, %2B, ...).
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    if lower.starts_with("tel:") || lower.starts_with("sip:") || lower.starts_with("sips:") {
        return Some(decoded(url));
    }
    lower.starts_with("callto:").then(|| decoded(&url[7..]).trim_start_matches("//").to_string())
}

/// The media direction of the first audio section of an SDP (session-level default sendrecv).
pub(crate) fn sdp_direction(sdp: &str) -> &'static str {
    let mut dir = "sendrecv";
    let mut in_audio = false;
    for line in sdp.lines() {
        let line = line.trim();
        if line.starts_with("m=") {
            if in_audio {
                break;
            }
            in_audio = line.starts_with("m=audio");
            continue;
        }
        let d = match line {
            "a=sendonly" => "sendonly",
            "a=recvonly" => "recvonly",
            "a=inactive" => "inactive",
            "a=sendrecv" => "sendrecv",
            _ => continue,
        };
        dir = d;
    }
    dir
}

/// The `o=` line's username, session id and version: per RFC 3264 §8 a description whose version
/// did not change is the same description (whatever a media relay did to its other lines).
pub(crate) fn sdp_origin(sdp: &str) -> Option<(&str, &str, &str)> {
    let o = sdp.lines().find_map(|l| l.trim().strip_prefix("o="))?;
    let mut f = o.split_whitespace();
    Some((f.next()?, f.next()?, f.next()?))
}

/// Whether two SDPs describe the same session with the same content, the `o=` version aside
/// (RFC 3264 §8: a description that did not change keeps its version). Line endings and blank
/// lines do not count.
pub(crate) fn same_session(a: &str, b: &str) -> bool {
    fn lines(sdp: &str) -> impl Iterator<Item = String> + '_ {
        sdp.lines().map(str::trim_end).filter(|l| !l.is_empty()).map(|l| match l.strip_prefix("o=") {
            // username sess-id sess-version nettype addrtype address: all but the version
            Some(o) => {
                o.split_whitespace().enumerate().filter(|(i, _)| *i != 2).map(|(_, f)| f).collect::<Vec<_>>().join(" ")
            }
            None => l.to_string(),
        })
    }
    lines(a).eq(lines(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_session_ignores_only_the_origin_version() {
        let a = "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=sendrecv\r\n";
        assert!(same_session(a, &a.replace(" 42 2 ", " 42 3 ")));
        assert!(same_session(a, &a.replace("\r\n", "\n")));
        assert!(!same_session(a, &a.replace(" 42 2 ", " 43 2 ")), "another session id is another session");
        assert!(!same_session(a, &a.replace("sendrecv", "sendonly")));
        assert!(!same_session(a, &a.replace("a=sendrecv\r\n", "")));
        assert_eq!(sdp_origin(a), Some(("-", "42", "2")));
        assert_eq!(sdp_origin("v=0\r\no=- 42\r\n"), None);
    }

    #[test]
    fn targets() {
        let d = "example.com";
        assert_eq!(normalize_target("1000", d).unwrap(), "sip:1000@example.com");
        assert_eq!(normalize_target(" +1 (555) 010-0000 ", d).unwrap(), "sip:+15550100000@example.com;user=phone");
        assert_eq!(normalize_target("bob@other.org", d).unwrap(), "sip:bob@other.org");
        assert_eq!(
            normalize_target("sip:bob@other.org:5080;transport=tcp", d).unwrap(),
            "sip:bob@other.org:5080;transport=tcp"
        );
        assert_eq!(normalize_target("tel:+1-555-0100", d).unwrap(), "sip:+15550100@example.com;user=phone");
        assert_eq!(normalize_target("bob", d).unwrap(), "sip:bob@example.com");
        assert_eq!(target_from_link("tel:+1%20555%200100").as_deref(), Some("tel:+1 555 0100"));
        assert_eq!(target_from_link("sip:bob@example.com").as_deref(), Some("sip:bob@example.com"));
        assert_eq!(target_from_link("callto://1000").as_deref(), Some("1000"));
        assert_eq!(target_from_link("https://example.com"), None);
        assert_eq!(target_from_link("tel:%"), Some("tel:%".into()));
        for bad in ["", "   ", "sip:", "tel:abc", "a\r\nb", "x@", "sip:@"] {
            assert!(normalize_target(bad, d).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn directions() {
        assert_eq!(sdp_direction("v=0\r\nm=audio 1 RTP/AVP 0\r\na=sendonly\r\n"), "sendonly");
        assert_eq!(sdp_direction("v=0\r\na=inactive\r\nm=audio 1 RTP/AVP 0\r\n"), "inactive");
        assert_eq!(sdp_direction("v=0\r\nm=audio 1 RTP/AVP 0\r\n"), "sendrecv");
    }
}
