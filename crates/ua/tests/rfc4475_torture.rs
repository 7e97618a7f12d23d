//! RFC 4475 "SIP Torture Test Messages" against `message::parse`.
//!
//! `tests/data/rfc4475/valid/` must parse, `tests/data/rfc4475/invalid/` must be refused, except
//! the deviations listed below (and explained in `tests/data/rfc4475/README.md`). No message,
//! nor any truncation or mutation of one, may make the parser panic.

use ferrophone_ua::message::*;
use std::path::Path;

/// Messages whose outcome differs from their folder, with the reason. Keep in sync with the
/// README; `deviations_are_exactly_the_listed_ones` fails if one stops deviating.
const DEVIATIONS: &[(&str, &str)] = &[
    (
        "invalid/baddate",
        "accepted: RFC 4475 §3.1.2.12 lets an element that does not use the Date header ignore it; the UA never reads Date",
    ),
    (
        "invalid/regbadct",
        "accepted: RFC 4475 §3.1.2.13 lets an element infer the missing <> when unambiguous; Contact is not a mandatory header and NameAddr reads the addr-spec with its ?headers",
    ),
];

fn load(dir: &str) -> Vec<(String, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475").join(dir);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sip"))
        .map(|p| {
            let name = format!("{dir}/{}", p.file_stem().unwrap().to_string_lossy());
            (name, std::fs::read(&p).expect("read message"))
        })
        .collect();
    out.sort();
    out
}

fn all_messages() -> Vec<(String, Vec<u8>)> {
    let mut all = load("valid");
    all.extend(load("invalid"));
    all
}

fn message(name: &str) -> Vec<u8> {
    all_messages().into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1
}

fn deviation(name: &str) -> Option<&'static str> {
    DEVIATIONS.iter().find(|(n, _)| *n == name).map(|(_, why)| *why)
}

fn without_content_length(m: &Message) -> Message {
    let mut m = m.clone();
    let headers = match &mut m {
        Message::Request(r) => &mut r.headers,
        Message::Response(r) => &mut r.headers,
    };
    headers.remove("Content-Length");
    m
}

/// `to_bytes` then `parse` gives back the same message (Content-Length aside: it is rewritten).
fn assert_round_trip(name: &str, m: &Message) {
    let back = parse(&m.to_bytes()).unwrap_or_else(|e| panic!("{name}: re-parse failed: {e}"));
    assert_eq!(without_content_length(&back), without_content_length(m), "{name}: round trip");
    assert_eq!(back.headers().content_length(), Some(body(&back).len()), "{name}: Content-Length");
}

fn body(m: &Message) -> &[u8] {
    match m {
        Message::Request(r) => &r.body,
        Message::Response(r) => &r.body,
    }
}

fn request(name: &str) -> Request {
    match parse(&message(name)) {
        Ok(Message::Request(r)) => r,
        other => panic!("{name}: expected a request, got {other:?}"),
    }
}

#[test]
fn the_corpus_is_complete() {
    // RFC 4475 §3.1.1 (13), §3.1.2 (19), §3.2 (1), §3.3 (15), §3.4 (1).
    assert_eq!(load("valid").len() + load("invalid").len(), 49);
}

#[test]
fn every_valid_message_parses_and_round_trips() {
    for (name, bytes) in load("valid") {
        if let Some(why) = deviation(&name) {
            assert!(parse(&bytes).is_err(), "{name} is listed as a deviation ({why}) but parses");
            continue;
        }
        let m = parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_round_trip(&name, &m);
    }
}

#[test]
fn every_invalid_message_is_refused() {
    for (name, bytes) in load("invalid") {
        match (parse(&bytes), deviation(&name)) {
            (Err(_), None) => {}
            (Ok(m), Some(_)) => assert_round_trip(&name, &m),
            (Ok(_), None) => panic!("{name} was accepted"),
            (Err(e), Some(why)) => {
                panic!("{name} is listed as a deviation ({why}) but is refused: {e}")
            }
        }
    }
}

