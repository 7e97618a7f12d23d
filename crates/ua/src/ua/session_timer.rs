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

/// The `Reason` (RFC 3326) of the BYE that ends a session nobody refreshed in time.
pub(crate) const EXPIRED_REASON: &str = "SIP;cause=408;text=\"Session expired\"";

impl SessionTimer {
    /// Milliseconds from a (re)negotiation to our refresh, when we are the refresher: half the
    /// interval (§10). None when the peer refreshes.
    pub fn refresh_in_ms(&self) -> Option<u64> {
        self.we_refresh.then_some(self.interval as u64 * 500)
    }

    /// Milliseconds from a (re)negotiation to giving up on the session, whoever refreshes: a
    /// little before it expires, `interval - min(32, interval/3)` (§10). A refresher whose
    /// refreshes fail ends the session here too.
    pub fn give_up_in_ms(&self) -> u64 {
        let i = self.interval as u64;
        (i - (i / 3).min(32)) * 1000
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
/// `current` is the session's timer so far (None on an initial INVITE).
pub(crate) fn negotiate_uas(req: &Headers, current: Option<SessionTimer>) -> Result<Option<SessionTimer>, u32> {
    let uac_supports = supports_timer(req);
    let Some((mut interval, refresher)) = session_expires(req) else {
        // A refresh that does not mention the timer (a hold re-INVITE, say) still refreshes the
        // session; §9 lets the UAS state the timer in its 2xx. Keep the one we have, and refresh
        // ourselves if the peer no longer claims to support timers.
        return Ok(current.map(|t| SessionTimer { we_refresh: t.we_refresh || !uac_supports, ..t }));
    };
    if interval < MIN_SE {
        // §9: a 422 only to a UAC that supports timers (it would not understand one otherwise).
        // For the others, refresh at our minimum ourselves.
        if uac_supports {
            return Err(MIN_SE);
        }
        interval = MIN_SE;
    }
    // §9: honour the UAC's choice; if it left it open, let a timer-capable UAC refresh. A UAC
    // that does not say `Supported: timer` cannot be the refresher (our 2xx would have to
    // require an extension it does not know), whatever a proxy wrote in `refresher`.
    let uac_refreshes = match refresher.as_deref() {
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
        assert_eq!(negotiate_uas(&h(&[]), None), Ok(None));
        assert_eq!(negotiate_uas(&h(&[("Session-Expires", "60"), ("Supported", "timer")]), None), Err(90));
        let raised = negotiate_uas(&h(&[("Session-Expires", "60")]), None).unwrap().unwrap();
        assert_eq!(raised, SessionTimer { interval: 90, we_refresh: true }, "no 422 to a UAC without timers");
        let t = negotiate_uas(&h(&[("Session-Expires", "120;refresher=uac"), ("Supported", "timer")]), None)
            .unwrap()
            .unwrap();
        assert_eq!(t, SessionTimer { interval: 120, we_refresh: false });
        assert_eq!(uas_header(&t), "120;refresher=uac");
        let t = negotiate_uas(&h(&[("Session-Expires", "120")]), None).unwrap().unwrap();
        assert!(t.we_refresh, "a UAC without timer support cannot refresh");
        let t = negotiate_uas(&h(&[("Session-Expires", "120;refresher=uac")]), None).unwrap().unwrap();
        assert!(t.we_refresh, "not even when the request names it the refresher");
        assert_eq!((t.refresh_in_ms(), t.give_up_in_ms()), (Some(60_000), 88_000));
        let them = SessionTimer { interval: 120, we_refresh: false };
        assert_eq!((them.refresh_in_ms(), them.give_up_in_ms()), (None, 88_000));
        assert_eq!(SessionTimer { interval: 90, we_refresh: false }.give_up_in_ms(), 60_000);
        // A refresh without Session-Expires keeps the session's timer.
        assert_eq!(negotiate_uas(&h(&[("Supported", "timer")]), Some(them)), Ok(Some(them)));
        let taken_over = negotiate_uas(&h(&[]), Some(them)).unwrap().unwrap();
        assert!(taken_over.we_refresh, "a peer that no longer supports timers leaves the refreshing to us");
    }

    #[test]
    fn uac_negotiation() {
        assert!(!from_uac_response(&h(&[("Session-Expires", "300;refresher=uas")]), Some(1800)).unwrap().we_refresh);
        assert!(from_uac_response(&h(&[("Session-Expires", "300;refresher=uac")]), Some(1800)).unwrap().we_refresh);
        assert_eq!(from_uac_response(&h(&[]), None), None);
        assert_eq!(min_se(&h(&[("Min-SE", "600")])), Some(600));
    }
}
