//! Carries the core's media requests to the offscreen document, one at a time and in order,
//! and feeds the answers back. The offscreen document lives while any call holds it.

use crate::host;
use crate::offscreen;
use ferrophone_ua::call::{MediaOp, MediaRequest};
use ferrophone_ua::{Input, MediaResult};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};

thread_local! {
    static QUEUE: RefCell<VecDeque<MediaRequest>> = const { RefCell::new(VecDeque::new()) };
    static RUNNING: RefCell<bool> = const { RefCell::new(false) };
    /// Calls that currently hold the offscreen document.
    static HOLDERS: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

thread_local! {
    /// Checks every 2 s, while calls hold the offscreen document, that it still exists.
    static WATCHDOG: RefCell<Option<gloo_timers::callback::Interval>> = const { RefCell::new(None) };
}

fn update_watchdog() {
    let needed = HOLDERS.with(|h| !h.borrow().is_empty());
    WATCHDOG.with(|w| {
        let mut w = w.borrow_mut();
        if needed && w.is_none() {
            *w = Some(gloo_timers::callback::Interval::new(2_000, || {
                wasm_bindgen_futures::spawn_local(check_document());
            }));
        } else if !needed {
            *w = None;
        }
    });
}

/// The offscreen document vanished (closed by Chrome, crashed, or closed by someone else):
/// every call that depended on it ends cleanly (BYE) instead of living on without audio.
async fn check_document() {
    if HOLDERS.with(|h| h.borrow().is_empty()) || RUNNING.with(|r| *r.borrow()) {
        return;
    }
    if offscreen::exists().await {
        return;
    }
    let lost: Vec<String> = HOLDERS.with(|h| std::mem::take(&mut *h.borrow_mut())).into_iter().collect();
    offscreen::forget_users();
    update_watchdog();
    for call in lost {
        crate::chrome::console_warn(&format!("[ferrophone] call {call}: the media document disappeared"));
        host::input(Input::Media(MediaResult::Lost { call, reason: "the offscreen media document was closed".into() }));
    }
}

pub fn enqueue(reqs: Vec<MediaRequest>) {
    if reqs.is_empty() {
        return;
    }
    QUEUE.with(|q| q.borrow_mut().extend(reqs));
    if RUNNING.with(|r| r.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        loop {
            let next = QUEUE.with(|q| q.borrow_mut().pop_front());
            let Some(m) = next else { break };
            run(m).await;
        }
        RUNNING.with(|r| *r.borrow_mut() = false);
    });
}

/// The configured STUN/TURN servers as RTCPeerConnection takes them, secrets included: only for
/// the `ice-servers` reply, which goes to the context that asked (the offscreen document).
pub fn ice_servers_with_credentials() -> Value {
    host::with_host(|h| serde_json::to_value(&h.ua.settings().ice_servers).unwrap_or(json!([]))).unwrap_or(json!([]))
}

/// The ICE servers for a media request, WITHOUT TURN passwords (a request is a runtime message
/// every page of the extension receives), whether any was left out, and the gathering cap. The
/// offscreen document fetches the passwords with `ice-servers`, whose reply only it receives.
fn settings_json() -> (Value, bool, u32) {
    let gather = host::with_host(|h| h.ua.settings().ice_gathering_timeout_ms).unwrap_or(2000);
    let mut servers = ice_servers_with_credentials();
    let mut withheld = false;
    if let Some(list) = servers.as_array_mut() {
        for server in list {
            if let Some(obj) = server.as_object_mut() {
                withheld |= obj.remove("credential").is_some();
            }
        }
    }
    (servers, withheld, gather)
}

async fn run(m: MediaRequest) {
    let call = m.call.clone();
    if m.op == MediaOp::Close {
        if HOLDERS.with(|h| h.borrow().contains(&call)) {
            let _ = offscreen::request("media-close", json!({ "callId": call })).await;
            HOLDERS.with(|h| h.borrow_mut().remove(&call));
            update_watchdog();
            offscreen::release().await;
        }
        return;
    }
    // StopRing for a call that never got the document (it ended very early): nothing to stop.
    let holds = HOLDERS.with(|h| h.borrow().contains(&call));
    if !holds {
        if matches!(
            m.op,
            MediaOp::StopRing | MediaOp::Rollback | MediaOp::Mute(_) | MediaOp::OpenMicrophone | MediaOp::ZipTone
        ) {
            return;
        }
        if let Err(e) = offscreen::acquire().await {
            return report(&m, Err(e));
        }
        HOLDERS.with(|h| h.borrow_mut().insert(call.clone()));
        update_watchdog();
    }
    let (ice, credentials, gather) = settings_json();
    let (kind, body) = match &m.op {
        MediaOp::CreateOffer => (
            "media-offer",
            json!({ "callId": call, "iceServers": ice, "iceCredentials": credentials, "gatheringTimeoutMs": gather }),
        ),
        MediaOp::CreateAnswer { offer } => (
            "media-answer",
            json!({ "callId": call, "sdp": offer, "iceServers": ice, "iceCredentials": credentials, "gatheringTimeoutMs": gather }),
        ),
        // Prepared ahead of a delayed automatic answer: the SDP without the microphone.
        MediaOp::PrepareOffer => (
            "media-offer",
            json!({ "callId": call, "iceServers": ice, "iceCredentials": credentials, "gatheringTimeoutMs": gather, "microphone": false }),
        ),
        MediaOp::PrepareAnswer { offer } => (
            "media-answer",
            json!({ "callId": call, "sdp": offer, "iceServers": ice, "iceCredentials": credentials, "gatheringTimeoutMs": gather, "microphone": false }),
        ),
        MediaOp::OpenMicrophone => ("media-microphone", json!({ "callId": call })),
        MediaOp::ZipTone => ("tone-zip", json!({ "callId": call })),
        MediaOp::ApplyAnswer { answer, final_answer } => {
            ("media-remote", json!({ "callId": call, "sdp": answer, "final": final_answer }))
        }
        MediaOp::Reoffer { direction, ice_restart } => (
            "media-reoffer",
            json!({ "callId": call, "direction": direction, "iceRestart": ice_restart, "gatheringTimeoutMs": gather }),
        ),
        MediaOp::Rollback => ("media-rollback", json!({ "callId": call })),
        MediaOp::StartRing => ("ring-start", json!({ "callId": call })),
        MediaOp::StopRing => ("ring-stop", json!({ "callId": call })),
        MediaOp::Mute(muted) => ("media-mute", json!({ "callId": call, "muted": muted })),
        MediaOp::Dtmf(digits) => ("media-dtmf", json!({ "callId": call, "digits": digits })),
        MediaOp::Close => unreachable!("handled above"),
    };
    let reply = offscreen::request(kind, body).await;
    let result = match reply {
        Ok(v) if v.get("ok").and_then(Value::as_bool) == Some(true) => Ok(v),
        Ok(v) => Err(v
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{kind} failed"))),
        Err(e) => Err(e),
    };
    report(&m, result);
}

/// Every result goes back to the core, which decides what it means.
fn report(m: &MediaRequest, result: Result<Value, String>) {
    let result = result.map(|v| v.get("sdp").and_then(Value::as_str).map(str::to_string));
    host::input(Input::Media(MediaResult::Done { request: m.clone(), result }));
}
