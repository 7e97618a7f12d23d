//! SIP message layer: parse and serialize, plus small typed views of the headers the UA needs
//! (Via, name-addr headers such as From/To/Contact, CSeq, lists).
//!
//! The codec is ours, in one pass each way: rsip 0.4, the crate the design started from, cannot
//! be the parser of record without losing correctness (`parse.rs` has the numbers;
//! `tests/rsip_defects.rs` shows each defect, among them RFC 5626 Contact parameters and the
//! RFC 8760 `SHA-256` digest token), so it is only a dev-dependency of those tests.
//!
//! CONTRACT (the rest of the crate is written against exactly these signatures).
//!
//! Layout: `parse.rs` (bytes to [`Message`], [`salvage_for_reply`]), `write.rs` (to bytes),
//! `via.rs`, `name_addr.rs`, `uri.rs`, `params.rs` (the typed views), `scan.rs` (the
//! byte-level helpers they share; their slicing rules are why no input can make them panic).

use std::fmt;

mod name_addr;
mod params;
mod parse;
mod scan;
mod uri;
mod via;
mod write;

use scan::{is_token, trim_ws};

/// Messages larger than this are refused before parsing (RFC 3261 §18.1.1 suggests 1300 B for
/// UDP; WebSocket frames carry more, but a UA never needs more than this).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// A SIP method. Unknown extension methods are kept verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Other(String),
}

impl Method {
    /// The method token as it goes on the wire (`INVITE`, ...). Case-sensitive per RFC 3261.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }
    /// Never fails: unknown tokens become `Other`. Caller has validated it is a token.
    pub fn from_token(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header line as received (name as written; value with folding (LWS) normalised to a space
/// and surrounding whitespace trimmed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// The long form of a compact header name (RFC 3261 §7.3.3 and the extensions listed on
/// [`Headers`]); other names are returned unchanged.
fn long_name(name: &str) -> &str {
    if name.len() != 1 {
        return name;
    }
    // Indexing cannot fail: `name` is exactly one byte long here.
    match name.as_bytes()[0].to_ascii_lowercase() {
        b'v' => "Via",
        b'f' => "From",
        b't' => "To",
        b'i' => "Call-ID",
        b'm' => "Contact",
        b'l' => "Content-Length",
        b'c' => "Content-Type",
        b'k' => "Supported",
        b's' => "Subject",
        b'e' => "Content-Encoding",
        b'o' => "Event",
        b'u' => "Allow-Events",
        b'r' => "Refer-To",
        b'b' => "Referred-By",
        b'x' => "Session-Expires",
        _ => name,
    }
}

/// Whether two header names designate the same header (case-insensitive, compact forms).
pub(crate) fn same_header(a: &str, b: &str) -> bool {
    long_name(a).eq_ignore_ascii_case(long_name(b))
}

/// Ordered header list. Lookups are case-insensitive and understand compact forms
/// (v=Via, f=From, t=To, i=Call-ID, m=Contact, l=Content-Length, c=Content-Type, k=Supported,
/// s=Subject, e=Content-Encoding, o=Event, u=Allow-Events, r=Refer-To, b=Referred-By, x=Session-Expires).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    pub fn new() -> Self {
        Headers(Vec::new())
    }
    /// First value of the header `name` (full or compact name, any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|h| same_header(&h.name, name)).map(|h| h.value.as_str())
    }
    /// Every value of `name`, in order, with comma-separated lists split into elements
    /// (commas inside quotes or `<...>` do not split). For `Via`, `Route`, `Record-Route`,
    /// `Contact`, `Allow`, `Supported`, `Require`, ... Returns trimmed elements.
    pub fn get_all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|h| same_header(&h.name, name)).flat_map(|h| split_list(&h.value)).collect()
    }
    /// Append a header line.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push(Header { name: name.to_string(), value: value.into() });
    }
    /// Replace every `name` header by one with `value` (appended at the end if absent... or in
    /// place of the first one when present).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let header = Header { name: name.to_string(), value: value.into() };
        match self.0.iter().position(|h| same_header(&h.name, name)) {
            Some(first) => {
                self.0[first] = header;
                let mut index = 0;
                self.0.retain(|h| {
                    let keep = index <= first || !same_header(&h.name, name);
                    index += 1;
                    keep
                });
            }
            None => self.0.push(header),
        }
    }
    /// Remove every `name` header (full or compact name).
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|h| !same_header(&h.name, name));
    }
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    // --- typed views (values were validated by `parse`; these re-parse the text cheaply) ---
    pub fn call_id(&self) -> Option<&str> {
        self.get("Call-ID")
    }
    pub fn cseq(&self) -> Option<CSeq> {
        self.get("CSeq").and_then(|v| CSeq::parse(v).ok())
    }
    /// The topmost Via (first element of the first Via header).
    pub fn top_via(&self) -> Option<Via> {
        let first = self.get("Via")?;
        let top = scan::split_list_raw(first).into_iter().next()?;
        Via::parse(top).ok()
    }
    pub fn from(&self) -> Option<NameAddr> {
        self.get("From").and_then(|v| NameAddr::parse(v).ok())
    }
    pub fn to(&self) -> Option<NameAddr> {
        self.get("To").and_then(|v| NameAddr::parse(v).ok())
    }
    /// Every Contact element (`*` is returned as a NameAddr whose uri is "*").
    /// Elements that do not parse are skipped.
    pub fn contacts(&self) -> Vec<NameAddr> {
        self.get_all("Contact")
            .iter()
            .filter_map(|element| match element.strip_prefix('*') {
                // `*` alone, or with parameters (`*;expires=0` is seen in the wild).
                Some(rest) => Some(NameAddr {
                    display_name: None,
                    uri: "*".to_string(),
                    params: params::parse_generic_params(rest).ok()?,
                }),
                None => NameAddr::parse(element).ok(),
            })
            .collect()
    }
    /// Content-Length value if present and numeric.
    pub fn content_length(&self) -> Option<usize> {
        parse::parse_content_length(self.get("Content-Length")?).ok()
    }
}

