//! `chrome.notifications`: what the user must see even with no page open.
//!
//! - A dial from a link (context menu on a `tel:`/`sip:`/`sips:`/`callto:` link) asks first: a
//!   link's visible text can hide any address (a premium number, an attacker's URI), so the
//!   notification names the real target and nothing is dialled until its "Call" button is
//!   pressed. "Cancel", closing it, or letting it expire ([`CONFIRM_TTL_MS`]) never dials. The
//!   pending confirmations live in the worker's memory only: a worker that stopped forgot them,
//!   and a button pressed afterwards dials nothing.
//! - A call answered without a user action (automatic answer) is announced with a notification
//!   naming the caller (the offscreen document plays the zip tone at the same time).

use crate::chrome;
use crate::host;
use crate::schema::{refuse, to_js};
use ferrophone_ua::api::{self, Reply};
use ferrophone_ua::call::CallInfo;
use ferrophone_ua::vecmap::VecMap;
use serde::Serialize;
use std::cell::RefCell;

/// How long a link dial waits for its confirmation.
pub const CONFIRM_TTL_MS: u64 = 30_000;
/// Confirmations waiting at once (a page cannot pile up notifications: the oldest goes).
const MAX_PENDING: usize = 4;
pub const CONFIRM_PREFIX: &str = "ferrophone-confirm-";
const AUTO_PREFIX: &str = "ferrophone-auto-answer-";

struct Pending {
    /// What `dial` gets (the normalised SIP URI shown to the user).
    target: String,
    expires_at: u64,
    _expiry: gloo_timers::callback::Timeout,
}

thread_local! {
    static PENDING: RefCell<VecMap<String, Pending>> = const { RefCell::new(VecMap::new()) };
}

/// Text from the far end or a web page, made safe and short for a notification line.
fn clean(text: &str, max: usize) -> String {
    let t: String = text.chars().filter(|c| !c.is_control()).collect();
    let t = t.trim();
    if t.chars().count() > max {
        format!("{}…", t.chars().take(max).collect::<String>())
    } else {
        t.to_string()
    }
}

/// How a caller is named in a notification: `"Display Name" <uri>`. The display name is the
/// caller's own text: quoted, without quotes, angle brackets or control characters of its own, so
/// it cannot pose as an address ("Boss <sip:boss@corp>") or add lines; both parts are capped.
fn caller_label(display_name: Option<&str>, remote: &str) -> String {
    let name = display_name.map(|n| clean(&n.replace(['"', '<', '>'], ""), 60));
    match name.filter(|n| !n.is_empty()) {
        Some(name) => format!("\"{name}\" <{}>", clean(remote, 120)),
        None => clean(remote, 120),
    }
}

fn token() -> String {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        b = host::now().to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `chrome.notifications.NotificationOptions` (the fields we use).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    #[serde(rename = "type")]
    kind: &'static str,
    icon_url: String,
    title: String,
    message: String,
    context_message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    buttons: Option<[Button; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    require_interaction: Option<bool>,
    priority: u8,
}

#[derive(Serialize)]
struct Button {
    title: &'static str,
}

async fn create(id: &str, options: Notification) -> Result<(), String> {
    chrome::call(chrome::notifications_create(id, &to_js(&options))).await.map(|_| ()).map_err(|e| format!("{e:?}"))
}

fn clear(id: &str) {
    let id = id.to_string();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = chrome::call(chrome::notifications_clear(&id)).await;
    });
}

fn icon() -> String {
    chrome::get_url("extension/icons/icon128.png")
}

/// Longest target a link may ask for: the notification must show all of it (a long user part
/// could push the real domain out of sight).
const MAX_LINK_TARGET: usize = 100;

/// A link asked to dial `target` (already normalised against the account): ask the user.
/// Answers `{ok: true, confirm: {notificationId, target, expiresInMs}}`; nothing is dialled yet.
pub async fn confirm_link_dial(target: String, link: &str, page_url: Option<&str>) -> Reply {
    if target.chars().count() > MAX_LINK_TARGET {
        return refuse(
            "invalid-target",
            format!("this link's address is longer than {MAX_LINK_TARGET} characters and cannot be shown in full"),
        );
    }
    let id = format!("{CONFIRM_PREFIX}{}", token());
    let from = page_url
        .and_then(|u| u.split("://").nth(1))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .filter(|h| !h.is_empty())
        .map(|h| format!("A link on {}", clean(h, 60)))
        .unwrap_or_else(|| "A link".to_string());
    let options = Notification {
        kind: "basic",
        icon_url: icon(),
        title: format!("Call {}?", clean(&target, 120)),
        message: format!(
            "{from} asks Ferrophone to call {}. Nothing is dialled unless you press Call.",
            clean(&target, 120)
        ),
        context_message: format!("Link: {}", clean(link, 120)),
        buttons: Some([Button { title: "Call" }, Button { title: "Cancel" }]),
        require_interaction: Some(true),
        priority: 2,
    };
    if let Err(e) = create(&id, options).await {
        return refuse("notification-failed", format!("cannot ask for confirmation: {e}"));
    }
    let expires_at = host::now() + CONFIRM_TTL_MS;
    let expiry_id = id.clone();
    let expiry = gloo_timers::callback::Timeout::new(CONFIRM_TTL_MS as u32, move || {
        if PENDING.with(|p| p.borrow_mut().remove(&expiry_id)).is_some() {
            chrome::console_log(&format!("[ferrophone] link dial {expiry_id}: not confirmed within 30 s, not dialled"));
            clear(&expiry_id);
        }
    });
    let evicted = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let mut evicted = Vec::new();
        while p.len() >= MAX_PENDING {
            let oldest = p.iter().min_by_key(|(_, v)| v.expires_at).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    p.remove(&k);
                    evicted.push(k);
                }
                None => break,
            }
        }
        p.insert(id.clone(), Pending { target: target.clone(), expires_at, _expiry: expiry });
        evicted
    });
    for old in evicted {
        clear(&old);
    }
    chrome::console_log(&format!("[ferrophone] link dial {id}: asking the user to confirm {target}"));
    Reply::LinkConfirm(api::LinkConfirmReply {
        ok: api::True,
        confirm: api::LinkConfirm { notification_id: id, target, expires_in_ms: CONFIRM_TTL_MS },
    })
}

