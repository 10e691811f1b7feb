//! The one task that writes the search index and the vector store. The
//! catalog and stock consumers tell it which products changed (after their
//! transaction commits); it gathers what arrives within a short window,
//! reads those products back from the read model and replaces them in both
//! stores. It starts with a full build and rebuilds on request, swapping the
//! new index in only when it is complete.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tantivy::IndexWriter;
use tokio::sync::{mpsc, oneshot, watch};

use super::Search;
use super::document::{self, ProductDoc};
use super::index::Live;
use super::vectors::{Point, VectorStore};
use crate::catalog::shelf::Stock;

/// How long changes are gathered into one commit.
const GATHER: Duration = Duration::from_millis(25);
/// Products read per page of a rebuild.
const REBUILD_PAGE: u32 = 2_000;
/// Most products replaced in one commit.
const MAX_BATCH: usize = 5_000;
/// Vector points changed since the store was last optimised, past which the
/// indexer optimises it again. Qdrant Edge builds its HNSW graph only when
/// asked: until then, points that arrived as changes are compared one by one
/// with every query. About Qdrant's default indexing threshold (10 MB of
/// 384-dimension vectors is some 6,500 points).
const OPTIMIZE_AFTER: usize = 10_000;
/// How long the indexer waits without a change before it optimises points
/// written since the last optimisation, when there are at least
/// [`SETTLE_AFTER`] of them: a catalog that arrived as a stream of changes
/// is graph-indexed whole once it stops, not left with its last part
/// searched one by one until the stream's next big batch.
const SETTLE: Duration = Duration::from_secs(30);
const SETTLE_AFTER: usize = 1_000;

#[derive(Debug)]
pub enum Change {
    Products(Vec<u64>),
    Skus(Vec<String>),
    Rebuild(Option<oneshot::Sender<Result<u64, String>>>),
}

/// Where changes are sent. Sending never blocks and never fails the
/// sender's work: if the indexer is gone the process is shutting down.
#[derive(Debug, Clone)]
pub struct Changes {
    tx: mpsc::UnboundedSender<Change>,
    /// How many changes were sent: the shelf answers only once the indexer
    /// has taken and applied as many.
    sent: Arc<AtomicU64>,
}

