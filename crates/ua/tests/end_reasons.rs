//! Every `endReason` docs/API.md lists is one `EndReason` value, and back: the enum and the
//! public strings cannot drift apart.
use ferrophone_ua::call::EndReason;

fn documented() -> Vec<String> {
    let doc = include_str!("../../../docs/API.md");
    let start = doc.find("`endReason` (when").expect("the endReason paragraph in docs/API.md");
    let rest = &doc[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    let list = &rest[rest.find("):").expect("`endReason` (when …): list")..end];
    // The reasons are the lower-case kebab tokens; the explanations quote other things.
    let is_reason = |t: &&str| t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-<>".contains(c));
    list.split('`').skip(1).step_by(2).filter(is_reason).map(str::to_string).collect()
}

#[test]
fn every_documented_reason_round_trips() {
    let names = documented();
    assert!(names.len() > 20, "found {names:?}");
    for name in names {
        let concrete = name.replace("<code>", "499").replace("5xx", "503");
        let reason: EndReason = concrete.parse().unwrap_or_else(|_| panic!("{name} is not an EndReason"));
        assert_eq!(reason.to_string(), concrete);
        let json = serde_json::to_string(&reason).unwrap();
        assert_eq!(json, format!("\"{concrete}\""));
        assert_eq!(serde_json::from_str::<EndReason>(&json).unwrap(), reason);
    }
}

#[test]
fn status_codes_map_as_documented() {
    assert_eq!(EndReason::for_status(486).to_string(), "busy");
    assert_eq!(EndReason::for_status(503).to_string(), "server-error-503");
    assert_eq!(EndReason::for_status(499).to_string(), "failed-499");
    assert!("failed-x".parse::<EndReason>().is_err());
    assert!("no-such-reason".parse::<EndReason>().is_err());
}

/// Every reason the core can give (the match makes a new variant break this test's build).
fn every_reason() -> Vec<EndReason> {
    use EndReason::*;
    let all = vec![
        LocalHangup,
        RemoteHangup,
        Cancelled,
        Rejected,
        Transferred,
        Replaced,
        SessionExpired,
        DialogLost,
        Busy,
        Declined,
        NotFound,
        Unavailable,
        NoAnswer,
        Timeout,
        IncompatibleMedia,
        AuthFailed,
        UntrustedRealm,
        MediaFailed,
        ConnectionLost,
        NoAck,
        AddressIncomplete,
        ProtocolError,
        NotConnected,
        ServerError(503),
        Failed(499),
    ];
    for r in &all {
        match r {
            LocalHangup | RemoteHangup | Cancelled | Rejected | Transferred | Replaced | SessionExpired
            | DialogLost | Busy | Declined | NotFound | Unavailable | NoAnswer | Timeout | IncompatibleMedia
            | AuthFailed | UntrustedRealm | MediaFailed | ConnectionLost | NoAck | AddressIncomplete
            | ProtocolError | NotConnected | ServerError(_) | Failed(_) => {}
        }
    }
    all
}

#[test]
fn every_reason_is_documented() {
    let documented: Vec<String> =
        documented().into_iter().map(|n| n.replace("<code>", "499").replace("5xx", "503")).collect();
    for r in every_reason() {
        assert!(documented.contains(&r.to_string()), "{r} is missing from docs/API.md's endReason list");
    }
}
