//! Search and recommendations: relevance, typos, highlights, bad input,
//! facet counts against a SQL oracle, semantic and hybrid search, similar
//! products, and picks that follow a shopper's views.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use sqlx::{Connection, Row};
use wire::catalog::{Image, Named, ProductEmbedding, ProductSnapshot, Rating, Variant};

use crate::helpers::{Cases, TestApp, code_of, spawn_app};

const COLOURS: [&str; 4] = ["navy", "black", "grey", "olive"];
const MATERIALS: [&str; 4] = ["wool", "cotton", "linen", "tweed"];
/// (item, leaf slug, leaf name, top slug, top name, sizes)
type Item = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);
const ITEMS: [Item; 4] = [
    (
        "blazer",
        "blazers",
        "Blazers",
        "tailoring",
        "Tailoring",
        &["38", "40", "42"],
    ),
    (
        "shirt",
        "shirts",
        "Shirts",
        "tops",
        "Tops",
        &["S", "M", "L"],
    ),
    (
        "chinos",
        "chinos",
        "Chinos",
        "trousers",
        "Trousers",
        &["30", "32"],
    ),
    (
        "jumper",
        "knitwear",
        "Knitwear",
        "tops",
        "Tops",
        &["M", "L", "XL"],
    ),
];
const BRANDS: [(&str, &str); 2] = [("acme", "Acme"), ("harbour", "Harbour")];
const RATINGS: [f32; 4] = [2.0, 3.5, 4.0, 4.5];

