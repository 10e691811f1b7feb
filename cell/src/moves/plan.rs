//! What of a cell's data belongs to one shopper, table by table, and how it
//! is read out, written in and deleted.
//!
//! [`PLAN`] lists every table a shopper owns rows of, parents before
//! children, each with the condition that picks one shopper's rows (every
//! `?` in it is the shopper key). [`CELL_TABLES`] lists the cell's own
//! tables (catalog, stock, search, events…), which never move. A test checks
//! that every table of the schema is in exactly one of the two, so a new
//! table cannot be forgotten by a drain.
//!
//! Rows travel as JSON arrays made by MariaDB itself (`JSON_ARRAY`), binary
//! columns as hex; auto-increment ids and generated columns stay behind (the
//! receiving cell numbers and computes its own), and so do caches that are
//! rebuilt on demand (an invoice's rendered PDF).

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{MySql, MySqlConnection, QueryBuilder};
use wire::moves::{SessionCopy, TableRows};

use crate::cart::Owner;

const BY_ACCOUNT: &str = "user_id IN (SELECT id FROM users WHERE shopper_key = ?)";
const BY_OWNER: &str = "(owner = CONCAT('guest:', ?) OR owner IN (SELECT CONCAT('user:', id) FROM users WHERE shopper_key = ?))";
const BY_SCOPE: &str = "(scope = CONCAT('guest:', ?) OR scope IN (SELECT CONCAT('user:', id) FROM users WHERE shopper_key = ?))";
const BY_CART: &str = "cart_id IN (SELECT id FROM carts WHERE owner = CONCAT('guest:', ?) OR owner IN (SELECT CONCAT('user:', id) FROM users WHERE shopper_key = ?))";
const BY_ORDER: &str = "order_id IN (SELECT id FROM orders WHERE shopper_key = ? OR user_id IN (SELECT id FROM users WHERE shopper_key = ?))";
const OWN_ORDERS: &str =
    "(shopper_key = ? OR user_id IN (SELECT id FROM users WHERE shopper_key = ?))";

/// One table of a shopper's data.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    pub table: &'static str,
    /// Picks the shopper's rows; each `?` is the shopper key.
    pub filter: &'static str,
    /// Columns that stay behind besides ids and generated columns.
    pub left_behind: &'static [&'static str],
}

const fn part(table: &'static str, filter: &'static str) -> Part {
    Part {
        table,
        filter,
        left_behind: &[],
    }
}

/// A shopper's tables, parents first.
pub const PLAN: [Part; 20] = [
    part("users", "shopper_key = ?"),
    part("auth_audit", BY_ACCOUNT),
    part("email_changes", BY_ACCOUNT),
    part("addresses", BY_ACCOUNT),
    part("carts", BY_OWNER),
    part("cart_items", BY_CART),
    part("cart_handovers", BY_OWNER),
    part("cart_takeovers", BY_ACCOUNT),
    part("checkouts", BY_ACCOUNT),
    part("idempotency_keys", BY_SCOPE),
    part("orders", OWN_ORDERS),
    part("order_lines", BY_ORDER),
    part("order_transitions", BY_ORDER),
    part("stock_reservations", BY_ORDER),
    part("promotion_redemptions", BY_ORDER),
    Part {
        table: "invoices",
        filter: BY_ORDER,
        left_behind: &["pdf"],
    },
    part("order_refunds", BY_ORDER),
    part("order_audit", BY_ORDER),
    part("tracking_events", BY_ORDER),
    part("shopper_activity", "shopper_key = ?"),
];

/// The cell's own tables: they never move with a shopper.
pub const CELL_TABLES: [&str; 20] = [
    "_sqlx_migrations",
    "_events_migrations",
    "shopper_fences",
    "cell_identity",
    "catalog_products",
    "catalog_product_categories",
    "catalog_variants",
    "catalog_categories",
    "catalog_embeddings",
    "cell_stock",
    "promotion_allowances",
    "cell_stock_sales",
    "co_purchases",
    "cell_trending",
    "promotions",
    "invoice_series",
    // The payment provider's webhook deliveries this cell has taken (every
    // cell's endpoint hears every event; each keeps its own record).
    "payment_events",
    // The e-mails this cell sent for its own order events (its consumer's
    // once-only record; the new cell never sees those events).
    "sent_emails",
    "event_outbox",
    "event_processed",
];

/// A column as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    binary: bool,
}

/// The plan with each table's columns, read from the schema at start.
#[derive(Debug, Clone)]
pub struct Plan {
    tables: Vec<(Part, Vec<Column>, Option<String>)>,
}

