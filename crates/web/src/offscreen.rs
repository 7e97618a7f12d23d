//! The offscreen document's life: created when something needs media, closed when nothing does.
//! Only one exists per extension (Chrome's rule); it knows WebRTC and SDP, never SIP.

use crate::chrome;
use crate::schema::{from_js, to_js, SCHEMA_VERSION};
use serde_json::{json, Value};
use std::cell::Cell;

const URL: &str = "extension/offscreen.html";

thread_local! {
    /// Users of the offscreen document right now (calls, probes).
    static USERS: Cell<u32> = const { Cell::new(0) };
}

/// Nobody holds the document any more (it disappeared under its users).
pub fn forget_users() {
    USERS.with(|u| u.set(0));
}

/// A worker that starts finds a document left by its previous life (Chrome stopped the worker
/// mid-call): the calls it served are gone, so close it and release the microphone.
pub async fn close_stale() {
    if USERS.with(|u| u.get()) == 0 && exists().await {
        crate::chrome::console_warn("[ferrophone] closing a media document left over from before a worker restart");
        let _ = chrome::call(chrome::offscreen_close()).await;
    }
}

pub async fn exists() -> bool {
    let filter = to_js(&json!({ "contextTypes": ["OFFSCREEN_DOCUMENT"] }));
    match chrome::call(chrome::get_contexts(&filter)).await {
        Ok(v) => js_sys::Array::from(&v).length() > 0,
        Err(_) => false,
    }
}

/// Make sure the document exists; counts one more user.
pub async fn acquire() -> Result<(), String> {
    USERS.with(|u| u.set(u.get() + 1));
    if exists().await {
        return Ok(());
    }
    let params = to_js(&json!({
        "url": URL,
        "reasons": ["USER_MEDIA", "WEB_RTC", "AUDIO_PLAYBACK"],
        "justification": "Microphone capture, WebRTC audio and ringing for SIP calls",
    }));
    match chrome::call(chrome::offscreen_create(&params)).await {
        Ok(_) => Ok(()),
        // Lost a race with another creator: one exists now, which is what we want.
        Err(_) if exists().await => Ok(()),
        Err(e) => {
            release_count();
            Err(format!("cannot create the offscreen document: {}", js_error_text(&e)))
        }
    }
}

fn release_count() -> u32 {
    USERS.with(|u| {
        let n = u.get().saturating_sub(1);
        u.set(n);
        n
    })
}

/// One user is done; close the document when nobody needs it any more.
pub async fn release() {
    if release_count() == 0 && exists().await {
        let _ = chrome::call(chrome::offscreen_close()).await;
    }
}

/// Send a request to the offscreen document and wait for its reply. Retries briefly while the
/// freshly created document has not registered its listener yet.
pub async fn request(kind: &str, mut body: Value) -> Result<Value, String> {
    body["ferrophone"] = json!(SCHEMA_VERSION);
    body["target"] = json!("offscreen");
    body["type"] = json!(kind);
    let msg = to_js(&body);
    let mut last = String::new();
    for attempt in 0..20 {
        match chrome::call(chrome::send_message(&msg)).await {
            Ok(v) if !v.is_undefined() => return Ok(from_js(&v)),
            Ok(_) => last = "the offscreen document did not answer".into(),
            Err(e) => last = js_error_text(&e),
        }
        gloo_timers::future::TimeoutFuture::new(25 * (attempt + 1)).await;
    }
    Err(last)
}

pub fn js_error_text(e: &wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// Diagnostics: open the microphone in the offscreen document, report, close again.
pub async fn mic_test() -> Value {
    if let Err(e) = acquire().await {
        return crate::schema::error("offscreen-unavailable", e);
    }
    let reply = request("mic-probe", json!({})).await;
    release().await;
    match reply {
        Ok(v) => v,
        Err(e) => crate::schema::error("offscreen-unavailable", e),
    }
}