fn named(slug: &str, name: &str) -> Named {
    Named {
        slug: slug.into(),
        name: name.into(),
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// 128 products: every colour × material × item × brand. Every third has a
/// white variant too; two of every three are in stock here.
fn catalog() -> Vec<ProductSnapshot> {
    let mut out = Vec::new();
    let mut id = 0u64;
    for colour in COLOURS {
        for material in MATERIALS {
            for (item, leaf, leaf_name, top, top_name, sizes) in ITEMS {
                for (brand, brand_name) in BRANDS {
                    id += 1;
                    let mut colours = vec![colour];
                    if id.is_multiple_of(3) {
                        colours.push("white");
                    }
                    let price = 3000 + (id * 137 % 40) as i64 * 500;
                    let mut variants = Vec::new();
                    for c in &colours {
                        for size in sizes {
                            variants.push(Variant {
                                sku: format!("S{id}-{c}-{size}"),
                                size: (*size).into(),
                                colour: (*c).into(),
                                price_minor: price,
                                currency: "GBP".into(),
                                compare_at_minor: None,
                            });
                        }
                    }
                    out.push(ProductSnapshot {
                        id,
                        version: 1,
                        slug: format!("{colour}-{material}-{item}-{brand}"),
                        title: format!("{} {material} {item}", capitalised(colour)),
                        description: "Made with care in Portugal.".into(),
                        brand: named(brand, brand_name),
                        categories: vec![named(top, top_name), named(leaf, leaf_name)],
                        tags: vec!["menswear".into()],
                        images: vec![Image {
                            url: format!("/media/placeholders/{leaf}.svg"),
                            alt: format!("{colour} {item}"),
                        }],
                        attributes: Default::default(),
                        published: true,
                        rating: Rating {
                            average: RATINGS[(id % 4) as usize],
                            count: 3,
                        },
                        variants,
                        updated_at: "2026-11-25T00:00:00Z".into(),
                    });
                }
            }
        }
    }
    out
}

fn in_stock(id: u64) -> bool {
    id % 3 != 1
}

fn text_of(p: &ProductSnapshot) -> String {
    let path: Vec<&str> = p.categories.iter().map(|c| c.name.as_str()).collect();
    format!(
        "{}. {} {}. {}",
        p.title,
        p.brand.name,
        path.join(" "),
        p.description
    )
}

fn model() -> &'static embeddings::Embedder {
    static MODEL: OnceLock<embeddings::Embedder> = OnceLock::new();
    MODEL.get_or_init(|| {
        embeddings::Embedder::load(&testkit::model_dir()).expect("run `cargo xtask models`")
    })
}

/// Applies the catalog (with vectors when `vectors`), stocks it, and
/// rebuilds the cell's search index; returns an SRE's token.
async fn stocked(app: &TestApp, products: &[ProductSnapshot], vectors: bool) -> String {
    let embeddings: Vec<Option<ProductEmbedding>> = if vectors {
        let texts: Vec<String> = products.iter().map(text_of).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        model()
            .embed(&refs)
            .unwrap()
            .into_iter()
            .map(|v| {
                Some(ProductEmbedding {
                    model: embeddings::MODEL.into(),
                    vector: embeddings::encode(&v),
                })
            })
            .collect()
    } else {
        vec![None; products.len()]
    };
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    for (p, e) in products.iter().zip(&embeddings) {
        cell::catalog::apply::upsert(&mut tx, p, e.as_ref())
            .await
            .map_err(|e| e.to_string())
            .unwrap();
        if in_stock(p.id) {
            sqlx::query("INSERT INTO cell_stock (sku, held, global_hint) VALUES (?, 5, 0)")
                .bind(&p.variants[0].sku)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    let (token, rebuilt) = app.rebuild_search().await;
    assert_eq!(rebuilt["products"], products.len());
    token
}

async fn search(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/api/search?{query}")).await;
    assert_eq!(response.status(), 200, "GET /api/search?{query}");
    response.json().await.unwrap()
}

fn titles(results: &Value) -> Vec<String> {
    results["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["product"]["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn words_rank_typos_are_forgiven_and_bad_input_is_refused() {
    let app = spawn_app().await;
    let products = catalog();
    stocked(&app, &products, false).await;

    let results = search(&app, "q=navy+wool+blazer").await;
    let top = titles(&results);
    assert_eq!(
        results["total"], 2,
        "only navy wool blazers hold every word"
    );
    assert_eq!(&top[..2], ["Navy wool blazer", "Navy wool blazer"]);
    assert_eq!(results["relaxed"], false);
    let first = &results["items"][0];
    assert_eq!(
        first["highlights"]["title"],
        "<b>Navy</b> <b>wool</b> <b>blazer</b>"
    );

    // A typo in a longer word still finds them, first.
    let results = search(&app, "q=navy+wool+blazzer").await;
    assert_eq!(
        &titles(&results)[..2],
        ["Navy wool blazer", "Navy wool blazer"]
    );
    // Words no product holds together: products holding some, best first.
    let results = search(&app, "q=navy+wool+sandals").await;
    assert_eq!(results["relaxed"], true);
    assert!(titles(&results)[0].starts_with("Navy wool"));

    // Query syntax is only text.
    for q in [
        "navy%20AND%20(wool%22%20OR%20title:blazer~2%5E3",
        "%2B%2B%2B---",
        "*",
        "%5C%5C%5C",
    ] {
        search(&app, &format!("q={q}")).await;
    }
    // Sorting and paging.
    let cheap = search(&app, "q=blazer&sort=price_asc&limit=5").await;
    let prices: Vec<i64> = cheap["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["product"]["price_minor"].as_i64().unwrap())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let page2 = search(&app, "q=blazer&sort=price_asc&limit=5&page=2").await;
    assert_eq!(page2["total"], cheap["total"]);
    assert!(
        page2["items"][0]["product"]["price_minor"]
            .as_i64()
            .unwrap()
            >= prices[4],
        "page 2 goes on where page 1 ended"
    );

    // An unknown facet value matches nothing and says so.
    let none = search(&app, "brand=nobody").await;
    assert_eq!(none["total"], 0);
    assert!(
        none["facets"]["brand"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "nobody" && f["count"] == 0 && f["selected"] == true)
    );

    let long = "a".repeat(201);
    for (query, code) in [
        (format!("q={long}"), "query_too_long"),
        ("sort=cheapest".into(), "invalid_query"),
        ("limit=0".into(), "invalid_query"),
        ("page=0".into(), "invalid_query"),
        ("page=500&limit=100".into(), "invalid_query"),
        ("min_price=-1".into(), "invalid_query"),
        ("min_price=10&max_price=5".into(), "invalid_query"),
        ("rating_min=6".into(), "invalid_query"),
        ("mode=magic&q=x".into(), "invalid_query"),
        ("mode=semantic".into(), "invalid_query"),
        (
            "colour=".to_owned()
                + &(0..30)
                    .map(|i| format!("c{i}"))
                    .collect::<Vec<_>>()
                    .join(","),
            "invalid_query",
        ),
        ("filter=brand".into(), "invalid_query"),
    ] {
        let (status, got) = code_of(app.get(&format!("/api/search?{query}")).await).await;
        assert_eq!((status, got.as_str()), (400, code), "{query}");
    }

    // Autocomplete: brands and categories by name, products by prefix.
    let suggest: Value = app
        .get("/api/search/suggest?q=navy+wool+bla")
        .await
        .json()
        .await
        .unwrap();
    let first = &suggest["items"][0];
    assert_eq!(first["kind"], "product");
    assert_eq!(first["text"], "Navy wool blazer");
    let suggest: Value = app
        .get("/api/search/suggest?q=harb")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(suggest["items"][0]["kind"], "brand");
    assert_eq!(suggest["items"][0]["slug"], "harbour");
    let (status, _) = code_of(app.get("/api/search/suggest?q=").await).await;
    assert_eq!(status, 400);
}

impl Cases {
    fn pick<'a>(&mut self, from: &[&'a str], most: usize) -> Vec<&'a str> {
        let n = (self.next() % (most as u64 + 1)) as usize;
        let mut out: Vec<&str> = Vec::new();
        for _ in 0..n {
            let v = from[(self.next() % from.len() as u64) as usize];
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}

#[derive(Debug, Default)]
struct Combo<'a> {
    word: Option<&'a str>,
    brand: Vec<&'a str>,
    size: Vec<&'a str>,
    colour: Vec<&'a str>,
    category: Vec<&'a str>,
    min_price: Option<i64>,
    rating_min: Option<f32>,
    in_stock: bool,
}

fn list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(",")
}

fn json_list(values: &[&str]) -> String {
    format!(
        "'[{}]'",
        values
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(",")
    )
}

impl Combo<'_> {
    fn query(&self) -> String {
        let mut q = vec!["limit=1".to_owned()];
        if let Some(w) = self.word {
            q.push(format!("q={w}"));
        }
        for (name, values) in [
            ("brand", &self.brand),
            ("size", &self.size),
            ("colour", &self.colour),
            ("category", &self.category),
        ] {
            if !values.is_empty() {
                q.push(format!("{name}={}", values.join(",")));
            }
        }
        if let Some(p) = self.min_price {
            q.push(format!("min_price={p}"));
        }
        if let Some(r) = self.rating_min {
            q.push(format!("rating_min={r}"));
        }
        if self.in_stock {
            q.push("in_stock=true".into());
        }
        q.join("&")
    }

    /// The WHERE clause, leaving out the facet `except`. The values come
    /// from the fixed lists above, never from outside.
    fn sql(&self, except: &str) -> String {
        let mut w = vec!["p.listed = TRUE".to_owned()];
        if let Some(word) = self.word {
            w.push(format!("LOWER(p.title) LIKE '%{word}%'"));
        }
        if except != "brand" && !self.brand.is_empty() {
            w.push(format!("p.brand_slug IN ({})", list(&self.brand)));
        }
        if except != "size" && !self.size.is_empty() {
            w.push(format!("JSON_OVERLAPS(p.sizes, {})", json_list(&self.size)));
        }
        if except != "colour" && !self.colour.is_empty() {
            w.push(format!(
                "JSON_OVERLAPS(p.colours, {})",
                json_list(&self.colour)
            ));
        }
        if except != "category" && !self.category.is_empty() {
            w.push(format!(
                "EXISTS (SELECT 1 FROM catalog_product_categories c WHERE c.product_id = p.id AND c.category_slug IN ({}))",
                list(&self.category)
            ));
        }
        if let Some(price) = self.min_price {
            w.push(format!("p.min_price >= {price}"));
        }
        if let Some(r) = self.rating_min {
            w.push(format!("p.rating_avg >= {r}"));
        }
        if except != "in_stock" && self.in_stock {
            w.push(
                "EXISTS (SELECT 1 FROM catalog_variants v JOIN cell_stock s ON s.sku = v.sku \
                 WHERE v.product_id = p.id AND (s.held > 0 OR s.global_hint > 0))"
                    .into(),
            );
        }
        w.join(" AND ")
    }
}

async fn counts(conn: &mut sqlx::MySqlConnection, sql: String) -> BTreeMap<String, u64> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get::<String, _>(0), row.get::<i64, _>(1) as u64))
        .collect()
}

