//! Promotions and coupons, owned here and replicated to every cell with the
//! catalog (DESIGN.md §2): each change bumps the promotion's version and
//! writes its whole snapshot (`PromotionUpserted`) to the outbox for the
//! compacted `catalog` topic, so a new cell learns every promotion in its
//! rebuild. A global cap is shared out to the cells like stock ([`caps`]):
//! each cell never uses more than its share, so the cap holds without a
//! call out of the cell at checkout, and busy cells ask for more.

pub mod caps;
pub mod routes;

use events::{Schemas, outbox};
use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::events::PromotionUpserted;
use wire::promotions::{PromotionInput, PromotionKind, PromotionSnapshot};

use crate::audit;
use crate::catalog::validate::CURRENCIES;

pub const MAX_SCOPE: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("No brand has the slug \"{0}\".")]
    UnknownBrand(String),
    #[error("No category has the slug \"{0}\".")]
    UnknownCategory(String),
    #[error("Another promotion has the code {0}.")]
    CodeTaken(String),
    #[error("No promotion has this id.")]
    NotFound,
    #[error(transparent)]
    Cap(#[from] caps::CapError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl PromotionError {
    pub fn code(&self) -> &'static str {
        match self {
            PromotionError::Invalid { code, .. } => code,
            PromotionError::UnknownBrand(_) => "unknown_brand",
            PromotionError::UnknownCategory(_) => "unknown_category",
            PromotionError::CodeTaken(_) => "code_taken",
            PromotionError::NotFound => "promotion_not_found",
            PromotionError::Cap(caps::CapError::BelowShared { .. }) => "cap_below_shared",
            PromotionError::Cap(_) => "internal",
            PromotionError::Unexpected(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for PromotionError {
    fn from(error: sqlx::Error) -> Self {
        PromotionError::Unexpected(error.into())
    }
}

impl From<outbox::EnqueueError> for PromotionError {
    fn from(error: outbox::EnqueueError) -> Self {
        PromotionError::Unexpected(error.into())
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> PromotionError {
    PromotionError::Invalid {
        code,
        message: message.into(),
    }
}

fn instant(field: &str, text: &str) -> Result<OffsetDateTime, PromotionError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        invalid(
            "invalid_time",
            format!("{field}: an RFC 3339 time such as 2026-12-01T00:00:00Z"),
        )
    })
}

/// `input` checked and normalised (code upper-cased, times in UTC, scope
/// sorted and deduplicated); brands and categories are checked against the
/// catalog by [`Promotions`].
pub fn validate(mut input: PromotionInput) -> Result<PromotionInput, PromotionError> {
    if let Some(code) = &input.code {
        let code = code.trim().to_ascii_uppercase();
        if !(3..=32).contains(&code.len())
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "invalid_code",
                "code: 3-32 letters, digits, '-' or '_'",
            ));
        }
        input.code = Some(code);
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "invalid_text",
            "name: 1-100 characters of text, no control characters",
        ));
    }
    input.name = name.to_owned();
    match input.kind {
        PromotionKind::Percentage if !(1..=100).contains(&input.value) => {
            return Err(invalid(
                "invalid_value",
                "value: a percentage from 1 to 100",
            ));
        }
        PromotionKind::FixedAmount if !(1..=100_000_000).contains(&input.value) => {
            return Err(invalid(
                "invalid_value",
                "value: an amount in minor units from 1 to 100000000",
            ));
        }
        PromotionKind::FreeShipping if input.value != 0 => {
            return Err(invalid("invalid_value", "value: 0 for free shipping"));
        }
        _ => {}
    }
    if !(0..=100_000_000).contains(&input.min_spend_minor) {
        return Err(invalid(
            "invalid_min_spend",
            "min_spend_minor: 0 to 100000000 minor units",
        ));
    }
    let needs_currency = input.kind == PromotionKind::FixedAmount || input.min_spend_minor > 0;
    match &input.currency {
        Some(currency) if !CURRENCIES.contains(&currency.as_str()) => {
            return Err(invalid(
                "invalid_currency",
                format!("currency: one of {}", CURRENCIES.join(", ")),
            ));
        }
        None if needs_currency => {
            return Err(invalid(
                "invalid_currency",
                "currency: required for a fixed amount or a minimum spend",
            ));
        }
        _ => {}
    }
    for (field, scope) in [
        ("categories", &mut input.categories),
        ("brands", &mut input.brands),
    ] {
        scope.sort();
        scope.dedup();
        if scope.len() > MAX_SCOPE {
            return Err(invalid(
                "invalid_scope",
                format!("{field}: at most {MAX_SCOPE}"),
            ));
        }
        for slug in scope.iter() {
            crate::catalog::validate::slug(field, slug, 64)
                .map_err(|e| invalid("invalid_scope", e.to_string()))?;
        }
    }
    let starts = instant("starts_at", &input.starts_at)?;
    input.starts_at = rfc3339(starts);
    if let Some(ends_at) = &input.ends_at {
        let ends = instant("ends_at", ends_at)?;
        if ends <= starts {
            return Err(invalid("invalid_window", "ends_at: after starts_at"));
        }
        input.ends_at = Some(rfc3339(ends));
    }
    if input.per_shopper_limit == Some(0) || input.per_shopper_limit > Some(1000) {
        return Err(invalid(
            "invalid_limit",
            "per_shopper_limit: 1-1000 orders, or null for none",
        ));
    }
    if input.global_cap == Some(0) || input.global_cap > Some(100_000_000) {
        return Err(invalid(
            "invalid_limit",
            "global_cap: 1-100000000 orders, or null for none",
        ));
    }
    Ok(input)
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct Promotions {
    pool: MySqlPool,
    schemas: Schemas,
    /// `catalog`, where snapshots go (prefixed).
    topic: String,
    /// `allocations`, where shares of caps go (prefixed).
    allocations: String,
}

