//! Autocomplete: brands and categories whose names start with what was
//! typed, then products whose text holds the finished words and a word
//! starting with the unfinished last one.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, Query};
use tantivy::schema::Value;
use tantivy::{TantivyDocument, Term};
use wire::catalog::ProductSummary;
use wire::search::{Suggestion, SuggestionKind};

use super::Names;
use super::index::Live;
use super::query::{Word, word_query, words};

/// Brands, and categories, listed at most.
const NAMED: usize = 3;

fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// The word still being typed: the trailing run of letters and digits,
/// unless the text ends with a separator.
fn unfinished(q: &str) -> Option<String> {
    let tail: String = q
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!tail.is_empty()).then(|| fold(&tail))
}

pub fn suggest(
    live: &Live,
    names: &Names,
    q: &str,
    limit: usize,
) -> tantivy::Result<Vec<Suggestion>> {
    let typed = fold(q.trim());
    let mut out = Vec::new();
    let matches = |name: &str| {
        let name = fold(name);
        name.starts_with(&typed) || name.split_whitespace().any(|w| w.starts_with(&typed))
    };
    for (kind, map) in [
        (SuggestionKind::Brand, &names.brands),
        (SuggestionKind::Category, &names.categories),
    ] {
        out.extend(
            map.iter()
                .filter(|(_, name)| matches(name))
                .take(NAMED)
                .map(|(slug, name)| Suggestion {
                    kind: kind.clone(),
                    text: name.clone(),
                    slug: slug.clone(),
                }),
        );
    }

    let f = &live.fields;
    let mut all = words(q);
    let prefix = unfinished(q);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(prefix) = &prefix {
        // The last analysed word is the unfinished one: match it as a
        // prefix, both as typed and as stemmed.
        let stem = all.pop().map(|w: Word| w.stem);
        let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for field in [f.title, f.brand_text, f.category_text] {
            for text in std::iter::once(prefix.as_str()).chain(stem.as_deref()) {
                any.push((
                    Occur::Should,
                    Box::new(FuzzyTermQuery::new_prefix(
                        Term::from_field_text(field, text),
                        0,
                        true,
                    )),
                ));
            }
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    let searcher = live.reader.searcher();
    for word in &all {
        clauses.push((Occur::Must, word_query(f, &searcher, word)));
    }
    if clauses.is_empty() {
        out.truncate(limit);
        return Ok(out);
    }
    let room = limit.saturating_sub(out.len()).max(1);
    let hits = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(room))?;
    for (_, address) in hits {
        let doc: TantivyDocument = searcher.doc(address)?;
        let Some(bytes) = doc.get_first(f.summary).and_then(|v| v.as_bytes()) else {
            continue;
        };
        if let Ok(product) = serde_json::from_slice::<ProductSummary>(bytes) {
            out.push(Suggestion {
                kind: SuggestionKind::Product,
                text: product.title,
                slug: product.slug,
            });
        }
    }
    out.truncate(limit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::unfinished;

    #[test]
    fn the_unfinished_word_is_the_trailing_one() {
        assert_eq!(unfinished("navy bla").as_deref(), Some("bla"));
        assert_eq!(unfinished("Navy "), None);
        assert_eq!(unfinished("Ox"), Some("ox".into()));
    }
}