impl Changes {
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<Change>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let sent = Arc::new(AtomicU64::new(0));
        (Self { tx, sent }, rx)
    }

    /// How many changes have been sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Acquire)
    }

    fn send(&self, change: Change) -> Result<(), Change> {
        // Counted first, so a reader never sees a change taken but not sent.
        self.sent.fetch_add(1, Ordering::AcqRel);
        self.tx.send(change).map_err(|e| {
            self.sent.fetch_sub(1, Ordering::AcqRel);
            e.0
        })
    }

    pub fn products(&self, ids: impl IntoIterator<Item = u64>) {
        let ids: Vec<u64> = ids.into_iter().collect();
        if !ids.is_empty() {
            let _ = self.send(Change::Products(ids));
        }
    }

    pub fn skus(&self, skus: impl IntoIterator<Item = String>) {
        let skus: Vec<String> = skus.into_iter().collect();
        if !skus.is_empty() {
            let _ = self.send(Change::Skus(skus));
        }
    }

    /// Everything may have changed: rebuild, in the background.
    pub fn everything(&self) {
        let _ = self.send(Change::Rebuild(None));
    }

    /// Rebuilds both stores from the read model; the number of products
    /// indexed.
    pub async fn rebuild(&self) -> anyhow::Result<u64> {
        let (tx, rx) = oneshot::channel();
        self.send(Change::Rebuild(Some(tx)))
            .map_err(|_| anyhow::anyhow!("the search indexer has stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("the search indexer has stopped"))?
            .map_err(|e| anyhow::anyhow!(e))
    }
}

struct Writer {
    live: Arc<Live>,
    writer: IndexWriter,
    /// Vector points written since the store was last optimised.
    unoptimized: usize,
    /// Points the store held when it was last optimised (roughly).
    optimized: usize,
}

/// Whether changes since the last optimisation call for another: at least
/// [`OPTIMIZE_AFTER`], and at least half what was there then, so a catalog
/// arriving as a stream of changes is indexed a handful of times, not once
/// per [`OPTIMIZE_AFTER`] points.
fn optimize_due(unoptimized: usize, optimized: usize) -> bool {
    unoptimized >= OPTIMIZE_AFTER.max(optimized / 2)
}

/// Whether points left unoptimised call for an optimisation once changes
/// have stopped for [`SETTLE`].
fn settle_due(unoptimized: usize) -> bool {
    unoptimized >= SETTLE_AFTER
}

impl Writer {
    /// Optimises the vector store for the points written since the last
    /// time (`after` says what called for it, in the log).
    fn optimize(&mut self, vectors: &dyn VectorStore, after: &'static str) -> anyhow::Result<()> {
        let started = Instant::now();
        vectors.optimize()?;
        tracing::info!(
            changed = self.unoptimized,
            ms = started.elapsed().as_millis() as u64,
            after,
            "vector store optimised"
        );
        self.optimized += self.unoptimized;
        self.unoptimized = 0;
        Ok(())
    }
}

/// Optimises what `w` left unoptimised, off the async threads; `None` when
/// the optimisation did not finish (the writer is lost with it).
async fn settle(search: &Search, mut w: Writer) -> Option<Writer> {
    let vectors = search.vectors.clone();
    let settled = tokio::task::spawn_blocking(move || {
        if let Err(error) = w.optimize(&*vectors, "changes settled") {
            tracing::warn!(error = %format!("{error:#}"), "vector store optimisation failed; trying again later");
        }
        w
    })
    .await;
    match settled {
        Ok(w) => Some(w),
        Err(error) => {
            tracing::error!(error = %error, "vector store optimisation did not finish; rebuilding");
            None
        }
    }
}

/// Runs until `stop` turns true or every sender is gone.
pub async fn run(
    search: Search,
    mut changes: mpsc::UnboundedReceiver<Change>,
    mut stop: watch::Receiver<bool>,
) {
    let mut writer: Option<Writer> = None;
    let mut pending: Vec<Change> = vec![Change::Rebuild(None)];
    // Changes taken from the feed: once applied, the shelf holds them.
    let mut taken: u64 = 0;
    loop {
        if pending.is_empty() {
            let unsettled = writer.as_ref().is_some_and(|w| settle_due(w.unoptimized));
            tokio::select! {
                change = changes.recv() => match change {
                    Some(change) => {
                        taken += 1;
                        pending.push(change);
                    }
                    None => return,
                },
                _ = stop.changed() => return,
                _ = tokio::time::sleep(SETTLE), if unsettled => {
                    if let Some(w) = writer.take() {
                        writer = settle(&search, w).await;
                        if writer.is_none() {
                            pending.push(Change::Rebuild(None));
                        }
                    }
                    continue;
                }
            }
            tokio::time::sleep(GATHER).await;
        }
        while pending.len() < MAX_BATCH {
            match changes.try_recv() {
                Ok(change) => {
                    taken += 1;
                    pending.push(change);
                }
                Err(_) => break,
            }
        }
        // Read before the products are: what changes after it bumps it again.
        let generation = search.shelf.generation_now().await;
        let mut ids = BTreeSet::new();
        let mut skus = Vec::new();
        let mut rebuilds = Vec::new();
        for change in pending.drain(..) {
            match change {
                Change::Products(list) => ids.extend(list),
                Change::Skus(list) => skus.extend(list),
                Change::Rebuild(reply) => rebuilds.push(reply),
            }
        }
        if !rebuilds.is_empty() {
            // A rebuild reads everything; what changed meanwhile is read by
            // it or arrives after it.
            let started = Instant::now();
            let result = rebuild(&search).await;
            let reply = match result {
                Ok((built, count, stock)) => {
                    let page_mb = stock.page_bytes() / 1_000_000;
                    search.shelf.fill(stock, generation, taken);
                    tracing::info!(
                        products = count,
                        product_pages_mb = page_mb,
                        ms = started.elapsed().as_millis() as u64,
                        "search index built"
                    );
                    search.live.store(Some(built.live.clone()));
                    if let Some(old) = writer.replace(built) {
                        // A writer joins its threads when dropped.
                        tokio::task::spawn_blocking(move || drop(old));
                    }
                    Ok(count)
                }
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "search index build failed");
                    Err(format!("{error:#}"))
                }
            };
            for tx in rebuilds.into_iter().flatten() {
                let _ = tx.send(reply.clone());
            }
            if writer.is_none() {
                // Nothing to update yet: try the build again shortly.
                tokio::time::sleep(Duration::from_secs(2)).await;
                pending.push(Change::Rebuild(None));
            }
            continue;
        }
        let Some(current) = writer.take() else {
            continue;
        };
        match update(&search, current, ids, skus).await {
            Ok(next) => {
                search.shelf.caught_up(generation, taken);
                writer = Some(next);
            }
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "search index update failed; rebuilding");
                pending.push(Change::Rebuild(None));
            }
        }
    }
}

