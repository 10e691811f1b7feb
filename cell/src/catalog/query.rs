//! The product list: filters, sorts and keyset pagination, parsed from the
//! query string and turned into one SQL statement with every value bound.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sqlx::{MySql, QueryBuilder};

use super::ProductsError;

pub const DEFAULT_LIMIT: u32 = 24;
pub const MAX_LIMIT: u32 = 100;

/// `GET /api/products` parameters, as sent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// A category slug; its subcategories' products are included.
    pub category: Option<String>,
    /// A brand slug.
    pub brand: Option<String>,
    /// Only products with a variant in this size…
    pub size: Option<String>,
    /// …and/or this colour (the same variant when both are given).
    pub colour: Option<String>,
    /// Lowest "from" price, minor units.
    pub min_price: Option<i64>,
    /// Highest "from" price, minor units.
    pub max_price: Option<i64>,
    /// Only products this cell can sell now or get more of.
    pub in_stock: Option<bool>,
    /// `newest` (default), `price_asc`, `price_desc`, `rating`, `title`.
    pub sort: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1-100, default 24.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Newest,
    PriceAsc,
    PriceDesc,
    Rating,
    Title,
}

impl Sort {
    fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }

    /// The column sorted on (besides the id) and whether it descends.
    fn key(self) -> (Option<&'static str>, bool) {
        match self {
            Sort::Newest => (None, true),
            Sort::PriceAsc => (Some("min_price"), false),
            Sort::PriceDesc => (Some("min_price"), true),
            Sort::Rating => (Some("rating_avg"), true),
            Sort::Title => (Some("title"), false),
        }
    }
}

/// Where the previous page ended: the sort it was made for, the last row's
/// sort value and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub s: Sort,
    pub v: serde_json::Value,
    pub i: u64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Option<Self> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).ok()?).ok()
    }
}

/// Checked parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    pub category: Option<String>,
    pub brand: Option<String>,
    pub size: Option<String>,
    pub colour: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: bool,
    pub sort: Sort,
    pub after: Option<Cursor>,
    pub limit: u32,
}

fn bad(message: impl Into<String>) -> ProductsError {
    ProductsError::InvalidQuery(message.into())
}

fn short(name: &str, value: Option<String>, max: usize) -> Result<Option<String>, ProductsError> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.is_empty() || v.chars().count() > max => {
            Err(bad(format!("{name}: 1-{max} characters")))
        }
        other => Ok(other),
    }
}

