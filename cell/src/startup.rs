//! Building and running a cell: connect its back ends, claim its database,
//! assemble the router, bind the port.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chassis::backends::Backends;
use chassis::metrics::Metrics;
use chassis::service::{Identity, Service};
use sqlx::MySqlPool;

use crate::auth::google::Google;
use crate::auth::tokens::SigningKeys;
use crate::auth::{Auth, AuthSettings, Limits, Sessions};
use crate::carriers::Tracking;
use crate::cart::Carts;
use crate::cart::cache::CartCache;
use crate::cart::takeover::Takeovers;
use crate::catalog::Products;
use crate::catalog::apply::{OnDeleted, OnUpserted};
use crate::catalog::cache::Cache;
use crate::catalog::shelf::Shelf;
use crate::checkout::{self, Checkouts};
use crate::config::Config;
use crate::notifications::{
    Notifier, OnCancelled, OnConfirmed, OnRefunded, OnStatusChanged, Quiet,
};
use crate::payments::Payments;
use crate::peers::Peers;
use crate::promotions::apply::OnPromotionUpserted;
use crate::promotions::caps::{Caps, OnCapGranted};
use crate::search::activity::{self, Activity, OnTrending};
use crate::search::embedder::QueryEmbedder;
use crate::search::{Changes, Search, vectors};
use crate::stock::{OnAllocated, OnHint, OnRecalled, Stock};
use crate::users::Addresses;
use events::Schemas;
use events::consumer::ConsumerSettings;
use secrecy::ExposeSecret;
use wire::events::{
    OrderCancelled, OrderConfirmed, OrderPlaced, OrderRefunded, OrderStatusChanged, ProductDeleted,
    ProductUpserted, PromotionCapGranted, PromotionUpserted, StockAllocated, StockHintUpdated,
    StockRecalled, TrendingUpdated,
};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A cell ready to serve: built by [`App::build`], run by [`App::run_until`].
pub type App = Service;

