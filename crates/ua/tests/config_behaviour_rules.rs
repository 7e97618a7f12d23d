//! The behaviour form's rules (`settings`), one by one, as the options page gets them from the
//! worker (`save-config`): numbers in their ranges, STUN/TURN addresses and their credentials,
//! extension ids, realms, the radio choices; every refused field at once; a valid form becomes
//! the documented `settings` fields.
use ferrophone_ua::config::form::BehaviourForm;
use ferrophone_ua::config::{ConfigErrors, IceServer, Settings};
use serde_json::json;

fn refused(f: &BehaviourForm, credential: &str, stored: &Settings) -> ConfigErrors {
    f.to_settings(credential, stored).expect_err("refused")
}

fn only(f: &BehaviourForm, field: &str) -> (&'static str, String) {
    let e = refused(f, "", &Settings::default());
    assert_eq!(e.0.len(), 1, "exactly one refused field: {e}");
    let e = e.get(field).unwrap_or_else(|| panic!("{field} refused: {e}"));
    (e.code, e.message.clone())
}

#[test]
fn numbers_are_whole_and_in_range() {
    let cases: &[(&str, &str, &str)] = &[
        ("autoAnswerDelayMs", "60001", "Enter a whole number of milliseconds from 0 to 60000."),
        ("autoAnswerDelayMs", "-1", "Enter a whole number of milliseconds from 0 to 60000."),
        ("iceGatheringTimeoutMs", "99", "Enter a whole number of milliseconds from 100 to 10000."),
        ("iceGatheringTimeoutMs", "1e3", "Enter a whole number of milliseconds from 100 to 10000."),
        ("maxCalls", "0", "Enter a whole number of calls from 1 to 8."),
        ("maxCalls", "9", "Enter a whole number of calls from 1 to 8."),
        ("maxCalls", "2.5", "Enter a whole number of calls from 1 to 8."),
        ("maxCalls", "99999999999999999999999", "Enter a whole number of calls from 1 to 8."),
    ];
    for (field, value, message) in cases {
        let mut f = BehaviourForm::default();
        match *field {
            "autoAnswerDelayMs" => f.auto_answer_delay_ms = value.to_string(),
            "iceGatheringTimeoutMs" => f.ice_gathering_timeout_ms = value.to_string(),
            _ => f.max_calls = value.to_string(),
        }
        assert_eq!(only(&f, field), ("number-range", message.to_string()), "{field}={value}");
    }
    // Empty fields are the defaults; the bounds are allowed.
    let s = BehaviourForm::default().to_settings("", &Settings::default()).unwrap();
    assert_eq!(
        (&s["autoAnswerDelayMs"], &s["iceGatheringTimeoutMs"], &s["maxCalls"]),
        (&json!(0), &json!(2000), &json!(4))
    );
    let f = BehaviourForm {
        auto_answer_delay_ms: "60000".into(),
        ice_gathering_timeout_ms: " 100 ".into(),
        max_calls: "8".into(),
        ..Default::default()
    };
    let s = f.to_settings("", &Settings::default()).unwrap();
    assert_eq!(
        (&s["autoAnswerDelayMs"], &s["iceGatheringTimeoutMs"], &s["maxCalls"]),
        (&json!(60000), &json!(100), &json!(8))
    );
}