impl Promotions {
    pub fn new(pool: MySqlPool, topic: String, allocations: String) -> Self {
        Self {
            pool,
            schemas: Schemas::builtin(),
            topic,
            allocations,
        }
    }

    pub async fn create(
        &self,
        actor: &str,
        input: PromotionInput,
    ) -> Result<PromotionSnapshot, PromotionError> {
        let input = validate(input)?;
        let mut tx = self.pool.begin().await?;
        check_scope(&mut tx, &input).await?;
        let id =
            sqlx::query("INSERT INTO promotions (code, version, snapshot) VALUES (?, 0, '{}')")
                .bind(&input.code)
                .execute(&mut *tx)
                .await
                .map_err(|e| taken(e, &input))?
                .last_insert_id();
        let promotion = self.write(&mut tx, id, 1, input).await?;
        audit::record(
            &mut tx,
            actor,
            "promotion.create",
            &subject(id),
            &serde_json::to_value(&promotion).map_err(anyhow::Error::from)?,
        )
        .await?;
        tx.commit().await?;
        Ok(promotion)
    }

    /// Replaces promotion `id` with `input` (a new version; each cell's
    /// share of the cap is worked out again).
    pub async fn replace(
        &self,
        actor: &str,
        id: u64,
        input: PromotionInput,
    ) -> Result<PromotionSnapshot, PromotionError> {
        let input = validate(input)?;
        let mut tx = self.pool.begin().await?;
        let version: Option<u64> =
            sqlx::query_scalar("SELECT version FROM promotions WHERE id = ? FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let version = version.ok_or(PromotionError::NotFound)?;
        check_scope(&mut tx, &input).await?;
        sqlx::query("UPDATE promotions SET code = ? WHERE id = ?")
            .bind(&input.code)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| taken(e, &input))?;
        let promotion = self.write(&mut tx, id, version + 1, input).await?;
        audit::record(
            &mut tx,
            actor,
            "promotion.replace",
            &subject(id),
            &serde_json::to_value(&promotion).map_err(anyhow::Error::from)?,
        )
        .await?;
        tx.commit().await?;
        Ok(promotion)
    }

    async fn write(
        &self,
        conn: &mut MySqlConnection,
        id: u64,
        version: u64,
        input: PromotionInput,
    ) -> Result<PromotionSnapshot, PromotionError> {
        let cell_caps = caps::share_out(
            &mut *conn,
            (&self.schemas, &self.allocations),
            (id, version == 1),
            input.global_cap,
        )
        .await?;
        let promotion = PromotionSnapshot {
            id,
            version,
            code: input.code,
            name: input.name,
            kind: input.kind,
            value: input.value,
            currency: input.currency,
            min_spend_minor: input.min_spend_minor,
            categories: input.categories,
            brands: input.brands,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            per_shopper_limit: input.per_shopper_limit,
            global_cap: input.global_cap,
            cell_caps,
            active: input.active,
            updated_at: rfc3339(OffsetDateTime::now_utc()),
        };
        sqlx::query("UPDATE promotions SET version = ?, snapshot = ? WHERE id = ?")
            .bind(version)
            .bind(serde_json::to_string(&promotion).map_err(anyhow::Error::from)?)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        outbox::enqueue_payload(
            conn,
            &self.schemas,
            &self.topic,
            None,
            &PromotionUpserted {
                promotion: promotion.clone(),
            },
        )
        .await?;
        Ok(promotion)
    }

