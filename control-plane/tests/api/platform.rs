//! The control plane and real cells together on one broker: the catalog
//! reaching every cell's read model (and a new cell rebuilding it from the
//! topic), stock shared out, sold, topped up and recalled.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cell::stock::{Stock, StockError, StockSettings};
use chassis::config::Settings;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::helpers::{TestApp, code_of, seed_refs, shirt};

const WAIT: Duration = Duration::from_secs(90);

struct Platform {
    control: TestApp,
    prefix: String,
    cells: Vec<TestCell>,
    dir: std::path::PathBuf,
    /// Cells follow the control plane's routing table and send e-mail to
    /// the test SMTP sink.
    routed: bool,
}

struct TestCell {
    id: String,
    address: String,
    mysql_url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Platform {
    /// The control plane, with `cells` in its map, and those cells running.
    async fn start(cells: usize) -> Self {
        Self::start_with(cells, false).await
    }

    /// The same, with cells that follow the routing table and send e-mail.
    async fn start_routed(cells: usize) -> Self {
        Self::start_with(cells, true).await
    }

    async fn start_with(cells: usize, routed: bool) -> Self {
        let prefix = format!("{}.", testkit::unique("test_platform_"));
        let ids: Vec<String> = (0..cells).map(|_| testkit::unique("p-")).collect();
        let dir = std::env::temp_dir().join(testkit::unique("cellwear-platform-"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut yaml = String::from(
            "broker: 127.0.0.1:9092\nedge:\n  listen: 127.0.0.1:2\ncontrol_plane:\n  http: 127.0.0.1:3\n  mysql: mysql://root@127.0.0.1:4/x\n  redis: redis://127.0.0.1:5\ncells:\n",
        );
        // Addresses nobody dials: the cells run on port 0, and only the
        // catalog and stock paths are under test here.
        for (n, id) in ids.iter().enumerate() {
            yaml.push_str(&format!(
                "  - id: {id}\n    weight: 100\n    state: active\n    http: 127.0.0.1:{}\n    mysql: mysql://root@127.0.0.1:{}/x\n    redis: redis://127.0.0.1:{}\n",
                10 + n,
                20 + n,
                30 + n
            ));
        }
        let topology = dir.join("cells.yaml");
        std::fs::write(&topology, yaml).unwrap();
        let database = testkit::unique("test_control_");
        let settings = testkit::service_settings(&database)
            .merge(("control.topology", &topology))
            .merge(("auth.key_files", vec![testkit::signing_key_file()]))
            .merge(("kafka.topic_prefix", &prefix))
            .merge(("stock.share_floor", 3))
            .merge(("trending.publish_every_ms", 200))
            .merge(("embeddings.model_dir", testkit::model_dir()));
        let control = crate::helpers::spawn_with(database, settings).await;
        let mut platform = Self {
            control,
            prefix,
            cells: Vec::new(),
            dir,
            routed,
        };
        for id in ids {
            platform.start_cell(id).await;
        }
        platform
    }

    async fn start_cell(&mut self, id: String) -> usize {
        let database = testkit::unique("test_cell_");
        let overrides = testkit::service_settings(&database)
            .merge(("cell.id", &id))
            .merge(("kafka.topic_prefix", &self.prefix))
            // The key the control plane checks staff tokens with.
            .merge(("auth.signing_key_files", vec![testkit::signing_key_file()]))
            .merge(("auth.bcrypt_cost", 4))
            .merge(("stock.top_up_cooldown_ms", 200))
            .merge(("catalog.cache_ttl_ms", 1000))
            .merge(("search.model_dir", testkit::model_dir()))
            .merge(("search.warm_model", false));
        let overrides = if self.routed {
            overrides
                .merge((
                    "routing.table_url",
                    format!("{}/control/api/routing-table", self.control.address),
                ))
                .merge(("mail.smtp_url", testkit::smtp_url()))
                .merge(("mail.shop_url", "https://shop.test"))
        } else {
            overrides
        };
        let config = cell::Config::with_overrides(overrides).unwrap();
        let mysql_url = format!("{}/{database}", testkit::mysql_server());
        let app = cell::build(config).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        let (stop, signal) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = signal.await;
        }));
        self.cells.push(TestCell {
            id,
            address,
            mysql_url,
            stop: Some(stop),
        });
        self.cells.len() - 1
    }

    /// Points the cell map at where the test cells really listen.
    async fn map_the_running_cells(&self) {
        let pool = self.control.pool().await;
        for cell in &self.cells {
            sqlx::query("UPDATE cells SET http_address = ? WHERE id = ?")
                .bind(cell.address.trim_start_matches("http://"))
                .bind(&cell.id)
                .execute(&pool)
                .await
                .unwrap();
        }
    }

    async fn stock(&self, cell: usize) -> Stock {
        let cell = &self.cells[cell];
        let pool = sqlx::MySqlPool::connect(&cell.mysql_url).await.unwrap();
        Stock::new(
            pool,
            &cell.id,
            StockSettings {
                low_watermark: 2,
                top_up_cooldown_ms: 200,
                low_stock: 3,
            },
            &self.prefix,
        )
    }

