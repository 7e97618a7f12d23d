//! The `sipcheck` binary: one JSON line per file, exit 0 for a valid message, 1 otherwise.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475").join(path)
}

/// Runs sipcheck; returns (exit code, the single JSON line it printed).
fn sipcheck(args: &[&std::ffi::OsStr]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_sipcheck")).args(args).output().expect("run sipcheck");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert_eq!(stdout.lines().count(), 1, "exactly one line: {stdout:?}");
    let json = serde_json::from_str(stdout.trim_end()).expect("JSON line");
    (out.status.code().expect("exit code"), json)
}

fn check_file(path: &Path) -> (i32, Value) {
    sipcheck(&[path.as_os_str()])
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("sipcheck-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

#[test]
fn valid_request_prints_its_identity() {
    let (code, json) = check_file(&data("valid/wsinv.sip"));
    assert_eq!(code, 0);
    assert_eq!(json["ok"], true);
    assert_eq!(json["kind"], "request");
    assert_eq!(json["method"], "INVITE");
    assert!(json.get("status").is_none(), "requests carry no status");
    assert_eq!(json["call_id"], "wsinv.ndaksdj@192.0.2.1");
    assert_eq!(json["cseq"], serde_json::json!([9, "INVITE"]));
    assert_eq!(json["from_tag"], "98asjd8");
    assert_eq!(json["to_tag"], "1918181833n");
    assert_eq!(json["via_branch"], "390skdjuw");
    assert_eq!(json["content_length"], 150);
    assert_eq!(json["body_len"], 150);
}

#[test]
fn valid_response_prints_status_and_no_method() {
    let (code, json) = check_file(&data("valid/unreason.sip"));
    assert_eq!(code, 0);
    assert_eq!(json["kind"], "response");
    assert_eq!(json["status"], 200);
    assert!(json.get("method").is_none(), "responses carry no method");
    assert_eq!(json["cseq"], serde_json::json!([35, "INVITE"]));
    assert_eq!(json["to_tag"], "2229");
}

#[test]
fn absent_tags_and_branch_are_null() {
    // RFC 2543-style INVITE: no From tag, no To tag, no branch, no Content-Length.
    let (code, json) = check_file(&data("valid/inv2543.sip"));
    assert_eq!(code, 0);
    assert_eq!(json["from_tag"], Value::Null);
    assert_eq!(json["to_tag"], Value::Null);
    assert_eq!(json["via_branch"], Value::Null);
    assert_eq!(json["content_length"], json["body_len"], "no header: content_length is the body length");
    assert_eq!(json["body_len"], 105);
}

#[test]
fn bytes_beyond_content_length_are_not_body() {
    let (code, json) = check_file(&data("valid/dblreq.sip"));
    assert_eq!(code, 0);
    assert_eq!(json["method"], "REGISTER");
    assert_eq!(json["content_length"], 0);
    assert_eq!(json["body_len"], 0);
}

#[test]
fn extension_method_is_reported_verbatim() {
    let (code, json) = check_file(&data("valid/intmeth.sip"));
    assert_eq!(code, 0);
    assert_eq!(json["method"], "!interesting-Method0123456789_*+`.%indeed'~");
    assert_eq!(json["cseq"][1], json["method"]);
}

#[test]
fn invalid_message_exits_1_with_error() {
    let (code, json) = check_file(&data("invalid/mismatch01.sip"));
    assert_eq!(code, 1);
    assert_eq!(json["ok"], false);
    assert!(json["error"].as_str().unwrap().contains("CSeq"), "{json}");
    assert_eq!(json.as_object().unwrap().len(), 2, "only ok and error: {json}");
}

#[test]
fn garbage_exits_1() {
    let path = temp_file("garbage", b"\xff\x00 not SIP at all\r\n\r\n");
    let (code, json) = check_file(&path);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 1);
    assert_eq!(json["ok"], false);
}

#[test]
fn unreadable_file_exits_1_with_the_same_shape() {
    let missing = std::env::temp_dir().join("sipcheck-this-file-does-not-exist.sip");
    let (code, json) = check_file(&missing);
    assert_eq!(code, 1);
    assert_eq!(json["ok"], false);
    assert!(json["error"].as_str().unwrap().contains("cannot read"), "{json}");
}

#[test]
fn missing_argument_is_a_usage_error() {
    let (code, json) = sipcheck(&[]);
    assert_eq!(code, 2);
    assert_eq!(json["ok"], false);
}
