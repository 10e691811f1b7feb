//! The cell's integration tests: the real app on port 0 against real MySQL,
//! Redis and Kafka, one module per area.

mod config;
mod health;
mod helpers;
mod lifecycle;
