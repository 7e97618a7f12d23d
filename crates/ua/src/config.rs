//! The user's configuration as stored by the extension (`chrome.storage.sync` keys `account` and
//! `settings`, see DESIGN.md "Public interfaces"), validated and normalised.
//!
//! Every rule lives here, once: the options page has none of its own. It sends the form to the
//! worker (`save-config`, see [`form`]), which checks it with these rules and stores it; the worker
//! applies the same rules to whatever it reads from storage, whoever wrote it (policy, tests,
//! other tools). A refused field comes with a stable `code` (for translation) and an English
//! message, the same message on the page and in the status line.

mod behaviour;
pub mod form;

pub use behaviour::{ChoiceRule, Lines, NumberRule};

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

/// Why a value was refused: the field (the options page's field name, which is also the stored
/// key), a stable kebab-case `code` naming the rule, and an English message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        ConfigError { field, code, message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every refused field of one configuration (never empty when returned as an error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The error of `field`, if it was refused.
    pub fn get(&self, field: &str) -> Option<&ConfigError> {
        self.0.iter().find(|e| e.field == field)
    }

    fn push(&mut self, e: Result<(), ConfigError>) {
        if let Err(e) = e {
            self.0.push(e);
        }
    }

    fn into_result<T>(self, ok: impl FnOnce() -> T) -> Result<T, ConfigErrors> {
        if self.0.is_empty() {
            Ok(ok())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

const SERVER_EXAMPLE: &str = "for example wss://sip.example.com:8443/ws";

fn server_error(code: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::new("server", code, message)
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
        if url.is_empty() {
            return Err(server_error(
                "server-missing",
                format!("Enter your provider's WebSocket address, {SERVER_EXAMPLE}."),
            ));
        }
        let not_url = || {
            server_error(
                "server-not-url",
                format!("This is not a valid URL. Enter the full address, {SERVER_EXAMPLE}."),
            )
        };
        let (secure, rest) = if let Some(r) = strip_prefix_ci(url, "wss://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(url, "ws://") {
            (false, r)
        } else {
            return match url.split_once("://") {
                Some((scheme, _)) if valid_scheme(scheme) => Err(server_error(
                    "server-scheme",
                    format!(
                        "The address must start with wss:// (SIP over secure WebSocket), not {}://.",
                        scheme.to_ascii_lowercase()
                    ),
                )),
                _ => Err(not_url()),
            };
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(not_url());
        }
        let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
        if authority.contains('@') {
            return Err(server_error(
                "server-credentials",
                "Do not put a user name or password in the address: use the fields below.",
            ));
        }
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let Some(end) = r.find(']') else { return Err(not_url()) };
            let host = &r[..end];
            let after = &r[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(parse_port(p)?),
                None if after.is_empty() => None,
                None => return Err(not_url()),
            };
            if !host.contains(':') || !valid_host(host) {
                return Err(not_url());
            }
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(parse_port(p)?)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(server_error("server-host", format!("The address has no host name, {SERVER_EXAMPLE}.")));
        }
        if !host.is_ascii() {
            return Err(server_error(
                "server-host-ascii",
                "Write an international host name in its xn-- form (as your provider gives it).",
            ));
        }
        if !valid_host(&host) {
            return Err(server_error("server-host", format!("The address has no valid host name, {SERVER_EXAMPLE}.")));
        }
        let su = ServerUrl { secure, host: host.to_ascii_lowercase(), port, path };
        if !su.secure && !su.is_loopback() {
            return Err(server_error(
                "server-insecure",
                "ws:// is not encrypted and is only allowed to this computer (localhost, 127.x.x.x, [::1]). Use wss://.",
            ));
        }
        Ok(su)
    }

    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host == "::1" || (self.host.starts_with("127.") && is_ipv4(&self.host))
    }

    /// The URL to open.
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{host}{port}{}", if self.secure { "wss" } else { "ws" }, self.path)
    }
}

/// RFC 3986 `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn valid_scheme(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
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
        Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(server_error("server-port", "The port must be a number from 1 to 65535.")),
    }
}

