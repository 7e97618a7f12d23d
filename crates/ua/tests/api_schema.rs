//! The schema in `ferrophone_ua::api` and the documents and JS that use it agree:
//! - every JSON example in docs/API.md and docs/MEDIA.md parses into the Rust types and
//!   serialises back to the same JSON (a request the schema refuses must be followed by the
//!   error reply it produces);
//! - every message name the extension's JS sends or handles (`cmd`, media `type`) exists in the
//!   Rust schema, and every media kind of the Rust schema is handled by the offscreen document.

use ferrophone_ua::api::{
    parse_command, CallReply, CallsReply, Command, ConnectionTestReply, DiagnosticsReply, ErrorReply, Event,
    IceServersReply, MediaMessage, MediaReply, MicProbeReply, OkReply, StatusReply,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The ```json blocks of a markdown file, with the line each starts on.
fn json_blocks(md: &str) -> Vec<(usize, Value)> {
    let mut out = Vec::new();
    let mut lines = md.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.trim() != "```json" {
            continue;
        }
        let mut text = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim() == "```" {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("line {}: not JSON: {e}\n{text}", n + 1));
        out.push((n + 1, v));
    }
    out
}

fn round_trip<T: DeserializeOwned + Serialize>(at: &str, v: &Value) {
    let typed: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{at}: does not parse as {}: {e}\n{v:#}", std::any::type_name::<T>()));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(&back, v, "{at}: {} does not serialise back to the example", std::any::type_name::<T>());
}

/// The reply type of a command.
fn reply_round_trip(at: &str, cmd: &Command, v: &Value) {
    match cmd {
        Command::Status | Command::Register | Command::Unregister => round_trip::<StatusReply>(at, v),
        Command::Calls => round_trip::<CallsReply>(at, v),
        Command::Dial { .. } | Command::Call { .. } | Command::Transfer { .. } | Command::Dtmf { .. } => {
            round_trip::<CallReply>(at, v)
        }
        Command::MediaEvent { .. } => round_trip::<OkReply>(at, v),
        Command::MicTest => round_trip::<MicProbeReply>(at, v),
        Command::IceServers => round_trip::<IceServersReply>(at, v),
        Command::TestConnection { .. } => round_trip::<ConnectionTestReply>(at, v),
        Command::Diagnostics => round_trip::<DiagnosticsReply>(at, v),
    }
}

#[derive(Default)]
struct Seen {
    commands: BTreeSet<&'static str>,
    events: BTreeSet<String>,
    media: BTreeSet<&'static str>,
    replies: usize,
    refused: usize,
}

fn check_doc(doc: &str, seen: &mut Seen) {
    let md = read(doc);
    let blocks = json_blocks(&md);
    assert!(!blocks.is_empty(), "{doc} has no ```json examples");
    // The last request, and whether it was refused (then its error reply must follow).
    let mut last: Option<Result<Command, ferrophone_ua::api::RequestError>> = None;
    let mut last_media: Option<&'static str> = None;
    for (line, v) in &blocks {
        let at = format!("{doc}:{line}");
        if v.get("cmd").is_some() {
            let parsed = parse_command(v.clone());
            if let Ok(cmd) = &parsed {
                round_trip::<Command>(&at, v);
                seen.commands.insert(cmd.name());
            }
            last = Some(parsed);
            last_media = None;
        } else if let Some(name) = v.get("event").and_then(Value::as_str) {
            round_trip::<Event>(&at, v);
            seen.events.insert(name.to_string());
        } else if v.get("type").is_some() {
            let m: MediaMessage = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{at}: {e}\n{v:#}"));
            round_trip::<MediaMessage>(&at, v);
            seen.media.insert(m.kind());
            last_media = Some(m.kind());
        } else if v.get("ok") == Some(&Value::Bool(false)) {
            round_trip::<ErrorReply>(&at, v);
            if let Some(Err(refused)) = last.take() {
                let expected =
                    serde_json::to_value(ErrorReply { ok: Default::default(), error: refused.to_error() }).unwrap();
                assert_eq!(v, &expected, "{at}: the refused request above gets exactly this error");
                seen.refused += 1;
            }
            seen.replies += 1;
        } else if v.get("ok") == Some(&Value::Bool(true)) && last.is_none() && last_media.is_some() {
            // A media reply: what the worker reads of it must parse.
            let r: MediaReply = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{at}: {e}\n{v:#}"));
            assert!(r.ok);
            if last_media == Some("mic-probe") {
                round_trip::<MicProbeReply>(&at, v);
            }
            last_media = None;
            seen.replies += 1;
        } else if v.get("ok") == Some(&Value::Bool(true)) {
            match last.take() {
                Some(Ok(cmd)) => reply_round_trip(&at, &cmd, v),
                Some(Err(e)) => panic!("{at}: a success reply after a refused request ({e:?})"),
                None => panic!("{at}: a reply example must follow its request example"),
            }
            seen.replies += 1;
        } else {
            panic!("{at}: an example that is neither a request, a reply nor an event:\n{v:#}");
        }
        if v.get("cmd").is_none() && v.get("ok").is_none() {
            last = None;
        }
        if v.get("type").is_none() {
            if v.get("ok").is_none() {
                last_media = None;
            }
        } else {
            last = None;
        }
    }
}

#[test]
fn every_api_example_round_trips_through_the_rust_types() {
    let mut seen = Seen::default();
    check_doc("docs/API.md", &mut seen);
    for cmd in [
        "status",
        "calls",
        "dial",
        "answer",
        "reject",
        "hangup",
        "hold",
        "resume",
        "mute",
        "unmute",
        "transfer",
        "dtmf",
        "register",
        "unregister",
        "mic-test",
        "test-connection",
        "diagnostics",
    ] {
        assert!(seen.commands.contains(cmd), "docs/API.md has no example of `{cmd}`");
    }
    for ev in ["registration", "call", "dtmf", "transfer"] {
        assert!(seen.events.contains(ev), "docs/API.md has no example of the `{ev}` event");
    }
    assert!(seen.refused >= 3, "docs/API.md shows refused requests with their errors");
}

#[test]
fn every_media_example_round_trips_through_the_rust_types() {
    let mut seen = Seen::default();
    check_doc("docs/MEDIA.md", &mut seen);
    for kind in media_kinds_handled_in_js() {
        assert!(seen.media.contains(kind.as_str()), "docs/MEDIA.md has no example of `{kind}`");
    }
    assert!(seen.commands.contains("media-event") && seen.commands.contains("ice-servers"));
}

/// Every `.js` file under extension/ except the generated glue.
fn extension_js() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "pkg") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|e| e == "js") {
                out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("extension"), &mut out);
    assert!(out.len() >= 5, "found the extension's scripts");
    out
}

