//! `cargo xtask bench catalog`: how fast a cell answers the shop's catalog
//! reads under load. Seeds the catalog through the control plane, waits for
//! the cell's read model to hold all of it, then runs C clients — each a
//! thread with its own connection — for D seconds after a warm-up: half
//! product lists with varied filters, sorts and pages, half product pages.
//! Prints p50/p90/p99 against the 20 ms p99 target and writes
//! target/reports/bench-catalog.json.

use std::collections::{BTreeMap, BTreeSet};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};
use ureq::typestate::WithoutBody;
use wire::catalog::BrandList;

use crate::http::{self, Refusal, thousands};
use crate::root;
use crate::seed::catalog::{self, DEFAULT_SEED, Rng};
use crate::seed::{default_key_file, seed_products};
use crate::tools::step;

#[derive(Debug)]
pub struct CatalogBench {
    pub products: usize,
    pub concurrency: usize,
    pub duration_s: u64,
    /// The cell's base URL (default: the first cell in cells.yaml).
    pub cell: Option<String>,
    /// Uniform requests (cold cache) instead of a shop's skew.
    pub uniform: bool,
}

/// Price filters as a category page offers them (minor units).
const PRICE_BUCKETS: &[(i64, i64)] = &[
    (0, 2_500),
    (2_500, 5_000),
    (5_000, 10_000),
    (10_000, 20_000),
    (20_000, 100_000_000),
];

