//! Bulk import: a JSON array of products or a CSV file (one line per variant),
//! upserted by slug in batches. Each product is written under its own
//! savepoint, so a bad row is reported and skipped while its neighbours land;
//! progress and the rejected rows are kept in `import_jobs` for the admin to
//! poll. With [`Vectors::Later`] the products go out without waiting for the
//! embedding model, and the vector backlog gives them their vectors after.

use std::collections::HashMap;

use anyhow::Context;
use sqlx::{Connection, MySqlPool};
use wire::catalog::{ImageInput, ImportJob, ImportRowError, ProductInput, VariantInput};

use super::{Catalog, CatalogError, Refs, Upserted, Vectors};
use crate::{audit, stock};

/// Products written per transaction.
const BATCH: usize = 100;
/// Rejected rows kept per job.
const MAX_ERRORS: usize = 1000;
/// The columns of a CSV import, in order.
pub const CSV_HEADER: &[&str] = &[
    "slug",
    "title",
    "description",
    "brand",
    "category",
    "tags",
    "image_url",
    "image_alt",
    "published",
    "sku",
    "size",
    "colour",
    "price_minor",
    "currency",
    "compare_at_minor",
    "stock",
];

#[derive(Debug, Clone, Copy)]
pub enum ImportFormat {
    Json,
    Csv,
}

/// A product read from the file, or why its row could not be read.
type Parsed = (u64, Result<ProductInput, ImportRowError>);

fn row_error(
    row: u64,
    slug: Option<String>,
    code: &str,
    message: impl Into<String>,
) -> ImportRowError {
    ImportRowError {
        row,
        slug,
        code: code.to_owned(),
        message: message.into(),
    }
}

fn unreadable(message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        code: "unreadable_import",
        message: message.into(),
    }
}

/// Reads a JSON array of products.
pub fn parse_json(body: &[u8]) -> Result<Vec<Parsed>, CatalogError> {
    let items: Vec<serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| unreadable(format!("expected a JSON array of products: {e}")))?;
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let row = i as u64 + 1;
            let slug = item.get("slug").and_then(|s| s.as_str()).map(str::to_owned);
            let parsed = serde_json::from_value::<ProductInput>(item)
                .map_err(|e| row_error(row, slug, "invalid_row", e.to_string()));
            (row, parsed)
        })
        .collect())
}

/// Reads CSV with [`CSV_HEADER`]; lines with the same slug make one product
/// (its fields from the first line, a variant from each).
pub fn parse_csv(body: &[u8]) -> Result<Vec<Parsed>, CatalogError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| unreadable(format!("the CSV header cannot be read: {e}")))?;
    let columns: Vec<&str> = header.iter().map(str::trim).collect();
    if columns != CSV_HEADER {
        return Err(unreadable(format!(
            "the CSV header must be: {}",
            CSV_HEADER.join(",")
        )));
    }
    let mut order: Vec<String> = Vec::new();
    let mut products: HashMap<String, (u64, Result<ProductInput, ImportRowError>)> = HashMap::new();
    let mut unnamed = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                unnamed.push((
                    line,
                    Err(row_error(line, None, "invalid_row", e.to_string())),
                ));
                continue;
            }
        };
        let field = |name: &str| field(&record, name);
        let slug = field("slug").to_owned();
        if slug.is_empty() {
            unnamed.push((
                line,
                Err(row_error(line, None, "invalid_row", "slug is empty")),
            ));
            continue;
        }
        let variant = csv_variant(&record)
            .map_err(|message| row_error(line, Some(slug.clone()), "invalid_row", message));
        let entry = products.entry(slug.clone()).or_insert_with(|| {
            order.push(slug.clone());
            let image = (!field("image_url").is_empty()).then(|| ImageInput {
                url: field("image_url").to_owned(),
                alt: field("image_alt").to_owned(),
            });
            let product = ProductInput {
                slug: slug.clone(),
                title: field("title").to_owned(),
                description: field("description").to_owned(),
                brand: field("brand").to_owned(),
                category: field("category").to_owned(),
                tags: field("tags")
                    .split('|')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                images: image.into_iter().collect(),
                attributes: Default::default(),
                published: matches!(field("published"), "true" | "1" | "yes"),
                variants: Vec::new(),
            };
            (line, Ok(product))
        });
        match (&mut entry.1, variant) {
            (Ok(product), Ok(variant)) => product.variants.push(variant),
            (Ok(_), Err(error)) => entry.1 = Err(error),
            (Err(_), _) => {}
        }
    }
    let mut parsed: Vec<Parsed> = order
        .into_iter()
        .filter_map(|slug| products.remove(&slug))
        .collect();
    parsed.extend(unnamed);
    parsed.sort_by_key(|(row, _)| *row);
    Ok(parsed)
}

