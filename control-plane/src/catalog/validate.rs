//! The rules a product must meet before it is stored. Each failure names the
//! field and has a stable code, so an import can report it per row.

use std::collections::HashSet;

use wire::catalog::{BrandInput, CategoryInput, ProductInput, VariantInput};

use super::CatalogError;

pub const MAX_VARIANTS: usize = 100;
pub const MAX_IMAGES: usize = 12;
pub const MAX_TAGS: usize = 20;
pub const MAX_ATTRIBUTES: usize = 30;
const MAX_DESCRIPTION: usize = 10_000;
/// ISO 4217 codes the shop prices in.
pub const CURRENCIES: &[&str] = &["GBP", "EUR", "USD"];

fn invalid(code: &'static str, message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        code,
        message: message.into(),
    }
}

/// Lower-case ASCII letters and digits in words joined by single `-`.
pub fn slug(field: &str, value: &str, max: usize) -> Result<(), CatalogError> {
    let well_formed = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if well_formed {
        Ok(())
    } else {
        Err(invalid(
            "invalid_slug",
            format!(
                "{field}: \"{value}\" must be 1-{max} lower-case letters and digits in words joined by '-'"
            ),
        ))
    }
}

fn text(field: &str, value: &str, max: usize) -> Result<(), CatalogError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max || trimmed.chars().any(char::is_control)
    {
        return Err(invalid(
            "invalid_text",
            format!("{field}: 1-{max} characters of text, no control characters"),
        ));
    }
    Ok(())
}

fn sku(value: &str) -> Result<(), CatalogError> {
    if value.is_empty()
        || value.len() > 64
        || !value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(invalid(
            "invalid_sku",
            format!("sku \"{value}\": 1-64 upper-case letters, digits and '-'"),
        ));
    }
    Ok(())
}

fn variant(index: usize, v: &VariantInput) -> Result<(), CatalogError> {
    sku(&v.sku)?;
    text(&format!("variants[{index}].size"), &v.size, 32)?;
    text(&format!("variants[{index}].colour"), &v.colour, 32)?;
    price(&v.sku, v.price_minor, v.compare_at_minor)?;
    if !CURRENCIES.contains(&v.currency.as_str()) {
        return Err(invalid(
            "invalid_currency",
            format!(
                "variants[{index}].currency: \"{}\" is not one of {}",
                v.currency,
                CURRENCIES.join(", ")
            ),
        ));
    }
    Ok(())
}

/// A price above zero (at most 1,000,000.00) and a compare-at price above it.
pub fn price(
    sku: &str,
    price_minor: i64,
    compare_at_minor: Option<i64>,
) -> Result<(), CatalogError> {
    if !(1..=100_000_000).contains(&price_minor) {
        return Err(invalid(
            "invalid_price",
            format!("{sku}: price_minor must be 1-100000000 (minor units), not {price_minor}"),
        ));
    }
    if let Some(compare_at) = compare_at_minor
        && (compare_at <= price_minor || compare_at > 100_000_000)
    {
        return Err(invalid(
            "invalid_price",
            format!(
                "{sku}: compare_at_minor ({compare_at}) must be above price_minor ({price_minor})"
            ),
        ));
    }
    Ok(())
}

/// Checks everything that needs no database.
pub fn product(p: &ProductInput) -> Result<(), CatalogError> {
    slug("slug", &p.slug, 120)?;
    text("title", &p.title, 200)?;
    if p.description.chars().count() > MAX_DESCRIPTION {
        return Err(invalid(
            "invalid_text",
            format!("description: at most {MAX_DESCRIPTION} characters"),
        ));
    }
    slug("brand", &p.brand, 64)?;
    slug("category", &p.category, 64)?;
    if p.tags.len() > MAX_TAGS {
        return Err(invalid("invalid_tag", format!("tags: at most {MAX_TAGS}")));
    }
    for tag in &p.tags {
        text("tags", tag, 40)?;
    }
    if p.images.len() > MAX_IMAGES {
        return Err(invalid(
            "invalid_image",
            format!("images: at most {MAX_IMAGES}"),
        ));
    }
    for (i, image) in p.images.iter().enumerate() {
        let url = image.url.trim();
        let local = url.starts_with('/') && !url.starts_with("//");
        if !(local || url.starts_with("https://"))
            || url.len() > 500
            || url.contains(char::is_whitespace)
        {
            return Err(invalid(
                "invalid_image",
                format!(
                    "images[{i}].url: an https:// URL or a path on this site, at most 500 characters"
                ),
            ));
        }
        text(&format!("images[{i}].alt"), &image.alt, 300).map_err(|_| {
            invalid(
                "invalid_image",
                format!("images[{i}].alt: describe the picture (1-300 characters); screen readers read it"),
            )
        })?;
    }
    if p.attributes.len() > MAX_ATTRIBUTES {
        return Err(invalid(
            "invalid_attribute",
            format!("attributes: at most {MAX_ATTRIBUTES}"),
        ));
    }
    for (key, value) in &p.attributes {
        text("attributes (name)", key, 40)?;
        text(&format!("attributes.{key}"), value, 200)?;
    }
    if p.variants.is_empty() || p.variants.len() > MAX_VARIANTS {
        return Err(invalid(
            "invalid_variants",
            format!("variants: 1-{MAX_VARIANTS} per product"),
        ));
    }
    let mut skus = HashSet::new();
    let mut options = HashSet::new();
    for (i, v) in p.variants.iter().enumerate() {
        variant(i, v)?;
        if !skus.insert(v.sku.as_str()) {
            return Err(invalid(
                "duplicate_sku",
                format!("variants: sku {} is listed twice", v.sku),
            ));
        }
        if !options.insert((v.size.trim(), v.colour.trim())) {
            return Err(invalid(
                "duplicate_variant",
                format!("variants: size {} in {} is listed twice", v.size, v.colour),
            ));
        }
    }
    Ok(())
}

