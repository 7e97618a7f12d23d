//! The rules of `settings`: the ranges of the numbers, the allowed values of the choices, and the
//! shape of the STUN/TURN servers, extension ids and realms. The options page's form and the
//! stored object are checked by the same functions, with the same messages: the lists are taken
//! as the lines the page shows (the servers' URLs one per line, the first user name and password
//! found), so a message names the line the user will see.

use super::{ConfigError, IceServer, Settings};

/// A whole number setting: its range, its default, and what it counts (for the message).
#[derive(Clone, Copy, Debug)]
pub struct NumberRule {
    pub field: &'static str,
    pub min: u32,
    pub max: u32,
    pub default: u32,
    pub unit: &'static str,
}

pub const REGISTER_EXPIRES: NumberRule =
    NumberRule { field: "registerExpires", min: 60, max: 86_400, default: 600, unit: "seconds" };
/// Capped at 25 s so the worker lives (RFC 5626 §4.4.1 keep-alives are what keeps it running).
pub const KEEPALIVE_INTERVAL: NumberRule =
    NumberRule { field: "keepaliveInterval", min: 5, max: 25, default: 25, unit: "seconds" };
pub const AUTO_ANSWER_DELAY_MS: NumberRule =
    NumberRule { field: "autoAnswerDelayMs", min: 0, max: 60_000, default: 0, unit: "milliseconds" };
pub const ICE_GATHERING_TIMEOUT_MS: NumberRule =
    NumberRule { field: "iceGatheringTimeoutMs", min: 100, max: 10_000, default: 2000, unit: "milliseconds" };
pub const MAX_CALLS: NumberRule = NumberRule { field: "maxCalls", min: 1, max: 8, default: 4, unit: "calls" };

impl NumberRule {
    fn error(&self) -> ConfigError {
        ConfigError::new(
            self.field,
            "number-range",
            format!("Enter a whole number of {} from {} to {}.", self.unit, self.min, self.max),
        )
    }

    pub fn check(&self, n: u64) -> Result<u32, ConfigError> {
        if n < u64::from(self.min) || n > u64::from(self.max) {
            return Err(self.error());
        }
        Ok(n as u32)
    }

    /// A form field: digits only; empty means the default.
    pub fn parse(&self, text: &str) -> Result<u32, ConfigError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(self.default);
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error());
        }
        // Digits beyond u64 are out of range too.
        self.check(text.parse::<u64>().unwrap_or(u64::MAX))
    }

    pub fn clamp(&self, n: u32) -> u32 {
        n.clamp(self.min, self.max)
    }
}

/// A setting that takes one of a few words; anything else means the default (docs/API.md).
#[derive(Clone, Copy, Debug)]
pub struct ChoiceRule {
    pub field: &'static str,
    pub values: &'static [&'static str],
    pub default: &'static str,
}

/// `never` (calls ring) is the default: server control of the phone is off unless turned on.
pub const AUTO_ANSWER: ChoiceRule =
    ChoiceRule { field: "autoAnswer", values: &["never", "headers", "always"], default: "never" };
pub const DTMF_MODE: ChoiceRule = ChoiceRule { field: "dtmfMode", values: &["rfc4733", "info"], default: "rfc4733" };
pub const TRANSFER_TARGETS: ChoiceRule =
    ChoiceRule { field: "transferTargets", values: &["domain", "any", "never"], default: "domain" };

impl ChoiceRule {
    pub fn check(&self, v: &str) -> Result<(), ConfigError> {
        if self.values.contains(&v) {
            Ok(())
        } else {
            Err(ConfigError::new(self.field, "choice-invalid", format!("Choose one of: {}.", self.values.join(", "))))
        }
    }

    fn normalize(&self, v: &mut String) {
        if self.check(v).is_err() {
            *v = self.default.to_string();
        }
    }
}

/// The most trusted realms.
pub const REALMS_MAX: usize = 16;
/// The longest realm, in characters.
pub const REALM_MAX_CHARS: usize = 253;

/// A list as the page shows it: trimmed lines, empty ones dropped, each with its line number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lines(pub Vec<(usize, String)>);

impl Lines {
    /// The lines of a textarea.
    pub fn of_text(text: &str) -> Lines {
        Lines(
            text.split('\n')
                .enumerate()
                .map(|(i, l)| (i + 1, l.trim().to_string()))
                .filter(|(_, l)| !l.is_empty())
                .collect(),
        )
    }