impl List {
    pub fn parse(params: ListParams) -> Result<Self, ProductsError> {
        let sort = match params.sort.as_deref() {
            None => Sort::Newest,
            Some(text) => Sort::parse(text)
                .ok_or_else(|| bad("sort: one of newest, price_asc, price_desc, rating, title"))?,
        };
        let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad(format!("limit: 1-{MAX_LIMIT}")));
        }
        for (name, price) in [
            ("min_price", params.min_price),
            ("max_price", params.max_price),
        ] {
            if price.is_some_and(|p| p < 0) {
                return Err(bad(format!("{name}: 0 or more (minor units)")));
            }
        }
        if let (Some(min), Some(max)) = (params.min_price, params.max_price)
            && min > max
        {
            return Err(bad("min_price is above max_price"));
        }
        let after = match params.cursor {
            None => None,
            Some(text) => {
                let cursor = Cursor::decode(&text).ok_or(ProductsError::InvalidCursor)?;
                if cursor.s != sort {
                    return Err(ProductsError::InvalidCursor);
                }
                Some(cursor)
            }
        };
        Ok(Self {
            category: short("category", params.category, 64)?,
            brand: short("brand", params.brand, 64)?,
            size: short("size", params.size, 32)?,
            colour: short("colour", params.colour, 32)?.map(|c| c.to_lowercase()),
            min_price: params.min_price,
            max_price: params.max_price,
            in_stock: params.in_stock.unwrap_or(false),
            sort,
            after,
            limit,
        })
    }

    /// A stable text for the cache key.
    pub fn cache_key(&self) -> String {
        format!(
            "list:{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{}|{}",
            self.category,
            self.brand,
            self.size,
            self.colour,
            self.min_price,
            self.max_price,
            self.in_stock,
            self.sort,
            self.after.as_ref().map(Cursor::encode).unwrap_or_default(),
            self.limit
        )
    }

    /// The statement: one more row than the limit, to know if a page follows.
    ///
    /// A category page is driven by `catalog_product_categories` (`t`), whose
    /// copies of the filtered and sorted columns make it one index range
    /// scan; a page across categories by `catalog_products` itself.
    pub fn sql(&self) -> QueryBuilder<MySql> {
        let (from, id) = if self.category.is_some() {
            (
                "catalog_product_categories t JOIN catalog_products p ON p.id = t.product_id",
                "t.product_id",
            )
        } else {
            (
                "catalog_products t JOIN catalog_products p ON p.id = t.id",
                "t.id",
            )
        };
        let mut q = QueryBuilder::<MySql>::new(
            "SELECT p.id, p.slug, p.title, p.brand_slug, p.brand_name, p.category_slug, p.category_name, \
             p.min_price, p.currency, p.compare_at, CAST(p.images AS CHAR) AS images, p.rating_avg, p.rating_count, \
             CAST(p.colours AS CHAR) AS colours, CAST(p.sizes AS CHAR) AS sizes, \
             EXISTS (SELECT 1 FROM catalog_variants sv JOIN cell_stock s ON s.sku = sv.sku \
                     WHERE sv.product_id = p.id AND (s.held > 0 OR s.global_hint > 0)) AS in_stock \
             FROM ",
        );
        q.push(from).push(" WHERE t.listed = TRUE");
        if let Some(category) = &self.category {
            q.push(" AND t.category_slug = ").push_bind(category);
        }
        if let Some(brand) = &self.brand {
            q.push(" AND t.brand_slug = ").push_bind(brand);
        }
        if self.size.is_some() || self.colour.is_some() {
            q.push(" AND EXISTS (SELECT 1 FROM catalog_variants v WHERE v.product_id = p.id");
            if let Some(size) = &self.size {
                q.push(" AND v.size = ").push_bind(size);
            }
            if let Some(colour) = &self.colour {
                q.push(" AND v.colour = ").push_bind(colour);
            }
            q.push(")");
        }
        if let Some(min) = self.min_price {
            q.push(" AND t.min_price >= ").push_bind(min);
        }
        if let Some(max) = self.max_price {
            q.push(" AND t.min_price <= ").push_bind(max);
        }
        if self.in_stock {
            q.push(
                " AND EXISTS (SELECT 1 FROM catalog_variants iv JOIN cell_stock i ON i.sku = iv.sku \
                 WHERE iv.product_id = p.id AND (i.held > 0 OR i.global_hint > 0))",
            );
        }
        let (column, descending) = self.sort.key();
        let (cmp, dir) = if descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some(after) = &self.after {
            match column {
                None => {
                    q.push(format!(" AND {id} {cmp} ")).push_bind(after.i);
                }
                Some(column) => {
                    q.push(format!(" AND (t.{column} {cmp} "));
                    push_value(&mut q, &after.v);
                    q.push(format!(" OR (t.{column} = "));
                    push_value(&mut q, &after.v);
                    q.push(format!(" AND {id} {cmp} "))
                        .push_bind(after.i)
                        .push("))");
                }
            }
        }
        match column {
            None => q.push(format!(" ORDER BY {id} {dir}")),
            Some(column) => q.push(format!(" ORDER BY t.{column} {dir}, {id} {dir}")),
        };
        q.push(" LIMIT ").push_bind(self.limit + 1);
        q
    }
}

fn push_value(q: &mut QueryBuilder<MySql>, value: &serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_i64() => {
            q.push_bind(n.as_i64().unwrap_or_default());
        }
        serde_json::Value::Number(n) => {
            q.push_bind(n.as_f64().unwrap_or_default() as f32);
        }
        serde_json::Value::String(s) => {
            q.push_bind(s.clone());
        }
        _ => {
            q.push("NULL");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<List, ProductsError> {
        let params: ListParams =
            serde_urlencoded::from_str(query).map_err(|e| bad(e.to_string()))?;
        List::parse(params)
    }

    #[test]
    fn defaults_and_bounds() {
        let list = parse("").unwrap();
        assert_eq!(
            (list.sort, list.limit, list.in_stock),
            (Sort::Newest, 24, false)
        );
        assert!(parse("limit=0").is_err());
        assert!(parse("limit=101").is_err());
        assert!(parse("sort=cheapest").is_err());
        assert!(parse("min_price=-1").is_err());
        assert!(parse("min_price=500&max_price=100").is_err());
        assert!(parse("colour=").is_err());
        assert!(
            parse("color=red").is_err(),
            "unknown parameters are refused"
        );
    }

    #[test]
    fn a_cursor_belongs_to_its_sort() {
        let cursor = Cursor {
            s: Sort::PriceAsc,
            v: serde_json::json!(4500),
            i: 7,
        }
        .encode();
        assert!(parse(&format!("sort=price_asc&cursor={cursor}")).is_ok());
        assert!(matches!(
            parse(&format!("sort=newest&cursor={cursor}")),
            Err(ProductsError::InvalidCursor)
        ));
        assert!(matches!(
            parse("cursor=not-a-cursor"),
            Err(ProductsError::InvalidCursor)
        ));
    }

    #[test]
    fn every_value_is_bound_never_spliced() {
        let list = parse("category=shirts'--&brand=x&size=M&colour=Navy&min_price=1&max_price=9&in_stock=true&sort=title").unwrap();
        let sql = list.sql().into_sql();
        let sql = sql.as_str();
        assert!(!sql.contains("shirts'"), "{sql}");
        assert!(sql.contains("v.colour = ?"), "{sql}");
        assert!(
            sql.contains("ORDER BY t.title ASC, t.product_id ASC"),
            "{sql}"
        );
        assert_eq!(list.colour.as_deref(), Some("navy"));
    }
}