/// Draws product ranks by Zipf popularity: rank k (from 0) with weight
/// 1 / (k + 1)^s. A few products draw most views, as in any shop.
#[derive(Debug)]
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|k| {
                total += 1.0 / ((k + 1) as f64).powf(s);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = (rng.next_u64() as f64 / u64::MAX as f64) * total;
        self.cumulative
            .partition_point(|c| *c < target)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// Runs before the measured window; its requests are not counted.
const WARM_UP: Duration = Duration::from_secs(3);
const TARGET_P99_MS: f64 = 20.0;
/// How long the cell may take to replicate the seeded catalog.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(15 * 60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const PAGE_SIZE: u32 = 24;
/// Distinct failures kept per client to show what went wrong.
const SAMPLES: usize = 5;

pub fn run(options: &CatalogBench) -> anyhow::Result<()> {
    if options.concurrency == 0 || options.duration_s == 0 {
        bail!("--concurrency and --duration-s must be at least 1");
    }
    let cell = match &options.cell {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => http::first_cell_url().context("pass --cell URL to name the cell")?,
    };
    let shop = seeded_shop(&cell, options.products)?;
    step(&format!("waiting for {cell}'s shelf to answer lists"));
    wait_for_shelf(&cell)?;

    step(&format!(
        "benchmarking {cell}: {} clients for {} s after a {} s warm-up",
        options.concurrency,
        options.duration_s,
        WARM_UP.as_secs()
    ));
    let answered_before = lists_answered(&cell);
    let mut tally = load(&cell, &shop, options)?;
    let answered = lists_answered(&cell) - answered_before;
    let seconds = options.duration_s as f64;
    let list = Summary::of(&mut tally.list, seconds);
    let detail = Summary::of(&mut tally.detail, seconds);

    let report = Report {
        bench: "catalog",
        timestamp: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?,
        parameters: Parameters {
            cell: cell.clone(),
            products: options.products,
            published: shop.published.len(),
            seed: DEFAULT_SEED,
            concurrency: options.concurrency,
            duration_s: options.duration_s,
            warm_up_s: WARM_UP.as_secs(),
            page_size: PAGE_SIZE,
            workload: if options.uniform {
                "uniform: every product and free-form price range equally likely"
            } else {
                "shop skew: product views by Zipf popularity (s = 1), price filters from facet buckets"
            },
        },
        target_p99_ms: TARGET_P99_MS,
        target_met: list.target_met && detail.target_met,
        list,
        detail,
        lists_from_shelf: answered.shelf_share(),
        error_samples: tally.samples,
    };
    print_table(&report);
    let path = root().join("target/reports/bench-catalog.json");
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("bench: report written to {}", path.display());

    // Missing the target is a result; measuring nothing at all is a failure.
    for (what, summary) in [("list", &report.list), ("detail", &report.detail)] {
        if summary.requests == summary.errors {
            bail!(
                "no {what} request succeeded ({} failed); see the errors above",
                thousands(summary.errors)
            );
        }
    }
    Ok(())
}

// ---- what the cell should hold ----------------------------------------------

/// Seeds the first `products` of the seed catalog when the cell lists fewer,
/// and waits until its read model holds them all.
pub(crate) fn seeded_shop(cell: &str, products: usize) -> anyhow::Result<Shop> {
    let control = http::control_url()?;
    http::require_live(&control, "the control plane")?;
    http::require_live(cell, "the cell")?;
    let shop = Shop::new(products, DEFAULT_SEED);
    if published_in(cell) < shop.published.len() as u64 {
        step(&format!(
            "seeding the catalog to {} products",
            thousands(products as u64)
        ));
        seed_products(&control, &default_key_file(), products, DEFAULT_SEED)?;
    }
    if shop.published.is_empty() {
        bail!("the catalog has no published products to read; ask for more --products");
    }
    // Vectors landing later would bump the cell's cache under the load.
    crate::seed::wait_for_vectors(&control)?;
    step(&format!(
        "waiting for {cell}'s read model to hold the catalog"
    ));
    wait_for_read_model(cell, shop.published.len() as u64)?;
    Ok(shop)
}

/// The seeded catalog as a shopper could browse it.
#[derive(Debug)]
pub(crate) struct Shop {
    /// Slugs of the published products.
    pub(crate) published: Vec<String>,
    pub(crate) brands: Vec<String>,
    pub(crate) categories: Vec<Facets>,
}

/// What a category's list can be filtered by.
#[derive(Debug)]
pub(crate) struct Facets {
    pub(crate) slug: String,
    pub(crate) sizes: Vec<String>,
    pub(crate) colours: Vec<String>,
    pub(crate) min_price: i64,
    pub(crate) max_price: i64,
}

/// What the published products of one category offer, as they are walked.
#[derive(Debug, Default)]
struct Offer {
    sizes: BTreeSet<String>,
    colours: BTreeSet<String>,
    /// Lowest and highest.
    prices: Option<(i64, i64)>,
}

impl Shop {
    /// Walks the catalog product by product, so 100,000 of them are never
    /// held at once.
    pub(crate) fn new(products: usize, seed: u64) -> Self {
        let mut published = Vec::new();
        let mut offers: BTreeMap<String, Offer> = BTreeMap::new();
        for index in 0..products {
            let product = catalog::product(index, seed);
            if !product.published {
                continue;
            }
            let offer = offers.entry(product.category).or_default();
            for variant in product.variants {
                let price = variant.price_minor;
                offer.prices = Some(match offer.prices {
                    Some((low, high)) => (low.min(price), high.max(price)),
                    None => (price, price),
                });
                offer.sizes.insert(variant.size);
                offer.colours.insert(variant.colour);
            }
            published.push(product.slug);
        }
        let categories = catalog::leaf_categories()
            .map(|slug| {
                let offer = offers.remove(slug).unwrap_or_default();
                let (min_price, max_price) = offer.prices.unwrap_or((0, 0));
                Facets {
                    slug: slug.to_owned(),
                    sizes: offer.sizes.into_iter().collect(),
                    colours: offer.colours.into_iter().collect(),
                    min_price,
                    max_price,
                }
            })
            .collect();
        Self {
            published,
            brands: catalog::generate(0, seed)
                .brands
                .into_iter()
                .map(|brand| brand.slug)
                .collect(),
            categories,
        }
    }
}

/// Published products the cell lists now (0 when it cannot say).
pub(crate) fn published_in(cell: &str) -> u64 {
    http::agent(REQUEST_TIMEOUT)
        .get(format!("{cell}/api/brands").as_str())
        .call()
        .ok()
        .and_then(|mut response| response.body_mut().read_json::<BrandList>().ok())
        .map_or(0, |brands| {
            brands.items.iter().map(|brand| brand.products).sum()
        })
}

/// Waits until the cell's brand counts add up to `published` products.
pub(crate) fn wait_for_read_model(cell: &str, published: u64) -> anyhow::Result<()> {
    let agent = http::agent(REQUEST_TIMEOUT);
    let url = format!("{cell}/api/brands");
    let started = Instant::now();
    loop {
        let problem = match agent.get(url.as_str()).call() {
            Ok(mut response) if response.status().is_success() => {
                let brands: BrandList = response
                    .body_mut()
                    .read_json()
                    .with_context(|| format!("reading GET {url}"))?;
                let held: u64 = brands.items.iter().map(|brand| brand.products).sum();
                eprintln!(
                    "bench: the cell holds {} / {} published products",
                    thousands(held),
                    thousands(published)
                );
                if held >= published {
                    return wait_until_idle(cell);
                }
                format!("it held {} of them", thousands(held))
            }
            Ok(mut response) => {
                let refusal = Refusal::read(&mut response);
                if refusal.status < 500 {
                    bail!("GET {url}: {refusal}");
                }
                eprintln!("bench: GET {url}: {refusal}");
                refusal.to_string()
            }
            Err(error) => {
                eprintln!("bench: GET {url}: {error}");
                error.to_string()
            }
        };
        if started.elapsed() > CATCH_UP_LIMIT {
            bail!(
                "the cell's read model did not catch up within {} minutes ({problem}); is the cell consuming the catalog topic? Its log is under .cellwear/logs/",
                CATCH_UP_LIMIT.as_secs() / 60
            );
        }
        sleep(Duration::from_secs(1));
    }
}

/// Waits until the cell's consumers have nothing left to apply (the
/// `cellwear_events_consumer_lag` gauges, measured every few seconds, all 0
/// twice in a row): a cell still applying snapshots would bump its cache
/// generation under the benchmark's feet.
fn wait_until_idle(cell: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut idle_checks = 0;
    loop {
        let Some(lag) = http::metric_sum(cell, "cellwear_events_consumer_lag{") else {
            bail!("{cell}/metrics cannot be read or reports no `cellwear_events_consumer_lag`");
        };
        if lag == 0.0 {
            idle_checks += 1;
            if idle_checks == 2 {
                return Ok(());
            }
        } else {
            idle_checks = 0;
            eprintln!("bench: the cell still has {lag} events to apply");
        }
        if started.elapsed() > CATCH_UP_LIMIT {
            bail!(
                "the cell's consumers did not go idle within {} minutes",
                CATCH_UP_LIMIT.as_secs() / 60
            );
        }
        sleep(Duration::from_secs(3));
    }
}

// ---- the load ----------------------------------------------------------------

#[derive(Debug, Default)]
struct Tally {
    list: Latencies,
    detail: Latencies,
    /// A few distinct failures, to show what went wrong.
    samples: Vec<String>,
}

/// Successful requests' latencies (nanoseconds) and the failures, within the
/// measured window.
#[derive(Debug, Default)]
struct Latencies {
    nanos: Vec<u64>,
    errors: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.list.nanos.extend(other.list.nanos);
        self.list.errors += other.list.errors;
        self.detail.nanos.extend(other.detail.nanos);
        self.detail.errors += other.detail.errors;
        for sample in other.samples {
            if self.samples.len() < SAMPLES && !self.samples.contains(&sample) {
                self.samples.push(sample);
            }
        }
    }
}

