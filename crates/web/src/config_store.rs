//! `save-config`: the options page's forms, checked with the core's rules
//! (`ferrophone_ua::config`) and stored by the worker in the documented shape (docs/API.md,
//! "Configuration keys"). The page has no rules of its own: it renders the per-field errors this
//! returns.
//!
//! The secrets never travel in the runtime message (every context of the extension receives
//! those): the page puts what the user typed in the password fields into `chrome.storage.session`
//! (memory only, this extension's pages and worker only) under `pendingPassword` /
//! `pendingIceCredential`, and this takes them out at once (each with its form), whatever the
//! outcome.

use crate::chrome;
use crate::schema::{error, from_js, ok, to_js};
use ferrophone_ua::config::form::{AccountForm, BehaviourForm};
use ferrophone_ua::config::{ConfigErrors, Settings};
use ferrophone_ua::{Command, Input};
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "sync"], js_name = set, catch)]
    fn sync_set(items: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "session"], js_name = get, catch)]
    fn session_get(keys: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "session"], js_name = remove, catch)]
    fn session_remove(keys: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// The typed secret under `key`, taken out of session storage (so a refused save leaves none
/// behind); "" when none was typed.
async fn take_pending(key: &str) -> String {
    let keys = to_js(&json!([key]));
    let got = chrome::call(session_get(&keys)).await.map(|v| from_js(&v)).unwrap_or(Value::Null);
    let _ = chrome::call(session_remove(&keys)).await;
    got.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

async fn read(area: Result<js_sys::Promise, JsValue>) -> Value {
    chrome::call(area).await.map(|v| from_js(&v)).unwrap_or(Value::Null)
}

/// A form: an object whose fields are strings (`flags`: booleans). Read by hand rather than with
/// serde's derive, which costs far more code in the wasm.
fn form_fields<'a>(v: &'a Value, flags: &[&str]) -> Option<&'a Map<String, Value>> {
    let m = v.as_object()?;
    m.iter().all(|(k, v)| if flags.contains(&k.as_str()) { v.is_boolean() } else { v.is_string() }).then_some(m)
}

