//! `GET /api/search`: the parameters, the tantivy query they make, and the
//! search itself — one page of hits, highlights, and facet counts where
//! values within a facet are alternatives (OR), facets narrow each other
//! (AND), and each facet is counted without its own filter.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use serde::Deserialize;
use tantivy::collector::{
    Collector, Count, FacetCollector, MultiCollector, SegmentCollector, TopDocs,
};
use tantivy::columnar::ColumnValues;
use tantivy::index::SegmentId;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EnableScoring, Explanation, FuzzyTermQuery, Occur, Query,
    RangeQuery, Scorer, TermQuery, TermSetQuery, Weight,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, DocId, DocSet, Order, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED,
    TantivyDocument, Term,
};
use wire::catalog::ProductSummary;
use wire::search::{
    FacetCount, Facets, Highlights, PriceCount, RatingCount, SearchHit, SearchMode, SearchResults,
};

use super::index::{Fields, Live, analyzer, facet};
use super::{Labels, SearchError};

pub const DEFAULT_LIMIT: u32 = 24;
pub const MAX_LIMIT: u32 = 100;
/// Deeper than this, a shopper should narrow the search instead.
pub const MAX_OFFSET: u32 = 2_000;
pub const MAX_QUERY_CHARS: usize = 200;
/// Words of a query looked at; the rest are ignored.
pub const MAX_WORDS: usize = 12;
/// Values per facet in one filter.
pub const MAX_FILTER_VALUES: usize = 20;
/// Values per facet in the response.
const MAX_FACET_VALUES: usize = 50;
/// Upper bounds (minor units, exclusive) of the price facet's buckets; the
/// last bucket is open.
pub const PRICE_BUCKETS: [i64; 4] = [5_000, 10_000, 20_000, 50_000];
pub const RATING_BUCKETS: [u8; 4] = [4, 3, 2, 1];

/// `GET /api/search` parameters, as sent. List filters take
/// comma-separated values.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words to look for (at most 200 characters); empty lists everything.
    pub q: Option<String>,
    /// `text` (default), `semantic` or `hybrid`.
    pub mode: Option<String>,
    /// Brand slugs, comma-separated.
    pub brand: Option<String>,
    /// Category slugs, comma-separated; subcategories included.
    pub category: Option<String>,
    /// Sizes, comma-separated.
    pub size: Option<String>,
    /// Colours, comma-separated.
    pub colour: Option<String>,
    /// Lowest "from" price, minor units.
    pub min_price: Option<i64>,
    /// Highest "from" price, minor units.
    pub max_price: Option<i64>,
    /// Lowest average rating, 0-5.
    pub rating_min: Option<f64>,
    /// Only products this cell can sell now.
    pub in_stock: Option<bool>,
    /// `relevance` (default with words), `newest` (default without),
    /// `price_asc`, `price_desc`, `rating`.
    pub sort: Option<String>,
    /// 1-based.
    pub page: Option<u32>,
    /// 1-100, default 24.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
    Rating,
}

/// The facets a filter can narrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Brand,
    Category,
    Size,
    Colour,
    Price,
    Rating,
    InStock,
}

const GROUPS: [Group; 7] = [
    Group::Brand,
    Group::Category,
    Group::Size,
    Group::Colour,
    Group::Price,
    Group::Rating,
    Group::InStock,
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub brand: Vec<String>,
    pub category: Vec<String>,
    pub size: Vec<String>,
    pub colour: Vec<String>,
    pub min_price: Option<u64>,
    pub max_price: Option<u64>,
    pub rating_min: Option<f64>,
    pub in_stock: bool,
}

/// Checked parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub q: String,
    pub mode: SearchMode,
    pub filters: Filters,
    pub sort: SearchSort,
    pub page: u32,
    pub limit: u32,
}

fn bad(message: impl Into<String>) -> SearchError {
    SearchError::InvalidQuery(message.into())
}

