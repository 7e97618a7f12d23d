//! The user's configuration as stored by the extension (`chrome.storage.sync` keys `account` and
//! `settings`, see DESIGN.md "Public interfaces"), validated and normalised.
//!
//! Validation lives here, in Rust, so the worker refuses a bad stored account the same way
//! whoever wrote it (the options page validates too, for the user's sake).

use serde::{Deserialize, Serialize};
use std::fmt;

/// `account` as stored (version 1). The password may be absent here when the user keeps it on
/// this device only (`chrome.storage.local` key `password`).
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccountRecord {
    #[serde(default = "one")]
    pub version: u32,
    #[serde(default)]
    pub server: String,
    #[serde(default)]
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

fn one() -> u32 {
    1
}

impl fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountRecord")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("auth_username", &self.auth_username)
            .field("domain", &self.domain)
            .finish()
    }
}

/// A WebSocket server address: `wss://host[:port][/path]` (or `ws://` to loopback only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl {
    pub secure: bool,
    /// Host as written (IPv6 without brackets), lower-cased.
    pub host: String,
    pub port: Option<u16>,
    /// Path and query, at least `/`.
    pub path: String,
}

impl ServerUrl {
    pub fn parse(url: &str) -> Result<ServerUrl, ConfigError> {
        let url = url.trim();
        let (secure, rest) = if let Some(r) = strip_prefix_ci(url, "wss://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(url, "ws://") {
            (false, r)
        } else if url.contains("://") {
            return Err(ConfigError::field("server", "the server address must start with wss://"));
        } else {
            return Err(ConfigError::field("server", "not a URL: expected wss://host[:port][/path]"));
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
        if authority.contains('@') {
            return Err(ConfigError::field("server", "credentials do not belong in the server URL"));
        }
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| ConfigError::field("server", "unterminated IPv6 address"))?;
            let host = &r[..end];
            let after = &r[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(parse_port(p)?),
                None if after.is_empty() => None,
                None => return Err(ConfigError::field("server", "unexpected text after the IPv6 address")),
            };
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(parse_port(p)?)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() || !valid_host(&host) {
            return Err(ConfigError::field("server", "the server URL has no valid host"));
        }
        let su = ServerUrl { secure, host: host.to_ascii_lowercase(), port, path };
        if !su.secure && !su.is_loopback() {
            return Err(ConfigError::field(
                "server",
                "ws:// (unencrypted) is only allowed to this computer (127.0.0.1, localhost, [::1]); use wss://",
            ));
        }
        Ok(su)
    }

    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self.host == "::1"
            || (self.host.starts_with("127.")
                && self.host.split('.').count() == 4
                && self.host.split('.').all(|p| p.parse::<u8>().is_ok()))
    }

    /// The URL to open.
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{host}{port}{}", if self.secure { "wss" } else { "ws" }, self.path)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

fn parse_port(p: &str) -> Result<u16, ConfigError> {
    match p.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ConfigError::field("server", "the port must be a number from 1 to 65535")),
    }
}

fn valid_host(h: &str) -> bool {
    if h.contains(':') {
        return h.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    }
    h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A validated account.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub server: ServerUrl,
    pub username: String,
    pub password: String,
    /// Authorization user name for digest (defaults to `username`).
    pub auth_username: String,
    /// SIP domain (defaults to the server's host).
    pub domain: String,
    pub display_name: Option<String>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("server", &self.server.url())
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("auth_username", &self.auth_username)
            .field("domain", &self.domain)
            .field("display_name", &self.display_name)
            .finish()
    }
}

/// Why a configuration was refused; `field` names the offending input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

impl ConfigError {
    fn field(field: &'static str, message: &str) -> Self {
        ConfigError { field, message: message.to_string() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Account {
    /// Validate a stored record; `local_password` is `chrome.storage.local`'s `password`, used
    /// when the record has none (device-only password).
    pub fn from_record(rec: &AccountRecord, local_password: Option<&str>) -> Result<Account, ConfigError> {
        if rec.version != 1 {
            return Err(ConfigError::field("version", "unsupported account version"));
        }
        let server = ServerUrl::parse(&rec.server)?;
        let username = rec.username.trim().to_string();
        if username.is_empty() {
            return Err(ConfigError::field("username", "the user name is empty"));
        }
        if username.contains('@') || username.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ConfigError::field(
                "username",
                "enter only the user part (no spaces, no @domain: the domain has its own field)",
            ));
        }
        let password =
            match rec.password.as_deref().filter(|p| !p.is_empty()).or(local_password.filter(|p| !p.is_empty())) {
                Some(p) => p.to_string(),
                None => return Err(ConfigError::field("password", "no password is stored")),
            };
        let auth_username = non_empty(&rec.auth_username).unwrap_or_else(|| username.clone());
        if auth_username.chars().any(|c| c.is_control() || c == '"') {
            return Err(ConfigError::field("authUsername", "invalid characters in the authorization user name"));
        }
        let domain = match non_empty(&rec.domain) {
            Some(d) => {
                let d = d.to_ascii_lowercase();
                let host = d.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()).map(|(h, _)| h).unwrap_or(&d);
                if !valid_host(host.trim_start_matches('[').trim_end_matches(']')) {
                    return Err(ConfigError::field("domain", "not a valid domain name"));
                }
                d
            }
            None => {
                if server.host.contains(':') {
                    format!("[{}]", server.host)
                } else {
                    server.host.clone()
                }
            }
        };
        let display_name = non_empty(&rec.display_name);
        if display_name.as_deref().is_some_and(|d| d.chars().any(|c| c.is_control())) {
            return Err(ConfigError::field("displayName", "invalid characters in the display name"));
        }
        Ok(Account { server, username, password, auth_username, domain, display_name })
    }

