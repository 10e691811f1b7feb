//! `cargo xtask bench search`: a cell's search under load, with MariaDB
//! doing the same faceted search beside it. Seeds the catalog through the
//! control plane (which embeds every product), waits until the cell's index
//! holds all of it, then measures, one workload after another:
//!
//! * faceted text queries — two or three words from a product title plus
//!   random brand, size, colour, price and stock filters, one page with
//!   every facet's counts;
//! * semantic queries, each one new (so the query embedding is always
//!   computed, never served from the cell's cache);
//! * similar products of random products;
//! * the faceted queries again, answered by MariaDB from a copy of the cell's
//!   products with a FULLTEXT index: the page, the total and each facet's
//!   GROUP BY, as a shop on SQL alone would run them.
//!
//! Prints p50/p95/p99 and the ratio, and writes
//! target/reports/bench-search.json.

use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use sqlx::{Connection, Row};

use crate::bench::{Latencies, Summary};
use crate::bench_catalog::{Shop, fetch, seeded_shop};
use crate::http::{self, thousands};
use crate::root;
use crate::seed::catalog::{self, DEFAULT_SEED, Rng};
use crate::tools::step;

#[derive(Debug)]
pub struct SearchBench {
    pub products: usize,
    pub concurrency: usize,
    pub semantic_concurrency: usize,
    pub duration_s: u64,
    pub cell: Option<String>,
}

const WARM_UP: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CATCH_UP_LIMIT: Duration = Duration::from_secs(60 * 60);
const FACETED_TARGET_MS: f64 = 10.0;
const SEMANTIC_TARGET_MS: f64 = 50.0;
const OCCASIONS: &[&str] = &[
    "for a summer wedding",
    "for the office",
    "to wear at the weekend",
    "for a cold winter walk",
    "for a night out",
    "for travelling light",
    "for a job interview",
    "for the beach",
];

/// One faceted search, as both engines are asked it.
#[derive(Debug, Clone)]
struct Faceted {
    words: Vec<String>,
    brand: Option<String>,
    size: Option<String>,
    colour: Option<String>,
    price: Option<(i64, i64)>,
    in_stock: bool,
}

struct Workload {
    shop: Shop,
    titles: Vec<String>,
}

impl Workload {
    fn faceted(&self, rng: &mut Rng) -> Faceted {
        let title = rng.pick(&self.titles);
        let words: Vec<String> = title
            .split_whitespace()
            .map(str::to_lowercase)
            .filter(|w| w.len() > 2)
            .collect();
        let keep = (2 + rng.below(2)).min(words.len());
        let category = rng.pick(&self.shop.categories);
        Faceted {
            words: words.into_iter().take(keep).collect(),
            brand: rng.chance(30).then(|| rng.pick(&self.shop.brands).clone()),
            size: (rng.chance(30) && !category.sizes.is_empty())
                .then(|| rng.pick(&category.sizes).clone()),
            colour: (rng.chance(30) && !category.colours.is_empty())
                .then(|| rng.pick(&category.colours).clone()),
            price: rng.chance(30).then(|| {
                let low = rng.range(0, 15_000);
                (low, low + rng.range(2_000, 30_000))
            }),
            in_stock: rng.chance(30),
        }
    }

    /// A sentence no earlier request asked (words of two titles and an
    /// occasion), so the cell must embed it.
    fn semantic(&self, rng: &mut Rng) -> String {
        let a = rng.pick(&self.titles).to_lowercase();
        let b = rng.pick(&self.titles).to_lowercase();
        let b = b.split_whitespace().last().unwrap_or_default().to_owned();
        format!(
            "{a} or a {b} {} #{}",
            rng.pick(OCCASIONS),
            rng.next_u64() % 1_000_000
        )
    }
}

impl Faceted {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("q", self.words.join(" ")), ("limit", "24".into())];
        if let Some(b) = &self.brand {
            q.push(("brand", b.clone()));
        }
        if let Some(s) = &self.size {
            q.push(("size", s.clone()));
        }
        if let Some(c) = &self.colour {
            q.push(("colour", c.clone()));
        }
        if let Some((low, high)) = self.price {
            q.push(("min_price", low.to_string()));
            q.push(("max_price", high.to_string()));
        }
        if self.in_stock {
            q.push(("in_stock", "true".into()));
        }
        q
    }
}