/// The string literals (single or double quoted) that follow `prefix` in `text`.
fn literals_after(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        rest = &rest[i + prefix.len()..];
        let r = rest.trim_start();
        let Some(q) = r.chars().next().filter(|c| *c == '\'' || *c == '"') else { continue };
        if let Some(end) = r[1..].find(q) {
            out.push(r[1..1 + end].to_string());
        }
    }
    out
}

/// The keys of the offscreen document's handler tables (`'media-offer': mediaOffer,`).
fn media_kinds_handled_in_js() -> BTreeSet<String> {
    let mut kinds = BTreeSet::new();
    for (path, text) in extension_js() {
        if !(path.ends_with("offscreen.js") || path.ends_with("calls.js")) {
            continue;
        }
        let mut in_table = false;
        for line in text.lines() {
            let t = line.trim();
            if t.contains("Handlers = {") || t.contains("handlers = {") {
                in_table = true;
                continue;
            }
            if in_table && t.starts_with('}') {
                in_table = false;
            }
            if in_table {
                if let Some(name) = t.strip_prefix('\'').and_then(|r| r.split('\'').next()) {
                    kinds.insert(name.to_string());
                }
            }
        }
    }
    assert!(kinds.len() >= 10, "found the handler tables: {kinds:?}");
    kinds
}

fn media_kind_exists(name: &str) -> bool {
    let err = match serde_json::from_value::<MediaMessage>(serde_json::json!({ "type": name })) {
        Ok(_) => return true,
        Err(e) => e.to_string(),
    };
    !err.contains("unknown variant")
}

