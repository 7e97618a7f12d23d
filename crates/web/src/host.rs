//! The run loop: owns the `UserAgent`, the WebSocket and the timer, and pumps outputs.

use crate::chrome;
use crate::schema::to_js;
use ferrophone_ua::api;
use ferrophone_ua::call::{CallInfo, MediaRequest};
use ferrophone_ua::config::{Account, AccountRecord, Settings};
use ferrophone_ua::identity::Identity;
use ferrophone_ua::{Event, Handled, Input, Output, Status, UserAgent};
use serde::Serialize;
use serde_json::Value;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

pub struct Host {
    pub ua: UserAgent,
    socket: Option<Socket>,
    generation: u64,
    timer: Option<gloo_timers::callback::Timeout>,
    timer_at: Option<u64>,
    /// Why the stored configuration is not usable (shown with the `unconfigured` state).
    pub config_problem: Option<String>,
    /// No account is stored ("Forget everything" or never configured): do not write the
    /// registration identity back to storage.
    pub forget_identity: bool,
}

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
}

pub fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// Run `f` with the host, if started.
pub fn with_host<R>(f: impl FnOnce(&mut Host) -> R) -> Option<R> {
    HOST.with(|h| h.borrow_mut().as_mut().map(f))
}

pub fn is_started() -> bool {
    HOST.with(|h| h.borrow().is_some())
}

pub fn install(host: Host) {
    HOST.with(|h| *h.borrow_mut() = Some(host));
}

impl Host {
    pub fn new(ua: UserAgent) -> Host {
        Host {
            ua,
            socket: None,
            generation: 0,
            timer: None,
            timer_at: None,
            config_problem: None,
            forget_identity: false,
        }
    }
}

/// Feed an input and pump.
pub fn input(i: Input) {
    handle(i);
}

/// Feed an input, pump, and return what the core did with it (`None`: not started).
pub fn handle(i: Input) -> Option<Handled> {
    let out = with_host(|h| {
        let handled = h.ua.handle_input(now(), i);
        (handled, pump(h))
    });
    out.map(|(handled, fx)| {
        run_effects(fx);
        handled
    })
}

/// Run due timers and pump.
pub fn tick() {
    let effects = with_host(|h| {
        h.ua.handle_timeout(now());
        pump(h)
    });
    if let Some(e) = effects {
        run_effects(e);
    }
}

/// Side effects that must run outside the host borrow (they are async).
pub struct Effects {
    statuses: Vec<Status>,
    identity: Option<Identity>,
    calls: Vec<CallInfo>,
    media: Vec<MediaRequest>,
    dtmf: Vec<(String, char)>,
    transfers: Vec<ferrophone_ua::TransferProgress>,
}

fn pump(h: &mut Host) -> Effects {
    let mut fx = Effects {
        statuses: Vec::new(),
        identity: None,
        calls: Vec::new(),
        media: Vec::new(),
        dtmf: Vec::new(),
        transfers: Vec::new(),
    };
    loop {
        match h.ua.poll_output() {
            Output::Connect { url } => {
                h.socket = None;
                h.generation += 1;
                match open_socket(&url, h.generation) {
                    Ok(s) => h.socket = Some(s),
                    Err(reason) => {
                        chrome::console_warn(&format!("[ferrophone] cannot open {url}: {reason}"));
                        h.ua.handle_input(now(), Input::Disconnected { reason });
                    }
                }
            }
            Output::Send(bytes) => {
                let sent = match &h.socket {
                    Some(s) if s.ws.ready_state() == WebSocket::OPEN => {
                        let text = String::from_utf8_lossy(&bytes);
                        s.ws.send_with_str(&text).is_ok()
                    }
                    _ => false,
                };
                if !sent {
                    h.socket = None;
                    h.ua.handle_input(now(), Input::Disconnected { reason: "send failed".into() });
                }
            }
            Output::Close => {
                if h.socket.take().is_some() {
                    h.generation += 1;
                    h.ua.handle_input(now(), Input::Disconnected { reason: "closed by us".into() });
                }
            }
            Output::Event(Event::Status(s)) => fx.statuses.push(s),
            Output::Event(Event::IdentityChanged(id)) => {
                if !h.forget_identity {
                    fx.identity = Some(id)
                }
            }
            Output::Event(Event::Log(line)) => chrome::console_log(&format!("[ferrophone] {line}")),
            Output::Event(Event::Call(info)) => fx.calls.push(info),
            Output::Event(Event::Media(m)) => fx.media.push(m),
            Output::Event(Event::Dtmf { call, digit }) => fx.dtmf.push((call, digit)),
            Output::Event(Event::Transfer(t)) => fx.transfers.push(t),
            Output::Timeout(deadline) => {
                schedule(h, deadline);
                break;
            }
        }
    }
    fx
}

fn schedule(h: &mut Host, deadline: Option<u64>) {
    if h.timer_at == deadline && h.timer.is_some() {
        return;
    }
    h.timer = None;
    h.timer_at = deadline;
    if let Some(at) = deadline {
        let delay = at.saturating_sub(now()).min(u32::MAX as u64) as u32;
        h.timer = Some(gloo_timers::callback::Timeout::new(delay, || {
            with_host(|h| {
                h.timer = None;
                h.timer_at = None;
            });
            tick();
        }));
    }
}

