//! The tantivy index: its schema, how a product becomes a document, and the
//! live index searchers read. A rebuild makes a whole new index and swaps it
//! in; an update deletes and re-adds the changed products and commits, after
//! which the reader is reloaded — either way a search sees one consistent
//! state, never half of a change.

use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::document::ProductDoc;

/// The analyser of every text field and of the query: words, lower case,
/// accents folded, English stems.
pub const ANALYZER: &str = "cellwear_en";

/// Heap of the one writer thread (tantivy's minimum is 15 MB per thread).
const WRITER_HEAP: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    pub description: Field,
    pub brand_text: Field,
    pub category_text: Field,
    pub tags: Field,
    pub colour_text: Field,
    /// Facets, one level each: `/value`.
    pub brand: Field,
    pub category: Field,
    pub size: Field,
    pub colour: Field,
    /// Every category on the product's path, for the category filter.
    pub category_path: Field,
    pub price: Field,
    pub rating: Field,
    pub in_stock: Field,
    /// The list item, JSON.
    pub summary: Field,
}

impl Fields {
    /// The text fields a query word is looked for in, with their weights.
    pub fn weighted(&self) -> [(Field, f32); 6] {
        [
            (self.title, 3.0),
            (self.brand_text, 2.0),
            (self.category_text, 2.0),
            (self.colour_text, 1.5),
            (self.tags, 1.0),
            (self.description, 0.5),
        ]
    }
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | STORED | FAST),
        title: b.add_text_field("title", text(true)),
        description: b.add_text_field("description", text(true)),
        brand_text: b.add_text_field("brand_text", text(false)),
        category_text: b.add_text_field("category_text", text(false)),
        tags: b.add_text_field("tags", text(false)),
        colour_text: b.add_text_field("colour_text", text(false)),
        brand: b.add_facet_field("brand", FacetOptions::default()),
        category: b.add_facet_field("category", FacetOptions::default()),
        size: b.add_facet_field("size", FacetOptions::default()),
        colour: b.add_facet_field("colour", FacetOptions::default()),
        category_path: b.add_text_field("category_path", STRING),
        price: b.add_u64_field("price", INDEXED | FAST),
        rating: b.add_f64_field("rating", INDEXED | FAST),
        in_stock: b.add_u64_field("in_stock", INDEXED | FAST),
        summary: b.add_bytes_field("summary", STORED),
    };
    (b.build(), fields)
}

/// A one-level facet for `value` (escaping any `/` in it).
pub fn facet(value: &str) -> Facet {
    Facet::from_path([value])
}

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// An index (in memory), its one writer and a reader reloaded by hand after
/// each commit.
pub struct Live {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("docs", &self.reader.searcher().num_docs())
            .finish()
    }
}

impl Live {
    pub fn create() -> tantivy::Result<(Self, IndexWriter)> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index.writer_with_num_threads(1, WRITER_HEAP)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok((
            Self {
                index,
                reader,
                fields,
            },
            writer,
        ))
    }

    /// Replaces products `ids` with `docs` (the listed ones among them);
    /// searchers see it after [`Live::commit`].
    pub fn replace(
        &self,
        writer: &mut IndexWriter,
        ids: &[u64],
        docs: &[ProductDoc],
    ) -> tantivy::Result<()> {
        for id in ids {
            writer.delete_term(Term::from_field_u64(self.fields.id, *id));
        }
        for doc in docs {
            writer.add_document(self.document(doc)?)?;
        }
        Ok(())
    }

    /// Commits what was replaced and reloads the reader: searchers see all
    /// of it at once.
    pub fn commit(&self, writer: &mut IndexWriter) -> tantivy::Result<()> {
        writer.commit()?;
        self.reader.reload()
    }

    fn document(&self, doc: &ProductDoc) -> tantivy::Result<TantivyDocument> {
        let f = &self.fields;
        let s = &doc.summary;
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, s.id);
        d.add_text(f.title, &s.title);
        d.add_text(f.description, &doc.description);
        d.add_text(f.brand_text, &s.brand.name);
        d.add_facet(f.brand, facet(&s.brand.slug));
        d.add_facet(f.category, facet(&s.category.slug));
        for category in &doc.categories {
            d.add_text(f.category_text, &category.name);
            d.add_text(f.category_path, &category.slug);
        }
        for tag in &doc.tags {
            d.add_text(f.tags, tag);
        }
        for colour in &s.colours {
            d.add_text(f.colour_text, colour);
            d.add_facet(f.colour, facet(colour));
        }
        for size in &s.sizes {
            d.add_facet(f.size, facet(size));
        }
        d.add_u64(f.price, u64::try_from(s.price_minor).unwrap_or(0));
        d.add_f64(f.rating, f64::from(s.rating.average));
        d.add_u64(f.in_stock, u64::from(s.in_stock));
        let summary = serde_json::to_vec(s)
            .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
        d.add_bytes(f.summary, &summary);
        Ok(d)
    }
}
