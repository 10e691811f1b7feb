//! A cart's lines priced now: today's price from the catalog read model,
//! this cell's stock, and what is wrong with each line. Cart reads and every
//! checkout step go through here, so a shopper never pays a price they were
//! not shown.

use serde::Deserialize;
use sqlx::MySqlConnection;
use wire::cart::{CartLine, CartView, HandedLine};

use crate::stock::availability;

/// One cart line with what the catalog and the stock say about it now.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    pub sku: String,
    pub quantity: u32,
    pub price_seen_minor: i64,
    /// `None` when the SKU is no longer sold.
    pub item: Option<Item>,
    pub held: u32,
    pub global_hint: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub product_id: u64,
    pub slug: Option<String>,
    pub title: String,
    pub size: String,
    pub colour: String,
    pub price_minor: i64,
    pub currency: String,
    pub image: Option<String>,
    /// Brand slug and category slugs from the top down (promotion scopes).
    pub brand: String,
    pub categories: Vec<String>,
}

impl Priced {
    /// What stops this line being bought as it is.
    pub fn blocking_problem(&self) -> Option<&'static str> {
        if self.item.is_none() {
            Some("unavailable")
        } else if self.held == 0 {
            Some("out_of_stock")
        } else if self.held < self.quantity {
            Some("not_enough_stock")
        } else {
            None
        }
    }

    pub fn price_changed(&self) -> bool {
        self.item
            .as_ref()
            .is_some_and(|item| item.price_minor != self.price_seen_minor)
    }

    pub fn line_total(&self) -> i64 {
        self.item
            .as_ref()
            .map_or(0, |item| item.price_minor * i64::from(self.quantity))
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    sku: String,
    product_id: Option<u64>,
    slug: Option<String>,
    title: Option<String>,
    size: Option<String>,
    colour: Option<String>,
    price_minor: Option<i64>,
    currency: Option<String>,
    images: Option<String>,
    brand_slug: Option<String>,
    categories: Option<String>,
    held: Option<u32>,
    global_hint: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Image {
    url: String,
}

#[derive(Debug, Deserialize)]
struct Slugged {
    slug: String,
}

/// The lines of cart `cart_id`, oldest first, priced now.
pub async fn lines(conn: &mut MySqlConnection, cart_id: &str) -> Result<Vec<Priced>, sqlx::Error> {
    let held = super::repo::handed(conn, cart_id).await?;
    price(conn, &held).await
}

/// `lines` (as a cart holds them, perhaps from the cart cache) priced now,
/// in the same order: one look-up of all their SKUs.
pub async fn price(
    conn: &mut MySqlConnection,
    lines: &[HandedLine],
) -> Result<Vec<Priced>, sqlx::Error> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let skus = serde_json::to_string(&skus).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let rows: Vec<Row> = sqlx::query_as(
        r#"SELECT j.sku,
                  v.product_id, p.slug, p.title, v.size, v.colour, v.price_minor, v.currency,
                  CAST(p.images AS CHAR) AS images, p.brand_slug,
                  CAST(p.categories AS CHAR) AS categories, s.held, s.global_hint
           FROM JSON_TABLE(?, '$[*]' COLUMNS (
                    ord FOR ORDINALITY,
                    sku VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin PATH '$')) j
           LEFT JOIN catalog_variants v ON v.sku = j.sku
           LEFT JOIN catalog_products p ON p.id = v.product_id AND p.listed
           LEFT JOIN cell_stock s ON s.sku = j.sku
           ORDER BY j.ord"#,
    )
    .bind(skus)
    .fetch_all(&mut *conn)
    .await?;
    if rows.len() != lines.len() || rows.iter().zip(lines).any(|(r, l)| r.sku != l.sku) {
        return Err(sqlx::Error::Protocol(format!(
            "pricing {} cart lines read back {} rows",
            lines.len(),
            rows.len()
        )));
    }
    Ok(rows
        .into_iter()
        .zip(lines)
        .map(|(row, line)| priced(row, line))
        .collect())
}