fn open_socket(url: &str, generation: u64) -> Result<Socket, String> {
    let ws = WebSocket::new_with_str(url, "sip").map_err(|e| format!("{e:?}"))?;
    ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
    let current = move || with_host(|h| h.generation == generation).unwrap_or(false);
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
        if current() {
            input(Input::Connected);
        }
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if !current() {
            return;
        }
        let data = e.data();
        let bytes = if let Some(s) = data.as_string() {
            s.into_bytes()
        } else if let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            js_sys::Uint8Array::new(buf).to_vec()
        } else {
            return;
        };
        input(Input::Received(bytes));
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
        if !current() {
            return;
        }
        with_host(|h| h.socket = None);
        let reason = if e.reason().is_empty() {
            format!("WebSocket closed (code {})", e.code())
        } else {
            format!("WebSocket closed (code {}: {})", e.code(), e.reason())
        };
        input(Input::Disconnected { reason });
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    Ok(Socket { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close })
}

#[derive(Serialize)]
struct StoredIdentity<'a> {
    identity: &'a Identity,
}

pub fn run_effects(fx: Effects) {
    if let Some(id) = fx.identity {
        wasm_bindgen_futures::spawn_local(async move {
            let items = to_js(&StoredIdentity { identity: &id });
            if let Err(e) = chrome::call(chrome::local_set(&items)).await {
                chrome::console_warn(&format!("[ferrophone] could not persist identity: {e:?}"));
            }
        });
    }
    for c in &fx.calls {
        broadcast(&api::Event::Call(api::CallEvent { ferrophone: api::V1, call: c.clone() }));
    }
    for (call, digit) in fx.dtmf {
        broadcast(&api::Event::Dtmf(api::DtmfEvent { ferrophone: api::V1, call_id: call, digit: digit.to_string() }));
    }
    for t in &fx.transfers {
        broadcast(&api::Event::Transfer(api::TransferEvent::from(t)));
    }
    // An automatically answered call is announced: a notification naming the caller here, the
    // zip tone in the offscreen document (the media request itself).
    for m in fx.media.iter().filter(|m| m.op == ferrophone_ua::call::MediaOp::ZipTone) {
        if let Some(info) = with_host(|h| h.ua.call(&m.call)).flatten() {
            crate::notify::auto_answered(&info);
        }
    }
    crate::media::enqueue(fx.media);
    for s in fx.statuses {
        let problem = with_host(|h| h.config_problem.clone()).flatten();
        broadcast(&api::Event::Registration(api::StatusBody::new(&s, problem.as_deref()).into()));
    }
}

/// The user removed the account: delete the stored registration identity too (after any write
/// already queued, since spawned futures run in order).
pub fn forget_identity() {
    wasm_bindgen_futures::spawn_local(async {
        let _ = chrome::call(chrome::local_remove(&to_js(&["identity"]))).await;
    });
}

/// Send an event to every extension context; nobody listening is fine.
pub fn broadcast(ev: &api::Event) {
    let msg = to_js(ev);
    wasm_bindgen_futures::spawn_local(async move {
        let _ = chrome::call(chrome::send_message(&msg)).await;
    });
}

/// Read `account` + `settings` (sync) and `password` (local).
pub async fn load_config() -> (Option<Account>, Settings, Option<String>) {
    let keys = to_js(&["account", "settings"]);
    let sync = chrome::call(chrome::sync_get(&keys)).await.map(|v| crate::schema::from_js(&v)).unwrap_or(Value::Null);
    let local = chrome::call(chrome::local_get(&to_js(&["password"]))).await.ok();
    let (settings, ignored) = Settings::from_json_lenient(sync.get("settings").unwrap_or(&Value::Null));
    if !ignored.is_empty() {
        crate::chrome::console_warn(&format!(
            "[ferrophone] settings: ignored {} (wrong type); their defaults apply",
            ignored.join(", ")
        ));
    }
    // The options page's rules apply to settings written by anyone: the worker runs with the
    // nearest valid values (`Settings::normalized`) and says what it changed.
    let problems = settings.problems();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        crate::chrome::console_warn(&format!(
            "[ferrophone] settings: {}; the nearest valid values apply",
            list.join("; ")
        ));
    }
    let local_password = local.and_then(|l| crate::schema::get_str(&l, "password"));
    match sync.get("account") {
        None | Some(Value::Null) => (None, settings, None),
        Some(rec) => match serde_json::from_value::<AccountRecord>(rec.clone()) {
            Ok(rec) => match Account::from_record(&rec, local_password.as_deref()) {
                Ok(a) => (Some(a), settings, None),
                Err(e) => (None, settings, Some(format!("stored account is invalid: {e}"))),
            },
            Err(_) => (None, settings, Some("stored account is not in the expected format".into())),
        },
    }
}

pub async fn load_identity() -> Option<Identity> {
    let v = chrome::call(chrome::local_get(&to_js(&["identity"]))).await.ok()?;
    crate::schema::from_js_as::<Identity>(&crate::schema::get(&v, "identity"))
}
