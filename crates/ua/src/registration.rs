//! REGISTER (RFC 3261 §10) over a WebSocket flow (RFC 7118) with RFC 5626 outbound.
//!
//! The registration state reported to the user is what the server answered: `registered` only
//! after a 200 OK that lists our contact, with the expiry the server granted.

use crate::auth::{self, Challenge, Credentials};
use crate::config::Account;
use crate::identity::Identity;
use crate::message::{Headers, Method, NameAddr, Request, Response};
use crate::rand::Rng;
use crate::transaction::{Millis, TxId};
use serde::Serialize;

/// Registration state as the Command API reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationState {
    Unconfigured,
    Connecting,
    Registering,
    Registered,
    AuthFailed,
    Unreachable,
    Unregistered,
}

impl RegistrationState {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationState::Unconfigured => "unconfigured",
            RegistrationState::Connecting => "connecting",
            RegistrationState::Registering => "registering",
            RegistrationState::Registered => "registered",
            RegistrationState::AuthFailed => "auth-failed",
            RegistrationState::Unreachable => "unreachable",
            RegistrationState::Unregistered => "unregistered",
        }
    }
}

/// How many times in a row a `stale=true` challenge is retried silently.
const MAX_STALE_RETRIES: u8 = 3;
/// How many 423 (Interval Too Brief) corrections are followed per attempt.
const MAX_INTERVAL_RETRIES: u8 = 2;

/// One logical REGISTER attempt: the first request and its authentication / 423 retries.
#[derive(Debug, Clone)]
struct Attempt {
    /// 0 for an un-REGISTER.
    expires: u32,
    /// Credentials were already computed from a challenge received during this attempt.
    answered_fresh_challenge: bool,
    stale_retries: u8,
    interval_retries: u8,
}

/// What the UA must do after a REGISTER response.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Nothing yet (provisional response).
    Pending,
    /// A new REGISTER was sent (auth or 423 retry).
    Resent,
    /// 200 OK: registered until the given time (or unregistered when expires was 0).
    Registered {
        granted_secs: u32,
    },
    Unregistered,
    AuthFailed {
        reason: String,
    },
    /// Any other failure; retry after the delay if given.
    Failed {
        reason: String,
        retry_after_secs: Option<u32>,
    },
}

pub(crate) struct Registration {
    pub tx: Option<TxId>,
    attempt: Option<Attempt>,
    /// Last challenge and the nonce count used with it, reused pre-emptively for refreshes.
    cached: Option<(Challenge, u32)>,
    /// The realms the registrar challenged us with (for this account): calls may answer
    /// challenges for these with the same credentials.
    realms: Vec<String>,
    /// Expiry to ask for: the configured value, raised by 423 Min-Expires.
    pub expires: u32,
    pub registered_until: Option<Millis>,
    pub refresh_at: Option<Millis>,
}

impl Registration {
    pub fn new(expires: u32) -> Self {
        Registration {
            tx: None,
            attempt: None,
            cached: None,
            realms: Vec::new(),
            expires,
            registered_until: None,
            refresh_at: None,
        }
    }

    pub fn in_progress(&self) -> bool {
        self.tx.is_some()
    }

    /// Forget the in-flight attempt (transport lost, account changed).
    pub fn abort(&mut self) {
        self.tx = None;
        self.attempt = None;
        self.registered_until = None;
        self.refresh_at = None;
    }

    /// Drop cached credentials and the realms learnt (account changed).
    pub fn forget_credentials(&mut self) {
        self.cached = None;
        self.realms.clear();
    }

    /// The realms the registrar challenged this account with.
    pub fn challenged_realms(&self) -> impl Iterator<Item = &str> {
        self.realms.iter().map(String::as_str)
    }

    /// Start a new attempt (register when `expires > 0`, un-register when 0); returns the request.
    pub fn begin(&mut self, expires: u32, ctx: &mut BuildCtx<'_>) -> Request {
        self.attempt =
            Some(Attempt { expires, answered_fresh_challenge: false, stale_retries: 0, interval_retries: 0 });
        let mut req = build_register(ctx, expires);
        if let Some((ch, nc)) = self.cached.as_mut() {
            *nc += 1;
            add_auth(&mut req, ch, *nc, ctx);
        }
        req
    }

