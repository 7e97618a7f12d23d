//! Ferrophone's browser adapter: runs the sans-IO core (`ferrophone-ua`) in the extension's
//! service worker. It converts types at the boundary and does I/O — the WebSocket, timers,
//! `chrome.storage`, `chrome.runtime` messaging, the offscreen document — and holds no protocol
//! logic. `extension/sw.js` registers the listeners and calls the exports below.

#![forbid(unsafe_code)]

mod bench;
mod chrome;
mod config_store;
mod host;
mod media;
mod notify;
mod offscreen;
mod probe;
mod schema;

use ferrophone_ua::{Command, Input, UserAgent};
use schema::{error, from_js, ok, to_js};
use serde_json::{json, Value};
use std::cell::Cell;
use wasm_bindgen::prelude::*;

const ALARM: &str = "ferrophone-keepalive";

thread_local! {
    static STARTING: Cell<bool> = const { Cell::new(false) };
}

fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    // crypto.getRandomValues; if it failed we would still be unique per start thanks to the time.
    if getrandom::getrandom(&mut b).is_err() {
        return host::now() ^ 0x5DEE_CE66_D1CE_5EED;
    }
    u64::from_le_bytes(b)
}

/// Start the user agent: restore identity and configuration, connect. Idempotent.
#[wasm_bindgen]
pub async fn start() -> Result<(), JsValue> {
    if host::is_started() || STARTING.with(|s| s.replace(true)) {
        return Ok(());
    }
    offscreen::close_stale().await;
    notify::clear_stale_confirmations().await;
    let identity = host::load_identity().await;
    let (account, settings, problem) = host::load_config().await;
    let mut h = host::Host::new(UserAgent::new(random_seed(), identity));
    h.config_problem = problem;
    h.forget_identity = account.is_none();
    host::install(h);
    host::input(Input::Configure { account, settings });
    // Safety net: revive a worker Chrome stopped anyway (packed extensions clamp to 30 s).
    let _ = chrome::call(chrome::alarms_create(ALARM, &to_js(&json!({ "periodInMinutes": 0.5 })))).await;
    Ok(())
}

async fn ensure_started() {
    if !host::is_started() {
        let _ = start().await;
    }
}

/// Re-read configuration from storage and apply it.
async fn reload_config() {
    let (account, settings, problem) = host::load_config().await;
    let forget = account.is_none();
    host::with_host(|h| {
        h.config_problem = problem;
        h.forget_identity = forget;
    });
    host::input(Input::Configure { account, settings });
    if forget {
        host::forget_identity();
    }
}

fn status_reply() -> Value {
    let v = host::with_host(|h| host::status_json(&h.ua.status(host::now()), h.config_problem.as_deref()));
    ok(v.unwrap_or_else(|| json!({ "registration": { "state": "unconfigured" }, "connection": { "state": "idle" } })))
}

async fn diagnostics() -> Value {
    let (account, settings, problem) = host::load_config().await;
    let info = host::with_host(|h| {
        let trace: Vec<Value> = h.ua.trace().map(|e| serde_json::to_value(e).unwrap_or(Value::Null)).collect();
        json!({
            "instanceId": h.ua.identity().instance_id,
            "status": host::status_json(&h.ua.status(host::now()), h.config_problem.as_deref()),
            "trace": trace,
        })
    })
    .unwrap_or(Value::Null);
    let manifest = from_js(&chrome::get_manifest());
    // TURN passwords are secrets too: diagnostics show that one is set, never its value.
    let mut settings_json = serde_json::to_value(settings.normalized()).unwrap_or(Value::Null);
    if let Some(servers) = settings_json.get_mut("iceServers").and_then(Value::as_array_mut) {
        for server in servers {
            if server.get("credential").is_some() {
                server["credential"] = json!("<set>");
            }
        }
    }
    ok(json!({
        "version": manifest.get("version").cloned().unwrap_or(Value::Null),
        "account": account.map(|a| json!({
            "server": a.server.url(),
            "username": a.username,
            "authUsername": a.auth_username,
            "domain": a.domain,
            "displayName": a.display_name,
            "aor": a.aor(),
            "passwordStored": !a.password.is_empty(),
        })),
        "configProblem": problem,
        "settings": settings_json,
        "ua": info,
    }))
}

