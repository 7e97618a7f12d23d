//! The one message schema shared by every context (worker, options page, offscreen document,
//! other extensions). Requests carry `ferrophone: 1`; see docs/API.md.

use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;

pub const SCHEMA_VERSION: u32 = 1;

/// Convert a serde value to a plain JS object (not a Map).
pub fn to_js<T: Serialize>(v: &T) -> JsValue {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    v.serialize(&ser).unwrap_or(JsValue::NULL)
}

pub fn from_js(v: &JsValue) -> Value {
    serde_wasm_bindgen::from_value(v.clone()).unwrap_or(Value::Null)
}

pub fn error(code: &str, message: impl Into<String>) -> Value {
    json!({ "ok": false, "error": { "code": code, "message": message.into() } })
}

/// Add `ok: true` to an object reply.
pub fn ok(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("ok".into(), Value::Bool(true));
    }
    v
}