#[test]
fn deviations_are_exactly_the_listed_ones() {
    for (name, _) in DEVIATIONS {
        assert!(all_messages().iter().any(|(n, _)| n == name), "{name} is not in the corpus");
    }
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475/README.md"))
        .expect("README");
    for (name, _) in DEVIATIONS {
        let file = name.rsplit('/').next().unwrap();
        assert!(readme.contains(&format!("`{file}`")), "{name} is not explained in the README");
    }
}

#[test]
fn invalid_messages_are_refused_for_the_right_reason() {
    let header = |h: &'static str| move |e: &ParseError| matches!(e, ParseError::InvalidHeader(x) if x.header == h);
    let syntax = |e: &ParseError| matches!(e, ParseError::Syntax(_));
    type Check = Box<dyn Fn(&ParseError) -> bool>;
    let expectations: Vec<(&str, Check)> = vec![
        ("badinv01", Box::new(header("Via"))),
        ("clerr", Box::new(|e| matches!(e, ParseError::Truncated { content_length: 9999, .. }))),
        ("ncl", Box::new(header("Content-Length"))),
        ("scalar02", Box::new(header("CSeq"))),
        ("scalarlg", Box::new(header("CSeq"))),
        ("quotbal", Box::new(header("To"))),
        ("ltgtruri", Box::new(header("Request-URI"))),
        ("lwsruri", Box::new(syntax)),
        ("lwsstart", Box::new(syntax)),
        ("trws", Box::new(syntax)),
        ("escruri", Box::new(header("Request-URI"))),
        ("badaspec", Box::new(header("To"))),
        ("baddn", Box::new(syntax)),
        ("badvers", Box::new(|e| *e == ParseError::UnsupportedVersion("SIP/7.0".into()))),
        ("mismatch01", Box::new(|e| *e == ParseError::CSeqMethodMismatch)),
        ("mismatch02", Box::new(|e| *e == ParseError::CSeqMethodMismatch)),
        ("bigcode", Box::new(syntax)),
        ("insuf", Box::new(|e| *e == ParseError::MissingHeader("From"))),
        ("multi01", Box::new(header("From"))),
        ("mcl01", Box::new(header("Content-Length"))),
    ];
    for (name, expected) in expectations {
        let err = parse(&message(&format!("invalid/{name}"))).expect_err(name);
        assert!(expected(&err), "{name}: unexpected error {err:?}");
    }
}