fn values(name: &str, text: Option<String>, lower: bool) -> Result<Vec<String>, SearchError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    for value in text.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        if value.chars().count() > 64 || value.chars().any(char::is_control) {
            return Err(bad(format!("{name}: each value 1-64 characters")));
        }
        let value = if lower {
            value.to_lowercase()
        } else {
            value.to_owned()
        };
        if !out.contains(&value) {
            out.push(value);
        }
    }
    if out.len() > MAX_FILTER_VALUES {
        return Err(bad(format!("{name}: at most {MAX_FILTER_VALUES} values")));
    }
    Ok(out)
}

impl SearchRequest {
    pub fn parse(params: SearchParams) -> Result<Self, SearchError> {
        let q = params.q.unwrap_or_default();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::QueryTooLong);
        }
        // Control characters carry no meaning in a search box.
        let q: String = q
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_owned();
        let mode = match params.mode.as_deref() {
            None | Some("text") => SearchMode::Text,
            Some("semantic") => SearchMode::Semantic,
            Some("hybrid") => SearchMode::Hybrid,
            Some(_) => return Err(bad("mode: one of text, semantic, hybrid")),
        };
        if mode != SearchMode::Text && q.is_empty() {
            return Err(bad("q: semantic and hybrid search need words"));
        }
        let sort = match params.sort.as_deref() {
            None if q.is_empty() => SearchSort::Newest,
            None => SearchSort::Relevance,
            Some(text) => serde_json::from_value(serde_json::Value::String(text.to_owned()))
                .map_err(|_| {
                    bad("sort: one of relevance, newest, price_asc, price_desc, rating")
                })?,
        };
        let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad(format!("limit: 1-{MAX_LIMIT}")));
        }
        let page = params.page.unwrap_or(1);
        if page == 0 || (page - 1).saturating_mul(limit) > MAX_OFFSET {
            return Err(bad(format!(
                "page: from 1, at most {MAX_OFFSET} results deep"
            )));
        }
        let price = |name: &str, value: Option<i64>| match value {
            Some(p) if p < 0 => Err(bad(format!("{name}: 0 or more (minor units)"))),
            other => Ok(other.map(|p| p.unsigned_abs())),
        };
        let (min_price, max_price) = (
            price("min_price", params.min_price)?,
            price("max_price", params.max_price)?,
        );
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            return Err(bad("min_price is above max_price"));
        }
        if let Some(r) = params.rating_min
            && !(0.0..=5.0).contains(&r)
        {
            return Err(bad("rating_min: 0-5"));
        }
        Ok(Self {
            q,
            mode,
            filters: Filters {
                brand: values("brand", params.brand, true)?,
                category: values("category", params.category, true)?,
                size: values("size", params.size, false)?,
                colour: values("colour", params.colour, true)?,
                min_price,
                max_price,
                rating_min: params.rating_min,
                in_stock: params.in_stock.unwrap_or(false),
            },
            sort,
            page,
            limit,
        })
    }

    fn offset(&self) -> usize {
        ((self.page - 1) * self.limit) as usize
    }
}

impl Filters {
    fn active(&self, group: Group) -> bool {
        match group {
            Group::Brand => !self.brand.is_empty(),
            Group::Category => !self.category.is_empty(),
            Group::Size => !self.size.is_empty(),
            Group::Colour => !self.colour.is_empty(),
            Group::Price => self.min_price.is_some() || self.max_price.is_some(),
            Group::Rating => self.rating_min.is_some(),
            Group::InStock => self.in_stock,
        }
    }