/// The trimmed value of column `name`.
fn field<'r>(record: &'r csv::StringRecord, name: &str) -> &'r str {
    CSV_HEADER
        .iter()
        .position(|c| *c == name)
        .and_then(|i| record.get(i))
        .map(str::trim)
        .unwrap_or_default()
}

fn csv_variant(record: &csv::StringRecord) -> Result<VariantInput, String> {
    let field = |name: &str| field(record, name);
    let number = |name: &str| -> Result<Option<i64>, String> {
        let text = field(name);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| format!("{name}: \"{text}\" is not a whole number"))
    };
    Ok(VariantInput {
        sku: field("sku").to_owned(),
        size: field("size").to_owned(),
        colour: field("colour").to_owned(),
        price_minor: number("price_minor")?.ok_or("price_minor is empty")?,
        currency: field("currency").to_owned(),
        compare_at_minor: number("compare_at_minor")?,
        stock: number("stock")?
            .map(|units| u64::try_from(units).map_err(|_| "stock: not below 0".to_owned()))
            .transpose()?,
    })
}

/// Import jobs: started by the API, run in the background, polled.
#[derive(Debug, Clone)]
pub struct Imports {
    pool: MySqlPool,
}

impl Imports {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// Jobs a restart cut short are failed, so nobody waits on them.
    pub async fn fail_interrupted(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query!("UPDATE import_jobs SET state = 'failed' WHERE state = 'running'")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Reads the file, records the job and starts it.
    pub async fn start(
        &self,
        catalog: &Catalog,
        actor: &str,
        format: ImportFormat,
        vectors: Vectors,
        body: &[u8],
    ) -> Result<ImportJob, CatalogError> {
        let parsed = match format {
            ImportFormat::Json => parse_json(body)?,
            ImportFormat::Csv => parse_csv(body)?,
        };
        let id = uuid::Uuid::new_v4().to_string();
        let total = parsed.len() as u64;
        let mut tx = self.pool.begin().await?;
        sqlx::query!(
            "INSERT INTO import_jobs (id, actor, state, total, errors) VALUES (?, ?, 'running', ?, '[]')",
            id,
            actor,
            total
        )
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            "catalog.import",
            &format!("import:{id}"),
            &serde_json::json!({
                "products": total,
                "format": format!("{format:?}").to_lowercase(),
                "vectors": format!("{vectors:?}").to_lowercase(),
            }),
        )
        .await?;
        tx.commit().await?;
        let (job, catalog) = (id.clone(), catalog.clone());
        let pool = self.pool.clone();
        let running = catalog.imports.begin();
        tokio::spawn(async move {
            let _running = running;
            if let Err(error) = run(&pool, &catalog, &job, parsed, vectors).await {
                tracing::error!(import = %job, error = format!("{error:#}"), "import failed");
                let _ = sqlx::query!("UPDATE import_jobs SET state = 'failed' WHERE id = ?", job)
                    .execute(&pool)
                    .await;
            }
        });
        self.status(&id).await
    }

