//! The cell's integration tests: the real app on port 0 against real MySQL,
//! Redis and Kafka, one module per area.

// Helpers outside #[test] functions panic on purpose: a broken fixture should
// fail the test at the line that broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod carriers;
mod cart;
mod catalog;
mod checkout;
mod config;
mod crash;
mod email_change;
mod emails;
mod google;
mod health;
mod helpers;
mod invoices;
mod lifecycle;
mod moves;
mod oidc_provider;
mod orders;
mod promotions;
mod refunds;
mod search;
mod shop;
mod takeover;
mod users;
