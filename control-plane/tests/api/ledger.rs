//! The stock ledger's invariant under random concurrent operations on real
//! MySQL: after any interleaving of restocks, adjustments, top-ups, reported
//! sales and returns, every SKU has `allocated + unallocated + sold =
//! on_hand`, the cells' shares add up to the ledger, nothing is negative,
//! and on hand is exactly what was received minus what was written off.

use control_plane::stock::{self, StockError, StockSettings};
use events::Schemas;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlx::MySqlPool;

const CELLS: &[&str] = &["cell-0", "cell-1", "cell-2"];

#[derive(Debug, Clone)]
enum Op {
    Restock(u64),
    Adjust(i64),
    TopUp(usize, u64),
    Sold(usize, u64),
    Unsold(usize, u64),
    Returned(usize, u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u64..20).prop_map(Op::Restock),
        (-10i64..10)
            .prop_filter("non-zero", |d| *d != 0)
            .prop_map(Op::Adjust),
        (0..CELLS.len(), 0u64..8).prop_map(|(c, d)| Op::TopUp(c, d)),
        (0..CELLS.len(), 1u64..6).prop_map(|(c, n)| Op::Sold(c, n)),
        (0..CELLS.len(), 1u64..4).prop_map(|(c, n)| Op::Unsold(c, n)),
        (0..CELLS.len(), 1u64..6).prop_map(|(c, n)| Op::Returned(c, n)),
    ]
}

/// Applies `op` to `sku` in its own transaction; the change to on hand it
/// made, or `None` when the ledger refused it (which changes nothing).
async fn apply(pool: &MySqlPool, settings: &StockSettings, sku: &str, op: &Op) -> Option<i64> {
    let schemas = Schemas::builtin();
    for _attempt in 0..10 {
        let mut tx = pool.begin().await.unwrap();
        let outcome = match op {
            Op::Restock(n) => stock::restock(&mut tx, &schemas, settings, "test", sku, *n)
                .await
                .map(|_| *n as i64),
            Op::Adjust(d) => stock::adjust(&mut tx, &schemas, settings, "test", sku, *d, "count")
                .await
                .map(|_| *d),
            Op::TopUp(c, demand) => {
                stock::top_up(&mut tx, &schemas, settings, CELLS[*c], sku, *demand)
                    .await
                    .map(|_| 0)
            }
            Op::Sold(c, n) => stock::sold(&mut tx, CELLS[*c], sku, *n).await.map(|_| 0),
            Op::Unsold(c, n) => stock::unsold(&mut tx, CELLS[*c], sku, *n).await.map(|_| 0),
            Op::Returned(c, n) => stock::returned(&mut tx, CELLS[*c], sku, *n)
                .await
                .map(|_| 0),
        };
        match outcome {
            Ok(change) => {
                tx.commit().await.unwrap();
                return Some(change);
            }
            Err(StockError::Unexpected(error)) if format!("{error:#}").contains("Deadlock") => {
                tx.rollback().await.unwrap();
            }
            Err(
                StockError::Insufficient { .. }
                | StockError::Unbalanced(_)
                | StockError::UnknownSku(_),
            ) => {
                tx.rollback().await.unwrap();
                return None;
            }
            Err(other) => panic!("{op:?} on {sku}: {other}"),
        }
    }
    panic!("{op:?} on {sku} deadlocked ten times");
}

async fn check(pool: &MySqlPool, sku: &str, expected_on_hand: i64) {
    let ledger: (u64, u64, u64, u64) = sqlx::query_as(
        "SELECT on_hand, unallocated, allocated, sold FROM stock_ledger WHERE sku = ?",
    )
    .bind(sku)
    .fetch_one(pool)
    .await
    .unwrap();
    let (on_hand, unallocated, allocated, sold) = ledger;
    assert_eq!(on_hand, unallocated + allocated + sold, "{sku}: {ledger:?}");
    assert_eq!(on_hand as i64, expected_on_hand, "{sku}: on hand drifted");
    let shares: (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT CAST(SUM(allocated) AS SIGNED), CAST(SUM(sold) AS SIGNED) FROM stock_shares WHERE sku = ?",
    )
    .bind(sku)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        (shares.0.unwrap_or(0) as u64, shares.1.unwrap_or(0) as u64),
        (allocated, sold),
        "{sku}: the shares do not add up to the ledger"
    );
}

#[test]
fn the_ledger_balances_under_random_concurrent_operations() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut app, pool) = runtime.block_on(async {
        let app = crate::helpers::spawn_app().await;
        let pool = app.pool().await;
        (app, pool)
    });
    let settings = StockSettings {
        share_floor: 3,
        allocations_topic: "test.allocations".into(),
    };
    let mut runner = TestRunner::new(Config {
        cases: 12,
        ..Config::default()
    });
    // Four workers, each with its own sequence, on two SKUs at once.
    let strategy = prop::collection::vec(prop::collection::vec((0..2usize, op()), 1..25), 4);
    runner
        .run(&strategy, |workers| {
            runtime.block_on(async {
                let skus = [testkit::unique("SKU-A"), testkit::unique("SKU-B")];
                for sku in &skus {
                    let mut tx = pool.begin().await.unwrap();
                    stock::restock(&mut tx, &Schemas::builtin(), &settings, "test", sku, 10)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
                let tasks: Vec<_> = workers
                    .into_iter()
                    .map(|ops| {
                        let (pool, settings, skus) = (pool.clone(), settings.clone(), skus.clone());
                        tokio::spawn(async move {
                            let mut received = [0i64; 2];
                            for (which, op) in ops {
                                if let Some(change) =
                                    apply(&pool, &settings, &skus[which], &op).await
                                {
                                    received[which] += change;
                                }
                            }
                            received
                        })
                    })
                    .collect();
                let mut received = [10i64; 2];
                for task in tasks {
                    let got = task.await.unwrap();
                    received[0] += got[0];
                    received[1] += got[1];
                }
                for (sku, expected) in skus.iter().zip(received) {
                    check(&pool, sku, expected).await;
                }
            });
            Ok(())
        })
        .unwrap();
    runtime.block_on(app.stop());
}