async fn rebuild(search: &Search) -> anyhow::Result<(Writer, u64, Stock)> {
    let (live, writer) = Live::create().context("creating the search index")?;
    let mut w = Writer {
        live: Arc::new(live),
        writer,
        unoptimized: 0,
        optimized: 0,
    };
    search
        .vectors
        .clear()
        .context("clearing the vector store")?;
    let mut after = 0;
    let mut count = 0u64;
    let mut stock = Stock::default();
    loop {
        let docs = document::page(&search.read, after, REBUILD_PAGE).await?;
        let Some(last) = docs.last() else {
            break;
        };
        after = last.summary.id;
        count += docs.len() as u64;
        stock.put(&docs);
        w = write(search, w, Vec::new(), docs, false).await?;
    }
    let (search, w) = (search.clone(), w);
    let w = tokio::task::spawn_blocking(move || -> anyhow::Result<Writer> {
        let mut w = w;
        w.live.commit(&mut w.writer)?;
        search.vectors.optimize()?;
        w.unoptimized = 0;
        w.optimized = usize::try_from(count).unwrap_or(usize::MAX);
        Ok(w)
    })
    .await??;
    Ok((w, count, stock))
}

async fn update(
    search: &Search,
    current: Writer,
    mut ids: BTreeSet<u64>,
    skus: Vec<String>,
) -> anyhow::Result<Writer> {
    ids.extend(document::products_of_skus(&search.write, &skus).await?);
    let ids: Vec<u64> = ids.into_iter().collect();
    let mut current = current;
    for chunk in ids.chunks(1_000) {
        // Read from the primary: the change was just committed there.
        let docs = document::load(&search.write, chunk).await?;
        search.shelf.replace(chunk, &docs);
        current = write(search, current, chunk.to_vec(), docs, true).await?;
    }
    Ok(current)
}

/// Replaces `ids` with `docs` in both stores; commits when `commit`.
async fn write(
    search: &Search,
    w: Writer,
    ids: Vec<u64>,
    docs: Vec<ProductDoc>,
    commit: bool,
) -> anyhow::Result<Writer> {
    search.labels.learn(&docs);
    let search = search.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Writer> {
        let mut w = w;
        w.live.replace(&mut w.writer, &ids, &docs)?;
        if commit {
            w.live.commit(&mut w.writer)?;
        }
        let with_vector: BTreeSet<u64> = docs
            .iter()
            .filter(|d| d.embedding.is_some())
            .map(|d| d.summary.id)
            .collect();
        let gone: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| !with_vector.contains(id))
            .collect();
        search.vectors.delete(&gone)?;
        search.vectors.upsert(
            docs.into_iter()
                .filter_map(|d| {
                    Some(Point {
                        id: d.summary.id,
                        vector: d.embedding?,
                        in_stock: d.summary.in_stock,
                    })
                })
                .collect(),
        )?;
        // Only points written count: products that came without a vector
        // (a catalog imported with its vectors to follow) add nothing to
        // the graph, and counting them would spend the threshold before the
        // vectors arrive.
        w.unoptimized += with_vector.len();
        // A rebuild optimises once, at its end.
        if commit && optimize_due(w.unoptimized, w.optimized) {
            w.optimize(&*search.vectors, "enough changes")?;
        }
        Ok(w)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_left_is_optimised_once_changes_settle_unless_it_is_little() {
        assert!(!settle_due(0));
        assert!(!settle_due(SETTLE_AFTER - 1));
        assert!(settle_due(SETTLE_AFTER));
        // The tail a growing store leaves below its threshold is settled.
        assert!(!optimize_due(29_000, 67_000));
        assert!(settle_due(29_000));
    }

    #[test]
    fn the_store_is_optimised_after_enough_changes_growing_with_it() {
        assert!(!optimize_due(0, 0));
        assert!(!optimize_due(OPTIMIZE_AFTER - 1, 0));
        assert!(optimize_due(OPTIMIZE_AFTER, 0));
        // A big store waits for half its size in changes.
        assert!(!optimize_due(OPTIMIZE_AFTER, 100_000));
        assert!(optimize_due(50_000, 100_000));
        // A catalog of 100,000 arriving as changes, 1,000 at a time: a
        // handful of optimisations.
        let (mut unoptimized, mut optimized, mut runs) = (0, 0, 0);
        for _ in 0..100 {
            unoptimized += 1_000;
            if optimize_due(unoptimized, optimized) {
                optimized += unoptimized;
                unoptimized = 0;
                runs += 1;
            }
        }
        assert!((3..=6).contains(&runs), "{runs} optimisations");
    }
}