    /// One clause per active filter, leaving out `except`.
    fn clauses(&self, f: &Fields, except: Option<Group>) -> Vec<Box<dyn Query>> {
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        for group in GROUPS {
            if Some(group) == except || !self.active(group) {
                continue;
            }
            let any_facet = |field: Field, values: &[String]| -> Box<dyn Query> {
                Box::new(TermSetQuery::new(
                    values.iter().map(|v| Term::from_facet(field, &facet(v))),
                ))
            };
            out.push(match group {
                Group::Brand => any_facet(f.brand, &self.brand),
                Group::Size => any_facet(f.size, &self.size),
                Group::Colour => any_facet(f.colour, &self.colour),
                Group::Category => Box::new(TermSetQuery::new(
                    self.category
                        .iter()
                        .map(|c| Term::from_field_text(f.category_path, c)),
                )),
                Group::Price => Box::new(RangeQuery::new(
                    self.min_price.map_or(Bound::Unbounded, |p| {
                        Bound::Included(Term::from_field_u64(f.price, p))
                    }),
                    self.max_price.map_or(Bound::Unbounded, |p| {
                        Bound::Included(Term::from_field_u64(f.price, p))
                    }),
                )),
                Group::Rating => Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_f64(
                        f.rating,
                        self.rating_min.unwrap_or(0.0),
                    )),
                    Bound::Unbounded,
                )),
                Group::InStock => Box::new(TermQuery::new(
                    Term::from_field_u64(f.in_stock, 1),
                    IndexRecordOption::Basic,
                )),
            });
        }
        out
    }
}

/// A query word after analysis, and how long it was as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub stem: String,
    pub typed_chars: usize,
}

/// The query's words as the index sees them. Any punctuation or query
/// syntax is just a separator here: the text is never parsed as a query
/// language.
pub fn words(q: &str) -> Vec<Word> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(q);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        if out.len() == MAX_WORDS {
            break;
        }
        let typed = q
            .get(token.offset_from..token.offset_to)
            .map_or(token.text.len(), |t| t.chars().count());
        if !out.iter().any(|w: &Word| w.stem == token.text) {
            out.push(Word {
                stem: token.text.clone(),
                typed_chars: typed,
            });
        }
    }
    out
}

/// Edits forgiven in a word: none below five letters, one up to eight,
/// two beyond.
fn typo_distance(word: &Word) -> u8 {
    match word.typed_chars {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Whether some product has `word` in a text field: a word the catalog
/// knows is taken as meant, not as a typo.
fn known(searcher: &Searcher, f: &Fields, word: &Word) -> bool {
    f.weighted().iter().any(|(field, _)| {
        searcher
            .doc_freq(&Term::from_field_text(*field, &word.stem))
            .is_ok_and(|n| n > 0)
    })
}

/// A word found in any text field (weighted); a word no product has is
/// also looked for within its typo distance (at half weight). Matching a
/// known word loosely too would cost a walk of every field's dictionary
/// per word and request, and find other words ("shirt" is one edit from
/// "short").
pub(crate) fn word_query(f: &Fields, searcher: &Searcher, word: &Word) -> Box<dyn Query> {
    let distance = if known(searcher, f, word) {
        0
    } else {
        typo_distance(word)
    };
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, weight) in f.weighted() {
        let term = Term::from_field_text(field, &word.stem);
        should.push((
            Occur::Should,
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                weight,
            )),
        ));
        if distance > 0 {
            should.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new(term, distance, true)),
                    weight * 0.5,
                )),
            ));
        }
    }
    Box::new(BooleanQuery::new(should))
}

/// Every word (`all`) or any word.
pub fn text_query(f: &Fields, searcher: &Searcher, words: &[Word], all: bool) -> Box<dyn Query> {
    if words.is_empty() {
        return Box::new(AllQuery);
    }
    let occur = if all { Occur::Must } else { Occur::Should };
    Box::new(BooleanQuery::new(
        words
            .iter()
            .map(|w| (occur, word_query(f, searcher, w)))
            .collect(),
    ))
}

/// One segment's matched documents and their scores, in document order.
type SegmentHits = Arc<[(DocId, Score)]>;