/// Runs the clients through the warm-up and the measured window.
fn load(cell: &str, shop: &Shop, options: &CatalogBench) -> anyhow::Result<Tally> {
    let measure_from = Instant::now() + WARM_UP;
    let until = measure_from + Duration::from_secs(options.duration_s);
    let popularity = (!options.uniform).then(|| Zipf::new(shop.published.len(), 1.0));
    let popularity = popularity.as_ref();
    let outcomes: Vec<std::thread::Result<Tally>> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..options.concurrency)
            .map(|id| {
                scope.spawn(move || {
                    let mut client = Client {
                        agent: http::agent(REQUEST_TIMEOUT),
                        cell,
                        shop,
                        popularity,
                        rng: Rng::for_item(0xB3AC_C47A_1060, id as u64),
                        measure_from,
                        tally: Tally::default(),
                    };
                    while Instant::now() < until {
                        if client.rng.chance(50) {
                            client.browse();
                        } else {
                            client.view();
                        }
                    }
                    client.tally
                })
            })
            .collect();
        clients.into_iter().map(|client| client.join()).collect()
    });
    let mut total = Tally::default();
    for outcome in outcomes {
        total.merge(outcome.map_err(|_| anyhow!("a benchmark client panicked"))?);
    }
    Ok(total)
}

