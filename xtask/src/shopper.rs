//! A shopper driven over HTTP, as the drills and the checkout benchmark use
//! one: sign up, fill the cart, walk the checkout, pay with a test card.
//! Each step is its own call so a caller can time it.

use serde_json::{Value, json};

use crate::http::Refusal;

pub const PASSWORD: &str = "drill password not in any list";

#[derive(Debug, Clone, Default)]
pub struct Shopper {
    /// The shop's base URL (the edge or one cell).
    pub base: String,
    pub token: String,
    /// The cell that answered (from the edge's `x-cellwear-cell`).
    pub cell: String,
    /// Sent as `x-forwarded-for` when talking to a cell directly, as the
    /// edge would: each simulated shopper its own address, so per-IP limits
    /// see many shoppers rather than one machine.
    pub ip: Option<String>,
}

fn failed(message: impl ToString) -> Refusal {
    Refusal {
        status: 0,
        code: String::new(),
        message: message.to_string(),
    }
}

/// One JSON call; a non-2xx answer is its refusal.
pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(Value, Option<String>), Refusal> {
    call_from(agent, None, method, url, token, body)
}

/// [`call`] on behalf of a client at `ip` (`x-forwarded-for`).
pub fn call_from(
    agent: &ureq::Agent,
    ip: Option<&str>,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(Value, Option<String>), Refusal> {
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    if let Some(ip) = ip {
        request = request.header("x-forwarded-for", ip);
    }
    let request = match token {
        Some(token) => request.header("authorization", format!("Bearer {token}")),
        None => request,
    };
    let request = request
        .body(body.map(Value::to_string).unwrap_or_default())
        .map_err(failed)?;
    let mut response = agent.run(request).map_err(failed)?;
    if !response.status().is_success() {
        return Err(Refusal::read(&mut response));
    }
    let cell = response
        .headers()
        .get("x-cellwear-cell")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let value = response.body_mut().read_json().unwrap_or(Value::Null);
    Ok((value, cell))
}

impl Shopper {
    /// Registers `email` at `base` and signs in, from `ip` when given.
    pub fn sign_up(
        agent: &ureq::Agent,
        base: &str,
        email: &str,
        ip: Option<String>,
    ) -> Result<Self, Refusal> {
        call_from(
            agent,
            ip.as_deref(),
            "POST",
            &format!("{base}/api/auth/register"),
            None,
            Some(&json!({"email": email, "password": PASSWORD, "name": "Test Shopper"})),
        )?;
        let (login, cell) = call_from(
            agent,
            ip.as_deref(),
            "POST",
            &format!("{base}/api/auth/login"),
            None,
            Some(&json!({"email": email, "password": PASSWORD})),
        )?;
        Ok(Self {
            base: base.to_owned(),
            token: login["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            cell: cell.unwrap_or_default(),
            ip,
        })
    }

    fn post(&self, agent: &ureq::Agent, path: &str, body: Value) -> Result<Value, Refusal> {
        let url = format!("{}{path}", self.base);
        call_from(
            agent,
            self.ip.as_deref(),
            "POST",
            &url,
            Some(&self.token),
            Some(&body),
        )
        .map(|(value, _)| value)
    }

    pub fn add_to_cart(&self, agent: &ureq::Agent, sku: &str) -> Result<Value, Refusal> {
        self.post(agent, "/api/cart/items", json!({"sku": sku, "quantity": 1}))
    }

    /// Starts a checkout: its id.
    pub fn start_checkout(&self, agent: &ureq::Agent) -> Result<String, Refusal> {
        let view = self.post(agent, "/api/checkout", json!({}))?;
        Ok(view["id"].as_str().unwrap_or_default().to_owned())
    }

    pub fn set_address(&self, agent: &ureq::Agent, checkout: &str) -> Result<Value, Refusal> {
        let address = json!({"address": {"full_name": "Test Shopper", "line1": "1 Test Street",
            "city": "London", "postcode": "SW1A 1AA", "country": "GB"}});
        self.post(agent, &format!("/api/checkout/{checkout}/address"), address)
    }

    pub fn set_shipping(&self, agent: &ureq::Agent, checkout: &str) -> Result<Value, Refusal> {
        self.post(
            agent,
            &format!("/api/checkout/{checkout}/shipping"),
            json!({"method": "standard"}),
        )
    }

    /// Pays with the test card: `Ok` once the order is confirmed.
    pub fn pay(&self, agent: &ureq::Agent, checkout: &str) -> Result<(), Refusal> {
        let view = self.post(
            agent,
            &format!("/api/checkout/{checkout}/payment"),
            json!({"payment_method": "pm_card_visa"}),
        )?;
        if view["step"] == "completed" {
            return Ok(());
        }
        Err(Refusal {
            status: 200,
            code: format!("step_{}", view["step"].as_str().unwrap_or("unknown")),
            message: view.to_string(),
        })
    }
}

/// A refusal's code, or its status and message when it has none.
pub fn code(refusal: &Refusal) -> String {
    if refusal.code.is_empty() {
        format!("{} {}", refusal.status, refusal.message)
    } else {
        refusal.code.clone()
    }
}

/// A made-up private client address for simulated shopper `n`.
pub fn client_ip(n: usize) -> String {
    format!("10.77.{}.{}", (n / 250) % 250, n % 250 + 1)
}

/// Up to `wanted` SKUs (one per product) with at least `units` in stock, read
/// from the shop at `base` (the demo catalog `cargo xtask up` seeds).
pub fn in_stock_skus(
    agent: &ureq::Agent,
    base: &str,
    wanted: usize,
    units: u64,
) -> anyhow::Result<Vec<String>> {
    let listing = format!("{base}/api/products?in_stock=true&limit=20");
    let (page, _) = call(agent, "GET", &listing, None, None)
        .map_err(|r| anyhow::anyhow!("listing products: {r}"))?;
    let mut skus = Vec::new();
    for item in page["items"].as_array().into_iter().flatten() {
        let Some(slug) = item["slug"].as_str() else {
            continue;
        };
        let (product, _) = call(
            agent,
            "GET",
            &format!("{base}/api/products/{slug}"),
            None,
            None,
        )
        .map_err(|r| anyhow::anyhow!("reading product {slug}: {r}"))?;
        if let Some(sku) = product["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["availability"]["quantity"].as_u64().unwrap_or(0) >= units)
            .and_then(|v| v["sku"].as_str())
        {
            skus.push(sku.to_owned());
        }
        if skus.len() == wanted {
            break;
        }
    }
    if skus.is_empty() {
        anyhow::bail!(
            "no product with {units} units in stock; `cargo xtask up` seeds the demo catalog"
        );
    }
    Ok(skus)
}
