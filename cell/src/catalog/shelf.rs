//! The product list in memory: every listed product's summary, its category
//! path, its variants' sizes and colours and this cell's stock of each (the
//! product page's availability), with each category's products
//! kept in every sort order. A list page is a walk along one order from the
//! cursor, skipping what the filters leave out, so it costs microseconds and
//! no statement; the read model's SQL answers the same page the same way
//! (`query::List::sql`) and still does whenever the shelf may be behind it.
//!
//! Each product's page is on the shelf too, as its JSON compressed with LZ4
//! (about a fifth of its size; a product page decompresses it in a few
//! microseconds), found by slug, so a product page costs no statement either.
//!
//! The search indexer keeps the shelf: it reads the products the catalog and
//! stock consumers changed back from the read model and hands them here as
//! well as to the search index, and it fills a new shelf on every rebuild.
//! The shelf answers only when it holds every change this process sent the
//! indexer and the catalog generation it last read is the current one (a
//! change applied by another replica, or written by hand, bumps the
//! generation without telling this one's indexer; the SQL answers then).

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use wire::catalog::{ProductDetail, ProductSummary};

use super::ProductsError;
use super::cache::Cache;
use super::query::{List, Sort};
use crate::search::Changes;
use crate::search::document::ProductDoc;

/// A rating, ordered (ratings are never NaN; `total_cmp` orders them all).
#[derive(Debug, Clone, Copy)]
struct Rated(f32);

impl PartialEq for Rated {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}

impl Eq for Rated {}

impl PartialOrd for Rated {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rated {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One variant, small: a shop has some twenty per product, so 100,000
/// products hold two million. Sizes and colours are numbered words, the SKU
/// a hash (a product page looks its own SKUs up among some twenty).
#[derive(Debug, Clone, Copy)]
struct Variant {
    /// The size, lowercased, as a word number.
    size: u32,
    /// The colour, lowercased, as a word number.
    colour: u32,
    sku: u64,
    held: u32,
    hint: u64,
}

fn sku_key(sku: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    sku.hash(&mut hasher);
    hasher.finish()
}

/// A word number no word has: a filter on a size or colour the shelf has
/// never seen admits nothing.
const UNKNOWN: u32 = u32::MAX;

/// One listed product, as the list filters, sorts and shows it.
#[derive(Debug)]
struct Entry {
    summary: ProductSummary,
    title: Arc<str>,
    /// Every category on its path, top first.
    categories: Vec<String>,
    /// A size and colour filter asks for one variant with both.
    variants: Box<[Variant]>,
    /// The product page without availability: JSON, LZ4-compressed with
    /// its length in front (empty when it could not be written; the read
    /// model answers for it then).
    page: Arc<[u8]>,
}

/// This cell's stock of one product's variants, as the shelf holds it.
#[derive(Debug, Clone)]
pub struct Held(Vec<(u64, u32, u64)>);

impl Held {
    fn of_entry(entry: &Entry) -> Self {
        Held(
            entry
                .variants
                .iter()
                .map(|v| (v.sku, v.held, v.hint))
                .collect(),
        )
    }

    /// `held` and `global_hint` of `sku` (0 and 0 for one the product does
    /// not have, as for a SKU without a stock row).
    pub fn of(&self, sku: &str) -> (u32, u64) {
        let key = sku_key(sku);
        self.0
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or((0, 0), |&(_, held, hint)| (held, hint))
    }
}

/// The products of one category (or of all), in each sort order. Each order
/// ends with the id, as the SQL's does, so ties fall the same way.
#[derive(Debug, Default)]
struct Orders {
    newest: BTreeSet<u64>,
    price: BTreeSet<(i64, u64)>,
    rating: BTreeSet<(Rated, u64)>,
    title: BTreeSet<(Arc<str>, u64)>,
}

impl Orders {
    fn add(&mut self, e: &Entry) {
        let id = e.summary.id;
        self.newest.insert(id);
        self.price.insert((e.summary.price_minor, id));
        self.rating.insert((Rated(e.summary.rating.average), id));
        self.title.insert((e.title.clone(), id));
    }

