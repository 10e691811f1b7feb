//! Event payloads: the `data` of an event envelope (DESIGN.md §4). Each payload
//! names its type (past tense), its schema version and the key that orders it.
//! The envelope, schemas and transport live in the `events` crate.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A payload that travels as an event.
pub trait EventPayload: Serialize + DeserializeOwned {
    /// `OrderPlaced`, `ProductUpserted`, … (past tense).
    const TYPE: &'static str;
    /// Bumped on every change a reader of the previous version would misread.
    const VERSION: u16;
    /// The Kafka key: events with the same key keep their order.
    fn key(&self) -> String;
}

/// A synthetic event for end-to-end probes of the backbone (the benchmark,
/// smoke checks after a deploy): it moves through outbox, broker and consumer
/// like any other event and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbePublished {
    /// The probe run this event belongs to; the key, so a run stays ordered.
    pub run: String,
    /// Position within the run, from 0.
    pub sequence: u64,
}

impl EventPayload for ProbePublished {
    const TYPE: &'static str = "ProbePublished";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.run.clone()
    }
}

/// An account was created (analytics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRegistered {
    pub user_id: String,
    pub shopper_key: String,
}

impl EventPayload for UserRegistered {
    const TYPE: &'static str = "UserRegistered";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.user_id.clone()
    }
}

/// A shopper signed in (analytics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserLoggedIn {
    pub user_id: String,
    pub session_id: String,
}

impl EventPayload for UserLoggedIn {
    const TYPE: &'static str = "UserLoggedIn";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.user_id.clone()
    }
}

/// A password was changed: the owner is told by e-mail (notifications).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChanged {
    pub user_id: String,
}

impl EventPayload for PasswordChanged {
    const TYPE: &'static str = "PasswordChanged";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.user_id.clone()
    }
}