    /// Address of record, `sip:user@domain`.
    pub fn aor(&self) -> String {
        format!("sip:{}@{}", self.username, self.domain)
    }
}

/// One STUN/TURN server as RTCPeerConnection takes it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// `settings` as stored (version 1). Every field has a default, so `{}` is valid.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub version: u32,
    /// Requested registration lifetime, seconds.
    pub register_expires: u32,
    /// CRLF keep-alive interval, seconds (RFC 5626 §4.4.1; capped at 25 so the worker lives).
    pub keepalive_interval: u32,
    /// `never` (the default: calls ring), `headers` (honour server requests: the auto-answer
    /// dialects and BroadSoft NOTIFY talk/hold), `always`.
    pub auto_answer: String,
    /// Extra delay before an automatic answer, milliseconds.
    pub auto_answer_delay_ms: u32,
    /// STUN/TURN servers; none by default (no third party is contacted unless named).
    pub ice_servers: Vec<IceServer>,
    /// Cap on ICE gathering, milliseconds.
    pub ice_gathering_timeout_ms: u32,
    /// `rfc4733` or `info`.
    pub dtmf_mode: String,
    pub max_calls: u32,
    /// Extension ids allowed to use the command API from outside.
    pub allowed_extensions: Vec<String>,
    /// Where a far end may transfer us (incoming REFER): `domain` (the default: targets in the
    /// account's domain, or numbers routed through the account's server), `any`, or `never`.
    pub transfer_targets: String,
    /// Digest realms, besides the registrar's and the account's domain, for which calls may
    /// answer a 401/407 with the user's credentials.
    pub trusted_realms: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: 1,
            register_expires: 600,
            keepalive_interval: 25,
            auto_answer: "never".into(),
            auto_answer_delay_ms: 0,
            ice_servers: Vec::new(),
            ice_gathering_timeout_ms: 2000,
            dtmf_mode: "rfc4733".into(),
            max_calls: 4,
            allowed_extensions: Vec::new(),
            transfer_targets: "domain".into(),
            trusted_realms: Vec::new(),
        }
    }
}

impl Settings {
    /// Reads the stored `settings` object field by field: a field of the wrong type (written by
    /// another version, or by hand) falls back to its default without taking the other fields
    /// with it. Returns the settings and the names of the fields that were ignored.
    pub fn from_json_lenient(stored: &serde_json::Value) -> (Settings, Vec<String>) {
        let Some(obj) = stored.as_object() else {
            return (Settings::default(), if stored.is_null() { vec![] } else { vec!["settings".into()] });
        };
        let mut accepted = match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return (Settings::default(), vec![]),
        };
        let mut ignored = Vec::new();
        for (key, value) in obj {
            let mut candidate = accepted.clone();
            candidate.insert(key.clone(), value.clone());
            if serde_json::from_value::<Settings>(serde_json::Value::Object(candidate.clone())).is_ok() {
                accepted = candidate;
            } else {
                ignored.push(key.clone());
            }
        }
        let settings = serde_json::from_value(serde_json::Value::Object(accepted)).unwrap_or_default();
        (settings, ignored)
    }

    /// Clamp values into sane ranges instead of refusing them.
    pub fn normalized(mut self) -> Settings {
        self.register_expires = self.register_expires.clamp(60, 86_400);
        self.keepalive_interval = self.keepalive_interval.clamp(5, 25);
        if !matches!(self.auto_answer.as_str(), "headers" | "always" | "never") {
            self.auto_answer = "never".into();
        }
        if !matches!(self.transfer_targets.as_str(), "domain" | "any" | "never") {
            self.transfer_targets = "domain".into();
        }
        self.trusted_realms = self
            .trusted_realms
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty() && r.len() <= 253 && !r.chars().any(|c| c.is_control() || c == '"'))
            .take(16)
            .collect();
        self.auto_answer_delay_ms = self.auto_answer_delay_ms.min(60_000);
        self.ice_gathering_timeout_ms = self.ice_gathering_timeout_ms.clamp(100, 10_000);
        if !matches!(self.dtmf_mode.as_str(), "rfc4733" | "info") {
            self.dtmf_mode = "rfc4733".into();
        }
        self.max_calls = self.max_calls.clamp(1, 8);
        self
    }
}

#[cfg(test)]
mod lenient_settings_tests {
    use super::Settings;
    use serde_json::json;

    #[test]
    fn one_bad_field_does_not_wipe_the_others() {
        let (s, ignored) = Settings::from_json_lenient(&json!({
            "version": 1, "maxCalls": "4", "dtmfMode": "info", "autoAnswer": "always",
            "iceServers": [{"urls": ["stun:stun.example.com"]}], "futureField": true
        }));
        assert_eq!(ignored, vec!["maxCalls".to_string()]);
        assert_eq!(s.dtmf_mode, "info");
        assert_eq!(s.auto_answer, "always");
        assert_eq!(s.max_calls, Settings::default().max_calls);
        assert_eq!(s.ice_servers.len(), 1);
    }

    #[test]
    fn not_an_object_gives_defaults() {
        assert_eq!(Settings::from_json_lenient(&json!(null)), (Settings::default(), vec![]));
        assert_eq!(Settings::from_json_lenient(&json!("x")), (Settings::default(), vec!["settings".to_string()]));
    }
}
