//! `cargo xtask seed`: loads the generated catalog ([`catalog`]) into the
//! control plane through its admin API, as an admin would — brands and
//! categories one by one, three demo coupons, products as bulk imports of
//! 1,000 — with a token signed by the stack's own key. The imports ask for
//! vectors later: the products are in the shop within minutes, and the
//! control plane embeds them in the background ([`wait_for_vectors`]). Imports upsert by slug, so running it again
//! updates what is there, and seeding more products later adds only the new
//! ones.

pub mod catalog;

use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use access_tokens::{Claims, SigningKeys};
use anyhow::{Context, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wire::catalog::{ImportJob, ImportRowError, ProductInput};
use wire::promotions::{PromotionInput, PromotionKind};

use crate::http::{self, Refusal, Response, thousands};
use crate::state_dir;
use crate::tools::step;

#[derive(Debug)]
pub struct SeedOptions {
    pub products: usize,
    pub seed: u64,
    /// The control plane's base URL (default: cells.yaml's).
    pub control: Option<String>,
    /// The PEM key tokens are signed with (default: the one `up` made).
    pub keys: Option<PathBuf>,
}

/// Products per import job.
const CHUNK: usize = 1_000;
const POLL_EVERY: Duration = Duration::from_millis(200);
/// An import that makes no progress for this long is taken for stuck.
const STALLED_AFTER: Duration = Duration::from_secs(300);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How many rejected products are shown.
const SHOWN_REJECTIONS: usize = 10;
/// Staff tokens live 15 minutes, as the cells issue them; each request gets
/// a fresh one, so a long seed never outlives its token.
const TOKEN_LIFETIME_S: i64 = 15 * 60;
const ISSUER: &str = "cellwear";
const AUDIENCE: &str = "cellwear-shop";

pub fn seed(options: &SeedOptions) -> anyhow::Result<()> {
    let control = match &options.control {
        Some(url) => url.clone(),
        None => http::control_url().context("pass --control URL to name it")?,
    };
    let keys = options.keys.clone().unwrap_or_else(default_key_file);
    seed_products(&control, &keys, options.products, options.seed)
}

/// The token signing key `cargo xtask up` makes for the cells and the
/// control plane.
pub fn default_key_file() -> PathBuf {
    state_dir().join("data/keys/signing.pem")
}

/// Makes sure the control plane at `control` holds the first `products`
/// products of the catalog `seed` makes, with its brands and categories.
pub fn seed_products(
    control: &str,
    key_file: &Path,
    products: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let control = control.trim_end_matches('/');
    http::require_live(control, "the control plane")?;
    if !key_file.exists() {
        bail!(
            "no token signing key at {} (`cargo xtask up` makes it; or pass --keys FILE)",
            key_file.display()
        );
    }
    let mut admin = Admin::new(control, key_file)?;

    // Brands and categories only: products are made chunk by chunk below, so
    // 100,000 of them never sit in memory at once.
    let fixed = catalog::generate(0, seed);
    step(&format!(
        "seeding {} brands, {} categories and {} products into {control}",
        fixed.brands.len(),
        fixed.categories.len(),
        thousands(products as u64)
    ));
    let mut new_brands = 0;
    for brand in &fixed.brands {
        if admin.create("/admin/api/brands", brand, "brand_exists")? {
            new_brands += 1;
        }
    }
    let mut new_categories = 0;
    for category in &fixed.categories {
        if admin.create("/admin/api/categories", category, "category_exists")? {
            new_categories += 1;
        }
    }
    eprintln!("seed: brands and categories in place ({new_brands} and {new_categories} new)");
    let mut new_promotions = 0;
    for promotion in demo_promotions() {
        if admin.create("/admin/api/promotions", &promotion, "code_taken")? {
            new_promotions += 1;
        }
    }
    eprintln!(
        "seed: demo coupons WELCOME10, FREESHIP75 and KNIT15 in place ({new_promotions} new)"
    );

    let mut load = Load::new(products);
    for start in (0..products).step_by(CHUNK) {
        let end = (start + CHUNK).min(products);
        let chunk: Vec<ProductInput> = (start..end)
            .map(|index| catalog::product(index, seed))
            .collect();
        import(&mut admin, &chunk, start, &mut load)?;
    }
    load.finish()?;
    match vectors_pending(control) {
        Some(0) | None => {}
        Some(pending) => eprintln!(
            "seed: {} products wait for their vectors; the control plane embeds them in the background \
             (`cellwear_catalog_vectors_pending` on {control}/metrics). Browsing and text search work now; \
             similar products and semantic search fill in as the vectors land.",
            thousands(pending)
        ),
    }
    Ok(())
}

/// Products the control plane at `control` has yet to embed (`None` when
/// it cannot say).
pub(crate) fn vectors_pending(control: &str) -> Option<u64> {
    http::metric_sum(control, "cellwear_catalog_vectors_pending ").map(|value| value as u64)
}

/// How long [`wait_for_vectors`] waits (100,000 products take about half
/// an hour on two cores).
const VECTORS_LIMIT: Duration = Duration::from_secs(2 * 60 * 60);

/// How long the backlog must read 0 before it is taken for empty.
const ZERO_HOLDS: Duration = Duration::from_secs(2);

/// Waits until the control plane has embedded every product an import sent
/// out without a vector, showing progress every few seconds.
pub(crate) fn wait_for_vectors(control: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut first: Option<u64> = None;
    let mut shown: Option<Instant> = None;
    let mut zero_since: Option<Instant> = None;
    loop {
        let Some(pending) = vectors_pending(control) else {
            bail!(
                "the control plane at {control} does not report `cellwear_catalog_vectors_pending` on /metrics"
            );
        };
        if pending == 0 {
            // The gauge may be a second old: 0 counts once it has held.
            let since = *zero_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= ZERO_HOLDS {
                if first.is_some() {
                    eprintln!(
                        "seed: every product has its vector ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
                return Ok(());
            }
        } else {
            zero_since = None;
            let from = *first.get_or_insert(pending);
            if shown.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                shown = Some(Instant::now());
                let done = from.saturating_sub(pending);
                let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
                let eta = if rate > 0.0 {
                    format!(", about {:.0} s to go", pending as f64 / rate)
                } else {
                    String::new()
                };
                eprintln!(
                    "seed: waiting for vectors: {} products left ({}/s{eta})",
                    thousands(pending),
                    thousands(rate as u64)
                );
            }
        }
        if started.elapsed() > VECTORS_LIMIT {
            bail!(
                "{} products still wait for their vectors after {} minutes; see the control plane's log",
                thousands(pending),
                VECTORS_LIMIT.as_secs() / 60
            );
        }
        sleep(Duration::from_millis(500));
    }
}

/// Coupons a newcomer can try in the local shop.
fn demo_promotions() -> Vec<PromotionInput> {
    let base = PromotionInput {
        code: None,
        name: String::new(),
        kind: PromotionKind::Percentage,
        value: 0,
        currency: None,
        min_spend_minor: 0,
        categories: Vec::new(),
        brands: Vec::new(),
        starts_at: "2026-01-01T00:00:00Z".into(),
        ends_at: None,
        per_shopper_limit: None,
        global_cap: None,
        active: true,
    };
    vec![
        PromotionInput {
            code: Some("WELCOME10".into()),
            name: "10% off your first order".into(),
            value: 10,
            per_shopper_limit: Some(1),
            global_cap: Some(100_000),
            ..base.clone()
        },
        PromotionInput {
            code: Some("FREESHIP75".into()),
            name: "Free shipping over £75".into(),
            kind: PromotionKind::FreeShipping,
            currency: Some("GBP".into()),
            min_spend_minor: 7_500,
            ..base.clone()
        },
        PromotionInput {
            code: Some("KNIT15".into()),
            name: "15% off knitwear".into(),
            value: 15,
            categories: vec!["knitwear".into()],
            ..base
        },
    ]
}

/// Calls the admin API with a freshly signed admin token each time.
pub(crate) struct Admin {
    agent: ureq::Agent,
    base: String,
    keys: SigningKeys,
    tokens: u64,
    roles: Vec<String>,
}

impl Admin {
    /// An admin of the control plane at `control`, signing with `key_file`.
    pub(crate) fn new(control: &str, key_file: &Path) -> anyhow::Result<Self> {
        let keys = SigningKeys::from_files(&[key_file], ISSUER, AUDIENCE)
            .with_context(|| format!("loading the token signing key {}", key_file.display()))?;
        Ok(Self {
            agent: http::agent(REQUEST_TIMEOUT),
            base: control.trim_end_matches('/').to_owned(),
            keys,
            tokens: 0,
            roles: vec!["admin".into()],
        })
    }

    /// An SRE too: may run cell operations (`/control/api/*`).
    pub(crate) fn sre(control: &str, key_file: &Path) -> anyhow::Result<Self> {
        let mut staff = Self::new(control, key_file)?;
        staff.roles.push("sre".into());
        Ok(staff)
    }

    fn bearer(&mut self) -> anyhow::Result<String> {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?;
        let now = i64::try_from(since_epoch.as_secs()).context("the system clock is far off")?;
        self.tokens += 1;
        let token = self.keys.sign(&Claims {
            sub: "xtask-seed".into(),
            sk: "0000000000000000".into(),
            roles: self.roles.clone(),
            sid: "xtask".into(),
            jti: format!(
                "xtask-seed-{}-{}-{}",
                std::process::id(),
                since_epoch.as_nanos(),
                self.tokens
            ),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + TOKEN_LIFETIME_S,
        })?;
        Ok(format!("Bearer {token}"))
    }

    pub(crate) fn post(&mut self, path: &str, json: &[u8]) -> anyhow::Result<Response> {
        let url = format!("{}{path}", self.base);
        let bearer = self.bearer()?;
        self.agent
            .post(url.as_str())
            .header("Authorization", bearer.as_str())
            .header("Content-Type", "application/json")
            .send(json)
            .with_context(|| format!("POST {url}"))
    }

    pub(crate) fn get_json<T: DeserializeOwned>(&mut self, path: &str) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let bearer = self.bearer()?;
        let mut response = self
            .agent
            .get(url.as_str())
            .header("Authorization", bearer.as_str())
            .call()
            .with_context(|| format!("GET {url}"))?;
        if !response.status().is_success() {
            return Err(refused(
                &format!("GET {path}"),
                &Refusal::read(&mut response),
            ));
        }
        response
            .body_mut()
            .read_json()
            .with_context(|| format!("reading the answer to GET {path}"))
    }

    /// Creates a brand or category: true if it is new, false if it existed.
    fn create<T: Serialize>(
        &mut self,
        path: &str,
        input: &T,
        exists: &str,
    ) -> anyhow::Result<bool> {
        let json = serde_json::to_vec(input)?;
        let mut response = self.post(path, &json)?;
        if response.status().is_success() {
            let _ = response.body_mut().read_to_vec();
            return Ok(true);
        }
        let refusal = Refusal::read(&mut response);
        if refusal.status == 409 && refusal.code == exists {
            return Ok(false);
        }
        Err(refused(&format!("POST {path}"), &refusal))
    }
}

/// The error for a refused admin call, with a hint when the token was the
/// problem.
fn refused(request: &str, refusal: &Refusal) -> anyhow::Error {
    let hint = match refusal.status {
        401 => {
            " (the control plane does not accept tokens signed with this key: it must load the same key file, as `cargo xtask up` arranges; or pass --keys)"
        }
        403 => " (the token lacks the admin role)",
        _ => "",
    };
    anyhow::anyhow!("{request}: {refusal}{hint}")
}

/// Runs one import job over `chunk` (products `start..`) to its end.
fn import(
    admin: &mut Admin,
    chunk: &[ProductInput],
    start: usize,
    load: &mut Load,
) -> anyhow::Result<()> {
    let json = serde_json::to_vec(chunk)?;
    let mut response = admin.post("/admin/api/imports?vectors=later", &json)?;
    if !response.status().is_success() {
        return Err(refused(
            "POST /admin/api/imports",
            &Refusal::read(&mut response),
        ));
    }
    let mut job: ImportJob = response
        .body_mut()
        .read_json()
        .context("reading the import job the control plane started")?;
    let mut processed = job.processed;
    let mut progressed = Instant::now();
    while job.state == "running" {
        load.show(start as u64 + job.processed, job.failed, false);
        if progressed.elapsed() > STALLED_AFTER {
            bail!(
                "import {} made no progress for {} s (at {} of {} products); see the control plane's log",
                job.id,
                STALLED_AFTER.as_secs(),
                job.processed,
                job.total
            );
        }
        sleep(POLL_EVERY);
        job = admin.get_json(&format!("/admin/api/imports/{}", job.id))?;
        if job.processed != processed {
            processed = job.processed;
            progressed = Instant::now();
        }
    }
    if job.state != "finished" {
        let why = job
            .errors
            .first()
            .map(|error| format!("{}: {}", error.code, error.message))
            .unwrap_or_default();
        bail!("import {} {}: {why}", job.id, job.state);
    }
    load.add(&job, start);
    Ok(())
}

/// Totals and progress of a seed run.
struct Load {
    total: usize,
    started: Instant,
    shown: Instant,
    done: u64,
    created: u64,
    updated: u64,
    unchanged: u64,
    rejected: u64,
    /// The first few rejections: (product index, why).
    rejections: Vec<(u64, ImportRowError)>,
}

impl Load {
    fn new(total: usize) -> Self {
        Self {
            total,
            started: Instant::now(),
            shown: Instant::now(),
            done: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            rejections: Vec::new(),
        }
    }

    fn add(&mut self, job: &ImportJob, start: usize) {
        self.done += job.total;
        self.created += job.created;
        self.updated += job.updated;
        self.unchanged += job.unchanged;
        self.rejected += job.failed;
        let room = SHOWN_REJECTIONS.saturating_sub(self.rejections.len());
        // `row` is 1-based within the chunk.
        self.rejections.extend(
            job.errors
                .iter()
                .take(room)
                .map(|error| (start as u64 + error.row.saturating_sub(1), error.clone())),
        );
        self.show(self.done, 0, false);
    }

    /// A progress line, at most one a second unless `always`.
    fn show(&mut self, done: u64, rejected_in_job: u64, always: bool) {
        if !always && self.shown.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.shown = Instant::now();
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        eprintln!(
            "seed: {} / {} products ({}/s), {} rejected",
            thousands(done),
            thousands(self.total as u64),
            thousands((done as f64 / seconds) as u64),
            thousands(self.rejected + rejected_in_job)
        );
    }

    fn finish(mut self) -> anyhow::Result<()> {
        if self.total > 0 {
            self.show(self.done, 0, true);
        }
        let seconds = self.started.elapsed().as_secs_f64();
        eprintln!(
            "seed: {} products in {seconds:.1} s ({}/s): {} created, {} updated, {} unchanged, {} rejected",
            thousands(self.done),
            thousands((self.done as f64 / seconds.max(0.001)) as u64),
            thousands(self.created),
            thousands(self.updated),
            thousands(self.unchanged),
            thousands(self.rejected)
        );
        if self.rejected == 0 {
            return Ok(());
        }
        eprintln!("seed: the first rejected products:");
        for (index, error) in &self.rejections {
            eprintln!(
                "  product {index} ({}): {}: {}",
                error.slug.as_deref().unwrap_or("?"),
                error.code,
                error.message
            );
        }
        bail!(
            "{} products were rejected by the control plane (the first are listed above)",
            thousands(self.rejected)
        )
    }
}