/// `CSeq: <seq> <METHOD>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    /// Parse a CSeq value. seq must be < 2^31 (RFC 3261 §8.1.1.5).
    pub fn parse(value: &str) -> Result<CSeq, HeaderError> {
        let err = |reason: &str| HeaderError { header: "CSeq", reason: reason.to_string() };
        let s = trim_ws(value);
        let b = s.as_bytes();
        let digits_end = scan::take_while(b, 0, |c| c.is_ascii_digit());
        if digits_end == 0 {
            return Err(err("missing sequence number"));
        }
        let mut seq: u32 = 0;
        for &d in &b[..digits_end] {
            seq = seq
                .checked_mul(10)
                .and_then(|v| v.checked_add(u32::from(d - b'0')))
                .filter(|&v| v < 1 << 31)
                .ok_or_else(|| err("sequence number must be below 2^31"))?;
        }
        let method_start = scan::skip_ws(b, digits_end);
        if method_start == digits_end {
            return Err(err("expected whitespace after the sequence number"));
        }
        let method = &s[method_start..];
        if !is_token(method) {
            return Err(err("method is not a token"));
        }
        Ok(CSeq { seq, method: Method::from_token(method) })
    }
}

/// Ordered generic parameters `;name=value` / `;flag`. Names compare case-insensitively.
/// Values keep their quotes stripped off in `get` but are written back quoted when they were
/// quoted (so `+sip.instance="<urn:uuid:...>"` round-trips).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(pub Vec<Param>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    /// `None` for a flag parameter (`;lr`, `;ob`, `;rport`).
    pub value: Option<String>,
    /// Whether the value was / must be written as a quoted-string.
    pub quoted: bool,
}

