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

use ferrophone_ua::api::{self, Command, Reply, RequestError};
use ferrophone_ua::{Handled, Input, UserAgent};
use schema::{refuse, to_js};
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

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct AlarmInfo {
    period_in_minutes: f32,
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
    let _ = chrome::call(chrome::alarms_create(ALARM, &to_js(&AlarmInfo { period_in_minutes: 0.5 }))).await;
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

fn status_body() -> api::StatusBody {
    host::with_host(|h| api::StatusBody::new(&h.ua.status(host::now()), h.config_problem.as_deref()))
        .unwrap_or_else(api::StatusBody::unconfigured)
}

fn status_reply() -> Reply {
    Reply::Status(status_body().into())
}

async fn diagnostics() -> Reply {
    let (account, settings, problem) = host::load_config().await;
    let ua = host::with_host(|h| api::DiagnosticsUa {
        instance_id: h.ua.identity().instance_id.clone(),
        status: {
            let b = api::StatusBody::new(&h.ua.status(host::now()), h.config_problem.as_deref());
            api::DiagnosticsStatus { registration: b.registration, connection: b.connection }
        },
        trace: h.ua.trace().map(api::TraceLine::from).collect(),
    });
    let version = schema::get_str(&chrome::get_manifest(), "version");
    // TURN passwords are secrets too: diagnostics show that one is set, never its value.
    let mut settings = settings.normalized();
    for server in &mut settings.ice_servers {
        if server.credential.is_some() {
            server.credential = Some("<set>".into());
        }
    }
    Reply::Diagnostics(Box::new(api::DiagnosticsReply {
        ok: api::True,
        version,
        account: account.map(|a| api::DiagnosticsAccount {
            server: a.server.url(),
            aor: a.aor(),
            password_stored: !a.password.is_empty(),
            username: a.username,
            auth_username: a.auth_username,
            domain: a.domain,
            display_name: a.display_name,
        }),
        config_problem: problem,
        settings,
        ua,
    }))
}

/// The reply of a core command: the call it concerns as it is now (`null` once it is gone).
fn handled_reply(h: Option<Handled>) -> Reply {
    match h {
        Some(Handled::Call(c)) => Reply::Call(api::CallReply { ok: api::True, call: Some(c) }),
        Some(Handled::Done) => Reply::Call(api::CallReply { ok: api::True, call: None }),
        Some(Handled::Refused(e)) => refuse(e.code(), e.to_string()),
        None => not_running(),
    }
}

fn not_running() -> Reply {
    refuse("not-connected", "the user agent is not running")
}

/// A request's fields (`api::RequestFields`: a value of the wrong type counts as absent).
fn request_fields(msg: &JsValue) -> api::RequestFields {
    use schema::{get, get_str};
    let detail = get(msg, "detail");
    api::RequestFields {
        v1: get(msg, "ferrophone").as_f64() == Some(api::VERSION as f64),
        cmd: get_str(msg, "cmd"),
        target: get_str(msg, "target"),
        id: get_str(msg, "id"),
        digits: get_str(msg, "digits"),
        replaces: get_str(msg, "replaces"),
        server: get_str(msg, "server"),
        call_id: get_str(msg, "callId"),
        event: get_str(msg, "event"),
        detail: (detail.is_object() && !js_sys::Array::is_array(&detail)).then(|| api::MediaEventDetail {
            reason: get_str(&detail, "reason"),
            message: get_str(&detail, "message"),
            ice_state: get_str(&detail, "iceState"),
            label: get_str(&detail, "label"),
        }),
    }
}

/// Run one request (docs/API.md) and answer it. `external`: from another extension, which may
/// not use the internal commands.
async fn dispatch(msg: &JsValue, external: bool) -> JsValue {
    let parsed = api::command_from_fields(request_fields(msg));
    if let Err(RequestError::Envelope(m)) = parsed {
        return to_js(&refuse("bad-request", m));
    }
    ensure_started().await;
    let reply = match parsed {
        Ok(cmd) if external && cmd.is_internal() => api::unknown_command(cmd.name()).into(),
        Ok(cmd) => run(cmd).await,
        Err(RequestError::UnknownCommand(name)) => return other_command(&name, msg, external).await,
        Err(e) => e.to_error().into(),
    };
    to_js(&reply)
}

/// Run one typed command.
async fn run(cmd: Command) -> Reply {
    let cmd = match cmd.into_core() {
        // Register and unregister answer with the status; the call commands with the call.
        Ok(core @ (ferrophone_ua::Command::Register | ferrophone_ua::Command::Unregister)) => {
            host::input(Input::Command(core));
            return status_reply();
        }
        Ok(core) => return handled_reply(host::handle(Input::Command(core))),
        Err(cmd) => cmd,
    };
    match cmd {
        Command::Status => status_reply(),
        Command::Calls => Reply::Calls(api::CallsReply {
            ok: api::True,
            calls: host::with_host(|h| h.ua.calls()).unwrap_or_default(),
        }),
        Command::MediaEvent { call_id, event, detail: _ } => {
            media::media_event(&call_id, event);
            Reply::Ok(api::OkReply::default())
        }
        Command::MicTest => offscreen::mic_test().await,
        // The offscreen document's TURN passwords: in the reply only (it reaches the asker alone),
        // never in a media request (a runtime message every page of the extension receives).
        Command::IceServers => Reply::IceServers(api::IceServersReply {
            ok: api::True,
            ice_servers: media::ice_servers_with_credentials(),
        }),
        Command::TestConnection { server } => {
            let server = match server {
                Some(s) => s,
                None => match host::load_config().await.0 {
                    Some(a) => a.server.url(),
                    None => return refuse("unconfigured", "no server given and no account saved"),
                },
            };
            probe::test_connection(&server, random_seed()).await
        }
        Command::Diagnostics => diagnostics().await,
        // Never reached: `into_core` took these above.
        Command::Dial { .. }
        | Command::Call { .. }
        | Command::Transfer { .. }
        | Command::Dtmf { .. }
        | Command::Register
        | Command::Unregister => api::unknown_command(cmd.name()).into(),
    }
}

/// Internal commands that `api::Command` does not define (their own module reads their
/// arguments from `msg`). Anything else is `unknown-command`.
async fn other_command(name: &str, msg: &JsValue, external: bool) -> JsValue {
    match name {
        // Never from outside: other extensions must not change the account.
        "save-config" if !external => to_js(&config_store::save(&schema::from_js(msg)).await),
        _ => to_js(&Reply::from(api::unknown_command(name))),
    }
}

/// A message from this extension (options page, offscreen document, popup).
#[wasm_bindgen(js_name = handleMessage)]
pub async fn handle_message(msg: JsValue, _sender: JsValue) -> Result<JsValue, JsValue> {
    Ok(dispatch(&msg, false).await)
}

/// A message from another extension: only ids on the allow-list may use the API.
#[wasm_bindgen(js_name = handleExternalMessage)]
pub async fn handle_external_message(msg: JsValue, sender: JsValue) -> Result<JsValue, JsValue> {
    let id = schema::get_str(&sender, "id").unwrap_or_default();
    let (_, settings, _) = host::load_config().await;
    if id.is_empty() || !settings.allowed_extensions.iter().any(|a| a == &id) {
        return Ok(to_js(&refuse(
            "not-allowed",
            format!("extension {id:?} is not on Ferrophone's allow-list (options page → External access)"),
        )));
    }
    Ok(dispatch(&msg, true).await)
}

/// Run a core command (the browser surfaces: omnibox, keyboard, context menu, notifications)
/// and answer like the Command API: `{ok: true, call}` or the error.
pub(crate) fn run_command(c: ferrophone_ua::Command) -> Reply {
    handled_reply(host::handle(Input::Command(c)))
}

fn log_result(what: &str, r: &Reply) {
    match r.error_message() {
        None => chrome::console_log(&format!("[ferrophone] {what}: ok")),
        Some(msg) => chrome::console_warn(&format!("[ferrophone] {what}: {msg}")),
    }
}

/// The omnibox keyword (`call 1000`, `call sip:bob@example.com`): dial what was typed.
#[wasm_bindgen(js_name = onOmnibox)]
pub async fn on_omnibox(text: String) -> Result<JsValue, JsValue> {
    ensure_started().await;
    let r = run_command(ferrophone_ua::Command::Dial { target: text });
    log_result("omnibox dial", &r);
    Ok(to_js(&r))
}

/// Keyboard shortcuts from `chrome.commands`: `answer`, `hangup`, `mute`.
#[wasm_bindgen(js_name = onCommand)]
pub async fn on_command(name: String) -> Result<JsValue, JsValue> {
    ensure_started().await;
    let r = match name.as_str() {
        "answer" => run_command(ferrophone_ua::Command::AnswerRinging),
        "hangup" => run_command(ferrophone_ua::Command::HangupCurrent),
        "mute" => run_command(ferrophone_ua::Command::ToggleMuteCurrent),
        _ => refuse("unknown-command", format!("unknown keyboard command {name:?}")),
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
    let menu_item_id = schema::get_str(&info, "menuItemId");
    let r = match menu_item_id.as_deref() {
        Some("ferrophone-call-link") => {
            let link = schema::get_str(&info, "linkUrl").unwrap_or_default();
            let link = link.as_str();
            match ferrophone_ua::call::target_from_link(link) {
                None => refuse("invalid-target", "nothing to call in this link"),
                Some(t) => match host::load_config().await.0 {
                    None => refuse("not-connected", "no account is configured"),
                    Some(account) => match ferrophone_ua::call::normalize_target(&t, &account.domain) {
                        Ok(uri) => {
                            notify::confirm_link_dial(uri, link, schema::get_str(&info, "pageUrl").as_deref()).await
                        }
                        Err(e) => refuse(e.code(), e.to_string()),
                    },
                },
            }
        }
        Some("ferrophone-call-selection") => match schema::get_str(&info, "selectionText") {
            Some(target) => run_command(ferrophone_ua::Command::Dial { target }),
            None => refuse("invalid-target", "nothing to call in this selection"),
        },
        _ => refuse("invalid-target", "nothing to call in this selection or link"),
    };
    if matches!(r, Reply::LinkConfirm(_)) {
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
    // Which keys changed (their values are read again from storage).
    let relevant = match area.as_str() {
        "sync" => schema::has(&changes, "account") || schema::has(&changes, "settings"),
        "local" => schema::has(&changes, "password"),
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
