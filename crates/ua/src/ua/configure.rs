//! Configuration changes: a new account or settings, and the identity that follows the account.

use super::*;
use crate::config::{Account, Settings};
use crate::identity::Identity;
use crate::registration::RegistrationState;

impl UserAgent {
    pub(super) fn configure(&mut self, account: Option<Account>, settings: Settings) {
        let settings = settings.normalized();
        let events_before = self.allow_events();
        let expires_changed = settings.register_expires != self.settings.register_expires;
        self.settings = settings;
        // The registrar learns from our REGISTER which event packages we take (remote control).
        let events_changed = events_before != self.allow_events();
        if account == self.account {
            if (expires_changed || events_changed) && self.account.is_some() {
                self.reg.expires = self.settings.register_expires;
                if self.flow == Flow::Open && !self.reg.in_progress() && self.unregistering.is_none() {
                    self.start_register();
                }
            }
            return;
        }
        let registered_somewhere = self.flow == Flow::Open
            && (self.reg_state == RegistrationState::Registered || self.reg.in_progress())
            && self.account.is_some();
        if registered_somewhere {
            self.log("account changed: un-registering the old contact first");
            self.start_unregister(AfterUnregister::Switch(account));
        } else {
            self.apply_account(account);
        }
    }

    pub(super) fn apply_account(&mut self, account: Option<Account>) {
        let server_changed = self.account.as_ref().map(|a| &a.server) != account.as_ref().map(|a| &a.server);
        self.identity_follows_account(account.as_ref());
        self.reg.abort();
        self.reg.forget_credentials();
        self.reg.expires = self.settings.register_expires;
        self.retry_register_at = None;
        self.account = account;
        self.failures = 0;
        self.down_since = None;
        if self.account.is_some() {
            // Whatever the old account's state was, it says nothing about the new one.
            self.set_reg(RegistrationState::Connecting, None);
        }
        match (&self.account, self.flow) {
            (None, Flow::Idle) => self.set_reg(RegistrationState::Unconfigured, None),
            (None, _) => {
                self.set_reg(RegistrationState::Unconfigured, None);
                self.close_flow();
            }
            (Some(_), Flow::Open) if !server_changed => self.start_register(),
            (Some(_), Flow::Idle | Flow::Waiting { .. }) => self.connect(),
            (Some(_), _) => {
                // Different server (or a half-open flow): start over on a new connection.
                self.close_flow();
                self.connect();
            }
        }
    }

    /// The device identity (instance id, contact host, REGISTER Call-ID) belongs to one account
    /// on one server: removing the account, or changing its server or address of record, starts
    /// a new one, so two accounts can never be linked through it. A password change keeps it.
    pub(super) fn identity_follows_account(&mut self, next: Option<&Account>) {
        let key = |a: &Account| (a.aor(), a.server.url());
        let next_key = next.map(key);
        let account_changed = self.account.is_some() && self.account.as_ref().map(key) != next_key;
        // At start-up the restored identity may belong to an account removed while the worker was
        // not running.
        let stored_for_other = match (&self.identity.register, &next_key) {
            (Some(r), Some((aor, server))) => &r.aor != aor || &r.server != server,
            _ => false,
        };
        if account_changed || stored_for_other {
            self.identity = Identity::generate(&mut self.rng);
            self.log("new device identity for this account");
            self.out.push_back(Output::Event(Event::IdentityChanged(self.identity.clone())));
        }
    }
}