impl Params {
    /// Value of a parameter (unquoted); `None` when absent or when it is a flag (use `has`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).and_then(|p| p.value.as_deref())
    }
    /// Whether the parameter is present (with or without value).
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }
    /// Set (replace or append) a parameter with an unquoted token value, `None` = flag.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        self.put(Param { name: name.to_string(), value: value.map(str::to_string), quoted: false });
    }
    /// Set a parameter whose value is written as a quoted-string.
    pub fn set_quoted(&mut self, name: &str, value: &str) {
        self.put(Param { name: name.to_string(), value: Some(value.to_string()), quoted: true });
    }
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }
    fn find(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }
    /// Replace the first parameter of that name in place (dropping any later duplicate), or
    /// append.
    fn put(&mut self, param: Param) {
        match self.0.iter().position(|p| p.name.eq_ignore_ascii_case(&param.name)) {
            Some(first) => {
                let name = param.name.clone();
                self.0[first] = param;
                let mut index = 0;
                self.0.retain(|p| {
                    let keep = index <= first || !p.name.eq_ignore_ascii_case(&name);
                    index += 1;
                    keep
                });
            }
            None => self.0.push(param),
        }
    }
}

impl fmt::Display for Params {
    /// Writes `;a=b;flag;q="quoted"` (leading `;` for each param), or nothing when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            write!(f, ";{}", p.name)?;
            match (&p.value, p.quoted) {
                (Some(v), true) => write!(f, "={}", scan::quote(v))?,
                (Some(v), false) => write!(f, "={v}")?,
                (None, _) => {}
            }
        }
        Ok(())
    }
}

/// One Via element: `SIP/2.0/WSS host[:port];params`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// Transport token, upper-cased (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, ...).
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    pub fn parse(value: &str) -> Result<Via, HeaderError> {
        via::parse(value)
    }
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch")
    }
}

impl fmt::Display for Via {
    /// `SIP/2.0/WSS host[:port];params`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        via::fmt(self, f)
    }
}

/// A name-addr / addr-spec header value (From, To, Contact, Route, Record-Route, Refer-To, ...):
/// `"Display" <uri;uri-params>;header-params` or `uri;header-params` (addr-spec form: then the
/// URI has no parameters of its own, everything after `;` is a header param, RFC 3261 §20).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    pub display_name: Option<String>,
    /// The URI text exactly as inside the angle brackets (or the bare addr-spec).
    pub uri: String,
    pub params: Params,
}

impl NameAddr {
    pub fn parse(value: &str) -> Result<NameAddr, HeaderError> {
        name_addr::parse(value)
    }
    /// `tag` header parameter.
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag")
    }
}

impl fmt::Display for NameAddr {
    /// Always writes the name-addr form: `"Display" <uri>;params` (display quoted when present).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        name_addr::fmt(self, f)
    }
}

/// A parsed SIP/SIPS URI (`tel:` is parsed with `scheme == "tel"`, `user` = the number, empty host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUri {
    /// Lower-cased scheme: `sip`, `sips` or `tel`.
    pub scheme: String,
    /// The userinfo as written (escapes kept): the user, plus `:password` when one is present
    /// (RFC 3261 §19.1.1; deprecated, but it must survive a round trip).
    pub user: Option<String>,
    /// Host as written; an IPv6 reference keeps its brackets (`[::1]`). Empty for `tel:`.
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
    /// `?h=v&...` part, verbatim without the `?`.
    pub headers: Option<String>,
}

impl SipUri {
    pub fn parse(value: &str) -> Result<SipUri, HeaderError> {
        uri::parse(value)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        uri::fmt(self, f)
    }
}

