//! Transactions that MySQL may give up to break a deadlock. InnoDB picks a
//! victim and rolls it back whole, so running the transaction again is safe
//! and is what the server asks for ("try restarting transaction"). A lock
//! wait that ran out (`innodb_lock_wait_timeout`) is treated the same way.
//!
//! Deadlocks come with concurrency, not with bugs alone: a rush on one SKU
//! (reservations, sales and top-ups lock the same stock rows), or a drain
//! deleting moved shoppers' rows while other shoppers change their carts.

use std::future::Future;
use std::time::Duration;

/// SQLSTATE of InnoDB's deadlock victim (error 1213).
const DEADLOCK_SQLSTATE: &str = "40001";
/// MySQL's error number for a lock wait that ran out (its SQLSTATE is the
/// generic HY000).
const LOCK_WAIT_TIMEOUT: u16 = 1205;
/// How often a transaction is run in all while it keeps losing.
pub const LOCK_CONFLICT_ATTEMPTS: u32 = 5;
/// The first pause before running it again; it doubles each time (20, 40,
/// 80, 160 ms): long enough for the winner to commit, short beside a
/// request's time-out.
const FIRST_PAUSE: Duration = Duration::from_millis(20);

/// Whether `error` is, or was caused by, a deadlock or a lock wait that ran
/// out: judged by the database's error code, never its message.
pub fn is_lock_conflict(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .and_then(sqlx::Error::as_database_error)
            .is_some_and(|db| {
                db.code().as_deref() == Some(DEADLOCK_SQLSTATE)
                    || db
                        .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                        .is_some_and(|e| e.number() == LOCK_WAIT_TIMEOUT)
            })
    })
}

/// Runs `attempt` (one whole transaction) again, after a pause, while it
/// fails with an error `conflict` takes for a lock conflict, up to
/// [`LOCK_CONFLICT_ATTEMPTS`] runs in all; the last error is returned.
pub async fn retrying_lock_conflicts<T, E, F, Fut>(
    conflict: impl Fn(&E) -> bool,
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut tries = 1;
    let mut pause = FIRST_PAUSE;
    loop {
        match attempt().await {
            Err(error) if conflict(&error) && tries < LOCK_CONFLICT_ATTEMPTS => {
                tracing::info!(
                    attempt = tries,
                    "deadlock victim; running the transaction again"
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
                tries += 1;
            }
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_conflict_is_run_again_until_it_passes_or_the_attempts_run_out() {
        let mut runs = 0;
        let passed: Result<u32, u32> = retrying_lock_conflicts(
            |e| *e == 1,
            || {
                runs += 1;
                let outcome = if runs < 3 { Err(1) } else { Ok(runs) };
                async move { outcome }
            },
        )
        .await;
        assert_eq!(passed, Ok(3));

        let mut runs = 0;
        let failed: Result<(), u32> = retrying_lock_conflicts(
            |e| *e == 1,
            || {
                runs += 1;
                async { Err(1) }
            },
        )
        .await;
        assert_eq!((failed, runs), (Err(1), LOCK_CONFLICT_ATTEMPTS));

        let mut runs = 0;
        let other: Result<(), u32> = retrying_lock_conflicts(
            |e| *e == 1,
            || {
                runs += 1;
                async { Err(2) }
            },
        )
        .await;
        assert_eq!((other, runs), (Err(2), 1), "other errors are not retried");
    }

    #[test]
    fn only_database_errors_with_a_lock_code_are_conflicts() {
        assert!(!is_lock_conflict(&anyhow::anyhow!(
            "Deadlock found when trying to get lock"
        )));
        assert!(!is_lock_conflict(&anyhow::Error::from(
            sqlx::Error::RowNotFound
        )));
    }
}
