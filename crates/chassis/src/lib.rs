//! The chassis every Cellwear HTTP service (a cell, the control plane) is built
//! on, so that each binary only composes its domains:
//!
//! * [`backends`] — MySQL (with the service's and the event backbone's
//!   migrations), Redis and the Kafka producer, connected at start-up and
//!   closed after the last request;
//! * [`config`] — layered, typed configuration: the binary's `config/base.toml`,
//!   then `config/$APP_ENV.toml`, then `PREFIX__SECTION__KEY` environment
//!   variables, checked at boot with errors that name the setting;
//! * [`db`] — transactions run again when MySQL picks them as a deadlock's
//!   victim;
//! * [`deps`] — connections to MySQL and Redis that fail at start-up with one
//!   line naming the dependency, its address and how to start it;
//! * [`health`] — `/livez`, `/readyz` (probing each dependency) and `/metrics`;
//! * [`http`] — the middleware stack (request ids, request spans, metrics,
//!   panics caught, body limits, time-outs), the error envelope and our JSON
//!   extractor;
//! * [`serve`] — serving with graceful shutdown on SIGTERM/SIGINT;
//! * [`service`] — the above assembled: `Service::build` binds, background
//!   workers (the outbox relay, consumers) run beside the server, `run_until`
//!   serves and then stops them in order.

pub mod backends;
pub mod config;
pub mod db;
pub mod deps;
pub mod health;
pub mod http;
pub mod metrics;
pub mod serve;
pub mod service;