impl Plan {
    pub async fn load(conn: &mut MySqlConnection) -> anyhow::Result<Self> {
        let mut tables = Vec::with_capacity(PLAN.len());
        for part in PLAN {
            let columns: Vec<(String, String, String)> = sqlx::query_as(
                r#"SELECT COLUMN_NAME, DATA_TYPE, EXTRA FROM information_schema.COLUMNS
                   WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION"#,
            )
            .bind(part.table)
            .fetch_all(&mut *conn)
            .await?;
            anyhow::ensure!(
                !columns.is_empty(),
                "table {} of the shopper move plan is not in the schema",
                part.table
            );
            let order = columns
                .iter()
                .find(|(_, _, extra)| extra.contains("auto_increment"))
                .map(|(name, _, _)| name.clone());
            let travelling = columns
                .into_iter()
                .filter(|(name, _, extra)| {
                    let extra = extra.to_ascii_lowercase();
                    !extra.contains("auto_increment")
                        && !extra.contains("generated")
                        && !part.left_behind.contains(&name.as_str())
                })
                .map(|(name, data_type, _)| Column {
                    binary: data_type.contains("binary") || data_type.contains("blob"),
                    name,
                })
                .collect();
            tables.push((part, travelling, order));
        }
        Ok(Self { tables })
    }

    /// Every row the shopper `key` owns, table by table. Rows keep the order
    /// of their table's auto-increment id, so a timeline keeps its order
    /// where it is written in again.
    pub async fn export(
        &self,
        conn: &mut MySqlConnection,
        key: &str,
    ) -> Result<Vec<TableRows>, sqlx::Error> {
        let mut out = Vec::with_capacity(self.tables.len());
        for (part, columns, order) in &self.tables {
            let values: Vec<String> = columns
                .iter()
                .map(|c| {
                    if c.binary {
                        format!("HEX(`{}`)", c.name)
                    } else {
                        format!("`{}`", c.name)
                    }
                })
                .collect();
            let mut sql = format!(
                "SELECT CAST(JSON_ARRAY({}) AS CHAR) FROM `{}` WHERE {}",
                values.join(", "),
                part.table,
                part.filter
            );
            if let Some(order) = order {
                sql.push_str(&format!(" ORDER BY `{order}`"));
            }
            let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
            for _ in 0..placeholders(part.filter) {
                query = query.bind(key);
            }
            let rows: Vec<String> = query.fetch_all(&mut *conn).await?;
            let rows = rows
                .iter()
                .map(|row| serde_json::from_str::<Vec<Value>>(row))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            out.push(TableRows {
                table: part.table.to_owned(),
                columns: columns.iter().map(|c| c.name.clone()).collect(),
                rows,
            });
        }
        Ok(out)
    }

    /// Deletes every row the shopper `key` owns, children first. The
    /// filters' subqueries are answered first, by plain reads, and each
    /// table's rows are deleted by the listed values of an indexed column:
    /// MariaDB 10.11 runs a single-table DELETE's `IN (SELECT …)` for every
    /// row of the table, locking each one it looks at, so a drain's deletes
    /// locked other shoppers' carts, orders and idempotency keys and their
    /// own writes deadlocked with it. `owned` is [`Owned::read`] for `key`
    /// in the same transaction.
    pub async fn delete(
        &self,
        conn: &mut MySqlConnection,
        key: &str,
        owned: &Owned,
    ) -> Result<u64, sqlx::Error> {
        let mut deleted = 0;
        for (part, _, _) in self.tables.iter().rev() {
            let listed = match part.filter {
                BY_ACCOUNT => Some(("user_id", &owned.users)),
                BY_OWNER => Some(("owner", &owned.owners)),
                BY_SCOPE => Some(("scope", &owned.owners)),
                BY_CART => Some(("cart_id", &owned.carts)),
                BY_ORDER => Some(("order_id", &owned.orders)),
                OWN_ORDERS => Some(("id", &owned.orders)),
                _ => None,
            };
            let Some((column, values)) = listed else {
                // An indexed column against the key itself.
                let sql = format!("DELETE FROM `{}` WHERE {}", part.table, part.filter);
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for _ in 0..placeholders(part.filter) {
                    query = query.bind(key);
                }
                deleted += query.execute(&mut *conn).await?.rows_affected();
                continue;
            };
            if values.is_empty() {
                continue;
            }
            let mut query = QueryBuilder::<MySql>::new(format!(
                "DELETE FROM `{}` WHERE `{column}` IN (",
                part.table
            ));
            let mut list = query.separated(", ");
            for value in values {
                list.push_bind(value.as_str());
            }
            query.push(")");
            deleted += query.build().execute(&mut *conn).await?.rows_affected();
        }
        Ok(deleted)
    }