    pub async fn status(&self, id: &str) -> Result<ImportJob, CatalogError> {
        let row = sqlx::query!(
            r#"SELECT id, state, total, processed, created, updated, unchanged, failed,
                      errors AS "errors: sqlx::types::Json<Vec<ImportRowError>>"
               FROM import_jobs WHERE id = ?"#,
            id
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or(CatalogError::ImportNotFound)?;
        Ok(ImportJob {
            id: row.id,
            state: row.state,
            total: row.total,
            processed: row.processed,
            created: row.created,
            updated: row.updated,
            unchanged: row.unchanged,
            failed: row.failed,
            errors: row.errors.0,
        })
    }
}

async fn run(
    pool: &MySqlPool,
    catalog: &Catalog,
    job: &str,
    parsed: Vec<Parsed>,
    vectors: Vectors,
) -> anyhow::Result<()> {
    let mut errors: Vec<ImportRowError> = Vec::new();
    let started = std::time::Instant::now();
    for batch in parsed.chunks(BATCH) {
        // The batch's vectors first, outside the transaction: the model takes
        // a while, the rows' locks should not.
        if vectors == Vectors::Now {
            let inputs: Vec<&ProductInput> = batch
                .iter()
                .filter_map(|(_, item)| item.as_ref().ok())
                .collect();
            catalog.prepare_embeddings(pool, &inputs).await;
        }
        let mut tx = pool.begin().await?;
        let refs = Refs::load(&mut tx).await?;
        let (mut created, mut updated, mut unchanged, mut failed) = (0u64, 0u64, 0u64, 0u64);
        let mut new_stock = Vec::new();
        for (row, item) in batch {
            let input = match item {
                Ok(input) => input,
                Err(error) => {
                    failed += 1;
                    errors.push(error.clone());
                    continue;
                }
            };
            let mut savepoint = tx.begin().await?;
            match catalog
                .upsert_by_slug(&mut savepoint, &refs, input, vectors)
                .await
            {
                Ok((outcome, stock)) => {
                    savepoint.commit().await?;
                    new_stock.extend(stock);
                    match outcome {
                        Upserted::Created => created += 1,
                        Upserted::Updated => updated += 1,
                        Upserted::Unchanged => unchanged += 1,
                    }
                }
                Err(CatalogError::Unexpected(error)) => {
                    return Err(error.context(format!("row {row}")));
                }
                Err(error) => {
                    savepoint.rollback().await?;
                    failed += 1;
                    errors.push(row_error(
                        *row,
                        Some(input.slug.clone()),
                        error.code(),
                        error.to_string(),
                    ));
                }
            }
        }
        stock::receive_new(&mut tx, &catalog.schemas, &catalog.stock, &new_stock)
            .await
            .map_err(|e| anyhow::anyhow!("recording the new SKUs' stock: {e}"))?;
        errors.truncate(MAX_ERRORS);
        sqlx::query!(
            "UPDATE import_jobs SET processed = processed + ?, created = created + ?, updated = updated + ?, unchanged = unchanged + ?, failed = failed + ?, errors = ? WHERE id = ?",
            batch.len() as u64,
            created,
            updated,
            unchanged,
            failed,
            serde_json::to_string(&errors)?,
            job
        )
        .execute(&mut *tx)
        .await
        .context("recording the import's progress")?;
        tx.commit().await?;
    }
    sqlx::query!(
        "UPDATE import_jobs SET state = 'finished' WHERE id = ?",
        job
    )
    .execute(pool)
    .await?;
    tracing::info!(import = %job, products = parsed.len(), rejected = errors.len(), elapsed_ms = started.elapsed().as_millis() as u64, "import finished");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "slug,title,description,brand,category,tags,image_url,image_alt,published,sku,size,colour,price_minor,currency,compare_at_minor,stock\n";

    #[test]
    fn csv_lines_with_one_slug_make_one_product() {
        let body = format!(
            "{HEADER}tee,Tee,Soft.,acme,shirts,cotton|summer,/media/placeholders/shirts.svg,A tee,true,TEE-S,S,white,1500,GBP,,5\n\
             tee,Tee,Soft.,acme,shirts,,,,true,TEE-M,M,white,1500,GBP,2000,\n\
             polo,Polo,Knit.,acme,shirts,,,,false,POLO-M,M,navy,2500,GBP,,\n"
        );
        let parsed = parse_csv(body.as_bytes()).unwrap();
        assert_eq!(parsed.len(), 2);
        let (row, tee) = &parsed[0];
        let tee = tee.as_ref().unwrap();
        assert_eq!(*row, 2);
        assert_eq!(tee.variants.len(), 2);
        assert_eq!(tee.tags, vec!["cotton", "summer"]);
        assert_eq!(tee.variants[0].stock, Some(5));
        assert_eq!(tee.variants[1].compare_at_minor, Some(2000));
        assert!(tee.published);
        assert_eq!(parsed[1].0, 4);
    }

    #[test]
    fn a_bad_csv_line_fails_its_product_only() {
        let body = format!(
            "{HEADER}tee,Tee,Soft.,acme,shirts,,,,true,TEE-S,S,white,cheap,GBP,,\n\
             polo,Polo,Knit.,acme,shirts,,,,true,POLO-M,M,navy,2500,GBP,,\n"
        );
        let parsed = parse_csv(body.as_bytes()).unwrap();
        let error = parsed[0].1.as_ref().unwrap_err();
        assert_eq!((error.row, error.code.as_str()), (2, "invalid_row"));
        assert!(error.message.contains("price_minor"), "{}", error.message);
        assert!(parsed[1].1.is_ok());
    }

    #[test]
    fn a_wrong_header_or_non_array_is_unreadable() {
        assert!(matches!(
            parse_csv(b"name,price\nx,1\n"),
            Err(CatalogError::Invalid {
                code: "unreadable_import",
                ..
            })
        ));
        assert!(matches!(
            parse_json(br#"{"slug":"x"}"#),
            Err(CatalogError::Invalid {
                code: "unreadable_import",
                ..
            })
        ));
    }

    #[test]
    fn json_rows_that_do_not_fit_are_reported_by_index() {
        let parsed = parse_json(br#"[{"slug":"a","title":"A"},{"slug":"b"}]"#).unwrap();
        let error = parsed[1].1.as_ref().unwrap_err();
        assert_eq!((error.row, error.slug.as_deref()), (2, Some("b")));
    }
}
