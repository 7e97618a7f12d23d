//! RFC 4028 session timers: negotiation of `Session-Expires` / `Min-SE` and who refreshes.

use crate::message::{split_list, Headers};

/// What we ask for in our INVITEs.
pub(crate) const DEFAULT_INTERVAL: u32 = 1800;
/// The smallest interval we accept (RFC 4028 §4: at least 90 s).
pub(crate) const MIN_SE: u32 = 90;

/// A negotiated session timer: the interval and whether we are the refresher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SessionTimer {
    pub interval: u32,
    pub we_refresh: bool,
}

impl SessionTimer {
    /// Milliseconds from a (re)negotiation to our next action: the refresh at half the interval
    /// when we refresh (§10), or giving up at `interval - min(32, interval/3)` when they do.
    pub fn deadline_ms(&self) -> u64 {
        let i = self.interval as u64;
        if self.we_refresh {
            i * 500
        } else {
            (i - (i / 3).min(32)) * 1000
        }
    }
}

fn supports_timer(h: &Headers) -> bool {
    h.get_all("Supported").iter().flat_map(|v| split_list(v)).any(|t| t.eq_ignore_ascii_case("timer"))
}

/// `Session-Expires: N[;refresher=uac|uas]`.
fn session_expires(h: &Headers) -> Option<(u32, Option<String>)> {
    let v = h.get("Session-Expires")?;
    let mut parts = v.split(';');
    let n: u32 = parts.next()?.trim().parse().ok()?;
    let refresher = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("refresher").then(|| v.trim().to_ascii_lowercase())
    });
    Some((n, refresher))
}

/// As UAS of a session refresh request (initial INVITE, re-INVITE or UPDATE): the timer to
/// apply and echo in the 2xx, or `Err(min_se)` for a 422 when the interval is too small.
pub(crate) fn negotiate_uas(req: &Headers) -> Result<Option<SessionTimer>, u32> {
    let Some((interval, refresher)) = session_expires(req) else { return Ok(None) };
    if interval < MIN_SE {
        return Err(MIN_SE);
    }
    let uac_supports = supports_timer(req);
    // §9: honour the UAC's choice; if it left it open, let a timer-capable UAC refresh.
    let uac_refreshes = match refresher.as_deref() {
        Some("uac") => true,
        Some("uas") => false,
        _ => uac_supports,
    };
    Ok(Some(SessionTimer { interval, we_refresh: !uac_refreshes }))
}

/// The `Session-Expires` value for our 2xx as UAS (roles of that transaction).
pub(crate) fn uas_header(t: &SessionTimer) -> String {
    format!("{};refresher={}", t.interval, if t.we_refresh { "uas" } else { "uac" })
}

/// The `Session-Expires` value for a refresh request we send (we are its UAC).
pub(crate) fn uac_header(t: &SessionTimer) -> String {
    format!("{};refresher=uac", t.interval)
}

/// As UAC: the timer the 2xx to our INVITE/UPDATE set (None: no session timer).
pub(crate) fn from_uac_response(resp: &Headers, asked: Option<u32>) -> Option<SessionTimer> {
    match session_expires(resp) {
        Some((interval, refresher)) => {
            Some(SessionTimer { interval: interval.max(MIN_SE), we_refresh: refresher.as_deref() != Some("uas") })
        }
        // §7.4: we asked but the UAS does not do timers: we may still refresh ourselves.
        None => asked.map(|interval| SessionTimer { interval, we_refresh: true }),
    }
}

/// `Min-SE` of a 422.
pub(crate) fn min_se(resp: &Headers) -> Option<u32> {
    resp.get("Min-SE").and_then(|v| v.split(';').next()).and_then(|v| v.trim().parse().ok())
}

/// Whether the peer accepts the timer extension (so `Require: timer` may go in our 2xx).
pub(crate) fn peer_supports(req: &Headers) -> bool {
    supports_timer(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(lines: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in lines {
            h.push(n, *v);
        }
        h
    }

    #[test]
    fn uas_negotiation() {
        assert_eq!(negotiate_uas(&h(&[])), Ok(None));
        assert_eq!(negotiate_uas(&h(&[("Session-Expires", "60")])), Err(90));
        let t =
            negotiate_uas(&h(&[("Session-Expires", "120;refresher=uac"), ("Supported", "timer")])).unwrap().unwrap();
        assert_eq!(t, SessionTimer { interval: 120, we_refresh: false });
        assert_eq!(uas_header(&t), "120;refresher=uac");
        let t = negotiate_uas(&h(&[("Session-Expires", "120")])).unwrap().unwrap();
        assert!(t.we_refresh, "a UAC without timer support cannot refresh");
        assert_eq!(t.deadline_ms(), 60_000);
        let them = SessionTimer { interval: 120, we_refresh: false };
        assert_eq!(them.deadline_ms(), 88_000);
    }

    #[test]
    fn uac_negotiation() {
        assert!(!from_uac_response(&h(&[("Session-Expires", "300;refresher=uas")]), Some(1800)).unwrap().we_refresh);
        assert!(from_uac_response(&h(&[("Session-Expires", "300;refresher=uac")]), Some(1800)).unwrap().we_refresh);
        assert_eq!(from_uac_response(&h(&[]), None), None);
        assert_eq!(min_se(&h(&[("Min-SE", "600")])), Some(600));
    }
}