/// Runs `request` from `concurrency` threads for the warm-up and `seconds`.
fn http_load(
    concurrency: usize,
    seconds: u64,
    salt: u64,
    request: &(dyn Fn(&ureq::Agent, &mut Rng) -> Result<(), String> + Sync),
) -> anyhow::Result<Latencies> {
    let measure_from = Instant::now() + WARM_UP;
    let until = measure_from + Duration::from_secs(seconds);
    let results: Vec<std::thread::Result<Latencies>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..concurrency)
            .map(|id| {
                scope.spawn(move || {
                    let agent = http::agent(REQUEST_TIMEOUT);
                    let mut rng = Rng::for_item(salt, id as u64);
                    let mut l = Latencies::default();
                    while Instant::now() < until {
                        let started = Instant::now();
                        let outcome = request(&agent, &mut rng);
                        l.record(started, measure_from, outcome);
                    }
                    l
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join()).collect()
    });
    let mut all = Latencies::default();
    for r in results {
        all.merge(r.map_err(|_| anyhow!("a benchmark client panicked"))?);
    }
    Ok(all)
}

fn get(agent: &ureq::Agent, url: &str, query: &[(&str, String)]) -> Result<(), String> {
    let mut request = agent.get(url);
    for (k, v) in query {
        request = request.query(*k, v);
    }
    fetch(request, &format!("GET {url}")).map(|_| ())
}

#[derive(Debug, Serialize)]
struct Report {
    bench: &'static str,
    timestamp: String,
    cell: String,
    products: usize,
    published: usize,
    duration_s: u64,
    faceted_p99_ms: f64,
    semantic_p99_ms: f64,
    similar_p99_ms: f64,
    mariadb_faceted_p99_ms: f64,
    /// MariaDB's faceted p99 over the cell's.
    mariadb_over_cell_p99: f64,
    faceted_target_ms: f64,
    semantic_target_ms: f64,
    targets_met: bool,
    faceted: Summary,
    semantic: Summary,
    similar: Summary,
    mariadb_faceted: Summary,
}

pub fn run(options: &SearchBench) -> anyhow::Result<()> {
    if options.concurrency == 0 || options.semantic_concurrency == 0 || options.duration_s == 0 {
        bail!("--concurrency, --semantic-concurrency and --duration-s must be at least 1");
    }
    let topology =
        topology::Topology::load(&root().join("cells.yaml")).context("reading cells.yaml")?;
    let first = topology
        .cells
        .first()
        .context("cells.yaml lists no cells")?;
    let cell = match &options.cell {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", first.http),
    };
    let shop = seeded_shop(&cell, options.products)?;
    step("waiting for the cell's search index to hold it too");
    wait_for_index(&cell, shop.published.len() as u64)?;

    let titles: Vec<String> = (0..options.products)
        .map(|i| catalog::product(i, DEFAULT_SEED))
        .filter(|p| p.published)
        .map(|p| p.title)
        .collect();
    let work = Workload { shop, titles };
    let seconds = options.duration_s;
    let search_url = format!("{cell}/api/search");

    step(&format!(
        "faceted text search: {} clients, {seconds} s",
        options.concurrency
    ));
    let faceted = http_load(options.concurrency, seconds, 0xFACE7, &|agent, rng| {
        get(agent, &search_url, &work.faceted(rng).query())
    })?;
    step(&format!(
        "semantic search (every query new, so embedded): {} clients, {seconds} s",
        options.semantic_concurrency
    ));
    let semantic = http_load(
        options.semantic_concurrency,
        seconds,
        0x5E3A,
        &|agent, rng| {
            get(
                agent,
                &search_url,
                &[
                    ("q", work.semantic(rng)),
                    ("mode", "semantic".into()),
                    ("limit", "24".into()),
                ],
            )
        },
    )?;
    step(&format!(
        "similar products: {} clients, {seconds} s",
        options.concurrency
    ));
    let similar = http_load(options.concurrency, seconds, 0x5131, &|agent, rng| {
        let slug = rng.pick(&work.shop.published);
        get(
            agent,
            &format!("{cell}/api/products/{slug}/similar"),
            &[("limit", "12".into())],
        )
    })?;
    step(&format!(
        "the same faceted search in MariaDB (FULLTEXT + GROUP BY per facet): {} clients, {seconds} s",
        options.concurrency
    ));
    let mariadb = mariadb_load(&first.mysql, &work, options.concurrency, seconds)?;

    let s = seconds as f64;
    let faceted = Summary::of(faceted, options.concurrency, s);
    let semantic = Summary::of(semantic, options.semantic_concurrency, s);
    let similar = Summary::of(similar, options.concurrency, s);
    let mariadb_faceted = Summary::of(mariadb, options.concurrency, s);
    let report = Report {
        bench: "search",
        timestamp: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?,
        cell: cell.clone(),
        products: options.products,
        published: work.shop.published.len(),
        duration_s: seconds,
        faceted_p99_ms: faceted.p99_ms,
        semantic_p99_ms: semantic.p99_ms,
        similar_p99_ms: similar.p99_ms,
        mariadb_faceted_p99_ms: mariadb_faceted.p99_ms,
        mariadb_over_cell_p99: if faceted.p99_ms > 0.0 {
            mariadb_faceted.p99_ms / faceted.p99_ms
        } else {
            0.0
        },
        faceted_target_ms: FACETED_TARGET_MS,
        semantic_target_ms: SEMANTIC_TARGET_MS,
        targets_met: faceted.p99_ms <= FACETED_TARGET_MS
            && semantic.p99_ms <= SEMANTIC_TARGET_MS
            && faceted.requests > faceted.errors
            && semantic.requests > semantic.errors,
        faceted,
        semantic,
        similar,
        mariadb_faceted,
    };
    print(&report);
    let path = root().join("target/reports/bench-search.json");
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("bench: report written to {}", path.display());
    for (what, s) in [
        ("faceted", &report.faceted),
        ("semantic", &report.semantic),
        ("similar", &report.similar),
        ("mariadb", &report.mariadb_faceted),
    ] {
        if s.requests == s.errors {
            bail!(
                "no {what} request succeeded ({} failed): {}",
                s.errors,
                s.error_sample.as_deref().unwrap_or("?")
            );
        }
    }
    Ok(())
}