pub fn brand(b: &BrandInput) -> Result<(), CatalogError> {
    slug("slug", &b.slug, 64)?;
    text("name", &b.name, 100)
}

pub fn category(c: &CategoryInput) -> Result<(), CatalogError> {
    slug("slug", &c.slug, 64)?;
    text("name", &c.name, 100)?;
    if let Some(parent) = &c.parent {
        slug("parent", parent, 64)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::catalog::ImageInput;

    fn shirt() -> ProductInput {
        ProductInput {
            slug: "oxford-shirt".into(),
            title: "Oxford shirt".into(),
            description: "A shirt.".into(),
            brand: "harbour".into(),
            category: "shirts".into(),
            tags: vec!["cotton".into()],
            images: vec![ImageInput {
                url: "/media/placeholders/shirts.svg".into(),
                alt: "A white shirt".into(),
            }],
            attributes: Default::default(),
            published: true,
            variants: vec![VariantInput {
                sku: "OXF-WHT-M".into(),
                size: "M".into(),
                colour: "white".into(),
                price_minor: 4500,
                currency: "GBP".into(),
                compare_at_minor: None,
                stock: None,
            }],
        }
    }

    fn code(p: &ProductInput) -> &'static str {
        match product(p) {
            Ok(()) => "ok",
            Err(CatalogError::Invalid { code, .. }) => code,
            Err(_) => "other",
        }
    }

    #[test]
    fn a_good_product_passes() {
        assert_eq!(code(&shirt()), "ok");
    }

    #[test]
    fn each_rule_has_its_code() {
        type Change = Box<dyn Fn(&mut ProductInput)>;
        let cases: Vec<(&str, Change)> = vec![
            ("invalid_slug", Box::new(|p| p.slug = "Oxford Shirt".into())),
            ("invalid_slug", Box::new(|p| p.slug = "a--b".into())),
            ("invalid_text", Box::new(|p| p.title = "  ".into())),
            (
                "invalid_sku",
                Box::new(|p| p.variants[0].sku = "oxf m".into()),
            ),
            ("invalid_price", Box::new(|p| p.variants[0].price_minor = 0)),
            (
                "invalid_price",
                Box::new(|p| p.variants[0].compare_at_minor = Some(4500)),
            ),
            (
                "invalid_currency",
                Box::new(|p| p.variants[0].currency = "gbp".into()),
            ),
            (
                "invalid_image",
                Box::new(|p| p.images[0].alt = String::new()),
            ),
            (
                "invalid_image",
                Box::new(|p| p.images[0].url = "javascript:alert(1)".into()),
            ),
            ("invalid_variants", Box::new(|p| p.variants.clear())),
            (
                "duplicate_sku",
                Box::new(|p| {
                    let mut again = p.variants[0].clone();
                    again.size = "L".into();
                    p.variants.push(again);
                }),
            ),
            (
                "duplicate_variant",
                Box::new(|p| {
                    let mut again = p.variants[0].clone();
                    again.sku = "OXF-WHT-M2".into();
                    p.variants.push(again);
                }),
            ),
        ];
        for (expected, change) in cases {
            let mut p = shirt();
            change(&mut p);
            assert_eq!(code(&p), expected, "{p:?}");
        }
    }
}
