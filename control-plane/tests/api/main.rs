//! The control plane's integration tests: the real app on port 0 against real
//! MySQL, Redis and Kafka.

// Helpers outside #[test] functions panic on purpose: a broken fixture should
// fail the test at the line that broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod catalog;
mod health;
mod helpers;
mod ledger;
mod platform;
mod promotions;
mod routing;