async fn dispatch(msg: &Value, external: bool) -> Value {
    if msg.get("ferrophone").and_then(Value::as_u64) != Some(1) {
        return error("bad-request", "expected { ferrophone: 1, cmd: ... }");
    }
    let Some(cmd) = msg.get("cmd").and_then(Value::as_str) else {
        return error("bad-request", "missing cmd");
    };
    ensure_started().await;
    match cmd {
        "status" => status_reply(),
        "calls" => ok(json!({ "calls": host::with_host(|h| h.ua.calls()).unwrap_or_default() })),
        "dial" => {
            let Some(target) = msg.get("target").and_then(Value::as_str) else {
                return error("bad-request", "dial needs a target");
            };
            match host::with_ua(|ua| ua.dial(host::now(), target)) {
                Some(Ok(call)) => ok(json!({ "call": call })),
                Some(Err(e)) => error(e.code(), e.to_string()),
                None => error("not-connected", "the user agent is not running"),
            }
        }
        "answer" | "reject" | "hangup" | "hold" | "resume" | "mute" | "unmute" => {
            let Some(id) = msg.get("id").and_then(Value::as_str).map(str::to_string) else {
                return error("bad-request", format!("{cmd} needs the call id"));
            };
            let now = host::now();
            let r = host::with_ua(|ua| match cmd {
                "answer" => ua.answer(now, &id),
                "reject" => ua.reject(now, &id),
                "hangup" => ua.hangup(now, &id),
                "hold" => ua.hold(now, &id),
                "resume" => ua.resume(now, &id),
                "mute" => ua.set_muted(now, &id, true),
                _ => ua.set_muted(now, &id, false),
            });
            match r {
                Some(Ok(())) => {
                    let call = host::with_host(|h| h.ua.call(&id)).flatten();
                    ok(json!({ "call": call }))
                }
                Some(Err(e)) => error(e.code(), e.to_string()),
                None => error("not-connected", "the user agent is not running"),
            }
        }
        "transfer" => {
            let Some(id) = msg.get("id").and_then(Value::as_str).map(str::to_string) else {
                return error("bad-request", "transfer needs the call id");
            };
            let now = host::now();
            let r = match (msg.get("target").and_then(Value::as_str), msg.get("replaces").and_then(Value::as_str)) {
                (_, Some(other)) => {
                    let other = other.to_string();
                    host::with_ua(|ua| ua.transfer_attended(now, &id, &other))
                }
                (Some(target), None) => {
                    let target = target.to_string();
                    host::with_ua(|ua| ua.transfer(now, &id, &target))
                }
                (None, None) => return error("bad-request", "transfer needs a target (blind) or replaces (attended)"),
            };
            match r {
                Some(Ok(())) => ok(json!({ "call": host::with_host(|h| h.ua.call(&id)).flatten() })),
                Some(Err(e)) => error(e.code(), e.to_string()),
                None => error("not-connected", "the user agent is not running"),
            }
        }
        "dtmf" => {
            let (Some(id), Some(digits)) =
                (msg.get("id").and_then(Value::as_str), msg.get("digits").and_then(Value::as_str))
            else {
                return error("bad-request", "dtmf needs the call id and digits");
            };
            let (id, digits) = (id.to_string(), digits.to_string());
            match host::with_ua(|ua| ua.send_dtmf(host::now(), &id, &digits)) {
                Some(Ok(())) => ok(json!({ "call": host::with_host(|h| h.ua.call(&id)).flatten() })),
                Some(Err(e)) => error(e.code(), e.to_string()),
                None => error("not-connected", "the user agent is not running"),
            }
        }
        "media-event" if !external => {
            let id = msg.get("callId").and_then(Value::as_str).unwrap_or("").to_string();
            let event = msg.get("event").and_then(Value::as_str).unwrap_or("");
            if event == "failed" || event == "track-ended" {
                let detail = msg.get("detail").and_then(Value::as_str).unwrap_or(event).to_string();
                host::input(Input::Media(ferrophone_ua::MediaResult::Lost { call: id, reason: detail }));
            }
            ok(json!({}))
        }
        "register" => {
            host::input(Input::Command(Command::Register));
            status_reply()
        }
        "unregister" => {
            host::input(Input::Command(Command::Unregister));
            status_reply()
        }
        "mic-test" if !external => offscreen::mic_test().await,
        // The offscreen document's TURN passwords: in the reply only (it reaches the asker alone),
        // never in a media request (a runtime message every page of the extension receives).
        "ice-servers" if !external => ok(json!({ "iceServers": media::ice_servers_with_credentials() })),
        "test-connection" if !external => {
            let server = match msg.get("server").and_then(Value::as_str) {
                Some(s) => s.to_string(),
                None => match host::load_config().await.0 {
                    Some(a) => a.server.url(),
                    None => return error("unconfigured", "no server given and no account saved"),
                },
            };
            probe::test_connection(&server, random_seed()).await
        }
        "diagnostics" if !external => diagnostics().await,
        // Never from outside: other extensions must not change the account.
        "save-config" if !external => config_store::save(msg).await,
        _ => error("unknown-command", format!("unknown command {cmd:?}")),
    }
}

