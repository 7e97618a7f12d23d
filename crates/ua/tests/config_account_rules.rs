//! The account form's rules, one by one, as the options page gets them from the worker
//! (`save-config`): each refused field has a stable code and a message, every refused field is
//! reported at once, and a valid form becomes exactly the documented stored shape.
use ferrophone_ua::config::form::AccountForm;
use ferrophone_ua::config::{AccountRecord, ConfigErrors};

fn form(server: &str, username: &str) -> AccountForm {
    AccountForm { server: server.into(), username: username.into(), ..AccountForm::default() }
}

fn refused(f: &AccountForm, password: &str) -> ConfigErrors {
    f.to_storage(password, None).expect_err("refused")
}

/// The one refused field's (code, message).
fn only(f: &AccountForm, field: &str) -> (&'static str, String) {
    let e = refused(f, "pw");
    assert_eq!(e.0.len(), 1, "exactly one refused field: {e}");
    let e = e.get(field).unwrap_or_else(|| panic!("{field} refused: {e}"));
    (e.code, e.message.clone())
}

const OK: &str = "wss://sip.example.com:8443/ws";

#[test]
fn server_rules() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "server-missing", "Enter your provider's WebSocket address, for example wss://sip.example.com:8443/ws."),
        (
            "sip.example.com",
            "server-not-url",
            "This is not a valid URL. Enter the full address, for example wss://sip.example.com:8443/ws.",
        ),
        (
            "https://sip.example.com/ws",
            "server-scheme",
            "The address must start with wss:// (SIP over secure WebSocket), not https://.",
        ),
        (
            "WSS://1001:secret@sip.example.com/",
            "server-credentials",
            "Do not put a user name or password in the address: use the fields below.",
        ),
        ("wss:///ws", "server-host", "The address has no host name, for example wss://sip.example.com:8443/ws."),
        (
            "wss://exa_mple.com/",
            "server-host",
            "The address has no valid host name, for example wss://sip.example.com:8443/ws.",
        ),
        (
            "wss://999.1.1.1/",
            "server-host",
            "The address has no valid host name, for example wss://sip.example.com:8443/ws.",
        ),
        (
            "wss://bücher.example/",
            "server-host-ascii",
            "Write an international host name in its xn-- form (as your provider gives it).",
        ),
        ("wss://sip.example.com:0/", "server-port", "The port must be a number from 1 to 65535."),
        ("wss://sip.example.com:65536/", "server-port", "The port must be a number from 1 to 65535."),
        (
            "wss://[::1/",
            "server-not-url",
            "This is not a valid URL. Enter the full address, for example wss://sip.example.com:8443/ws.",
        ),
        (
            "wss://sip.example.com/a path",
            "server-not-url",
            "This is not a valid URL. Enter the full address, for example wss://sip.example.com:8443/ws.",
        ),
    ];
    for (server, code, message) in cases {
        assert_eq!(only(&form(server, "1001"), "server"), (*code, message.to_string()), "{server}");
    }
    let insecure =
        "ws:// is not encrypted and is only allowed to this computer (localhost, 127.x.x.x, [::1]). Use wss://.";
    for server in ["ws://sip.example.com/ws", "ws://192.168.1.10:8080/", "ws://128.0.0.1/", "ws://localhost.example/"] {
        assert_eq!(only(&form(server, "1001"), "server"), ("server-insecure", insecure.to_string()), "{server}");
    }
    for server in [
        OK,
        "ws://127.0.0.1:9/",
        "ws://localhost:9/",
        "ws://[::1]:9/",
        "wss://127.0.0.1:9/",
        "wss://[2001:db8::1]/",
        " wss://x.example ",
    ] {
        assert!(form(server, "1001").to_storage("pw", None).is_ok(), "{server} accepted");
    }
}

#[test]
fn username_rules() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "username-missing", "Enter your SIP username, for example 1001."),
        ("   ", "username-missing", "Enter your SIP username, for example 1001."),
        ("front desk", "username-spaces", "The username cannot contain spaces."),
        (
            "1001@example.com",
            "username-domain",
            "Enter only the part before the @ here, and put the part after it in Domain.",
        ),
        ("10\u{1}01", "username-characters", "The username cannot contain control characters."),
    ];
    for (username, code, message) in cases {
        assert_eq!(only(&form(OK, username), "username"), (*code, message.to_string()), "{username:?}");
    }
}

