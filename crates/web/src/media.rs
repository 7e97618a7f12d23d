//! Carries the core's media requests to the offscreen document and every result back to the
//! core (which decides what a failure means). Each call has its own queue: a call's requests
//! run one at a time and in order, while different calls do not wait for each other. The
//! offscreen document lives while any call holds it.

use crate::host;
use crate::offscreen;
use ferrophone_ua::api::{IceServer, MediaEventKind, MediaMessage, V1};
use ferrophone_ua::call::{MediaOp, MediaRequest};
use ferrophone_ua::vecmap::VecMap;
use ferrophone_ua::{Input, MediaResult};
use std::cell::RefCell;
use std::collections::VecDeque;

thread_local! {
    /// Per call, the requests waiting behind the one in progress. A call has an entry exactly
    /// while a task runs its requests.
    static QUEUES: RefCell<VecMap<String, VecDeque<MediaRequest>>> = const { RefCell::new(VecMap::new()) };
    /// Calls that currently hold the offscreen document.
    static HOLDERS: RefCell<VecMap<String, ()>> = const { RefCell::new(VecMap::new()) };
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

fn busy() -> bool {
    QUEUES.with(|q| !q.borrow().is_empty())
}

/// The offscreen document vanished (closed by Chrome, crashed, or closed by someone else):
/// every call that depended on it is lost, and the core ends it cleanly (BYE) instead of
/// letting it live on without audio.
async fn check_document() {
    if HOLDERS.with(|h| h.borrow().is_empty()) || busy() {
        return;
    }
    if offscreen::exists().await {
        return;
    }
    let lost: Vec<String> = HOLDERS.with(|h| std::mem::take(&mut *h.borrow_mut())).into_keys().collect();
    offscreen::forget_users();
    update_watchdog();
    for call in lost {
        crate::chrome::console_warn(&format!("[ferrophone] call {call}: the media document disappeared"));
        host::input(Input::Media(MediaResult::Lost { call, reason: "the offscreen media document was closed".into() }));
    }
}

/// The offscreen document's `media-event`: a call whose media failed or whose microphone track
/// ended is lost (the core decides what follows); `connected` needs nothing.
pub fn media_event(call: &str, event: Option<MediaEventKind>) {
    if let Some(e @ (MediaEventKind::Failed | MediaEventKind::TrackEnded)) = event {
        host::input(Input::Media(MediaResult::Lost { call: call.to_string(), reason: e.as_str().to_string() }));
    }
}

pub fn enqueue(reqs: Vec<MediaRequest>) {
    for m in reqs {
        // The first request of an idle call starts that call's task; later ones wait in its queue.
        let first = QUEUES.with(|q| {
            let mut q = q.borrow_mut();
            match q.get_mut(&m.call) {
                Some(waiting) => {
                    waiting.push_back(m);
                    None
                }
                None => {
                    q.insert(m.call.clone(), VecDeque::new());
                    Some(m)
                }
            }
        });
        if let Some(m) = first {
            wasm_bindgen_futures::spawn_local(run_call(m));
        }
    }
}

/// Runs one call's requests in order until its queue is empty.
async fn run_call(first: MediaRequest) {
    let call = first.call.clone();
    let mut next = Some(first);
    while let Some(m) = next {
        run(m).await;
        next = QUEUES.with(|q| {
            let mut q = q.borrow_mut();
            let m = q.get_mut(&call).and_then(VecDeque::pop_front);
            if m.is_none() {
                q.remove(&call);
            }
            m
        });
    }
}

/// The configured STUN/TURN servers as RTCPeerConnection takes them, secrets included: only for
/// the `ice-servers` reply, which goes to the context that asked (the offscreen document).
pub fn ice_servers_with_credentials() -> Vec<IceServer> {
    host::with_host(|h| h.ua.settings().ice_servers.clone()).unwrap_or_default()
}

/// The ICE servers for a media request, WITHOUT TURN passwords (a request is a runtime message
/// every page of the extension receives), whether any was left out, and the gathering cap. The
/// offscreen document fetches the passwords with `ice-servers`, whose reply only it receives.
fn ice_settings() -> (Vec<IceServer>, bool, u32) {
    let gather = host::with_host(|h| h.ua.settings().ice_gathering_timeout_ms).unwrap_or(2000);
    let mut servers = ice_servers_with_credentials();
    let mut withheld = false;
    for server in &mut servers {
        withheld |= server.credential.take().is_some();
    }
    (servers, withheld, gather)
}

/// The media message for a request (`Close` is handled before).
fn message(m: &MediaRequest) -> MediaMessage {
    let call_id = m.call.clone();
    let ferrophone = V1;
    let new_media = || ice_settings();
    match &m.op {
        MediaOp::CreateOffer | MediaOp::PrepareOffer => {
            let (ice_servers, ice_credentials, gathering_timeout_ms) = new_media();
            // Prepared ahead of a delayed automatic answer: the SDP without the microphone.
            let microphone = (m.op == MediaOp::PrepareOffer).then_some(false);
            MediaMessage::MediaOffer {
                ferrophone,
                call_id,
                ice_servers,
                ice_credentials,
                gathering_timeout_ms,
                microphone,
            }
        }
        MediaOp::CreateAnswer { offer } | MediaOp::PrepareAnswer { offer } => {
            let (ice_servers, ice_credentials, gathering_timeout_ms) = new_media();
            let microphone = matches!(m.op, MediaOp::PrepareAnswer { .. }).then_some(false);
            MediaMessage::MediaAnswer {
                ferrophone,
                call_id,
                sdp: offer.clone(),
                ice_servers,
                ice_credentials,
                gathering_timeout_ms,
                microphone,
            }
        }
        MediaOp::OpenMicrophone => MediaMessage::MediaMicrophone { ferrophone, call_id },
        MediaOp::ZipTone => MediaMessage::ToneZip { ferrophone, call_id },
        MediaOp::ApplyAnswer { answer, final_answer } => {
            MediaMessage::MediaRemote { ferrophone, call_id, sdp: answer.clone(), final_answer: *final_answer }
        }
        MediaOp::Reoffer { direction, ice_restart } => MediaMessage::MediaReoffer {
            ferrophone,
            call_id,
            direction: direction.to_string(),
            ice_restart: *ice_restart,
            gathering_timeout_ms: ice_settings().2,
        },
        MediaOp::Rollback => MediaMessage::MediaRollback { ferrophone, call_id },
        MediaOp::StartRing => MediaMessage::RingStart { ferrophone, call_id },
        MediaOp::StopRing => MediaMessage::RingStop { ferrophone, call_id },
        MediaOp::Mute(muted) => MediaMessage::MediaMute { ferrophone, call_id, muted: *muted },
        MediaOp::Dtmf(digits) => {
            MediaMessage::MediaDtmf { ferrophone, call_id, digits: digits.clone(), duration_ms: None, gap_ms: None }
        }
        MediaOp::Close => MediaMessage::MediaClose { ferrophone, call_id },
    }
}

async fn run(m: MediaRequest) {
    let call = m.call.clone();
    if m.op == MediaOp::Close {
        let mut result = Ok(None);
        if HOLDERS.with(|h| h.borrow().contains_key(&call)) {
            result = outcome(&message(&m)).await;
            HOLDERS.with(|h| h.borrow_mut().remove(&call));
            update_watchdog();
            offscreen::release().await;
        }
        return report(m, result);
    }
    // StopRing for a call that never got the document (it ended very early): nothing to stop.
    let holds = HOLDERS.with(|h| h.borrow().contains_key(&call));
    if !holds {
        if matches!(
            m.op,
            MediaOp::StopRing | MediaOp::Rollback | MediaOp::Mute(_) | MediaOp::OpenMicrophone | MediaOp::ZipTone
        ) {
            return report(m, Ok(None));
        }
        if let Err(e) = offscreen::acquire().await {
            return report(m, Err(e));
        }
        HOLDERS.with(|h| h.borrow_mut().insert(call.clone(), ()));
        update_watchdog();
    }
    let result = outcome(&message(&m)).await;
    report(m, result);
}

/// Send one request; its SDP (if it makes one), or why it failed.
async fn outcome(msg: &MediaMessage) -> Result<Option<String>, String> {
    match offscreen::request(msg).await {
        Ok(r) if r.ok => Ok(r.sdp),
        Ok(r) => Err(r.error.map(|e| e.message).unwrap_or_else(|| format!("{} failed", msg.kind()))),
        Err(e) => Err(e),
    }
}

/// Every result goes back to the core, which decides what it means.
fn report(request: MediaRequest, result: Result<Option<String>, String>) {
    host::input(Input::Media(MediaResult::Done { request, result }));
}
