//! Driving the registration (RFC 3261 §10, RFC 5626): REGISTER and its answers, refresh,
//! un-REGISTER, and the commands that ask for them.

use super::*;
use crate::config::Account;
use crate::message::{Request, Response};
use crate::registration::{refresh_delay_ms, BuildCtx, Outcome, Registration, RegistrationState};
use crate::transaction::Millis;

/// How long an un-REGISTER may take before we move on anyway (account change, shutdown).
pub(super) const UNREGISTER_GRACE_MS: Millis = 4_000;

/// What to do once an un-REGISTER finished (or its grace time ran out).
#[derive(Debug, Clone)]
pub(super) enum AfterUnregister {
    /// Stay connected, unregistered.
    Stay,
    /// Apply this (different) account.
    Switch(Option<Account>),
    Close,
}

impl UserAgent {
    pub(super) fn set_reg(&mut self, state: RegistrationState, reason: Option<String>) {
        self.reg_state = state;
        self.reg_reason = reason;
    }

    /// Run `f` on the registration with what building a REGISTER needs (disjoint borrows).
    pub(super) fn with_reg<R>(&mut self, f: impl FnOnce(&mut Registration, &mut BuildCtx<'_>) -> R) -> Option<R> {
        let allow_events = self.allow_events();
        let account = self.account.as_ref()?;
        let mut ctx = BuildCtx {
            account,
            identity: &mut self.identity,
            rng: &mut self.rng,
            user_agent: USER_AGENT,
            allow: ALLOW,
            allow_events,
        };
        Some(f(&mut self.reg, &mut ctx))
    }

    pub(super) fn start_register(&mut self) {
        if self.flow != Flow::Open || self.reg.in_progress() {
            return;
        }
        let expires = self.reg.expires;
        let Some(req) = self.with_reg(|reg, ctx| reg.begin(expires, ctx)) else {
            return;
        };
        if self.reg_state != RegistrationState::Registered {
            self.set_reg(RegistrationState::Registering, None);
        }
        self.send_register(req);
    }

    pub(super) fn send_register(&mut self, req: Request) {
        let tx = self.txl.send_request(self.now, req);
        self.reg.tx = Some(tx);
        self.out.push_back(Output::Event(Event::IdentityChanged(self.identity.clone())));
    }

    pub(super) fn on_register_response(&mut self, resp: &Response) {
        let unregistering = self.unregistering.is_some();
        let Some((outcome, retry)) = self.with_reg(|reg, ctx| reg.on_response(resp, ctx)) else {
            return;
        };
        if let Some(req) = retry {
            self.send_register(req);
            return;
        }
        match outcome {
            Outcome::Pending | Outcome::Resent => {}
            Outcome::Registered { granted_secs } => {
                let until = self.now + granted_secs as Millis * 1000;
                self.reg.registered_until = Some(until);
                self.reg.refresh_at = Some(self.now + refresh_delay_ms(granted_secs));
                self.failures = 0;
                self.down_since = None;
                self.set_reg(RegistrationState::Registered, None);
                self.status_refreshed = true;
                self.calls_on_flow_restored();
                self.log(&format!("registered for {granted_secs} s"));
            }
            Outcome::Unregistered => {
                if unregistering {
                    self.finish_unregister();
                } else {
                    self.set_reg(RegistrationState::Unregistered, None);
                }
            }
            Outcome::AuthFailed { reason } => {
                self.reg.registered_until = None;
                self.reg.refresh_at = None;
                if unregistering {
                    self.finish_unregister();
                } else {
                    self.log(&format!("authentication failed: {reason}"));
                    self.set_reg(RegistrationState::AuthFailed, Some(reason));
                }
            }
            Outcome::Failed { reason, retry_after_secs } => {
                if unregistering {
                    self.finish_unregister();
                    return;
                }
                self.reg.registered_until = None;
                self.reg.refresh_at = None;
                self.log(&format!("registration failed: {reason}"));
                self.set_reg(RegistrationState::Unregistered, Some(reason));
                self.retry_register_at = retry_after_secs.map(|s| self.now + s as Millis * 1000);
            }
        }
    }

    pub(super) fn start_unregister(&mut self, after: AfterUnregister) {
        if self.flow != Flow::Open || self.account.is_none() {
            self.after_unregister(after);
            return;
        }
        // Abandon an in-flight REGISTER: its transaction may still answer, but we no longer care.
        self.reg.abort();
        self.retry_register_at = None;
        if matches!(after, AfterUnregister::Switch(_)) {
            // The old binding is going away and the new one does not exist yet.
            self.set_reg(RegistrationState::Registering, Some("switching account".into()));
        }
        self.unregistering = Some((after, self.now + UNREGISTER_GRACE_MS));
        let Some(req) = self.with_reg(|reg, ctx| reg.begin(0, ctx)) else {
            return;
        };
        self.send_register(req);
    }

    pub(super) fn finish_unregister(&mut self) {
        self.reg.abort();
        if let Some((after, _)) = self.unregistering.take() {
            self.after_unregister(after);
        }
    }

    pub(super) fn after_unregister(&mut self, after: AfterUnregister) {
        match after {
            AfterUnregister::Stay => self.set_reg(RegistrationState::Unregistered, None),
            AfterUnregister::Switch(account) => self.apply_account(account),
            AfterUnregister::Close => {
                self.close_flow();
                self.set_reg(
                    if self.account.is_some() {
                        RegistrationState::Unregistered
                    } else {
                        RegistrationState::Unconfigured
                    },
                    None,
                );
            }
        }
    }

    pub(super) fn on_flow_command(&mut self, c: Command) {
        match c {
            Command::Register => {
                self.reg_reason = None;
                match self.flow {
                    Flow::Open => {
                        self.retry_register_at = None;
                        self.start_register();
                    }
                    Flow::Idle | Flow::Waiting { .. } => {
                        self.failures = 0;
                        self.down_since = None;
                        self.connect();
                    }
                    _ => {}
                }
            }
            Command::Unregister => self.start_unregister(AfterUnregister::Stay),
            Command::Shutdown => self.start_unregister(AfterUnregister::Close),
            _ => {}
        }
    }
}
