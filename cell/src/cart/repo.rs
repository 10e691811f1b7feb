//! The `carts` and `cart_items` tables. A cart is locked (`FOR UPDATE` on its
//! row) by every change, so two tabs changing one cart take turns.

use sqlx::MySqlConnection;
use wire::cart::HandedLine;

use super::cache::Contents;

/// The id of `owner`'s cart, made if it has none, locked.
pub async fn lock_or_create(
    conn: &mut MySqlConnection,
    owner: &str,
) -> Result<String, sqlx::Error> {
    sqlx::query("INSERT IGNORE INTO carts (id, owner) VALUES (?, ?)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(owner)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar("SELECT id FROM carts WHERE owner = ? FOR UPDATE")
        .bind(owner)
        .fetch_one(&mut *conn)
        .await
}

/// The id of `owner`'s cart, if it has one, locked.
pub async fn lock(conn: &mut MySqlConnection, owner: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM carts WHERE owner = ? FOR UPDATE")
        .bind(owner)
        .fetch_optional(&mut *conn)
        .await
}

/// The id of `owner`'s cart, if it has one.
pub async fn find(conn: &mut MySqlConnection, owner: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM carts WHERE owner = ?")
        .bind(owner)
        .fetch_optional(&mut *conn)
        .await
}

/// What `owner`'s cart holds, if they have one.
pub async fn contents(
    conn: &mut MySqlConnection,
    owner: &str,
) -> Result<Option<Contents>, sqlx::Error> {
    let cart: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT id, coupon FROM carts WHERE owner = ?")
            .bind(owner)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((id, coupon)) = cart else {
        return Ok(None);
    };
    let lines = handed(conn, &id).await?;
    Ok(Some(Contents { id, coupon, lines }))
}

/// `(sku, quantity)` of every line.
pub async fn items(
    conn: &mut MySqlConnection,
    cart_id: &str,
) -> Result<Vec<(String, u32)>, sqlx::Error> {
    sqlx::query_as("SELECT sku, quantity FROM cart_items WHERE cart_id = ? ORDER BY added_at, sku")
        .bind(cart_id)
        .fetch_all(&mut *conn)
        .await
}

/// Sets a line to `quantity` units, seen at `price`.
pub async fn put(
    conn: &mut MySqlConnection,
    cart_id: &str,
    sku: &str,
    quantity: u32,
    price: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO cart_items (cart_id, sku, quantity, price_seen_minor) VALUES (?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), price_seen_minor = VALUES(price_seen_minor)"#,
    )
    .bind(cart_id)
    .bind(sku)
    .bind(quantity)
    .bind(price)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a line; whether there was one.
pub async fn remove(
    conn: &mut MySqlConnection,
    cart_id: &str,
    sku: &str,
) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query("DELETE FROM cart_items WHERE cart_id = ? AND sku = ?")
        .bind(cart_id)
        .bind(sku)
        .execute(&mut *conn)
        .await?;
    Ok(removed.rows_affected() > 0)
}

/// Empties the cart, its coupon included.
pub async fn clear(conn: &mut MySqlConnection, cart_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM cart_items WHERE cart_id = ?")
        .bind(cart_id)
        .execute(&mut *conn)
        .await?;
    set_coupon(conn, cart_id, None).await
}

/// Records that the shopper has now seen each line's current price.
pub async fn acknowledge_prices(
    conn: &mut MySqlConnection,
    cart_id: &str,
    prices: &[(String, i64)],
) -> Result<(), sqlx::Error> {
    for (sku, price) in prices {
        sqlx::query("UPDATE cart_items SET price_seen_minor = ? WHERE cart_id = ? AND sku = ?")
            .bind(price)
            .bind(cart_id)
            .bind(sku)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Deletes the cart of `owner` (after a merge took its lines).
pub async fn delete(conn: &mut MySqlConnection, cart_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM carts WHERE id = ?")
        .bind(cart_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The coupon entered on cart `cart_id`.
pub async fn coupon(
    conn: &mut MySqlConnection,
    cart_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT coupon FROM carts WHERE id = ?")
        .bind(cart_id)
        .fetch_one(&mut *conn)
        .await
}

pub async fn set_coupon(
    conn: &mut MySqlConnection,
    cart_id: &str,
    coupon: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE carts SET coupon = ? WHERE id = ?")
        .bind(coupon)
        .bind(cart_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every line as handed to another cart: SKU, quantity, the price last seen.
pub async fn handed(
    conn: &mut MySqlConnection,
    cart_id: &str,
) -> Result<Vec<HandedLine>, sqlx::Error> {
    let rows: Vec<(String, u32, i64)> = sqlx::query_as(
        "SELECT sku, quantity, price_seen_minor FROM cart_items WHERE cart_id = ? ORDER BY added_at, sku",
    )
    .bind(cart_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, quantity, price_seen_minor)| HandedLine {
            sku,
            quantity,
            price_seen_minor,
        })
        .collect())
}
