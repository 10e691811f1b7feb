//! One cell: a complete shop for the shoppers the edge pins to it, with its own
//! MySQL, Redis and Kafka topics (DESIGN.md §1, §5).
//!
//! `main.rs` stays thin — config → telemetry → [`startup::build`] → run — so the
//! integration tests start the very same app on port 0. Domains live in their
//! own folders (`auth/`, `catalog/`, `cart/`, …) and are merged by [`http`].

pub mod auth;
pub mod carriers;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod config;
pub mod http;
pub mod invoices;
pub mod moves;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod peers;
pub mod promotions;
pub mod search;
pub mod startup;
pub mod stock;
pub mod users;

pub use config::Config;

/// The shopper key the edge routed the request by (DESIGN.md §3); the edge
/// drops any copy a client sends.
pub const SHOPPER_KEY_HEADER: &str = "x-cellwear-shopper-key";
pub use startup::{App, build};
