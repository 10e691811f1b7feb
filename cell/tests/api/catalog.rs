//! The catalog read model: snapshots applied by version, and the shop's
//! product list (filters, sorts, cursors), product page and facets.

use serde_json::{Value, json};
use sqlx::Connection;
use wire::catalog::{Image, Named, ProductSnapshot, Rating, Variant};

use crate::helpers::{Cases, TestApp, code_of, spawn_app};

fn named(slug: &str, name: &str) -> Named {
    Named {
        slug: slug.into(),
        name: name.into(),
    }
}

/// A product in `clothing` > `category`, one variant per (size, colour).
pub fn product(
    id: u64,
    version: u64,
    slug: &str,
    category: &str,
    brand: &str,
    price: i64,
) -> ProductSnapshot {
    let mut variants = Vec::new();
    for (i, (size, colour)) in [("M", "navy"), ("L", "navy"), ("M", "white")]
        .iter()
        .enumerate()
    {
        variants.push(Variant {
            sku: format!("P{id}-{i}"),
            size: (*size).into(),
            colour: (*colour).into(),
            price_minor: price + i as i64 * 100,
            currency: "GBP".into(),
            compare_at_minor: None,
        });
    }
    ProductSnapshot {
        id,
        version,
        slug: slug.into(),
        title: format!("Product {slug}"),
        description: "Soft and well made.".into(),
        brand: named(brand, &brand.to_uppercase()),
        categories: vec![named("clothing", "Clothing"), named(category, category)],
        tags: vec!["cotton".into()],
        images: vec![Image {
            url: format!("/media/placeholders/{category}.svg"),
            alt: format!("{slug}, front"),
        }],
        attributes: Default::default(),
        published: true,
        rating: Rating {
            average: (id % 5) as f32,
            count: id as u32,
        },
        variants,
        updated_at: "2026-11-25T00:00:00Z".into(),
    }
}