#[test]
fn password_is_typed_or_kept() {
    let f = form(OK, "1001");
    let e = refused(&f, "");
    assert_eq!(
        e.get("password").map(|e| (e.code, e.message.as_str())),
        Some(("password-missing", "Enter the password of this account."))
    );
    // An empty field keeps the stored password; a typed one replaces it.
    assert_eq!(f.to_storage("", Some("old")).unwrap().account.password.as_deref(), Some("old"));
    assert_eq!(f.to_storage("new", Some("old")).unwrap().account.password.as_deref(), Some("new"));
    // A password is taken as typed (spaces are part of it).
    assert_eq!(f.to_storage(" p w ", None).unwrap().account.password.as_deref(), Some(" p w "));
}

#[test]
fn optional_field_rules() {
    let with = |auth: &str, domain: &str, display: &str| AccountForm {
        auth_username: auth.into(),
        domain: domain.into(),
        display_name: display.into(),
        ..form(OK, "1001")
    };
    let domain_msg = "Enter a domain name such as example.com (no sip:, no port, no path).";
    let cases: &[(AccountForm, &str, &str, &str)] = &[
        (
            with("auth 1001", "", ""),
            "authUsername",
            "auth-username-spaces",
            "The authorization username cannot contain spaces.",
        ),
        (
            with("a\"b", "", ""),
            "authUsername",
            "auth-username-characters",
            "The authorization username cannot contain quotes or control characters.",
        ),
        (with("", "example..com", ""), "domain", "domain-invalid", domain_msg),
        (with("", "sip:example.com", ""), "domain", "domain-invalid", domain_msg),
        (with("", "exa mple.com", ""), "domain", "domain-invalid", domain_msg),
        (with("", "example.com:5060", ""), "domain", "domain-invalid", domain_msg),
        (with("", "example.com/x", ""), "domain", "domain-invalid", domain_msg),
        (with("", "example.com.", ""), "domain", "domain-invalid", domain_msg),
        (with("", "-example.com", ""), "domain", "domain-invalid", domain_msg),
        (with("", "300.1.1.1", ""), "domain", "domain-invalid", domain_msg),
        (with("", "[zz::1]", ""), "domain", "domain-invalid", domain_msg),
        (
            with("", "bücher.example", ""),
            "domain",
            "domain-ascii",
            "Write an international domain name in its xn-- form (as your provider gives it).",
        ),
        (
            with("", "", "Front\nDesk"),
            "displayName",
            "display-name-characters",
            "The display name cannot contain control characters.",
        ),
        (
            with("", "", &"x".repeat(101)),
            "displayName",
            "display-name-length",
            "The display name is too long (100 characters at most).",
        ),
    ];
    for (f, field, code, message) in cases {
        assert_eq!(only(f, field), (*code, message.to_string()), "{f:?}");
    }
    for (auth, domain, display) in [
        ("auth-1001", "example.com", "Front Desk"),
        ("", "192.0.2.1", ""),
        ("", "[2001:db8::1]", ""),
        ("", "xn--bcher-kva.example", &*"é".repeat(100)),
    ] {
        assert!(with(auth, domain, display).to_storage("pw", None).is_ok(), "{auth:?} {domain:?} {display:?}");
    }
}

#[test]
fn every_refused_field_at_once() {
    let f = AccountForm {
        server: "https://x".into(),
        username: "a b".into(),
        auth_username: "c d".into(),
        domain: "sip:x".into(),
        display_name: "\u{7}".into(),
        device_only: false,
    };
    let e = refused(&f, "");
    let fields: Vec<&str> = e.0.iter().map(|e| e.field).collect();
    assert_eq!(fields, ["server", "username", "password", "authUsername", "domain", "displayName"]);
}

#[test]
fn a_valid_form_is_stored_in_the_documented_shape() {
    let f = AccountForm {
        server: " ws://127.0.0.1:9/ ".into(),
        username: " 1001 ".into(),
        auth_username: "auth-1001".into(),
        domain: "Example.com".into(),
        display_name: "".into(),
        device_only: false,
    };
    let stored = f.to_storage("pw", None).unwrap();
    assert_eq!(stored.local_password, None);
    assert_eq!(
        serde_json::to_value(&stored.account).unwrap(),
        serde_json::json!({ "version": 1, "server": "ws://127.0.0.1:9/", "username": "1001", "password": "pw",
                            "authUsername": "auth-1001", "domain": "Example.com" }),
        "trimmed, as typed otherwise; empty optional fields are left out"
    );
    // Device only: the password leaves the synced account for chrome.storage.local.
    let stored = AccountForm { device_only: true, ..f }.to_storage("", Some("kept")).unwrap();
    assert_eq!(stored.local_password.as_deref(), Some("kept"));
    assert_eq!(stored.account.password, None);
    let back: AccountRecord = serde_json::from_value(serde_json::to_value(&stored.account).unwrap()).unwrap();
    assert_eq!(back, stored.account);
    assert!(!format!("{stored:?}").contains("kept"), "Debug never shows the password");
}
