//! The state of one call (an INVITE dialog usage and its offer/answer), and what it owes the host.

use super::offer_answer::OfferAnswer;
use super::session_timer::SessionTimer;
use super::timer::{Timer, TimerTable};
use crate::call::{CallInfo, CallState, Direction, EndReason};
use crate::dialog::Dialog;
use crate::message::{Method, Request};
use crate::transaction::{Millis, TimerConfig, TxId};

/// Other forks of one INVITE that we end with a BYE when they answer too (more are only ACKed).
pub(super) const MAX_OTHER_FORKS: usize = 8;

/// What a call's client transaction is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TxRole {
    Invite,
    Reinvite,
    Refresh,
    Info,
    Refer,
}

/// What SDP a call is waiting for from the media side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Pending {
    /// Offer for our initial INVITE.
    InviteOffer,
    /// Answer to the incoming INVITE's offer, for the 200.
    InviteAnswer,
    /// Offer to put in our 200 (incoming INVITE without SDP); the answer comes in the ACK.
    OfferIn200,
    /// Answer to a re-INVITE / UPDATE from the peer.
    ReAnswer { tx: TxId, method: Method },
    /// Offer for a 200 to a re-INVITE without SDP.
    ReOfferIn200 { tx: TxId },
    /// Offer for our own re-INVITE (hold/resume).
    OurReinvite { hold: bool },
}

#[derive(Debug)]
pub(super) struct Call {
    pub id: String,
    pub direction: Direction,
    pub state: CallState,
    pub remote: String,
    pub remote_name: Option<String>,
    pub auto_answer: bool,
    pub end_reason: Option<EndReason>,
    pub muted: bool,
    pub dialog: Option<Dialog>,
    /// RFC 3264: the session as negotiated and the one exchange in progress.
    pub oa: OfferAnswer,
    /// Every deadline of this call (one table, one next timeout).
    pub timers: TimerTable,
    // --- UAC ---
    pub invite: Option<Request>,
    pub invite_tx: Option<TxId>,
    pub ack: Option<Vec<u8>>,
    pub got_provisional: bool,
    pub cancel_requested: bool,
    pub auth_answered: bool,
    /// To tags of other forks whose 2xx we ACKed and ended with a BYE (§13.2.2.4), bounded.
    pub other_forks: Vec<String>,
    // --- UAS ---
    pub server_tx: Option<TxId>,
    /// The 2xx we retransmit until the ACK arrives (§13.3.1.4), its timer and give-up time.
    pub ok_bytes: Option<Vec<u8>>,
    pub ok_interval: Millis,
    // --- in dialog ---
    pub reinvite_tx: Option<TxId>,
    pub reinvite: Option<Request>,
    pub reinvite_hold: bool,
    /// What our glare-delayed re-INVITE ([`Timer::ReinviteRetry`]) was for: hold (or resume).
    pub reinvite_retry_hold: bool,
    pub peer_reinvite_pending: Option<TxId>,
    pub answer_mode_echo: Option<(&'static str, &'static str)>,
    /// The flow carrying this dialog broke: refresh the dialog (re-INVITE, new Contact) over the
    /// next flow, or end the call when that has not worked by `recover_deadline`.
    pub needs_refresh: bool,
    /// SIP INFO DTMF: digits still to send and the INFO in flight.
    pub dtmf_queue: std::collections::VecDeque<char>,
    pub info_tx: Option<TxId>,
    // --- RFC 4028 session timer ---
    pub timer: Option<SessionTimer>,
    /// Interval we asked for in our last refresh request (INVITE/UPDATE).
    pub asked_interval: Option<u32>,
    /// Timer to echo in our next 2xx as UAS.
    pub pending_uas_timer: Option<SessionTimer>,
    pub peer_timer_support: bool,
    pub peer_allows_update: bool,
    /// Our refreshing UPDATE in flight.
    pub refresh_tx: Option<TxId>,
    pub invite_422_retried: bool,
    // --- transfer ---
    /// Our REFER in flight, and whether a transfer we asked for is under way.
    pub refer_tx: Option<TxId>,
    pub transferring: bool,
    /// Attended transfer under way: the other call of ours whose dialog our REFER names in Replaces.
    pub replaces_call: Option<String>,
    /// This call was placed because call `referred_from` was transferred to us (REFER).
    pub referred_from: Option<String>,
    /// This call was placed because a far end asked (REFER), not the user: its digest
    /// credentials go only to the registrar's realms.
    pub placed_for_peer: bool,
    /// Headers our INVITE must carry (Referred-By, Replaces when following a REFER).
    pub extra_invite_headers: Vec<(&'static str, String)>,
}

impl Call {
    pub(super) fn new(id: String, direction: Direction, remote: String) -> Call {
        Call {
            id,
            direction,
            state: if direction == Direction::Outgoing { CallState::Dialing } else { CallState::Ringing },
            remote,
            remote_name: None,
            auto_answer: false,
            end_reason: None,
            muted: false,
            dialog: None,
            oa: OfferAnswer::default(),
            timers: TimerTable::default(),
            invite: None,
            invite_tx: None,
            ack: None,
            got_provisional: false,
            cancel_requested: false,
            auth_answered: false,
            other_forks: Vec::new(),
            server_tx: None,
            ok_bytes: None,
            ok_interval: 500,
            reinvite_tx: None,
            reinvite: None,
            reinvite_hold: false,
            reinvite_retry_hold: false,
            peer_reinvite_pending: None,
            answer_mode_echo: None,
            needs_refresh: false,
            dtmf_queue: std::collections::VecDeque::new(),
            info_tx: None,
            timer: None,
            asked_interval: None,
            pending_uas_timer: None,
            peer_timer_support: false,
            peer_allows_update: false,
            refresh_tx: None,
            invite_422_retried: false,
            refer_tx: None,
            transferring: false,
            replaces_call: None,
            referred_from: None,
            placed_for_peer: false,
            extra_invite_headers: Vec::new(),
        }
    }