/// Connects the cell's back ends, claims its database and binds its port.
pub async fn build(config: Config) -> anyhow::Result<App> {
    let cell = config.cell.id.clone();
    let backends = Backends::connect(
        &config.mysql,
        &MIGRATIONS,
        &config.redis,
        &config.kafka,
        &format!("cellwear-{cell}"),
    )
    .await?;
    claim_database(&backends.mysql, &cell).await?;
    crate::invoices::ensure_series(&backends.mysql, &config.invoices.series(&cell))
        .await
        .context("making the cell's invoice series")?;
    let metrics = Metrics::new("cell")?;
    let kpis = Arc::new(crate::orders::kpis::Kpis::new(Some(metrics.registry()))?);
    let auth = auth(&config, &backends)?;
    let addresses = Arc::new(Addresses::new(backends.mysql.clone()));
    let cache = Cache::new(
        backends.redis.clone(),
        &config.redis.key_prefix,
        Duration::from_millis(config.catalog.cache_ttl_ms),
        config.catalog.cache_capacity,
    );
    let read = read_pool(&config).await?;
    let (activity, views) = Activity::new();
    let (changes, change_feed) = Changes::channel();
    let shelf = Shelf::new(changes.clone(), cache.clone());
    let products = Products::new(read.clone(), cache.clone(), config.stock.low_stock)
        .with_activity(activity)
        .with_shelf(shelf.clone(), metrics.registry())?;
    let embedder = QueryEmbedder::new(config.search.model_dir.clone(), config.search.query_cache);
    let search = Search::new(
        vectors::open(&config.search.vector_dir, &cell)?,
        embedder.clone(),
        changes.clone(),
        shelf,
        read,
        backends.mysql.clone(),
    );
    let caps = Caps::new(
        backends.mysql.clone(),
        &cell,
        &config.kafka.topic_prefix,
        Duration::from_millis(config.stock.top_up_cooldown_ms),
    );
    let cart_cache = CartCache::new(
        backends.redis.clone(),
        &config.redis.key_prefix,
        Duration::from_secs(config.cart.cache_ttl_s),
    );
    let carts = Arc::new(Carts::new(
        backends.mysql.clone(),
        config.cart.clone(),
        config.stock.low_stock,
        (caps, cart_cache.clone()),
    ));
    let stock = Stock::new(
        backends.mysql.clone(),
        &cell,
        config.stock.clone(),
        &config.kafka.topic_prefix,
    )
    .with_search(changes.clone());
    let peers = Peers::new(&cell, config.routing.clone())?;
    if peers.enabled()
        && let Err(error) = peers.refresh().await
    {
        tracing::warn!(error = %error, "no routing table yet; guest carts are taken to be here until one loads");
    }
    let takeovers = Takeovers::new(
        backends.mysql.clone(),
        carts.clone(),
        peers.clone(),
        auth.clone(),
        &cell,
        config.cart.takeover_retry_ms,
    )?;
    auth.on_sign_in(takeovers.clone());
    let payments = Payments::new(&config.payments)?;
    if !payments.enabled() {
        tracing::warn!("payments.secret_key is empty: checkout stops before payment");
    }
    let checkouts = Arc::new(Checkouts::new(checkout::Parts {
        pool: backends.mysql.clone(),
        carts: carts.clone(),
        addresses: addresses.clone(),
        stock,
        payments,
        settings: config.checkout.clone(),
        cell: cell.clone(),
        topic_prefix: config.kafka.topic_prefix.clone(),
        invoices: config.invoices.clone(),
        kpis: kpis.clone(),
    }));
    let orders =
        crate::orders::Orders::new(backends.mysql.clone(), &cell, &config.kafka.topic_prefix);
    let mut tracking = Tracking::new(backends.mysql.clone(), orders.clone(), &config.carrier);
    if config.carrier.simulated.enabled && config.carrier.webhook_secret.expose_secret().is_empty()
    {
        tracking = tracking.with_secret(uuid::Uuid::new_v4().to_string().into());
    }
    let notifier = Notifier::new(backends.mysql.clone(), config.mail.clone())
        .map_err(|e| anyhow::anyhow!("mail: {e}"))?
        .with_metrics(kpis);
    let email_changes =
        crate::auth::EmailChanges::new(auth.clone(), notifier.clone(), peers.clone(), &cell);
    let fences = crate::moves::Fences::load(backends.mysql.clone())
        .await
        .context("reading the shopper fences")?;
    let moves =
        crate::moves::Moves::new(backends.mysql.clone(), auth.clone(), (fences, cart_cache))
            .await
            .context("reading the schema of the shopper tables")?;
    let identity = Identity {
        service: format!("cell {cell}"),
        cell: Some(cell.clone()),
    };
    let mut service = Service::build(
        identity,
        &config.http,
        &config.readiness,
        backends,
        metrics,
        crate::http::router(crate::http::Domains {
            auth,
            addresses,
            products,
            search: search.clone(),
            carts,
            checkouts: checkouts.clone(),
            orders: orders.clone(),
            tracking: tracking.clone(),
            payments: config.payments.clone(),
            moves,
            email_changes,
        })?,
    )
    .await?;
    let every = Duration::from_millis(config.checkout.sweep_every_ms);
    service.spawn_worker("routing table follower", move |stop| peers.follow(stop));
    service.spawn_worker("cart takeover sweeper", move |stop| takeovers.sweep(stop));
    service.spawn_worker("unpaid order sweeper", move |stop| {
        checkout::sweep(checkouts, every, stop)
    });
    if config.carrier.simulated.enabled {
        let simulation = config.carrier.simulated.clone();
        let pool = service.mysql().clone();
        service.spawn_worker("simulated carrier", move |stop| {
            crate::carriers::simulated::run(pool, orders, tracking, simulation, stop)
        });
    }
    service.spawn_worker("search indexer", |stop| {
        crate::search::indexer::run(search, change_feed, stop)
    });
    let analytics_topic = config
        .kafka
        .topic(&events::topics::cell_topic(&cell, "analytics"));
    let pool = service.mysql().clone();
    let recorder_cell = cell.clone();
    service.spawn_worker("view recorder", |stop| {
        activity::record_views(pool, recorder_cell, analytics_topic, views, stop)
    });
    if config.search.warm_model {
        tokio::spawn(async move {
            if let Err(error) = embedder.model().await {
                tracing::error!(error = %error, "the embedding model did not load; semantic search will fail until it does");
            }
        });
    }
    // The global topics too, so the replica consumer can subscribe even if
    // the control plane has not created them yet.
    let kafka = &config.kafka;
    let mut topics = events::topics::cell_topics(&cell, kafka.partitions);
    topics.extend(events::topics::global_topics(kafka.partitions));
    service
        .start_event_backbone(&kafka.namespaced(topics))
        .await?;
    let settings = ConsumerSettings::new(
        &kafka.brokers,
        &kafka.topic(&format!("{cell}.replica")),
        &[
            &kafka.topic(events::topics::CATALOG),
            &kafka.topic(events::topics::ALLOCATIONS),
            &kafka.topic(events::topics::TRENDING),
        ],
    );
    let inventory_topic = kafka.topic(&events::topics::cell_topic(&cell, "inventory"));
    let schemas = Schemas::builtin();
    service.start_consumer("catalog and stock consumer", settings, |consumer| {
        consumer
            .on::<ProductUpserted>(OnUpserted {
                cache: cache.clone(),
                search: changes.clone(),
            })
            .on::<ProductDeleted>(OnDeleted {
                cache,
                search: changes.clone(),
            })
            .on::<PromotionUpserted>(OnPromotionUpserted)
            .on::<PromotionCapGranted>(OnCapGranted { cell: cell.clone() })
            .on::<StockAllocated>(OnAllocated {
                cell: cell.clone(),
                search: changes.clone(),
            })
            .on::<StockHintUpdated>(OnHint {
                search: changes.clone(),
            })
            .on::<StockRecalled>(OnRecalled {
                cell: cell.clone(),
                schemas,
                inventory_topic,
                search: changes,
            })
            .on::<TrendingUpdated>(OnTrending)
    })?;
    let orders_topic = kafka.topic(&events::topics::cell_topic(&cell, "orders"));
    let settings = ConsumerSettings::new(
        &kafka.brokers,
        &kafka.topic(&format!("{cell}.notifications")),
        &[&orders_topic],
    );
    service.start_consumer("order e-mails", settings, |consumer| {
        consumer
            .on::<OrderConfirmed>(OnConfirmed(notifier.clone()))
            .on::<OrderStatusChanged>(OnStatusChanged(notifier.clone()))
            .on::<OrderCancelled>(OnCancelled(notifier.clone()))
            .on::<OrderRefunded>(OnRefunded(notifier))
            .on::<OrderPlaced>(Quiet)
    })?;
    Ok(service)
}

