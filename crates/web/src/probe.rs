//! `test-connection`: open a separate WebSocket to a server address, send one OPTIONS, report.
//! The registered flow is not touched. No credentials are involved.

use crate::schema::refuse;
use ferrophone_ua::api::{ConnectionTestReply, Reply};
use ferrophone_ua::config::ServerUrl;
use ferrophone_ua::rand::Rng;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

const STEP_TIMEOUT_MS: u32 = 5_000;

enum Step {
    Open,
    Message(Vec<u8>),
    Closed(String),
    Timeout,
}

/// Wait for the next socket event (or the timeout).
async fn next(queue: &Rc<RefCell<Vec<Step>>>, waker: &Rc<RefCell<Option<js_sys::Function>>>) -> Step {
    loop {
        if let Some(s) = {
            let mut q = queue.borrow_mut();
            if q.is_empty() {
                None
            } else {
                Some(q.remove(0))
            }
        } {
            return s;
        }
        let w = waker.clone();
        let p = js_sys::Promise::new(&mut |resolve, _| {
            *w.borrow_mut() = Some(resolve);
        });
        let timeout = gloo_timers::future::TimeoutFuture::new(STEP_TIMEOUT_MS);
        let wait = wasm_bindgen_futures::JsFuture::from(p);
        futures_select(wait, timeout).await;
        if queue.borrow().is_empty() {
            return Step::Timeout;
        }
    }
}

/// Resolve when either future resolves (tiny select without an extra crate).
async fn futures_select(a: wasm_bindgen_futures::JsFuture, b: gloo_timers::future::TimeoutFuture) {
    let a = Box::pin(a);
    let b = Box::pin(b);
    SelectFuture { a, b }.await
}

struct SelectFuture {
    a: std::pin::Pin<Box<wasm_bindgen_futures::JsFuture>>,
    b: std::pin::Pin<Box<gloo_timers::future::TimeoutFuture>>,
}

impl std::future::Future for SelectFuture {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.a.as_mut().poll(cx).is_ready() || self.b.as_mut().poll(cx).is_ready() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

/// Not reachable at all.
fn unreachable(reason: impl Into<String>) -> ConnectionTestReply {
    ConnectionTestReply { reachable: false, reason: Some(reason.into()), ..Default::default() }
}

/// The WebSocket opened after `connect_ms`, but SIP did not answer.
fn no_sip(connect_ms: u64, reason: impl Into<String>) -> ConnectionTestReply {
    ConnectionTestReply {
        reachable: true,
        sip: Some(false),
        connect_ms: Some(connect_ms),
        reason: Some(reason.into()),
        ..Default::default()
    }
}

pub async fn test_connection(server: &str, seed: u64) -> Reply {
    let url = match ServerUrl::parse(server) {
        Ok(u) => u,
        Err(e) => return refuse("invalid-server", e.message),
    };
    let started = js_sys::Date::now();
    let ws = match WebSocket::new_with_str(&url.url(), "sip") {
        Ok(ws) => ws,
        Err(_) => return Reply::ConnectionTest(unreachable("the browser refused to open this address")),
    };
    ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
    let queue: Rc<RefCell<Vec<Step>>> = Rc::default();
    let waker: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
    let push = {
        let (queue, waker) = (queue.clone(), waker.clone());
        move |s: Step| {
            queue.borrow_mut().push(s);
            if let Some(f) = waker.borrow_mut().take() {
                let _ = f.call0(&JsValue::UNDEFINED);
            }
        }
    };
    let p1 = push.clone();
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| p1(Step::Open));
    let p2 = push.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let d = e.data();
        if let Some(s) = d.as_string() {
            p2(Step::Message(s.into_bytes()));
        } else if let Some(b) = d.dyn_ref::<js_sys::ArrayBuffer>() {
            p2(Step::Message(js_sys::Uint8Array::new(b).to_vec()));
        }
    });
    let p3 = push;
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
        p3(Step::Closed(format!("WebSocket closed (code {})", e.code())));
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));

    let result = async {
        match next(&queue, &waker).await {
            Step::Open => {}
            Step::Closed(reason) => return unreachable(reason),
            Step::Timeout => return unreachable("no answer within 5 s"),
            Step::Message(_) => {}
        }
        let connect_ms = (js_sys::Date::now() - started) as u64;
        let (req, call_id) = ferrophone_ua::probe::options_request(&url, &mut Rng::new(seed));
        if ws.send_with_str(&String::from_utf8_lossy(&req.to_bytes())).is_err() {
            return no_sip(connect_ms, "could not send");
        }
        loop {
            match next(&queue, &waker).await {
                Step::Message(bytes) => {
                    if let Some(status) = ferrophone_ua::probe::answer(&bytes, &call_id) {
                        return ConnectionTestReply {
                            ok: ferrophone_ua::api::True,
                            reachable: true,
                            sip: Some(true),
                            answer: Some(status),
                            connect_ms: Some(connect_ms),
                            ms: Some((js_sys::Date::now() - started) as u64),
                            reason: None,
                        };
                    }
                }
                Step::Open => {}
                Step::Closed(reason) => return no_sip(connect_ms, reason),
                Step::Timeout => {
                    return no_sip(
                        connect_ms,
                        "the server accepted the WebSocket but did not answer SIP OPTIONS within 5 s",
                    )
                }
            }
        }
    }
    .await;
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onclose(None);
    let _ = ws.close();
    Reply::ConnectionTest(result)
}
