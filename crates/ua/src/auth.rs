//! HTTP Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760): MD5, SHA-256 and
//! SHA-512-256, with or without `-sess`, `qop=auth` (and `auth-int`), `nc`/`cnonce`.
//!
//! rsip 0.4 only knows the algorithm token `SHA256` (and writes it back that way), while RFC 8760
//! registers `SHA-256`: challenges are therefore parsed here, from the header text.

use md5::{Digest as _, Md5};
use sha2::{Sha256, Sha512_256};
use std::fmt;

/// Digest hash algorithm (RFC 8760 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Algorithm {
    Md5,
    Sha256,
    Sha512_256,
}

impl Algorithm {
    /// Accepts the registered tokens and, for interoperability, the non-standard `SHA256`
    /// that rsip and some servers write.
    fn parse(token: &str) -> Option<(Algorithm, bool)> {
        let t = token.trim().to_ascii_uppercase();
        let (base, sess) = match t.strip_suffix("-SESS") {
            Some(b) => (b.to_string(), true),
            None => (t, false),
        };
        let alg = match base.as_str() {
            "MD5" => Algorithm::Md5,
            "SHA-256" | "SHA256" => Algorithm::Sha256,
            "SHA-512-256" | "SHA512-256" => Algorithm::Sha512_256,
            _ => return None,
        };
        Some((alg, sess))
    }

    fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512_256 => "SHA-512-256",
        }
    }

    fn hash(self, data: &[u8]) -> String {
        fn hex(bytes: &[u8]) -> String {
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data)),
            Algorithm::Sha256 => hex(&Sha256::digest(data)),
            Algorithm::Sha512_256 => hex(&Sha512_256::digest(data)),
        }
    }
}

/// Quality of protection chosen for a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qop {
    Auth,
    AuthInt,
}

/// One `Digest` challenge from a `WWW-Authenticate` (401) or `Proxy-Authenticate` (407) header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    pub sess: bool,
    /// Offered qop values we understand, `auth` preferred when both are offered.
    pub qop: Option<Qop>,
    pub stale: bool,
    /// True for `Proxy-Authenticate` (answer with `Proxy-Authorization`).
    pub proxy: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChallengeError {
    NotDigest,
    MissingParam(&'static str),
    UnsupportedAlgorithm(String),
    UnsupportedQop(String),
    Syntax(String),
}

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChallengeError::NotDigest => write!(f, "challenge scheme is not Digest"),
            ChallengeError::MissingParam(p) => write!(f, "challenge lacks {p}"),
            ChallengeError::UnsupportedAlgorithm(a) => {
                write!(f, "unsupported digest algorithm {a}")
            }
            ChallengeError::UnsupportedQop(q) => write!(f, "unsupported qop {q}"),
            ChallengeError::Syntax(s) => write!(f, "malformed challenge: {s}"),
        }
    }
}

/// Split `k=v, k="v, with comma", k=v` into pairs (keys lower-cased, quotes removed, `\"` unescaped).
fn auth_params(s: &str) -> Result<Vec<(String, String)>, ChallengeError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        while matches!(chars.peek(), Some(c) if c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(ChallengeError::Syntax(format!("parameter {key:?} has no value")));
        }
        while matches!(chars.peek(), Some(c) if c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    _ => value.push(c),
                }
            }
            if !closed {
                return Err(ChallengeError::Syntax("unterminated quoted string".into()));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        if key.is_empty() {
            return Err(ChallengeError::Syntax("empty parameter name".into()));
        }
        out.push((key.to_ascii_lowercase(), value));
    }
    Ok(out)
}

impl Challenge {
    /// Parse one challenge header value (`Digest realm="…", nonce="…", …`).
    pub fn parse(value: &str, proxy: bool) -> Result<Challenge, ChallengeError> {
        let value = value.trim();
        let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("digest") {
            return Err(ChallengeError::NotDigest);
        }
        let params = auth_params(rest)?;
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let realm = get("realm").ok_or(ChallengeError::MissingParam("realm"))?;
        let nonce = get("nonce").ok_or(ChallengeError::MissingParam("nonce"))?;
        let (algorithm, sess) = match get("algorithm") {
            None => (Algorithm::Md5, false),
            Some(a) => Algorithm::parse(&a).ok_or(ChallengeError::UnsupportedAlgorithm(a))?,
        };
        let qop = match get("qop") {
            None => None,
            Some(q) => {
                let offered: Vec<String> = q.split(',').map(|s| s.trim().to_ascii_lowercase()).collect();
                if offered.iter().any(|s| s == "auth") {
                    Some(Qop::Auth)
                } else if offered.iter().any(|s| s == "auth-int") {
                    Some(Qop::AuthInt)
                } else {
                    return Err(ChallengeError::UnsupportedQop(q));
                }
            }
        };
        Ok(Challenge {
            realm,
            nonce,
            opaque: get("opaque"),
            algorithm,
            sess,
            qop,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
            proxy,
        })
    }

