//! A call's timers as one table (as quinn-proto's `connection/timer.rs`): each [`Timer`] is at
//! most one deadline; the table gives the next one to wake for and the expired ones in order.

use crate::transaction::Millis;

/// Everything a call can be waiting for, in the order expired timers fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Timer {
    /// §13.3.1.4: our 2xx to an INVITE was never acknowledged (64·T1): BYE.
    AckWait,
    /// §13.3.1.4: retransmit our 2xx (T1, doubling up to T2).
    Retransmit2xx,
    /// Our CANCEL's INVITE never got a final answer: end the call anyway.
    CancelGuard,
    /// Ringing too long (in: 480; out: CANCEL).
    Ring,
    /// RFC 4028: nobody refreshed the session in time: BYE.
    SessionExpiry,
    /// RFC 4028: we are the refresher and the refresh is due.
    SessionRefresh,
    /// The flow broke and the dialog was not refreshed over a new one in time.
    Recover,
    /// A delayed automatic answer is due.
    AutoAnswer,
    /// Our re-INVITE met glare (491): try again.
    ReinviteRetry,
}

impl Timer {
    /// The RFC 4028 timers do not fire while the dialog waits for a new flow: [`Timer::Recover`]
    /// decides its fate then.
    pub(super) fn waits_for_flow(self) -> bool {
        matches!(self, Timer::SessionExpiry | Timer::SessionRefresh)
    }

    const COUNT: usize = 9;
    /// Every timer, in firing order.
    pub(super) const ALL: [Timer; Timer::COUNT] = [
        Timer::AckWait,
        Timer::Retransmit2xx,
        Timer::CancelGuard,
        Timer::Ring,
        Timer::SessionExpiry,
        Timer::SessionRefresh,
        Timer::Recover,
        Timer::AutoAnswer,
        Timer::ReinviteRetry,
    ];
}

/// One optional deadline per [`Timer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TimerTable {
    at: [Option<Millis>; Timer::COUNT],
}

impl TimerTable {
    pub(super) fn set(&mut self, timer: Timer, at: Millis) {
        self.at[timer as usize] = Some(at);
    }

    /// Set `timer` unless it is already running.
    pub(super) fn set_if_stopped(&mut self, timer: Timer, at: Millis) {
        self.at[timer as usize].get_or_insert(at);
    }

    pub(super) fn stop(&mut self, timer: Timer) {
        self.at[timer as usize] = None;
    }

    pub(super) fn get(&self, timer: Timer) -> Option<Millis> {
        self.at[timer as usize]
    }

    pub(super) fn is_set(&self, timer: Timer) -> bool {
        self.at[timer as usize].is_some()
    }

    pub(super) fn is_expired(&self, timer: Timer, now: Millis) -> bool {
        self.at[timer as usize].is_some_and(|t| now >= t)
    }

    /// The earliest deadline among the timers `eligible` accepts.
    pub(super) fn next_timeout(&self, eligible: impl Fn(Timer) -> bool) -> Option<Millis> {
        Timer::ALL.into_iter().filter(|t| eligible(*t)).filter_map(|t| self.get(t)).min()
    }

    /// The first expired timer (in firing order) that `eligible` accepts, stopped.
    pub(super) fn take_expired(&mut self, now: Millis, eligible: impl Fn(Timer) -> bool) -> Option<Timer> {
        let t = Timer::ALL.into_iter().find(|t| eligible(*t) && self.is_expired(*t, now))?;
        self.stop(t);
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_order_and_only_when_due() {
        let mut t = TimerTable::default();
        t.set(Timer::Ring, 100);
        t.set(Timer::AckWait, 100);
        t.set(Timer::AutoAnswer, 50);
        assert_eq!(t.next_timeout(|_| true), Some(50));
        assert_eq!(t.take_expired(49, |_| true), None);
        assert_eq!(t.take_expired(100, |_| true), Some(Timer::AckWait));
        assert_eq!(t.take_expired(100, |_| true), Some(Timer::Ring));
        assert_eq!(t.take_expired(100, |_| true), Some(Timer::AutoAnswer));
        assert_eq!(t.take_expired(100, |_| true), None);
        assert_eq!(t.next_timeout(|_| true), None);
    }

    #[test]
    fn ineligible_timers_neither_fire_nor_wake() {
        let mut t = TimerTable::default();
        t.set(Timer::SessionExpiry, 10);
        let not_expiry = |x: Timer| x != Timer::SessionExpiry;
        assert_eq!(t.next_timeout(not_expiry), None);
        assert_eq!(t.take_expired(20, not_expiry), None);
        assert!(t.is_set(Timer::SessionExpiry));
        t.set_if_stopped(Timer::SessionExpiry, 99);
        assert_eq!(t.get(Timer::SessionExpiry), Some(10));
    }
}
