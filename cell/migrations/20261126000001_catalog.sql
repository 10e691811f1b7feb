-- The cell's read model of the global catalog, applied from the `catalog`
-- topic: a snapshot replaces the product's rows when its version is newer
-- than the one held. A deleted product keeps a tombstone row (its version),
-- so an older snapshot arriving late cannot bring it back.
CREATE TABLE catalog_products (
    id            BIGINT UNSIGNED NOT NULL,
    version       BIGINT UNSIGNED NOT NULL,
    slug          VARCHAR(120)    CHARACTER SET ascii COLLATE ascii_bin NULL,
    title         VARCHAR(200)    NOT NULL,
    description   TEXT            NOT NULL,
    brand_slug    VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    brand_name    VARCHAR(100)    NOT NULL,
    category_slug VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    category_name VARCHAR(100)    NOT NULL,
    categories    JSON            NOT NULL,
    tags          JSON            NOT NULL,
    images        JSON            NOT NULL,
    attributes    JSON            NOT NULL,
    colours       JSON            NOT NULL,
    sizes         JSON            NOT NULL,
    listed        BOOLEAN         NOT NULL,
    min_price     BIGINT          NOT NULL,
    currency      CHAR(3)         CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    compare_at    BIGINT          NULL,
    rating_avg    FLOAT           NOT NULL,
    rating_count  INT UNSIGNED    NOT NULL,
    applied_at    TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY catalog_products_slug (slug),
    KEY catalog_products_newest (listed, id),
    KEY catalog_products_price (listed, min_price, id),
    KEY catalog_products_rating (listed, rating_avg, id),
    KEY catalog_products_title (listed, title, id),
    KEY catalog_products_brand (listed, brand_slug, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Every category on a product's path, so a category lists its subcategories'
-- products too; with copies of what a category page filters and sorts on, so
-- such a page is one index range scan instead of a scan of every product.
CREATE TABLE catalog_product_categories (
    category_slug VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    product_id    BIGINT UNSIGNED NOT NULL,
    listed        BOOLEAN         NOT NULL,
    brand_slug    VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    min_price     BIGINT          NOT NULL,
    rating_avg    FLOAT           NOT NULL,
    title         VARCHAR(200)    NOT NULL,
    PRIMARY KEY (category_slug, product_id),
    KEY catalog_product_categories_product (product_id),
    KEY catalog_product_categories_newest (category_slug, listed, product_id),
    KEY catalog_product_categories_brand (category_slug, listed, brand_slug, product_id),
    KEY catalog_product_categories_price (category_slug, listed, min_price, product_id),
    KEY catalog_product_categories_rating (category_slug, listed, rating_avg, product_id),
    KEY catalog_product_categories_title (category_slug, listed, title, product_id),
    CONSTRAINT catalog_product_categories_product FOREIGN KEY (product_id) REFERENCES catalog_products (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE catalog_variants (
    sku              VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    product_id       BIGINT UNSIGNED NOT NULL,
    position         INT UNSIGNED    NOT NULL,
    size             VARCHAR(32)     NOT NULL,
    colour           VARCHAR(32)     NOT NULL,
    price_minor      BIGINT          NOT NULL,
    currency         CHAR(3)         CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    compare_at_minor BIGINT          NULL,
    PRIMARY KEY (sku),
    KEY catalog_variants_product (product_id, position),
    -- A size and/or colour filter probes these once per listed product.
    KEY catalog_variants_size_colour (product_id, size, colour),
    KEY catalog_variants_colour (product_id, colour),
    CONSTRAINT catalog_variants_product FOREIGN KEY (product_id) REFERENCES catalog_products (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE catalog_categories (
    slug        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name        VARCHAR(100) NOT NULL,
    parent_slug VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    PRIMARY KEY (slug)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- This cell's share of each SKU's stock: it sells only from `held`.
-- `global_hint` is the control plane's unallocated count as last heard.
CREATE TABLE cell_stock (
    sku                VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    held               INT UNSIGNED    NOT NULL DEFAULT 0,
    global_hint        BIGINT UNSIGNED NOT NULL DEFAULT 0,
    top_up_requested_at TIMESTAMP(6)   NULL,
    updated_at         TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (sku)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Units this cell sold: its demand, reported with each top-up request.
CREATE TABLE cell_stock_sales (
    id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku       VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    quantity  INT UNSIGNED    NOT NULL,
    reference VARCHAR(128)    NOT NULL,
    sold_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY cell_stock_sales_recent (sku, sold_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