    pub fn info(&self) -> CallInfo {
        CallInfo {
            id: self.id.clone(),
            direction: self.direction,
            remote: self.remote.clone(),
            remote_name: self.remote_name.clone(),
            state: self.state,
            auto_answer: self.auto_answer,
            end_reason: self.end_reason,
            muted: self.muted,
        }
    }

    /// The client transaction this call runs for `role`, if any.
    pub fn tx_for(&self, role: TxRole) -> Option<TxId> {
        match role {
            TxRole::Invite => self.invite_tx,
            TxRole::Reinvite => self.reinvite_tx,
            TxRole::Refresh => self.refresh_tx,
            TxRole::Info => self.info_tx,
            TxRole::Refer => self.refer_tx,
        }
    }

    pub fn next_timeout(&self) -> Option<Millis> {
        self.timers.next_timeout(|t| self.timer_eligible(t))
    }

    /// Whether `timer` may fire now: the session timer waits while the dialog waits for a new flow
    /// (recovery decides then).
    pub fn timer_eligible(&self, timer: Timer) -> bool {
        !(self.needs_refresh && timer.waits_for_flow())
    }

    /// §13.3.1.4: keep `bytes`, our 2xx to an INVITE, and retransmit it from T1, doubling up to
    /// T2, until the ACK arrives or 64·T1 have passed. The one place both UAS paths (a new call,
    /// a re-INVITE) arm it.
    pub fn retransmit_2xx(&mut self, bytes: Vec<u8>, now: Millis, timers: &TimerConfig) {
        self.ok_bytes = Some(bytes);
        self.ok_interval = timers.t1;
        self.timers.set(Timer::Retransmit2xx, now + timers.t1);
        self.timers.set(Timer::AckWait, now + timers.ack_wait());
    }

    /// A 2xx was received (outgoing): the dialog is confirmed.
    pub fn dialog_confirmed(&self) -> bool {
        self.ack.is_some()
    }

    /// The call was answered and its dialog confirmed on both sides: our 2xx was ACKed
    /// (incoming) or we ACKed the far end's 2xx (outgoing). Early dialogs never qualify.
    pub fn answered_and_confirmed(&self) -> bool {
        let confirmed = match self.direction {
            Direction::Outgoing => self.ack.is_some(),
            Direction::Incoming => self.server_tx.is_some() && self.ok_bytes.is_none() && self.oa.local.is_some(),
        };
        confirmed && matches!(self.state, CallState::Active | CallState::Held)
    }
}