    fn remove(&mut self, e: &Entry) {
        let id = e.summary.id;
        self.newest.remove(&id);
        self.price.remove(&(e.summary.price_minor, id));
        self.rating.remove(&(Rated(e.summary.rating.average), id));
        self.title.remove(&(e.title.clone(), id));
    }

    fn is_empty(&self) -> bool {
        self.newest.is_empty()
    }
}

/// What the shelf holds.
#[derive(Debug, Default)]
pub struct Stock {
    entries: HashMap<u64, Entry>,
    all: Orders,
    categories: HashMap<String, Orders>,
    /// Sizes and colours, lowercased, numbered.
    words: HashMap<String, u32>,
    /// Product ids by slug.
    slugs: HashMap<Box<str>, u64>,
    /// The compressed product pages' bytes, together.
    page_bytes: usize,
}

impl Stock {
    fn word(&mut self, text: &str) -> u32 {
        let text = text.to_lowercase();
        if let Some(n) = self.words.get(&text) {
            return *n;
        }
        let n = u32::try_from(self.words.len()).unwrap_or(UNKNOWN - 1);
        self.words.insert(text, n);
        n
    }

    /// The number of a word the shelf holds, or [`UNKNOWN`].
    fn known(&self, text: &str) -> u32 {
        self.words
            .get(&text.to_lowercase())
            .copied()
            .unwrap_or(UNKNOWN)
    }

    fn entry(&mut self, doc: &ProductDoc) -> Entry {
        let variants = doc
            .variants
            .iter()
            .map(|v| Variant {
                size: self.word(&v.size),
                colour: self.word(&v.colour),
                sku: sku_key(&v.sku),
                held: v.held,
                hint: v.hint,
            })
            .collect();
        let page = serde_json::to_vec(&doc.detail())
            .map(|json| Arc::from(lz4_flex::compress_prepend_size(&json)))
            .unwrap_or_else(|_| Arc::from(Vec::new()));
        Entry {
            summary: doc.summary.clone(),
            title: Arc::from(doc.summary.title.as_str()),
            categories: doc.categories.iter().map(|c| c.slug.clone()).collect(),
            variants,
            page,
        }
    }

    /// Puts these products on the shelf, replacing what it held of them.
    pub fn put(&mut self, docs: &[ProductDoc]) {
        for doc in docs {
            self.take(doc.summary.id);
            let entry = self.entry(doc);
            self.all.add(&entry);
            for category in &entry.categories {
                self.categories
                    .entry(category.clone())
                    .or_default()
                    .add(&entry);
            }
            self.slugs
                .insert(entry.summary.slug.as_str().into(), entry.summary.id);
            self.page_bytes += entry.page.len();
            self.entries.insert(entry.summary.id, entry);
        }
    }