    /// Classify a final or provisional response to our REGISTER; may build a retry request
    /// (returned alongside `Outcome::Resent`).
    pub fn on_response(&mut self, resp: &Response, ctx: &mut BuildCtx<'_>) -> (Outcome, Option<Request>) {
        let Some(attempt) = self.attempt.clone() else {
            return (Outcome::Pending, None);
        };
        let code = resp.status;
        if code < 200 {
            return (Outcome::Pending, None);
        }
        self.tx = None;
        match code {
            200..=299 => {
                self.attempt = None;
                if attempt.expires == 0 {
                    return (Outcome::Unregistered, None);
                }
                match granted_expiry(resp, ctx.identity, attempt.expires) {
                    Some(secs) if secs > 0 => (Outcome::Registered { granted_secs: secs }, None),
                    _ => (
                        Outcome::Failed {
                            reason: "the server accepted the REGISTER but does not list our contact".into(),
                            retry_after_secs: Some(30),
                        },
                        None,
                    ),
                }
            }
            401 | 407 => {
                let proxy = code == 407;
                let name = if proxy { "Proxy-Authenticate" } else { "WWW-Authenticate" };
                let values: Vec<String> = resp
                    .headers
                    .iter()
                    .filter(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| h.value.clone())
                    .collect();
                let ch = match Challenge::pick(values.iter().map(String::as_str), proxy) {
                    Ok(c) => c,
                    Err(e) => {
                        self.attempt = None;
                        return (Outcome::AuthFailed { reason: format!("{code}: {e}") }, None);
                    }
                };
                // A registrar rarely uses more than one realm; keep a few, never an unbounded list.
                if !self.realms.contains(&ch.realm) && self.realms.len() < 4 {
                    self.realms.push(ch.realm.clone());
                }
                let mut next = attempt.clone();
                if attempt.answered_fresh_challenge {
                    if ch.stale && attempt.stale_retries < MAX_STALE_RETRIES {
                        next.stale_retries += 1;
                    } else {
                        self.attempt = None;
                        self.cached = None;
                        return (
                            Outcome::AuthFailed {
                                reason: format!("{code} {}: the server refused the credentials", resp.reason),
                            },
                            None,
                        );
                    }
                }
                next.answered_fresh_challenge = true;
                self.attempt = Some(next.clone());
                let mut req = build_register(ctx, next.expires);
                self.cached = Some((ch, 1));
                if let Some((ch, nc)) = self.cached.as_ref() {
                    add_auth(&mut req, ch, *nc, ctx);
                }
                (Outcome::Resent, Some(req))
            }
            423 => {
                let min = resp.headers.get("Min-Expires").and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min)
                        if min > attempt.expires
                            && attempt.interval_retries < MAX_INTERVAL_RETRIES
                            && attempt.expires > 0 =>
                    {
                        self.expires = min;
                        let mut next = attempt.clone();
                        next.expires = min;
                        next.interval_retries += 1;
                        self.attempt = Some(next);
                        let mut req = build_register(ctx, min);
                        if let Some((ch, nc)) = self.cached.as_mut() {
                            *nc += 1;
                            add_auth(&mut req, ch, *nc, ctx);
                        }
                        (Outcome::Resent, Some(req))
                    }
                    _ => {
                        self.attempt = None;
                        (
                            Outcome::Failed {
                                reason: "423 Interval Too Brief without a usable Min-Expires".into(),
                                retry_after_secs: None,
                            },
                            None,
                        )
                    }
                }
            }
            _ => {
                self.attempt = None;
                let retry_after = resp
                    .headers
                    .get("Retry-After")
                    .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse::<u32>().ok()));
                let reason = format!("{code} {}", resp.reason);
                if code == 403 {
                    self.cached = None;
                    return (Outcome::AuthFailed { reason }, None);
                }
                let retry = match code {
                    408 | 480 | 500 | 503 | 504 | 600 => Some(retry_after.unwrap_or(30).clamp(5, 3600)),
                    _ => retry_after.map(|r| r.clamp(5, 3600)),
                };
                (Outcome::Failed { reason, retry_after_secs: retry }, None)
            }
        }
    }
}

