//! The edge router: the one door shoppers come through. It pins every shopper
//! to a cell by their shopper key (DESIGN.md §3), proxies `/api/*` there,
//! `/admin/api/*` and `/control/api/*` to the control plane, serves the built
//! frontend, and answers its own `/livez`, `/readyz` and `/metrics`.
//!
//! [`routing::route`] decides (a pure function of the request head and the
//! table); [`proxy::EdgeProxy`] is the pingora `ProxyHttp` that carries the
//! decision out; [`startup`] wires config, table and server together.

pub mod config;
pub mod cors;
pub mod health;
pub mod limits;
pub mod metrics;
pub mod proxy;
pub mod routing;
pub mod startup;
pub mod static_files;
pub mod table_refresh;
pub mod tokens;
