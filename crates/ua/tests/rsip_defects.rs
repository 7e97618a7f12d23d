//! Known rsip 0.4 defects: each test first shows the defect using rsip directly, then shows what
//! our message layer does instead. If an rsip upgrade fixes one, its first half fails: that is the
//! moment to reconsider the workaround. Together they are why the message layer parses and
//! writes SIP itself and rsip is only a dev-dependency (test (h) has the RFC 4475 numbers).

use ferrophone_ua::message::*;
use rsip::prelude::*;

const OUTBOUND_CONTACT: &str = r#"<sip:alice@abc.invalid;transport=ws>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>";reg-id=1;ob"#;

/// (a) RFC 5626 Contact parameters: rsip's typed Contact refuses them.
#[test]
fn rsip_typed_contact_rejects_rfc5626_params() {
    let untyped = rsip::headers::Contact::new(OUTBOUND_CONTACT);
    assert!(untyped.typed().is_err(), "rsip's typed Contact now accepts it: {:?}", untyped.typed());
    assert!(rsip::typed::Contact::try_from(untyped).is_err());

    // Ours: parsed, every parameter available, written back byte for byte.
    let na = NameAddr::parse(OUTBOUND_CONTACT).unwrap();
    assert_eq!(na.uri, "sip:alice@abc.invalid;transport=ws");
    assert_eq!(na.params.get("+sip.instance"), Some("<urn:uuid:00000000-0000-0000-0000-000000000001>"));
    assert_eq!(na.params.get("reg-id"), Some("1"));
    assert!(na.params.has("ob"));
    assert_eq!(na.to_string(), OUTBOUND_CONTACT);

    // And through a whole message.
    let wire = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1\r\nFrom: <sip:alice@example.com>;tag=1\r\n\
         To: <sip:alice@example.com>;tag=2\r\nCall-ID: reg1\r\nCSeq: 2 REGISTER\r\n\
         Contact: {OUTBOUND_CONTACT};expires=600\r\nContent-Length: 0\r\n\r\n"
    );
    let Ok(Message::Response(res)) = parse(wire.as_bytes()) else { panic!("parsed") };
    let contacts = res.headers.contacts();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].params.get("expires"), Some("600"));
    assert_eq!(contacts[0].params.get("reg-id"), Some("1"));
}

/// (b) RFC 8760 digest algorithm token `SHA-256`: rsip only knows (and writes) `SHA256`.
#[test]
fn rsip_digest_algorithm_does_not_know_sha_256() {
    use rsip::headers::auth::Algorithm;
    assert!(Algorithm::try_from("SHA-256").is_err(), "rsip now parses SHA-256");
    assert_eq!(Algorithm::Sha256.to_string(), "SHA256", "rsip writes a token RFC 8760 does not define");
    let challenge = r#"Digest realm="x", nonce="y", algorithm=SHA-256, qop="auth""#;
    assert!(rsip::headers::WwwAuthenticate::new(challenge).typed().is_err());

    // Ours: the header text is kept byte-exact; the auth module parses it.
    let wire = format!(
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1\r\n\
         From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>;tag=2\r\nCall-ID: reg1\r\n\
         CSeq: 1 REGISTER\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 0\r\n\r\n"
    );
    let Ok(Message::Response(res)) = parse(wire.as_bytes()) else { panic!("parsed") };
    assert_eq!(res.headers.get("WWW-Authenticate"), Some(challenge));
    assert_eq!(res.headers.get("www-authenticate"), Some(challenge));
}

/// (c) rsip's `Uri` parser drops or rewrites parts of valid URIs, and refuses some outright.
#[test]
fn rsip_uri_mangles_valid_request_uris() {
    let rewritten = |uri: &str| rsip::Uri::try_from(uri).map(|u| u.to_string()).ok();
    // RFC 4475 semiuri: the host disappears.
    assert_eq!(rewritten("sip:user;par=u%40example.net@example.com").as_deref(), Some("sip:user;par=u%40example.net"));
    // The transport parameter is upper-cased.
    assert_eq!(rewritten("sip:alice@example.com;transport=ws").as_deref(), Some("sip:alice@example.com;transport=WS"));
    // IPv6 and tel: refused.
    assert_eq!(rewritten("sip:[::1]:5060"), None);
    assert_eq!(rewritten("tel:+15551234"), None);

    // Ours: the request line is written as held, the Request-URI is never re-parsed.
    for uri in [
        "sip:user;par=u%40example.net@example.com",
        "sip:alice@example.com;transport=ws",
        "sip:[::1]:5060",
        "tel:+15551234",
    ] {
        let req = Request {
            method: Method::Options,
            uri: uri.to_string(),
            headers: base_headers("OPTIONS"),
            body: Vec::new(),
        };
        let wire = req.to_bytes();
        assert!(wire.starts_with(format!("OPTIONS {uri} SIP/2.0\r\n").as_bytes()), "{uri}");
        assert_eq!(parse(&wire), Ok(Message::Request(with_content_length(req, 0))));
    }
}