    /// Writes `tables` in (the shopper's rows must not be here yet). The
    /// columns must be this schema's: cells of one release agree.
    pub async fn import(
        &self,
        conn: &mut MySqlConnection,
        tables: &[TableRows],
    ) -> Result<(), ImportError> {
        if tables.len() != self.tables.len() {
            return Err(ImportError::Schema(format!(
                "{} tables sent, {} expected",
                tables.len(),
                self.tables.len()
            )));
        }
        for ((part, columns, _), sent) in self.tables.iter().zip(tables) {
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            if sent.table != part.table || sent.columns != names {
                return Err(ImportError::Schema(format!(
                    "table {} with columns {:?} where {} with {:?} was expected",
                    sent.table, sent.columns, part.table, names
                )));
            }
            for chunk in sent.rows.chunks(200) {
                let mut insert = QueryBuilder::<MySql>::new(format!(
                    "INSERT INTO `{}` ({}) ",
                    part.table,
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                let mut bad = None;
                insert.push_values(chunk, |mut row, values| {
                    if values.len() != columns.len() {
                        bad = Some(values.len());
                    }
                    for (column, value) in columns.iter().zip(values) {
                        if column.binary {
                            row.push("UNHEX(");
                            row.push_bind_unseparated(text_of(value));
                            row.push_unseparated(")");
                        } else {
                            bind_value(&mut row, value);
                        }
                    }
                });
                if let Some(count) = bad {
                    return Err(ImportError::Schema(format!(
                        "a row of {} has {count} values for {} columns",
                        part.table,
                        columns.len()
                    )));
                }
                insert.build().execute(&mut *conn).await?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the bundle does not fit this cell's schema: {0}")]
    Schema(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// How many `?` a filter has (each is the shopper key).
/// What the plan's subqueries name for one shopper, read without locks
/// (the shopper is fenced while moving: none of it changes meanwhile), for
/// [`Plan::delete`].
#[derive(Debug)]
pub struct Owned {
    users: Vec<String>,
    /// Cart and idempotency owners: the guest's and each account's.
    pub owners: Vec<String>,
    carts: Vec<String>,
    orders: Vec<String>,
}

/// The accounts of shopper `key` here.
async fn accounts(conn: &mut MySqlConnection, key: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE shopper_key = ?")
        .bind(key)
        .fetch_all(&mut *conn)
        .await
}

fn owners_of(key: &str, users: &[String]) -> Vec<String> {
    std::iter::once(Owner::Guest(key.to_owned()).key())
        .chain(users.iter().map(|id| Owner::User(id.clone()).key()))
        .collect()
}

/// Whose carts shopper `key`'s are here: their guest cart's owner and
/// their accounts'.
pub async fn cart_owners(
    conn: &mut MySqlConnection,
    key: &str,
) -> Result<Vec<String>, sqlx::Error> {
    Ok(owners_of(key, &accounts(conn, key).await?))
}

impl Owned {
    pub async fn read(conn: &mut MySqlConnection, key: &str) -> Result<Self, sqlx::Error> {
        let users = accounts(conn, key).await?;
        let owners = owners_of(key, &users);
        let mut carts = QueryBuilder::<MySql>::new("SELECT id FROM carts WHERE owner IN (");
        let mut list = carts.separated(", ");
        for owner in &owners {
            list.push_bind(owner.as_str());
        }
        carts.push(")");
        let carts: Vec<String> = carts.build_query_scalar().fetch_all(&mut *conn).await?;
        let mut orders = QueryBuilder::<MySql>::new("SELECT id FROM orders WHERE shopper_key = ");
        orders.push_bind(key);
        if !users.is_empty() {
            orders.push(" OR user_id IN (");
            let mut list = orders.separated(", ");
            for id in &users {
                list.push_bind(id.as_str());
            }
            orders.push(")");
        }
        let orders: Vec<String> = orders.build_query_scalar().fetch_all(&mut *conn).await?;
        Ok(Self {
            users,
            owners,
            carts,
            orders,
        })
    }
}

fn placeholders(filter: &str) -> usize {
    filter.matches('?').count()
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn bind_value(row: &mut sqlx::query_builder::Separated<'_, MySql, &'static str>, value: &Value) {
    match value {
        Value::Null => row.push_bind(None::<String>),
        Value::Bool(flag) => row.push_bind(*flag),
        Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(signed), _) => row.push_bind(signed),
            (None, Some(unsigned)) => row.push_bind(unsigned),
            _ => row.push_bind(number.as_f64().unwrap_or_default()),
        },
        other => row.push_bind(text_of(other)),
    };
}

/// SHA-256 over the tables (each table's rows in sorted order, so the order
/// rows come back in does not matter) and the sessions (without their time
/// to live, which runs down).
pub fn checksum(tables: &[TableRows], sessions: &[SessionCopy]) -> String {
    let mut hash = Sha256::new();
    for table in tables {
        hash.update(table.table.as_bytes());
        hash.update(b"\n");
        hash.update(table.columns.join(",").as_bytes());
        hash.update(b"\n");
        let mut rows: Vec<String> = table
            .rows
            .iter()
            .map(|row| Value::Array(row.clone()).to_string())
            .collect();
        rows.sort_unstable();
        for row in rows {
            hash.update(row.as_bytes());
            hash.update(b"\n");
        }
    }
    let mut sessions: Vec<(&str, &str, &BTreeMap<String, String>)> = sessions
        .iter()
        .map(|s| (s.id.as_str(), s.user_id.as_str(), &s.fields))
        .collect();
    sessions.sort_unstable();
    for (id, user, fields) in sessions {
        hash.update(format!("session {id} {user}\n").as_bytes());
        for (name, value) in fields {
            hash.update(format!("{name}={value}\n").as_bytes());
        }
    }
    hex::encode(hash.finalize())
}

/// How many rows `tables` hold.
pub fn row_count(tables: &[TableRows]) -> u64 {
    tables.iter().map(|t| t.rows.len() as u64).sum()
}
