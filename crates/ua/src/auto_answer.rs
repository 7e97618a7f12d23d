//! Server-requested automatic answer, in every dialect seen in the field:
//!
//! - BroadSoft / Snom / Cisco: `Call-Info: <uri>;answer-after=N` (also `answerAfter`, and the
//!   URI may be missing: `Call-Info: ;answer-after=0`)
//! - Polycom / Yealink / Grandstream: `Alert-Info: <uri>;info=alert-autoanswer`,
//!   `Alert-Info: info=alert-autoanswer`, `Alert-Info: Auto Answer`, `Alert-Info: ;info=auto answer`,
//!   optionally with `;answer-after=N` or `;delay=N`
//! - RFC 5373: `Answer-Mode: Auto` / `Priv-Answer-Mode: Auto`, with `;require` semantics
//!
//! The user's policy decides whether such requests are honoured: `never` (the default: through a
//! proxy a caller's own headers arrive unchanged, so honouring them is opt-in), `headers`, `always`.

use crate::message::{split_list, Headers};

/// The user's auto-answer policy (`settings.autoAnswer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Answer automatically when the server asks for it.
    Headers,
    /// Answer every call automatically.
    Always,
    /// Never answer automatically: calls ring.
    Never,
}

impl Policy {
    pub fn from_setting(s: &str) -> Policy {
        match s {
            "always" => Policy::Always,
            "headers" => Policy::Headers,
            // Server control of the phone is something the user turns on: anything else rings.
            _ => Policy::Never,
        }
    }
}

/// What to do with an incoming INVITE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Ring and wait for the user (or a remote `talk`).
    Ring,
    /// Answer automatically after `delay_ms`; `answer_mode` is the header to echo in the 200
    /// (RFC 5373 §6: `Answer-Mode: Auto` / `Priv-Answer-Mode: Auto`).
    Auto { delay_ms: u64, dialect: &'static str, answer_mode: Option<(&'static str, &'static str)> },
    /// RFC 5373 `;require` that we cannot honour: refuse the INVITE with this status.
    Refuse { status: u16, reason: &'static str },
}

/// The longest delay we accept from a header (a typo must not leave a call ringing for hours).
const MAX_DELAY_MS: u64 = 60_000;

/// One `;name=value` parameter of a header element, case-insensitive, quotes removed.
fn param<'a>(element: &'a str, names: &[&str]) -> Option<&'a str> {
    element.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        names.iter().any(|n| k.trim().eq_ignore_ascii_case(n)).then(|| v.trim().trim_matches('"'))
    })
}

fn seconds(v: &str) -> Option<u64> {
    let v = v.trim();
    let n: u64 = v.parse().ok()?;
    Some((n * 1000).min(MAX_DELAY_MS))
}

/// What the request asks for, ignoring the policy: `(delay_ms, dialect)`.
fn requested(headers: &Headers) -> Option<(u64, &'static str)> {
    for v in headers.get_all("Call-Info").iter().flat_map(|v| split_list(v)) {
        if let Some(d) = param(&v, &["answer-after", "answerafter"]) {
            return Some((seconds(d).unwrap_or(0), "call-info"));
        }
    }
    for v in headers.get_all("Alert-Info").iter().flat_map(|v| split_list(v)) {
        let lower = v.to_ascii_lowercase();
        // Everything outside the <uri>: a URI may legitimately contain these words.
        let outside = match (lower.find('<'), lower.find('>')) {
            (Some(a), Some(b)) if b > a => format!("{}{}", &lower[..a], &lower[b + 1..]),
            _ => lower.clone(),
        };
        let auto = ["alert-autoanswer", "autoanswer", "auto answer", "auto-answer"].iter().any(|w| outside.contains(w));
        let delay = param(&v, &["answer-after", "answerafter", "delay"]).and_then(seconds);
        if auto || delay.is_some() {
            return Some((delay.unwrap_or(0), "alert-info"));
        }
    }
    None
}

/// RFC 5373: (mode is Auto, require) for `Answer-Mode` then `Priv-Answer-Mode`.
fn answer_mode(headers: &Headers, name: &str) -> Option<(bool, bool)> {
    let v = headers.get(name)?;
    let mode = v.split(';').next().unwrap_or("").trim();
    let require = v.split(';').skip(1).any(|p| p.trim().eq_ignore_ascii_case("require"));
    Some((mode.eq_ignore_ascii_case("auto"), require))
}

