//! Where a request goes: a pure function of the request head and the routing
//! table, so it is tested without a socket (pingora's load-balancer example
//! keeps selection apart from proxying the same way).

use std::net::SocketAddr;

use pingora::http::RequestHeader;
use std::collections::HashMap;

use placement::{InvalidTable, PlacementError, Placer, ShopperKey};

use crate::tokens::TokenKeys;
use topology::Topology;
use wire::RoutedCell;

/// The cookie a guest's shopper key travels in.
pub const SHOPPER_COOKIE: &str = "sk";

/// The routing table the edge works from: the cells with their addresses and
/// the control plane. Built from `cells.yaml` for now; the control plane
/// publishes it once cell operations exist.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    placer: Placer,
    /// The edge's own health checks, shared by every table it swaps in.
    health: std::sync::Arc<crate::health::CellHealth>,
    /// The cells' token keys: claims in tokens count only when they verify.
    keys: TokenKeys,
    addresses: HashMap<String, SocketAddr>,
    pub control_plane: SocketAddr,
}

impl RoutingTable {
    /// The table as `cells.yaml` describes it: version 1, no overrides.
    pub fn from_topology(topology: &Topology) -> Result<Self, InvalidTable> {
        let table = wire::RoutingTable {
            version: 1,
            cells: topology.routed_cells(),
            overrides: Vec::new(),
        };
        Self::new(
            &table,
            topology
                .cells
                .iter()
                .map(|cell| (cell.id.clone(), cell.http))
                .collect(),
            topology.control_plane.http,
        )
    }

    pub fn new(
        table: &wire::RoutingTable,
        addresses: HashMap<String, SocketAddr>,
        control_plane: SocketAddr,
    ) -> Result<Self, InvalidTable> {
        Ok(Self {
            placer: Placer::new(table)?,
            health: std::sync::Arc::default(),
            keys: TokenKeys::default(),
            addresses,
            control_plane,
        })
    }

    pub fn version(&self) -> u64 {
        self.placer.version()
    }

    /// The same table with `keys` to verify tokens by.
    pub fn with_keys(&self, keys: TokenKeys) -> Self {
        Self {
            keys,
            ..self.clone()
        }
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    /// The same table with the health checks of `other` (the table it
    /// replaces).
    pub fn with_health_of(self, other: &RoutingTable) -> Self {
        Self {
            health: other.health.clone(),
            ..self
        }
    }

    pub fn health(&self) -> &crate::health::CellHealth {
        &self.health
    }

    /// Every cell with its address.
    pub fn cell_addresses(&self) -> impl Iterator<Item = (String, SocketAddr)> + '_ {
        self.placer
            .cells()
            .iter()
            .filter_map(|cell| self.address_of(cell).map(|a| (cell.id.clone(), a)))
    }

    /// Where the cells listen.
    pub fn endpoints(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.addresses.values().copied()
    }

    pub fn cell_count(&self) -> usize {
        self.placer.cells().len()
    }

    /// Whether a shopper without an override could be placed at all.
    pub fn can_place(&self) -> bool {
        self.placer.can_place_new()
    }

    /// Whether cell `id` is marked failed in the table, or has stopped
    /// answering the edge's health checks.
    pub fn is_failed(&self, id: &str) -> bool {
        self.health.is_down(id)
            || self
                .placer
                .cells()
                .iter()
                .any(|cell| cell.id == id && cell.state == wire::CellState::Failed)
    }

    /// The cells of the table in use.
    pub fn cells(&self) -> &[RoutedCell] {
        self.placer.cells()
    }

    pub(crate) fn address_of(&self, cell: &RoutedCell) -> Option<SocketAddr> {
        self.addresses.get(&cell.id).copied()
    }
}

/// What the edge does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/livez`, `/readyz`, `/metrics`: answered by the edge itself.
    Own(OwnEndpoint),
    /// `/api/*`: proxied to the shopper's cell.
    Cell {
        id: String,
        address: SocketAddr,
        key: ShopperKey,
        /// The key was minted for this request: set the cookie on the response.
        new_guest: bool,
    },
    /// `/admin/api/*` and `/control/api/*`: proxied to the control plane.
    ControlPlane(SocketAddr),
    /// Anything else: the built frontend.
    Static,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnEndpoint {
    Live,
    Ready,
    Metrics,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error(transparent)]
    Placement(#[from] PlacementError),
}

