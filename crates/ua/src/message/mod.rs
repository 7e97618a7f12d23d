//! SIP message layer: parse and serialize (on top of `rsip`), plus small typed views of the
//! headers the UA needs (Via, name-addr headers such as From/To/Contact, CSeq, lists).
//!
//! Nothing outside this module depends on rsip's types: where rsip 0.4 is wrong (Contact with
//! RFC 5626 parameters, the RFC 8760 `SHA-256` digest token) we parse the header text ourselves.
//!
//! CONTRACT (the rest of the crate is written against exactly these signatures).

use std::fmt;

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
        todo!()
    }
    /// Never fails: unknown tokens become `Other`. Caller has validated it is a token.
    pub fn from_token(s: &str) -> Method {
        todo!()
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
        todo!()
    }
    /// Every value of `name`, in order, with comma-separated lists split into elements
    /// (commas inside quotes or `<...>` do not split). For `Via`, `Route`, `Record-Route`,
    /// `Contact`, `Allow`, `Supported`, `Require`, ... Returns trimmed elements.
    pub fn get_all(&self, name: &str) -> Vec<String> {
        todo!()
    }
    /// Append a header line.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        todo!()
    }
    /// Replace every `name` header by one with `value` (appended at the end if absent... or in
    /// place of the first one when present).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        todo!()
    }
    /// Remove every `name` header (full or compact name).
    pub fn remove(&mut self, name: &str) {
        todo!()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    // --- typed views (values were validated by `parse`; these re-parse the text cheaply) ---
    pub fn call_id(&self) -> Option<&str> {
        todo!()
    }
    pub fn cseq(&self) -> Option<CSeq> {
        todo!()
    }
    /// The topmost Via (first element of the first Via header).
    pub fn top_via(&self) -> Option<Via> {
        todo!()
    }
    pub fn from(&self) -> Option<NameAddr> {
        todo!()
    }
    pub fn to(&self) -> Option<NameAddr> {
        todo!()
    }
    /// Every Contact element (`*` is returned as a NameAddr whose uri is "*").
    pub fn contacts(&self) -> Vec<NameAddr> {
        todo!()
    }
    /// Content-Length value if present and numeric.
    pub fn content_length(&self) -> Option<usize> {
        todo!()
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
        todo!()
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
        todo!()
    }
    /// Whether the parameter is present (with or without value).
    pub fn has(&self, name: &str) -> bool {
        todo!()
    }
    /// Set (replace or append) a parameter with an unquoted token value, `None` = flag.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        todo!()
    }
    /// Set a parameter whose value is written as a quoted-string.
    pub fn set_quoted(&mut self, name: &str, value: &str) {
        todo!()
    }
    pub fn remove(&mut self, name: &str) {
        todo!()
    }
}

impl fmt::Display for Params {
    /// Writes `;a=b;flag;q="quoted"` (leading `;` for each param), or nothing when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
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
        todo!()
    }
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch")
    }
}

impl fmt::Display for Via {
    /// `SIP/2.0/WSS host[:port];params`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
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
        todo!()
    }
    /// `tag` header parameter.
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag")
    }
}

impl fmt::Display for NameAddr {
    /// Always writes the name-addr form: `"Display" <uri>;params` (display quoted when present).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}

/// A parsed SIP/SIPS URI (`tel:` is parsed with `scheme == "tel"`, `user` = the number, empty host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUri {
    /// Lower-cased scheme: `sip`, `sips` or `tel`.
    pub scheme: String,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
    /// `?h=v&...` part, verbatim without the `?`.
    pub headers: Option<String>,
}

impl SipUri {
    pub fn parse(value: &str) -> Result<SipUri, HeaderError> {
        todo!()
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}

/// Split a header value on top-level commas (not inside quotes or `<...>`), trimmed, empties dropped.
pub fn split_list(value: &str) -> Vec<String> {
    todo!()
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
    /// Serialize (through rsip's writer). `Content-Length` is always written and always equals
    /// the body length (any existing one is replaced).
    pub fn to_bytes(&self) -> Vec<u8> {
        todo!()
    }
}

impl Request {
    pub fn to_bytes(&self) -> Vec<u8> {
        todo!()
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        todo!()
    }
    /// Build a response to `req` per RFC 3261 §8.2.6.2: copies every Via (in order), From,
    /// To (adding `;tag=to_tag` when given and the To has no tag yet), Call-ID and CSeq;
    /// empty body. The caller adds Contact, Allow, etc.
    pub fn for_request(req: &Request, status: u16, reason: &str, to_tag: Option<&str>) -> Response {
        todo!()
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
    /// Start line or header section not well-formed (rsip's error text, or ours).
    Syntax(String),
    /// A mandatory header (Via, From, To, Call-ID, CSeq; Max-Forwards is optional) is missing.
    MissingHeader(&'static str),
    /// A header is present but its value is invalid (or duplicated where only one is allowed).
    InvalidHeader(HeaderError),
    /// Content-Length says more bytes than the message carries.
    Truncated {
        content_length: usize,
        body_len: usize,
    },
    /// The CSeq method differs from the request method.
    CSeqMethodMismatch,
    /// Not SIP/2.0.
    UnsupportedVersion(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}

impl std::error::Error for ParseError {}

/// Parse one complete SIP message (one WebSocket frame). Validates: size, start line, SIP/2.0,
/// mandatory headers present and well-formed (Via, From, To, Call-ID, CSeq number < 2^31 and
/// method token, CSeq method == request method), Content-Length (if present) not larger than
/// the body (extra bytes beyond Content-Length are discarded, RFC 3261 §18.3).
/// Never panics on any input.
pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    todo!()
}

/// Best effort for a request that `parse` refused: if the start line is a request line and the
/// Via, From, To, Call-ID and CSeq header lines can be found textually, return a `Request` with
/// just those headers so a `400 Bad Request` can be sent back. `None` for responses / garbage.
pub fn salvage_for_reply(bytes: &[u8]) -> Option<Request> {
    todo!()
}
