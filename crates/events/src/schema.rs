//! One JSON Schema per event type and version, shipped in `schemas/` and
//! compiled in. Every event is checked against its schema when it is written
//! to the outbox and again when a consumer reads it; an event of an unknown
//! type or version has no schema and fails both checks.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use jsonschema::Validator;

use crate::envelope::{Envelope, EnvelopeError};

/// `(type, version, schema text)` for every event the platform knows.
const SCHEMAS: &[(&str, u16, &str)] = &[
    (
        "ProbePublished",
        1,
        include_str!("../schemas/ProbePublished.v1.json"),
    ),
    (
        "UserRegistered",
        1,
        include_str!("../schemas/UserRegistered.v1.json"),
    ),
    (
        "UserLoggedIn",
        1,
        include_str!("../schemas/UserLoggedIn.v1.json"),
    ),
    (
        "PasswordChanged",
        1,
        include_str!("../schemas/PasswordChanged.v1.json"),
    ),
    (
        "ProductUpserted",
        1,
        include_str!("../schemas/ProductUpserted.v1.json"),
    ),
    (
        "ProductUpserted",
        2,
        include_str!("../schemas/ProductUpserted.v2.json"),
    ),
    (
        "ProductsViewed",
        1,
        include_str!("../schemas/ProductsViewed.v1.json"),
    ),
    (
        "TrendingUpdated",
        1,
        include_str!("../schemas/TrendingUpdated.v1.json"),
    ),
    (
        "ProductDeleted",
        1,
        include_str!("../schemas/ProductDeleted.v1.json"),
    ),
    (
        "StockAllocated",
        1,
        include_str!("../schemas/StockAllocated.v1.json"),
    ),
    (
        "StockRecalled",
        1,
        include_str!("../schemas/StockRecalled.v1.json"),
    ),
    (
        "StockHintUpdated",
        1,
        include_str!("../schemas/StockHintUpdated.v1.json"),
    ),
    ("StockSold", 1, include_str!("../schemas/StockSold.v1.json")),
    (
        "StockUnsold",
        1,
        include_str!("../schemas/StockUnsold.v1.json"),
    ),
    (
        "PromotionUpserted",
        1,
        include_str!("../schemas/PromotionUpserted.v1.json"),
    ),
    (
        "OrderStatusChanged",
        1,
        include_str!("../schemas/OrderStatusChanged.v1.json"),
    ),
    (
        "OrderPlaced",
        1,
        include_str!("../schemas/OrderPlaced.v1.json"),
    ),
    (
        "OrderConfirmed",
        1,
        include_str!("../schemas/OrderConfirmed.v1.json"),
    ),
    (
        "OrderCancelled",
        1,
        include_str!("../schemas/OrderCancelled.v1.json"),
    ),
    (
        "OrderRefunded",
        1,
        include_str!("../schemas/OrderRefunded.v1.json"),
    ),
    (
        "StockTopUpRequested",
        1,
        include_str!("../schemas/StockTopUpRequested.v1.json"),
    ),
    (
        "StockReturned",
        1,
        include_str!("../schemas/StockReturned.v1.json"),
    ),
    (
        "PromotionCapGranted",
        1,
        include_str!("../schemas/PromotionCapGranted.v1.json"),
    ),
    (
        "PromotionCapTopUpRequested",
        1,
        include_str!("../schemas/PromotionCapTopUpRequested.v1.json"),
    ),
    (
        "PromotionCapReturned",
        1,
        include_str!("../schemas/PromotionCapReturned.v1.json"),
    ),
];

#[derive(Debug, Clone)]
pub struct Schemas {
    validators: Arc<HashMap<(String, u16), Validator>>,
}

impl Schemas {
    /// The schemas compiled into this build (compiled once per process).
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<Schemas> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Self::from_sources(SCHEMAS.iter().map(|(t, v, s)| ((*t).to_owned(), *v, *s)))
                    .unwrap_or_else(|error| panic!("a built-in event schema is broken: {error}"))
            })
            .clone()
    }

    /// Compiles schemas from `(type, version, JSON text)`.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (String, u16, &'a str)>,
    ) -> Result<Self, String> {
        let mut validators = HashMap::new();
        for (event_type, version, text) in sources {
            let schema: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| format!("{event_type} v{version}: not JSON: {e}"))?;
            let validator = jsonschema::validator_for(&schema)
                .map_err(|e| format!("{event_type} v{version}: not a valid schema: {e}"))?;
            validators.insert((event_type, version), validator);
        }
        Ok(Self {
            validators: Arc::new(validators),
        })
    }

    /// Checks the envelope's `data` against its type's schema.
    pub fn check(&self, envelope: &Envelope) -> Result<(), EnvelopeError> {
        let fail = |reason: String| EnvelopeError::Data {
            event_type: envelope.event_type.clone(),
            version: envelope.version,
            reason,
        };
        let validator = self
            .validators
            .get(&(envelope.event_type.clone(), envelope.version))
            .ok_or_else(|| fail("no schema for this type and version (unknown event)".into()))?;
        let problems: Vec<String> = validator
            .iter_errors(&envelope.data)
            .take(5)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(fail(problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::events::ProbePublished;

    #[test]
    fn every_builtin_schema_compiles() {
        let schemas = Schemas::builtin();
        assert_eq!(schemas.validators.len(), SCHEMAS.len());
    }

    #[test]
    fn a_valid_event_passes() {
        let envelope = Envelope::new(
            &ProbePublished {
                run: "r".into(),
                sequence: 1,
            },
            None,
            None,
        )
        .unwrap();
        Schemas::builtin().check(&envelope).unwrap();
    }

    #[test]
    fn invalid_data_is_reported_with_where() {
        let mut envelope = Envelope::new(
            &ProbePublished {
                run: "r".into(),
                sequence: 1,
            },
            None,
            None,
        )
        .unwrap();
        envelope.data = serde_json::json!({"run": "", "sequence": -1});
        let error = Schemas::builtin().check(&envelope).unwrap_err().to_string();
        assert!(error.contains("ProbePublished v1"), "{error}");
        assert!(error.contains("/sequence"), "{error}");
    }

    #[test]
    fn an_unknown_version_has_no_schema() {
        let mut envelope = Envelope::new(
            &ProbePublished {
                run: "r".into(),
                sequence: 1,
            },
            None,
            None,
        )
        .unwrap();
        envelope.version = 9;
        let error = Schemas::builtin().check(&envelope).unwrap_err().to_string();
        assert!(error.contains("unknown event"), "{error}");
    }
}