/// The part of a list page the client reads: where the next page starts.
#[derive(Deserialize)]
struct PageCursor {
    #[serde(default)]
    next_cursor: Option<String>,
}

/// One simulated shopper.
struct Client<'a> {
    /// Product popularity; `None` for uniform draws.
    popularity: Option<&'a Zipf>,
    agent: ureq::Agent,
    cell: &'a str,
    shop: &'a Shop,
    rng: Rng,
    measure_from: Instant,
    tally: Tally,
}

impl Client<'_> {
    /// A product list, sometimes followed one or two pages further.
    fn browse(&mut self) {
        let query = self.list_query();
        let url = format!("{}/api/products", self.cell);
        let mut pages = if self.rng.chance(30) {
            2 + self.rng.below(2)
        } else {
            1
        };
        let mut cursor: Option<String> = None;
        while pages > 0 {
            pages -= 1;
            let mut request = self.agent.get(url.as_str());
            for (key, value) in &query {
                request = request.query(*key, value);
            }
            if let Some(cursor) = &cursor {
                request = request.query("cursor", cursor);
            }
            let what = format!(
                "GET /api/products?{}",
                describe_query(&query, cursor.is_some())
            );
            let started = Instant::now();
            let fetched = fetch(request, &what);
            let took = started.elapsed();
            // Read after the clock stops: the page's cost, not the client's.
            let outcome = fetched.and_then(|body| {
                serde_json::from_slice::<PageCursor>(&body)
                    .map(|page| page.next_cursor)
                    .map_err(|error| format!("{what}: unreadable page: {error}"))
            });
            match self.record(true, started, took, outcome) {
                Some(Some(next)) => cursor = Some(next),
                _ => break,
            }
        }
    }

    /// A product page.
    fn view(&mut self) {
        let shop = self.shop;
        let slug = match self.popularity {
            Some(zipf) => &shop.published[zipf.sample(&mut self.rng)],
            None => self.rng.pick(&shop.published),
        };
        let url = format!("{}/api/products/{slug}", self.cell);
        let what = format!("GET /api/products/{slug}");
        let started = Instant::now();
        let fetched = fetch(self.agent.get(url.as_str()), &what);
        let took = started.elapsed();
        self.record(false, started, took, fetched.map(|_| ()));
    }

    /// A list's filters: always a category, sometimes a brand, a sort, a
    /// price range, a size, a colour or only what is in stock.
    fn list_query(&mut self) -> Vec<(&'static str, String)> {
        let shop = self.shop;
        let facets = self.rng.pick(&shop.categories);
        let mut query = vec![
            ("limit", PAGE_SIZE.to_string()),
            ("category", facets.slug.clone()),
        ];
        if self.rng.chance(25) {
            query.push(("brand", self.rng.pick(&shop.brands).clone()));
        }
        match self.rng.below(6) {
            0 => query.push(("sort", "price_asc".to_owned())),
            1 => query.push(("sort", "price_desc".to_owned())),
            2 => query.push(("sort", "newest".to_owned())),
            _ => {}
        }
        if self.popularity.is_some() && self.rng.chance(20) {
            let (low, high) = *self.rng.pick(PRICE_BUCKETS);
            query.push(("min_price", low.to_string()));
            query.push(("max_price", high.to_string()));
        } else if self.popularity.is_none()
            && facets.max_price > facets.min_price
            && self.rng.chance(20)
        {
            let span = facets.max_price - facets.min_price;
            let low = facets.min_price + self.rng.range(0, span / 2) / 100 * 100;
            let high = low + span / 4 + self.rng.range(0, span / 2) / 100 * 100;
            query.push(("min_price", low.to_string()));
            query.push(("max_price", high.to_string()));
        }
        if !facets.sizes.is_empty() && self.rng.chance(20) {
            query.push(("size", self.rng.pick(&facets.sizes).clone()));
        }
        if !facets.colours.is_empty() && self.rng.chance(20) {
            query.push(("colour", self.rng.pick(&facets.colours).clone()));
        }
        if self.rng.chance(15) {
            query.push(("in_stock", "true".to_owned()));
        }
        query
    }

    /// Counts a request that started at `started` and took `took`, if it
    /// falls in the measured window; hands back what it returned on success.
    fn record<T>(
        &mut self,
        list: bool,
        started: Instant,
        took: Duration,
        outcome: Result<T, String>,
    ) -> Option<T> {
        let measured = started >= self.measure_from;
        let latencies = if list {
            &mut self.tally.list
        } else {
            &mut self.tally.detail
        };
        match outcome {
            Ok(value) => {
                if measured {
                    latencies.nanos.push(took.as_nanos() as u64);
                }
                Some(value)
            }
            Err(problem) => {
                if measured {
                    latencies.errors += 1;
                    if self.tally.samples.len() < SAMPLES && !self.tally.samples.contains(&problem)
                    {
                        self.tally.samples.push(problem);
                    }
                }
                None
            }
        }
    }
}