pub fn route(request: &RequestHeader, table: &RoutingTable) -> Result<Route, RouteError> {
    let path = request.uri.path();
    match path {
        "/livez" => return Ok(Route::Own(OwnEndpoint::Live)),
        "/readyz" => return Ok(Route::Own(OwnEndpoint::Ready)),
        "/metrics" => return Ok(Route::Own(OwnEndpoint::Metrics)),
        _ => {}
    }
    if under(path, "/admin/api") || under(path, "/control/api") {
        return Ok(Route::ControlPlane(table.control_plane));
    }
    // `/.well-known/jwks.json` lives on every cell (they share their keys).
    if !under(path, "/api") && !under(path, "/.well-known") {
        return Ok(Route::Static);
    }
    let claimed = ticket_shopper_key(request, &table.keys)
        .or_else(|| bearer_shopper_key(request, &table.keys));
    let (key, new_guest) = match claimed.or_else(|| shopper_key(request)) {
        Some(key) => (key, false),
        None => (
            table
                .placer
                .new_guest_key(|cell| !table.health.is_down(cell)),
            true,
        ),
    };
    route_to_shopper(key, new_guest, table)
}

/// What a shopper whose cell failed may still do: browse the catalog,
/// search and recommendations (the same on every cell), reading only.
pub fn served_elsewhere(request: &RequestHeader) -> bool {
    let path = request.uri.path();
    let reading = request.method == http::Method::GET || request.method == http::Method::HEAD;
    reading
        && [
            "/api/products",
            "/api/categories",
            "/api/brands",
            "/api/search",
            "/api/recommendations",
            "/.well-known",
        ]
        .iter()
        .any(|prefix| under(path, prefix))
}

/// The cell that answers for shopper `key` while their cell `failed` is
/// down, if the request may be answered elsewhere at all.
pub fn fallback_route(
    key: ShopperKey,
    new_guest: bool,
    table: &RoutingTable,
) -> Result<Route, RouteError> {
    let cell = table
        .placer
        .fallback(key, |cell| !table.health.is_down(cell))?;
    to_cell(cell, key, new_guest, table)
}

/// The cell of an account, for a request routed by the e-mail in its body
/// (sign-in and registration).
pub fn route_to_shopper(
    key: ShopperKey,
    new_guest: bool,
    table: &RoutingTable,
) -> Result<Route, RouteError> {
    to_cell(table.placer.place(key)?, key, new_guest, table)
}

fn to_cell(
    cell: &RoutedCell,
    key: ShopperKey,
    new_guest: bool,
    table: &RoutingTable,
) -> Result<Route, RouteError> {
    let address = table
        .address_of(cell)
        .ok_or(RouteError::Placement(PlacementError::NoCellAcceptsShoppers))?;
    Ok(Route::Cell {
        id: cell.id.clone(),
        address,
        key,
        new_guest,
    })
}

/// Sign-in and registration carry the e-mail, not yet a token: the edge
/// reads their (small) JSON body to route them to the account's home cell.
pub const LOGIN: &str = "/api/auth/login";
pub const REGISTER: &str = "/api/auth/register";
/// Where a Google sign-in ends, on the account's cell (a signed ticket).
pub const GOOGLE_FINISH: &str = "/api/auth/google/finish";

pub fn routed_by_body(request: &RequestHeader) -> bool {
    request.method == http::Method::POST
        && (matches!(request.uri.path(), LOGIN | REGISTER) || is_webhook(request.uri.path()))
}

/// Stripe's payment events: the PaymentIntent's metadata names the shopper.
pub const STRIPE_WEBHOOK: &str = "/api/payments/stripe/webhook";
/// Carriers' tracking events: the parcel's booking reference is the shopper.
pub const CARRIER_WEBHOOK: &str = "/api/carriers/webhook";

/// A provider calling back (no cookie, no token): routed by the shopper its
/// body names, never given a guest key.
pub fn is_webhook(path: &str) -> bool {
    path == STRIPE_WEBHOOK || path == CARRIER_WEBHOOK
}

/// The shopper a body routed by its content belongs to: the account of the
/// `email` of a sign-in or registration, the `shopper_key` in a Stripe
/// event's object metadata, the `reference` of a carrier's event.
pub fn body_shopper_key(path: &str, body: &[u8]) -> Option<ShopperKey> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let named = match path {
        STRIPE_WEBHOOK => value.pointer("/data/object/metadata/shopper_key"),
        CARRIER_WEBHOOK => value.get("reference"),
        _ => return value.get("email")?.as_str().map(ShopperKey::for_email),
    };
    ShopperKey::parse(named?.as_str()?).ok()
}