/// What the consumer does after applying: makes cached pages stale.
async fn invalidate(app: &TestApp) {
    let database = app.mysql_url.rsplit('/').next().unwrap();
    let client = redis::Client::open(testkit::redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let _: u64 = redis::cmd("INCR")
        .arg(format!("{database}:catalog:generation"))
        .query_async(&mut redis)
        .await
        .unwrap();
    // A replica trusts the generation it read for 250 ms.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

pub async fn apply(app: &TestApp, snapshot: &ProductSnapshot) -> bool {
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    let applied = cell::catalog::apply::upsert(&mut tx, snapshot, None)
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    tx.commit().await.unwrap();
    invalidate(app).await;
    applied
}

async fn delete(app: &TestApp, id: u64, version: u64) -> bool {
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    let applied = cell::catalog::apply::delete(&mut tx, id, version)
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    tx.commit().await.unwrap();
    invalidate(app).await;
    applied
}

async fn list(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/api/products?{query}")).await;
    assert_eq!(response.status(), 200, "GET /api/products?{query}");
    response.json().await.unwrap()
}

fn slugs(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["slug"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn snapshots_apply_by_version_and_deletes_leave_tombstones() {
    let mut app = spawn_app().await;
    assert!(apply(&app, &product(1, 2, "oxford", "shirts", "acme", 4500)).await);
    let mut older = product(1, 1, "oxford-old", "shirts", "acme", 100);
    older.title = "stale".into();
    assert!(!apply(&app, &older).await, "an older version is ignored");
    assert!(
        !apply(&app, &product(1, 2, "oxford", "shirts", "acme", 4500)).await,
        "a replay is ignored"
    );
    let detail: Value = app.get("/api/products/oxford").await.json().await.unwrap();
    assert_eq!(detail["title"], "Product oxford");
    assert_eq!(detail["variants"].as_array().unwrap().len(), 3);

    // The slug moves to another product before the first one's rename
    // arrives: the newcomer gets it.
    assert!(apply(&app, &product(2, 1, "oxford", "shirts", "acme", 5000)).await);
    let detail: Value = app.get("/api/products/oxford").await.json().await.unwrap();
    assert_eq!(detail["id"], 2);

    assert!(delete(&app, 2, 2).await);
    assert_eq!(
        code_of(app.get("/api/products/oxford").await).await,
        (404, "product_not_found".into())
    );
    assert!(
        !apply(&app, &product(2, 1, "oxford", "shirts", "acme", 5000)).await,
        "a deleted product does not come back from an older snapshot"
    );
    let mut unpublished = product(3, 1, "hidden", "shirts", "acme", 5000);
    unpublished.published = false;
    apply(&app, &unpublished).await;
    assert_eq!(code_of(app.get("/api/products/hidden").await).await.0, 404);
    app.begin_shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn the_list_filters_sorts_and_pages() {
    let mut app = spawn_app().await;
    for id in 1..=30u64 {
        let (category, brand) = if id % 3 == 0 {
            ("jeans", "denimco")
        } else {
            ("shirts", "acme")
        };
        let mut p = product(
            id,
            1,
            &format!("p-{id:02}"),
            category,
            brand,
            1000 + id as i64 * 100,
        );
        if id % 10 == 0 {
            p.variants.retain(|v| v.colour != "white");
        }
        apply(&app, &p).await;
    }
    // Newest first, 24 a page by default, then the rest.
    let first = list(&app, "").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 24);
    assert_eq!(slugs(&first)[0], "p-30");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = list(&app, &format!("cursor={cursor}")).await;
    assert_eq!(slugs(&second).len(), 6);
    assert!(second["next_cursor"].is_null());

    // Walking price_asc 7 at a time visits every product once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("sort=price_asc&limit=7&cursor={c}"),
            None => "sort=price_asc&limit=7".into(),
        };
        let page = list(&app, &query).await;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["price_minor"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");

    let jeans = list(&app, "category=jeans&limit=100").await;
    assert_eq!(slugs(&jeans).len(), 10);
    let clothing = list(&app, "category=clothing&limit=100").await;
    assert_eq!(
        slugs(&clothing).len(),
        30,
        "a parent lists its children's products"
    );
    let acme = list(&app, "brand=acme&limit=100").await;
    assert_eq!(slugs(&acme).len(), 20);
    let white = list(&app, "colour=White&limit=100").await;
    assert_eq!(slugs(&white).len(), 27);
    let navy_l = list(&app, "size=L&colour=navy&limit=100").await;
    assert_eq!(slugs(&navy_l).len(), 30);
    let priced = list(&app, "min_price=2000&max_price=2500&sort=price_desc").await;
    assert_eq!(
        slugs(&priced),
        ["p-15", "p-14", "p-13", "p-12", "p-11", "p-10"]
    );
    let summary = &priced["items"][0];
    assert_eq!(
        summary["brand"],
        json!({"slug": "denimco", "name": "DENIMCO"})
    );
    assert_eq!(summary["category"]["slug"], "jeans");
    assert_eq!(summary["colours"], json!(["navy", "white"]));
    assert_eq!(summary["image"]["alt"], "p-15, front");
    assert_eq!(summary["in_stock"], false);
    assert!(slugs(&list(&app, "in_stock=true").await).is_empty());

    let brands: Value = app.get("/api/brands").await.json().await.unwrap();
    assert_eq!(
        brands["items"],
        json!([{"slug": "acme", "name": "ACME", "products": 20}, {"slug": "denimco", "name": "DENIMCO", "products": 10}])
    );
    let categories: Value = app.get("/api/categories").await.json().await.unwrap();
    assert_eq!(
        categories["items"][0],
        json!({"slug": "clothing", "name": "Clothing", "parent": null, "products": 30})
    );
    app.begin_shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn bad_list_queries_get_a_code() {
    let mut app = spawn_app().await;
    for (query, code) in [
        ("limit=0", "invalid_query"),
        ("limit=500", "invalid_query"),
        ("sort=cheapest", "invalid_query"),
        ("min_price=-5", "invalid_query"),
        ("min_price=9&max_price=1", "invalid_query"),
        ("limit=ten", "invalid_query"),
        ("colour=red&color=red", "invalid_query"),
        ("cursor=garbage", "invalid_cursor"),
    ] {
        let response = app.get(&format!("/api/products?{query}")).await;
        assert_eq!(code_of(response).await, (400, code.to_owned()), "{query}");
    }
    let missing = app.get("/api/products/no-such-thing").await;
    assert_eq!(code_of(missing).await, (404, "product_not_found".into()));
    app.begin_shutdown().await.unwrap().unwrap();
}

impl Cases {
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn one<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

/// The shelf (the list in memory) answers every page exactly as the read
/// model's SQL does: random products and stock, random filters, sorts and
/// page sizes, each page and the cursor chain compared whole.
#[tokio::test]
async fn the_shelf_answers_lists_as_the_sql_does() {
    const LEAVES: [(&str, &str); 4] = [
        ("shirts", "tops"),
        ("knitwear", "tops"),
        ("jeans", "trousers"),
        ("chinos", "trousers"),
    ];
    const BRANDS: [&str; 3] = ["acme", "harbour", "tailor"];
    const SIZES: [&str; 5] = ["S", "M", "L", "32", "34"];
    const COLOURS: [&str; 4] = ["navy", "white", "olive", "grey"];
    const WORDS: [&str; 6] = ["Oxford", "Linen", "Navy", "Slim", "Wool", "Field"];
    let mut app = spawn_app().await;
    let mut draw = Cases(0x0dd_ba11);
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    for id in 1..=240u64 {
        let (leaf, top) = LEAVES[draw.below(4) as usize];
        let brand = draw.one(&BRANDS);
        // Few prices and ratings, so ties are common and the id breaks them.
        let mut p = product(
            id,
            1,
            &format!("p-{id}"),
            leaf,
            brand,
            1_000 * (1 + draw.below(6) as i64),
        );
        p.categories = vec![named(top, top), named(leaf, leaf)];
        p.title = format!("{} {}", draw.one(&WORDS), draw.one(&WORDS));
        p.rating.average = [0.0, 3.5, 4.0, 4.5][draw.below(4) as usize];
        p.variants.truncate(0);
        for i in 0..1 + draw.below(4) {
            p.variants.push(Variant {
                sku: format!("P{id}-{i}"),
                size: draw.one(&SIZES).into(),
                colour: draw.one(&COLOURS).into(),
                price_minor: p
                    .variants
                    .first()
                    .map_or(1_000 * (1 + draw.below(6) as i64), |v| v.price_minor + 500),
                currency: "GBP".into(),
                compare_at_minor: None,
            });
        }
        p.published = draw.below(10) != 0;
        // A product page shows every image and attribute.
        p.images.push(Image {
            url: format!("/images/{id}-back.jpg"),
            alt: format!("p-{id}, back"),
        });
        p.attributes
            .insert("material".into(), draw.one(&["cotton", "wool"]).into());
        if draw.below(2) == 0 {
            p.variants[0].compare_at_minor = Some(p.variants[0].price_minor + 1_000);
        }
        cell::catalog::apply::upsert(&mut tx, &p, None)
            .await
            .map_err(|e| e.to_string())
            .unwrap();
        let (held, hint) = [(0, 0), (3, 0), (0, 7)][draw.below(3) as usize];
        sqlx::query("INSERT INTO cell_stock (sku, held, global_hint) VALUES (?, ?, ?)")
            .bind(&p.variants[0].sku)
            .bind(held)
            .bind(hint)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    invalidate(&app).await;
    // Written behind the consumer's back: the shelf is behind until the
    // indexer reads the read model again.
    let before = answered_by_shelf(&app, "lists").await;
    let pages_before = answered_by_shelf(&app, "product_pages").await;
    list(&app, "").await;
    app.get("/api/products/p-1").await;
    assert_eq!(
        answered_by_shelf(&app, "lists").await,
        before,
        "a stale shelf stays out"
    );
    assert_eq!(
        answered_by_shelf(&app, "product_pages").await,
        pages_before,
        "a stale shelf stays out of product pages too"
    );
    let (_, rebuilt) = app.rebuild_search().await;
    assert!(rebuilt["products"].as_u64().unwrap() > 150);

    let read = sqlx::MySqlPool::connect(&app.mysql_url).await.unwrap();
    let redis = redis::Client::open(testkit::redis_url())
        .unwrap()
        .get_connection_manager()
        .await
        .unwrap();
    let sql = cell::catalog::Products::new(
        read,
        cell::catalog::cache::Cache::new(redis, "oracle:", std::time::Duration::from_secs(1), 10),
        3,
    );
    let mut pages = 0;
    for case in 0..80 {
        let mut query = vec![format!("limit={}", 1 + draw.below(12))];
        let sort = ["newest", "price_asc", "price_desc", "rating", "title"][draw.below(5) as usize];
        query.push(format!("sort={sort}"));
        if draw.below(2) == 0 {
            let (leaf, top) = LEAVES[draw.below(4) as usize];
            query.push(format!(
                "category={}",
                [leaf, top, "nowhere"][draw.below(3) as usize]
            ));
        }
        if draw.below(3) == 0 {
            query.push(format!("brand={}", draw.one(&BRANDS)));
        }
        if draw.below(3) == 0 {
            // Either case: the SQL compares sizes and colours case-blind.
            let size = draw.one(&SIZES);
            query.push(format!(
                "size={}",
                if draw.below(2) == 0 {
                    size.to_lowercase()
                } else {
                    size.to_owned()
                }
            ));
        }
        if draw.below(3) == 0 {
            query.push(format!("colour={}", draw.one(&COLOURS).to_uppercase()));
        }
        if draw.below(3) == 0 {
            let low = 1_000 * draw.below(5) as i64;
            query.push(format!("min_price={low}&max_price={}", low + 2_000));
        }
        if draw.below(4) == 0 {
            query.push("in_stock=true".into());
        }
        let query = query.join("&");
        let mut cursor: Option<String> = None;
        for _ in 0..4 {
            let full = match &cursor {
                Some(c) => format!("{query}&cursor={c}"),
                None => query.clone(),
            };
            let answered = list(&app, &full).await;
            pages += 1;
            let params = serde_urlencoded::from_str(&full).unwrap();
            let list = cell::catalog::query::List::parse(params).unwrap();
            let expected = serde_json::to_value(sql.list_uncached(&list).await.unwrap()).unwrap();
            assert_eq!(answered, expected, "case {case}: GET /api/products?{full}");
            match answered["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
    }
    assert!(
        answered_by_shelf(&app, "lists").await >= before + pages,
        "every page came from the shelf"
    );
    // Product pages come from the shelf too, each variant's stock with them.
    let mut asked = 0;
    for id in (1..=240u64).step_by(7).chain([9_999]) {
        asked += 1;
        let slug = format!("p-{id}");
        let response = app.get(&format!("/api/products/{slug}")).await;
        let expected = match sql.detail(&slug).await {
            Ok(detail) => serde_json::to_value(detail).unwrap(),
            Err(_) => {
                assert_eq!(response.status(), 404, "{slug}");
                continue;
            }
        };
        let answered: Value = response.json().await.unwrap();
        assert_eq!(answered, expected, "GET /api/products/{slug}");
    }
    assert_eq!(
        answered_by_shelf(&app, "product_pages").await,
        pages_before + asked,
        "every product page came from the shelf, the unknown one too"
    );
    app.begin_shutdown().await.unwrap().unwrap();
}

/// `cellwear_catalog_{what}_total{answered_by="shelf"}`.
async fn answered_by_shelf(app: &TestApp, what: &str) -> u64 {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let series = format!("cellwear_catalog_{what}_total{{answered_by=\"shelf\"}}");
    metrics
        .lines()
        .find(|l| l.starts_with(&series))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}
