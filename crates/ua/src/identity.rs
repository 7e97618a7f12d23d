//! Identity that must survive a service-worker restart: the RFC 5626 instance id, the Contact
//! host, and the REGISTER dialog-ish state (Call-ID, From tag, CSeq) per address of record.
//! Restoring it makes the next REGISTER refresh the same binding, so the registrar never holds
//! a ghost contact from the previous worker.

use crate::rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// `urn:uuid:` value of `+sip.instance` (the UUID only).
    pub instance_id: String,
    /// Random host of our Via and Contact (`<token>.invalid`, RFC 7118 §5).
    pub contact_host: String,
    /// REGISTER state for the current address of record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<RegisterIdentity>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RegisterIdentity {
    /// The address of record this state belongs to (`sip:user@domain`) and the server URL.
    pub aor: String,
    pub server: String,
    pub call_id: String,
    pub from_tag: String,
    /// Last CSeq number used.
    pub cseq: u32,
}

impl Identity {
    pub fn generate(rng: &mut Rng) -> Identity {
        Identity { instance_id: rng.uuid_v4(), contact_host: format!("{}.invalid", rng.token(12)), register: None }
    }

    /// A restored identity is used only if it is well-formed; otherwise a new one is made.
    pub fn restore_or_generate(stored: Option<Identity>, rng: &mut Rng) -> Identity {
        match stored {
            Some(id)
                if id.instance_id.len() == 36
                    && id.instance_id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
                    && id.contact_host.ends_with(".invalid")
                    && id.contact_host.len() < 64
                    && id.contact_host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') =>
            {
                id
            }
            _ => Identity::generate(rng),
        }
    }

    /// REGISTER state for `aor` on `server`: the stored one if it matches, a fresh one otherwise.
    pub(crate) fn register_for(&mut self, aor: &str, server: &str, rng: &mut Rng) -> &mut RegisterIdentity {
        let fresh = !matches!(&self.register, Some(r) if r.aor == aor && r.server == server && r.cseq < 0x7000_0000);
        if fresh {
            self.register = Some(RegisterIdentity {
                aor: aor.to_string(),
                server: server.to_string(),
                call_id: rng.token(22),
                from_tag: rng.token(10),
                cseq: 0,
            });
        }
        // Just set above when absent.
        self.register.as_mut().expect("register identity present")
    }
}