/// The documents a query matched, with their scores, found once per search
/// and kept per segment in document order. The main pass and each facet's
/// pass without its own filter intersect their filters with this list
/// instead of matching the words against the index again: a search with
/// two filters set matched its words three times before.
#[derive(Debug, Clone)]
struct Matched {
    segments: Arc<HashMap<SegmentId, SegmentHits>>,
}

impl Matched {
    fn gather(searcher: &Searcher, query: &dyn Query) -> tantivy::Result<Self> {
        let segments = searcher.search(query, &Gather)?;
        Ok(Self {
            segments: Arc::new(segments.into_iter().collect()),
        })
    }
}

impl Query for Matched {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for Matched {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = self
            .segments
            .get(&reader.segment_id())
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()));
        Ok(Box::new(MatchedDocs { docs, at: 0, boost }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} was not matched"
            )));
        }
        Ok(Explanation::new("matched by the words", scorer.score()))
    }
}

/// One segment's matched documents as a scorer: `seek` is a binary search,
/// so an intersection led by a narrow filter skips through it.
struct MatchedDocs {
    docs: SegmentHits,
    at: usize,
    boost: Score,
}

impl DocSet for MatchedDocs {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = self.docs.get(self.at..).unwrap_or_default();
        self.at += rest.partition_point(|(doc, _)| *doc < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).map_or(TERMINATED, |(doc, _)| *doc)
    }

    fn size_hint(&self) -> u32 {
        u32::try_from(self.docs.len() - self.at).unwrap_or(u32::MAX)
    }
}

impl Scorer for MatchedDocs {
    fn score(&mut self) -> Score {
        self.docs
            .get(self.at)
            .map_or(0.0, |(_, score)| score * self.boost)
    }
}

/// Collects every matched document and its score, per segment.
struct Gather;

type Gathered = Vec<(SegmentId, SegmentHits)>;

struct GatherSegment {
    segment: SegmentId,
    docs: Vec<(DocId, Score)>,
}