/// The `sk` claim of a bearer token the cells' keys signed. A token that
/// does not verify routes like no token at all; an expired one still routes
/// its shopper home (the cell answers 401).
pub fn bearer_shopper_key(request: &RequestHeader, keys: &TokenKeys) -> Option<ShopperKey> {
    let token = request
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    keys.shopper_key(token)
}

/// The `sk` claim of the signed sign-in ticket that finishes a Google sign-in
/// on the account's home cell (`/api/auth/google/finish?ticket=…`).
pub fn ticket_shopper_key(request: &RequestHeader, keys: &TokenKeys) -> Option<ShopperKey> {
    if request.uri.path() != GOOGLE_FINISH {
        return None;
    }
    let ticket = request
        .uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("ticket="))?;
    keys.shopper_key(ticket)
}

/// `path` is `prefix` or lies below it (`/api` and `/api/x`, not `/apix`).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The shopper key from the `sk` cookie, if one is there and well formed. A
/// malformed key is treated as absent: the shopper becomes a new guest rather
/// than being refused.
pub fn shopper_key(request: &RequestHeader) -> Option<ShopperKey> {
    request
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SHOPPER_COOKIE)
        .and_then(|(_, value)| ShopperKey::parse(value.trim()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::CellState;

    fn table() -> RoutingTable {
        let cells = vec![
            RoutedCell {
                id: "cell-0".into(),
                weight: 100,
                state: CellState::Active,
            },
            RoutedCell {
                id: "cell-1".into(),
                weight: 100,
                state: CellState::Active,
            },
        ];
        table_of(cells)
    }

    fn table_of(cells: Vec<RoutedCell>) -> RoutingTable {
        let addresses = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                (
                    cell.id.clone(),
                    format!("127.0.0.1:{}", 9100 + i).parse().unwrap(),
                )
            })
            .collect();
        let table = wire::RoutingTable {
            version: 1,
            cells,
            overrides: vec![],
        };
        RoutingTable::new(&table, addresses, "127.0.0.1:9000".parse().unwrap()).unwrap()
    }

    fn request(path: &str, cookie: Option<&str>) -> RequestHeader {
        let mut request = RequestHeader::build("GET", path.as_bytes(), None).unwrap();
        if let Some(cookie) = cookie {
            request.insert_header("cookie", cookie).unwrap();
        }
        request
    }

    #[test]
    fn the_same_cookie_always_reaches_the_same_cell() {
        let table = table();
        let cookie = "theme=dark; sk=0123456789abcdef";
        let first = route(&request("/api/products", Some(cookie)), &table).unwrap();
        for _ in 0..10 {
            assert_eq!(
                route(&request("/api/cart", Some(cookie)), &table)
                    .unwrap()
                    .cell_id(),
                first.cell_id()
            );
        }
        let Route::Cell { key, new_guest, .. } = first else {
            panic!("not a cell route")
        };
        assert_eq!(key.to_string(), "0123456789abcdef");
        assert!(!new_guest);
    }

    #[test]
    fn the_cell_is_the_one_placement_picks() {
        let table = table();
        for raw in 0..200u64 {
            let key = ShopperKey::from(raw.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let cookie = format!("sk={key}");
            let routed = route(&request("/api/x", Some(&cookie)), &table).unwrap();
            assert_eq!(
                routed.cell_id(),
                Some(table.placer.place(key).unwrap().id.as_str())
            );
        }
    }

    #[test]
    fn a_missing_or_malformed_cookie_makes_a_new_guest() {
        for cookie in [None, Some("sk=nothex!"), Some("sk=")] {
            let routed = route(&request("/api/x", cookie), &table()).unwrap();
            assert!(
                matches!(
                    routed,
                    Route::Cell {
                        new_guest: true,
                        ..
                    }
                ),
                "{cookie:?}"
            );
        }
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let table = table();
        assert_eq!(
            route(&request("/apix", None), &table).unwrap(),
            Route::Static
        );
        assert_eq!(route(&request("/", None), &table).unwrap(), Route::Static);
        assert!(matches!(
            route(&request("/api", None), &table).unwrap(),
            Route::Cell { .. }
        ));
        assert!(matches!(
            route(&request("/admin/api/cells", None), &table).unwrap(),
            Route::ControlPlane(_)
        ));
        assert!(matches!(
            route(&request("/control/api/cells", None), &table).unwrap(),
            Route::ControlPlane(_)
        ));
        assert_eq!(
            route(&request("/readyz", None), &table).unwrap(),
            Route::Own(OwnEndpoint::Ready)
        );
    }

    #[test]
    fn a_signed_bearer_token_routes_by_its_sk_claim_before_the_cookie() {
        let (signing, x) = crate::tokens::testing::signer(7);
        let table = table().with_keys(crate::tokens::testing::keys_with("k1", &x));
        let account = ShopperKey::for_email("ada@example.com");
        let token = crate::tokens::testing::token(&signing, "k1", &account.to_string());
        let mut request = request("/api/me", Some("sk=0000000000000001"));
        request
            .insert_header("authorization", format!("Bearer {token}"))
            .unwrap();
        let Route::Cell { key, new_guest, .. } = route(&request, &table).unwrap() else {
            panic!("not a cell route")
        };
        assert_eq!(key, account);
        assert!(!new_guest);
        // Without the keys the claim is not believed: the cookie routes.
        let Route::Cell { key, .. } =
            route(&request, &table_of(table.placer.cells().to_vec())).unwrap()
        else {
            panic!("not a cell route")
        };
        assert_eq!(key.to_string(), "0000000000000001");
    }

    #[test]
    fn a_google_finish_routes_by_its_signed_ticket() {
        let (signing, x) = crate::tokens::testing::signer(7);
        let table = table().with_keys(crate::tokens::testing::keys_with("k1", &x));
        let account = ShopperKey::for_email("ada@example.com");
        let ticket = crate::tokens::testing::token(&signing, "k1", &account.to_string());
        let path = format!("/api/auth/google/finish?ticket={ticket}");
        let Route::Cell { key, .. } =
            route(&request(&path, Some("sk=0000000000000001")), &table).unwrap()
        else {
            panic!("not a cell route")
        };
        assert_eq!(key, account);
        let elsewhere = format!("/api/products?ticket={ticket}");
        assert_eq!(
            ticket_shopper_key(&request(&elsewhere, None), table.keys()),
            None
        );
    }

    #[test]
    fn sign_in_bodies_route_by_the_normalised_email() {
        assert_eq!(
            body_shopper_key(
                "/api/auth/login",
                br#"{"email":"  Ada@Example.com ","password":"x"}"#
            ),
            Some(ShopperKey::for_email("ada@example.com"))
        );
        assert_eq!(
            body_shopper_key("/api/auth/login", br#"{"password":"x"}"#),
            None
        );
        assert_eq!(body_shopper_key("/api/auth/login", b"not json"), None);
    }

    #[test]
    fn webhooks_route_by_the_shopper_their_body_names() {
        let key = ShopperKey::for_email("ada@example.com");
        let stripe = format!(
            r#"{{"id":"evt_1","type":"payment_intent.succeeded","data":{{"object":{{"id":"pi_1","metadata":{{"order_id":"o1","shopper_key":"{key}"}}}}}}}}"#
        );
        assert_eq!(
            body_shopper_key(STRIPE_WEBHOOK, stripe.as_bytes()),
            Some(key)
        );
        let carrier = format!(r#"{{"event_id":"e1","tracking_number":"T1","reference":"{key}"}}"#);
        assert_eq!(
            body_shopper_key(CARRIER_WEBHOOK, carrier.as_bytes()),
            Some(key)
        );
        // Older intents carry no shopper; a malformed key routes like none.
        assert_eq!(
            body_shopper_key(STRIPE_WEBHOOK, br#"{"data":{"object":{"metadata":{}}}}"#),
            None
        );
        assert_eq!(
            body_shopper_key(CARRIER_WEBHOOK, br#"{"reference":"not-a-key"}"#),
            None
        );
        // An e-mail in a webhook's body is not what routes it.
        assert_eq!(
            body_shopper_key(STRIPE_WEBHOOK, br#"{"email":"ada@example.com"}"#),
            None
        );
        let login = RequestHeader::build("POST", b"/api/auth/login", None).unwrap();
        assert!(routed_by_body(&login));
        assert!(
            !routed_by_body(&request("/api/auth/login", None)),
            "a GET has no body to read"
        );
    }

    #[test]
    fn no_placeable_cell_is_an_error() {
        let mut cells = table().placer.cells().to_vec();
        for cell in &mut cells {
            cell.state = CellState::Drained;
        }
        let table = table_of(cells);
        assert!(route(&request("/api/x", None), &table).is_err());
        assert!(!table.can_place());
    }

    impl Route {
        fn cell_id(&self) -> Option<&str> {
            match self {
                Route::Cell { id, .. } => Some(id),
                _ => None,
            }
        }
    }
}
