//! Types that cross a process boundary: HTTP bodies, the error envelope, health
//! reports and the routing table. No I/O and no rules live here — only the shapes
//! that the edge, the cells, the control plane and the frontend agree on. Each
//! type derives `ToSchema` so the OpenAPI documents are generated from these
//! definitions rather than written twice.

pub mod audit;
pub mod auth;
pub mod cart;
pub mod catalog;
pub mod checkout;
mod error;
pub mod events;
mod health;
pub mod moves;
pub mod orders;
pub mod promotions;
mod routing;
pub mod search;
pub mod users;

pub use error::ErrorBody;
pub use health::{CheckReport, HealthStatus, LivenessResponse, ReadinessResponse};
pub use routing::{
    CellList, CellState, CellStateChange, CellView, CellWeight, NewCell, PlacementOverride,
    PublishedRoutingTable, RoutedCell, RoutingTable, SignInAlias,
};
