//! Shorthands for [`UserAgent::handle_input`] with a [`Command`]: the same path, typed results.
//! Hosts that route commands generically use `handle_input`; tests and simple hosts use these.

use super::{Command, Input, UserAgent};
use crate::call::{CallError, CallInfo};
use crate::transaction::Millis;

impl UserAgent {
    fn command(&mut self, now: Millis, c: Command) -> Result<Option<CallInfo>, CallError> {
        self.handle_input(now, Input::Command(c)).into_result()
    }

    fn command_call(&mut self, now: Millis, c: Command) -> Result<CallInfo, CallError> {
        self.command(now, c)?.ok_or(CallError::NoSuchCall)
    }

    /// [`Command::Dial`]: the new call.
    pub fn dial(&mut self, now: Millis, target: &str) -> Result<CallInfo, CallError> {
        self.command_call(now, Command::Dial { target: target.to_string() })
    }

    /// [`Command::Answer`].
    pub fn answer(&mut self, now: Millis, id: &str) -> Result<(), CallError> {
        self.command(now, Command::Answer { call: id.to_string() }).map(drop)
    }

    /// [`Command::Reject`].
    pub fn reject(&mut self, now: Millis, id: &str) -> Result<(), CallError> {
        self.command(now, Command::Reject { call: id.to_string() }).map(drop)
    }

    /// [`Command::Hangup`].
    pub fn hangup(&mut self, now: Millis, id: &str) -> Result<(), CallError> {
        self.command(now, Command::Hangup { call: id.to_string() }).map(drop)
    }

    /// [`Command::Hold`].
    pub fn hold(&mut self, now: Millis, id: &str) -> Result<(), CallError> {
        self.command(now, Command::Hold { call: id.to_string() }).map(drop)
    }

    /// [`Command::Resume`].
    pub fn resume(&mut self, now: Millis, id: &str) -> Result<(), CallError> {
        self.command(now, Command::Resume { call: id.to_string() }).map(drop)
    }

    /// [`Command::Mute`].
    pub fn set_muted(&mut self, now: Millis, id: &str, muted: bool) -> Result<(), CallError> {
        self.command(now, Command::Mute { call: id.to_string(), muted }).map(drop)
    }

    /// [`Command::Dtmf`].
    pub fn send_dtmf(&mut self, now: Millis, id: &str, digits: &str) -> Result<(), CallError> {
        self.command(now, Command::Dtmf { call: id.to_string(), digits: digits.to_string() }).map(drop)
    }

    /// [`Command::Transfer`] (blind).
    pub fn transfer(&mut self, now: Millis, id: &str, target: &str) -> Result<(), CallError> {
        self.command(now, Command::Transfer { call: id.to_string(), to: target.to_string() }).map(drop)
    }

    /// [`Command::TransferAttended`].
    pub fn transfer_attended(&mut self, now: Millis, id: &str, other: &str) -> Result<(), CallError> {
        self.command(now, Command::TransferAttended { call: id.to_string(), replaces: other.to_string() }).map(drop)
    }

    /// [`Command::AnswerRinging`]: the call answered.
    pub fn answer_ringing(&mut self, now: Millis) -> Result<CallInfo, CallError> {
        self.command_call(now, Command::AnswerRinging)
    }

    /// [`Command::HangupCurrent`]: the call hung up.
    pub fn hangup_current(&mut self, now: Millis) -> Result<CallInfo, CallError> {
        self.command_call(now, Command::HangupCurrent)
    }

    /// [`Command::ToggleMuteCurrent`]: the call (un)muted.
    pub fn toggle_mute_current(&mut self, now: Millis) -> Result<CallInfo, CallError> {
        self.command_call(now, Command::ToggleMuteCurrent)
    }
}
