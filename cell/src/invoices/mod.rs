//! Invoices: one per confirmed order, issued inside the transaction that
//! confirms it, numbered `<prefix><sequence>` without gaps per cell (the
//! series counter is bumped in that transaction, so a confirmation that rolls
//! back gives its number back). What the invoice says is fixed at issue as a
//! [`Document`]; the PDF ([`pdf`]) is rendered from it and kept.

pub mod pdf;
pub mod tax;

use serde::{Deserialize, Serialize};
use sqlx::{MySqlConnection, MySqlPool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::orders::{Line, Order};

/// Who issues the invoices, and how they are numbered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSettings {
    /// Numbers are `<prefix><sequence>`; empty: `CW-<CELL ID>-`.
    pub prefix: String,
    pub seller_name: String,
    pub seller_address: Vec<String>,
    /// The seller's VAT registration, printed on every invoice.
    pub seller_tax_id: String,
}

impl InvoiceSettings {
    pub fn check(&self) -> Result<(), String> {
        let prefix_ok = self.prefix.len() <= 24
            && self
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/');
        if !prefix_ok {
            return Err("invoices.prefix: up to 24 letters, digits, - and /".into());
        }
        if self.seller_name.trim().is_empty() || self.seller_address.is_empty() {
            return Err("invoices.seller_name and invoices.seller_address: the seller's name and address lines".into());
        }
        Ok(())
    }

    /// The series this cell numbers in.
    pub fn series(&self, cell: &str) -> String {
        if self.prefix.is_empty() {
            format!("CW-{}-", cell.to_ascii_uppercase())
        } else {
            self.prefix.clone()
        }
    }
}

/// A party on the invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub lines: Vec<String>,
    pub email: Option<String>,
    pub tax_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLine {
    pub sku: String,
    pub description: String,
    pub quantity: u32,
    pub unit_price_minor: i64,
    pub total_minor: i64,
}

/// What an invoice says, fixed when it is issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub number: String,
    pub issued_at: String,
    pub order_id: String,
    pub seller: Party,
    pub buyer: Party,
    pub currency: String,
    pub lines: Vec<DocumentLine>,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub shipping_minor: i64,
    pub total_minor: i64,
    pub tax: tax::Breakdown,
}

#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    /// The order has no invoice (not paid, or paid before invoices).
    #[error("This order has no invoice yet: invoices are issued once the payment is confirmed.")]
    NotIssued,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for InvoiceError {
    fn from(error: sqlx::Error) -> Self {
        InvoiceError::Unexpected(error.into())
    }
}

/// Makes sure `series` has its counter row, outside any transaction (the
/// cell does it at start). Taking numbers then only ever updates that row,
/// so concurrent takers queue on its lock instead of deadlocking over
/// inserting it.
pub async fn ensure_series(pool: &MySqlPool, series: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT IGNORE INTO invoice_series (series, last_number) VALUES (?, 0)")
        .bind(series)
        .execute(pool)
        .await?;
    Ok(())
}

/// The next number of `series`, taken in the caller's transaction (which
/// holds the series' row lock until it ends).
pub async fn next_number(conn: &mut MySqlConnection, series: &str) -> Result<u64, sqlx::Error> {
    let bumped =
        sqlx::query("UPDATE invoice_series SET last_number = last_number + 1 WHERE series = ?")
            .bind(series)
            .execute(&mut *conn)
            .await?;
    if bumped.rows_affected() == 0 {
        // Not provisioned (a new prefix since start): made here; the first
        // takers of a brand-new series may collide once and be retried.
        sqlx::query(
            "INSERT INTO invoice_series (series, last_number) VALUES (?, 1) ON DUPLICATE KEY UPDATE last_number = last_number + 1",
        )
        .bind(series)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query_scalar("SELECT last_number FROM invoice_series WHERE series = ?")
        .bind(series)
        .fetch_one(&mut *conn)
        .await
}

/// Issues the invoice of `order` (just confirmed) in the caller's
/// transaction; take it last, so the series stays locked briefly.
pub async fn issue(
    conn: &mut MySqlConnection,
    settings: &InvoiceSettings,
    cell: &str,
    order: &Order,
    lines: &[Line],
) -> Result<Document, sqlx::Error> {
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = ?")
        .bind(&order.user_id)
        .fetch_optional(&mut *conn)
        .await?;
    let series = settings.series(cell);
    let sequence = next_number(conn, &series).await?;
    let number = format!("{series}{sequence:08}");
    let issued_at = OffsetDateTime::now_utc();
    let document = document(settings, order, lines, email, &number, issued_at);
    let json = serde_json::to_string(&document).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO invoices (number, series, sequence, order_id, issued_at, document) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&number)
    .bind(&series)
    .bind(sequence)
    .bind(&order.id)
    .bind(issued_at)
    .bind(json)
    .execute(&mut *conn)
    .await?;
    Ok(document)
}