    /// A stored list, one entry per line.
    pub fn of_list<'a>(items: impl IntoIterator<Item = &'a String>) -> Lines {
        Lines::of_text(&items.into_iter().map(String::as_str).collect::<Vec<_>>().join("\n"))
    }

    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(_, v)| v.as_str())
    }

    /// `line 2 ("x"), line 5 ("y")` for the first three offending lines (`quoted`: with their text).
    fn describe(&self, bad: impl Fn(&str) -> bool, quoted: bool) -> Option<String> {
        let shown: Vec<String> = self
            .0
            .iter()
            .filter(|(_, v)| bad(v))
            .take(3)
            .map(|(n, v)| {
                if quoted {
                    format!("line {n} ({})", serde_json::to_string(v).unwrap_or_default())
                } else {
                    format!("line {n}")
                }
            })
            .collect();
        (!shown.is_empty()).then(|| shown.join(", "))
    }
}

pub fn is_turn(url: &str) -> bool {
    let l = url.to_ascii_lowercase();
    l.starts_with("turn:") || l.starts_with("turns:")
}

/// `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`, `turns:…` (RFC 7064/7065); the host
/// is a DNS name or a bracketed IPv6 address.
pub fn ice_url_ok(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let Some((scheme, rest)) = lower.split_once(':') else { return false };
    if !matches!(scheme, "stun" | "turn" | "turns") {
        return false;
    }
    let (rest, transport) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    if let Some(q) = transport {
        if scheme == "stun" || !matches!(q, "transport=udp" | "transport=tcp") {
            return false;
        }
    }
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let Some((h, after)) = r.split_once(']') else { return false };
        if h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return false;
        }
        match after {
            "" => (h, None),
            a => match a.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None => return false,
            },
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let host_ok = rest.starts_with('[')
        || (!host.is_empty()
            && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && !host.starts_with(['.', '-'])
            && !host.ends_with(['.', '-']));
    let port_ok = port.map_or(true, |p| {
        (1..=5).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && (1..=65535).contains(&p.parse::<u32>().unwrap_or(0))
    });
    host_ok && port_ok
}

/// Extension ids: 32 letters a–p (chrome://extensions shows them).
pub fn extension_id_ok(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// A digest realm as the user may list it: printable, no quotes, at most 253 characters.
pub fn realm_ok(r: &str) -> bool {
    let n = r.chars().count();
    (1..=REALM_MAX_CHARS).contains(&n) && !r.chars().any(|c| c.is_control() || c == '"')
}

/// The STUN/TURN servers as the page shows them: the URLs (one per line), the user name and the
/// password (`credential_set`: one is given or kept). Returns an error per offending field.
pub fn check_ice(urls: &Lines, username: &str, credential_set: bool) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    if let Some(shown) = urls.describe(|u| !ice_url_ok(u), true) {
        errors.push(ConfigError::new(
            "iceUrls",
            "ice-url",
            format!(
                "Not a STUN or TURN address: {shown}. Each line must look like stun:host:port, turn:host:port or turns:host:port."
            ),
        ));
    }
    if urls.values().any(is_turn) {
        if username.is_empty() {
            errors.push(ConfigError::new("iceUsername", "ice-username-missing", "A TURN server needs a username."));
        }
        if !credential_set {
            errors.push(ConfigError::new("iceCredential", "ice-credential-missing", "A TURN server needs a password."));
        }
    } else {
        if !username.is_empty() {
            errors.push(ConfigError::new(
                "iceUsername",
                "ice-username-unused",
                "The username is only used for turn: or turns: servers: add one above or clear this field.",
            ));
        }
        if credential_set {
            errors.push(ConfigError::new(
                "iceCredential",
                "ice-credential-unused",
                "The password is only used for turn: or turns: servers: add one above or clear this field.",
            ));
        }
    }
    errors
}

pub fn check_extensions(ids: &Lines) -> Result<(), ConfigError> {
    match ids.describe(|id| !extension_id_ok(id), true) {
        None => Ok(()),
        Some(shown) => Err(ConfigError::new(
            "allowedExtensions",
            "extension-id",
            format!("Not an extension id: {shown}. An id is 32 letters from a to p, as chrome://extensions shows it."),
        )),
    }
}