#[test]
fn wsinv_reads_as_the_rfc_intends() {
    let req = request("valid/wsinv");
    assert_eq!(req.method, Method::Invite);
    assert_eq!(req.uri, "sip:vivekg@chair-dnrc.example.com;unknownparam");
    let h = &req.headers;
    assert_eq!(h.to().unwrap().tag(), Some("1918181833n"));
    let from = h.from().unwrap();
    assert_eq!(from.display_name.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(h.get("Max-Forwards"), Some("0068"));
    assert_eq!(h.cseq(), Some(CSeq { seq: 9, method: Method::Invite }));
    let vias: Vec<Via> = h.get_all("Via").iter().map(|v| Via::parse(v).unwrap()).collect();
    let summary: Vec<(&str, &str, Option<&str>)> =
        vias.iter().map(|v| (v.transport.as_str(), v.host.as_str(), v.branch())).collect();
    assert_eq!(
        summary,
        [
            ("UDP", "192.0.2.2", Some("390skdjuw")),
            ("TCP", "spindle.example.com", Some("z9hG4bK9ikj8")),
            ("UDP", "192.168.255.111", Some("z9hG4bK30239")),
        ]
    );
    assert_eq!(h.get("Subject"), Some(""), "empty subject (compact form s)");
    assert_eq!(h.get("NewFangledHeader"), Some("newfangled value continued newfangled value"));
    assert_eq!(h.get("UnknownHeaderWithUnusualValue"), Some(";;,,;;,;"));
    let contact = &h.contacts()[0];
    assert_eq!(contact.display_name.as_deref(), Some(r#"Quoted string """#));
    assert_eq!(contact.params.get("newparam"), Some("newvalue"));
    assert!(contact.params.has("secondparam"));
    assert_eq!(contact.params.get("q"), Some("0.33"));
    assert_eq!(req.body.len(), 150);
}

#[test]
fn intmeth_keeps_the_extension_method_and_odd_values() {
    let req = request("valid/intmeth");
    let method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(req.method, Method::Other(method.into()));
    assert_eq!(req.headers.cseq().unwrap().method.as_str(), method);
    assert_eq!(req.headers.top_via().unwrap().branch(), Some("z9hG4bK-.!%66*_+`'~"));
    assert_eq!(req.headers.to().unwrap().display_name.as_deref(), Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}"));
    let from = req.headers.from().unwrap();
    assert_eq!(from.display_name.as_deref(), Some("token1~` token2'+_ token3*%!.-"));
    assert_eq!(from.params.get("fromParam''~+*_!.-%"), Some("работающий"));
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(req.headers.call_id(), Some(r#"intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{"#));
    assert_eq!(req.headers.get("extensionHeader-!.%*+_`'~"), Some("\u{feff}大停電"));
    let uri = SipUri::parse(&req.uri).unwrap();
    assert_eq!(uri.host, "example.com");
}

#[test]
fn escapes_are_not_decoded() {
    let req = request("valid/esc01");
    assert_eq!(SipUri::parse(&req.uri).unwrap().user.as_deref(), Some("sips%3Auser%40example.com"));
    assert_eq!(req.headers.to().unwrap().uri, "sip:%75se%72@example.com");
    let contact = SipUri::parse(&req.headers.contacts()[0].uri).unwrap();
    assert_eq!(contact.params.get("n%61me"), Some("v%61lue%25%34%31"));

    let req = request("valid/escnull");
    assert_eq!(req.headers.contacts().len(), 2);
    assert_eq!(req.headers.contacts()[1].uri, "sip:%00%00@host5.example.com");

    let req = request("valid/esc02");
    assert_eq!(req.method, Method::Other("RE%47IST%45R".into()), "not REGISTER");
    assert_eq!(req.headers.contacts().len(), 2, "C%6Fntact is not Contact");
    assert_eq!(req.headers.get("C%6Fntact"), Some("<sip:alias2@host2.example.com>"));
    assert_eq!(req.headers.to().unwrap().display_name.as_deref(), Some("%Z%45"));
}

#[test]
fn long_values_and_many_vias() {
    let req = request("valid/longreq");
    assert_eq!(req.headers.get_all("Via").len(), 34);
    let to = req.headers.to().unwrap();
    assert_eq!(SipUri::parse(&to.uri).unwrap().port, Some(6000));
    assert_eq!(req.headers.from().unwrap().tag().map(str::len), Some(155));
    assert_eq!(req.body.len(), 150);
}

#[test]
fn trailing_octets_after_content_length_are_ignored() {
    let req = request("valid/dblreq");
    assert_eq!(req.method, Method::Register);
    assert!(req.body.is_empty());
    assert!(!String::from_utf8_lossy(&req.to_bytes()).contains("INVITE"));
}

#[test]
fn semicolons_in_the_user_part_and_unknown_transports() {
    let req = request("valid/semiuri");
    let uri = SipUri::parse(&req.uri).unwrap();
    assert_eq!(uri.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(uri.host, "example.com");
    assert_eq!(req.headers.get_all("Accept").len(), 6);

    let req = request("valid/transports");
    let transports: Vec<String> = req.headers.get_all("Via").iter().map(|v| Via::parse(v).unwrap().transport).collect();
    assert_eq!(transports, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

#[test]
fn binary_multipart_body_is_kept_exactly() {
    let raw = message("valid/mpart01");
    let req = request("valid/mpart01");
    assert_eq!(req.body.len(), 553);
    assert!(raw.ends_with(&req.body));
    assert!(req.body.contains(&0));
    assert!(req.to_bytes().ends_with(&req.body));
}

#[test]
fn reason_phrases() {
    let Ok(Message::Response(res)) = parse(&message("valid/unreason")) else { panic!() };
    assert_eq!(res.status, 200);
    assert_eq!(res.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
    let Ok(Message::Response(res)) = parse(&message("valid/noreason")) else { panic!() };
    assert_eq!(res.status, 100);
    assert_eq!(res.reason, "");
    assert!(res.to_bytes().starts_with(b"SIP/2.0 100 \r\n"), "the SP before an empty reason stays");
}

#[test]
fn application_layer_messages_parse_for_the_layers_above() {
    // §3.2 and §3.3: syntactically valid; what to answer is the UA's business, not the parser's.
    assert_eq!(request("valid/badbranch").headers.top_via().unwrap().branch(), Some("z9hG4bK"));
    assert_eq!(request("valid/unkscm").uri, "nobodyKnowsThisScheme:totallyopaquecontent");
    assert_eq!(request("valid/novelsc").uri, "soap.beep://192.0.2.103:3002");
    assert_eq!(request("valid/unksm2").headers.to().unwrap().uri, "isbn:2983792873");
    assert_eq!(request("valid/zeromf").headers.get("Max-Forwards"), Some("0"));
    assert_eq!(request("valid/cparam01").headers.contacts()[0].params.get("unknownparam"), None);
    assert!(request("valid/cparam01").headers.contacts()[0].params.has("unknownparam"), "addr-spec: header param");
    assert_eq!(request("valid/cparam02").headers.contacts()[0].uri, "sip:+19725552222@gw1.example.net;unknownparam");
    let inv = request("valid/inv2543");
    assert_eq!(inv.headers.from().unwrap().tag(), None);
    assert_eq!(inv.headers.top_via().unwrap().branch(), None);
    assert_eq!(inv.headers.content_length(), None);
    assert_eq!(inv.body.len(), 105);
}

// ---------------------------------------------------------------- robustness

/// Deterministic xorshift64*: no dependency, same mutations on every run.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Everything the message layer offers on untrusted bytes; must not panic. Whatever parses must
/// also survive serialization and re-parsing.
fn exercise(name: &str, bytes: &[u8]) {
    match parse(bytes) {
        Ok(m) => {
            assert_round_trip(name, &m);
            let h = m.headers();
            let _ = (h.top_via(), h.from(), h.to(), h.cseq(), h.contacts(), h.content_length(), h.get_all("Route"));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Some(req) = salvage_for_reply(bytes) {
        let _ = Response::for_request(&req, 400, "Bad Request", Some("t")).to_bytes();
    }
}

#[test]
fn truncation_at_every_byte_never_panics() {
    for (name, bytes) in all_messages() {
        for cut in 0..=bytes.len() {
            exercise(&format!("{name}[..{cut}]"), &bytes[..cut]);
        }
    }
}

#[test]
fn random_byte_flips_never_panic() {
    let mut rng = Prng(0x4475_5ee5_d00d_f00d);
    // Bytes that steer parsers into interesting branches.
    const SPECIAL: &[u8] = b"\r\n \t:;,=<>\"\\@?%[]/\x00\x7f\x80\xc3\xff0123456789";
    for (name, bytes) in all_messages() {
        for round in 0..150 {
            let mut mutated = bytes.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(mutated.len());
                mutated[at] = if rng.below(2) == 0 { rng.next() as u8 } else { SPECIAL[rng.below(SPECIAL.len())] };
            }
            exercise(&format!("{name} flip #{round}"), &mutated);
        }
    }
}
