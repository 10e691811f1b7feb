//! The envelope every event travels in: `{id, type, version, occurred_at,
//! cell, key, traceparent, data}` (DESIGN.md §4).

use serde::{Deserialize, Serialize};
use telemetry::Traceparent;
use time::OffsetDateTime;
use uuid::Uuid;
use wire::events::EventPayload;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// UUIDv7: unique, and sortable by creation time.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u16,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The cell that emitted it; `None` for the control plane's global events.
    pub cell: Option<String>,
    /// The Kafka key: events with one key stay in order.
    pub key: String,
    /// W3C trace context, so a trace continues across the broker.
    pub traceparent: String,
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the message is not an event envelope: {0}")]
    Unreadable(String),
    #[error("the event's data does not match {event_type} v{version}: {reason}")]
    Data {
        event_type: String,
        version: u16,
        reason: String,
    },
}

impl Envelope {
    /// Wraps `payload`, stamped now, continuing `traceparent` when given.
    pub fn new<P: EventPayload>(
        payload: &P,
        cell: Option<&str>,
        traceparent: Option<&Traceparent>,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: Uuid::now_v7(),
            event_type: P::TYPE.to_owned(),
            version: P::VERSION,
            occurred_at: OffsetDateTime::now_utc(),
            cell: cell.map(str::to_owned),
            key: payload.key(),
            traceparent: traceparent
                .map(Traceparent::child)
                .unwrap_or_else(Traceparent::root)
                .to_string(),
            data: serde_json::to_value(payload)?,
        })
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Unreadable(e.to_string()))?;
        if envelope.key.is_empty() {
            return Err(EnvelopeError::Unreadable("the key is empty".into()));
        }
        Ok(envelope)
    }

    pub fn to_json(&self) -> String {
        // An envelope holds only strings, numbers and a JSON value: it always
        // serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The typed payload, when this envelope carries a `P`.
    pub fn payload<P: EventPayload>(&self) -> Result<P, EnvelopeError> {
        if self.event_type != P::TYPE || self.version != P::VERSION {
            return Err(EnvelopeError::Data {
                event_type: self.event_type.clone(),
                version: self.version,
                reason: format!("expected {} v{}", P::TYPE, P::VERSION),
            });
        }
        serde_json::from_value(self.data.clone()).map_err(|e| EnvelopeError::Data {
            event_type: self.event_type.clone(),
            version: self.version,
            reason: e.to_string(),
        })
    }

    pub fn trace(&self) -> Option<Traceparent> {
        Traceparent::parse(&self.traceparent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::events::ProbePublished;

    fn probe() -> ProbePublished {
        ProbePublished {
            run: "r1".into(),
            sequence: 3,
        }
    }

    #[test]
    fn an_envelope_round_trips_through_json() {
        let envelope = Envelope::new(&probe(), Some("cell-0"), None).unwrap();
        let again = Envelope::from_slice(envelope.to_json().as_bytes()).unwrap();
        assert_eq!(again, envelope);
        assert_eq!(again.payload::<ProbePublished>().unwrap(), probe());
        assert_eq!(again.key, "r1");
        assert_eq!(again.id.get_version_num(), 7);
    }

    #[test]
    fn a_child_keeps_the_trace_and_changes_the_span() {
        let root = Traceparent::root();
        let envelope = Envelope::new(&probe(), None, Some(&root)).unwrap();
        let carried = envelope.trace().unwrap();
        assert_eq!(carried.trace_id(), root.trace_id());
        assert_ne!(carried.to_string(), root.to_string());
    }

    #[test]
    fn unknown_envelope_fields_and_empty_keys_are_unreadable() {
        let envelope = Envelope::new(&probe(), None, None).unwrap();
        let mut value = serde_json::to_value(&envelope).unwrap();
        value["extra"] = serde_json::json!(1);
        assert!(Envelope::from_slice(value.to_string().as_bytes()).is_err());
        let mut value = serde_json::to_value(&envelope).unwrap();
        value["key"] = serde_json::json!("");
        assert!(Envelope::from_slice(value.to_string().as_bytes()).is_err());
        assert!(Envelope::from_slice(b"not json").is_err());
    }
}
