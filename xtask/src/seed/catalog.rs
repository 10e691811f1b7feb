//! A made-up but plausible men's fashion catalog: fixed brands and
//! categories, and products drawn from per-category tables of kinds, fabrics,
//! styles, sizes and colours by a small seeded generator.
//!
//! Product `i` depends only on `(i, seed)`, never on how many are made, so a
//! catalog of 1,000 is the start of one of 100,000 and seeding more later
//! only adds to what is there. The default seed's SKUs and slugs carry no
//! seed tag; any other seed's do, so two seeds can share a database.

use std::collections::BTreeMap;

use wire::catalog::{BrandInput, CategoryInput, ImageInput, ProductInput, VariantInput};

/// The seed used unless one is given.
pub const DEFAULT_SEED: u64 = 1;

/// Sizes × colours of one product, at most.
const MAX_VARIANTS: usize = 48;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub brands: Vec<BrandInput>,
    /// Parents before their children.
    pub categories: Vec<CategoryInput>,
    pub products: Vec<ProductInput>,
}

/// The whole catalog: `generate(0, seed)` is its brands and categories alone,
/// which is how the loader gets them before making products chunk by chunk
/// with [`product`].
pub fn generate(products: usize, seed: u64) -> Catalog {
    Catalog {
        brands: BRANDS
            .iter()
            .map(|(name, _)| BrandInput {
                slug: slugify(name),
                name: (*name).to_owned(),
            })
            .collect(),
        categories: categories(),
        products: (0..products).map(|index| product(index, seed)).collect(),
    }
}

/// The slugs of the categories products are filed in.
pub fn leaf_categories() -> impl Iterator<Item = &'static str> {
    LEAVES.iter().map(|leaf| leaf.slug)
}

fn categories() -> Vec<CategoryInput> {
    let mut categories: Vec<CategoryInput> = TOP
        .iter()
        .zip(0u32..)
        .map(|((slug, name), position)| CategoryInput {
            slug: (*slug).to_owned(),
            name: (*name).to_owned(),
            parent: None,
            position,
        })
        .collect();
    for (index, leaf) in LEAVES.iter().enumerate() {
        let earlier_siblings = LEAVES[..index]
            .iter()
            .filter(|other| other.parent == leaf.parent)
            .count();
        categories.push(CategoryInput {
            slug: leaf.slug.to_owned(),
            name: leaf.name.to_owned(),
            parent: Some(leaf.parent.to_owned()),
            position: u32::try_from(earlier_siblings).unwrap_or(u32::MAX),
        });
    }
    categories
}

/// Product number `index` of the catalog made with `seed`.
pub fn product(index: usize, seed: u64) -> ProductInput {
    let mut rng = Rng::for_item(seed, index as u64);
    let leaf = pick_leaf(&mut rng);
    let makers: Vec<&str> = BRANDS
        .iter()
        .filter(|(_, only)| only.is_empty() || only.contains(&leaf.slug))
        .map(|(name, _)| *name)
        .collect();
    let brand = *rng.pick(&makers);
    let style = rng.pick(leaf.styles);
    let fabric = rng.pick(leaf.fabrics);
    let kind = *rng.pick(leaf.kinds);
    let sizes = rng.pick(leaf.sizings).sizes();
    let occasion = rng.pick(leaf.occasions);
    let origin = *rng.pick(ORIGINS);
    // Many sizes come in fewer colours, as in a real range.
    let colour_count = (1 + rng.below(4)).min((MAX_VARIANTS / sizes.len()).max(1));
    let colours = choose(&mut rng, leaf.colours, colour_count);

    let title = format!("{} {} {}", style.word, fabric.name, kind);
    let (slug, sku_prefix) = if seed == DEFAULT_SEED {
        (
            format!("{}-{index}", slugify(&title)),
            format!("P{index:06}"),
        )
    } else {
        (
            format!("{}-s{seed}-{index}", slugify(&title)),
            format!("P{index:06}-S{seed}"),
        )
    };

    let (low, high) = leaf.price;
    let mut price = low + rng.range(0, (high - low) / 100) * 100;
    if rng.chance(50) {
        price -= 1;
    }
    // Clothing in the largest sizes sometimes costs a little more.
    let large_surcharge = if leaf.clothing && rng.chance(30) {
        500
    } else {
        0
    };
    let markup_percent = if rng.chance(15) {
        Some(rng.range(20, 40))
    } else {
        None
    };
    let mut variants = Vec::new();
    for colour in &colours {
        for (size, large) in sizes.iter().cloned() {
            let price_minor = if large {
                price + large_surcharge
            } else {
                price
            };
            let stock = if rng.chance(5) {
                0
            } else {
                rng.range(1, 40).unsigned_abs()
            };
            variants.push(VariantInput {
                sku: format!("{sku_prefix}-{}-{}", colour.code, sku_size(&size)),
                size,
                colour: colour.name.to_owned(),
                price_minor,
                currency: "GBP".to_owned(),
                compare_at_minor: markup_percent
                    .map(|percent| round_up_to_pound(price_minor * (100 + percent) / 100)),
                stock: Some(stock),
            });
        }
    }

    let description = describe(
        &mut rng,
        &Wording {
            title: &title,
            brand,
            kind,
            style,
            fabric,
            occasion,
            origin,
            leaf,
        },
    );

    let mut tags: Vec<String> = Vec::new();
    for tag in [
        fabric.tag,
        style.tag,
        occasion.tag,
        fabric.season,
        colours.first().map_or("", |colour| colour.name),
    ] {
        if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    tags.truncate(2 + rng.below(4));

    let image_count = 1 + rng.below(3);
    let images = (0..image_count)
        .map(|view| {
            let colour = colours[view % colours.len()].name;
            ImageInput {
                url: format!("/media/placeholders/{}.svg", leaf.slug),
                alt: format!(
                    "{} {}, {}",
                    capitalise(colour),
                    title.to_lowercase(),
                    VIEWS[view % VIEWS.len()]
                ),
            }
        })
        .collect();

    let mut attributes = BTreeMap::new();
    attributes.insert("material".to_owned(), fabric.name.to_lowercase());
    if leaf.clothing {
        attributes.insert("fit".to_owned(), style.word.to_lowercase());
    }
    attributes.insert("care".to_owned(), fabric.care.to_owned());
    attributes.insert("origin".to_owned(), origin.to_owned());

    ProductInput {
        slug,
        title,
        description,
        brand: slugify(brand),
        category: leaf.slug.to_owned(),
        tags,
        images,
        attributes,
        published: rng.chance(97),
        variants,
    }
}

/// What a description is assembled from.
struct Wording<'a> {
    title: &'a str,
    brand: &'a str,
    kind: &'a str,
    style: &'a Style,
    fabric: &'a Fabric,
    occasion: &'a Occasion,
    origin: &'a str,
    leaf: &'a Leaf,
}