pub fn check_realms(realms: &Lines) -> Result<(), ConfigError> {
    if let Some(shown) = realms.describe(|r| !realm_ok(r), false) {
        return Err(ConfigError::new(
            "trustedRealms",
            "realm-invalid",
            format!("Not a realm: {shown}. A realm is up to {REALM_MAX_CHARS} characters, without quotes."),
        ));
    }
    if realms.0.len() > REALMS_MAX {
        return Err(ConfigError::new("trustedRealms", "realm-too-many", format!("List at most {REALMS_MAX} realms.")));
    }
    Ok(())
}

/// The stored servers as the page shows them: every URL, the first user name, whether a password is set.
pub(super) fn ice_view(servers: &[IceServer]) -> (Lines, String, bool) {
    let urls = Lines::of_list(servers.iter().flat_map(|s| s.urls.iter()));
    let username = servers.iter().filter_map(|s| s.username.as_deref()).find(|u| !u.is_empty()).unwrap_or("");
    let credential = servers.iter().any(|s| s.credential.as_deref().is_some_and(|c| !c.is_empty()));
    (urls, username.to_string(), credential)
}

impl Settings {
    /// Every rule these settings break, with the message the options page would show.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (rule, n) in [
            (REGISTER_EXPIRES, self.register_expires),
            (KEEPALIVE_INTERVAL, self.keepalive_interval),
            (AUTO_ANSWER_DELAY_MS, self.auto_answer_delay_ms),
            (ICE_GATHERING_TIMEOUT_MS, self.ice_gathering_timeout_ms),
            (MAX_CALLS, self.max_calls),
        ] {
            errors.extend(rule.check(n.into()).err());
        }
        errors.extend(AUTO_ANSWER.check(&self.auto_answer).err());
        errors.extend(DTMF_MODE.check(&self.dtmf_mode).err());
        errors.extend(TRANSFER_TARGETS.check(&self.transfer_targets).err());
        let (urls, username, credential) = ice_view(&self.ice_servers);
        errors.extend(check_ice(&urls, &username, credential));
        errors.extend(check_extensions(&Lines::of_list(&self.allowed_extensions)).err());
        errors.extend(check_realms(&Lines::of_list(&self.trusted_realms)).err());
        errors
    }

    /// The nearest settings that break no rule (what the worker runs with whatever is stored):
    /// numbers are clamped into their range, an unknown choice is its default, an entry of a list
    /// that breaks its rule is left out (URLs, extension ids, realms beyond the 16th), a TURN server
    /// without its user name or password is left out, and a user name or password on a server
    /// without TURN URLs is dropped.
    pub fn normalized(mut self) -> Settings {
        self.register_expires = REGISTER_EXPIRES.clamp(self.register_expires);
        self.keepalive_interval = KEEPALIVE_INTERVAL.clamp(self.keepalive_interval);
        self.auto_answer_delay_ms = AUTO_ANSWER_DELAY_MS.clamp(self.auto_answer_delay_ms);
        self.ice_gathering_timeout_ms = ICE_GATHERING_TIMEOUT_MS.clamp(self.ice_gathering_timeout_ms);
        self.max_calls = MAX_CALLS.clamp(self.max_calls);
        AUTO_ANSWER.normalize(&mut self.auto_answer);
        DTMF_MODE.normalize(&mut self.dtmf_mode);
        TRANSFER_TARGETS.normalize(&mut self.transfer_targets);
        self.trusted_realms = Lines::of_list(&self.trusted_realms)
            .values()
            .filter(|r| realm_ok(r))
            .take(REALMS_MAX)
            .map(str::to_string)
            .collect();
        self.allowed_extensions.retain(|id| extension_id_ok(id.trim()));
        self.ice_servers = std::mem::take(&mut self.ice_servers)
            .into_iter()
            .filter_map(|mut s| {
                s.urls.retain(|u| ice_url_ok(u.trim()));
                let has_turn = s.urls.iter().any(|u| is_turn(u));
                let user = s.username.as_deref().is_some_and(|u| !u.is_empty());
                let cred = s.credential.as_deref().is_some_and(|c| !c.is_empty());
                if has_turn && !(user && cred) {
                    s.urls.retain(|u| !is_turn(u));
                }
                if !s.urls.iter().any(|u| is_turn(u)) {
                    s.username = None;
                    s.credential = None;
                }
                (!s.urls.is_empty()).then_some(s)
            })
            .collect();
        self
    }
}