/// Decide for an incoming INVITE's headers. `default_delay_ms` is the user's configured delay,
/// used when the request names none (and for `always`).
pub fn decide(headers: &Headers, policy: Policy, default_delay_ms: u64) -> Decision {
    let priv_mode = answer_mode(headers, "Priv-Answer-Mode");
    let mode = answer_mode(headers, "Answer-Mode");
    // RFC 5373 §5: Priv-Answer-Mode takes precedence over Answer-Mode.
    let rfc5373 = priv_mode.map(|m| (m, "Priv-Answer-Mode")).or(mode.map(|m| (m, "Answer-Mode")));
    if let Some(((auto, require), header)) = rfc5373 {
        let echo = Some((header, "Auto"));
        if auto {
            if policy == Policy::Never {
                // §7.1: an Auto request with `require` that we will not honour is refused.
                return if require { Decision::Refuse { status: 403, reason: "Forbidden" } } else { Decision::Ring };
            }
            return Decision::Auto {
                delay_ms: default_delay_ms.min(MAX_DELAY_MS),
                dialect: "answer-mode",
                answer_mode: echo,
            };
        }
        // Manual: never answer automatically; with `require` not even under `always`.
        if require || policy != Policy::Always {
            return Decision::Ring;
        }
    }
    match (policy, requested(headers)) {
        (Policy::Never, _) => Decision::Ring,
        (_, Some((delay, dialect))) => {
            Decision::Auto { delay_ms: delay.max(default_delay_ms).min(MAX_DELAY_MS), dialect, answer_mode: None }
        }
        (Policy::Always, None) => {
            Decision::Auto { delay_ms: default_delay_ms.min(MAX_DELAY_MS), dialect: "policy", answer_mode: None }
        }
        (Policy::Headers, None) => Decision::Ring,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(lines: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in lines {
            h.push(n, *v);
        }
        h
    }

    fn delay(d: Decision) -> Option<u64> {
        match d {
            Decision::Auto { delay_ms, .. } => Some(delay_ms),
            _ => None,
        }
    }

    #[test]
    fn dialects() {
        let p = Policy::Headers;
        assert_eq!(delay(decide(&h(&[("Call-Info", "<sip:127.0.0.1>;answer-after=0")]), p, 0)), Some(0));
        assert_eq!(delay(decide(&h(&[("Call-Info", "<sip:127.0.0.1>;answer-after=2")]), p, 0)), Some(2000));
        assert_eq!(delay(decide(&h(&[("Call-Info", "<sip:x>;answerAfter=1")]), p, 0)), Some(1000));
        assert_eq!(delay(decide(&h(&[("Call-Info", ";answer-after=3")]), p, 0)), Some(3000));
        assert_eq!(delay(decide(&h(&[("Alert-Info", "<http://127.0.0.1>;info=alert-autoanswer")]), p, 0)), Some(0));
        assert_eq!(delay(decide(&h(&[("Alert-Info", "info=alert-autoanswer")]), p, 0)), Some(0));
        assert_eq!(delay(decide(&h(&[("Alert-Info", "Auto Answer")]), p, 0)), Some(0));
        assert_eq!(delay(decide(&h(&[("Alert-Info", ";info=auto answer")]), p, 0)), Some(0));
        assert_eq!(delay(decide(&h(&[("Alert-Info", "<http://x>;info=alert-autoanswer;delay=2")]), p, 0)), Some(2000));
        assert_eq!(delay(decide(&h(&[("Alert-Info", "<http://x>;answer-after=1")]), p, 0)), Some(1000));
        assert_eq!(delay(decide(&h(&[("Answer-Mode", "Auto")]), p, 0)), Some(0));
        assert_eq!(delay(decide(&h(&[("Priv-Answer-Mode", "auto;require")]), p, 0)), Some(0));
        // A ringtone URI that merely contains the words is not a request.
        assert_eq!(decide(&h(&[("Alert-Info", "<http://x/autoanswer.wav>")]), p, 0), Decision::Ring);
        assert_eq!(decide(&h(&[("Call-Info", "<http://x/photo.jpg>;purpose=icon")]), p, 0), Decision::Ring);
        assert_eq!(decide(&h(&[]), p, 0), Decision::Ring);
    }

    #[test]
    fn policies_and_rfc5373_require() {
        let ci = [("Call-Info", "<sip:x>;answer-after=0")];
        assert_eq!(decide(&h(&ci), Policy::Never, 0), Decision::Ring);
        assert_eq!(delay(decide(&h(&[]), Policy::Always, 1500)), Some(1500));
        assert_eq!(
            decide(&h(&[("Answer-Mode", "Auto;require")]), Policy::Never, 0),
            Decision::Refuse { status: 403, reason: "Forbidden" }
        );
        assert_eq!(decide(&h(&[("Answer-Mode", "Auto")]), Policy::Never, 0), Decision::Ring);
        assert_eq!(decide(&h(&[("Answer-Mode", "Manual;require")]), Policy::Always, 0), Decision::Ring);
        assert_eq!(delay(decide(&h(&[("Answer-Mode", "Manual")]), Policy::Always, 0)), Some(0));
        match decide(&h(&[("Answer-Mode", "Auto")]), Policy::Headers, 0) {
            Decision::Auto { answer_mode, .. } => {
                assert_eq!(answer_mode, Some(("Answer-Mode", "Auto")))
            }
            d => panic!("{d:?}"),
        }
        // Absurd delays are capped.
        assert_eq!(delay(decide(&h(&[("Call-Info", "<sip:x>;answer-after=99999")]), Policy::Headers, 0)), Some(60_000));
    }
}