fn facet(results: &Value, name: &str) -> BTreeMap<String, u64> {
    results["facets"][name]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["count"].as_u64().unwrap() > 0)
        .map(|f| {
            (
                f["value"].as_str().unwrap().to_owned(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn facet_counts_equal_a_sql_oracle() {
    let app = spawn_app().await;
    stocked(&app, &catalog(), false).await;
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let sizes = ["38", "40", "42", "S", "M", "L", "30", "32", "XL"];
    let colours = ["navy", "black", "grey", "olive", "white"];
    let categories = [
        "blazers",
        "shirts",
        "chinos",
        "knitwear",
        "tops",
        "tailoring",
        "trousers",
    ];
    let mut cases = Cases(0x5eed_cafe);
    for case in 0..30 {
        let combo = Combo {
            word: [None, Some("blazer"), Some("linen"), Some("navy")][(cases.next() % 4) as usize],
            brand: cases.pick(&["acme", "harbour"], 1),
            size: cases.pick(&sizes, 2),
            colour: cases.pick(&colours, 2),
            category: cases.pick(&categories, 2),
            min_price: cases.next().is_multiple_of(3).then_some(10_000),
            rating_min: cases.next().is_multiple_of(3).then_some(3.5),
            in_stock: cases.next().is_multiple_of(2),
        };
        let results = search(&app, &combo.query()).await;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM catalog_products p WHERE {}",
            combo.sql("")
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(results["total"], total, "case {case}: total of {combo:?}");
        let brand = counts(
            &mut conn,
            format!(
                "SELECT p.brand_slug, COUNT(*) FROM catalog_products p WHERE {} GROUP BY 1",
                combo.sql("brand")
            ),
        )
        .await;
        assert_eq!(
            facet(&results, "brand"),
            brand,
            "case {case}: brands of {combo:?}"
        );
        for (name, column) in [("size", "sizes"), ("colour", "colours")] {
            let expected = counts(
                &mut conn,
                format!(
                    "SELECT j.v, COUNT(*) FROM catalog_products p, \
                     JSON_TABLE(p.{column}, '$[*]' COLUMNS (v VARCHAR(32) PATH '$')) j WHERE {} GROUP BY 1",
                    combo.sql(name)
                ),
            )
            .await;
            assert_eq!(
                facet(&results, name),
                expected,
                "case {case}: {name} of {combo:?}"
            );
        }
        let category = counts(
            &mut conn,
            format!(
                "SELECT p.category_slug, COUNT(*) FROM catalog_products p WHERE {} GROUP BY 1",
                combo.sql("category")
            ),
        )
        .await;
        assert_eq!(
            facet(&results, "category"),
            category,
            "case {case}: categories of {combo:?}"
        );
        let stocked: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM catalog_products p WHERE {} AND EXISTS (SELECT 1 FROM catalog_variants v \
             JOIN cell_stock s ON s.sku = v.sku WHERE v.product_id = p.id AND (s.held > 0 OR s.global_hint > 0))",
            combo.sql("in_stock")
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            results["facets"]["in_stock"], stocked,
            "case {case}: in stock of {combo:?}"
        );
    }
}

#[tokio::test]
async fn vectors_find_meaning_similar_products_and_what_a_shopper_likes() {
    let app = spawn_app().await;
    let products = catalog();
    stocked(&app, &products, true).await;

    // Words that are in no title, found by meaning.
    let results = search(&app, "mode=semantic&q=a+tailored+jacket+for+the+office").await;
    let top = titles(&results);
    assert!(
        top[..3].iter().all(|t| t.ends_with("blazer")),
        "semantic top 3: {top:?}"
    );
    let hybrid = search(&app, "mode=hybrid&q=navy+wool+blazer").await;
    assert_eq!(titles(&hybrid)[0], "Navy wool blazer");
    let filtered = search(&app, "mode=semantic&q=warm+knit&in_stock=true&brand=acme").await;
    assert!(
        filtered["items"].as_array().unwrap().iter().all(|h| {
            h["product"]["in_stock"] == true && h["product"]["brand"]["slug"] == "acme"
        })
    );

    // Similar: never the product itself, never out of stock.
    let similar: Value = app
        .get("/api/products/navy-wool-blazer-acme/similar?limit=8")
        .await
        .json()
        .await
        .unwrap();
    let items = similar["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    assert!(items.iter().all(|p| p["slug"] != "navy-wool-blazer-acme"));
    assert!(items.iter().all(|p| p["in_stock"] == true));
    assert!(items[0]["title"].as_str().unwrap().ends_with("blazer"));
    let (status, code) = code_of(app.get("/api/products/nothing-here/similar").await).await;
    assert_eq!((status, code.as_str()), (404, "product_not_found"));

    // For you: trending (here: best rated) without history, then what the
    // shopper looked at.
    let for_you = |app: &TestApp| {
        let request = app
            .client
            .get(format!(
                "{}/api/recommendations/for-you?limit=6",
                app.address
            ))
            .header(cell::SHOPPER_KEY_HEADER, "shopper-test-1");
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let before = for_you(&app).await;
    assert_eq!(before["fallback"], "trending");
    for slug in [
        "olive-cotton-chinos-acme",
        "grey-linen-chinos-harbour",
        "black-tweed-chinos-acme",
    ] {
        let response = app
            .client
            .get(format!("{}/api/products/{slug}", app.address))
            .header(cell::SHOPPER_KEY_HEADER, "shopper-test-1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // Views are written in batches.
    let mut after = before.clone();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = for_you(&app).await;
        if after["fallback"].is_null() {
            break;
        }
    }
    assert!(after["fallback"].is_null(), "{after}");
    let picked: Vec<&str> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(
        picked.iter().filter(|t| t.ends_with("chinos")).count() >= 4,
        "after viewing chinos: {picked:?}"
    );
    let viewed = [
        "olive-cotton-chinos-acme",
        "grey-linen-chinos-harbour",
        "black-tweed-chinos-acme",
    ];
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| !viewed.contains(&p["slug"].as_str().unwrap())),
        "what was viewed is not offered again: {picked:?}"
    );
    assert_ne!(before["items"], after["items"]);
}

#[tokio::test]
async fn bought_together_counts_what_was_bought_in_one_order() {
    let app = spawn_app().await;
    let products = catalog();
    stocked(&app, &products, false).await;
    let id = |slug: &str| products.iter().find(|p| p.slug == slug).unwrap().id;
    let blazer = id("navy-wool-blazer-acme");
    let shirt = id("grey-cotton-shirt-harbour");
    let chinos = id("olive-linen-chinos-acme");
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    for (shopper, order) in [
        ("a", vec![blazer, shirt, chinos]),
        ("b", vec![blazer, shirt]),
        ("c", vec![blazer, shirt, shirt]),
    ] {
        let mut tx = conn.begin().await.unwrap();
        cell::search::activity::purchased(&mut tx, shopper, &order)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let together: Value = app
        .get("/api/products/navy-wool-blazer-acme/bought-together")
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = together["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        ["grey-cotton-shirt-harbour", "olive-linen-chinos-acme"]
    );
    let alone: Value = app
        .get("/api/products/black-tweed-jumper-acme/bought-together")
        .await
        .json()
        .await
        .unwrap();
    assert!(alone["items"].as_array().unwrap().is_empty());
    let (status, _) = code_of(app.get("/api/products/nothing/bought-together").await).await;
    assert_eq!(status, 404);
    let (status, code) = code_of(
        app.get("/api/products/navy-wool-blazer-acme/bought-together?limit=0")
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "invalid_query"));
    // Without any view anywhere, trending is the best rated.
    let trending: Value = app
        .get("/api/recommendations/trending?limit=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(trending["fallback"], "top_rated");
    assert!(
        trending["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["rating"]["average"] == 4.5)
    );
}