    pub async fn get(&self, id: u64) -> Result<PromotionSnapshot, PromotionError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT CAST(snapshot AS CHAR) FROM promotions WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        parse(&json.ok_or(PromotionError::NotFound)?)
    }

    /// Every promotion, newest first.
    pub async fn list(&self) -> Result<Vec<PromotionSnapshot>, PromotionError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(snapshot AS CHAR) FROM promotions ORDER BY id DESC LIMIT 1000",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|json| parse(json)).collect()
    }
}

fn parse(json: &str) -> Result<PromotionSnapshot, PromotionError> {
    serde_json::from_str(json).map_err(|e| PromotionError::Unexpected(e.into()))
}

fn subject(id: u64) -> String {
    format!("promotion:{id}")
}

fn taken(error: sqlx::Error, input: &PromotionInput) -> PromotionError {
    if crate::catalog::is_unique_violation(&error) {
        PromotionError::CodeTaken(input.code.clone().unwrap_or_default())
    } else {
        error.into()
    }
}

/// Every brand and category in scope exists in the catalog.
async fn check_scope(
    conn: &mut MySqlConnection,
    input: &PromotionInput,
) -> Result<(), PromotionError> {
    for brand in &input.brands {
        let found: Option<u64> = sqlx::query_scalar("SELECT id FROM brands WHERE slug = ?")
            .bind(brand)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(PromotionError::UnknownBrand(brand.clone()));
        }
    }
    for category in &input.categories {
        let found: Option<u64> = sqlx::query_scalar("SELECT id FROM categories WHERE slug = ?")
            .bind(category)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(PromotionError::UnknownCategory(category.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PromotionInput {
        PromotionInput {
            code: Some(" winter15 ".into()),
            name: " Winter ".into(),
            kind: PromotionKind::Percentage,
            value: 15,
            currency: None,
            min_spend_minor: 0,
            categories: vec!["knitwear".into(), "knitwear".into()],
            brands: Vec::new(),
            starts_at: "2026-12-01T01:00:00+01:00".into(),
            ends_at: None,
            per_shopper_limit: Some(1),
            global_cap: None,
            active: true,
        }
    }

    #[test]
    fn a_good_promotion_is_normalised() {
        let valid = validate(input()).unwrap();
        assert_eq!(valid.code.as_deref(), Some("WINTER15"));
        assert_eq!(valid.name, "Winter");
        assert_eq!(valid.categories, ["knitwear"]);
        assert_eq!(valid.starts_at, "2026-12-01T00:00:00Z");
    }

    #[test]
    fn each_rule_has_its_code() {
        type Change = fn(&mut PromotionInput);
        let cases: Vec<(Change, &str)> = vec![
            (|p| p.code = Some("a b".into()), "invalid_code"),
            (|p| p.code = Some("AB".into()), "invalid_code"),
            (|p| p.name = " ".into(), "invalid_text"),
            (|p| p.value = 101, "invalid_value"),
            (|p| p.value = 0, "invalid_value"),
            (
                |p| {
                    p.kind = PromotionKind::FixedAmount;
                    p.value = 500;
                },
                "invalid_currency",
            ),
            (
                |p| {
                    p.kind = PromotionKind::FreeShipping;
                    p.value = 5;
                },
                "invalid_value",
            ),
            (|p| p.min_spend_minor = 5000, "invalid_currency"),
            (|p| p.currency = Some("XYZ".into()), "invalid_currency"),
            (|p| p.min_spend_minor = -1, "invalid_min_spend"),
            (
                |p| p.categories = vec!["Not A Slug".into()],
                "invalid_scope",
            ),
            (|p| p.starts_at = "tomorrow".into(), "invalid_time"),
            (
                |p| p.ends_at = Some("2026-11-30T00:00:00Z".into()),
                "invalid_window",
            ),
            (|p| p.per_shopper_limit = Some(0), "invalid_limit"),
            (|p| p.global_cap = Some(0), "invalid_limit"),
        ];
        for (change, code) in cases {
            let mut promotion = input();
            change(&mut promotion);
            let error = validate(promotion).unwrap_err();
            assert_eq!(error.code(), code, "{error}");
        }
    }
}