/// (d) Extension methods: rsip's `Method` is a closed enum, so it refuses RFC 4475 `intmeth`,
/// `esc02`... and cannot write them either.
#[test]
fn rsip_refuses_extension_methods() {
    let wire = b"NOTAMETHOD sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n\
                 From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: x\r\n\
                 CSeq: 1 NOTAMETHOD\r\nContent-Length: 0\r\n\r\n";
    assert!(rsip::SipMessage::try_from(&wire[..]).is_err());

    let Ok(Message::Request(req)) = parse(wire) else { panic!("parsed") };
    assert_eq!(req.method, Method::Other("NOTAMETHOD".into()));
    assert!(req.to_bytes().starts_with(b"NOTAMETHOD sip:bob@example.com SIP/2.0\r\n"));
    // rsip also matches methods case-insensitively; SIP methods are case-sensitive.
    assert_eq!("invite".parse::<rsip::Method>().ok(), Some(rsip::Method::Invite));
    assert_eq!(Method::from_token("invite"), Method::Other("invite".into()));
}

/// (e) Status lines: rsip drops the reason phrase of well-known codes on parse and writes the
/// Rust variant name instead of a reason phrase.
#[test]
fn rsip_rewrites_reason_phrases() {
    assert_eq!(rsip::StatusCode::from(183).to_string(), "183 SessionProgress");
    let wire = b"SIP/2.0 200 Registered here\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n\
                 From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>;tag=2\r\nCall-ID: x\r\n\
                 CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
    let rsip::SipMessage::Response(rs) = rsip::SipMessage::try_from(&wire[..]).unwrap() else { panic!() };
    assert_eq!(rs.status_code.to_string(), "200 OK", "the reason phrase is lost");

    let Ok(Message::Response(res)) = parse(wire) else { panic!("parsed") };
    assert_eq!(res.reason, "Registered here");
    assert!(res.to_bytes().starts_with(b"SIP/2.0 200 Registered here\r\n"));
    let progress =
        Response { status: 183, reason: "Session Progress".into(), headers: base_headers("INVITE"), body: Vec::new() };
    assert!(progress.to_bytes().starts_with(b"SIP/2.0 183 Session Progress\r\n"));
}

/// (f) Header folding and whitespace before the colon (RFC 3261 §7.3.1): rsip refuses them
/// (RFC 4475 wsinv); we unfold them.
#[test]
fn rsip_refuses_folded_headers() {
    let wire = b"OPTIONS sip:bob@example.com SIP/2.0\r\nVia  : SIP/2.0/WSS a.invalid\r\n ;branch=z9hG4bK1\r\n\
                 From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: x\r\n\
                 CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert!(rsip::SipMessage::try_from(&wire[..]).is_err());
    let Ok(Message::Request(req)) = parse(wire) else { panic!("parsed") };
    assert_eq!(req.headers.get("Via"), Some("SIP/2.0/WSS a.invalid ;branch=z9hG4bK1"));
    assert_eq!(req.headers.top_via().unwrap().branch(), Some("z9hG4bK1"));
}

/// (g) Bodies: rsip's writer renders the body with `from_utf8_lossy`, corrupting binary bodies
/// (RFC 4475 mpart01 carries a DER blob). We write the body as bytes.
#[test]
fn rsip_writer_corrupts_binary_bodies() {
    let body = vec![0x30, 0x82, 0x01, 0x52, 0x00, 0xff, 0xfe];
    let rs = rsip::Response { body: body.clone(), ..Default::default() };
    assert!(!rs.to_string().into_bytes().ends_with(&body), "rsip now writes bodies as bytes");

    let res = Response { status: 200, reason: "OK".into(), headers: base_headers("MESSAGE"), body: body.clone() };
    let wire = res.to_bytes();
    assert!(wire.ends_with(&body));
    let Ok(Message::Response(back)) = parse(&wire) else { panic!("parsed") };
    assert_eq!(back.body, body);
}

/// (h) rsip as the parser of record, on the RFC 4475 torture messages: it refuses 7 of the 27
/// valid ones and accepts 12 of the 20 invalid ones that we refuse (the two invalid ones we
/// accept, `baddate` and `regbadct`, are documented deviations in rfc4475_torture.rs).
#[test]
fn rsip_misjudges_rfc4475_torture_messages() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475");
    let judged = |folder: &str, rsip_accepts: bool| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join(folder))
            .expect("torture folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "sip"))
            .filter_map(|p| {
                let bytes = std::fs::read(&p).expect("message");
                let ours = parse(&bytes).is_ok();
                let theirs = rsip::SipMessage::try_from(&bytes[..]).is_ok();
                (theirs == rsip_accepts && ours != theirs)
                    .then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(judged("valid", false), ["esc01", "esc02", "intmeth", "longreq", "semiuri", "unkscm", "wsinv"]);
    assert_eq!(
        judged("invalid", true),
        [
            "badaspec",
            "baddn",
            "badinv01",
            "clerr",
            "insuf",
            "ltgtruri",
            "mcl01",
            "mismatch01",
            "multi01",
            "ncl",
            "quotbal",
            "scalarlg"
        ]
    );
}

fn base_headers(method: &str) -> Headers {
    let mut h = Headers::new();
    h.push("Via", "SIP/2.0/WSS a.invalid;branch=z9hG4bK1");
    h.push("From", "<sip:alice@example.com>;tag=1");
    h.push("To", "<sip:bob@example.com>");
    h.push("Call-ID", "defects");
    h.push("CSeq", format!("1 {method}"));
    h
}

fn with_content_length(mut req: Request, n: usize) -> Request {
    req.headers.push("Content-Length", n.to_string());
    req
}