#[test]
fn every_message_name_in_the_js_exists_in_the_rust_schema() {
    let mut media = media_kinds_handled_in_js();
    let mut commands = BTreeSet::new();
    for (_, text) in extension_js() {
        for prefix in ["type: ", "m.type === "] {
            media.extend(literals_after(&text, prefix).into_iter().filter(|n| n.contains('-')));
        }
        commands.extend(literals_after(&text, "cmd: "));
    }
    for name in &media {
        assert!(media_kind_exists(name), "the JS uses the media message `{name}`, which api::MediaMessage lacks");
    }
    // `loader-info` is answered by sw.js itself (the loader's own diagnostics), never by the wasm.
    commands.remove("loader-info");
    assert!(commands.len() >= 4, "found the commands the JS sends: {commands:?}");
    for name in &commands {
        let v = serde_json::json!({ "ferrophone": 1, "cmd": name });
        match parse_command(v) {
            Ok(_) | Err(ferrophone_ua::api::RequestError::MissingArgument(_)) => {}
            Err(_) if ferrophone_ua::api::UNTYPED_COMMANDS.contains(&name.as_str()) => {}
            Err(e) => panic!("the JS sends the command `{name}`, which api::Command lacks: {e:?}"),
        }
    }
    // And the other way: every media kind of the Rust schema has a handler in the document.
    let handled = media_kinds_handled_in_js();
    for kind in [
        "media-offer",
        "media-answer",
        "media-microphone",
        "tone-zip",
        "media-remote",
        "media-reoffer",
        "media-rollback",
        "media-close",
        "media-mute",
        "media-dtmf",
        "ring-start",
        "ring-stop",
        "media-stats",
        "media-calls",
        "mic-probe",
    ] {
        assert!(media_kind_exists(kind), "{kind} is in the Rust schema");
        assert!(handled.contains(kind), "the offscreen document has no handler for `{kind}`");
    }
}

#[test]
fn requests_are_refused_with_todays_errors() {
    let err = |v: Value| parse_command(v).unwrap_err().to_error();
    let e = err(serde_json::json!({ "cmd": "status" }));
    assert_eq!((e.code.as_str(), e.message.as_str()), ("bad-request", "expected { ferrophone: 1, cmd: ... }"));
    assert_eq!(err(serde_json::json!("status")).message, "expected { ferrophone: 1, cmd: ... }");
    assert_eq!(err(serde_json::json!([1, "status"])).message, "expected { ferrophone: 1, cmd: ... }");
    assert_eq!(err(serde_json::json!({ "ferrophone": "1", "cmd": "status" })).code, "bad-request");
    assert_eq!(err(serde_json::json!({ "ferrophone": 1 })).message, "missing cmd");
    assert_eq!(err(serde_json::json!({ "ferrophone": 1, "cmd": 7 })).message, "missing cmd");
    let e = err(serde_json::json!({ "ferrophone": 1, "cmd": "nope\"" }));
    assert_eq!((e.code.as_str(), e.message.as_str()), ("unknown-command", "unknown command \"nope\\\"\""));
    assert_eq!(
        err(serde_json::json!({ "ferrophone": 1, "cmd": "dial", "target": 1000 })).message,
        "dial needs a target"
    );
    assert_eq!(err(serde_json::json!({ "ferrophone": 1, "cmd": "hold" })).message, "hold needs the call id");
    assert_eq!(err(serde_json::json!({ "ferrophone": 1, "cmd": "transfer" })).message, "transfer needs the call id");
    assert_eq!(
        err(serde_json::json!({ "ferrophone": 1, "cmd": "transfer", "id": "a" })).message,
        "transfer needs a target (blind) or replaces (attended)"
    );
    assert_eq!(
        err(serde_json::json!({ "ferrophone": 1, "cmd": "dtmf", "id": "a" })).message,
        "dtmf needs the call id and digits"
    );
    // Extra fields, and fields of the wrong type, are ignored.
    let c = parse_command(serde_json::json!({ "ferrophone": 1, "cmd": "transfer", "id": "a", "target": "b",
                                              "replaces": "c", "extra": { "deep": [1, 2] } }))
    .unwrap();
    assert_eq!(c.name(), "transfer", "replaces wins over target: {c:?}");
    let c = parse_command(serde_json::json!({ "ferrophone": 1, "cmd": "media-event", "callId": "a", "event": "failed",
                                              "detail": "not an object" }))
    .unwrap();
    assert!(c.is_internal());
}