    /// Takes product `id` off the shelf (gone, unlisted, or to be replaced).
    pub fn take(&mut self, id: u64) {
        let Some(old) = self.entries.remove(&id) else {
            return;
        };
        if self.slugs.get(old.summary.slug.as_str()) == Some(&id) {
            self.slugs.remove(old.summary.slug.as_str());
        }
        self.page_bytes -= old.page.len();
        self.all.remove(&old);
        for category in &old.categories {
            if let Some(orders) = self.categories.get_mut(category) {
                orders.remove(&old);
                if orders.is_empty() {
                    self.categories.remove(category);
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the compressed product pages take, in bytes.
    pub fn page_bytes(&self) -> usize {
        self.page_bytes
    }

    /// Product `slug`'s compressed page and its stock: `Some(None)` when
    /// no listed product has the slug, `None` when its page could not be
    /// written.
    fn product(&self, slug: &str) -> Option<Option<(Arc<[u8]>, Held)>> {
        let Some(entry) = self.slugs.get(slug).and_then(|id| self.entries.get(id)) else {
            return Some(None);
        };
        if entry.page.is_empty() {
            return None;
        }
        Some(Some((entry.page.clone(), Held::of_entry(entry))))
    }

    /// The page `list` asks for, as the SQL would give it (the shelf
    /// answers with [`Stock::page_json`]; tests read pages back with this).
    #[cfg(test)]
    fn page(&self, list: &List) -> Result<wire::catalog::ProductPage, ProductsError> {
        let (found, next_cursor) = self.found(list)?;
        Ok(wire::catalog::ProductPage {
            items: found.iter().map(|e| e.summary.clone()).collect(),
            next_cursor,
        })
    }

    /// The same page as JSON, written from the shelf's own summaries.
    pub fn page_json(&self, list: &List) -> Result<Vec<u8>, ProductsError> {
        /// [`wire::catalog::ProductPage`], borrowing its items.
        #[derive(serde::Serialize)]
        struct Borrowed<'a> {
            items: Vec<&'a ProductSummary>,
            next_cursor: Option<String>,
        }
        let (found, next_cursor) = self.found(list)?;
        Ok(serde_json::to_vec(&Borrowed {
            items: found.iter().map(|e| &e.summary).collect(),
            next_cursor,
        })?)
    }

    /// The page's products and the cursor after them.
    fn found(&self, list: &List) -> Result<(Vec<&Entry>, Option<String>), ProductsError> {
        let Some(orders) = (match &list.category {
            Some(category) => self.categories.get(category),
            None => Some(&self.all),
        }) else {
            return Ok((Vec::new(), None));
        };
        let mut walk = Walk {
            stock: self,
            list,
            size: list.size.as_ref().map(|s| self.known(s)),
            colour: list.colour.as_ref().map(|c| self.known(c)),
            want: list.limit as usize + 1,
            found: Vec::new(),
        };
        let after = list.after.as_ref();
        match (list.sort, after) {
            (Sort::Newest, None) => walk.along(orders.newest.iter().rev().copied()),
            (Sort::Newest, Some(a)) => walk.along(orders.newest.range(..a.i).rev().copied()),
            (Sort::PriceAsc | Sort::PriceDesc, _) => {
                let ids = |k: &(i64, u64)| k.1;
                match (list.sort, after) {
                    (Sort::PriceAsc, None) => walk.along(orders.price.iter().map(ids)),
                    (Sort::PriceAsc, Some(a)) => {
                        let from = (price_of(&a.v)?, a.i);
                        walk.along(orders.price.range((Excluded(from), Unbounded)).map(ids));
                    }
                    (_, None) => walk.along(orders.price.iter().rev().map(ids)),
                    (_, Some(a)) => {
                        let to = (price_of(&a.v)?, a.i);
                        walk.along(orders.price.range(..to).rev().map(ids));
                    }
                }
            }
            (Sort::Rating, None) => walk.along(orders.rating.iter().rev().map(|k| k.1)),
            (Sort::Rating, Some(a)) => {
                let rating = a.v.as_f64().ok_or(ProductsError::InvalidCursor)? as f32;
                let to = (Rated(rating), a.i);
                walk.along(orders.rating.range(..to).rev().map(|k| k.1));
            }
            (Sort::Title, None) => walk.along(orders.title.iter().map(|k| k.1)),
            (Sort::Title, Some(a)) => {
                let title = a.v.as_str().ok_or(ProductsError::InvalidCursor)?;
                let from = (Arc::<str>::from(title), a.i);
                walk.along(orders.title.range((Excluded(from), Unbounded)).map(|k| k.1));
            }
        }
        let mut found = walk.found;
        let more = found.len() > list.limit as usize;
        found.truncate(list.limit as usize);
        let next_cursor = super::next_cursor(list, more, found.last().map(|e| &e.summary));
        Ok((found, next_cursor))
    }
}

fn price_of(value: &serde_json::Value) -> Result<i64, ProductsError> {
    value.as_i64().ok_or(ProductsError::InvalidCursor)
}

/// One page's walk along an order.
struct Walk<'a, 'l> {
    stock: &'a Stock,
    list: &'l List,
    /// The size and colour filters, as word numbers.
    size: Option<u32>,
    colour: Option<u32>,
    want: usize,
    found: Vec<&'a Entry>,
}

impl<'a> Walk<'a, '_> {
    fn along(&mut self, ids: impl Iterator<Item = u64>) {
        for id in ids {
            let Some(entry) = self.stock.entries.get(&id) else {
                continue;
            };
            if self.admits(entry) {
                self.found.push(entry);
                if self.found.len() >= self.want {
                    return;
                }
            }
        }
    }

    fn admits(&self, e: &Entry) -> bool {
        let list = self.list;
        let s = &e.summary;
        list.brand.as_ref().is_none_or(|b| s.brand.slug == *b)
            && list.min_price.is_none_or(|min| s.price_minor >= min)
            && list.max_price.is_none_or(|max| s.price_minor <= max)
            && (!list.in_stock || s.in_stock)
            && (self.size.is_none() && self.colour.is_none()
                || e.variants.iter().any(|v| {
                    self.size.is_none_or(|want| v.size == want)
                        && self.colour.is_none_or(|want| v.colour == want)
                }))
    }
}

/// The shelf, shared by the list route and the indexer that fills it.
#[derive(Clone)]
pub struct Shelf(Arc<Inner>);

struct Inner {
    stock: RwLock<Option<Stock>>,
    /// The catalog generation read before the last fill.
    generation: AtomicU64,
    /// Changes the indexer has taken and put on the shelf.
    applied: AtomicU64,
    changes: Changes,
    cache: Cache,
}

impl std::fmt::Debug for Shelf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shelf")
            .field("generation", &self.0.generation.load(Ordering::Relaxed))
            .field("applied", &self.0.applied.load(Ordering::Relaxed))
            .finish()
    }
}

impl Shelf {
    /// An empty shelf, kept by the indexer `changes` go to.
    pub fn new(changes: Changes, cache: Cache) -> Self {
        Self(Arc::new(Inner {
            stock: RwLock::new(None),
            generation: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            changes,
            cache,
        }))
    }