/// A message from this extension (options page, offscreen document, popup).
#[wasm_bindgen(js_name = handleMessage)]
pub async fn handle_message(msg: JsValue, _sender: JsValue) -> Result<JsValue, JsValue> {
    let msg = from_js(&msg);
    Ok(to_js(&dispatch(&msg, false).await))
}

/// A message from another extension: only ids on the allow-list may use the API.
#[wasm_bindgen(js_name = handleExternalMessage)]
pub async fn handle_external_message(msg: JsValue, sender: JsValue) -> Result<JsValue, JsValue> {
    let msg = from_js(&msg);
    let sender = from_js(&sender);
    let id = sender.get("id").and_then(Value::as_str).unwrap_or("").to_string();
    let (_, settings, _) = host::load_config().await;
    if id.is_empty() || !settings.allowed_extensions.iter().any(|a| a == &id) {
        return Ok(to_js(&error(
            "not-allowed",
            format!("extension {id:?} is not on Ferrophone's allow-list (options page → External access)"),
        )));
    }
    Ok(to_js(&dispatch(&msg, true).await))
}

fn call_reply(r: Option<Result<ferrophone_ua::call::CallInfo, ferrophone_ua::call::CallError>>) -> Value {
    match r {
        Some(Ok(call)) => ok(json!({ "call": call })),
        Some(Err(e)) => error(e.code(), e.to_string()),
        None => error("not-connected", "the user agent is not running"),
    }
}

fn log_result(what: &str, v: &Value) {
    if v.get("ok").and_then(Value::as_bool) == Some(true) {
        chrome::console_log(&format!("[ferrophone] {what}: ok"));
    } else {
        let msg = v.pointer("/error/message").and_then(Value::as_str).unwrap_or("failed");
        chrome::console_warn(&format!("[ferrophone] {what}: {msg}"));
    }
}

/// The omnibox keyword (`call 1000`, `call sip:bob@example.com`): dial what was typed.
#[wasm_bindgen(js_name = onOmnibox)]
pub async fn on_omnibox(text: String) -> Result<JsValue, JsValue> {
    ensure_started().await;
    let r = call_reply(host::with_ua(|ua| ua.dial(host::now(), &text)));
    log_result("omnibox dial", &r);
    Ok(to_js(&r))
}