    /// From several challenges (RFC 8760 §2.4: a server may offer one per algorithm), pick the
    /// strongest one we support. Unparseable ones are skipped; the error of the last is returned
    /// when none is usable.
    pub fn pick<'a>(values: impl IntoIterator<Item = &'a str>, proxy: bool) -> Result<Challenge, ChallengeError> {
        let mut best: Option<Challenge> = None;
        let mut last_err = ChallengeError::NotDigest;
        for v in values {
            match Challenge::parse(v, proxy) {
                Ok(c) => {
                    if best.as_ref().map_or(true, |b| c.algorithm > b.algorithm) {
                        best = Some(c);
                    }
                }
                Err(e) => last_err = e,
            }
        }
        best.ok_or(last_err)
    }
}

/// The user's credentials. `Debug` never prints the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The authorization user name (defaults to the SIP user name).
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"<redacted>").finish()
    }
}

/// Quote a value for a quoted-string (escape `\` and `"`).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Compute the `Authorization` / `Proxy-Authorization` header (name, value) answering `ch`.
/// `nc` counts the uses of this nonce (1 for the first), `cnonce` comes from the caller's RNG.
pub fn authorization(
    ch: &Challenge,
    creds: &Credentials,
    method: &str,
    uri: &str,
    body: &[u8],
    nc: u32,
    cnonce: &str,
) -> (&'static str, String) {
    let alg = ch.algorithm;
    let mut ha1 = alg.hash(format!("{}:{}:{}", creds.username, ch.realm, creds.password).as_bytes());
    if ch.sess {
        ha1 = alg.hash(format!("{ha1}:{}:{cnonce}", ch.nonce).as_bytes());
    }
    let ha2 = match ch.qop {
        Some(Qop::AuthInt) => alg.hash(format!("{method}:{uri}:{}", alg.hash(body)).as_bytes()),
        _ => alg.hash(format!("{method}:{uri}").as_bytes()),
    };
    let nc_text = format!("{nc:08x}");
    let response = match ch.qop {
        Some(q) => {
            let qop = if q == Qop::Auth { "auth" } else { "auth-int" };
            alg.hash(format!("{ha1}:{}:{nc_text}:{cnonce}:{qop}:{ha2}", ch.nonce).as_bytes())
        }
        None => alg.hash(format!("{ha1}:{}:{ha2}", ch.nonce).as_bytes()),
    };
    let mut v = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, response=\"{response}\", algorithm={}{}",
        quote(&creds.username),
        quote(&ch.realm),
        quote(&ch.nonce),
        quote(uri),
        alg.token(),
        if ch.sess { "-sess" } else { "" },
    );
    if let Some(q) = ch.qop {
        let qop = if q == Qop::Auth { "auth" } else { "auth-int" };
        v.push_str(&format!(", qop={qop}, nc={nc_text}, cnonce={}", quote(cnonce)));
    }
    if let Some(o) = &ch.opaque {
        v.push_str(&format!(", opaque={}", quote(o)));
    }
    let name = if ch.proxy { "Proxy-Authorization" } else { "Authorization" };
    (name, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials { username: "Mufasa".into(), password: "Circle of Life".into() }
    }

    /// RFC 7616 §3.9.1 example (HTTP, but the computation is the same), MD5 and SHA-256.
    #[test]
    fn rfc7616_examples() {
        let md5 = Challenge::parse(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
            false,
        )
        .unwrap();
        let (_, v) = authorization(
            &md5,
            &creds(),
            "GET",
            "/dir/index.html",
            b"",
            1,
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        );
        assert!(v.contains(r#"response="8ca523f5e9506fed4657c9700eebdbec""#), "{v}");
        let sha = Challenge::parse(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
            false,
        )
        .unwrap();
        let (_, v) = authorization(
            &sha,
            &creds(),
            "GET",
            "/dir/index.html",
            b"",
            1,
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        );
        assert!(v.contains(r#"response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1""#), "{v}");
        assert!(v.contains("algorithm=SHA-256"));
        assert!(v.contains("qop=auth, nc=00000001"));
    }

    /// RFC 2617 §3.5 example (no algorithm => MD5).
    #[test]
    fn rfc2617_example() {
        let ch = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
            false,
        )
        .unwrap();
        let c = Credentials { username: "Mufasa".into(), password: "Circle Of Life".into() };
        let (name, v) = authorization(&ch, &c, "GET", "/dir/index.html", b"", 1, "0a4f113b");
        assert_eq!(name, "Authorization");
        assert!(v.contains(r#"response="6629fae49393a05397450978507c4ef1""#), "{v}");
    }

    #[test]
    fn picks_strongest_and_knows_stale_and_proxy() {
        let c = Challenge::pick(
            [
                r#"Digest realm="a", nonce="n1", algorithm=MD5"#,
                r#"Digest realm="a", nonce="n2", algorithm=SHA-256, stale=TRUE"#,
                r#"Basic realm="a""#,
            ],
            true,
        )
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha256);
        assert!(c.stale);
        assert!(c.proxy);
        assert_eq!(authorization(&c, &creds(), "INVITE", "sip:a", b"", 1, "x").0, "Proxy-Authorization");
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for s in [
            "",
            "Digest",
            "Digest realm",
            "Digest realm=\"x",
            "Digest nonce=x",
            "Digest realm=x, nonce=y, algorithm=FOO",
            "Basic x",
            "Digest realm=x, nonce=y, qop=bogus",
            "Digest ,,,=",
        ] {
            assert!(Challenge::parse(s, false).is_err(), "{s}");
        }
    }

    #[test]
    fn debug_never_shows_password() {
        assert!(!format!("{:?}", creds()).contains("Circle"));
    }
}