    async fn stop(mut self) {
        for cell in &mut self.cells {
            if let Some(stop) = cell.stop.take() {
                let _ = stop.send(());
            }
        }
        self.control.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn get(address: &str, path: &str) -> (u16, Value) {
    let response = testkit::http_client()
        .get(format!("{address}{path}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls `path` on `address` until `done` holds for the body.
async fn eventually(address: &str, path: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = get(address, path).await;
        if done(status, &body) {
            return body;
        }
        assert!(
            started.elapsed() < WAIT,
            "GET {path} on {address} never got there; last: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn slugs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["slug"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_catalog_reaches_every_cell_and_a_new_cell_rebuilds_it() {
    let mut platform = Platform::start(2).await;
    let control = &platform.control;
    seed_refs(control).await;
    let mut created = Vec::new();
    for (slug, sku, price) in [
        ("oxford", "OXF", 4500),
        ("linen", "LIN", 6500),
        ("flannel", "FLN", 5500),
    ] {
        let mut product = shirt(slug, sku, 10);
        product["variants"][0]["price_minor"] = json!(price);
        product["variants"][1]["price_minor"] = json!(price + 400);
        product["variants"][1]["compare_at_minor"] = json!(price + 2000);
        let response: Value = control
            .admin(Method::POST, "/admin/api/products", Some(&product))
            .await
            .json()
            .await
            .unwrap();
        created.push(response["id"].as_u64().unwrap());
    }
    // A change, a retraction and a deletion, each a newer version.
    let mut renamed = shirt("oxford", "OXF", 0);
    renamed["title"] = json!("Oxford shirt, slim fit");
    renamed["variants"][0]["price_minor"] = json!(4500);
    renamed["expected_version"] = json!(1);
    let response = control
        .admin(
            Method::PUT,
            &format!("/admin/api/products/{}", created[0]),
            Some(&renamed),
        )
        .await;
    assert_eq!(response.status(), 200);
    control
        .admin(
            Method::POST,
            &format!("/admin/api/products/{}/unpublish", created[1]),
            None,
        )
        .await;
    control
        .admin(
            Method::DELETE,
            &format!("/admin/api/products/{}", created[2]),
            None,
        )
        .await;

    for cell in &platform.cells {
        let page = eventually(&cell.address, "/api/products", |status, body| {
            status == 200
                && slugs(body) == ["oxford"]
                && body["items"][0]["title"] == "Oxford shirt, slim fit"
        })
        .await;
        assert_eq!(page["items"][0]["price_minor"], 4500);
        assert_eq!(page["items"][0]["in_stock"], true);
        let (status, _) = get(&cell.address, "/api/products/linen").await;
        assert_eq!(status, 404, "unpublished products are hidden");
        let (status, _) = get(&cell.address, "/api/products/flannel").await;
        assert_eq!(status, 404, "deleted products are gone");
        let detail = eventually(&cell.address, "/api/products/oxford", |status, body| {
            status == 200 && body["variants"][0]["availability"]["quantity"] == 3
        })
        .await;
        assert_eq!(detail["variants"][0]["availability"]["status"], "in_stock");
        assert_eq!(detail["variants"][0]["availability"]["global_hint"], 4);
        assert_eq!(
            detail["variants"][1]["availability"]["status"],
            "out_of_stock"
        );
        assert_eq!(detail["categories"][0]["slug"], "clothing");
    }

    // A cell that was not there when all this happened catches up from
    // the topic alone.
    let late = platform.start_cell(testkit::unique("late-")).await;
    let address = platform.cells[late].address.clone();
    eventually(&address, "/api/products", |status, body| {
        status == 200 && slugs(body) == ["oxford"]
    })
    .await;
    let categories = eventually(&address, "/api/categories", |_, body| {
        body["items"]
            .as_array()
            .is_some_and(|items| items.len() == 2)
    })
    .await;
    assert_eq!(categories["items"][0]["slug"], "clothing");
    assert_eq!(categories["items"][0]["products"], 1);
    let brands = eventually(&address, "/api/brands", |_, body| {
        body["items"][0]["products"] == 1
    })
    .await;
    assert_eq!(brands["items"][0]["slug"], "harbour");

    // An SRE recalls the first cell's stock: it gives back what it holds.
    let recall = platform
        .control
        .as_role(
            &["sre"],
            Method::POST,
            &format!("/control/api/cells/{}/recall-stock", platform.cells[0].id),
            None,
        )
        .await;
    assert_eq!(recall.status(), 202);
    let started = Instant::now();
    loop {
        let ledger: Value = platform
            .control
            .admin(Method::GET, "/admin/api/stock/OXF-M", None)
            .await
            .json()
            .await
            .unwrap();
        if ledger["unallocated"] == 7 {
            assert_eq!(
                ledger["cells"][0]["allocated"].as_u64().unwrap_or(0)
                    + ledger["cells"][1]["allocated"].as_u64().unwrap_or(0),
                3
            );
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the recall never came back: {ledger}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    platform.stop().await;
}

#[tokio::test]
async fn ten_units_across_two_cells_sell_exactly_ten_times() {
    let platform = Platform::start(2).await;
    seed_refs(&platform.control).await;
    let response = platform
        .control
        .admin(
            Method::POST,
            "/admin/api/products",
            Some(&shirt("scarce", "SCARCE", 10)),
        )
        .await;
    assert_eq!(response.status(), 201);
    for cell in &platform.cells {
        eventually(&cell.address, "/api/products/scarce", |status, body| {
            status == 200 && body["variants"][0]["availability"]["quantity"] == 3
        })
        .await;
    }

    let sold = Arc::new(AtomicU32::new(0));
    let deadline = Instant::now() + WAIT;
    let mut buyers = Vec::new();
    for cell in 0..platform.cells.len() {
        let stock = platform.stock(cell).await;
        for buyer in 0..25 {
            let (stock, sold) = (stock.clone(), sold.clone());
            buyers.push(tokio::spawn(async move {
                let reference = format!("order-{cell}-{buyer}");
                while sold.load(Ordering::SeqCst) < 10 && Instant::now() < deadline {
                    match stock.take("SCARCE-M", 1, &reference).await {
                        Ok(_) => {
                            sold.fetch_add(1, Ordering::SeqCst);
                            return true;
                        }
                        Err(StockError::OutOfStock { .. }) => {
                            tokio::time::sleep(Duration::from_millis(25)).await;
                        }
                        Err(other) => panic!("{other}"),
                    }
                }
                false
            }));
        }
    }
    let mut bought = 0;
    for buyer in buyers {
        if buyer.await.unwrap() {
            bought += 1;
        }
    }
    assert_eq!(bought, 10, "every unit sold once, none twice");
    for cell in 0..platform.cells.len() {
        let stock = platform.stock(cell).await;
        assert!(matches!(
            stock.take("SCARCE-M", 1, "one-too-many").await,
            Err(StockError::OutOfStock { held: 0, .. })
        ));
    }
    let started = Instant::now();
    loop {
        let ledger: Value = platform
            .control
            .admin(Method::GET, "/admin/api/stock/SCARCE-M", None)
            .await
            .json()
            .await
            .unwrap();
        if ledger["sold"] == 10 {
            assert_eq!(
                (ledger["allocated"].as_u64(), ledger["unallocated"].as_u64()),
                (Some(0), Some(0))
            );
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the ledger never saw the sales: {ledger}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    platform.stop().await;
}

/// One order with promotion `code` placed in `cell`'s database the way
/// checkout does it: the limits checked under the promotion's lock, then
/// the use counted. `Ok(false)` when the cell's share is spent.
async fn redeem_in(cell: &TestCell, caps: &cell::promotions::caps::Caps, code: &str) -> bool {
    use sqlx::Connection;
    let mut conn = sqlx::MySqlConnection::connect(&cell.mysql_url)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    let p = cell::promotions::by_code(&mut tx, code, true)
        .await
        .unwrap()
        .expect("the promotion reached the cell");
    match cell::promotions::check_limits(&mut tx, &p, &cell.id, None, true)
        .await
        .unwrap()
    {
        Ok(()) => {
            let order = uuid::Uuid::now_v7().to_string();
            let user = uuid::Uuid::new_v4().to_string();
            cell::promotions::redeem(&mut tx, caps, &order, p.id, &user)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            true
        }
        Err(rejection) => {
            assert_eq!(rejection.code(), "coupon_exhausted");
            // A connection of its own: the rollback must reach the server
            // before the request for more can take the promotion's lock.
            tx.rollback().await.unwrap();
            caps.ran_short(p.id).await.unwrap();
            false
        }
    }
}

/// Redeems `code` in cell `n` until its share is spent for good: the
/// control plane has nothing left to grant and every grant it made reached
/// the cell. Returns how many uses succeeded.
async fn redeem_until_spent(platform: &Platform, n: usize, code: &str, id: u64, cap: u64) -> u32 {
    let cell = &platform.cells[n];
    let pool = sqlx::MySqlPool::connect(&cell.mysql_url).await.unwrap();
    let caps = cell::promotions::caps::Caps::new(pool, &cell.id, &platform.prefix, Duration::ZERO);
    let mut used = 0;
    let started = Instant::now();
    loop {
        // Read before the attempt: a grant that lands between a refused
        // attempt and this reading must get its own attempt.
        let shares = cap_shares(platform, id).await;
        let out: u64 = shares
            .iter()
            .map(|(_, granted, returned)| granted - returned)
            .sum();
        let granted = shares
            .iter()
            .find(|(c, _, _)| *c == cell.id)
            .map_or(0, |(_, granted, _)| *granted);
        let held = granted_in(cell, id).await;
        let settled = out >= cap && u64::try_from(held).unwrap() >= granted;
        if redeem_in(cell, &caps, code).await {
            used += 1;
            continue;
        }
        if settled {
            return used;
        }
        assert!(
            started.elapsed() < WAIT,
            "cell {} never settled: {shares:?}",
            cell.id
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates a 10% coupon `code` with `global_cap`; its saved snapshot.
async fn create_capped(platform: &Platform, code: &str, global_cap: u64) -> Value {
    let created = platform
        .control
        .admin(
            Method::POST,
            "/admin/api/promotions",
            Some(&json!({
                "code": code,
                "name": format!("{global_cap} in all"),
                "kind": "percentage",
                "value": 10,
                "currency": null,
                "min_spend_minor": 0,
                "categories": [],
                "brands": [],
                "starts_at": "2026-01-01T00:00:00Z",
                "ends_at": null,
                "per_shopper_limit": null,
                "global_cap": global_cap
            })),
        )
        .await;
    assert_eq!(created.status(), 201);
    created.json().await.unwrap()
}

/// The uses of promotion `id` that `cell` knows it was granted.
async fn granted_in(cell: &TestCell, id: u64) -> i64 {
    count_in(
        cell,
        &format!("SELECT CAST(COALESCE(MAX(granted), 0) AS SIGNED) FROM promotion_allowances WHERE promotion_id = {id}"),
    )
    .await
}

async fn cap_shares(platform: &Platform, id: u64) -> Vec<(String, u64, u64)> {
    sqlx::query_as(
        "SELECT cell_id, granted, returned FROM promotion_cap_shares WHERE promotion_id = ? ORDER BY cell_id",
    )
    .bind(id)
    .fetch_all(&platform.control.pool().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_promotion_s_cap_follows_demand_between_cells_and_never_runs_over() {
    let platform = Platform::start(2).await;
    seed_refs(&platform.control).await;
    let promotion = create_capped(&platform, "CAPPED8", 8).await;
    let id = promotion["id"].as_u64().unwrap();
    // Two each at first; four wait in the pool.
    let first: serde_json::Map<String, Value> = platform
        .cells
        .iter()
        .map(|cell| (cell.id.clone(), json!(2)))
        .collect();
    assert_eq!(promotion["cell_caps"], Value::Object(first));
    for cell in &platform.cells {
        let started = Instant::now();
        while count_in(
            cell,
            &format!("SELECT COUNT(*) FROM promotions WHERE id = {id}"),
        )
        .await
            == 0
        {
            assert!(
                started.elapsed() < WAIT,
                "the promotion never reached {}",
                cell.id
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // The busy cell asks as its share runs low and is given the pool.
    let busy = redeem_until_spent(&platform, 0, "CAPPED8", id, 8).await;
    assert_eq!(busy, 6, "its first two and the pool's four");
    // The quiet cell still has its first share, and no more.
    let quiet = redeem_until_spent(&platform, 1, "CAPPED8", id, 8).await;
    assert_eq!(quiet, 2);
    let (p0, p1) = (platform.cells[0].id.clone(), platform.cells[1].id.clone());
    let sorted = |mut shares: Vec<(String, u64, u64)>| {
        shares.sort();
        shares
    };
    assert_eq!(
        cap_shares(&platform, id).await,
        sorted(vec![(p0.clone(), 6, 0), (p1.clone(), 2, 0)])
    );

    // An order in the quiet cell is cancelled, and the cell is recalled (as
    // a drain does): it gives the unspent use back, and the busy cell is
    // granted it.
    {
        use sqlx::Connection;
        let mut conn = sqlx::MySqlConnection::connect(&platform.cells[1].mysql_url)
            .await
            .unwrap();
        let order: String = sqlx::query_scalar(
            "SELECT order_id FROM promotion_redemptions ORDER BY order_id LIMIT 1",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        let mut tx = conn.begin().await.unwrap();
        cell::promotions::give_back(&mut tx, &order).await.unwrap();
        tx.commit().await.unwrap();
    }
    let recalled = platform
        .control
        .as_role(
            &["sre"],
            Method::POST,
            &format!("/control/api/cells/{p1}/recall-stock"),
            None,
        )
        .await;
    assert_eq!(recalled.status(), 202);
    let started = Instant::now();
    while cap_shares(&platform, id).await != sorted(vec![(p0.clone(), 6, 0), (p1.clone(), 2, 1)]) {
        assert!(
            started.elapsed() < WAIT,
            "the recalled cell never gave its use back: {:?}",
            cap_shares(&platform, id).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(redeem_until_spent(&platform, 0, "CAPPED8", id, 8).await, 1);
    let shares = cap_shares(&platform, id).await;
    let out: u64 = shares
        .iter()
        .map(|(_, granted, returned)| granted - returned)
        .sum();
    assert_eq!(out, 8, "{shares:?}");
    let used = count_in(
        &platform.cells[0],
        "SELECT COUNT(*) FROM promotion_redemptions",
    )
    .await
        + count_in(
            &platform.cells[1],
            "SELECT COUNT(*) FROM promotion_redemptions",
        )
        .await;
    assert_eq!(used, 8, "eight uses in all, never nine");
    platform.stop().await;
}

/// Total hits of `q` in the cell's search (`None` while it warms up).
fn total(body: &Value) -> Option<u64> {
    body["total"].as_u64()
}

#[tokio::test]
async fn search_follows_the_catalog_and_trending_follows_views() {
    let platform = Platform::start(1).await;
    let control = &platform.control;
    let cell = platform.cells[0].address.clone();
    seed_refs(control).await;
    let mut ids = Vec::new();
    for (slug, sku, title, stock) in [
        ("navy-linen", "NLS", "Navy linen shirt", 10),
        ("white-oxford", "WOX", "White oxford shirt", 10),
        ("grey-flannel", "GFL", "Grey flannel shirt", 10),
        ("sold-out", "SLD", "Pale blue oxford shirt", 0),
    ] {
        let mut product = shirt(slug, sku, stock);
        product["title"] = json!(title);
        let response: Value = control
            .admin(Method::POST, "/admin/api/products", Some(&product))
            .await
            .json()
            .await
            .unwrap();
        ids.push(response["id"].as_u64().unwrap());
    }
    // The index catches up with new products…
    let found = eventually(&cell, "/api/search?q=linen", |s, b| {
        s == 200 && total(b) == Some(1)
    })
    .await;
    assert_eq!(found["items"][0]["product"]["slug"], "navy-linen");

    // …with a change…
    let mut renamed = shirt("navy-linen", "NLS", 0);
    renamed["title"] = json!("Navy seersucker shirt");
    renamed["description"] = json!("Puckered cotton seersucker, cool in summer.");
    renamed["expected_version"] = json!(1);
    let response = control
        .admin(
            Method::PUT,
            &format!("/admin/api/products/{}", ids[0]),
            Some(&renamed),
        )
        .await;
    assert_eq!(response.status(), 200);
    eventually(&cell, "/api/search?q=seersucker", |s, b| {
        s == 200 && total(b) == Some(1)
    })
    .await;
    let (_, linen) = get(&cell, "/api/search?q=linen").await;
    assert_eq!(total(&linen), Some(0), "the old words are gone: {linen}");

    // …and a deletion.
    let response = control
        .admin(
            Method::DELETE,
            &format!("/admin/api/products/{}", ids[2]),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    eventually(&cell, "/api/search?q=flannel", |s, b| {
        s == 200 && total(b) == Some(0)
    })
    .await;

    // Vectors came with the catalog: similar products, never the product
    // itself nor one that is out of stock here.
    let similar = eventually(&cell, "/api/products/white-oxford/similar", |s, b| {
        s == 200 && !slugs(b).is_empty()
    })
    .await;
    let similar = slugs(&similar);
    assert!(!similar.contains(&"white-oxford".to_owned()), "{similar:?}");
    assert!(!similar.contains(&"sold-out".to_owned()), "{similar:?}");
    assert_eq!(similar, ["navy-linen"]);
    let semantic = eventually(
        &cell,
        "/api/search?mode=semantic&q=a+light+summer+shirt",
        |s, b| s == 200 && total(b).is_some_and(|t| t > 0),
    )
    .await;
    assert_eq!(semantic["items"][0]["product"]["slug"], "navy-linen");

    // Views in the cell reach the control plane's trending list and come
    // back to the cell.
    let (_, before) = get(&cell, "/api/recommendations/trending").await;
    assert_eq!(before["fallback"], "top_rated");
    let client = testkit::http_client();
    for shopper in ["s1", "s2", "s3"] {
        let response = client
            .get(format!("{cell}/api/products/white-oxford"))
            .header(cell::SHOPPER_KEY_HEADER, shopper)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let trending = eventually(&cell, "/api/recommendations/trending", |s, b| {
        s == 200 && b["fallback"].is_null() && !slugs(b).is_empty()
    })
    .await;
    assert_eq!(slugs(&trending)[0], "white-oxford");
    platform.stop().await;
}

/// An order placed straight into `cell`'s database by `email`, at `at`.
async fn order_in(cell: &TestCell, email: &str, at: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::MySqlConnection::connect(&cell.mysql_url)
        .await
        .unwrap();
    let user = uuid::Uuid::new_v4().to_string();
    let order = uuid::Uuid::now_v7().to_string();
    sqlx::query("INSERT INTO users (id, email, shopper_key, name) VALUES (?, ?, ?, 'Shopper')")
        .bind(&user)
        .bind(email)
        .bind(placement::ShopperKey::for_email(email).to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        r#"INSERT INTO orders (id, user_id, shopper_key, checkout_id, status, currency, subtotal_minor,
                               shipping_minor, total_minor, address, shipping_method, reserved_until, created_at)
           VALUES (?, ?, 'sk', ?, 'confirmed', 'GBP', 2500, 0, 2500,
                   '{"full_name":"Ada Lovelace","line1":"1 Ada Road","line2":null,"city":"London","region":null,"postcode":"N1 1AA","country":"GB","phone":null}',
                   'standard', ?, ?)"#,
    )
    .bind(&order)
    .bind(&user)
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(at)
    .bind(at)
    .execute(&mut conn)
    .await
    .unwrap();
    order
}

#[tokio::test]
async fn staff_search_every_cells_orders_and_hear_which_cells_did_not_answer() {
    let platform = Platform::start(2).await;
    let control = &platform.control;
    platform.map_the_running_cells().await;
    // A cell in the map that nothing answers for.
    sqlx::query("INSERT INTO cells (id, weight, state, http_address) VALUES ('gone', 100, 'active', '127.0.0.1:9')")
        .execute(&control.pool().await)
        .await
        .unwrap();
    let first = order_in(&platform.cells[0], "ada@example.com", "2026-11-20 10:00:00").await;
    let second = order_in(&platform.cells[1], "bob@example.com", "2026-11-21 10:00:00").await;
    let third = order_in(&platform.cells[1], "ada@example.com", "2026-11-22 10:00:00").await;

    let all: Value = control
        .admin(Method::GET, "/admin/api/orders", None)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [third.as_str(), second.as_str(), first.as_str()],
        "{all}"
    );
    assert_eq!(all["items"][0]["cell"], platform.cells[1].id.as_str());
    assert_eq!(all["items"][0]["email"], "ada@example.com");
    assert_eq!(all["answered"].as_array().unwrap().len(), 2);
    assert_eq!(
        all["unanswered"],
        json!([{"cell": "gone", "reason": "unreachable"}])
    );

    let ada: Value = control
        .admin(
            Method::GET,
            "/admin/api/orders?q=ada%40example&limit=1",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ada["items"].as_array().unwrap().len(), 1);
    assert_eq!(ada["items"][0]["id"], third.as_str());

    let bad = control
        .admin(Method::GET, "/admin/api/orders?status=lost", None)
        .await;
    assert_eq!(bad.status(), 400);
    let shopper = control
        .as_role(&["user"], Method::GET, "/admin/api/orders", None)
        .await;
    assert_eq!(shopper.status(), 403);

    // One order in full and moved on through the control plane, which asks
    // the cell that holds it; the cell's own answers pass through.
    let home = &platform.cells[0].id;
    let at = |suffix: &str| format!("/admin/api/cells/{home}/orders/{first}{suffix}");
    let detail = control.admin(Method::GET, &at(""), None).await;
    assert_eq!(detail.status(), 200);
    let detail: Value = detail.json().await.unwrap();
    assert_eq!(detail["id"], first.as_str());
    assert_eq!(detail["status"], "confirmed");
    let packed = json!({"status": "processing", "reason": "Packed"});
    let moved = control
        .admin(Method::POST, &at("/status"), Some(&packed))
        .await;
    assert_eq!(moved.status(), 200);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["status"], "processing");
    let audit_of_first = || async {
        let page: Value = control
            .admin(
                Method::GET,
                &format!("/control/api/audit?subject=order:{first}"),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        page
    };
    let audited = audit_of_first().await;
    assert_eq!(audited["items"][0]["action"], "order.status", "{audited}");
    assert_eq!(audited["items"][0]["detail"]["cell"], home.as_str());
    assert_eq!(
        audited["items"][0]["detail"]["request"]["status"],
        "processing"
    );
    assert_eq!(
        code_of(
            control
                .admin(Method::POST, &at("/status"), Some(&packed))
                .await
        )
        .await,
        (409, "illegal_transition".to_owned())
    );
    let unshipped = json!({"status": "shipped", "reason": "Sent"});
    assert_eq!(
        code_of(
            control
                .admin(Method::POST, &at("/status"), Some(&unshipped))
                .await
        )
        .await,
        (400, "invalid_order_query".to_owned())
    );
    let elsewhere = format!("/admin/api/cells/{}/orders/{first}", platform.cells[1].id);
    assert_eq!(
        code_of(control.admin(Method::GET, &elsewhere, None).await).await,
        (404, "order_not_found".to_owned())
    );
    assert_eq!(
        code_of(
            control
                .admin(
                    Method::GET,
                    &format!("/admin/api/cells/nowhere/orders/{first}"),
                    None
                )
                .await
        )
        .await,
        (404, "cell_not_found".to_owned())
    );
    assert_eq!(
        code_of(
            control
                .admin(
                    Method::GET,
                    &format!("/admin/api/cells/gone/orders/{first}"),
                    None
                )
                .await
        )
        .await,
        (502, "cell_unreachable".to_owned())
    );
    let refused = audit_of_first().await;
    assert_eq!(
        refused["items"].as_array().unwrap().len(),
        1,
        "only the move the cell made is audited: {refused}"
    );
    let malformed = json!({"status": 5});
    assert_eq!(
        control
            .admin(Method::POST, &at("/status"), Some(&malformed))
            .await
            .status(),
        422
    );
    let shopper = control.as_role(&["user"], Method::GET, &at(""), None).await;
    assert_eq!(shopper.status(), 403);
    platform.stop().await;
}

#[tokio::test]
async fn a_new_cell_joins_and_takes_shoppers_only_once_its_catalog_has_caught_up() {
    let mut platform = Platform::start(1).await;
    seed_refs(&platform.control).await;
    for (slug, sku) in [("oxford", "OXF"), ("linen", "LIN")] {
        let created = platform
            .control
            .admin(
                Method::POST,
                "/admin/api/products",
                Some(&shirt(slug, sku, 10)),
            )
            .await;
        assert_eq!(created.status(), 201);
    }
    // A coupon with a global cap: the one cell holds half of it at first.
    let promotion = create_capped(&platform, "JOINER8", 8).await["id"]
        .as_u64()
        .unwrap();
    let id = testkit::unique("j-");
    let index = platform.start_cell(id.clone()).await;
    let address = platform.cells[index]
        .address
        .trim_start_matches("http://")
        .to_owned();
    let control = &platform.control;
    let sre = |method: Method, path: String, body: Option<Value>| async move {
        control
            .as_role(&["sre"], method, &path, body.as_ref())
            .await
    };

    let bad = sre(
        Method::POST,
        "/control/api/cells".into(),
        Some(json!({"id": "Not An Id", "http_address": address, "weight": 100})),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let added = sre(
        Method::POST,
        "/control/api/cells".into(),
        Some(json!({"id": id, "http_address": address, "weight": 100})),
    )
    .await;
    assert_eq!(added.status(), 201);
    let table = get(&control.address, "/control/api/routing-table").await.1;
    let joining = table["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap();
    assert_eq!(joining["state"], "joining");
    assert_eq!(table["endpoints"][&id], address.as_str());
    let again = sre(
        Method::POST,
        "/control/api/cells".into(),
        Some(json!({"id": id, "http_address": address, "weight": 100})),
    )
    .await;
    assert_eq!(again.status(), 409);

    // Activation waits for the catalog: refused until both products are
    // listed in the new cell, then the cell is active.
    let started = Instant::now();
    loop {
        let response = sre(
            Method::POST,
            format!("/control/api/cells/{id}/activate"),
            None,
        )
        .await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        if status == 200 {
            let cell = body["cells"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == id.as_str())
                .unwrap()
                .clone();
            assert_eq!(cell["state"], "active");
            assert_eq!(cell["health"], "ready");
            break;
        }
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("cell_not_ready")),
            "{body}"
        );
        assert!(started.elapsed() < WAIT, "never caught up: {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (_, listed) = get(&platform.cells[index].address, "/api/products").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    // Activation gave the new cell its first share of the cap (8 / (2 × 2)
    // of the 4 left in the pool), and the grant reached it: its first
    // shopper with the coupon does not wait for a top-up.
    let mut expected = vec![(platform.cells[0].id.clone(), 4, 0), (id.clone(), 2, 0)];
    expected.sort();
    assert_eq!(cap_shares(&platform, promotion).await, expected);
    let started = Instant::now();
    while granted_in(&platform.cells[index], promotion).await != 2 {
        assert!(
            started.elapsed() < WAIT,
            "the new cell never heard of its share"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let twice = sre(
        Method::POST,
        format!("/control/api/cells/{id}/activate"),
        None,
    )
    .await;
    assert_eq!(twice.status(), 409);
    platform.stop().await;
}

/// A row count in `cell`'s database.
async fn count_in(cell: &TestCell, sql: &str) -> i64 {
    let pool = sqlx::MySqlPool::connect(&cell.mysql_url).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn draining_a_cell_moves_every_shopper_and_takes_it_out_of_the_table() {
    let platform = Platform::start(2).await;
    platform.map_the_running_cells().await;
    let (from, to) = (&platform.cells[0], &platform.cells[1]);
    let control = &platform.control;
    // Three accounts (one with an order) and a guest with a browsing
    // history on the cell to drain.
    let emails: Vec<String> = (0..3)
        .map(|_| format!("{}@example.com", testkit::unique("drained-")))
        .collect();
    for email in &emails {
        let registered = testkit::http_client()
            .post(format!("{}/api/auth/register", from.address))
            .json(&json!({"email": email, "password": "a long enough passphrase", "name": "Moved Shopper"}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201);
    }
    let order = order_in(
        from,
        &format!("{}@example.com", testkit::unique("buyer-")),
        "2026-11-20 10:00:00",
    )
    .await;
    let guest = placement::ShopperKey::random().to_string();
    {
        let pool = sqlx::MySqlPool::connect(&from.mysql_url).await.unwrap();
        sqlx::query(
            "INSERT INTO shopper_activity (shopper_key, product_id, kind) VALUES (?, 1, 'view')",
        )
        .bind(&guest)
        .execute(&pool)
        .await
        .unwrap();
    }
    let sre = |method: Method, path: String, body: Option<Value>| async move {
        control
            .as_role(&["sre"], method, &path, body.as_ref())
            .await
    };
    // The cell list counts each cell's shoppers, as the cell says.
    let accounts = || async {
        let list: Value = sre(Method::GET, "/control/api/cells".into(), None)
            .await
            .json()
            .await
            .unwrap();
        let of = |id: &str| {
            let cell = list["cells"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == id)
                .unwrap()
                .clone();
            cell["shoppers"]["accounts"].as_u64().unwrap()
        };
        (of(&from.id), of(&to.id))
    };
    assert_eq!(accounts().await, (4, 0));
    let path = format!("/control/api/cells/{}/drain", from.id);
    let silent = sre(Method::POST, path.clone(), Some(json!({"reason": ""}))).await;
    assert_eq!(silent.status(), 400);
    let started = sre(Method::POST, path.clone(), Some(json!({"reason": "drill"}))).await;
    assert_eq!(started.status(), 202);
    let again = sre(Method::POST, path.clone(), Some(json!({"reason": "drill"}))).await;
    assert_eq!(again.status(), 409, "a draining cell is drained once");
    let last = sre(
        Method::POST,
        format!("/control/api/cells/{}/drain", to.id),
        Some(json!({"reason": "drill"})),
    )
    .await;
    assert_eq!(last.status(), 409, "the last active cell cannot drain");

    let begun = Instant::now();
    let progress = loop {
        let progress: Value = sre(Method::GET, path.clone(), None)
            .await
            .json()
            .await
            .unwrap();
        if progress["state"] == "done" {
            break progress;
        }
        assert!(
            begun.elapsed() < WAIT,
            "the drain never finished: {progress}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(progress["shoppers_moved"], 5, "{progress}");
    assert_eq!(progress["shoppers_in_conflict"], 0);
    assert!(progress["finished_at"].is_string());

    // Nobody is left on the drained cell; everyone is on the other.
    assert_eq!(count_in(from, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(count_in(from, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(count_in(to, "SELECT COUNT(*) FROM users").await, 4);
    let moved_order = format!("SELECT COUNT(*) FROM orders WHERE id = '{order}'");
    assert_eq!(count_in(to, &moved_order).await, 1);
    let moved_guest =
        format!("SELECT COUNT(*) FROM shopper_activity WHERE shopper_key = '{guest}'");
    assert_eq!(count_in(to, &moved_guest).await, 1);

    // The table: the cell drained, every moved shopper pinned to the other.
    let (_, table) = get(&control.address, "/control/api/routing-table").await;
    let state_of = |id: &str| {
        table["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of(&from.id), "drained");
    assert_eq!(accounts().await, (0, 4));
    let overrides = table["overrides"].as_array().unwrap();
    assert_eq!(overrides.len(), 5, "{table}");
    assert!(overrides.iter().all(|o| o["cell"] == to.id.as_str()));
    for email in &emails {
        let key = placement::ShopperKey::for_email(email).to_string();
        assert!(overrides.iter().any(|o| o["shopper_key"] == key.as_str()));
    }
    let removed = sre(
        Method::DELETE,
        format!("/control/api/cells/{}", from.id),
        None,
    )
    .await;
    assert_eq!(removed.status(), 200);
    platform.stop().await;
}

/// An address whose shopper key the routing table places on `cell`.
fn address_on(placer: &placement::Placer, cell: &str, name: &str) -> String {
    loop {
        let email = format!("{}@example.com", testkit::unique(name));
        let key = placement::ShopperKey::for_email(&email);
        if placer.place(key).unwrap().id == cell {
            return email;
        }
    }
}

#[tokio::test]
async fn a_changed_address_signs_in_on_the_account_s_cell_wherever_the_account_goes() {
    let platform = Platform::start_routed(2).await;
    platform.map_the_running_cells().await;
    let (home, other) = (&platform.cells[0], &platform.cells[1]);
    let control = &platform.control;
    let table = || async {
        let (_, table) = get(&control.address, "/control/api/routing-table").await;
        serde_json::from_value::<wire::PublishedRoutingTable>(table).unwrap()
    };
    let placer = placement::Placer::new(&table().await.table).unwrap();
    let ada = address_on(&placer, &home.id, "ada-");
    let bob = address_on(&placer, &other.id, "bob-");
    let new = address_on(&placer, &other.id, "ada-new-");
    let password = "a long enough passphrase";
    let client = testkit::http_client();
    for (cell, email) in [(home, &ada), (other, &bob)] {
        let registered = client
            .post(format!("{}/api/auth/register", cell.address))
            .json(&json!({"email": email, "password": password, "name": "Ada Lovelace"}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201);
    }
    let login: Value = client
        .post(format!("{}/api/auth/login", home.address))
        .json(&json!({"email": ada, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let account_key = placement::ShopperKey::for_email(&ada).to_string();
    // Asks for `email` and opens the link: the confirmation's answer.
    let change_to = |email: String| {
        let (client, token, home) = (client.clone(), token.clone(), home.address.clone());
        async move {
            let seen = testkit::inbox(&email).await.len();
            let asked = client
                .post(format!("{home}/api/me/email"))
                .bearer_auth(&token)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(asked.status(), 202, "{email}");
            let started = Instant::now();
            let mail = loop {
                let mails = testkit::inbox(&email).await;
                if mails.len() > seen {
                    break mails.last().unwrap().clone();
                }
                assert!(started.elapsed() < WAIT, "no link reached {email}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            let text = mail["text"].as_str().unwrap();
            let link = text[text.find("token=").unwrap() + 6..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            client
                .post(format!("{home}/api/me/email/confirm"))
                .bearer_auth(&token)
                .json(&json!({"token": link}))
                .send()
                .await
                .unwrap()
        }
    };
    let alias_of = |table: &wire::PublishedRoutingTable, email: &str| {
        let key = placement::ShopperKey::for_email(email).to_string();
        table
            .table
            .overrides
            .iter()
            .find(|o| o.shopper_key == key)
            .map(|o| o.cell.clone())
    };

    // Bob's address is free on Ada's cell, but Bob has it on his: refused
    // by the control plane, and nothing changed.
    let taken = change_to(bob.clone()).await;
    assert_eq!(code_of(taken).await, (409, "email_taken".to_owned()));
    assert_eq!(alias_of(&table().await, &bob), None);

    // A free address on the other cell: its sign-ins now reach Ada's cell.
    let before = table().await.table.version;
    let changed = change_to(new.clone()).await;
    assert_eq!(changed.status(), 200);
    let after = table().await;
    assert!(after.table.version > before);
    assert_eq!(alias_of(&after, &new), Some(home.id.clone()));

    // Back to the first address: the alias goes.
    assert_eq!(change_to(ada.clone()).await.status(), 200);
    assert_eq!(alias_of(&table().await, &new), None);

    // Again to the new one; then the account moves (as a drain moves it)
    // and its alias follows in the same table.
    assert_eq!(change_to(new.clone()).await.status(), 200);
    let pool = control.pool().await;
    sqlx::query("INSERT INTO placement_overrides (shopper_key, cell_id, epoch) VALUES (?, ?, 7)")
        .bind(&account_key)
        .bind(&other.id)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE routing_table SET version = version + 1")
        .execute(&pool)
        .await
        .unwrap();
    let moved = table().await;
    let alias = moved
        .table
        .overrides
        .iter()
        .find(|o| o.shopper_key == placement::ShopperKey::for_email(&new).to_string())
        .unwrap();
    assert_eq!((alias.cell.as_str(), alias.epoch), (other.id.as_str(), 7));
    // Every alias set is audited; the refused one was withdrawn, audited too.
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE actor = ? AND action LIKE 'account.%' ORDER BY id",
    )
    .bind(format!("cell:{}", home.id))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            "account.alias",
            "account.alias_withdrawn",
            "account.alias",
            "account.alias_removed",
            "account.alias"
        ]
    );
    platform.stop().await;
}
