//! Storage written by anyone else (Chrome policy, tests, another tool, an older version) meets the
//! options page's rules, with the same messages: an invalid stored account is refused naming every
//! field the page would have refused, and invalid stored settings are reported with the page's
//! messages while the worker runs with the nearest valid values.
use ferrophone_ua::config::form::{AccountForm, BehaviourForm};
use ferrophone_ua::config::{Account, AccountRecord, Settings};
use serde_json::json;

#[test]
fn an_invalid_stored_account_is_refused_with_the_forms_message() {
    let cases = [
        ("server", "http://sip.example.com/"),
        ("server", "ws://sip.example.com/"),
        ("server", ""),
        ("username", "1001@example.com"),
        ("username", "front desk"),
        ("authUsername", "a b"),
        ("domain", "example.com:5060"),
        ("domain", "sip:example.com"),
        ("displayName", "line\nbreak"),
    ];
    for (field, value) in cases {
        let mut stored =
            json!({ "version": 1, "server": "wss://sip.example.com/", "username": "1001", "password": "pw" });
        stored[field] = json!(value);
        let rec: AccountRecord = serde_json::from_value(stored).unwrap();
        let from_storage = Account::from_record(&rec, None).expect_err("refused from storage");

        let mut form =
            AccountForm { server: "wss://sip.example.com/".into(), username: "1001".into(), ..AccountForm::default() };
        match field {
            "server" => form.server = value.into(),
            "username" => form.username = value.into(),
            "authUsername" => form.auth_username = value.into(),
            "domain" => form.domain = value.into(),
            _ => form.display_name = value.into(),
        }
        let from_form = form.to_storage("pw", None).expect_err("refused by the form");
        assert_eq!(from_storage, from_form, "{field}={value:?}: the same errors");
        assert_eq!(from_storage.0.len(), 1);
        assert_eq!(from_storage.0[0].field, field);
    }
}

#[test]
fn every_problem_of_a_stored_account_is_named() {
    let rec: AccountRecord =
        serde_json::from_value(json!({ "version": 2, "server": "wss://x.example/", "username": "a@b" })).unwrap();
    let e = Account::from_record(&rec, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "version: This account was saved by another version of Ferrophone (version 2): save it again.; \
         username: Enter only the part before the @ here, and put the part after it in Domain.; \
         password: Enter the password of this account."
    );
    // The device-only password counts as stored.
    let rec: AccountRecord =
        serde_json::from_value(json!({ "version": 1, "server": "wss://x.example/", "username": "1001" })).unwrap();
    let a = Account::from_record(&rec, Some("local")).unwrap();
    assert_eq!(
        (a.password.as_str(), a.domain.as_str(), a.aor().as_str()),
        ("local", "x.example", "sip:1001@x.example")
    );
}

#[test]
fn invalid_stored_settings_get_the_forms_messages_and_the_nearest_valid_values() {
    let (stored, ignored) = Settings::from_json_lenient(&json!({
        "version": 1, "maxCalls": 20, "autoAnswerDelayMs": 90000, "registerExpires": 5, "dtmfMode": "inband",
        "iceServers": [
            { "urls": ["stun:ok.example", "http://bad"] },
            { "urls": ["turn:relay.example"], "username": "u" }
        ],
        "allowedExtensions": ["not-an-id", "a".repeat(32)],
        "trustedRealms": ["ok", "bad\"realm"],
    }));
    assert!(ignored.is_empty());
    let problems: Vec<String> = stored.problems().iter().map(ToString::to_string).collect();
    assert_eq!(problems, [
        "registerExpires: Enter a whole number of seconds from 60 to 86400.",
        "autoAnswerDelayMs: Enter a whole number of milliseconds from 0 to 60000.",
        "maxCalls: Enter a whole number of calls from 1 to 8.",
        "dtmfMode: Choose one of: rfc4733, info.",
        "iceUrls: Not a STUN or TURN address: line 2 (\"http://bad\"). Each line must look like stun:host:port, turn:host:port or turns:host:port.",
        "iceCredential: A TURN server needs a password.",
        "allowedExtensions: Not an extension id: line 1 (\"not-an-id\"). An id is 32 letters from a to p, as chrome://extensions shows it.",
        "trustedRealms: Not a realm: line 2. A realm is up to 253 characters, without quotes.",
    ]);
    // The same values typed into the form get the same messages.
    let form = BehaviourForm {
        max_calls: "20".into(),
        ice_urls: "stun:ok.example\nhttp://bad\nturn:relay.example".into(),
        ice_username: "u".into(),
        ..Default::default()
    };
    let e = form.to_settings("", &Settings::default()).unwrap_err();
    for field in ["maxCalls", "iceUrls", "iceCredential"] {
        let stored_msg = stored.problems().into_iter().find(|p| p.field == field).unwrap();
        assert_eq!(e.get(field), Some(&stored_msg), "{field}");
    }

    let run = stored.normalized();
    assert_eq!((run.max_calls, run.auto_answer_delay_ms, run.register_expires), (8, 60_000, 60), "numbers are clamped");
    assert_eq!(run.dtmf_mode, "rfc4733", "an unknown choice is the default");
    assert_eq!(
        serde_json::to_value(&run.ice_servers).unwrap(),
        json!([{ "urls": ["stun:ok.example"] }]),
        "the invalid URL and the TURN server without a password are left out"
    );
    assert_eq!(run.allowed_extensions, ["a".repeat(32)]);
    assert_eq!(run.trusted_realms, ["ok"]);
    assert!(run.problems().is_empty(), "what the worker runs with breaks no rule");
    assert!(Settings::default().problems().is_empty(), "nor do the defaults");
}