    /// The catalog generation now (from Redis, not the replica's copy): the
    /// indexer reads it before it reads products back.
    pub async fn generation_now(&self) -> u64 {
        self.0.cache.generation_now().await
    }

    /// Replaces everything with `stock`, read after `generation`, holding
    /// the first `applied` changes sent.
    pub fn fill(&self, stock: Stock, generation: u64, applied: u64) {
        if let Ok(mut held) = self.0.stock.write() {
            *held = Some(stock);
        }
        self.caught_up(generation, applied);
    }

    /// Replaces products `ids` with `docs` (the listed ones among them).
    pub fn replace(&self, ids: &[u64], docs: &[ProductDoc]) {
        if let Ok(mut held) = self.0.stock.write()
            && let Some(stock) = held.as_mut()
        {
            for id in ids {
                stock.take(*id);
            }
            stock.put(docs);
        }
    }

    /// Notes that the shelf holds everything up to `generation` and the
    /// first `applied` changes sent.
    pub fn caught_up(&self, generation: u64, applied: u64) {
        self.0.generation.store(generation, Ordering::Release);
        self.0.applied.store(applied, Ordering::Release);
    }

    /// Whether the shelf holds every change sent and the catalog as of
    /// `generation` (the one the replica sees).
    fn current(&self, generation: u64) -> bool {
        self.0.applied.load(Ordering::Acquire) >= self.0.changes.sent()
            && self.0.generation.load(Ordering::Acquire) >= generation
    }

    /// The page as JSON, or `None` when the shelf is not filled yet or may
    /// be behind the read model.
    pub fn page(&self, list: &List, generation: u64) -> Result<Option<Vec<u8>>, ProductsError> {
        if !self.current(generation) {
            return Ok(None);
        }
        let Ok(held) = self.0.stock.read() else {
            return Ok(None);
        };
        match held.as_ref() {
            Some(stock) => stock.page_json(list).map(Some),
            None => Ok(None),
        }
    }

