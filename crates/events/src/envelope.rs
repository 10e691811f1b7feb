//! The envelope every event travels in: `{id, type, version, occurred_at,
//! cell, key, traceparent, data}` (DESIGN.md §4).

use serde::{Deserialize, Serialize};
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

/// A W3C `traceparent` (`00-<trace id>-<parent span id>-<flags>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traceparent {
    trace_id: u128,
    span_id: u64,
    sampled: bool,
}

impl Traceparent {
    /// A new trace.
    pub fn root() -> Self {
        let (high, low) = Uuid::new_v4().as_u64_pair();
        Self {
            trace_id: (u128::from(high) << 64) | u128::from(low),
            span_id: Uuid::new_v4().as_u64_pair().0,
            sampled: true,
        }
    }

    /// The same trace, a new span: what the next hop carries.
    pub fn child(&self) -> Self {
        Self {
            span_id: Uuid::new_v4().as_u64_pair().0,
            ..*self
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || version != "00"
            || trace.len() != 32
            || span.len() != 16
            || flags.len() != 2
        {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok().filter(|id| *id != 0)?;
        let span_id = u64::from_str_radix(span, 16).ok().filter(|id| *id != 0)?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.trace_id)
    }
}

impl std::fmt::Display for Traceparent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
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
    fn traceparents_parse_strictly() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(Traceparent::parse(text).unwrap().to_string(), text);
        assert!(
            Traceparent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none()
        );
        assert!(
            Traceparent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none()
        );
        assert!(Traceparent::parse("garbage").is_none());
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