/// Sends `request` and reads the whole answer. A transport error or a
/// non-2xx answer (a product page's 404 included) is a failure, described
/// for the report.
pub(crate) fn fetch(
    request: ureq::RequestBuilder<WithoutBody>,
    what: &str,
) -> Result<Vec<u8>, String> {
    match request.call() {
        Ok(mut response) if response.status().is_success() => response
            .body_mut()
            .read_to_vec()
            .map_err(|error| format!("{what}: reading the answer: {error}")),
        Ok(mut response) => Err(format!("{what}: {}", Refusal::read(&mut response))),
        Err(error) => Err(format!("{what}: {error}")),
    }
}

fn describe_query(query: &[(&str, String)], with_cursor: bool) -> String {
    let mut parts: Vec<String> = query
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    if with_cursor {
        parts.push("cursor=…".to_owned());
    }
    parts.join("&")
}

// ---- the figures ---------------------------------------------------------------

#[derive(Debug, Serialize)]
struct Report {
    bench: &'static str,
    /// RFC 3339, UTC.
    timestamp: String,
    parameters: Parameters,
    target_p99_ms: f64,
    target_met: bool,
    list: Summary,
    detail: Summary,
    /// The share of list pages (warm-up included) the cell answered from
    /// its shelf in memory rather than its read model; absent when the cell
    /// does not count them.
    lists_from_shelf: Option<f64>,
    error_samples: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Parameters {
    cell: String,
    products: usize,
    published: usize,
    seed: u64,
    concurrency: usize,
    duration_s: u64,
    warm_up_s: u64,
    page_size: u32,
    workload: &'static str,
}

#[derive(Debug, Serialize)]
struct Summary {
    /// Successful and failed, in the measured window.
    requests: u64,
    per_second: f64,
    /// Of successful requests.
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
    /// p99 under the target (and something succeeded).
    target_met: bool,
}

impl Summary {
    fn of(latencies: &mut Latencies, seconds: f64) -> Self {
        latencies.nanos.sort_unstable();
        let sorted = &latencies.nanos;
        let requests = sorted.len() as u64 + latencies.errors;
        let p99_ms = percentile_ms(sorted, 99.0);
        Self {
            requests,
            per_second: requests as f64 / seconds,
            p50_ms: percentile_ms(sorted, 50.0),
            p90_ms: percentile_ms(sorted, 90.0),
            p99_ms,
            max_ms: sorted.last().map_or(0.0, |nanos| *nanos as f64 / 1e6),
            errors: latencies.errors,
            target_met: !sorted.is_empty() && p99_ms < TARGET_P99_MS,
        }
    }
}

/// Waits until a list page comes from the cell's shelf (memory). A cell
/// that was just started refills its shelf from the read model first
/// (seen: 86 s for 100,000 products), answering lists by SQL meanwhile; a
/// run in that window measures the read model instead (seen: 906 req/s
/// against 1,503). A cell that counts neither kind of answer is not waited
/// for.
fn wait_for_shelf(cell: &str) -> anyhow::Result<()> {
    let agent = http::agent(REQUEST_TIMEOUT);
    let url = format!("{cell}/api/products?limit={PAGE_SIZE}");
    let started = Instant::now();
    loop {
        let before = lists_answered(cell);
        agent
            .get(url.as_str())
            .call()
            .with_context(|| format!("GET {url}"))?;
        let answered = lists_answered(cell) - before;
        if answered.shelf > 0.0 {
            return Ok(());
        }
        if answered.database == 0.0 {
            eprintln!(
                "bench: {cell} does not say where lists come from (cellwear_catalog_lists_total); not waiting for its shelf"
            );
            return Ok(());
        }
        if started.elapsed() > CATCH_UP_LIMIT {
            bail!(
                "the cell's shelf was not filled within {} minutes; its log is under .cellwear/logs/",
                CATCH_UP_LIMIT.as_secs() / 60
            );
        }
        eprintln!("bench: the shelf is still filling; lists come from the read model (SQL)");
        sleep(Duration::from_secs(2));
    }
}

/// List pages the cell answered from its shelf and from its read model
/// (`cellwear_catalog_lists_total`, 0 when it does not say).
#[derive(Debug, Clone, Copy, Default)]
struct Answered {
    shelf: f64,
    database: f64,
}

fn lists_answered(cell: &str) -> Answered {
    let count = |by: &str| {
        http::metric_sum(
            cell,
            &format!("cellwear_catalog_lists_total{{answered_by=\"{by}\"}}"),
        )
        .unwrap_or(0.0)
    };
    Answered {
        shelf: count("shelf"),
        database: count("database"),
    }
}

impl std::ops::Sub for Answered {
    type Output = Self;

