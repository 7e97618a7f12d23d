//! The one schema for every message that crosses a context: the public Command API (requests,
//! replies, events; docs/API.md) and the worker ↔ offscreen document media protocol
//! (docs/MEDIA.md). The JS side is typed from these definitions (`extension/schema.js`, checked
//! by `tsc`), and `tests/api_schema.rs` proves the two agree: every example in the docs
//! round-trips through these types, and every message name the JS uses exists here.
//!
//! Routing: a message's kind key says who it is for — `cmd` the worker (the Command API),
//! `type` the offscreen document (the media protocol), `event` everyone (broadcasts). No
//! message carries a separate routing field, so no routing field can be mistaken for an
//! argument (`dial {target}`).
//!
//! Requests: their fields are read into [`RequestFields`] (a value of the wrong type reads as
//! absent) — by serde ([`parse_command`], any format) or, in the worker, straight from the JS
//! object — and [`command_from_fields`] makes the typed [`Command`] or refuses it with exactly the
//! Command API's errors (`bad-request` with the documented messages, `unknown-command`). Replies
//! and events are `Serialize` structs; no generic JSON value on the way in or out. (Measured in
//! the shipped wasm: a serde deserialiser per shape for JS values costs ~4 KB gzip more than
//! reading the few fields directly.)
//!
//! Module map: [`values`] (calls, registration, connection: what replies and events carry),
//! [`request`] (the Command API's requests and their parsing), [`reply`], [`event`],
//! [`media`] (the worker ↔ offscreen document protocol).

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

pub use crate::config::{IceServer, Settings};

/// The schema version every request and event carries as `ferrophone`.
pub const VERSION: u32 = 1;

// --- literal fields ------------------------------------------------------------------------------

macro_rules! literal {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $value:expr, $expect:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$ty as Serialize>::serialize(&$value, s)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if <$ty as Deserialize>::deserialize(d)? == $value {
                    Ok($name)
                } else {
                    Err(de::Error::custom(concat!("expected ", $expect)))
                }
            }
        }
    };
}

literal!(
    /// `ferrophone: 1`.
    V1, u32, VERSION, "ferrophone: 1"
);
literal!(
    /// `ok: true`.
    True, bool, true, "ok: true"
);
literal!(
    /// `ok: false`.
    False, bool, false, "ok: false"
);

/// A fieldless enum written as its name (one string table instead of a derived `match` per enum).
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub mod event;
pub mod media;
pub mod reply;
pub mod request;
pub mod values;

pub use event::*;
pub use media::*;
pub use reply::*;
pub use request::*;
pub use values::*;
