//! The control plane: owner of what is global — the catalog, promotions, the
//! stock ledger and the cell map — and runner of cell operations (DESIGN.md §6).
//!
//! `main.rs` stays thin — config → telemetry → [`startup::build`] → run — so
//! the integration tests start the very same app on port 0.

pub mod audit;
pub mod catalog;
pub mod cells;
pub mod config;
pub mod http;
pub mod orders;
pub mod promotions;
pub mod routing;
pub mod staff;
pub mod startup;
pub mod stock;
pub mod trending;

pub use config::Config;
pub use startup::{App, build};
