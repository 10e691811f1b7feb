//! Building and running the control plane.

use access_tokens::SigningKeys;
use chassis::backends::Backends;
use chassis::metrics::Metrics;
use chassis::service::{Identity, Service};
use events::Schemas;
use events::consumer::ConsumerSettings;
use topology::Topology;
use wire::events::{
    ProductsViewed, PromotionCapReturned, PromotionCapTopUpRequested, StockReturned, StockSold,
    StockTopUpRequested, StockUnsold,
};

use crate::catalog::Catalog;
use crate::catalog::embed::ProductEmbedder;
use crate::catalog::import::Imports;
use crate::config::Config;
use crate::http::AppState;
use crate::promotions::Promotions;
use crate::promotions::caps::{OnCapReturned, OnCapTopUp};
use crate::staff::Verifier;
use crate::stock::consumer::{OnReturned, OnSold, OnTopUp, OnUnsold};
use crate::trending::OnViewed;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The control plane ready to serve.
pub type App = Service;

/// Connects the back ends, applies the migrations and binds the port.
pub async fn build(config: Config) -> anyhow::Result<App> {
    let backends = Backends::connect(
        &config.mysql,
        &MIGRATIONS,
        &config.redis,
        &config.kafka,
        "cellwear-control-plane",
    )
    .await?;
    let topology = Topology::load(&config.control.topology)
        .map_err(|e| anyhow::anyhow!("control.topology: {e}"))?;
    crate::routing::seed(&backends.mysql, &topology).await?;
    let keys = SigningKeys::from_files(
        &config.auth.key_files,
        &config.auth.issuer,
        &config.auth.audience,
    )?;
    let pool = backends.mysql.clone();
    let imports = Imports::new(pool.clone());
    let interrupted = imports.fail_interrupted().await?;
    if interrupted > 0 {
        tracing::warn!(
            imports = interrupted,
            "imports cut short by a restart were marked failed"
        );
    }
    let kafka = &config.kafka;
    let mut stock = config.stock.clone();
    stock.allocations_topic = kafka.topic(events::topics::ALLOCATIONS);
    let drainer = crate::cells::drain::Drainer::new(
        pool.clone(),
        SigningKeys::from_files(
            &config.auth.key_files,
            &config.auth.issuer,
            &config.auth.audience,
        )?,
        config.drain.clone(),
        stock.clone(),
    )?;
    let verifier = Verifier::new(keys);
    let aliases = crate::routing::aliases::Aliases::new(
        pool.clone(),
        verifier.clone(),
        std::time::Duration::from_millis(config.drain.call_timeout_ms),
    )?;
    let cells = crate::cells::Cells::new(
        pool.clone(),
        kafka.topic(events::topics::ALLOCATIONS),
        std::time::Duration::from_millis(config.orders.fanout_timeout_ms),
        verifier.clone(),
    )?;
    let state = AppState {
        verifier,
        aliases,
        catalog: Catalog::new(
            pool.clone(),
            stock.clone(),
            kafka.topic(events::topics::CATALOG),
            ProductEmbedder::new(&config.embeddings.model_dir)
                .map_err(|e| anyhow::anyhow!("embeddings.model_dir: {e}"))?,
        ),
        promotions: Promotions::new(
            pool.clone(),
            kafka.topic(events::topics::CATALOG),
            kafka.topic(events::topics::ALLOCATIONS),
        ),
        imports,
        stock: stock.clone(),
        schemas: Schemas::builtin(),
        orders: crate::orders::OrderSearch::new(pool.clone(), &config.orders)?,
        cells,
        pool: pool.clone(),
        drainer: drainer.clone(),
    };
    let catalog = state.catalog.clone();
    let routes = crate::http::router(state)?;
    let metrics = Metrics::new("control-plane")?;
    let registry = metrics.registry().clone();
    let identity = Identity {
        service: "control-plane".into(),
        cell: None,
    };
    let mut service = Service::build(
        identity,
        &config.http,
        &config.readiness,
        backends,
        metrics,
        routes,
    )
    .await?;
    service.spawn_worker("drainer", move |stop| drainer.run(stop));
    service.spawn_worker("vector backlog", move |stop| {
        crate::catalog::backlog::work(catalog, registry, stop)
    });
    // The cells' inventory topics are created here too, so the consumer can
    // subscribe before the cells first start.
    let cells = crate::routing::cell_ids(&pool).await?;
    let mut topics = events::topics::global_topics(kafka.partitions);
    for cell in &cells {
        topics.extend(events::topics::cell_topics(cell, kafka.partitions));
    }
    service
        .start_event_backbone(&kafka.namespaced(topics))
        .await?;
    let inventory: Vec<String> = cells
        .iter()
        .map(|cell| kafka.topic(&events::topics::cell_topic(cell, "inventory")))
        .collect();
    let inventory: Vec<&str> = inventory.iter().map(String::as_str).collect();
    let settings = ConsumerSettings::new(
        &kafka.brokers,
        &kafka.topic("control-plane.stock"),
        &inventory,
    );
    let analytics: Vec<String> = cells
        .iter()
        .map(|cell| kafka.topic(&events::topics::cell_topic(cell, "analytics")))
        .collect();
    let analytics: Vec<&str> = analytics.iter().map(String::as_str).collect();
    let half_life_s = config.trending.half_life_s;
    service.start_consumer(
        "analytics consumer",
        ConsumerSettings::new(
            &kafka.brokers,
            &kafka.topic("control-plane.analytics"),
            &analytics,
        ),
        |consumer| consumer.on::<ProductsViewed>(OnViewed { half_life_s }),
    )?;
    let (trending_pool, trending_topic, trending) = (
        pool.clone(),
        kafka.topic(events::topics::TRENDING),
        config.trending.clone(),
    );
    service.spawn_worker("trending publisher", |stop| {
        crate::trending::publish(trending_pool, trending_topic, trending, stop)
    });
    let allocations_topic = kafka.topic(events::topics::ALLOCATIONS);
    service.start_consumer("stock consumer", settings, |consumer| {
        consumer
            .on::<StockSold>(OnSold)
            .on::<StockUnsold>(OnUnsold)
            .on::<StockTopUpRequested>(OnTopUp {
                schemas: Schemas::builtin(),
                settings: stock.clone(),
            })
            .on::<StockReturned>(OnReturned {
                schemas: Schemas::builtin(),
                settings: stock,
            })
            .on::<PromotionCapTopUpRequested>(OnCapTopUp {
                schemas: Schemas::builtin(),
                topic: allocations_topic,
            })
            .on::<PromotionCapReturned>(OnCapReturned)
    })?;
    Ok(service)
}