/// Waits until a search without words counts every published product.
fn wait_for_index(cell: &str, published: u64) -> anyhow::Result<()> {
    let agent = http::agent(REQUEST_TIMEOUT);
    let url = format!("{cell}/api/search?limit=1");
    let started = Instant::now();
    loop {
        let total = agent
            .get(url.as_str())
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_json::<serde_json::Value>().ok())
            .and_then(|v| v["total"].as_u64());
        match total {
            Some(t) if t >= published => return Ok(()),
            Some(t) => eprintln!(
                "bench: the index holds {} / {}",
                thousands(t),
                thousands(published)
            ),
            None => eprintln!("bench: the index is warming"),
        }
        if started.elapsed() > CATCH_UP_LIMIT {
            bail!("the cell's search index did not catch up");
        }
        sleep(Duration::from_secs(2));
    }
}

/// The cell's products copied into a scratch database on the cell's MariaDB
/// with a FULLTEXT index, then the faceted workload against it.
fn mariadb_load(
    cell_mysql: &str,
    work: &Workload,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<Latencies> {
    let (server, cell_db) = cell_mysql
        .rsplit_once('/')
        .context("the cell's mysql URL has no database")?;
    let bench_db = "cellwear_bench_search";
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut conn = sqlx::MySqlConnection::connect(server).await?;
        for statement in [
            format!("DROP DATABASE IF EXISTS {bench_db}"),
            format!("CREATE DATABASE {bench_db}"),
            format!(
                "CREATE TABLE {bench_db}.products (id BIGINT UNSIGNED PRIMARY KEY, title VARCHAR(200) NOT NULL, \
                 description TEXT NOT NULL, brand_slug VARCHAR(64) NOT NULL, category_slug VARCHAR(64) NOT NULL, \
                 min_price BIGINT NOT NULL, rating_avg FLOAT NOT NULL, colours JSON NOT NULL, sizes JSON NOT NULL, \
                 in_stock BOOLEAN NOT NULL, FULLTEXT KEY words (title, description), KEY brand (brand_slug), \
                 KEY price (min_price)) ENGINE = InnoDB"
            ),
            format!(
                "INSERT INTO {bench_db}.products SELECT p.id, p.title, p.description, p.brand_slug, p.category_slug, \
                 p.min_price, p.rating_avg, p.colours, p.sizes, EXISTS (SELECT 1 FROM {cell_db}.catalog_variants v \
                 JOIN {cell_db}.cell_stock s ON s.sku = v.sku WHERE v.product_id = p.id AND (s.held > 0 OR s.global_hint > 0)) \
                 FROM {cell_db}.catalog_products p WHERE p.listed = TRUE"
            ),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await?;
        }
        conn.close().await?;
        let url = format!("{server}/{bench_db}");
        let measure_from = Instant::now() + WARM_UP;
        let until = measure_from + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for id in 0..concurrency {
            let url = url.clone();
            let queries: Vec<Faceted> = {
                let mut rng = Rng::for_item(0xFACE7, id as u64);
                (0..20_000).map(|_| work.faceted(&mut rng)).collect()
            };
            tasks.push(tokio::spawn(async move {
                let mut l = Latencies::default();
                let mut conn = match sqlx::MySqlConnection::connect(&url).await {
                    Ok(c) => c,
                    Err(e) => {
                        l.errors += 1;
                        l.sample = Some(e.to_string());
                        return l;
                    }
                };
                for f in queries.iter().cycle() {
                    if Instant::now() >= until {
                        break;
                    }
                    let started = Instant::now();
                    let outcome = sql_faceted(&mut conn, f).await.map_err(|e| e.to_string());
                    l.record(started, measure_from, outcome);
                }
                l
            }));
        }
        let mut all = Latencies::default();
        for t in tasks {
            all.merge(t.await?);
        }
        let mut conn = sqlx::MySqlConnection::connect(server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {bench_db}")))
            .execute(&mut conn)
            .await?;
        Ok::<_, anyhow::Error>(all)
    })
}