    /// Product `slug`'s page, each variant's availability still to fill in
    /// from the stock beside it: `Some(None)` when no listed product has
    /// the slug, `None` when the shelf is not filled yet, may be behind, or
    /// cannot give this page back (the read model answers then).
    pub fn product(&self, slug: &str, generation: u64) -> Option<Option<(ProductDetail, Held)>> {
        if !self.current(generation) {
            return None;
        }
        let found = {
            let stock = self.0.stock.read().ok()?;
            stock.as_ref()?.product(slug)?
        };
        let Some((page, held)) = found else {
            return Some(None);
        };
        let json = lz4_flex::decompress_size_prepended(&page).ok()?;
        let detail = serde_json::from_slice(&json).ok()?;
        Some(Some((detail, held)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::document::sample as doc;

    fn list(query: &str) -> List {
        List::parse(serde_urlencoded::from_str(query).unwrap()).unwrap()
    }

    fn ids(page: &wire::catalog::ProductPage) -> Vec<u64> {
        page.items.iter().map(|i| i.id).collect()
    }

    #[test]
    fn a_replaced_product_leaves_its_old_places() {
        let mut stock = Stock::default();
        stock.put(&[
            doc(1, "shirts", 500, "B", &[("M", "Navy")]),
            doc(2, "shirts", 300, "A", &[("L", "white")]),
        ]);
        stock.put(&[doc(1, "jeans", 100, "C", &[("S", "navy")])]);
        assert_eq!(ids(&stock.page(&list("category=shirts")).unwrap()), [2]);
        assert_eq!(ids(&stock.page(&list("category=jeans")).unwrap()), [1]);
        assert_eq!(
            ids(&stock
                .page(&list("category=clothing&sort=price_asc"))
                .unwrap()),
            [1, 2]
        );
        assert_eq!(ids(&stock.page(&list("size=s&colour=Navy")).unwrap()), [1]);
        assert!(stock.page(&list("size=M")).unwrap().items.is_empty());
        stock.take(1);
        stock.take(2);
        assert!(stock.is_empty());
        assert!(stock.categories.is_empty(), "empty categories are dropped");
    }

    #[test]
    fn product_pages_are_found_by_slug_until_taken() {
        let mut stock = Stock::default();
        let mut first = doc(1, "shirts", 500, "Oxford", &[("M", "Navy"), ("L", "Navy")]);
        first.description = "A shirt. ".repeat(40);
        stock.put(&[first.clone(), doc(2, "jeans", 300, "Selvedge", &[])]);
        let (page, held) = stock.product("p-1").unwrap().unwrap();
        let json = lz4_flex::decompress_size_prepended(&page).unwrap();
        let detail: ProductDetail = serde_json::from_slice(&json).unwrap();
        assert_eq!(detail, first.detail());
        assert!(page.len() < json.len(), "{} < {}", page.len(), json.len());
        assert_eq!(held.of("P1-1"), (1, 0));
        assert_eq!(held.of("P2-0"), (0, 0), "another product's SKU");

        // A new slug for product 1: the old one no longer finds it.
        let mut renamed = first.clone();
        renamed.summary.slug = "oxford-shirt".into();
        stock.put(&[renamed]);
        assert!(stock.product("p-1").unwrap().is_none());
        assert!(stock.product("oxford-shirt").unwrap().is_some());
        stock.take(1);
        assert!(stock.product("oxford-shirt").unwrap().is_none());
        stock.take(2);
        assert_eq!(stock.page_bytes(), 0, "every page's bytes are given back");
    }

    #[test]
    fn pages_follow_the_cursor_in_every_sort() {
        let mut stock = Stock::default();
        let docs: Vec<ProductDoc> = (1..=20)
            .map(|id| {
                doc(
                    id,
                    "shirts",
                    100 * (id as i64 % 4),
                    &format!("T{}", id % 5),
                    &[],
                )
            })
            .collect();
        stock.put(&docs);
        for sort in ["newest", "price_asc", "price_desc", "rating", "title"] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let query = match &cursor {
                    Some(c) => format!("sort={sort}&limit=3&cursor={c}"),
                    None => format!("sort={sort}&limit=3"),
                };
                let page = stock.page(&list(&query)).unwrap();
                seen.extend(ids(&page));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            let whole = stock
                .page(&list(&format!("sort={sort}&limit=100")))
                .unwrap();
            assert_eq!(seen, ids(&whole), "{sort}");
            let query = list(&format!("sort={sort}&limit=7"));
            assert_eq!(
                stock.page_json(&query).unwrap(),
                serde_json::to_vec(&stock.page(&query).unwrap()).unwrap(),
                "{sort}: the borrowed page writes the same JSON"
            );
            assert_eq!(seen.len(), 20, "{sort}");
        }
    }
}
