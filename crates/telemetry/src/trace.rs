//! Trace context that crosses process boundaries: the W3C `traceparent`
//! the edge starts (or continues from the client), each cell's HTTP layer
//! takes up, and the event envelope carries on through Kafka. While a request
//! or an event is handled, [`within`] makes its trace the current one, so an
//! event written then continues it ([`current`]) without every service
//! passing it along.

use std::future::Future;

use uuid::Uuid;

/// The header the trace travels in over HTTP.
pub const TRACEPARENT: &str = "traceparent";

tokio::task_local! {
    static CURRENT: Traceparent;
}

/// The trace of the request or event being handled on this task, if any.
pub fn current() -> Option<Traceparent> {
    CURRENT.try_with(|trace| *trace).ok()
}

/// Runs `work` with `trace` as the current trace.
pub async fn within<F: Future>(trace: Traceparent, work: F) -> F::Output {
    CURRENT.scope(trace, work).await
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
    fn a_child_keeps_the_trace_and_its_flags() {
        let parent =
            Traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap();
        let child = parent.child();
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_ne!(child, parent);
        assert!(child.to_string().ends_with("-00"));
    }

    #[tokio::test]
    async fn the_current_trace_is_the_scoped_one() {
        assert_eq!(current(), None);
        let trace = Traceparent::root();
        assert_eq!(within(trace, async { current() }).await, Some(trace));
        assert_eq!(current(), None);
    }
}