/// The page, the total, and each facet counted without its own filter —
/// what the cell's one search returns.
async fn sql_faceted(conn: &mut sqlx::MySqlConnection, f: &Faceted) -> Result<(), sqlx::Error> {
    let against: String = f
        .words
        .iter()
        .map(|w| format!("+{}", w.replace(|c: char| !c.is_alphanumeric(), "")))
        .collect::<Vec<_>>()
        .join(" ");
    let where_ = |except: &str| {
        let mut w = String::from("MATCH(title, description) AGAINST (? IN BOOLEAN MODE)");
        if except != "brand" && f.brand.is_some() {
            w.push_str(" AND brand_slug = ?");
        }
        if except != "size" && f.size.is_some() {
            w.push_str(" AND JSON_CONTAINS(sizes, JSON_QUOTE(?))");
        }
        if except != "colour" && f.colour.is_some() {
            w.push_str(" AND JSON_CONTAINS(colours, JSON_QUOTE(?))");
        }
        if except != "price" && f.price.is_some() {
            w.push_str(" AND min_price BETWEEN ? AND ?");
        }
        if except != "in_stock" && f.in_stock {
            w.push_str(" AND in_stock");
        }
        w
    };
    let bind = |sql: String, except: &'static str| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(against.clone());
        if except != "brand"
            && let Some(b) = &f.brand
        {
            q = q.bind(b.clone());
        }
        if except != "size"
            && let Some(s) = &f.size
        {
            q = q.bind(s.clone());
        }
        if except != "colour"
            && let Some(c) = &f.colour
        {
            q = q.bind(c.clone());
        }
        if except != "price"
            && let Some((low, high)) = f.price
        {
            q = q.bind(low).bind(high);
        }
        q
    };
    bind(
        format!(
            "SELECT id, title, MATCH(title, description) AGAINST (? IN BOOLEAN MODE) AS score FROM products WHERE {} ORDER BY score DESC LIMIT 24",
            where_("")
        ),
        "",
    )
    .bind(against.clone())
    .fetch_all(&mut *conn)
    .await
    .map(|_| ())?;
    bind(
        format!("SELECT COUNT(*) FROM products WHERE {}", where_("")),
        "",
    )
    .fetch_one(&mut *conn)
    .await?;
    for (facet, select) in [
        (
            "brand",
            "SELECT brand_slug, COUNT(*) FROM products WHERE {} GROUP BY 1",
        ),
        (
            "category",
            "SELECT category_slug, COUNT(*) FROM products WHERE {} GROUP BY 1",
        ),
        (
            "size",
            "SELECT j.v, COUNT(*) FROM products, JSON_TABLE(sizes, '$[*]' COLUMNS (v VARCHAR(32) PATH '$')) j WHERE {} GROUP BY 1",
        ),
        (
            "colour",
            "SELECT j.v, COUNT(*) FROM products, JSON_TABLE(colours, '$[*]' COLUMNS (v VARCHAR(32) PATH '$')) j WHERE {} GROUP BY 1",
        ),
        (
            "price",
            "SELECT FLOOR(min_price / 5000), COUNT(*) FROM products WHERE {} GROUP BY 1",
        ),
        (
            "in_stock",
            "SELECT COUNT(*), SUM(in_stock) FROM products WHERE {}",
        ),
    ] {
        let rows = bind(select.replace("{}", &where_(facet)), facet)
            .fetch_all(&mut *conn)
            .await?;
        let _ = rows.first().map(|r| r.len());
    }
    Ok(())
}

fn print(r: &Report) {
    println!();
    println!(
        "Search in {}: {} products ({} published), {} s per workload",
        r.cell,
        thousands(r.products as u64),
        thousands(r.published as u64),
        r.duration_s
    );
    println!(
        "  {:<26} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    for (name, s) in [
        ("faceted text (cell)", &r.faceted),
        ("semantic (cell, embedded)", &r.semantic),
        ("similar (cell)", &r.similar),
        ("faceted text (MariaDB)", &r.mariadb_faceted),
    ] {
        println!(
            "  {:<26} {:>7} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            name, s.concurrency, s.per_second, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.errors
        );
    }
    println!(
        "  MariaDB / cell, faceted p99: {:.1}x   targets: faceted p99 <= {} ms, semantic p99 <= {} ms: {}",
        r.mariadb_over_cell_p99,
        r.faceted_target_ms,
        r.semantic_target_ms,
        if r.targets_met { "met" } else { "missed" }
    );
}