impl Collector for Gather {
    type Fruit = Gathered;
    type Child = GatherSegment;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<GatherSegment> {
        Ok(GatherSegment {
            segment: reader.segment_id(),
            docs: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Gathered>) -> tantivy::Result<Gathered> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for GatherSegment {
    type Fruit = Gathered;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.docs.push((doc, score));
    }

    fn harvest(mut self) -> Gathered {
        // Scorers hand documents over in order; the binary search relies on it.
        self.docs.sort_unstable_by_key(|(doc, _)| *doc);
        vec![(self.segment, self.docs.into())]
    }
}

fn and(base: Box<dyn Query>, mut clauses: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if clauses.is_empty() {
        return base;
    }
    clauses.insert(0, base);
    Box::new(BooleanQuery::new(
        clauses.into_iter().map(|c| (Occur::Must, c)).collect(),
    ))
}

/// Counts of the numeric facets over the matched documents, in one pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tallies {
    pub price: [u64; PRICE_BUCKETS.len() + 1],
    pub rating: [u64; RATING_BUCKETS.len()],
    pub in_stock: u64,
}

struct Tally;

struct SegmentTally {
    price: std::sync::Arc<dyn ColumnValues<u64>>,
    rating: std::sync::Arc<dyn ColumnValues<f64>>,
    in_stock: std::sync::Arc<dyn ColumnValues<u64>>,
    counts: Tallies,
}

impl Collector for Tally {
    type Fruit = Tallies;
    type Child = SegmentTally;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentTally> {
        let ff = reader.fast_fields();
        Ok(SegmentTally {
            price: ff.u64("price")?.first_or_default_col(0),
            rating: ff.f64("rating")?.first_or_default_col(0.0),
            in_stock: ff.u64("in_stock")?.first_or_default_col(0),
            counts: Tallies::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Tallies>) -> tantivy::Result<Tallies> {
        let mut all = Tallies::default();
        for fruit in fruits {
            for (a, b) in all.price.iter_mut().zip(fruit.price) {
                *a += b;
            }
            for (a, b) in all.rating.iter_mut().zip(fruit.rating) {
                *a += b;
            }
            all.in_stock += fruit.in_stock;
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentTally {
    type Fruit = Tallies;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let price = i64::try_from(self.price.get_val(doc)).unwrap_or(i64::MAX);
        let bucket = PRICE_BUCKETS
            .iter()
            .position(|bound| price < *bound)
            .unwrap_or(PRICE_BUCKETS.len());
        self.counts.price[bucket] += 1;
        let rating = self.rating.get_val(doc);
        for (i, min) in RATING_BUCKETS.iter().enumerate() {
            if rating >= f64::from(*min) {
                self.counts.rating[i] += 1;
            }
        }
        self.counts.in_stock += self.in_stock.get_val(doc);
    }

    fn harvest(self) -> Tallies {
        self.counts
    }
}

/// What the hits are drawn from: the words, or a ranked list of product ids
/// (semantic and hybrid search) with their scores.
#[derive(Debug, Clone)]
pub enum Base {
    Words(Vec<Word>),
    Ranked(Vec<(u64, f32)>),
}

/// What the main pass found: the total, the page, the counts of every facet
/// whose own filter is not set, and the numeric tallies.
struct MainPass {
    total: u64,
    page: Vec<(f32, DocAddress)>,
    facets: HashMap<Group, Vec<(String, u64)>>,
    tally: Tallies,
}

/// The main pass: the page, the total, and every facet whose own filter is
/// not set (those are counted over the main match).
fn main_pass(
    live: &Live,
    searcher: &Searcher,
    request: &SearchRequest,
    base: &Base,
    main: &dyn Query,
) -> tantivy::Result<MainPass> {
    let f = &live.fields;
    let filters = &request.filters;
    let mut multi = MultiCollector::new();
    let count = multi.add_collector(Count);
    let (offset, limit) = (request.offset(), request.limit as usize);
    let mut facet_handles = Vec::new();
    for (group, field) in [
        (Group::Brand, f.brand),
        (Group::Category, f.category),
        (Group::Size, f.size),
        (Group::Colour, f.colour),
    ] {
        if !filters.active(group) {
            let mut collector = FacetCollector::for_field(name_of(&live.index, field));
            collector.add_facet(Facet::root());
            facet_handles.push((group, multi.add_collector(collector)));
        }
    }
    let tally = multi.add_collector(Tally);
    let page: Vec<(f32, DocAddress)>;
    let mut fruits;
    match (base, request.sort) {
        (Base::Ranked(ranked), SearchSort::Relevance) => {
            // Every candidate that passes the filters, in the ranked order.
            let all = multi.add_collector(
                TopDocs::with_limit(ranked.len().max(1))
                    .order_by_fast_field::<u64>("id", Order::Desc),
            );
            fruits = searcher.search(main, &multi)?;
            let found: HashMap<u64, DocAddress> = all.extract(&mut fruits).into_iter().collect();
            page = ranked
                .iter()
                .filter_map(|(id, score)| Some((*score, *found.get(id)?)))
                .skip(offset)
                .take(limit)
                .collect();
        }
        (_, SearchSort::Relevance) => {
            let top = multi.add_collector(TopDocs::with_limit(limit).and_offset(offset));
            fruits = searcher.search(main, &multi)?;
            page = top.extract(&mut fruits);
        }
        (_, SearchSort::PriceAsc | SearchSort::PriceDesc | SearchSort::Newest) => {
            let (field, order) = match request.sort {
                SearchSort::PriceAsc => ("price", Order::Asc),
                SearchSort::PriceDesc => ("price", Order::Desc),
                _ => ("id", Order::Desc),
            };
            let top = multi.add_collector(
                TopDocs::with_limit(limit)
                    .and_offset(offset)
                    .order_by_fast_field::<u64>(field, order),
            );
            fruits = searcher.search(main, &multi)?;
            page = top
                .extract(&mut fruits)
                .into_iter()
                .map(|(_, a)| (0.0, a))
                .collect();
        }
        (_, SearchSort::Rating) => {
            let top = multi.add_collector(
                TopDocs::with_limit(limit)
                    .and_offset(offset)
                    .order_by_fast_field::<f64>("rating", Order::Desc),
            );
            fruits = searcher.search(main, &multi)?;
            page = top
                .extract(&mut fruits)
                .into_iter()
                .map(|(_, a)| (0.0, a))
                .collect();
        }
    }
    let mut facets = HashMap::new();
    for (group, handle) in facet_handles {
        facets.insert(group, children(&handle.extract(&mut fruits)));
    }
    Ok(MainPass {
        total: count.extract(&mut fruits) as u64,
        page,
        facets,
        tally: tally.extract(&mut fruits),
    })
}

/// Runs `request` over `live`. Synchronous and CPU-bound.
pub fn run(
    live: &Live,
    labels: &Labels,
    request: &SearchRequest,
    base: &Base,
) -> tantivy::Result<SearchResults> {
    let f = &live.fields;
    let filters = &request.filters;
    let searcher = live.reader.searcher();
    let matched = |query: Box<dyn Query>| -> tantivy::Result<Box<dyn Query>> {
        Ok(Box::new(Matched::gather(&searcher, &*query)?))
    };
    let (mut base_query, words): (Box<dyn Query>, &[Word]) = match base {
        Base::Words(words) if words.is_empty() => (Box::new(AllQuery), words),
        Base::Words(words) => (matched(text_query(f, &searcher, words, true))?, words),
        Base::Ranked(ranked) => (
            Box::new(TermSetQuery::new(
                ranked.iter().map(|(id, _)| Term::from_field_u64(f.id, *id)),
            )),
            &[],
        ),
    };
    let pass = |base_query: &dyn Query| {
        let main = and(base_query.box_clone(), filters.clauses(f, None));
        main_pass(live, &searcher, request, base, &*main)
    };
    let mut main = pass(&*base_query)?;
    // No product has every word: any word will do.
    let relaxed = main.total == 0 && words.len() > 1;
    if relaxed {
        base_query = matched(text_query(f, &searcher, words, false))?;
        main = pass(&*base_query)?;
    }
    let MainPass {
        total,
        page,
        facets: mut facet_counts,
        tally: main_tally,
    } = main;

    // A pass per facet whose filter is set, without that filter.
    for (group, field) in [
        (Group::Brand, f.brand),
        (Group::Category, f.category),
        (Group::Size, f.size),
        (Group::Colour, f.colour),
    ] {
        if filters.active(group) {
            let query = and(base_query.box_clone(), filters.clauses(f, Some(group)));
            let mut collector = FacetCollector::for_field(name_of(&live.index, field));
            collector.add_facet(Facet::root());
            let counts = searcher.search(&query, &collector)?;
            facet_counts.insert(group, children(&counts));
        }
    }
    let tally_without = |group: Group| -> tantivy::Result<Tallies> {
        if filters.active(group) {
            let query = and(base_query.box_clone(), filters.clauses(f, Some(group)));
            searcher.search(&query, &Tally)
        } else {
            Ok(main_tally.clone())
        }
    };
    let price_tally = tally_without(Group::Price)?;
    let rating_tally = tally_without(Group::Rating)?;
    let stock_tally = tally_without(Group::InStock)?;

    let mut listing =
        |group: Group, selected: &[String], label: Option<&BTreeMap<String, String>>| {
            let mut counts = facet_counts.remove(&group).unwrap_or_default();
            for value in selected {
                if !counts.iter().any(|(v, _)| v == value) {
                    counts.push((value.clone(), 0));
                }
            }
            counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            counts.truncate(MAX_FACET_VALUES.max(selected.len()));
            counts
                .into_iter()
                .map(|(value, count)| FacetCount {
                    label: label
                        .and_then(|names| names.get(&value).cloned())
                        .unwrap_or_else(|| value.clone()),
                    selected: selected.contains(&value),
                    value,
                    count,
                })
                .collect::<Vec<_>>()
        };
    let names = labels.snapshot();
    let facets = Facets {
        brand: listing(Group::Brand, &filters.brand, Some(&names.brands)),
        category: listing(Group::Category, &filters.category, Some(&names.categories)),
        size: listing(Group::Size, &filters.size, None),
        colour: listing(Group::Colour, &filters.colour, None),
        rating: RATING_BUCKETS
            .iter()
            .zip(rating_tally.rating)
            .map(|(min, count)| RatingCount { min: *min, count })
            .collect(),
        price: (0..=PRICE_BUCKETS.len())
            .map(|i| PriceCount {
                min_minor: if i == 0 { 0 } else { PRICE_BUCKETS[i - 1] },
                max_minor: PRICE_BUCKETS.get(i).copied(),
                count: price_tally.price[i],
            })
            .collect(),
        in_stock: stock_tally.in_stock,
    };

    let highlight = |field: Field| {
        let terms: BTreeMap<String, Score> = words.iter().map(|w| (w.stem.clone(), 1.0)).collect();
        SnippetGenerator::new(terms, analyzer(), field, 160)
    };
    let (title_snippets, description_snippets) = (highlight(f.title), highlight(f.description));
    let mut items = Vec::with_capacity(page.len());
    for (score, address) in page {
        let doc: TantivyDocument = searcher.doc(address)?;
        let Some(bytes) = doc.get_first(f.summary).and_then(|v| v.as_bytes()) else {
            continue;
        };
        let product: ProductSummary = serde_json::from_slice(bytes)
            .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
        let description = doc
            .get_first(f.description)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let html = |generator: &SnippetGenerator, text: &str| {
            let snippet = generator.snippet(text);
            (!words.is_empty() && !snippet.highlighted().is_empty()).then(|| snippet.to_html())
        };
        items.push(SearchHit {
            highlights: Highlights {
                title: html(&title_snippets, &product.title),
                description: html(&description_snippets, description),
            },
            score,
            product,
        });
    }
    Ok(SearchResults {
        query: request.q.clone(),
        mode: request.mode,
        total,
        page: request.page,
        limit: request.limit,
        items,
        facets,
        relaxed,
    })
}

fn name_of(index: &tantivy::Index, field: Field) -> String {
    index.schema().get_field_name(field).to_owned()
}

/// The first level under the root, as (value, count).
fn children(counts: &tantivy::collector::FacetCounts) -> Vec<(String, u64)> {
    counts
        .get(Facet::root())
        .filter_map(|(facet, count)| {
            facet
                .to_path()
                .first()
                .map(|value| ((*value).to_owned(), count))
        })
        .collect()
}

/// The best `k` products for `words` under `filters` by BM25 (every word,
/// or any when none holds them all): hybrid search's text ranking.
pub fn text_ranked(
    live: &Live,
    words: &[Word],
    filters: &Filters,
    k: usize,
) -> tantivy::Result<Vec<(u64, f32)>> {
    let f = &live.fields;
    let searcher = live.reader.searcher();
    let mut hits = Vec::new();
    for all in [true, false] {
        let query = and(
            text_query(f, &searcher, words, all),
            filters.clauses(f, None),
        );
        hits = searcher.search(&query, &TopDocs::with_limit(k))?;
        if !hits.is_empty() || words.len() < 2 {
            break;
        }
    }
    let mut out = Vec::with_capacity(hits.len());
    for (score, address) in hits {
        let ids = searcher
            .segment_reader(address.segment_ord)
            .fast_fields()
            .u64("id")?;
        if let Some(id) = ids.first(address.doc_id) {
            out.push((id, score));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::document::{ProductDoc, sample};

    fn search(live: &Live, q: &str) -> SearchResults {
        let request = SearchRequest::parse(SearchParams {
            q: Some(q.into()),
            ..SearchParams::default()
        })
        .unwrap();
        run(live, &Labels::default(), &request, &Base::Words(words(q))).unwrap()
    }

    fn titles(results: &SearchResults) -> Vec<&str> {
        results
            .items
            .iter()
            .map(|h| h.product.title.as_str())
            .collect()
    }

    #[test]
    fn matched_words_filter_and_score_as_the_words_themselves() {
        let (live, mut writer) = Live::create().unwrap();
        let titles = [
            "Navy wool blazer",
            "Navy cotton shirt",
            "Grey wool trousers",
            "Navy wool coat with a navy lining",
            "White linen shirt",
        ];
        // Three commits make three segments; the last one replaces products
        // of the first two, leaving deleted documents behind in them.
        for (batch, ids) in [(0, 1..=12), (1, 13..=24), (2, 4..=8)] {
            let docs: Vec<ProductDoc> = ids
                .clone()
                .map(|id| {
                    let title = titles[(id as usize + batch) % titles.len()];
                    sample(id, "jackets", 1_000 * id as i64, title, &[])
                })
                .collect();
            let replaced: Vec<u64> = if batch == 2 { ids.collect() } else { vec![] };
            live.replace(&mut writer, &replaced, &docs).unwrap();
            live.commit(&mut writer).unwrap();
        }
        let searcher = live.reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        let f = &live.fields;
        let filter_sets = [
            Filters::default(),
            Filters {
                in_stock: true,
                ..Filters::default()
            },
            Filters {
                min_price: Some(3_000),
                max_price: Some(15_000),
                ..Filters::default()
            },
        ];
        let hits = |query: &dyn Query| {
            let (count, top) = searcher
                .search(query, &(Count, TopDocs::with_limit(50)))
                .unwrap();
            let mut top: Vec<(DocAddress, f32)> = top.into_iter().map(|(s, a)| (a, s)).collect();
            top.sort_by_key(|(a, _)| *a);
            (count, top)
        };
        for q in ["navy", "wool", "navy wool", "shirt linen", "tweed"] {
            for all in [true, false] {
                let text = text_query(f, &searcher, &words(q), all);
                let matched = Matched::gather(&searcher, &*text).unwrap();
                for filters in &filter_sets {
                    let direct = hits(&*and(text.box_clone(), filters.clauses(f, None)));
                    let through = hits(&*and(Box::new(matched.clone()), filters.clauses(f, None)));
                    assert_eq!(direct.0, through.0, "{q} {all} {filters:?}");
                    assert_eq!(direct.1.len(), through.1.len(), "{q} {all} {filters:?}");
                    for ((a, x), (b, y)) in direct.1.iter().zip(&through.1) {
                        assert_eq!(a, b, "{q} {all} {filters:?}");
                        assert!((x - y).abs() < 1e-4, "{q}: score {x} against {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn known_words_match_as_typed_and_unknown_ones_loosely() {
        let (live, mut writer) = Live::create().unwrap();
        let docs = [
            sample(1, "shirts", 3_000, "White oxford shirt", &[]),
            sample(2, "shorts", 2_000, "Navy cotton short", &[]),
        ];
        live.replace(&mut writer, &[], &docs).unwrap();
        live.commit(&mut writer).unwrap();
        // "short" is one edit from "shirt", and both are catalog words.
        assert_eq!(titles(&search(&live, "shirt")), ["White oxford shirt"]);
        assert_eq!(titles(&search(&live, "short")), ["Navy cotton short"]);
        // No product has "shrit": it is a typo of "shirt".
        assert_eq!(titles(&search(&live, "shrit")), ["White oxford shirt"]);
        // No product has both words: either will do.
        let either = search(&live, "oxford short");
        assert!(either.relaxed);
        assert_eq!(either.total, 2);
        let both = search(&live, "white oxford");
        assert!(!both.relaxed);
        assert_eq!(titles(&both), ["White oxford shirt"]);
    }
}