/// Two to four sentences: an opening, then some of fit, detail, occasion,
/// care and origin, so that search and embeddings have real text to work on.
fn describe(rng: &mut Rng, words: &Wording<'_>) -> String {
    let kind = words.kind.to_lowercase();
    let opening = match rng.below(3) {
        0 => format!(
            "{} by {}, made from {}.",
            words.title, words.brand, words.fabric.blurb
        ),
        1 => {
            let possessive = if words.brand.ends_with('s') {
                "'"
            } else {
                "'s"
            };
            format!(
                "{}{possessive} take on the {kind}, in {}.",
                words.brand, words.fabric.blurb
            )
        }
        _ => format!(
            "{} {kind} in {}, designed by {}.",
            words.style.word, words.fabric.blurb, words.brand
        ),
    };
    let mut more: Vec<String> = Vec::new();
    if rng.chance(70) {
        more.push(words.style.sentence.to_owned());
    }
    if rng.chance(70) {
        more.push((*rng.pick(words.leaf.details)).to_owned());
    }
    if rng.chance(60) {
        more.push(words.occasion.sentence.to_owned());
    }
    if rng.chance(40) {
        more.push(format!("Care: {}", words.fabric.care));
    }
    if rng.chance(30) {
        more.push(format!("Made in {}.", words.origin));
    }
    if more.is_empty() {
        more.push(words.style.sentence.to_owned());
    }
    more.truncate(3);
    let mut text = opening;
    for sentence in more {
        text.push(' ');
        text.push_str(&sentence);
    }
    text
}

fn pick_leaf(rng: &mut Rng) -> &'static Leaf {
    let total: u32 = LEAVES.iter().map(|leaf| leaf.weight).sum();
    let mut roll = u32::try_from(rng.below(total as usize)).unwrap_or(0);
    for leaf in LEAVES {
        if roll < leaf.weight {
            return leaf;
        }
        roll -= leaf.weight;
    }
    &LEAVES[0]
}

/// `count` different items in random order (all of them if there are fewer).
fn choose<T: Copy>(rng: &mut Rng, items: &[T], count: usize) -> Vec<T> {
    let mut pool = items.to_vec();
    let count = count.min(pool.len());
    for i in 0..count {
        let j = i + rng.below(pool.len() - i);
        pool.swap(i, j);
    }
    pool.truncate(count);
    pool
}

