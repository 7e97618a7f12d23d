//! What `parse` refuses, and how: size, garbage, missing and duplicated headers, bad values,
//! Content-Length; and `salvage_for_reply` for answering a broken request with a 400.

use ferrophone_ua::message::*;

const HEADERS: [(&str, &str); 7] = [
    ("Via", "SIP/2.0/WSS a.invalid;branch=z9hG4bK776asdhds"),
    ("Max-Forwards", "70"),
    ("To", "Bob <sip:bob@example.com>"),
    ("From", "Alice <sip:alice@example.com>;tag=1928301774"),
    ("Call-ID", "a84b4c76e66710@pc33.example.com"),
    ("CSeq", "314159 INVITE"),
    ("Contact", "<sip:alice@a.invalid;transport=ws>"),
];

/// An INVITE built from `HEADERS`, with `edit` applied to the header list, then `body`.
fn invite_with(edit: impl FnOnce(&mut Vec<(String, String)>), body: &[u8]) -> Vec<u8> {
    let mut headers: Vec<(String, String)> = HEADERS.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    edit(&mut headers);
    let mut out = b"INVITE sip:bob@example.com SIP/2.0\r\n".to_vec();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn invite() -> Vec<u8> {
    invite_with(|_| {}, b"")
}

#[test]
fn the_base_message_is_valid() {
    assert!(matches!(parse(&invite()), Ok(Message::Request(_))));
}

// ---------------------------------------------------------------- size

#[test]
fn oversize_is_refused_before_parsing() {
    // Garbage that would otherwise be a Syntax error: TooLarge proves the size came first.
    let huge = vec![b'x'; MAX_MESSAGE_SIZE + 1];
    assert_eq!(parse(&huge), Err(ParseError::TooLarge { size: MAX_MESSAGE_SIZE + 1, limit: MAX_MESSAGE_SIZE }));
    // A well-formed message one byte over the limit is refused too.
    let base = invite_with(|h| h.push(("Content-Length".into(), "0".into())), b"");
    let pad = MAX_MESSAGE_SIZE + 1 - base.len();
    let big = invite_with(|h| h.push(("Content-Length".into(), pad.to_string())), &vec![b'a'; pad]);
    assert_eq!(big.len(), MAX_MESSAGE_SIZE + 1 + (pad.to_string().len() - 1));
    assert!(matches!(parse(&big), Err(ParseError::TooLarge { .. })));
}

#[test]
fn a_message_at_the_limit_is_accepted() {
    let probe = invite_with(|h| h.push(("Content-Length".into(), "00000".into())), b"");
    let pad = MAX_MESSAGE_SIZE - probe.len();
    let msg = invite_with(|h| h.push(("Content-Length".into(), format!("{pad:05}"))), &vec![b'a'; pad]);
    assert_eq!(msg.len(), MAX_MESSAGE_SIZE);
    let Ok(Message::Request(req)) = parse(&msg) else { panic!("accepted") };
    assert_eq!(req.body.len(), pad);
}

// ---------------------------------------------------------------- garbage

#[test]
fn garbage_is_a_syntax_error() {
    for bad in [
        &b""[..],
        b"\r\n\r\n",
        b"\r\n",
        b"hello",
        b"\x00\x01\x02\x03",
        b"INVITE\r\n\r\n",
        b"SIP/2.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"\xff\xfe\xfd\r\n\r\n",
    ] {
        let err = parse(bad).expect_err("refused");
        assert!(matches!(err, ParseError::Syntax(_)), "{bad:?}: {err:?}");
    }
}

#[test]
fn header_section_must_end_with_an_empty_line() {
    let mut msg = invite();
    msg.truncate(msg.len() - 2);
    assert!(matches!(parse(&msg), Err(ParseError::Syntax(_))));
}

#[test]
fn bare_lf_line_ends_are_refused() {
    let msg = String::from_utf8(invite()).unwrap().replace("\r\n", "\n");
    assert!(matches!(parse(msg.as_bytes()), Err(ParseError::Syntax(_))));
    let msg = invite_with(|h| h[2].1.push_str("\nInjected: yes"), b"");
    assert!(matches!(parse(&msg), Err(ParseError::Syntax(_))));
}

#[test]
fn malformed_header_lines_are_refused() {
    for line in ["No colon here", "Bad Name: value", ": no name", "Na\u{e9}me: value"] {
        let msg = invite_with(|h| h.insert(1, (line.to_string(), String::new())), b"");
        // `name: ` with an empty value after the line: rebuild without the trailing ": ".
        let text = String::from_utf8(msg).unwrap().replace(&format!("{line}: \r\n"), &format!("{line}\r\n"));
        assert!(matches!(parse(text.as_bytes()), Err(ParseError::Syntax(_))), "{line:?}");
    }
    // A continuation line with nothing to continue.
    let text = "INVITE sip:bob@example.com SIP/2.0\r\n continued\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
    assert!(matches!(parse(text.as_bytes()), Err(ParseError::Syntax(_))));
}

#[test]
fn non_utf8_header_values_are_refused() {
    let mut msg = invite_with(|h| h.push(("Subject".into(), "X".into())), b"");
    let at = msg.windows(9).position(|w| w == b"Subject: ").unwrap() + 9;
    msg[at] = 0xff;
    assert!(matches!(parse(&msg), Err(ParseError::Syntax(_))));
}

#[test]
fn folded_headers_are_unfolded() {
    let msg = invite_with(|h| h.push(("Subject".into(), "first\r\n \t second\r\n\tthird".into())), b"");
    let Ok(Message::Request(req)) = parse(&msg) else { panic!("accepted") };
    assert_eq!(req.headers.get("s"), Some("first second third"));
}

#[test]
fn leading_crlfs_are_ignored() {
    let mut msg = b"\r\n\r\n".to_vec();
    msg.extend_from_slice(&invite());
    assert!(parse(&msg).is_ok());
}

// ---------------------------------------------------------------- start line

#[test]
fn start_line_errors() {
    let with_start = |start: &str| {
        let text = String::from_utf8(invite()).unwrap();
        let rest = text.split_once("\r\n").unwrap().1;
        parse(format!("{start}\r\n{rest}").as_bytes())
    };
    assert_eq!(with_start("INVITE sip:bob@example.com SIP/3.0"), Err(ParseError::UnsupportedVersion("SIP/3.0".into())));
    assert!(with_start("INVITE sip:bob@example.com sip/2.0").is_ok(), "the version is case-insensitive");
    assert!(matches!(with_start("INVITE sip:bob@example.com HTTP/1.1"), Err(ParseError::Syntax(_))));
    assert!(matches!(with_start("INVITE  sip:bob@example.com SIP/2.0"), Err(ParseError::Syntax(_))));
    assert!(matches!(with_start("INVITE sip:bob@example.com SIP/2.0 "), Err(ParseError::Syntax(_))));
    assert!(matches!(with_start("INV\"ITE sip:bob@example.com SIP/2.0"), Err(ParseError::Syntax(_))));
    assert!(matches!(with_start("INVITE <sip:bob@example.com> SIP/2.0"), Err(ParseError::InvalidHeader(_))));
    assert!(matches!(with_start("INVITE bob@example.com SIP/2.0"), Err(ParseError::InvalidHeader(_))));
    assert!(matches!(with_start("INVITE sip:bob@example.com?Subject=x SIP/2.0"), Err(ParseError::InvalidHeader(_))));
}

#[test]
fn status_line_errors() {
    let response = |start: &str| {
        let text = format!(
            "{start}\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n\
             To: <sip:b@example.com>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        );
        parse(text.as_bytes())
    };
    assert!(response("SIP/2.0 200 OK").is_ok());
    assert!(response("SIP/2.0 100").is_ok(), "missing SP before an empty reason is tolerated");
    for bad in ["SIP/2.0 99 Low", "SIP/2.0 700 High", "SIP/2.0 2000 OK", "SIP/2.0 OK", "SIP/2.0 20x OK", "SIP/2.0"] {
        assert!(matches!(response(bad), Err(ParseError::Syntax(_))), "{bad:?}");
    }
    assert_eq!(response("SIP/1.0 200 OK"), Err(ParseError::UnsupportedVersion("SIP/1.0".into())));
}

// ---------------------------------------------------------------- headers

#[test]
fn each_mandatory_header_is_required() {
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        let msg = invite_with(|h| h.retain(|(n, _)| n != name), b"");
        assert_eq!(parse(&msg), Err(ParseError::MissingHeader(name)), "without {name}");
    }
    // Max-Forwards is optional.
    assert!(parse(&invite_with(|h| h.retain(|(n, _)| n != "Max-Forwards"), b"")).is_ok());
}

#[test]
fn single_valued_headers_cannot_repeat() {
    for (name, compact) in
        [("From", "f"), ("To", "t"), ("Call-ID", "i"), ("CSeq", "CSeq"), ("Max-Forwards", "Max-Forwards")]
    {
        let value = HEADERS.iter().find(|(n, _)| *n == name).unwrap().1;
        let msg = invite_with(|h| h.push((compact.into(), value.into())), b"");
        match parse(&msg) {
            Err(ParseError::InvalidHeader(e)) => assert_eq!(e.header, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let msg = invite_with(|h| h.extend([("Content-Length".into(), "0".into()), ("l".into(), "0".into())]), b"");
    assert!(matches!(parse(&msg), Err(ParseError::InvalidHeader(e)) if e.header == "Content-Length"));
}

#[test]
fn mandatory_headers_must_parse() {
    let cases: [(&str, &str); 8] = [
        ("Via", "SIP/2.0/WSS"),
        ("Via", "SIP/2.0/WSS a.invalid;branch=z9hG4bK1, , SIP/2.0/UDP b"),
        ("From", "\"unterminated <sip:a@example.com>"),
        ("To", "<sip:b@example.com"),
        ("Call-ID", "has space"),
        ("Call-ID", ""),
        ("CSeq", "2147483648 INVITE"),
        ("CSeq", "one INVITE"),
    ];
    for (name, value) in cases {
        let msg = invite_with(|h| h.iter_mut().filter(|(n, _)| n == name).for_each(|(_, v)| *v = value.into()), b"");
        match parse(&msg) {
            Err(ParseError::InvalidHeader(e)) => assert_eq!(e.header, name, "{value:?}"),
            other => panic!("{name}: {value:?}: {other:?}"),
        }
    }
    let msg = invite_with(|h| h[1].1 = "seventy".into(), b"");
    assert!(matches!(parse(&msg), Err(ParseError::InvalidHeader(e)) if e.header == "Max-Forwards"));
}

#[test]
fn cseq_method_must_match_the_request() {
    let msg = invite_with(|h| h[5].1 = "314159 BYE".into(), b"");
    assert_eq!(parse(&msg), Err(ParseError::CSeqMethodMismatch));
    let msg = invite_with(|h| h[5].1 = "314159 invite".into(), b"");
    assert_eq!(parse(&msg), Err(ParseError::CSeqMethodMismatch), "methods are case-sensitive");
}

// ---------------------------------------------------------------- Content-Length

#[test]
fn content_length_larger_than_the_body_is_truncated() {
    let msg = invite_with(|h| h.push(("Content-Length".into(), "10".into())), b"12345");
    assert_eq!(parse(&msg), Err(ParseError::Truncated { content_length: 10, body_len: 5 }));
}

#[test]
fn bytes_beyond_content_length_are_discarded() {
    let msg = invite_with(|h| h.push(("l".into(), "3".into())), b"v=0\r\nextra");
    let Ok(Message::Request(req)) = parse(&msg) else { panic!("accepted") };
    assert_eq!(req.body, b"v=0");
}

#[test]
fn without_content_length_the_frame_is_the_body() {
    let msg = invite_with(|_| {}, b"v=0\r\n");
    let Ok(Message::Request(req)) = parse(&msg) else { panic!("accepted") };
    assert_eq!(req.body, b"v=0\r\n");
}

#[test]
fn content_length_must_be_a_number() {
    for value in ["-1", "five", "", "1 2", "99999999999999999999999999"] {
        let msg = invite_with(|h| h.push(("Content-Length".into(), value.into())), b"");
        assert!(
            matches!(parse(&msg), Err(ParseError::InvalidHeader(ref e)) if e.header == "Content-Length"),
            "{value:?}"
        );
    }
}

// ---------------------------------------------------------------- errors read well

#[test]
fn errors_have_readable_messages() {
    assert_eq!(ParseError::MissingHeader("Call-ID").to_string(), "missing mandatory Call-ID header");
    assert!(ParseError::TooLarge { size: 70000, limit: 65536 }.to_string().contains("70000"));
    let long_garbage = format!("{} sip:x SIP/2.0\r\n\r\n", "\u{e9}".repeat(10_000));
    let err = parse(long_garbage.as_bytes()).unwrap_err().to_string();
    assert!(err.len() < 200, "untrusted text is shortened in errors: {} bytes", err.len());
}

// ---------------------------------------------------------------- salvage_for_reply

#[test]
fn salvage_recovers_the_reply_headers_of_a_broken_request() {
    let msg = invite_with(|h| h[1].1 = "seventy".into(), b"");
    assert!(parse(&msg).is_err());
    let req = salvage_for_reply(&msg).expect("salvaged");
    assert_eq!(req.method, Method::Invite);
    assert_eq!(req.uri, "sip:bob@example.com");
    let names: Vec<&str> = req.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["Via", "From", "To", "Call-ID", "CSeq"], "only what a reply needs");
    let res = Response::for_request(&req, 400, "Bad Request", Some("srv1"));
    let Ok(Message::Response(res)) = parse(&res.to_bytes()) else { panic!("the 400 parses") };
    assert_eq!(res.status, 400);
    assert_eq!(res.headers.top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
    assert_eq!(res.headers.to().unwrap().tag(), Some("srv1"));
}

#[test]
fn salvage_copies_a_broken_mandatory_header_verbatim() {
    // The 400 echoes what the peer sent; it is the peer's CSeq, broken or not.
    let msg = invite_with(|h| h[5].1 = "99999999999 INVITE".into(), b"");
    assert!(parse(&msg).is_err());
    let req = salvage_for_reply(&msg).expect("salvaged");
    assert_eq!(req.headers.get("CSeq"), Some("99999999999 INVITE"));
    let wire = Response::for_request(&req, 400, "Bad Request", None).to_bytes();
    assert!(String::from_utf8(wire).unwrap().contains("\r\nCSeq: 99999999999 INVITE\r\n"));
}

#[test]
fn salvage_keeps_every_via_and_unfolds() {
    let text = "INVITE  sip:bob@example.com  SIP/2.0\r\n\
                Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n\
                v: SIP/2.0/UDP b.example.com\r\n ;branch=z9hG4bK2\r\n\
                f: <sip:alice@example.com>;tag=1\r\nt: <sip:bob@example.com>\r\ni: abc\r\nCSeq: 1 INVITE\r\n\r\n";
    assert!(parse(text.as_bytes()).is_err(), "double SP in the request line");
    let req = salvage_for_reply(text.as_bytes()).expect("salvaged");
    assert_eq!(
        req.headers.get_all("Via"),
        ["SIP/2.0/UDP a.example.com;branch=z9hG4bK1", "SIP/2.0/UDP b.example.com ;branch=z9hG4bK2"]
    );
}

#[test]
fn salvage_gives_up_on_responses_garbage_and_missing_headers() {
    let response = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n\
                     To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
    assert!(salvage_for_reply(response).is_none());
    assert!(salvage_for_reply(b"").is_none());
    assert!(salvage_for_reply(b"\x00\xff garbage").is_none());
    assert!(salvage_for_reply(&invite_with(|h| h.retain(|(n, _)| n != "Call-ID"), b"")).is_none());
    assert!(salvage_for_reply(&invite_with(|h| h[4].1.clear(), b"")).is_none(), "empty Call-ID");
}