/// Split a header value on top-level commas (not inside quotes or `<...>`), trimmed, empties dropped.
pub fn split_list(value: &str) -> Vec<String> {
    scan::split_list_raw(value).into_iter().filter(|e| !e.is_empty()).map(str::to_string).collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// Request-URI text.
    pub uri: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

impl Message {
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }
    /// Serialize. `Content-Length` is always written and always equals
    /// the body length (any existing one is replaced).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

impl Request {
    pub fn to_bytes(&self) -> Vec<u8> {
        write::request(self)
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        write::response(self)
    }
    /// Build a response to `req` per RFC 3261 §8.2.6.2: copies every Via (in order), From,
    /// To (adding `;tag=to_tag` when given and the To has no tag yet), Call-ID and CSeq;
    /// empty body. The caller adds Contact, Allow, etc.
    pub fn for_request(req: &Request, status: u16, reason: &str, to_tag: Option<&str>) -> Response {
        let mut headers = Headers::new();
        for h in req.headers.iter().filter(|h| same_header(&h.name, "Via")) {
            headers.push("Via", h.value.clone());
        }
        if let Some(from) = req.headers.get("From") {
            headers.push("From", from);
        }
        if let Some(to) = req.headers.get("To") {
            let has_tag = match NameAddr::parse(to) {
                Ok(na) => na.params.has("tag"),
                // Salvaged (unparseable) To: look for the parameter textually.
                Err(_) => to.to_ascii_lowercase().contains(";tag="),
            };
            match to_tag {
                Some(tag) if !has_tag => headers.push("To", format!("{to};tag={tag}")),
                _ => headers.push("To", to),
            }
        }
        if let Some(call_id) = req.headers.get("Call-ID") {
            headers.push("Call-ID", call_id);
        }
        if let Some(cseq) = req.headers.get("CSeq") {
            headers.push("CSeq", cseq);
        }
        Response { status, reason: reason.to_string(), headers, body: Vec::new() }
    }
}

/// Why a header value could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError {
    pub header: &'static str,
    pub reason: String,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} header: {}", self.header, self.reason)
    }
}

/// Why a message was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Larger than `MAX_MESSAGE_SIZE` (refused without parsing).
    TooLarge { size: usize, limit: usize },
    /// Start line or header section not well-formed.
    Syntax(String),
    /// A mandatory header (Via, From, To, Call-ID, CSeq; Max-Forwards is optional) is missing.
    MissingHeader(&'static str),
    /// A header is present but its value is invalid (or duplicated where only one is allowed).
    InvalidHeader(HeaderError),
    /// Content-Length says more bytes than the message carries.
    Truncated { content_length: usize, body_len: usize },
    /// The CSeq method differs from the request method.
    CSeqMethodMismatch,
    /// Not SIP/2.0.
    UnsupportedVersion(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLarge { size, limit } => {
                write!(f, "message of {size} bytes exceeds the {limit}-byte limit")
            }
            ParseError::Syntax(reason) => write!(f, "malformed message: {reason}"),
            ParseError::MissingHeader(name) => write!(f, "missing mandatory {name} header"),
            ParseError::InvalidHeader(e) => e.fmt(f),
            ParseError::Truncated { content_length, body_len } => {
                write!(f, "Content-Length is {content_length} but only {body_len} body bytes were received")
            }
            ParseError::CSeqMethodMismatch => f.write_str("CSeq method differs from the request method"),
            ParseError::UnsupportedVersion(v) => write!(f, "unsupported SIP version {v:?}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parse one complete SIP message (one WebSocket frame). Validates: size, start line, SIP/2.0,
/// mandatory headers present and well-formed (Via, From, To, Call-ID, CSeq number < 2^31 and
/// method token, CSeq method == request method), Content-Length (if present) not larger than
/// the body (extra bytes beyond Content-Length are discarded, RFC 3261 §18.3).
/// Never panics on any input.
pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    parse::parse(bytes)
}

/// Best effort for a request that `parse` refused: if the start line is a request line and the
/// Via, From, To, Call-ID and CSeq header lines can be found textually, return a `Request` with
/// just those headers so a `400 Bad Request` can be sent back. `None` for responses / garbage.
pub fn salvage_for_reply(bytes: &[u8]) -> Option<Request> {
    parse::salvage_for_reply(bytes)
}
