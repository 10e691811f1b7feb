//! Bodies of the account API (`/api/me/*`): profile and saved addresses.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    #[schema(example = "Ada Lovelace")]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    pub full_name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    pub postcode: String,
    /// ISO 3166-1 alpha-2, e.g. `GB`.
    pub country: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Make this the default address (the first one always is).
    #[serde(default)]
    pub is_default: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct AddressResponse {
    pub id: String,
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postcode: String,
    pub country: String,
    pub phone: Option<String>,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct AddressesResponse {
    pub addresses: Vec<AddressResponse>,
}
