//! The typed header views: Via, NameAddr, Params, SipUri, CSeq, split_list and Headers lookups.

use ferrophone_ua::message::*;

// ---------------------------------------------------------------- Via

#[test]
fn via_websocket_with_invalid_host() {
    let via = Via::parse("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;rport").unwrap();
    assert_eq!(via.transport, "WSS");
    assert_eq!(via.host, "df7jal23ls0d.invalid");
    assert_eq!(via.port, None);
    assert_eq!(via.branch(), Some("z9hG4bKnashds7"));
    assert!(via.params.has("rport"));
    assert_eq!(via.params.get("rport"), None, "a flag has no value");
    assert_eq!(via.to_string(), "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;rport");
}

#[test]
fn via_transport_is_upper_cased_and_port_parsed() {
    let via = Via::parse("sip/2.0/ws 192.0.2.4:8443;received=192.0.2.9;rport=5062").unwrap();
    assert_eq!(via.transport, "WS");
    assert_eq!(via.port, Some(8443));
    assert_eq!(via.params.get("received"), Some("192.0.2.9"));
    assert_eq!(via.params.get("rport"), Some("5062"));
    assert_eq!(via.to_string(), "SIP/2.0/WS 192.0.2.4:8443;received=192.0.2.9;rport=5062");
}

#[test]
fn via_ipv6_sent_by_and_received() {
    let via = Via::parse("SIP/2.0/TCP [2001:db8::9:1]:5061;branch=z9hG4bK1;received=2001:db8::9:255").unwrap();
    assert_eq!(via.host, "[2001:db8::9:1]");
    assert_eq!(via.port, Some(5061));
    assert_eq!(via.params.get("received"), Some("2001:db8::9:255"));
}

#[test]
fn via_with_whitespace_around_every_separator() {
    // RFC 4475 wsinv, after unfolding.
    let via = Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8").unwrap();
    assert_eq!(via.transport, "TCP");
    assert_eq!(via.host, "spindle.example.com");
    assert_eq!(via.branch(), Some("z9hG4bK9ikj8"));
    let via = Via::parse("SIP/2.0/UDP host.example.com : 5060 ;branch=z9hG4bK2").unwrap();
    assert_eq!(via.port, Some(5060));
}

