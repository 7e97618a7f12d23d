//! The offscreen document's life: created when something needs media, closed when nothing does.
//! Only one exists per extension (Chrome's rule); it knows WebRTC and SDP, never SIP.

use crate::chrome;
use crate::schema::{get, get_str, to_js};
use ferrophone_ua::api::{self, MediaMessage, MediaReply, Reply};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::future::Future;
use wasm_bindgen::JsValue;

const URL: &str = "extension/offscreen.html";

thread_local! {
    /// Users of the offscreen document right now (calls, probes).
    static USERS: Cell<u32> = const { Cell::new(0) };
    /// The last lifecycle step (create or close) queued: each one waits for the one before.
    static LIFECYCLE: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
}

/// Runs the document's lifecycle steps one at a time. Calls acquire and release the document
/// concurrently (each call has its own media queue): without this, a call could find the
/// document alive while another call's release is about to close it.
async fn one_at_a_time<F: Future>(step: F) -> F::Output {
    let mut done: Option<js_sys::Function> = None;
    let mine = js_sys::Promise::new(&mut |resolve, _| done = Some(resolve));
    let before = LIFECYCLE.with(|l| l.replace(Some(mine)));
    if let Some(p) = before {
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    }
    let out = step.await;
    if let Some(f) = done {
        let _ = f.call0(&wasm_bindgen::JsValue::UNDEFINED);
    }
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContextFilter {
    context_types: [&'static str; 1],
}

#[derive(Serialize)]
struct CreateParameters {
    url: &'static str,
    reasons: [&'static str; 3],
    justification: &'static str,
}

/// Nobody holds the document any more (it disappeared under its users).
pub fn forget_users() {
    USERS.with(|u| u.set(0));
}

/// A worker that starts finds a document left by its previous life (Chrome stopped the worker
/// mid-call): the calls it served are gone, so close it and release the microphone.
pub async fn close_stale() {
    one_at_a_time(async {
        if USERS.with(|u| u.get()) == 0 && exists().await {
            crate::chrome::console_warn("[ferrophone] closing a media document left over from before a worker restart");
            let _ = chrome::call(chrome::offscreen_close()).await;
        }
    })
    .await
}

pub async fn exists() -> bool {
    let filter = to_js(&ContextFilter { context_types: ["OFFSCREEN_DOCUMENT"] });
    match chrome::call(chrome::get_contexts(&filter)).await {
        Ok(v) => js_sys::Array::from(&v).length() > 0,
        Err(_) => false,
    }
}

/// Make sure the document exists; counts one more user.
pub async fn acquire() -> Result<(), String> {
    one_at_a_time(create()).await
}

async fn create() -> Result<(), String> {
    USERS.with(|u| u.set(u.get() + 1));
    if exists().await {
        return Ok(());
    }
    let params = to_js(&CreateParameters {
        url: URL,
        reasons: ["USER_MEDIA", "WEB_RTC", "AUDIO_PLAYBACK"],
        justification: "Microphone capture, WebRTC audio and ringing for SIP calls",
    });
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
    one_at_a_time(async {
        if release_count() == 0 && exists().await {
            let _ = chrome::call(chrome::offscreen_close()).await;
        }
    })
    .await
}

/// Send a request to the offscreen document and wait for its reply. Retries briefly while the
/// freshly created document has not registered its listener yet.
pub async fn request(m: &MediaMessage) -> Result<MediaReply, String> {
    let msg = to_js(m);
    let mut last = String::new();
    for attempt in 0..20 {
        match chrome::call(chrome::send_message(&msg)).await {
            Ok(v) if !v.is_undefined() => return Ok(read_reply(&v)),
            Ok(_) => last = "the offscreen document did not answer".into(),
            Err(e) => last = js_error_text(&e),
        }
        gloo_timers::future::TimeoutFuture::new(25 * (attempt + 1)).await;
    }
    Err(last)
}

/// A media reply (`api::MediaReply`), read field by field: a field of the wrong type counts as
/// absent (a reply without `ok: true` is a failure, one without `sdp` has none).
fn read_reply(v: &JsValue) -> MediaReply {
    let error = get(v, "error");
    let number = |key| get(v, key).as_f64().filter(|n| *n >= 0.0 && *n <= u32::MAX as f64).map(|n| n as u32);
    MediaReply {
        ok: get(v, "ok").as_bool() == Some(true),
        sdp: get_str(v, "sdp"),
        error: get_str(&error, "message")
            .map(|message| api::ApiError { code: get_str(&error, "code").unwrap_or_default(), message }),
        audio_tracks: number("audioTracks"),
        label: get_str(v, "label"),
        sample_rate: number("sampleRate"),
    }
}

pub fn js_error_text(e: &wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// Diagnostics: open the microphone in the offscreen document, report, close again.
pub async fn mic_test() -> Reply {
    if let Err(e) = acquire().await {
        return Reply::error("offscreen-unavailable", e);
    }
    let reply = request(&MediaMessage::MicProbe { ferrophone: api::V1 }).await;
    release().await;
    match reply {
        Ok(MediaReply { ok: true, audio_tracks: Some(audio_tracks), label: Some(label), sample_rate, .. }) => {
            Reply::MicProbe(api::MicProbeReply { ok: api::True, audio_tracks, label, sample_rate })
        }
        Ok(MediaReply { error: Some(error), .. }) => error.into(),
        Ok(_) => Reply::error("offscreen-unavailable", "mic-probe: unexpected reply"),
        Err(e) => Reply::error("offscreen-unavailable", e),
    }
}