/// Lower-case ASCII words joined by single `-`; `&` reads as "and".
fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else {
            if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            if c == '&' {
                slug.push_str("and-");
            }
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// A size as an SKU may spell it: `32x32` → `32X32`, `9.5` → `9H`,
/// `S/M` → `SM`, `one-size` → `OS`.
fn sku_size(size: &str) -> String {
    if size == "one-size" {
        return "OS".to_owned();
    }
    size.replace(".5", "H")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn round_up_to_pound(minor: i64) -> i64 {
    (minor + 99) / 100 * 100
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// splitmix64: tiny, fast, and plenty for picking words, prices and URLs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The stream of item `index` in the sequence `seed`: independent of its
    /// neighbours and of how many items there are.
    pub fn for_item(seed: u64, index: u64) -> Self {
        let base = Self(seed).next_u64();
        let mut rng = Self(base ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0); the modulo bias is negligible here.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = high.abs_diff(low) + 1;
        low.wrapping_add_unsigned(self.next_u64() % span)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`, which must not be empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---- the tables --------------------------------------------------------------

const TOP: &[(&str, &str)] = &[
    ("clothing", "Clothing"),
    ("shoes", "Shoes"),
    ("accessories", "Accessories"),
];

/// Each brand with the categories it makes (none listed: all of them).
const BRANDS: &[(&str, &[&str])] = &[
    ("Harbour & Finch", &[]),
    (
        "Aldgate Tailoring",
        &["suits", "shirts", "trousers", "coats", "ties"],
    ),
    ("Norland Supply Co", &[]),
    ("Wexford & Vane", &[]),
    (
        "Cobble Lane",
        &["boots", "sneakers", "formal-shoes", "loafers", "belts"],
    ),
    ("Marrow & Stitch", &[]),
    ("Ashcombe", &[]),
    ("Brindle Row", &[]),
    (
        "Calder Mills",
        &["knitwear", "scarves", "hats", "coats", "suits"],
    ),
    ("Elmstead", &[]),
    (
        "Fathom Works",
        &["jackets", "coats", "t-shirts", "trousers", "hats"],
    ),
    ("Greyhaven", &[]),
    ("Hollins & Tate", &[]),
    ("Isbister Knitwear", &["knitwear", "scarves", "hats"]),
    ("Juniper Yard", &[]),
    (
        "Kestrel Outfitters",
        &["jackets", "coats", "boots", "trousers", "hats"],
    ),
    ("Larkmoor", &[]),
    (
        "Merrick & Hale",
        &["suits", "shirts", "ties", "formal-shoes"],
    ),
    (
        "Northgate Denim",
        &["jeans", "jackets", "shirts", "t-shirts"],
    ),
    (
        "Oakhurst Boot Co",
        &["boots", "formal-shoes", "loafers", "belts"],
    ),
    ("Pennant & Ives", &[]),
    ("Quayside", &[]),
    ("Saltmarsh", &[]),
    ("Thornbury & Sons", &[]),
    ("Wrenfield", &[]),
];

const ORIGINS: &[&str] = &[
    "Portugal", "Italy", "England", "Scotland", "Turkey", "Romania", "Japan", "India", "Spain",
    "Morocco",
];

const VIEWS: &[&str] = &["front view", "back view", "detail view"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Colour {
    name: &'static str,
    /// Three letters in SKUs, unique across the palette.
    code: &'static str,
}

impl Colour {
    const fn new(name: &'static str, code: &'static str) -> Self {
        Self { name, code }
    }
}

const NAVY: Colour = Colour::new("navy", "NVY");
const WHITE: Colour = Colour::new("white", "WHT");
const BLACK: Colour = Colour::new("black", "BLK");
const CHARCOAL: Colour = Colour::new("charcoal", "CHA");
const GREY: Colour = Colour::new("grey", "GRY");
const STONE: Colour = Colour::new("stone", "STN");
const SAND: Colour = Colour::new("sand", "SND");
const CAMEL: Colour = Colour::new("camel", "CML");
const TAN: Colour = Colour::new("tan", "TAN");
const BROWN: Colour = Colour::new("brown", "BRN");
const OLIVE: Colour = Colour::new("olive", "OLV");
const KHAKI: Colour = Colour::new("khaki", "KHK");
const BURGUNDY: Colour = Colour::new("burgundy", "BUR");
const RUST: Colour = Colour::new("rust", "RST");
const FOREST: Colour = Colour::new("forest", "FOR");
const SKY: Colour = Colour::new("sky", "SKY");
const ECRU: Colour = Colour::new("ecru", "ECR");
const INDIGO: Colour = Colour::new("indigo", "IND");
const CREAM: Colour = Colour::new("cream", "CRM");
const PINK: Colour = Colour::new("pink", "PNK");

#[cfg(test)]
const PALETTE: &[Colour] = &[
    NAVY, WHITE, BLACK, CHARCOAL, GREY, STONE, SAND, CAMEL, TAN, BROWN, OLIVE, KHAKI, BURGUNDY,
    RUST, FOREST, SKY, ECRU, INDIGO, CREAM, PINK,
];

#[derive(Debug)]
struct Fabric {
    /// As in a title: "Merino Wool".
    name: &'static str,
    /// Follows "made from" or "in".
    blurb: &'static str,
    care: &'static str,
    tag: &'static str,
    season: &'static str,
}

const COTTON: Fabric = Fabric {
    name: "Cotton",
    blurb: "soft combed cotton that gets better with every wash",
    care: "Machine wash at 30°C; iron while damp.",
    tag: "cotton",
    season: "all-season",
};
const LINEN: Fabric = Fabric {
    name: "Linen",
    blurb: "light linen that breathes on the hottest days",
    care: "Machine wash at 30°C; line dry.",
    tag: "linen",
    season: "summer",
};
const CHAMBRAY: Fabric = Fabric {
    name: "Chambray",
    blurb: "washed chambray with a soft, faded handle",
    care: "Machine wash at 30°C.",
    tag: "chambray",
    season: "summer",
};
const BRUSHED_COTTON: Fabric = Fabric {
    name: "Brushed Cotton",
    blurb: "brushed cotton with a warm, peached surface",
    care: "Machine wash at 30°C; tumble dry low.",
    tag: "brushed-cotton",
    season: "winter",
};
const SEERSUCKER: Fabric = Fabric {
    name: "Seersucker",
    blurb: "puckered seersucker that stays off the skin in the heat",
    care: "Machine wash at 30°C; no ironing needed.",
    tag: "seersucker",
    season: "summer",
};
const JERSEY: Fabric = Fabric {
    name: "Cotton Jersey",
    blurb: "heavyweight organic cotton jersey",
    care: "Machine wash at 30°C inside out.",
    tag: "jersey",
    season: "all-season",
};
const PIQUE: Fabric = Fabric {
    name: "Cotton Pique",
    blurb: "textured cotton pique that holds its shape",
    care: "Machine wash at 30°C; dry flat.",
    tag: "pique",
    season: "summer",
};
const MERINO: Fabric = Fabric {
    name: "Merino Wool",
    blurb: "extra-fine merino wool that keeps you warm without bulk",
    care: "Hand wash cold; dry flat.",
    tag: "merino",
    season: "winter",
};
const LAMBSWOOL: Fabric = Fabric {
    name: "Lambswool",
    blurb: "soft Scottish lambswool",
    care: "Hand wash cold; dry flat.",
    tag: "lambswool",
    season: "winter",
};
const CASHMERE: Fabric = Fabric {
    name: "Cashmere",
    blurb: "pure two-ply cashmere",
    care: "Dry clean or hand wash cold.",
    tag: "cashmere",
    season: "winter",
};
const TWILL: Fabric = Fabric {
    name: "Cotton Twill",
    blurb: "sturdy cotton twill with a little stretch",
    care: "Machine wash at 30°C.",
    tag: "twill",
    season: "all-season",
};
const CORDUROY: Fabric = Fabric {
    name: "Corduroy",
    blurb: "eight-wale corduroy with a soft nap",
    care: "Machine wash at 30°C inside out.",
    tag: "corduroy",
    season: "winter",
};
const FLANNEL: Fabric = Fabric {
    name: "Wool Flannel",
    blurb: "mid-weight wool flannel",
    care: "Dry clean only.",
    tag: "flannel",
    season: "winter",
};
const WORSTED: Fabric = Fabric {
    name: "Worsted Wool",
    blurb: "fine worsted wool from an Italian mill",
    care: "Dry clean only; hang between wears.",
    tag: "worsted",
    season: "all-season",
};
const TWEED: Fabric = Fabric {
    name: "Tweed",
    blurb: "hard-wearing herringbone tweed",
    care: "Dry clean only.",
    tag: "tweed",
    season: "winter",
};
const SELVEDGE: Fabric = Fabric {
    name: "Selvedge Denim",
    blurb: "14oz selvedge denim woven on shuttle looms",
    care: "Wash rarely, cold and inside out.",
    tag: "selvedge",
    season: "all-season",
};
const STRETCH_DENIM: Fabric = Fabric {
    name: "Stretch Denim",
    blurb: "comfort-stretch denim that keeps its shape",
    care: "Machine wash at 30°C inside out.",
    tag: "stretch",
    season: "all-season",
};
const ORGANIC_DENIM: Fabric = Fabric {
    name: "Organic Denim",
    blurb: "rigid organic cotton denim",
    care: "Machine wash cold inside out.",
    tag: "organic",
    season: "all-season",
};
const WAXED_COTTON: Fabric = Fabric {
    name: "Waxed Cotton",
    blurb: "waxed cotton that shrugs off the rain",
    care: "Sponge clean; re-wax once a year.",
    tag: "waxed-cotton",
    season: "autumn",
};
const NYLON: Fabric = Fabric {
    name: "Recycled Nylon",
    blurb: "light recycled nylon with a water-repellent finish",
    care: "Machine wash at 30°C; do not tumble dry.",
    tag: "recycled",
    season: "all-season",
};
const WOOL: Fabric = Fabric {
    name: "Wool",
    blurb: "dense boiled wool",
    care: "Dry clean only.",
    tag: "wool",
    season: "winter",
};
const SUEDE: Fabric = Fabric {
    name: "Suede",
    blurb: "soft calf suede",
    care: "Brush clean; protect with a suede spray.",
    tag: "suede",
    season: "all-season",
};
const LEATHER: Fabric = Fabric {
    name: "Leather",
    blurb: "full-grain calf leather",
    care: "Wipe clean; polish regularly.",
    tag: "leather",
    season: "all-season",
};
const NUBUCK: Fabric = Fabric {
    name: "Nubuck",
    blurb: "oiled nubuck",
    care: "Brush clean; treat with a nubuck protector.",
    tag: "nubuck",
    season: "autumn",
};
const CANVAS: Fabric = Fabric {
    name: "Canvas",
    blurb: "heavy cotton canvas",
    care: "Spot clean with a damp cloth.",
    tag: "canvas",
    season: "summer",
};
const SILK: Fabric = Fabric {
    name: "Silk",
    blurb: "woven mulberry silk",
    care: "Dry clean only.",
    tag: "silk",
    season: "all-season",
};

#[derive(Debug)]
struct Style {
    /// Opens the title: "Slim".
    word: &'static str,
    tag: &'static str,
    sentence: &'static str,
}

const SLIM: Style = Style {
    word: "Slim",
    tag: "slim-fit",
    sentence: "A slim cut that follows the body without clinging.",
};
const REGULAR: Style = Style {
    word: "Regular",
    tag: "regular-fit",
    sentence: "A regular fit with room to move and a clean line.",
};
const RELAXED: Style = Style {
    word: "Relaxed",
    tag: "relaxed-fit",
    sentence: "A relaxed, easy fit that layers well.",
};
const TAILORED: Style = Style {
    word: "Tailored",
    tag: "tailored",
    sentence: "Tailored through the waist for a sharp silhouette.",
};
const STRAIGHT: Style = Style {
    word: "Straight",
    tag: "straight-leg",
    sentence: "A straight leg from hip to hem.",
};
const TAPERED: Style = Style {
    word: "Tapered",
    tag: "tapered",
    sentence: "Tapered below the knee to sit neatly over shoes.",
};
const CLASSIC: Style = Style {
    word: "Classic",
    tag: "classic",
    sentence: "A classic shape that has outlasted every trend.",
};
const HERITAGE: Style = Style {
    word: "Heritage",
    tag: "heritage",
    sentence: "Based on a pattern from the archive, with modern proportions.",
};
const MINIMAL: Style = Style {
    word: "Minimal",
    tag: "minimal",
    sentence: "Pared back to the essentials, with no visible branding.",
};
const RUGGED: Style = Style {
    word: "Rugged",
    tag: "workwear",
    sentence: "Built to take years of hard wear.",
};
const LIGHTWEIGHT: Style = Style {
    word: "Lightweight",
    tag: "lightweight",
    sentence: "Light enough to pack without a second thought.",
};

#[derive(Debug)]
struct Occasion {
    tag: &'static str,
    sentence: &'static str,
}

const OFFICE: Occasion = Occasion {
    tag: "office",
    sentence: "Smart enough for the office, easy enough for the commute.",
};
const WEEKEND: Occasion = Occasion {
    tag: "weekend",
    sentence: "Made for slow weekends and long walks.",
};
const TRAVEL: Occasion = Occasion {
    tag: "travel",
    sentence: "Packs small and comes out of a suitcase looking sharp.",
};
const WEDDING: Occasion = Occasion {
    tag: "wedding",
    sentence: "Dressed up enough for a wedding, and worth wearing again after it.",
};
const EVENING: Occasion = Occasion {
    tag: "evening",
    sentence: "Goes from a day at the desk to dinner without a change.",
};
const EVERYDAY: Occasion = Occasion {
    tag: "everyday",
    sentence: "An everyday piece you will reach for without thinking.",
};
const OUTDOORS: Occasion = Occasion {
    tag: "outdoors",
    sentence: "Ready for muddy paths and changeable weather.",
};

/// How a category is sized.
#[derive(Debug, Clone, Copy)]
enum Sizing {
    Letters,
    Collar,
    WaistLeg,
    Suit,
    ShoeUk,
    Belt,
    Hat,
    OneSize,
}

impl Sizing {
    /// Each size, smallest first, and whether it is among the largest (which
    /// may cost more).
    fn sizes(self) -> Vec<(String, bool)> {
        let listed = |sizes: &[&str], large: &[&str]| -> Vec<(String, bool)> {
            sizes
                .iter()
                .map(|size| ((*size).to_owned(), large.contains(size)))
                .collect()
        };
        match self {
            Sizing::Letters => listed(&["S", "M", "L", "XL", "XXL"], &["XXL"]),
            Sizing::Collar => listed(&["15", "15.5", "16", "16.5", "17", "17.5"], &["17.5"]),
            Sizing::WaistLeg => (28..=40)
                .step_by(2)
                .flat_map(|waist| {
                    [30, 32, 34]
                        .into_iter()
                        .map(move |leg| (format!("{waist}x{leg}"), waist >= 40))
                })
                .collect(),
            Sizing::Suit => (36..=46)
                .step_by(2)
                .flat_map(|chest| {
                    ["S", "R", "L"]
                        .into_iter()
                        .map(move |length| (format!("{chest}{length}"), chest >= 46))
                })
                .collect(),
            Sizing::ShoeUk => listed(
                &[
                    "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12",
                ],
                &[],
            ),
            Sizing::Belt => listed(&["32", "34", "36", "38", "40"], &[]),
            Sizing::Hat => listed(&["S/M", "L/XL"], &[]),
            Sizing::OneSize => listed(&["one-size"], &[]),
        }
    }
}

/// A category products are filed in, with what its products are made of.
#[derive(Debug)]
struct Leaf {
    slug: &'static str,
    name: &'static str,
    parent: &'static str,
    /// Products per hundred.
    weight: u32,
    /// Clothing has a fit (an attribute) and may cost more in the largest sizes.
    clothing: bool,
    kinds: &'static [&'static str],
    fabrics: &'static [Fabric],
    styles: &'static [Style],
    sizings: &'static [Sizing],
    colours: &'static [Colour],
    occasions: &'static [Occasion],
    details: &'static [&'static str],
    /// In pence, inclusive.
    price: (i64, i64),
}

/// Each has a placeholder image at
/// `frontend/public/media/placeholders/{slug}.svg`.
static LEAVES: &[Leaf] = &[
    Leaf {
        slug: "shirts",
        name: "Shirts",
        parent: "clothing",
        weight: 14,
        clothing: true,
        kinds: &[
            "Oxford Shirt",
            "Poplin Shirt",
            "Button-Down Shirt",
            "Camp-Collar Shirt",
            "Grandad Shirt",
            "Overshirt",
            "Western Shirt",
        ],
        fabrics: &[COTTON, LINEN, CHAMBRAY, BRUSHED_COTTON, SEERSUCKER],
        styles: &[SLIM, REGULAR, RELAXED, TAILORED],
        sizings: &[Sizing::Letters, Sizing::Collar],
        colours: &[WHITE, SKY, NAVY, PINK, OLIVE, ECRU, BLACK, STONE],
        occasions: &[OFFICE, WEEKEND, TRAVEL, EVENING],
        details: &[
            "Finished with mother-of-pearl buttons.",
            "The collar keeps its shape without stays.",
            "A curved hem works tucked in or worn loose.",
            "Single-needle stitching throughout.",
        ],
        price: (2_500, 12_000),
    },
    Leaf {
        slug: "t-shirts",
        name: "T-Shirts & Polos",
        parent: "clothing",
        weight: 10,
        clothing: true,
        kinds: &[
            "T-Shirt",
            "Pocket T-Shirt",
            "Polo Shirt",
            "Henley",
            "Long-Sleeve T-Shirt",
        ],
        fabrics: &[JERSEY, PIQUE, MERINO, LINEN],
        styles: &[SLIM, REGULAR, RELAXED],
        sizings: &[Sizing::Letters],
        colours: &[WHITE, BLACK, NAVY, GREY, ECRU, OLIVE, RUST, FOREST, SKY],
        occasions: &[WEEKEND, EVERYDAY, TRAVEL],
        details: &[
            "The neckline is taped so it keeps its shape.",
            "Side-seamed for a cleaner drape.",
            "Pre-washed, so it stays the size you bought.",
        ],
        price: (1_500, 6_500),
    },
    Leaf {
        slug: "trousers",
        name: "Trousers",
        parent: "clothing",
        weight: 10,
        clothing: true,
        kinds: &[
            "Chinos",
            "Pleated Trousers",
            "Drawstring Trousers",
            "Cargo Trousers",
            "Flat-Front Trousers",
        ],
        fabrics: &[TWILL, LINEN, CORDUROY, FLANNEL],
        styles: &[SLIM, REGULAR, RELAXED, TAPERED, STRAIGHT],
        sizings: &[Sizing::WaistLeg],
        colours: &[STONE, NAVY, OLIVE, KHAKI, CHARCOAL, SAND, BROWN, BLACK],
        occasions: &[OFFICE, WEEKEND, TRAVEL, EVERYDAY],
        details: &[
            "Side-adjusters mean there is no need for a belt.",
            "Cut with a mid rise and a clean front.",
            "Finished with horn buttons and a hook-and-bar fly.",
        ],
        price: (3_500, 15_000),
    },
    Leaf {
        slug: "jeans",
        name: "Jeans",
        parent: "clothing",
        weight: 8,
        clothing: true,
        kinds: &["Jeans", "Five-Pocket Jeans", "Carpenter Jeans"],
        fabrics: &[SELVEDGE, STRETCH_DENIM, ORGANIC_DENIM],
        styles: &[SLIM, STRAIGHT, TAPERED, RELAXED],
        sizings: &[Sizing::WaistLeg],
        colours: &[INDIGO, BLACK, GREY, ECRU, STONE],
        occasions: &[WEEKEND, EVERYDAY],
        details: &[
            "Five pockets, copper rivets and a button fly.",
            "Left unwashed, to fade the way you wear them.",
            "Finished with a chain-stitched hem.",
        ],
        price: (4_500, 18_000),
    },
    Leaf {
        slug: "jackets",
        name: "Jackets",
        parent: "clothing",
        weight: 8,
        clothing: true,
        kinds: &[
            "Harrington Jacket",
            "Field Jacket",
            "Chore Jacket",
            "Bomber Jacket",
            "Blazer",
            "Trucker Jacket",
        ],
        fabrics: &[WAXED_COTTON, NYLON, TWILL, CORDUROY, WOOL, TWEED, SUEDE],
        styles: &[SLIM, REGULAR, RELAXED, TAILORED],
        sizings: &[Sizing::Letters],
        colours: &[NAVY, OLIVE, BLACK, TAN, CAMEL, BROWN, STONE, FOREST],
        occasions: &[WEEKEND, TRAVEL, OUTDOORS, EVERYDAY],
        details: &[
            "Deep hand-warmer pockets and an inside phone pocket.",
            "Lined in cupro so it slides over knitwear.",
            "Corozo buttons that will not chip.",
        ],
        price: (8_900, 39_900),
    },
    Leaf {
        slug: "coats",
        name: "Coats",
        parent: "clothing",
        weight: 5,
        clothing: true,
        kinds: &["Overcoat", "Peacoat", "Trench Coat", "Parka", "Car Coat"],
        fabrics: &[WOOL, CASHMERE, WAXED_COTTON, NYLON, TWEED],
        styles: &[SLIM, REGULAR, RELAXED, TAILORED],
        sizings: &[Sizing::Letters],
        colours: &[CAMEL, NAVY, CHARCOAL, BLACK, OLIVE, STONE],
        occasions: &[OFFICE, OUTDOORS, EVERYDAY],
        details: &[
            "Cut long enough to cover a suit jacket.",
            "Fully lined, with a storm flap at the back.",
            "Deep pockets and a throat latch for bad weather.",
        ],
        price: (14_900, 59_900),
    },
    Leaf {
        slug: "suits",
        name: "Suits",
        parent: "clothing",
        weight: 5,
        clothing: true,
        kinds: &[
            "Two-Piece Suit",
            "Three-Piece Suit",
            "Double-Breasted Suit",
            "Travel Suit",
        ],
        fabrics: &[WORSTED, LINEN, FLANNEL, TWEED, SEERSUCKER],
        styles: &[SLIM, TAILORED, CLASSIC, REGULAR],
        sizings: &[Sizing::Suit],
        colours: &[NAVY, CHARCOAL, GREY, BLACK, OLIVE, STONE, BROWN],
        occasions: &[OFFICE, WEDDING, EVENING],
        details: &[
            "Half-canvassed, so the chest moulds to you over time.",
            "The trousers have side-adjusters and an unfinished hem for alterations.",
            "Working cuffs and a ticket pocket.",
        ],
        price: (19_900, 89_900),
    },
    Leaf {
        slug: "knitwear",
        name: "Knitwear",
        parent: "clothing",
        weight: 9,
        clothing: true,
        kinds: &[
            "Crew-Neck Jumper",
            "Roll-Neck Jumper",
            "Cardigan",
            "V-Neck Jumper",
            "Quarter-Zip Jumper",
            "Cable-Knit Jumper",
        ],
        fabrics: &[MERINO, LAMBSWOOL, CASHMERE, COTTON],
        styles: &[SLIM, REGULAR, RELAXED],
        sizings: &[Sizing::Letters],
        colours: &[
            NAVY, GREY, CHARCOAL, CREAM, CAMEL, BURGUNDY, FOREST, ECRU, RUST,
        ],
        occasions: &[OFFICE, WEEKEND, EVERYDAY],
        details: &[
            "Fully fashioned, so the seams sit where they should.",
            "Ribbed cuffs and hem that keep their spring.",
            "Knitted by a mill that has made jumpers for a century.",
        ],
        price: (4_500, 22_000),
    },
    Leaf {
        slug: "boots",
        name: "Boots",
        parent: "shoes",
        weight: 5,
        clothing: false,
        kinds: &[
            "Chelsea Boots",
            "Derby Boots",
            "Chukka Boots",
            "Hiking Boots",
            "Work Boots",
        ],
        fabrics: &[LEATHER, SUEDE, NUBUCK],
        styles: &[CLASSIC, RUGGED, MINIMAL, HERITAGE],
        sizings: &[Sizing::ShoeUk],
        colours: &[BLACK, BROWN, TAN, SAND, OLIVE],
        occasions: &[OUTDOORS, WEEKEND, EVERYDAY],
        details: &[
            "Goodyear-welted, so the sole can be replaced.",
            "A stacked leather heel and a rubber sole that grips.",
            "Leather-lined and cushioned for all-day wear.",
        ],
        price: (9_900, 29_900),
    },
    Leaf {
        slug: "sneakers",
        name: "Sneakers",
        parent: "shoes",
        weight: 6,
        clothing: false,
        kinds: &[
            "Low-Top Trainers",
            "High-Top Trainers",
            "Runners",
            "Court Trainers",
            "Slip-On Trainers",
        ],
        fabrics: &[LEATHER, SUEDE, CANVAS, NYLON],
        styles: &[MINIMAL, CLASSIC, LIGHTWEIGHT, HERITAGE],
        sizings: &[Sizing::ShoeUk],
        colours: &[WHITE, BLACK, GREY, NAVY, ECRU, FOREST],
        occasions: &[WEEKEND, EVERYDAY, TRAVEL],
        details: &[
            "A stitched cupsole for a long life.",
            "Leather lining and a removable cushioned insole.",
            "A natural rubber sole with a subtle tread.",
        ],
        price: (5_900, 19_900),
    },
    Leaf {
        slug: "formal-shoes",
        name: "Formal Shoes",
        parent: "shoes",
        weight: 4,
        clothing: false,
        kinds: &["Oxford Shoes", "Derby Shoes", "Brogues", "Monk-Strap Shoes"],
        fabrics: &[LEATHER, SUEDE],
        styles: &[CLASSIC, MINIMAL, HERITAGE],
        sizings: &[Sizing::ShoeUk],
        colours: &[BLACK, BROWN, TAN, BURGUNDY],
        occasions: &[OFFICE, WEDDING, EVENING],
        details: &[
            "Goodyear-welted on a classic last.",
            "A leather sole with a rubber heel insert.",
            "Hand-finished and burnished at the toe.",
        ],
        price: (8_900, 29_900),
    },
    Leaf {
        slug: "loafers",
        name: "Loafers",
        parent: "shoes",
        weight: 3,
        clothing: false,
        kinds: &[
            "Penny Loafers",
            "Tassel Loafers",
            "Horsebit Loafers",
            "Driving Shoes",
        ],
        fabrics: &[LEATHER, SUEDE],
        styles: &[CLASSIC, MINIMAL, LIGHTWEIGHT],
        sizings: &[Sizing::ShoeUk],
        colours: &[BROWN, BLACK, TAN, BURGUNDY, NAVY],
        occasions: &[OFFICE, EVENING, TRAVEL],
        details: &[
            "Blake-stitched for a close, flexible sole.",
            "Unlined for a softer feel in warm weather.",
            "A leather sole and a stacked heel.",
        ],
        price: (7_900, 24_900),
    },
    Leaf {
        slug: "belts",
        name: "Belts",
        parent: "accessories",
        weight: 3,
        clothing: false,
        kinds: &["Belt", "Braided Belt", "Dress Belt", "Webbing Belt"],
        fabrics: &[LEATHER, SUEDE, CANVAS],
        styles: &[CLASSIC, MINIMAL, HERITAGE],
        sizings: &[Sizing::Belt],
        colours: &[BLACK, BROWN, TAN, NAVY, OLIVE],
        occasions: &[OFFICE, EVERYDAY],
        details: &[
            "A solid brass buckle that will outlast the strap.",
            "Edges painted and burnished by hand.",
            "Five holes, an inch apart.",
        ],
        price: (2_500, 8_900),
    },
    Leaf {
        slug: "ties",
        name: "Ties",
        parent: "accessories",
        weight: 3,
        clothing: false,
        kinds: &["Tie", "Knitted Tie", "Skinny Tie", "Bow Tie"],
        fabrics: &[SILK, WOOL, LINEN],
        styles: &[CLASSIC, MINIMAL, HERITAGE],
        sizings: &[Sizing::OneSize],
        colours: &[NAVY, BURGUNDY, FOREST, BLACK, GREY, SKY],
        occasions: &[OFFICE, WEDDING, EVENING],
        details: &[
            "Hand-rolled edges and a generous blade.",
            "Self-tipped and lined for a neat knot.",
            "Left untipped for a softer knot.",
        ],
        price: (3_500, 9_900),
    },
    Leaf {
        slug: "scarves",
        name: "Scarves",
        parent: "accessories",
        weight: 3,
        clothing: false,
        kinds: &["Scarf", "Muffler", "Check Scarf", "Ribbed Scarf"],
        fabrics: &[LAMBSWOOL, CASHMERE, MERINO, LINEN],
        styles: &[CLASSIC, MINIMAL, HERITAGE, LIGHTWEIGHT],
        sizings: &[Sizing::OneSize],
        colours: &[CAMEL, NAVY, GREY, BURGUNDY, FOREST, CREAM],
        occasions: &[EVERYDAY, OUTDOORS, TRAVEL],
        details: &[
            "Finished with a hand-twisted fringe.",
            "Long enough to loop twice.",
            "Woven by a mill in the Scottish Borders.",
        ],
        price: (2_900, 14_900),
    },
    Leaf {
        slug: "hats",
        name: "Hats",
        parent: "accessories",
        weight: 4,
        clothing: false,
        kinds: &["Beanie", "Baseball Cap", "Flat Cap", "Bucket Hat", "Fedora"],
        fabrics: &[MERINO, TWEED, CANVAS, WOOL, TWILL],
        styles: &[CLASSIC, MINIMAL, HERITAGE, LIGHTWEIGHT],
        sizings: &[Sizing::OneSize, Sizing::Hat],
        colours: &[NAVY, BLACK, GREY, OLIVE, CAMEL, RUST, STONE],
        occasions: &[OUTDOORS, WEEKEND, EVERYDAY],
        details: &[
            "A soft inner band for all-day comfort.",
            "Holds its shape in wind and rain.",
            "A small woven label, nothing more.",
        ],
        price: (1_900, 8_900),
    },
];

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    fn slug_ok(value: &str, max: usize) -> bool {
        !value.is_empty()
            && value.len() <= max
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--")
    }

    fn sku_ok(value: &str) -> bool {
        !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    }

    #[test]
    fn the_same_seed_makes_the_same_catalog() {
        let once = generate(300, 7);
        let again = generate(300, 7);
        assert_eq!(once, again);
        assert_eq!(
            serde_json::to_string(&once.products).unwrap(),
            serde_json::to_string(&again.products).unwrap()
        );
        assert_ne!(generate(50, 8).products, generate(50, 7).products);
    }

    #[test]
    fn a_small_catalog_is_the_start_of_a_larger_one() {
        let small = generate(50, DEFAULT_SEED);
        let large = generate(200, DEFAULT_SEED);
        assert_eq!(small.products[..], large.products[..50]);
        assert_eq!(small.brands, large.brands);
        assert_eq!(small.categories, large.categories);
    }

    #[test]
    fn slugs_and_skus_are_unique_across_20000_products() {
        let catalog = generate(20_000, DEFAULT_SEED);
        let mut slugs = HashSet::new();
        let mut skus = HashSet::new();
        for product in &catalog.products {
            assert!(slugs.insert(product.slug.as_str()), "{}", product.slug);
            for variant in &product.variants {
                assert!(skus.insert(variant.sku.as_str()), "{}", variant.sku);
            }
        }
    }

    #[test]
    fn another_seed_never_reuses_the_default_seeds_skus_or_slugs() {
        let default = generate(500, DEFAULT_SEED);
        let other = generate(500, 42);
        let skus: HashSet<&str> = default
            .products
            .iter()
            .flat_map(|p| p.variants.iter().map(|v| v.sku.as_str()))
            .collect();
        let slugs: HashSet<&str> = default.products.iter().map(|p| p.slug.as_str()).collect();
        for product in &other.products {
            assert!(!slugs.contains(product.slug.as_str()));
            assert!(
                product
                    .variants
                    .iter()
                    .all(|v| !skus.contains(v.sku.as_str()))
            );
        }
    }

    #[test]
    fn every_product_passes_the_control_planes_rules() {
        let catalog = generate(5_000, DEFAULT_SEED);
        let brands: HashSet<&str> = catalog.brands.iter().map(|b| b.slug.as_str()).collect();
        let parents: HashSet<&str> = catalog
            .categories
            .iter()
            .filter_map(|c| c.parent.as_deref())
            .collect();
        let categories: HashSet<&str> =
            catalog.categories.iter().map(|c| c.slug.as_str()).collect();
        for p in &catalog.products {
            let context = format!("{p:?}");
            assert!(slug_ok(&p.slug, 120), "{context}");
            assert!(
                !p.title.trim().is_empty() && p.title.len() <= 200,
                "{context}"
            );
            let sentences = p.description.matches(['.', ':']).count();
            assert!(sentences >= 2, "{context}");
            assert!(p.description.len() <= 10_000, "{context}");
            assert!(brands.contains(p.brand.as_str()), "{context}");
            assert!(categories.contains(p.category.as_str()), "{context}");
            assert!(
                !parents.contains(p.category.as_str()),
                "not a leaf: {context}"
            );
            assert!((2..=5).contains(&p.tags.len()), "{context}");
            for tag in &p.tags {
                assert!(slug_ok(tag, 40), "{context}");
            }
            assert!((1..=3).contains(&p.images.len()), "{context}");
            for image in &p.images {
                assert!(image.url.starts_with("/media/placeholders/"), "{context}");
                assert!(!image.alt.trim().is_empty(), "{context}");
            }
            assert!(
                !p.attributes.is_empty() && p.attributes.len() <= 30,
                "{context}"
            );
            assert!((1..=MAX_VARIANTS).contains(&p.variants.len()), "{context}");
            let mut options = HashSet::new();
            for v in &p.variants {
                assert!(sku_ok(&v.sku), "{context}");
                assert!(v.price_minor > 0, "{context}");
                assert!(matches!(v.price_minor % 100, 0 | 99), "{context}");
                if let Some(compare_at) = v.compare_at_minor {
                    assert!(compare_at > v.price_minor, "{context}");
                }
                assert_eq!(v.currency, "GBP");
                assert!(v.stock.is_some_and(|n| n <= 40), "{context}");
                assert!(!v.size.trim().is_empty() && v.size.len() <= 32, "{context}");
                assert!(
                    options.insert((v.size.as_str(), v.colour.as_str())),
                    "{context}"
                );
            }
        }
    }

    #[test]
    fn the_mix_looks_like_a_shop() {
        let catalog = generate(10_000, DEFAULT_SEED);
        let count = catalog.products.len() as f64;
        let share = |test: fn(&ProductInput) -> bool| {
            catalog.products.iter().filter(|p| test(p)).count() as f64 / count
        };
        let published = share(|p: &ProductInput| p.published);
        assert!((0.95..0.99).contains(&published), "{published}");
        let discounted = share(|p: &ProductInput| p.variants[0].compare_at_minor.is_some());
        assert!((0.12..0.18).contains(&discounted), "{discounted}");
        let variants: Vec<&VariantInput> =
            catalog.products.iter().flat_map(|p| &p.variants).collect();
        let sold_out =
            variants.iter().filter(|v| v.stock == Some(0)).count() as f64 / variants.len() as f64;
        assert!((0.03..0.07).contains(&sold_out), "{sold_out}");
        let mut per_category: HashMap<&str, usize> = HashMap::new();
        for p in &catalog.products {
            *per_category.entry(p.category.as_str()).or_default() += 1;
        }
        assert_eq!(per_category.len(), LEAVES.len());
    }

    #[test]
    fn categories_list_parents_first() {
        let categories = generate(0, DEFAULT_SEED).categories;
        let mut seen = HashSet::new();
        for category in &categories {
            assert!(slug_ok(&category.slug, 64));
            if let Some(parent) = &category.parent {
                assert!(seen.contains(parent.as_str()), "{}", category.slug);
            }
            assert!(seen.insert(category.slug.as_str()), "{}", category.slug);
        }
    }

    #[test]
    fn brands_are_about_25_with_good_slugs() {
        let brands = generate(0, DEFAULT_SEED).brands;
        assert_eq!(brands.len(), 25);
        let slugs: HashSet<&str> = brands.iter().map(|b| b.slug.as_str()).collect();
        assert_eq!(slugs.len(), brands.len());
        for brand in &brands {
            assert!(slug_ok(&brand.slug, 64), "{}", brand.slug);
        }
        assert!(slugs.contains("harbour-and-finch"));
    }

    #[test]
    fn colour_codes_are_unique_and_cover_every_leafs_colours() {
        let codes: HashSet<&str> = PALETTE.iter().map(|c| c.code).collect();
        assert_eq!(codes.len(), PALETTE.len());
        for leaf in LEAVES {
            for colour in leaf.colours {
                assert!(PALETTE.contains(colour), "{}", colour.name);
            }
            assert!(!leaf.kinds.is_empty() && !leaf.fabrics.is_empty());
            assert!(!leaf.styles.is_empty() && !leaf.sizings.is_empty());
            assert!(!leaf.occasions.is_empty() && !leaf.details.is_empty());
            assert!(leaf.price.0 > 0 && leaf.price.0 < leaf.price.1);
        }
    }

    #[test]
    fn specialist_brands_make_only_known_categories() {
        let leaves: HashSet<&str> = leaf_categories().collect();
        for (name, only) in BRANDS {
            for category in *only {
                assert!(leaves.contains(category), "{name}: {category}");
            }
        }
        for leaf in LEAVES {
            let makers = BRANDS
                .iter()
                .filter(|(_, only)| only.is_empty() || only.contains(&leaf.slug))
                .count();
            assert!(makers >= 10, "{}", leaf.slug);
        }
    }

    #[test]
    fn sizes_spell_as_skus() {
        assert_eq!(sku_size("32x32"), "32X32");
        assert_eq!(sku_size("9.5"), "9H");
        assert_eq!(sku_size("15.5"), "15H");
        assert_eq!(sku_size("38R"), "38R");
        assert_eq!(sku_size("S/M"), "SM");
        assert_eq!(sku_size("one-size"), "OS");
        assert_eq!(slugify("Harbour & Finch"), "harbour-and-finch");
        assert_eq!(slugify("Slim Cotton T-Shirt"), "slim-cotton-t-shirt");
    }

    #[test]
    fn every_leaf_category_has_its_placeholder_image() {
        let folder = crate::root().join("frontend/public/media/placeholders");
        for slug in leaf_categories() {
            let file = folder.join(format!("{slug}.svg"));
            let svg = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(svg.contains("<svg"), "{}", file.display());
        }
        let files = std::fs::read_dir(&folder).unwrap().count();
        assert_eq!(files, LEAVES.len(), "a placeholder without a category");
    }
}