fn priced(row: Row, line: &HandedLine) -> Priced {
    let item = match (
        row.product_id,
        row.title,
        row.size,
        row.colour,
        row.price_minor,
        row.currency,
    ) {
        (Some(product_id), Some(title), Some(size), Some(colour), Some(price), Some(currency)) => {
            Some(Item {
                product_id,
                slug: row.slug,
                title,
                size,
                colour,
                price_minor: price,
                currency,
                image: row
                    .images
                    .and_then(|json| serde_json::from_str::<Vec<Image>>(&json).ok())
                    .and_then(|images| images.into_iter().next().map(|i| i.url)),
                brand: row.brand_slug.unwrap_or_default(),
                categories: row
                    .categories
                    .and_then(|json| serde_json::from_str::<Vec<Slugged>>(&json).ok())
                    .map(|all| all.into_iter().map(|c| c.slug).collect())
                    .unwrap_or_default(),
            })
        }
        _ => None,
    };
    Priced {
        sku: row.sku,
        quantity: line.quantity,
        price_seen_minor: line.price_seen_minor,
        item,
        held: row.held.unwrap_or(0),
        global_hint: row.global_hint.unwrap_or(0),
    }
}

/// The shopper's view of `lines`; `low_stock` as in the catalog.
pub fn view(lines: &[Priced], low_stock: u32) -> CartView {
    let mut items = Vec::with_capacity(lines.len());
    let mut subtotal = 0;
    let mut count = 0;
    let mut ready = !lines.is_empty();
    let mut currency = None;
    for line in lines {
        let mut problems = Vec::new();
        if line.price_changed() {
            problems.push("price_changed".to_owned());
        }
        if let Some(problem) = line.blocking_problem() {
            problems.push(problem.to_owned());
            ready = false;
        } else {
            subtotal += line.line_total();
        }
        count += line.quantity;
        let item = line.item.clone();
        if currency.is_none() {
            currency = item.as_ref().map(|i| i.currency.clone());
        }
        items.push(CartLine {
            sku: line.sku.clone(),
            product_slug: item.as_ref().and_then(|i| i.slug.clone()),
            title: item
                .as_ref()
                .map_or_else(|| "No longer available".to_owned(), |i| i.title.clone()),
            size: item.as_ref().map(|i| i.size.clone()).unwrap_or_default(),
            colour: item.as_ref().map(|i| i.colour.clone()).unwrap_or_default(),
            image: item.as_ref().and_then(|i| i.image.clone()),
            quantity: line.quantity,
            unit_price_minor: item.as_ref().map_or(0, |i| i.price_minor),
            line_total_minor: line.line_total(),
            currency: item
                .as_ref()
                .map(|i| i.currency.clone())
                .unwrap_or_default(),
            availability: availability(line.held, line.global_hint, low_stock),
            previous_price_minor: line.price_changed().then_some(line.price_seen_minor),
            problems,
        });
    }
    CartView {
        items,
        item_count: count,
        currency,
        subtotal_minor: subtotal,
        coupon: None,
        discount: None,
        coupon_problem: None,
        total_minor: subtotal,
        ready_for_checkout: ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: u32, held: u32, seen: i64, price: Option<i64>) -> Priced {
        Priced {
            sku: "S".into(),
            quantity,
            price_seen_minor: seen,
            item: price.map(|price_minor| Item {
                product_id: 1,
                slug: Some("s".into()),
                title: "Shirt".into(),
                size: "M".into(),
                colour: "navy".into(),
                price_minor,
                currency: "GBP".into(),
                image: None,
                brand: "acme".into(),
                categories: vec!["shirts".into()],
            }),
            held,
            global_hint: 0,
        }
    }

    #[test]
    fn each_problem_is_named_and_only_stock_and_availability_block() {
        let cart = view(
            &[
                line(2, 5, 1000, Some(1200)),
                line(1, 0, 500, Some(500)),
                line(3, 2, 500, Some(500)),
                line(1, 9, 500, None),
            ],
            3,
        );
        let problems: Vec<_> = cart.items.iter().map(|i| i.problems.clone()).collect();
        assert_eq!(
            problems,
            vec![
                vec!["price_changed".to_owned()],
                vec!["out_of_stock".to_owned()],
                vec!["not_enough_stock".to_owned()],
                vec!["unavailable".to_owned()],
            ]
        );
        assert_eq!(cart.items[0].previous_price_minor, Some(1000));
        assert_eq!(cart.subtotal_minor, 2400);
        assert!(!cart.ready_for_checkout);
        assert!(view(&[line(2, 5, 1000, Some(1200))], 3).ready_for_checkout);
        assert!(!view(&[], 3).ready_for_checkout);
    }
}
