//! Browser adapter (placeholder while the contract is being built; see docs/ARCHITECTURE.md).
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub async fn start() -> Result<(), JsValue> {
    Ok(())
}

#[wasm_bindgen(js_name = handleMessage)]
pub async fn handle_message(msg: JsValue, _sender: JsValue) -> Result<JsValue, JsValue> {
    let cmd = js_sys::Reflect::get(&msg, &"cmd".into())?.as_string().unwrap_or_default();
    let reply = match cmd.as_str() {
        "status" => serde_json::json!({"ok": true, "registration": {"state": "unconfigured"}, "connection": {"state": "idle"}}),
        _ => serde_json::json!({"ok": false, "error": {"code": "unknown-command", "message": format!("unknown command {cmd:?}")}}),
    };
    Ok(serde_wasm_bindgen::to_value(&reply)?)
}