fn text(form: &Map<String, Value>, key: &str) -> String {
    form.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// `{ fieldName: { code, message } }`.
fn fields_json(errors: &ConfigErrors) -> Value {
    let mut m = Map::new();
    for e in &errors.0 {
        m.entry(e.field.to_string()).or_insert_with(|| json!({ "code": e.code, "message": e.message }));
    }
    Value::Object(m)
}

async fn write(result: Result<js_sys::Promise, JsValue>) -> Result<(), String> {
    chrome::call(result).await.map(|_| ()).map_err(|e| {
        js_sys::Reflect::get(&e, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "the browser refused to store it".into())
    })
}

/// `{ ferrophone: 1, cmd: "save-config", account?: AccountForm, behaviour?: BehaviourForm }` →
/// `{ ok: true, changed? }` (`changed`: whether the stored account differs; when it does not, the
/// worker registers again at once) or `{ ok: false, error: { code: "invalid-config" }, fields }`.
pub async fn save(msg: &Value) -> Value {
    let given = |key: &str| msg.get(key).is_some_and(|v| !v.is_null());
    // Each form takes only its own secret (a Save and an Apply at once do not take each other's),
    // before anything can fail.
    let typed_password = if given("account") { take_pending("pendingPassword").await } else { String::new() };
    let typed_credential = if given("behaviour") { take_pending("pendingIceCredential").await } else { String::new() };
    let account_form = match msg.get("account").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match form_fields(v, &["deviceOnly"]) {
            Some(f) => Some(AccountForm {
                server: text(f, "server"),
                username: text(f, "username"),
                auth_username: text(f, "authUsername"),
                domain: text(f, "domain"),
                display_name: text(f, "displayName"),
                device_only: f.get("deviceOnly").and_then(Value::as_bool).unwrap_or(false),
            }),
            None => return error("bad-request", "account: every field is a string, deviceOnly a boolean"),
        },
    };
    let behaviour_form = match msg.get("behaviour").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match form_fields(v, &[]) {
            Some(f) => Some(BehaviourForm {
                auto_answer: text(f, "autoAnswer"),
                auto_answer_delay_ms: text(f, "autoAnswerDelayMs"),
                dtmf_mode: text(f, "dtmfMode"),
                ice_urls: text(f, "iceUrls"),
                ice_username: text(f, "iceUsername"),
                ice_gathering_timeout_ms: text(f, "iceGatheringTimeoutMs"),
                max_calls: text(f, "maxCalls"),
                allowed_extensions: text(f, "allowedExtensions"),
                transfer_targets: text(f, "transferTargets"),
                trusted_realms: text(f, "trustedRealms"),
            }),
            None => return error("bad-request", "behaviour: every field is a string"),
        },
    };
    if account_form.is_none() && behaviour_form.is_none() {
        return error("bad-request", "save-config needs account or behaviour");
    }

    let sync = read(chrome::sync_get(&to_js(&json!(["account", "settings"])))).await;
    let local = read(chrome::local_get(&to_js(&json!(["password"])))).await;
    let old_account = sync.get("account").cloned().unwrap_or(Value::Null);
    let old_local = local.get("password").and_then(Value::as_str).filter(|p| !p.is_empty()).map(str::to_string);
    let synced_password = old_account.get("password").and_then(Value::as_str).filter(|p| !p.is_empty());
    let stored_password = synced_password.map(str::to_string).or(old_local.clone());
    let stored_settings = sync.get("settings").cloned().unwrap_or(Value::Null);

    let mut errors = ConfigErrors::default();
    let account = account_form.map(|f| f.to_storage(&typed_password, stored_password.as_deref()));
    let settings = behaviour_form.map(|f| {
        let (current, _) = Settings::from_json_lenient(&stored_settings);
        f.to_settings(&typed_credential, &current)
    });
    let account = match account {
        Some(Err(e)) => {
            errors.0.extend(e.0);
            None
        }
        Some(Ok(a)) => Some(a),
        None => None,
    };
    let settings = match settings {
        Some(Err(e)) => {
            errors.0.extend(e.0);
            None
        }
        Some(Ok(s)) => Some(s),
        None => None,
    };
    if !errors.0.is_empty() {
        let mut reply = error("invalid-config", "correct the fields marked");
        reply["fields"] = fields_json(&errors);
        return reply;
    }

    if let Some(patch) = settings {
        // Merged into the stored object: fields the page does not show are kept.
        let mut merged = stored_settings.as_object().cloned().unwrap_or_default();
        merged.extend(patch);
        merged.insert("version".into(), json!(1));
        if let Err(e) = write(sync_set(&to_js(&json!({ "settings": merged })))).await {
            return error("storage-failed", e);
        }
    }
    let mut reply = ok(json!({}));
    if let Some(stored) = account {
        let new_account = serde_json::to_value(&stored.account).unwrap_or(Value::Null);
        let changed = new_account != old_account || stored.local_password != old_local;
        reply["changed"] = json!(changed);
        // Ordered so that the worker never sees an account whose password is nowhere.
        let written = match &stored.local_password {
            Some(password) => match write(chrome::local_set(&to_js(&json!({ "password": password })))).await {
                Ok(()) => write(sync_set(&to_js(&json!({ "account": new_account })))).await,
                Err(e) => Err(e),
            },
            None => match write(sync_set(&to_js(&json!({ "account": new_account })))).await {
                Ok(()) => write(chrome::local_remove(&to_js(&json!(["password"])))).await,
                Err(e) => Err(e),
            },
        };
        if let Err(e) = written {
            return error("storage-failed", e);
        }
        if !changed {
            // No storage change, so nothing reloads: Save means "try again now" (after the
            // password was fixed on the server, say).
            crate::host::input(Input::Command(Command::Register));
        }
    }
    reply
}