/// Four decimal numbers from 0 to 255, dot-separated.
fn is_ipv4(h: &str) -> bool {
    let parts: Vec<&str> = h.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

/// A DNS name of ASCII labels (letters, digits, inner hyphens; 63 per label, 253 in all), an
/// IPv4 address, or (with a colon) the inside of an IPv6 literal.
fn valid_host(h: &str) -> bool {
    if h.contains(':') {
        return h.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    }
    if h.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return is_ipv4(h);
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

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 100;

fn check_username(u: &str) -> Result<(), ConfigError> {
    let err = |code, message: &str| Err(ConfigError::new("username", code, message));
    if u.is_empty() {
        return err("username-missing", "Enter your SIP username, for example 1001.");
    }
    if u.chars().any(char::is_whitespace) {
        return err("username-spaces", "The username cannot contain spaces.");
    }
    if u.contains('@') {
        return err("username-domain", "Enter only the part before the @ here, and put the part after it in Domain.");
    }
    if u.chars().any(char::is_control) {
        return err("username-characters", "The username cannot contain control characters.");
    }
    Ok(())
}

fn check_auth_username(u: &str) -> Result<(), ConfigError> {
    if u.chars().any(char::is_whitespace) {
        return Err(ConfigError::new(
            "authUsername",
            "auth-username-spaces",
            "The authorization username cannot contain spaces.",
        ));
    }
    if u.chars().any(|c| c.is_control() || c == '"') {
        return Err(ConfigError::new(
            "authUsername",
            "auth-username-characters",
            "The authorization username cannot contain quotes or control characters.",
        ));
    }
    Ok(())
}

/// A SIP domain as the user types it: a DNS name, an IPv4 address or a bracketed IPv6 address;
/// no scheme, port or path. Returns it lower-cased.
fn check_domain(d: &str) -> Result<String, ConfigError> {
    if !d.is_ascii() {
        return Err(ConfigError::new(
            "domain",
            "domain-ascii",
            "Write an international domain name in its xn-- form (as your provider gives it).",
        ));
    }
    let d = d.to_ascii_lowercase();
    let ok = match d.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(v6) => v6.contains(':') && valid_host(v6),
        None => !d.contains(':') && valid_host(&d),
    };
    if ok {
        Ok(d)
    } else {
        Err(ConfigError::new(
            "domain",
            "domain-invalid",
            "Enter a domain name such as example.com (no sip:, no port, no path).",
        ))
    }
}

fn check_display_name(d: &str) -> Result<(), ConfigError> {
    if d.chars().any(char::is_control) {
        return Err(ConfigError::new(
            "displayName",
            "display-name-characters",
            "The display name cannot contain control characters.",
        ));
    }
    if d.chars().count() > DISPLAY_NAME_MAX {
        return Err(ConfigError::new(
            "displayName",
            "display-name-length",
            format!("The display name is too long ({DISPLAY_NAME_MAX} characters at most)."),
        ));
    }
    Ok(())
}

impl Account {
    /// Validate a stored record; `local_password` is `chrome.storage.local`'s `password`, used
    /// when the record has none (device-only password). Returns every refused field at once.
    pub fn from_record(rec: &AccountRecord, local_password: Option<&str>) -> Result<Account, ConfigErrors> {
        let mut errors = ConfigErrors::default();
        if rec.version != 1 {
            errors.0.push(ConfigError::new(
                "version",
                "version-unsupported",
                format!(
                    "This account was saved by another version of Ferrophone (version {}): save it again.",
                    rec.version
                ),
            ));
        }
        let server = ServerUrl::parse(&rec.server).map_err(|e| errors.0.push(e)).ok();
        let username = rec.username.trim().to_string();
        errors.push(check_username(&username));
        let password = rec.password.as_deref().filter(|p| !p.is_empty()).or(local_password.filter(|p| !p.is_empty()));
        if password.is_none() {
            errors.0.push(ConfigError::new("password", "password-missing", "Enter the password of this account."));
        }
        let auth_username = non_empty(&rec.auth_username);
        errors.push(auth_username.as_deref().map_or(Ok(()), check_auth_username));
        let domain = non_empty(&rec.domain).map(|d| check_domain(&d)).transpose().map_err(|e| errors.0.push(e)).ok();
        let display_name = non_empty(&rec.display_name);
        errors.push(display_name.as_deref().map_or(Ok(()), check_display_name));
        let (Some(server), Some(domain), Some(password)) = (server, domain, password) else {
            return Err(errors);
        };
        errors.into_result(|| {
            let domain = domain.unwrap_or_else(|| {
                if server.host.contains(':') {
                    format!("[{}]", server.host)
                } else {
                    server.host.clone()
                }
            });
            Account {
                auth_username: auth_username.unwrap_or_else(|| username.clone()),
                server,
                username,
                password: password.to_string(),
                domain,
                display_name,
            }
        })
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