/// A worker that starts knows no pending confirmation: clear any a stopped worker left on screen
/// (pressing "Call" on one would dial nothing anyway, and its 30 s timer died with the worker).
pub async fn clear_stale_confirmations() {
    let Ok(all) = chrome::call(chrome::notifications_get_all()).await else { return };
    // An object keyed by notification id.
    if all.is_object() {
        for id in js_sys::Object::keys(&js_sys::Object::from(all)).iter().filter_map(|k| k.as_string()) {
            if id.starts_with(CONFIRM_PREFIX) && PENDING.with(|p| !p.borrow().contains_key(&id)) {
                clear(&id);
            }
        }
    }
}

/// A notification button was pressed (`chrome.notifications.onButtonClicked`).
pub fn on_button(id: &str, index: u32) -> Reply {
    if !id.starts_with(CONFIRM_PREFIX) {
        return Reply::Ok(api::OkReply::default());
    }
    let pending = PENDING.with(|p| p.borrow_mut().remove(id));
    clear(id);
    let Some(p) = pending else {
        chrome::console_log(&format!("[ferrophone] link dial {id}: unknown or expired, not dialled"));
        return refuse("expired", "this confirmation expired or was already used; nothing was dialled");
    };
    if host::now() > p.expires_at {
        chrome::console_log(&format!("[ferrophone] link dial {id}: expired, not dialled"));
        return refuse("expired", "this confirmation expired; nothing was dialled");
    }
    if index != 0 {
        chrome::console_log(&format!("[ferrophone] link dial {id}: cancelled by the user"));
        return Reply::Cancelled(api::CancelledReply { ok: api::True, cancelled: true });
    }
    let r = crate::run_command(ferrophone_ua::Command::Dial { target: p.target });
    let outcome = match &r {
        Reply::Error(e) => format!("{}: {}", e.error.code, e.error.message),
        _ => "ok".to_string(),
    };
    chrome::console_log(&format!("[ferrophone] link dial {id}: confirmed, dial: {outcome}"));
    r
}

/// A notification was closed (by the user, or cleared): a pending link dial is cancelled.
pub fn on_closed(id: &str) {
    if PENDING.with(|p| p.borrow_mut().remove(id)).is_some() {
        chrome::console_log(&format!("[ferrophone] link dial {id}: notification closed, not dialled"));
    }
}

/// A call was answered without a user action: tell the user who is on the line.
pub fn auto_answered(call: &CallInfo) {
    let id = format!("{AUTO_PREFIX}{}", call.id);
    let who = caller_label(call.remote_name.as_deref(), &call.remote);
    let options = Notification {
        kind: "basic",
        icon_url: icon(),
        title: "Call answered automatically".into(),
        message: format!("You are on a call with {who}. The microphone is on."),
        context_message: "Ferrophone answered this call by itself (auto-answer).".into(),
        buttons: None,
        require_interaction: None,
        priority: 2,
    };
    chrome::console_log(&format!("[ferrophone] call {}: answered automatically, announced ({who})", call.id));
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = create(&id, options).await {
            chrome::console_warn(&format!("[ferrophone] auto-answer notification failed: {e}"));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::caller_label;

    #[test]
    fn a_display_name_cannot_pose_as_an_address_or_add_lines() {
        let label = caller_label(Some("Boss <sip:boss@corp.example>\"\r\nCall answered by IT"), "sip:evil@x.example");
        assert_eq!(label, "\"Boss sip:boss@corp.exampleCall answered by IT\" <sip:evil@x.example>");
        assert_eq!(label.matches('<').count(), 1, "only the real address is in angle brackets");
    }

    #[test]
    fn long_or_empty_names() {
        let long = "x".repeat(500);
        let label = caller_label(Some(&long), "sip:a@b");
        assert!(label.starts_with(&format!("\"{}…\"", "x".repeat(60))), "{label}");
        assert_eq!(caller_label(Some(" \"<>\u{7} "), "sip:a@b"), "sip:a@b");
        assert_eq!(caller_label(None, "sip:a@b"), "sip:a@b");
        let uri = format!("sip:{}@b", "y".repeat(300));
        assert_eq!(caller_label(None, &uri).chars().count(), 121, "the address is capped too");
    }
}