#[test]
fn ice_addresses_and_their_credentials() {
    let urls = |text: &str| BehaviourForm { ice_urls: text.into(), ..Default::default() };
    let e = only(&urls("stun:ok.example:3478\n\nhttp://x\nstun:h:0\nstun:h?transport=udp\nstun:-h\nx"), "iceUrls");
    assert_eq!(e, ("ice-url", r#"Not a STUN or TURN address: line 3 ("http://x"), line 4 ("stun:h:0"), line 5 ("stun:h?transport=udp"). Each line must look like stun:host:port, turn:host:port or turns:host:port."#.to_string()));
    for good in ["stun:stun.example.com", "STUN:[2001:db8::1]:3478", "stun:192.0.2.1:19302"] {
        assert!(urls(good).to_settings("", &Settings::default()).is_ok(), "{good}");
    }

    // TURN needs a user name and a password (typed, or the one already stored).
    let turn = |user: &str| BehaviourForm {
        ice_urls: "turns:turn.example:5349?transport=tcp".into(),
        ice_username: user.into(),
        ..Default::default()
    };
    let e = refused(&turn(""), "", &Settings::default());
    assert_eq!(e.get("iceUsername").map(|e| e.code), Some("ice-username-missing"));
    assert_eq!(e.get("iceUsername").unwrap().message, "A TURN server needs a username.");
    assert_eq!(
        e.get("iceCredential").map(|e| (e.code, e.message.as_str())),
        Some(("ice-credential-missing", "A TURN server needs a password."))
    );
    let s = turn("u").to_settings("secret", &Settings::default()).unwrap();
    assert_eq!(
        s["iceServers"],
        json!([{ "urls": ["turns:turn.example:5349?transport=tcp"], "username": "u", "credential": "secret" }])
    );
    let stored = Settings {
        ice_servers: vec![IceServer {
            urls: vec!["turn:old".into()],
            username: Some("u".into()),
            credential: Some("kept".into()),
        }],
        ..Settings::default()
    };
    let s = turn("u").to_settings("", &stored).unwrap();
    assert_eq!(s["iceServers"][0]["credential"], json!("kept"), "an empty password field keeps the stored one");

    // Without a TURN server, a user name or password is a mistake.
    let stun = BehaviourForm { ice_urls: "stun:s.example".into(), ice_username: "u".into(), ..Default::default() };
    let e = refused(&stun, "p", &Settings::default());
    assert_eq!(
        e.get("iceUsername").unwrap().message,
        "The username is only used for turn: or turns: servers: add one above or clear this field."
    );
    assert_eq!(
        e.get("iceCredential").unwrap().message,
        "The password is only used for turn: or turns: servers: add one above or clear this field."
    );
    assert_eq!(
        (e.get("iceUsername").unwrap().code, e.get("iceCredential").unwrap().code),
        ("ice-username-unused", "ice-credential-unused")
    );

    // STUN and TURN lines become one server each.
    let both = BehaviourForm {
        ice_urls: "stun:a\nturn:b:3478\nstun:c".into(),
        ice_username: "u".into(),
        ..Default::default()
    };
    let s = both.to_settings("p", &Settings::default()).unwrap();
    assert_eq!(
        s["iceServers"],
        json!([{ "urls": ["stun:a", "stun:c"] }, { "urls": ["turn:b:3478"], "username": "u", "credential": "p" }])
    );
}

#[test]
fn extension_ids_and_realms() {
    let ids = BehaviourForm {
        allowed_extensions: format!("{}\nnot-an-id\n{}", "a".repeat(32), "q".repeat(32)),
        ..Default::default()
    };
    assert_eq!(only(&ids, "allowedExtensions"), ("extension-id", format!(
        "Not an extension id: line 2 (\"not-an-id\"), line 3 (\"{}\"). An id is 32 letters from a to p, as chrome://extensions shows it.", "q".repeat(32))));
    let realms =
        BehaviourForm { trusted_realms: format!("ok.example\nsay \"hi\"\n{}", "r".repeat(254)), ..Default::default() };
    assert_eq!(
        only(&realms, "trustedRealms"),
        ("realm-invalid", "Not a realm: line 2, line 3. A realm is up to 253 characters, without quotes.".to_string())
    );
    let many = BehaviourForm { trusted_realms: (0..17).map(|i| format!("r{i}\n")).collect(), ..Default::default() };
    assert_eq!(only(&many, "trustedRealms"), ("realm-too-many", "List at most 16 realms.".to_string()));
    // Duplicates are stored once.
    let dup = BehaviourForm {
        trusted_realms: "a\n a \nb".into(),
        allowed_extensions: format!("{0}\n{0}", "b".repeat(32)),
        ..Default::default()
    };
    let s = dup.to_settings("", &Settings::default()).unwrap();
    assert_eq!(s["trustedRealms"], json!(["a", "b"]));
    assert_eq!(s["allowedExtensions"], json!(["b".repeat(32)]));
}

#[test]
fn choices_are_known_words() {
    let f = BehaviourForm {
        auto_answer: "sometimes".into(),
        dtmf_mode: "inband".into(),
        transfer_targets: "anywhere".into(),
        ..Default::default()
    };
    let e = refused(&f, "", &Settings::default());
    let got: Vec<(&str, &str, &str)> = e.0.iter().map(|e| (e.field, e.code, e.message.as_str())).collect();
    assert_eq!(
        got,
        [
            ("autoAnswer", "choice-invalid", "Choose one of: never, headers, always."),
            ("dtmfMode", "choice-invalid", "Choose one of: rfc4733, info."),
            ("transferTargets", "choice-invalid", "Choose one of: domain, any, never."),
        ]
    );
    // No button checked: the default.
    let s = BehaviourForm::default().to_settings("", &Settings::default()).unwrap();
    assert_eq!(
        (&s["autoAnswer"], &s["dtmfMode"], &s["transferTargets"]),
        (&json!("never"), &json!("rfc4733"), &json!("domain"))
    );
}

#[test]
fn every_refused_field_at_once_and_the_documented_fields() {
    let f = BehaviourForm {
        max_calls: "x".into(),
        ice_urls: "x".into(),
        allowed_extensions: "x".into(),
        trusted_realms: "\"".into(),
        ..Default::default()
    };
    let mut fields: Vec<&str> = refused(&f, "", &Settings::default()).0.iter().map(|e| e.field).collect();
    fields.sort();
    assert_eq!(fields, ["allowedExtensions", "iceUrls", "maxCalls", "trustedRealms"]);

    let s = BehaviourForm { auto_answer: "headers".into(), dtmf_mode: "info".into(), ..Default::default() }
        .to_settings("", &Settings::default())
        .unwrap();
    let mut keys: Vec<&str> = s.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "allowedExtensions",
            "autoAnswer",
            "autoAnswerDelayMs",
            "dtmfMode",
            "iceGatheringTimeoutMs",
            "iceServers",
            "maxCalls",
            "transferTargets",
            "trustedRealms"
        ]
    );
    // What the form stores reads back as the same settings.
    let mut stored = serde_json::Map::new();
    stored.extend(s);
    let (back, ignored) = Settings::from_json_lenient(&serde_json::Value::Object(stored));
    assert!(ignored.is_empty());
    assert!(back.problems().is_empty());
    assert_eq!((back.auto_answer.as_str(), back.dtmf_mode.as_str()), ("headers", "info"));
}