/// What building a REGISTER needs.
pub(crate) struct BuildCtx<'a> {
    pub account: &'a Account,
    pub identity: &'a mut Identity,
    pub rng: &'a mut Rng,
    pub user_agent: &'a str,
    pub allow: &'a str,
    pub allow_events: &'a str,
}

fn contact_uri(ctx: &BuildCtx<'_>) -> String {
    format!("sip:{}@{};transport=ws;ob", ctx.account.username, ctx.identity.contact_host)
}

fn build_register(ctx: &mut BuildCtx<'_>, expires: u32) -> Request {
    let account = ctx.account;
    let aor = account.aor();
    let server = account.server.url();
    let branch = ctx.rng.branch();
    let reg = ctx.identity.register_for(&aor, &server, ctx.rng);
    reg.cseq += 1;
    let (call_id, from_tag, cseq) = (reg.call_id.clone(), reg.from_tag.clone(), reg.cseq);
    let transport = if account.server.secure { "WSS" } else { "WS" };
    let display = account.display_name.as_ref().map(|d| format!("{} ", quote_display(d))).unwrap_or_default();
    let mut h = Headers::new();
    h.push("Via", format!("SIP/2.0/{transport} {};branch={branch};rport", ctx.identity.contact_host));
    h.push("Max-Forwards", "70");
    h.push("To", format!("{display}<{aor}>"));
    h.push("From", format!("{display}<{aor}>;tag={from_tag}"));
    h.push("Call-ID", call_id);
    h.push("CSeq", format!("{cseq} REGISTER"));
    h.push(
        "Contact",
        format!(
            "<{}>;+sip.instance=\"<urn:uuid:{}>\";reg-id=1;expires={expires}",
            contact_uri(ctx),
            ctx.identity.instance_id
        ),
    );
    h.push("Expires", expires.to_string());
    h.push("Allow", ctx.allow);
    h.push("Supported", "path, outbound");
    h.push("Allow-Events", ctx.allow_events);
    h.push("User-Agent", ctx.user_agent);
    Request { method: Method::Register, uri: format!("sip:{}", account.domain), headers: h, body: Vec::new() }
}

fn quote_display(d: &str) -> String {
    let escaped: String = d.chars().flat_map(|c| if c == '"' || c == '\\' { vec!['\\', c] } else { vec![c] }).collect();
    format!("\"{escaped}\"")
}

fn add_auth(req: &mut Request, ch: &Challenge, nc: u32, ctx: &mut BuildCtx<'_>) {
    let creds = Credentials { username: ctx.account.auth_username.clone(), password: ctx.account.password.clone() };
    let cnonce = ctx.rng.token(16);
    let (name, value) = auth::authorization(ch, &creds, req.method.as_str(), &req.uri, &req.body, nc, &cnonce);
    req.headers.push(name, value);
}

/// The expiry the registrar granted to OUR contact (matched by `+sip.instance`, else by URI);
/// falls back to the Expires header, then to what we asked. `None` if contacts are listed but
/// ours is not among them.
fn granted_expiry(resp: &Response, identity: &Identity, asked: u32) -> Option<u32> {
    let contacts: Vec<NameAddr> = resp.headers.contacts();
    let header_expires = resp.headers.get("Expires").and_then(|v| v.trim().parse::<u32>().ok());
    if contacts.is_empty() {
        return Some(header_expires.unwrap_or(asked));
    }
    let want_instance = format!("<urn:uuid:{}>", identity.instance_id);
    let ours = contacts
        .iter()
        .find(|c| c.params.get("+sip.instance").is_some_and(|v| v.eq_ignore_ascii_case(&want_instance)))
        .or_else(|| {
            contacts.iter().find(|c| c.uri.to_ascii_lowercase().contains(&identity.contact_host.to_ascii_lowercase()))
        })?;
    Some(ours.params.get("expires").and_then(|v| v.trim().parse::<u32>().ok()).or(header_expires).unwrap_or(asked))
}

/// When to refresh a registration granted for `secs` seconds: well before expiry, leaving room
/// for a slow round trip and a challenge (RFC 3261 §10.2.4 leaves the margin to the UA).
pub(crate) fn refresh_delay_ms(secs: u32) -> Millis {
    let secs = secs as u64;
    let margin = (secs / 2).clamp(1, 60);
    (secs.saturating_sub(margin)).max(1) * 1000
}