    fn sub(self, earlier: Self) -> Self {
        Self {
            shelf: self.shelf - earlier.shelf,
            database: self.database - earlier.database,
        }
    }
}

impl Answered {
    /// The share answered from memory, 0-1 (`None` when none were counted).
    fn shelf_share(self) -> Option<f64> {
        let all = self.shelf + self.database;
        (all > 0.0).then(|| self.shelf / all)
    }
}

/// The nearest-rank percentile of sorted nanoseconds, in milliseconds.
pub(crate) fn percentile_ms(sorted: &[u64], percent: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1e6
}

fn print_table(report: &Report) {
    let p = &report.parameters;
    println!();
    println!(
        "Catalog reads from {}: {} products ({} published), {} clients, {} s measured after a {} s warm-up",
        p.cell,
        thousands(p.products as u64),
        thousands(p.published as u64),
        p.concurrency,
        p.duration_s,
        p.warm_up_s
    );
    println!(
        "  {:<8} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8}  p99 < {} ms",
        "",
        "requests",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "errors",
        report.target_p99_ms
    );
    for (name, s) in [("list", &report.list), ("detail", &report.detail)] {
        println!(
            "  {:<8} {:>10} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8}  {}",
            name,
            thousands(s.requests),
            s.per_second,
            s.p50_ms,
            s.p90_ms,
            s.p99_ms,
            s.max_ms,
            thousands(s.errors),
            if s.target_met { "yes" } else { "NO" }
        );
    }
    if let Some(share) = report.lists_from_shelf {
        println!(
            "  lists answered from the cell's shelf (memory): {:.1}%, the rest by its read model (SQL)",
            share * 100.0
        );
    }
    println!();
    if !report.error_samples.is_empty() {
        println!("Some of the failed requests:");
        for sample in &report.error_samples {
            println!("  {sample}");
        }
        println!();
    }
    if report.target_met {
        println!(
            "Target met: p99 under {} ms for lists and product pages.",
            report.target_p99_ms
        );
    } else {
        println!("!!! TARGET MISSED !!!");
        for (name, s) in [("list", &report.list), ("detail", &report.detail)] {
            if !s.target_met {
                println!(
                    "!!! {name}: p99 {:.2} ms, target under {} ms",
                    s.p99_ms, report.target_p99_ms
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).map(|ms| ms * 1_000_000).collect();
        assert_eq!(percentile_ms(&sorted, 50.0), 50.0);
        assert_eq!(percentile_ms(&sorted, 99.0), 99.0);
        assert_eq!(percentile_ms(&sorted, 100.0), 100.0);
        assert_eq!(percentile_ms(&[3_000_000], 99.0), 3.0);
        assert_eq!(percentile_ms(&[], 99.0), 0.0);
    }

    #[test]
    fn the_shop_knows_every_leaf_and_only_published_products() {
        let shop = Shop::new(500, DEFAULT_SEED);
        let published = (0..500)
            .filter(|index| catalog::product(*index, DEFAULT_SEED).published)
            .count();
        assert_eq!(shop.published.len(), published);
        assert_eq!(shop.categories.len(), catalog::leaf_categories().count());
        assert_eq!(shop.brands.len(), 25);
    }
}