/// Keyboard shortcuts from `chrome.commands`: `answer`, `hangup`, `mute`.
#[wasm_bindgen(js_name = onCommand)]
pub async fn on_command(name: String) -> Result<JsValue, JsValue> {
    ensure_started().await;
    let now = host::now();
    let r = match name.as_str() {
        "answer" => call_reply(host::with_ua(|ua| ua.answer_ringing(now))),
        "hangup" => call_reply(host::with_ua(|ua| ua.hangup_current(now))),
        "mute" => call_reply(host::with_ua(|ua| ua.toggle_mute_current(now))),
        _ => error("unknown-command", format!("unknown keyboard command {name:?}")),
    };
    log_result(&format!("keyboard command {name}"), &r);
    Ok(to_js(&r))
}

/// Context menu: "Call … with Ferrophone" on a selection or a tel:/sip:/sips:/callto: link.
/// A selection (whose text Chrome shows in the menu item) dials at once. A link does NOT: its
/// visible text can hide any address, so the real target is shown in a notification and dialled
/// only when the user presses its "Call" button (`notify.rs`).
#[wasm_bindgen(js_name = onContextMenu)]
pub async fn on_context_menu(info: JsValue) -> Result<JsValue, JsValue> {
    ensure_started().await;
    let info = from_js(&info);
    let r = match info.get("menuItemId").and_then(Value::as_str) {
        Some("ferrophone-call-link") => {
            let link = info.get("linkUrl").and_then(Value::as_str).unwrap_or("");
            match ferrophone_ua::call::target_from_link(link) {
                None => error("invalid-target", "nothing to call in this link"),
                Some(t) => match host::load_config().await.0 {
                    None => error("not-connected", "no account is configured"),
                    Some(account) => match ferrophone_ua::call::normalize_target(&t, &account.domain) {
                        Ok(uri) => {
                            notify::confirm_link_dial(uri, link, info.get("pageUrl").and_then(Value::as_str)).await
                        }
                        Err(e) => error(e.code(), e.to_string()),
                    },
                },
            }
        }
        Some("ferrophone-call-selection") => match info.get("selectionText").and_then(Value::as_str) {
            Some(t) => call_reply(host::with_ua(|ua| ua.dial(host::now(), t))),
            None => error("invalid-target", "nothing to call in this selection"),
        },
        _ => error("invalid-target", "nothing to call in this selection or link"),
    };
    if r.get("confirm").is_some() {
        chrome::console_log("[ferrophone] context menu dial: waiting for the user's confirmation");
    } else {
        log_result("context menu dial", &r);
    }
    Ok(to_js(&r))
}

/// `chrome.notifications.onButtonClicked`: the "Call" (0) / "Cancel" (1) buttons of a link dial's
/// confirmation.
#[wasm_bindgen(js_name = onNotificationButton)]
pub async fn on_notification_button(id: String, index: u32) -> Result<JsValue, JsValue> {
    ensure_started().await;
    Ok(to_js(&notify::on_button(&id, index)))
}

/// `chrome.notifications.onClosed`: a link dial's confirmation closed without "Call" is cancelled.
#[wasm_bindgen(js_name = onNotificationClosed)]
pub fn on_notification_closed(id: String) {
    notify::on_closed(&id);
}

/// `chrome.alarms` tick: the safety net that keeps timers running even if Chrome suspended us.
#[wasm_bindgen(js_name = onAlarm)]
pub fn on_alarm(name: String) {
    if name != ALARM {
        return;
    }
    if host::is_started() {
        host::tick();
    } else {
        wasm_bindgen_futures::spawn_local(async {
            let _ = start().await;
        });
    }
}

/// `chrome.storage.onChanged`: apply a new account or settings without reloading.
#[wasm_bindgen(js_name = onStorageChanged)]
pub fn on_storage_changed(changes: JsValue, area: String) {
    let changes = from_js(&changes);
    let relevant = match area.as_str() {
        "sync" => changes.get("account").is_some() || changes.get("settings").is_some(),
        "local" => changes.get("password").is_some(),
        _ => false,
    };
    if relevant {
        wasm_bindgen_futures::spawn_local(async {
            if host::is_started() {
                reload_config().await;
            } else {
                let _ = start().await;
            }
        });
    }
}