#[test]
fn via_refuses_malformed_values() {
    for bad in [
        "",
        "SIP/2.0/UDP",
        "SIP/2.0/ host",
        "SIP/2.0 host",
        "SIP/3.0/UDP host",
        "HTTP/2.0/UDP host",
        "SIP/2.0/UDPhost",
        "SIP/2.0/UDP 192.0.2.15;;",
        "SIP/2.0/UDP host;branch=",
        "SIP/2.0/UDP host:99999",
        "SIP/2.0/UDP host:",
        "SIP/2.0/UDP host junk",
        "SIP/2.0/UDP [::1",
        "SIP/2.0/UDP host;branch=\"unterminated",
    ] {
        assert!(Via::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

// ---------------------------------------------------------------- NameAddr

#[test]
fn name_addr_with_quoted_display_name_and_escapes() {
    let na = NameAddr::parse(r#""J Rosenberg \\\""   <sip:jdrosen@example.com> ; tag = 98asjd8"#).unwrap();
    assert_eq!(na.display_name.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(na.uri, "sip:jdrosen@example.com");
    assert_eq!(na.tag(), Some("98asjd8"));
    // Written back quoted and escaped; parses to the same value.
    assert_eq!(NameAddr::parse(&na.to_string()).unwrap(), na);
}

#[test]
fn name_addr_with_token_display_name() {
    let na = NameAddr::parse("Alice Smith <sip:alice@example.com>;tag=1").unwrap();
    assert_eq!(na.display_name.as_deref(), Some("Alice Smith"));
    assert_eq!(na.to_string(), "\"Alice Smith\" <sip:alice@example.com>;tag=1");
    // RFC 4475 lwsdisp: no LWS before '<'.
    let na = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
    assert_eq!(na.display_name.as_deref(), Some("caller"));
}

#[test]
fn name_addr_addr_spec_params_are_header_params() {
    let na = NameAddr::parse("sip:bob@biloxi.example.com;tag=a6c85cf").unwrap();
    assert_eq!(na.display_name, None);
    assert_eq!(na.uri, "sip:bob@biloxi.example.com");
    assert_eq!(na.tag(), Some("a6c85cf"));
    assert_eq!(na.to_string(), "<sip:bob@biloxi.example.com>;tag=a6c85cf");
    // With whitespace before the ';' (RFC 4475 wsinv's To).
    let na = NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
    assert_eq!(na.tag(), Some("1918181833n"));
}

#[test]
fn name_addr_rfc5626_contact_round_trips() {
    let text = r#"<sip:alice@abc.invalid;transport=ws>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>";reg-id=1;ob"#;
    let na = NameAddr::parse(text).unwrap();
    assert_eq!(na.uri, "sip:alice@abc.invalid;transport=ws", "URI params stay in the URI");
    assert_eq!(na.params.get("+sip.instance"), Some("<urn:uuid:00000000-0000-0000-0000-000000000001>"));
    assert_eq!(na.params.get("reg-id"), Some("1"));
    assert!(na.params.has("ob"));
    assert_eq!(na.params.get("ob"), None);
    assert_eq!(na.to_string(), text, "byte-exact round trip");
    let uri = SipUri::parse(&na.uri).unwrap();
    assert_eq!(uri.params.get("transport"), Some("ws"));
}

#[test]
fn name_addr_expires_and_q_params() {
    let na = NameAddr::parse("<sip:alice@192.0.2.1:5060>;expires=3600;q=0.7").unwrap();
    assert_eq!(na.params.get("expires"), Some("3600"));
    assert_eq!(na.params.get("Q"), Some("0.7"), "parameter names are case-insensitive");
}

#[test]
fn name_addr_other_schemes() {
    assert_eq!(NameAddr::parse("isbn:2983792873").unwrap().uri, "isbn:2983792873");
    assert_eq!(NameAddr::parse("<http://www.example.com>;tag=3").unwrap().uri, "http://www.example.com");
    assert_eq!(NameAddr::parse("<tel:+15551234567>").unwrap().uri, "tel:+15551234567");
}

#[test]
fn name_addr_refuses_malformed_values() {
    for bad in [
        "",
        "\"Mr. J. User <sip:j.user@example.com>",          // RFC 4475 quotbal
        "\"Watson, Thomas\" < sip:t.watson@example.org >", // RFC 4475 badaspec
        "Bell, Alexander <sip:a.g.bell@example.com>",      // RFC 4475 baddn
        "<sip:alice@example.com",
        "<>",
        "\"Alice\" sip:alice@example.com",
        "<sip:alice@example.com> junk",
        "<sip:alice@example.com>;;",
        "<sip:@example.com>",
        "no-scheme",
        "<sip:alice@example.com>;tag=",
    ] {
        assert!(NameAddr::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn name_addr_display_escapes_control_characters() {
    // RFC 4475 intmeth: quoted-pairs carry BEL, NUL and DEL.
    let na = NameAddr::parse("\"BEL:\\\u{7} NUL:\\\u{0} DEL:\\\u{7f}\" <sip:x@example.com>").unwrap();
    assert_eq!(na.display_name.as_deref(), Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}"));
    assert_eq!(NameAddr::parse(&na.to_string()).unwrap(), na);
}

// ---------------------------------------------------------------- Params

#[test]
fn params_set_get_has_remove() {
    let mut p = Params::default();
    p.set("transport", Some("ws"));
    p.set("lr", None);
    p.set_quoted("+sip.instance", "<urn:uuid:1>");
    assert_eq!(p.to_string(), ";transport=ws;lr;+sip.instance=\"<urn:uuid:1>\"");
    assert_eq!(p.get("TRANSPORT"), Some("ws"));
    assert!(p.has("LR"));
    assert_eq!(p.get("lr"), None);
    p.set("transport", Some("tcp"));
    assert_eq!(p.to_string(), ";transport=tcp;lr;+sip.instance=\"<urn:uuid:1>\"", "replaced in place");
    p.remove("LR");
    assert!(!p.has("lr"));
    assert_eq!(Params::default().to_string(), "");
}

#[test]
fn params_quoted_values_round_trip() {
    let na = NameAddr::parse(r#"<sip:a@b>;x="a \"quoted\" \\ value";y=tok"#).unwrap();
    assert_eq!(na.params.get("x"), Some(r#"a "quoted" \ value"#));
    assert!(na.params.0[0].quoted);
    assert!(!na.params.0[1].quoted);
    assert_eq!(na.params.to_string(), r#";x="a \"quoted\" \\ value";y=tok"#);
}

// ---------------------------------------------------------------- SipUri

#[test]
fn sip_uri_all_parts() {
    let uri = SipUri::parse("sips:alice@atlanta.example.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent")
        .unwrap();
    assert_eq!(uri.scheme, "sips");
    assert_eq!(uri.user.as_deref(), Some("alice"));
    assert_eq!(uri.host, "atlanta.example.com");
    assert_eq!(uri.port, Some(5061));
    assert_eq!(uri.params.get("transport"), Some("tcp"));
    assert!(uri.params.has("lr"));
    assert_eq!(uri.headers.as_deref(), Some("subject=project%20x&priority=urgent"));
    assert_eq!(
        uri.to_string(),
        "sips:alice@atlanta.example.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent"
    );
}

#[test]
fn sip_uri_ipv6_host() {
    let uri = SipUri::parse("sip:[::1]:5060;transport=ws").unwrap();
    assert_eq!(uri.user, None);
    assert_eq!(uri.host, "[::1]");
    assert_eq!(uri.port, Some(5060));
    assert_eq!(uri.to_string(), "sip:[::1]:5060;transport=ws");
    assert_eq!(SipUri::parse("sip:bob@[2001:db8::10]").unwrap().host, "[2001:db8::10]");
}

#[test]
fn sip_uri_scheme_is_lower_cased() {
    let uri = SipUri::parse("SIP:Alice@Example.COM").unwrap();
    assert_eq!(uri.scheme, "sip");
    assert_eq!(uri.host, "Example.COM", "host kept as written");
}

#[test]
fn sip_uri_unusual_user_parts() {
    // RFC 4475 semiuri: ';' in the user part, escaped '@'.
    let uri = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
    assert_eq!(uri.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(uri.host, "example.com");
    assert!(uri.params.0.is_empty());
    // RFC 4475 intmeth: user and password with every allowed mark.
    let text =
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
    let uri = SipUri::parse(text).unwrap();
    assert_eq!(uri.host, "example.com");
    assert_eq!(uri.to_string(), text);
    // RFC 4475 esc01: escaped URI parameters.
    let uri = SipUri::parse("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31").unwrap();
    assert!(uri.params.has("%6C%72"));
    assert_eq!(uri.params.get("n%61me"), Some("v%61lue%25%34%31"));
}

#[test]
fn tel_uri() {
    let uri = SipUri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
    assert_eq!(uri.scheme, "tel");
    assert_eq!(uri.user.as_deref(), Some("+1-201-555-0123"));
    assert_eq!(uri.host, "");
    assert_eq!(uri.params.get("phone-context"), Some("example.com"));
    assert_eq!(uri.to_string(), "tel:+1-201-555-0123;phone-context=example.com");
}

#[test]
fn sip_uri_refuses_malformed_values() {
    for bad in [
        "",
        "sip:",
        "sip:@example.com",
        "sip:alice@",
        "sip:alice@example.com:",
        "sip:alice@example.com:65536",
        "sip:alice@example.com;",
        "sip:alice@exa mple.com",
        "sip:al%zzce@example.com",
        "sip:alice@example.com>",
        "sip:[::1",
        "sip:[]",
        "http://example.com",
        "alice@example.com",
        "tel:",
    ] {
        assert!(SipUri::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

// ---------------------------------------------------------------- CSeq

#[test]
fn cseq_parses_number_and_method() {
    assert_eq!(CSeq::parse("314159 INVITE").unwrap(), CSeq { seq: 314159, method: Method::Invite });
    assert_eq!(CSeq::parse(" 0009   INVITE ").unwrap().seq, 9, "leading zeros (RFC 4475 wsinv)");
    assert_eq!(CSeq::parse("1 NEWMETHOD").unwrap().method, Method::Other("NEWMETHOD".into()));
    assert_eq!(CSeq::parse("2147483647 BYE").unwrap().seq, (1 << 31) - 1);
}

#[test]
fn cseq_refuses_out_of_range_and_garbage() {
    for bad in
        ["2147483648 INVITE", "36893488147419103232 REGISTER", "INVITE", "12", "12INVITE", "-1 BYE", "1 INV ITE", ""]
    {
        assert!(CSeq::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

// ---------------------------------------------------------------- Method

#[test]
fn methods_are_case_sensitive() {
    assert_eq!(Method::from_token("INVITE"), Method::Invite);
    assert_eq!(Method::from_token("invite"), Method::Other("invite".into()));
    assert_eq!(Method::from_token("PRACK").as_str(), "PRACK");
    assert_eq!(Method::Other("RE%47IST%45R".into()).to_string(), "RE%47IST%45R");
}

// ---------------------------------------------------------------- split_list

#[test]
fn split_list_respects_quotes_and_angle_brackets() {
    assert_eq!(
        split_list(r#""Doe, John" <sip:jd@example.com;a=1,2>, <sip:x@y>;q="0,5" ,, sip:z@w"#),
        vec![r#""Doe, John" <sip:jd@example.com;a=1,2>"#, r#"<sip:x@y>;q="0,5""#, "sip:z@w"]
    );
    assert_eq!(split_list("INVITE, ACK,BYE"), vec!["INVITE", "ACK", "BYE"]);
    assert!(split_list(" , ,").is_empty());
    assert_eq!(split_list(r#""a\",b", c"#), vec![r#""a\",b""#, "c"], "escaped quote inside quotes");
}

// ---------------------------------------------------------------- Headers

fn sample_headers() -> Headers {
    let mut h = Headers::new();
    h.push("v", "SIP/2.0/WSS a.invalid;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2");
    h.push("VIA", "SIP/2.0/TCP c.example.com;branch=z9hG4bK3");
    h.push("f", "<sip:alice@example.com>;tag=1928301774");
    h.push("To", "Bob <sip:bob@example.com>");
    h.push("i", "a84b4c76e66710@pc33.atlanta.example.com");
    h.push("cseq", "314159 INVITE");
    h.push("m", "<sip:alice@a.invalid;transport=ws>;expires=600, *");
    h.push("l", "0");
    h
}

#[test]
fn header_lookups_understand_case_and_compact_forms() {
    let h = sample_headers();
    assert_eq!(h.get("Via"), Some("SIP/2.0/WSS a.invalid;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2"));
    assert_eq!(h.get("V"), h.get("via"));
    assert_eq!(h.get_all("Via").len(), 3);
    assert_eq!(h.call_id(), Some("a84b4c76e66710@pc33.atlanta.example.com"));
    assert_eq!(h.get("I"), h.call_id());
    assert_eq!(h.cseq(), Some(CSeq { seq: 314159, method: Method::Invite }));
    assert_eq!(h.top_via().unwrap().branch(), Some("z9hG4bK1"));
    assert_eq!(h.from().unwrap().tag(), Some("1928301774"));
    assert_eq!(h.to().unwrap().tag(), None);
    assert_eq!(h.content_length(), Some(0));
    assert_eq!(h.get("Content-Length"), Some("0"));
    assert_eq!(h.get("X-Absent"), None);
}

#[test]
fn contacts_include_the_wildcard() {
    let contacts = sample_headers().contacts();
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[0].uri, "sip:alice@a.invalid;transport=ws");
    assert_eq!(contacts[0].params.get("expires"), Some("600"));
    assert_eq!(contacts[1].uri, "*");
}

#[test]
fn headers_set_replaces_in_place_and_remove_drops_all_forms() {
    let mut h = sample_headers();
    h.set("Via", "SIP/2.0/WSS only.invalid;branch=z9hG4bKx");
    assert_eq!(h.get_all("v"), vec!["SIP/2.0/WSS only.invalid;branch=z9hG4bKx"]);
    assert_eq!(h.0[0].name, "Via", "replaced where the first one was");
    h.set("Subject", "new");
    assert_eq!(h.0.last().unwrap().value, "new", "appended when absent");
    h.remove("content-length");
    assert_eq!(h.get("l"), None);
    h.remove("M");
    assert!(h.contacts().is_empty());
}

#[test]
fn content_length_requires_digits() {
    let mut h = Headers::new();
    h.push("Content-Length", "-999");
    assert_eq!(h.content_length(), None);
    h.set("Content-Length", "five");
    assert_eq!(h.content_length(), None);
}

// ---------------------------------------------------------------- Response::for_request

fn invite() -> Request {
    let Message::Request(req) = parse(
        b"INVITE sip:bob@example.com SIP/2.0\r\n\
          Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n\
          v: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2, SIP/2.0/UDP edge.example.com;branch=z9hG4bK3\r\n\
          Max-Forwards: 70\r\n\
          To: Bob <sip:bob@example.com>\r\n\
          From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
          Call-ID: a84b4c76e66710\r\n\
          CSeq: 314159 INVITE\r\n\
          Contact: <sip:alice@a.invalid;transport=ws>\r\n\
          Content-Length: 0\r\n\r\n",
    )
    .unwrap() else {
        panic!("a request")
    };
    req
}

#[test]
fn response_copies_vias_from_to_call_id_cseq() {
    let res = Response::for_request(&invite(), 180, "Ringing", Some("as83kd9bs"));
    assert_eq!(res.status, 180);
    assert_eq!(res.reason, "Ringing");
    assert!(res.body.is_empty());
    let names: Vec<&str> = res.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["Via", "Via", "From", "To", "Call-ID", "CSeq"]);
    assert_eq!(res.headers.get_all("Via").len(), 3, "every Via, in order");
    assert_eq!(res.headers.top_via().unwrap().branch(), Some("z9hG4bK1"));
    assert_eq!(res.headers.get("From"), Some("Alice <sip:alice@example.com>;tag=1928301774"));
    assert_eq!(res.headers.to().unwrap().tag(), Some("as83kd9bs"));
    assert_eq!(res.headers.call_id(), Some("a84b4c76e66710"));
    assert_eq!(res.headers.get("CSeq"), Some("314159 INVITE"));
    // And it is a valid message on the wire.
    let Message::Response(back) = parse(&res.to_bytes()).unwrap() else { panic!("a response") };
    assert_eq!(back.headers.get_all("Via"), res.headers.get_all("Via"));
}

#[test]
fn response_keeps_an_existing_to_tag() {
    let mut req = invite();
    req.headers.set("To", "Bob <sip:bob@example.com>;tag=existing");
    let res = Response::for_request(&req, 200, "OK", Some("new"));
    assert_eq!(res.headers.to().unwrap().tag(), Some("existing"));
    let res = Response::for_request(&invite(), 100, "Trying", None);
    assert_eq!(res.headers.to().unwrap().tag(), None);
}

/// The writer replaced rsip's (issue 13): the bytes on the wire must be the ones rsip wrote,
/// wherever rsip could write the message at all.
#[test]
fn writer_writes_what_rsip_wrote() {
    let mut headers = Headers::new();
    headers.push("Via", "SIP/2.0/WSS abc.invalid;branch=z9hG4bK776asdhds");
    headers.push("Max-Forwards", "70");
    headers.push("From", "\"Alice\" <sip:alice@example.com>;tag=1928301774");
    headers.push("To", "<sip:bob@example.com>");
    headers.push("Call-ID", "a84b4c76e66710");
    headers.push("CSeq", "314159 INVITE");
    headers.push("Content-Length", "999");
    headers.push("Content-Type", "application/sdp");
    let body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n".to_vec();
    let rsip_headers = || -> rsip::Headers {
        let mut out: Vec<rsip::Header> = headers
            .iter()
            .filter(|h| h.name != "Content-Length")
            .map(|h| rsip::Header::Other(h.name.clone(), h.value.clone()))
            .collect();
        out.push(rsip::Header::Other("Content-Length".into(), body.len().to_string()));
        out.into()
    };

    let req = Request {
        method: Method::Invite,
        uri: "sip:bob@example.com".into(),
        headers: headers.clone(),
        body: body.clone(),
    };
    let theirs = rsip::Request {
        method: rsip::Method::Invite,
        uri: rsip::Uri::try_from("sip:bob@example.com").unwrap(),
        version: rsip::Version::V2,
        headers: rsip_headers(),
        body: Vec::new(),
    };
    let mut expected = theirs.to_string().into_bytes();
    expected.extend_from_slice(&body);
    assert_eq!(String::from_utf8_lossy(&req.to_bytes()), String::from_utf8_lossy(&expected));

    for (status, reason) in [(200, "OK"), (183, "Session Progress"), (486, "")] {
        let res = Response { status, reason: reason.into(), headers: headers.clone(), body: body.clone() };
        let theirs = rsip::Response {
            status_code: rsip::StatusCode::Other(status, reason.into()),
            version: rsip::Version::V2,
            headers: rsip_headers(),
            body: Vec::new(),
        };
        let mut expected = theirs.to_string().into_bytes();
        expected.extend_from_slice(&body);
        assert_eq!(res.to_bytes(), expected, "{status}");
    }
}
