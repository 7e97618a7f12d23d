//! The options page's two forms, as the page sends them to the worker (`save-config`,
//! docs/API.md): the values as typed, checked with the rules of [`super`], turned into what is
//! stored. The secrets (the SIP password, the TURN password) are never part of a form: the page
//! hands them over through `chrome.storage.session`, and they are passed in here separately.

use super::behaviour::{
    check_ice, ice_view, Lines, AUTO_ANSWER, AUTO_ANSWER_DELAY_MS, DTMF_MODE, ICE_GATHERING_TIMEOUT_MS, MAX_CALLS,
    TRANSFER_TARGETS,
};
use super::{Account, AccountRecord, ConfigErrors, IceServer, Settings};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The account form: every field as typed (the worker trims them), and the "keep the password on
/// this device only" box.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountForm {
    pub server: String,
    pub username: String,
    pub auth_username: String,
    pub domain: String,
    pub display_name: String,
    pub device_only: bool,
}

/// Where a valid account goes: `account` for `chrome.storage.sync` (with the password unless it
/// stays on this device), and `local_password` for `chrome.storage.local` (`None`: remove it).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredAccount {
    pub account: AccountRecord,
    pub local_password: Option<String>,
}

impl std::fmt::Debug for StoredAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAccount")
            .field("account", &self.account)
            .field("local_password", &self.local_password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

impl AccountForm {
    /// Checks the form. `typed_password` is what the password field holds (empty: keep
    /// `stored_password`, the one saved in sync or on this device).
    pub fn to_storage(
        &self,
        typed_password: &str,
        stored_password: Option<&str>,
    ) -> Result<StoredAccount, ConfigErrors> {
        let password = Some(typed_password)
            .filter(|p| !p.is_empty())
            .or(stored_password.filter(|p| !p.is_empty()))
            .unwrap_or("")
            .to_string();
        let record = AccountRecord {
            version: 1,
            server: self.server.trim().to_string(),
            username: self.username.trim().to_string(),
            password: Some(password),
            auth_username: optional(&self.auth_username),
            domain: optional(&self.domain),
            display_name: optional(&self.display_name),
        };
        // The same check as an account read from storage.
        Account::from_record(&record, None)?;
        let mut stored = StoredAccount { account: record, local_password: None };
        if self.device_only {
            stored.local_password = stored.account.password.take();
        }
        Ok(stored)
    }
}

/// The behaviour form: text fields and textareas as typed, radio buttons by value ("" when none
/// is checked: the default).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct BehaviourForm {
    pub auto_answer: String,
    pub auto_answer_delay_ms: String,
    pub dtmf_mode: String,
    pub ice_urls: String,
    pub ice_username: String,
    pub ice_gathering_timeout_ms: String,
    pub max_calls: String,
    pub allowed_extensions: String,
    pub transfer_targets: String,
    pub trusted_realms: String,
}

fn dedup(lines: &Lines) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in lines.values() {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}

impl BehaviourForm {
    /// Checks the form and returns the fields it sets in `settings` (merged into the stored object,
    /// so fields the page does not show are kept). `typed_credential` is the TURN password field
    /// (empty: keep the one in `stored`).
    pub fn to_settings(&self, typed_credential: &str, stored: &Settings) -> Result<Map<String, Value>, ConfigErrors> {
        let mut errors = ConfigErrors::default();
        let choice = |rule: super::ChoiceRule, v: &str, errors: &mut ConfigErrors| {
            let v = if v.trim().is_empty() { rule.default } else { v.trim() };
            errors.push(rule.check(v));
            v.to_string()
        };
        let auto_answer = choice(AUTO_ANSWER, &self.auto_answer, &mut errors);
        let dtmf_mode = choice(DTMF_MODE, &self.dtmf_mode, &mut errors);
        let transfer_targets = choice(TRANSFER_TARGETS, &self.transfer_targets, &mut errors);
        let mut number =
            |rule: super::NumberRule, v: &str| rule.parse(v).map_err(|e| errors.0.push(e)).unwrap_or(rule.default);
        let delay = number(AUTO_ANSWER_DELAY_MS, &self.auto_answer_delay_ms);
        let gathering = number(ICE_GATHERING_TIMEOUT_MS, &self.ice_gathering_timeout_ms);
        let max_calls = number(MAX_CALLS, &self.max_calls);

        let urls = Lines::of_text(&self.ice_urls);
        let username = self.ice_username.trim();
        let (_, _, stored_credential_set) = ice_view(&stored.ice_servers);
        let kept_credential = stored.ice_servers.iter().filter_map(|s| s.credential.as_deref()).find(|c| !c.is_empty());
        let credential = Some(typed_credential).filter(|c| !c.is_empty()).or(kept_credential);
        errors.0.extend(check_ice(&urls, username, !typed_credential.is_empty() || stored_credential_set));
        let ids = Lines::of_text(&self.allowed_extensions);
        errors.push(super::behaviour::check_extensions(&ids));
        let realms = Lines::of_text(&self.trusted_realms);
        errors.push(super::behaviour::check_realms(&realms));
        if !errors.0.is_empty() {
            return Err(errors);
        }

        let (turn, stun): (Vec<&str>, Vec<&str>) = urls.values().partition(|u| super::behaviour::is_turn(u));
        let mut ice_servers = Vec::new();
        if !stun.is_empty() {
            ice_servers.push(IceServer { urls: stun.iter().map(|s| s.to_string()).collect(), ..IceServer::default() });
        }
        if !turn.is_empty() {
            ice_servers.push(IceServer {
                urls: turn.iter().map(|s| s.to_string()).collect(),
                username: Some(username.to_string()),
                credential: credential.map(str::to_string),
            });
        }
        let mut out = Map::new();
        out.insert("autoAnswer".into(), json!(auto_answer));
        out.insert("autoAnswerDelayMs".into(), json!(delay));
        out.insert("dtmfMode".into(), json!(dtmf_mode));
        out.insert("iceServers".into(), serde_json::to_value(ice_servers).unwrap_or(Value::Array(vec![])));
        out.insert("iceGatheringTimeoutMs".into(), json!(gathering));
        out.insert("maxCalls".into(), json!(max_calls));
        out.insert("allowedExtensions".into(), json!(dedup(&ids)));
        out.insert("transferTargets".into(), json!(transfer_targets));
        out.insert("trustedRealms".into(), json!(dedup(&realms)));
        Ok(out)
    }
}
