//! The boundary between JS values and the typed schema of `ferrophone_ua::api` (requests,
//! replies, events, media messages; docs/API.md and docs/MEDIA.md).

use ferrophone_ua::api::Reply;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::JsValue;

/// Convert a serde value to a plain JS object (not a Map).
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> JsValue {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    v.serialize(&ser).unwrap_or(JsValue::NULL)
}

/// A JS value read into a typed value; `None` if it does not have that shape.
pub fn from_js_as<T: DeserializeOwned>(v: &JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(v.clone()).ok()
}

/// A JS value as generic JSON: only for what is stored by others (`chrome.storage`), whose
/// fields are checked one by one by the core's configuration readers.
pub fn from_js(v: &JsValue) -> Value {
    serde_wasm_bindgen::from_value(v.clone()).unwrap_or(Value::Null)
}

/// `obj[key]` (`undefined` when absent or `obj` is not an object). For the browser's own
/// objects (the sender, the manifest, a context-menu click, storage changes), which need one or
/// two fields: no serde code per shape.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key]` if it is a string.
pub fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// `obj[key]` is present and not `undefined` or `null`.
pub fn has(obj: &JsValue, key: &str) -> bool {
    let v = get(obj, key);
    !v.is_undefined() && !v.is_null()
}

/// `{ ok: false, error: { code, message } }`.
pub fn refuse(code: &str, message: impl Into<String>) -> Reply {
    Reply::error(code, message)
}

// `save-config` (config_store.rs) still answers with generic JSON (its reply carries per-field
// errors that `api::Reply` does not type yet): these two build it.

/// `{ ok: false, error: { code, message } }` as generic JSON.
pub fn error(code: &str, message: impl Into<String>) -> Value {
    serde_json::json!({ "ok": false, "error": { "code": code, "message": message.into() } })
}

/// Add `ok: true` to an object reply (generic JSON).
pub fn ok(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("ok".into(), Value::Bool(true));
    }
    v
}