fn document(
    settings: &InvoiceSettings,
    order: &Order,
    lines: &[Line],
    email: Option<String>,
    number: &str,
    issued_at: OffsetDateTime,
) -> Document {
    let address = &order.address;
    let buyer_lines = [
        Some(address.line1.clone()),
        address.line2.clone(),
        Some(match &address.region {
            Some(region) => format!("{} {}, {region}", address.postcode, address.city),
            None => format!("{} {}", address.postcode, address.city),
        }),
        Some(address.country.clone()),
    ]
    .into_iter()
    .flatten()
    .filter(|l| !l.trim().is_empty())
    .collect();
    Document {
        number: number.to_owned(),
        issued_at: issued_at.format(&Rfc3339).unwrap_or_default(),
        order_id: order.id.clone(),
        seller: Party {
            name: settings.seller_name.clone(),
            lines: settings.seller_address.clone(),
            email: None,
            tax_id: (!settings.seller_tax_id.is_empty()).then(|| settings.seller_tax_id.clone()),
        },
        buyer: Party {
            name: address.full_name.clone(),
            lines: buyer_lines,
            email,
            tax_id: None,
        },
        currency: order.currency.clone(),
        lines: lines
            .iter()
            .map(|l| DocumentLine {
                sku: l.sku.clone(),
                description: format!("{} ({}, {})", l.title, l.size, l.colour),
                quantity: l.quantity,
                unit_price_minor: l.unit_price_minor,
                total_minor: l.unit_price_minor * i64::from(l.quantity),
            })
            .collect(),
        subtotal_minor: order.subtotal_minor,
        discount_minor: order.discount_minor,
        shipping_minor: order.shipping_minor,
        total_minor: order.total_minor,
        tax: tax::breakdown(&address.country, order.total_minor),
    }
}

/// An invoice as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub number: String,
    pub order_id: String,
    pub pdf: Vec<u8>,
}

/// Reads invoices and renders their PDFs (once; kept afterwards).
#[derive(Debug, Clone)]
pub struct Invoices {
    pool: MySqlPool,
}

impl Invoices {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// The invoice of order `order_id`, its PDF rendered and kept on first
    /// use. The caller has checked who may see it.
    pub async fn for_order(&self, order_id: &str) -> Result<Stored, InvoiceError> {
        let row: Option<(String, String, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT number, CAST(document AS CHAR), pdf FROM invoices WHERE order_id = ?",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        let (number, document, pdf) = row.ok_or(InvoiceError::NotIssued)?;
        if let Some(pdf) = pdf {
            return Ok(Stored {
                number,
                order_id: order_id.to_owned(),
                pdf,
            });
        }
        let document: Document = serde_json::from_str(&document)
            .map_err(|e| anyhow::anyhow!("invoice {number}: {e}"))?;
        let pdf = pdf::render(&document);
        sqlx::query("UPDATE invoices SET pdf = ? WHERE number = ? AND pdf IS NULL")
            .bind(&pdf)
            .bind(&number)
            .execute(&self.pool)
            .await?;
        Ok(Stored {
            number,
            order_id: order_id.to_owned(),
            pdf,
        })
    }

    /// The number of order `order_id`'s invoice, if it has one.
    pub async fn number_of(&self, order_id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT number FROM invoices WHERE order_id = ?")
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
    }
}

/// `1234` in `GBP` → `GBP 12.34`; currencies without minor units
/// (JPY, KRW) print whole.
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if matches!(currency, "JPY" | "KRW") {
        return format!("{sign}{currency} {abs}");
    }
    format!("{sign}{currency} {}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_prints_minor_units() {
        assert_eq!(money(1234, "GBP"), "GBP 12.34");
        assert_eq!(money(-500, "EUR"), "-EUR 5.00");
        assert_eq!(money(7, "USD"), "USD 0.07");
        assert_eq!(money(1500, "JPY"), "JPY 1500");
    }

    #[test]
    fn series_default_to_the_cell() {
        let settings = InvoiceSettings {
            prefix: String::new(),
            seller_name: "Cellwear Ltd".into(),
            seller_address: vec!["1 Savile Row".into()],
            seller_tax_id: String::new(),
        };
        assert_eq!(settings.series("cell-0"), "CW-CELL-0-");
        assert!(settings.check().is_ok());
        let bad = InvoiceSettings {
            prefix: "no spaces".into(),
            ..settings
        };
        assert!(bad.check().is_err());
    }
}