/// The read-only pool the catalog reads through: the replica when one is
/// configured, else the primary.
async fn read_pool(config: &Config) -> anyhow::Result<MySqlPool> {
    let replica = config.catalog.read_url.expose_secret();
    let url = if replica.is_empty() {
        config.mysql.url.expose_secret()
    } else {
        replica
    };
    Ok(chassis::deps::connect_mysql_read(
        url,
        config.catalog.read_max_connections,
        config.catalog.read_acquire_timeout_ms,
    )
    .await?)
}

fn auth(config: &Config, backends: &Backends) -> anyhow::Result<Arc<Auth>> {
    let settings = &config.auth;
    let keys = if settings.signing_key_files.is_empty() {
        tracing::warn!(
            "auth.ephemeral_key: signing with a key made at start; its tokens die with this process"
        );
        SigningKeys::ephemeral(&settings.issuer, &settings.audience)?
    } else {
        SigningKeys::from_files(
            &settings.signing_key_files,
            &settings.issuer,
            &settings.audience,
        )?
    };
    let sessions = Sessions::new(
        backends.redis.clone(),
        &config.redis.key_prefix,
        Duration::from_secs(settings.refresh_ttl_s),
        Duration::from_secs(settings.access_ttl_s),
    );
    Ok(Auth::new(
        backends.mysql.clone(),
        sessions,
        Limits::new(backends.redis.clone(), &config.redis.key_prefix),
        keys,
        Google::new(
            settings.google.clone(),
            backends.redis.clone(),
            &config.redis.key_prefix,
        )?,
        AuthSettings {
            access_ttl: Duration::from_secs(settings.access_ttl_s),
            refresh_ttl: Duration::from_secs(settings.refresh_ttl_s),
            bcrypt_cost: settings.bcrypt_cost,
            cookie_secure: settings.cookie_secure,
            allowed_origins: settings.allowed_origins.clone(),
            cell: config.cell.id.clone(),
            topic_prefix: config.kafka.topic_prefix.clone(),
            bootstrap_admins: settings.bootstrap_admins.clone(),
        },
    ))
}

/// Records this cell as the owner of its database, or refuses to start when
/// another cell already owns it.
async fn claim_database(pool: &MySqlPool, cell: &str) -> anyhow::Result<()> {
    sqlx::query!(
        "INSERT IGNORE INTO cell_identity (singleton, cell_id) VALUES (1, ?)",
        cell
    )
    .execute(pool)
    .await
    .context("recording the cell's ownership of its database")?;
    let owner = sqlx::query_scalar!("SELECT cell_id FROM cell_identity WHERE singleton = 1")
        .fetch_one(pool)
        .await
        .context("reading the owner of the cell's database")?;
    anyhow::ensure!(
        owner == cell,
        "mysql.url points at the database of cell {owner}, not of cell {cell}: give each cell its own database"
    );
    Ok(())
}
